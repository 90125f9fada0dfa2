#!/bin/sh
# The POSIX producer/consumer (priority order), the full queue, and Python's multiprocessing.Queue.
set -e
cd "$(dirname "$0")"
./build/mq_producer
./build/mq_consumer
./build/mq_full
python3 mp_queue.py
