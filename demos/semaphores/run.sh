#!/bin/sh
# Named semaphore (2 of 5), then the bounded buffer in C and in Python.
set -e
cd "$(dirname "$0")"
./build/named_sem
./build/bounded_buffer
python3 bounded_buffer.py
