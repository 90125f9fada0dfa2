#!/bin/sh
# All four signal experiments, one after the other.
set -e
cd "$(dirname "$0")"
./build/sigusr1
./build/default-actions
./build/coalesce
./dd-progress.sh
