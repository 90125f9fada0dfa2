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
# Usage: sh test/run.sh [t_NAME …]   (from native/, as `make test` does). Closes with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
LIB="$(pwd)/build/libipcscope.so"
BIN=build/test
OUTROOT="$(pwd)/build/test/out"
DECODE="$(pwd)/test/decode.py"
# The program starts with only fds 0-2 (what it finds beyond them is the shim's doing).
CLOSEFDS='import os, sys; os.closerange(3, 1 << 16); os.execvp(sys.argv[1], sys.argv[1:])'
pass=0
fail=0
failed_names=""

if [ $# -gt 0 ]; then names="$*"; else names=$(ls test/t_*.c 2>/dev/null | sed 's|test/||; s|\.c$||'); fi

for name in $names; do
  exe="$BIN/$name"
  expect="test/$name.expect"
  out="$OUTROOT/$name"
  rm -rf "$out"
  mkdir -p "$out/cwd"
  if [ ! -x "$exe" ]; then echo "FAIL $name: $exe not built"; fail=$((fail + 1)); failed_names="$failed_names $name"; continue; fi
  if [ ! -f "$expect" ]; then echo "FAIL $name: $expect missing"; fail=$((fail + 1)); failed_names="$failed_names $name"; continue; fi
  want_exit=$(sed -n 's/^exit[[:space:]]\{1,\}\([0-9]\{1,\}\)[[:space:]]*$/\1/p' "$expect" | tail -1)
  [ -n "$want_exit" ] || want_exit=0
  args=$(sed -n 's/^args[[:space:]]\{1,\}//p' "$expect" | tail -1)
  ipcscope="file=$out/trace;payload=64;faults=1;snapshots=1"
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
    ipcscope="port=$port;secret=$secret;payload=64;faults=1;snapshots=1$pauseopt"
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
    elif ! python3 "$DECODE" "$out/trace" --out "$out/events.txt" --check "$expect" >"$out/check.txt" 2>&1; then
      why="$(cat "$out/check.txt")"
    fi
  fi
  if [ -z "$why" ]; then
    echo "ok   $name"
    pass=$((pass + 1))
  else
    echo "FAIL $name: $why"
    echo "     (events: $out/events.txt, stdout/stderr: $out/)"
    fail=$((fail + 1))
    failed_names="$failed_names $name"
  fi
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
