#!/bin/bash
# run.sh [N] [mode…] — start N copies in parallel for each mode and print the final count.
#   modes: unlocked (inc.sh), wrong-lock (inc-wrong-lock.sh), flock (inc-lock.sh); default: all three.
# The note used N = 1000; on two cores that takes a while under a tracer, so the default here is 100.
# The scripts run in a private scratch directory (with their own `count` and `lock`), so two runs at once do not
# share a counter.
set -e
N=${1:-100}
shift || true
MODES=${*:-unlocked wrong-lock flock}
case "$N" in ''|*[!0-9]*) echo "usage: $0 [N] [unlocked|wrong-lock|flock …]" >&2; exit 2;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/inc.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp "$HERE/inc.sh" "$HERE/inc-wrong-lock.sh" "$HERE/inc-lock.sh" "$WORK/"
cd "$WORK"
for mode in $MODES; do
  case "$mode" in
    unlocked) script=./inc.sh ;;
    wrong-lock) script=./inc-wrong-lock.sh ;;
    flock) script=./inc-lock.sh ;;
    *) echo "unknown mode '$mode'" >&2; exit 2 ;;
  esac
  echo 0 > count
  rm -f lock
  for ((i = 0; i < N; i++)); do
    "$script" &
  done
  wait
  echo "$mode: count=$(cat count) of $N"
done
