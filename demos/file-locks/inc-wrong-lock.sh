#!/bin/bash
# inc-wrong-lock.sh — a "lock" made of check-then-create. It does not work: two processes can both see no `lock`
# file before either creates it, and both go in.
# Fixed from the note: `while; do` was a syntax error (`while :; do`); the lock file is removed even on failure.
while :; do
  if [ ! -e lock ]; then  # 1) no lock?
    break                 # 2) then go in!
  fi
done
touch lock                # 3) take the lock (too late: someone else may have passed step 1 too)
trap 'rm -f lock' EXIT
TMP=$(cat count)
echo $((TMP + 1)) > count
