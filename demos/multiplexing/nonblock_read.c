/* nonblock_read.c — a non-blocking read loop: the read end has O_NONBLOCK, so read() returns -1 with EAGAIN at
 * once while the pipe is empty instead of blocking; the loop polls (every 5 ms) until the writer child sends its
 * data 100 ms later. Each EAGAIN is a failed read on the timeline. */
#include "demo.h"
#include <fcntl.h>
#include <sys/wait.h>

int main(void) {
  int p[2];
  CHECK(pipe(p));
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    CHECK(close(p[0]));
    sleep_ms(100);
    write_all(p[1], "finally some data\n", 18);
    CHECK(close(p[1]));
    _exit(0);
  }
  CHECK(close(p[1]));
  int flags = fcntl(p[0], F_GETFL);
  if (flags == -1) die("fcntl F_GETFL");
  CHECK(fcntl(p[0], F_SETFL, flags | O_NONBLOCK)); /* <- reads no longer wait */
  int eagain = 0;
  char buf[64];
  ssize_t n;
  for (;;) {
    n = read(p[0], buf, sizeof buf);
    if (n >= 0) break;
    if (errno != EAGAIN) die("read");
    eagain++; /* "resource temporarily unavailable": nothing yet, come back later */
    sleep_ms(5);
  }
  printf("read returned EAGAIN %d times, then %zd bytes: %.*s", eagain, n, (int)n, buf);
  while ((n = read(p[0], buf, sizeof buf)) != 0) /* drain to EOF (EAGAIN again until the writer closes) */
    if (n == -1) { if (errno != EAGAIN) die("read"); sleep_ms(5); }
  CHECK(close(p[0]));
  int status;
  CHECK(waitpid(pid, &status, 0));
  return eagain > 0 ? 0 : 1;
}
