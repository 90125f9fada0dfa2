#!/bin/sh
# Zero capacity (rendezvous), bounded and unbounded buffering.
set -e
cd "$(dirname "$0")"
./build/capacity all
