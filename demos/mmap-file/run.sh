#!/bin/sh
# Writing through mmap + msync, then two processes sharing one mapped file.
set -e
cd "$(dirname "$0")"
./build/mmap_write
./build/mmap_orders
