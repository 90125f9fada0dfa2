#!/bin/sh
# Tracing overhead on the calling thread, measured side by side in one run: build/test/bench_emit without and with
# the shim (file sink, no faults or snapshots), 5 alternating rounds, medians and ratios printed.
# Usage (from native/): make build/test/bench_emit && sh test/bench_emit.sh [N]
cd "$(dirname "$0")/.." || exit 2
N=${1:-1000000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for i in 1 2 3 4 5; do
  build/test/bench_emit "$N" >>"$OUT/plain"
  env LD_PRELOAD="$(pwd)/build/libipcscope.so" IPCSCOPE="file=$OUT/trace;faults=0;snapshots=0" build/test/bench_emit "$N" >>"$OUT/shim"
  rm -f "$OUT"/trace.*
done
median() { sort -n | sed -n 3p; }
p1=$(cut -d' ' -f1 "$OUT/plain" | median); s1=$(cut -d' ' -f1 "$OUT/shim" | median)
p2=$(cut -d' ' -f2 "$OUT/plain" | median); s2=$(cut -d' ' -f2 "$OUT/shim" | median)
awk -v p="$p1" -v s="$s1" 'BEGIN { printf "sigprocmask (1 event):           plain %d ns, traced %d ns, +%d ns, x%.2f\n", p, s, s - p, s / p }'
awk -v p="$p2" -v s="$s2" 'BEGIN { printf "pipe write+read 32 B (4 events): plain %d ns, traced %d ns, +%d ns, x%.2f\n", p, s, s - p, s / p }'
