#!/bin/sh
# POSIX writer/reader with a ready flag, the System V counter three times, then Python's shared_memory.
set -e
cd "$(dirname "$0")"
./build/shm_writer &
WRITER=$!
./build/shm_reader
wait "$WRITER"
./build/shm_counter remove >/dev/null   # start from a fresh segment
./build/shm_counter
./build/shm_counter
./build/shm_counter
./build/shm_counter remove
python3 mp_shared_memory.py
