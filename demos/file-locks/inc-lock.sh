#!/bin/bash
# inc-lock.sh — the right way: flock(1) takes an exclusive lock on the file `lock` (flock(2), held by the kernel)
# and runs inc.sh while holding it, so only one read-modify-write runs at a time.
flock lock ./inc.sh
