#!/bin/sh
# TCP echo on loopback, Unix socket echo, socketpair both ways, and fd passing.
set -e
cd "$(dirname "$0")"
PORTFILE="$PWD/port-$$.txt"
trap 'rm -f "$PORTFILE"' EXIT
./build/tcp_echo_server "$PORTFILE" &
SERVER=$!
printf 'hello\nTCP is a byte stream\nquit\n' | ./build/tcp_echo_client "$PORTFILE"
wait "$SERVER"
./build/unix_echo
./build/socketpair
./build/scm_rights
