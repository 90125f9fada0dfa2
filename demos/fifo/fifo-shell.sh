#!/bin/sh
# fifo-shell.sh — the note's two-terminal experiment in one script: mkfifo, then `echo > fifo` and `cat < fifo`.
# Whichever side opens first blocks until the other side opens.
set -e
cd "$(dirname "$0")"
PIPE="$PWD/mypipe-$$.fifo"
trap 'rm -f "$PIPE"' EXIT       # the note left the FIFO behind
mkfifo "$PIPE"
cat < "$PIPE" &                 # terminal 2: the reader, blocked in open() until a writer appears
READER=$!
sleep 0.2
echo "안녕 프로세스 B!" > "$PIPE"   # terminal 1: the writer
wait "$READER"
