#!/bin/sh
# dd-progress.sh — the real dd prints its progress when it receives SIGUSR1 (the note's experiment).
# The note wrote 1 GiB, one byte per call, into a file named `test` and never stopped dd; here dd copies
# /dev/urandom to /dev/null (nothing left on disk, a modest pace), gets SIGUSR1 twice and is then stopped.
dd if=/dev/urandom of=/dev/null bs=1M &
DDPID=$!
sleep 0.3
kill -USR1 "$DDPID"   # dd: "N+0 records in ... copied"
sleep 0.3
kill -USR1 "$DDPID"
sleep 0.1
kill -TERM "$DDPID"
wait "$DDPID"
status=$?
# 143 = 128 + SIGTERM: dd ended by our SIGTERM, as intended.
[ "$status" -eq 143 ] || { echo "dd ended unexpectedly (status $status)" >&2; exit 1; }
echo "dd stopped by SIGTERM after two progress reports"
