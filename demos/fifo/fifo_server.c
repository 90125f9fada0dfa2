/* fifo_server.c — the reading side of a named pipe. Creates the FIFO, then open(O_RDONLY) blocks until a writer
 * (an unrelated process) opens the other end; prints every line until "quit" or EOF.
 * Usage: fifo_server [path]   (default ./my_fifo.fifo; the notes used a fixed /tmp/my_fifo) */
#include "demo.h"
#include <fcntl.h>
#include <sys/stat.h>

#define BUFFER_SIZE 1024

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "my_fifo.fifo";
  if (mkfifo(path, 0600) == -1 && errno != EEXIST) die("mkfifo"); /* 0600: the notes' 0666 let anyone inject */
  struct stat st;
  CHECK(stat(path, &st));
  if (!S_ISFIFO(st.st_mode)) { fprintf(stderr, "%s exists and is not a FIFO\n", path); return 1; }

  printf("Server: Waiting for client connection...\n");
  fflush(stdout);
  int fd = open(path, O_RDONLY); /* <- blocks until some process opens the FIFO for writing */
  if (fd == -1) { unlink(path); die("open"); }
  printf("Server: Client connected!\n");
  fflush(stdout);

  /* One read may hold several lines or part of one: split on newlines (the notes compared the raw buffer). */
  char buffer[BUFFER_SIZE], line[BUFFER_SIZE];
  size_t len = 0;
  int quit = 0;
  ssize_t n;
  while (!quit && (n = read(fd, buffer, sizeof buffer)) > 0) {
    for (ssize_t i = 0; i < n && !quit; i++) {
      if (buffer[i] != '\n' && len < sizeof line - 1) { line[len++] = buffer[i]; continue; }
      line[len] = '\0';
      printf("Server received: %s\n", line);
      quit = !strcmp(line, "quit");
      len = 0;
    }
  }
  if (!quit && n == -1) die("read");
  CHECK(close(fd));
  CHECK(unlink(path));
  printf("Server: Shutting down.\n");
  return 0;
}
