/* fifo_client.c — the writing side: opens the FIFO by its path (no relation to the server process needed) and
 * sends each line of standard input; stops after "quit".
 * Usage: fifo_client [path] < lines */
#include "demo.h"
#include <fcntl.h>

#define BUFFER_SIZE 1024

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "my_fifo.fifo";
  int fd = open(path, O_WRONLY); /* blocks until a reader has the FIFO open */
  if (fd == -1) { perror("open"); fprintf(stderr, "Is the server running?\n"); return 1; }
  printf("Client: Connected to server!\n");
  char buffer[BUFFER_SIZE];
  while (fgets(buffer, sizeof buffer, stdin) != NULL) {
    write_all(fd, buffer, strlen(buffer)); /* the notes ignored write errors (EPIPE when the server is gone) */
    if (strncmp(buffer, "quit", 4) == 0) break;
  }
  CHECK(close(fd));
  printf("Client: Disconnected.\n");
  return 0;
}
