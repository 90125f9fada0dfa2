#!/bin/sh
# Native tests of libipcscope.so: real programs under the real shim, their event stream checked.
#
# Convention (for every test, runtime t_rt_* and hooks t_hk_*):
#   native/test/t_NAME.c       a small C program; the Makefile builds it to build/test/t_NAME
#   native/test/t_NAME.expect  what its run must show; one rule a line, blank lines and '# …' ignored:
#     REGEX             some event line matches, after the line the previous such rule matched (in order)
#     !REGEX            no event line matches
#     count>=N REGEX    at least N event lines match (also count<=N, count==N)
#     exit N            the program's exit status (default 0; 128+S when killed by signal S)
#     stderr REGEX      the program's stderr matches (extended regex, grep -E)
#     nostderr          the program's stderr is empty
#     env K=V           extra environment for the program (repeatable)
#     ipcscope VALUE    use this IPCSCOPE value instead of file=… (e.g. an unreachable port)
#     noenv             run without IPCSCOPE at all (the shim must do nothing)
#     notrace           expect no trace files at all
#     args A B …        arguments for the program
#     collector [badsecret] [snapshot|flush]
#                       send over a real websocket to test/ws_server.mjs (npm ws) instead of the file sink; it
#                       writes what it receives to the same OUT/trace.PID files. badsecret: a wrong secret (401).
#                       snapshot/flush: the server sends that COMMAND right after WELCOME. stall: it stops reading
#                       for 1.5 s after the first WELCOME (a stuck collector). error: it sends an ERROR message
#                       right after WELCOME. vanish: with pause=1, it sends
#                       COMMAND pause and drops the connection 300 ms later (held threads must be let go).
# The program runs as LD_PRELOAD=build/libipcscope.so IPCSCOPE="file=OUT/trace;payload=64;faults=1;snapshots=1"
# with its working directory in a fresh scratch directory ($IPS_TEST_DIR, also exported). The shim writes one file
# per process (OUT/trace.PID); test/decode.py prints one line per event, merged by timestamp, e.g.
#   pid=12 tid=12 kind=write phase=end result=5 err=0 flags=0 fd=4 count=5 otype=pipe ... how=write peer=0 blob="hello"
#   pid=12 tid=12 kind=hello origin=fork ppid=11 exe=/path argv=a,b        (one per connection)
#   pid=12 kind=bye emitted=40 dropped=0                                  (normal end of an image)
# The decoded lines are kept in build/test/out/t_NAME/events.txt for reading when a rule fails.
#
#
# Encoding comparisons (w_PROGRAM, after the t_* tests): one run of the program, its stream written in the compact
# encoding (the default, file=) and, by the same sender from the same ring records, in the fixed encoding
# (fixedcopy=, a test-only key); decoded with every field (timestamps, callers, binary blobs: decode.py --full) the
# two must be identical event for event, the compact file must be the smaller (a third or less with 50 k events or
# more), and the program's exit status must be its test's. w_wire_mix (test/wire_mix.c, 540 k events of many sizes)
# also wraps its threads' rings many times (about 50 records lie across a ring's end) and fills many messages.
# f_t_NAME runs the test t_NAME with wire=fixed; every t_* test also checks that its EVENTS came in the encoding
# asked for. d_decode runs test/decode_test.py (decode.py's compact reader on hand-built valid and malformed messages).
# x_encode (after the w_* runs) re-encodes their fixed copies with the reference encoder of src/common/protocol.ts
# (bundled by esbuild) and requires the shim's compact messages byte for byte (test/cross_encode.mjs).
# IPS_TEST_WIRE=fixed sh test/run.sh runs every t_* test with wire=fixed (encoding 0) instead.
#
# Usage: sh test/run.sh [t_NAME|w_NAME …]   (from native/, as `make test` does). Closes with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
LIB="$(pwd)/build/libipcscope.so"
BIN=build/test
OUTROOT="$(pwd)/build/test/out"
mkdir -p "$OUTROOT"
DECODE="$(pwd)/test/decode.py"
# The program starts with only fds 0-2 (what it finds beyond them is the shim's doing).
CLOSEFDS='import os, sys; os.closerange(3, 1 << 16); os.execvp(sys.argv[1], sys.argv[1:])'
pass=0
w_dirs=""
fail=0
failed_names=""

