#!/bin/sh
# Server and client as two unrelated processes meeting at a path. The server starts first and its open() blocks
# until the client, started 0.3 s later, opens the other end. Then the shell version from the note.
set -e
cd "$(dirname "$0")"
FIFO="$PWD/demo-$$.fifo"
./build/fifo_server "$FIFO" &
SERVER=$!
while [ ! -p "$FIFO" ]; do sleep 0.01; done   # the FIFO exists once the server made it
sleep 0.3                                      # the server now sits blocked in open()
printf 'hello\nfrom an unrelated process\nquit\n' | ./build/fifo_client "$FIFO"
wait "$SERVER"
./fifo-shell.sh
