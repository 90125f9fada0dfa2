#!/bin/sh
# Mutex vs no mutex, a spin lock right and wrong, and Peterson's algorithm.
set -e
cd "$(dirname "$0")"
./build/counter
./build/spinlock
./build/peterson