WIRE_TESTS="f_t_rt_signal f_t_rt_defer w_t_rt_defer f_t_rt_threads f_t_rt_ws f_t_hk_payload f_t_rt_fork d_decode w_t_rt_signal w_t_hk_payload w_t_hk_fdops w_t_rt_threads w_t_rt_faults w_wire_mix x_encode"
wire=""
[ -n "$IPS_TEST_WIRE" ] && wire=";wire=$IPS_TEST_WIRE"
if [ $# -gt 0 ]; then names="$*"; else names="$(ls test/t_*.c 2>/dev/null | sed 's|test/||; s|\.c$||') $WIRE_TESTS"; fi

# One encoding comparison (see above): w_PROGRAM. Sets $why on failure.
wire_compare() {
  prog=${1#w_}
  exe="$BIN/$prog"
  out="$OUTROOT/$1"
  rm -rf "$out"
  mkdir -p "$out/cwd"
  if [ ! -x "$exe" ]; then why="$exe not built"; return; fi
  expect="test/$prog.expect"
  want_exit=0
  args=""
  envs=""
  if [ -f "$expect" ]; then
    want_exit=$(sed -n 's/^exit[[:space:]]\{1,\}\([0-9]\{1,\}\)[[:space:]]*$/\1/p' "$expect" | tail -1)
    [ -n "$want_exit" ] || want_exit=0
    args=$(sed -n 's/^args[[:space:]]\{1,\}//p' "$expect" | tail -1)
    envs=$(sed -n 's/^env[[:space:]]\{1,\}//p' "$expect")
  fi
  exe_abs="$(pwd)/$exe"
  (
    cd "$out/cwd" || exit 99
    export IPS_TEST_DIR="$out/cwd"
    for kv in $envs; do export "$kv"; done
    # shellcheck disable=SC2086
    timeout 60 python3 -c "$CLOSEFDS" env LD_PRELOAD="$LIB" \
      IPCSCOPE="file=$out/trace;fixedcopy=$out/fixed;payload=64;faults=1;snapshots=1" \
      "$exe_abs" $args >"$out/stdout" 2>"$out/stderr" </dev/null
  ) 2>/dev/null
  code=$?
  if [ "$code" != "$want_exit" ]; then why="exit status $code, expected $want_exit"; return; fi
  for enc in trace fixed; do
    if ! python3 "$DECODE" "$out/$enc" --full --stats --out "$out/$enc.txt" >"$out/$enc.stats" 2>&1; then
      why="$enc: $(head -c 300 "$out/$enc.stats")"; return
    fi
  done
  if ! cmp -s "$out/trace.txt" "$out/fixed.txt"; then
    why="compact and fixed decode differently: $(diff "$out/fixed.txt" "$out/trace.txt" | head -4 | cut -c1-300)"; return
  fi
  read -r cs <"$out/trace.stats"
  read -r fs <"$out/fixed.stats"
  n=$(echo "$cs" | sed 's/^events=\([0-9]*\).*/\1/')
  cm=$(echo "$cs" | sed 's/.*compact_messages=\([0-9]*\).*/\1/')
  cf=$(echo "$cs" | sed 's/.*fixed_messages=\([0-9]*\).*/\1/')
  ff=$(echo "$fs" | sed 's/.*fixed_messages=\([0-9]*\).*/\1/')
  cb=$(echo "$cs" | sed 's/.*bytes=//')
  fb=$(echo "$fs" | sed 's/.*bytes=//')
  if [ "$n" -lt 50 ] || [ "$cf" != 0 ] || [ "$cm" -lt 1 ] || [ "$ff" -lt 1 ]; then
    why="expected >= 50 events, compact messages only in the trace and fixed ones in the copy: trace $cs, copy $fs"; return
  fi
  if [ "$prog" = wire_mix ] && { [ "$n" -lt 500000 ] || [ "$cm" -lt 4 ]; }; then
    why="expected >= 500 k events in several messages: $cs"; return
  fi
  # Small runs are mostly HELLO, paths and page snapshots; the event-heavy ones must shrink at least threefold.
  if [ "$cb" -ge "$fb" ] || { [ "$n" -ge 50000 ] && [ $((cb * 3)) -gt "$fb" ]; }; then
    why="compact file $cb bytes against the fixed $fb"; return
  fi
  detail="$n events, $cm compact / $ff fixed messages, $cb / $fb bytes"
}

# report LABEL WHY [DETAIL [HINT]]: the test's ok or FAIL line (WHY empty: it passed), and the counts
report() {
  if [ -z "$2" ]; then
    echo "ok   $1${3:+ ($3)}"
    pass=$((pass + 1))
  else
    echo "FAIL $1: $2"
    [ -n "$4" ] && echo "     ($4)"
    fail=$((fail + 1))
    failed_names="$failed_names $1"
  fi
}

for name in $names; do
  case "$name" in
    d_decode)  # decode.py's compact reader: hand-built valid and malformed messages (test/decode_test.py)
      if python3 test/decode_test.py >"$OUTROOT/decode_test.txt" 2>&1; then report "$name" "" "$(cat "$OUTROOT/decode_test.txt")"
      else report "$name" "$(tail -3 "$OUTROOT/decode_test.txt")"; fi
      continue ;;
    x_encode)  # the w_* traces against the reference encoder of src/common/protocol.ts (test/cross_encode.mjs)
      why=""
      if [ -z "$w_dirs" ]; then why="no w_* comparison passed before it in this run"
      elif ! ../node_modules/.bin/esbuild ../src/common/protocol.ts --bundle --platform=node --format=esm --log-level=warning \
        --outfile="$OUTROOT/protocol.mjs" >"$OUTROOT/cross_encode.txt" 2>&1; then why="bundling protocol.ts: $(head -c 300 "$OUTROOT/cross_encode.txt")"
      # shellcheck disable=SC2086
      elif ! node test/cross_encode.mjs "$OUTROOT/protocol.mjs" $w_dirs >"$OUTROOT/cross_encode.txt" 2>&1; then
        why="$(tail -c 400 "$OUTROOT/cross_encode.txt")"
      fi
      if [ -z "$why" ]; then report "$name" "" "$(cat "$OUTROOT/cross_encode.txt")"; else report "$name" "$why"; fi
      continue ;;
    w_*)
      why=""
      detail=""
      wire_compare "$name"
      [ -z "$why" ] && w_dirs="$w_dirs $OUTROOT/$name"
      report "$name" "$why" "$detail" "decoded: $OUTROOT/$name/trace.txt and fixed.txt"
      continue ;;
  esac
  # f_t_NAME: the test t_NAME with wire=fixed (encoding 0), its output kept apart
  label=$name
  twire=$wire
  case "$name" in f_*) name=${name#f_}; twire=";wire=fixed" ;; esac
  exe="$BIN/$name"
  expect="test/$name.expect"
  out="$OUTROOT/$label"
  rm -rf "$out"
  mkdir -p "$out/cwd"
  if [ ! -x "$exe" ]; then report "$label" "$exe not built"; continue; fi
  if [ ! -f "$expect" ]; then report "$label" "$expect missing"; continue; fi
  want_exit=$(sed -n 's/^exit[[:space:]]\{1,\}\([0-9]\{1,\}\)[[:space:]]*$/\1/p' "$expect" | tail -1)
  [ -n "$want_exit" ] || want_exit=0
  args=$(sed -n 's/^args[[:space:]]\{1,\}//p' "$expect" | tail -1)
  ipcscope="file=$out/trace;payload=64;faults=1;snapshots=1$twire"
  custom=$(sed -n 's/^ipcscope[[:space:]]\{1,\}//p' "$expect" | tail -1)
  [ -n "$custom" ] && ipcscope="$custom"
  envs=$(sed -n 's/^env[[:space:]]\{1,\}//p' "$expect")
  spid=""
  if grep -Eq '^collector([[:space:]]|$)' "$expect"; then
    copts=$(sed -n 's/^collector//p' "$expect" | tail -1)
    cmdopt=""
    case "$copts" in *snapshot*) cmdopt="--command snapshot" ;; *flush*) cmdopt="--command flush" ;; esac
    case "$copts" in *stall*) cmdopt="$cmdopt --stall 1500" ;; esac
    case "$copts" in *error*) cmdopt="$cmdopt --error" ;; esac
    pauseopt=""
    case "$copts" in *vanish*) cmdopt="$cmdopt --pause-then-vanish"; pauseopt=";pause=1" ;; esac
    # shellcheck disable=SC2086
    node test/ws_server.mjs "$out/trace" $cmdopt >"$out/server.txt" 2>"$out/server.err" &
    spid=$!
    i=0
    while [ ! -s "$out/server.txt" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    read -r port secret <"$out/server.txt"
    case "$copts" in *badsecret*) secret=0000000000000000000000000000000000000000000000000000000000000000 ;; esac
    ipcscope="port=$port;secret=$secret;payload=64;faults=1;snapshots=1$pauseopt$twire"
  fi
  exe_abs="$(pwd)/$exe"
  noenv=""
  grep -qx 'noenv' "$expect" && noenv=1
  (
    cd "$out/cwd" || exit 99
    export IPS_TEST_DIR="$out/cwd"
    for kv in $envs; do export "$kv"; done
    if [ -n "$noenv" ]; then
      unset IPCSCOPE
      # shellcheck disable=SC2086
      timeout 60 python3 -c "$CLOSEFDS" env LD_PRELOAD="$LIB" "$exe_abs" $args >"$out/stdout" 2>"$out/stderr" </dev/null
    else
      # shellcheck disable=SC2086
      timeout 60 python3 -c "$CLOSEFDS" env LD_PRELOAD="$LIB" IPCSCOPE="$ipcscope" "$exe_abs" $args >"$out/stdout" 2>"$out/stderr" </dev/null
    fi
    rc=$?
    exit $rc
  ) 2>/dev/null  # the subshell waits (not exec) so its "Killed" notice for a test that ends by SIGKILL goes nowhere
  code=$?
  if [ -n "$spid" ]; then kill -TERM "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; fi
  why=""
  if [ "$code" != "$want_exit" ]; then why="exit status $code, expected $want_exit"; fi
  if [ -z "$why" ]; then
    rx=$(sed -n 's/^stderr[[:space:]]\{1,\}//p' "$expect")
    if [ -n "$rx" ] && ! grep -Eq "$rx" "$out/stderr"; then why="stderr does not match /$rx/: $(head -c 300 "$out/stderr")"; fi
    if grep -qx 'nostderr' "$expect" && [ -s "$out/stderr" ]; then why="stderr not empty: $(head -c 300 "$out/stderr")"; fi
  fi
  if [ -z "$why" ]; then
    if grep -qx 'notrace' "$expect"; then
      if ls "$out"/trace.* >/dev/null 2>&1; then why="trace files written, expected none"; fi
    elif ! python3 "$DECODE" "$out/trace" --stats --out "$out/events.txt" --check "$expect" >"$out/check.txt" 2>&1; then
      why="$(cat "$out/check.txt")"
    else
      # The EVENTS went in the encoding asked for (compact unless wire=fixed).
      case "$twire" in *fixed*) other=compact_messages ;; *) other=fixed_messages ;; esac
      if ! grep -q " $other=0 " "$out/check.txt"; then why="EVENTS in the wrong encoding: $(head -1 "$out/check.txt")"; fi
    fi
  fi
  report "$label" "$why" "" "events: $out/events.txt, stdout/stderr: $out/"
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
