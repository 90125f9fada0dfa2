#!/bin/sh
# The same echo service with select, poll and epoll; level vs edge triggering; a non-blocking read loop.
set -e
cd "$(dirname "$0")"
./build/mux_server select 3
./build/mux_server poll 3
./build/mux_server epoll 3
./build/epoll_lt_et
./build/nonblock_read
