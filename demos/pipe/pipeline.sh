#!/bin/sh
# pipeline.sh — the shell pipeline from the note: free's output flows through a pipe into awk, which prints the
# second line's second field (total memory in KiB).
set -e
free | awk '(NR==2){print $2}'
