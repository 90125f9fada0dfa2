#!/bin/sh
# Both halves of the experiment, one after the other.
set -e
cd "$(dirname "$0")"
python3 non-shared-memory.py
python3 shared-memory.py
