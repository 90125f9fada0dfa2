#!/bin/sh
# Every pipe experiment, one after the other.
set -e
cd "$(dirname "$0")"
./build/pipe
./build/pipe-bidirectional
./pipeline.sh
./build/pipe-eof correct
./build/pipe-eof bug
