/* select and poll waiting on a pipe that a child writes to once the parent is blocked: both waits block (begin … end) and
 * report the read end ready. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blocked_in.h"

/* Writes one byte once the parent is blocked in select/pselect6 or poll/ppoll. */
static void later_write(int fd, const char *s, long nr1, long nr2) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)getppid());
  if (!blocked_in(path, nr1, nr2)) _exit(9);
  if (write(fd, s, 1) != 1) _exit(10);
}

int main(void) {
  int p[2];
  if (pipe(p) != 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    later_write(p[1], "s", SYS_select, SYS_pselect6);
    later_write(p[1], "p", SYS_poll, SYS_ppoll);
    _exit(0);
  }
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(p[0], &rd);
  struct timeval tv = {5, 0};
  if (select(p[0] + 1, &rd, NULL, NULL, &tv) != 1 || !FD_ISSET(p[0], &rd)) return 2;
  char b;
  if (read(p[0], &b, 1) != 1) return 3;
  struct pollfd pf = {.fd = p[0], .events = POLLIN};
  if (poll(&pf, 1, 5000) != 1 || !(pf.revents & POLLIN)) return 4;
  if (read(p[0], &b, 1) != 1) return 5;
  int st;
  return waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 6;
}
