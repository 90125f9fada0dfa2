#!/bin/sh
# The ABBA deadlock (detected by a 1 s timeout), then the fix: one lock order for everyone.
set -e
./build/deadlock abba
./build/deadlock ordered
