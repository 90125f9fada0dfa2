#!/bin/sh
# The same work as four processes, then as four threads.
set -e
cd "$(dirname "$0")"
./build/work both 4
