#!/bin/sh
# The wire encodings side by side in one run: bench/fixtures/mutex_loop (1 thread, 10 M lock/unlock pairs) and
# bench/fixtures/pingpong (200 k pipe round trips, parent and child), untraced, traced with wire=fixed and with
# wire=compact, interleaved ROUNDS times (default 3), file sink on /tmp (ext4 here) and on /dev/shm (tmpfs), faults=0
# snapshots=0. Printed per case, medians: ns per pair (or round trip, measured by the program), the cost over
# untraced, the process's user and system CPU (/usr/bin/time: the sender thread and a waited child included),
# trace bytes per event (file bytes over the events BYE counts) and the fixed/compact ratios.
# Pinned to CPU 0 (taskset -c 0) as the project's benchmarks are; UNPINNED=1 also prints the unpinned figures.
# Usage (from native/): make && sh test/bench_wire.sh [ROUNDS]
cd "$(dirname "$0")/.." || exit 2
ROUNDS=${1:-3}
LIB="$(pwd)/build/libipcscope.so"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP" /dev/shm/ipcscope-bench-wire.*' EXIT
gcc -O2 -pthread -o "$TMP/mutex_loop" ../bench/fixtures/mutex_loop.c || exit 2
gcc -O2 -pthread -o "$TMP/pingpong" ../bench/fixtures/pingpong.c || exit 2

# Walks the message headers of PREFIX.* (bodies skipped): prints "bytes events" (events from BYE).
count() {
  python3 - "$1" <<'PY'
import glob, os, struct, sys
total = events = 0
for f in glob.glob(glob.escape(sys.argv[1]) + '.*'):
    size = os.path.getsize(f)
    total += size
    with open(f, 'rb') as fh:
        off = 0
        while off + 16 <= size:
            fh.seek(off)
            magic, ver, mtype, blen, seq = struct.unpack('<IHHII', fh.read(16))
            if mtype == 5:
                events += struct.unpack('<Q', fh.read(8))[0]
            off += 16 + blen
print(total, events)
PY
}

# run NAME PIN DIR MODE PROGRAM ARGS…: appends "ns user sys bytes events" to $TMP/NAME.PIN.DIR.MODE
run() {
  name=$1 pin=$2 dir=$3 mode=$4
  shift 4
  key="$TMP/$name.$pin.$(basename "$dir").$mode"
  prefix="$dir/ipcscope-bench-wire.trace"
  rm -f "$prefix".*
  pinner=""
  [ "$pin" = pinned ] && pinner="taskset -c 0"
  if [ "$mode" = plain ]; then
    # shellcheck disable=SC2086
    /usr/bin/time -f "%U %S" -o "$TMP/time" $pinner "$@" >"$TMP/out"
  else
    # shellcheck disable=SC2086
    LD_PRELOAD="$LIB" IPCSCOPE="file=$prefix;faults=0;snapshots=0;wire=$mode" \
      /usr/bin/time -f "%U %S" -o "$TMP/time" $pinner "$@" >"$TMP/out"
  fi
  be="0 0"
  [ "$mode" = plain ] || be=$(count "$prefix")
  echo "$(cut -d' ' -f1 "$TMP/out") $(cat "$TMP/time") $be" >>"$key"
  rm -f "$prefix".*
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { cut -d' ' -f"$2" "$1" | median; }

report() {
  name=$1 pin=$2 dir=$3 unit=$4
  d=$(basename "$dir")
  p=$(col "$TMP/$name.$pin.$d.plain" 1)
  for mode in fixed compact; do
    f="$TMP/$name.$pin.$d.$mode"
    ns=$(col "$f" 1) u=$(col "$f" 2) s=$(col "$f" 3) b=$(col "$f" 4) e=$(col "$f" 5)
    awk -v n="$name" -v pin="$pin" -v d="$dir" -v m="$mode" -v ns="$ns" -v p="$p" -v u="$u" -v s="$s" -v b="$b" -v e="$e" -v unit="$unit" \
      'BEGIN { printf "%-10s %-8s %-9s %-7s %8.1f ns/%s (+%6.1f over untraced %6.1f)  user %5.2f s  sys %5.2f s  %6.2f B/event  %6.1f MB\n", n, pin, d, m, ns, unit, ns - p, p, u, s, e ? b / e : 0, b / 1e6 }'
    eval "${mode}_ns=$ns; ${mode}_b=$b; ${mode}_e=$e; ${mode}_cpu=\$(awk -v u=$u -v s=$s 'BEGIN { print u + s }')"
  done
  awk -v fn="$fixed_ns" -v cn="$compact_ns" -v p="$p" -v fb="$fixed_b" -v cb="$compact_b" -v fe="$fixed_e" -v ce="$compact_e" -v fc="$fixed_cpu" -v cc="$compact_cpu" \
    'BEGIN { printf "%-10s fixed/compact: bytes per event x%.2f, cost over untraced x%.2f, CPU (user+sys) x%.2f\n", "", (fb / fe) / (cb / ce), (fn - p) / (cn - p), fc / cc }'
}

pins="pinned"
[ -n "$UNPINNED" ] && pins="pinned unpinned"
for pin in $pins; do
  for dir in /tmp /dev/shm; do
    for i in $(seq "$ROUNDS"); do
      for mode in plain fixed compact; do
        run mutex "$pin" "$dir" "$mode" "$TMP/mutex_loop" 1 10000000
        run pingpong "$pin" "$dir" "$mode" "$TMP/pingpong" 200000
      done
    done
    report mutex "$pin" "$dir" pair
    report pingpong "$pin" "$dir" trip
  done
done
