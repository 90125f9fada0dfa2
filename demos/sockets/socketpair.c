/* socketpair.c — socketpair(AF_UNIX, SOCK_STREAM) is a two-way pipe: both ends read and write. Parent and child
 * each send on their end and read the other's message from the same fd. */
#include "demo.h"
#include <sys/socket.h>
#include <sys/wait.h>

static void exchange(int fd, const char *me, const char *msg) {
  write_all(fd, msg, strlen(msg) + 1);
  char buf[64];
  size_t got = 0;
  do { /* read one NUL-terminated message */
    ssize_t n = read(fd, buf + got, 1);
    if (n <= 0) die("read");
    got += (size_t)n;
  } while (buf[got - 1] != '\0' && got < sizeof buf);
  printf("%s got: %s\n", me, buf);
  fflush(stdout);
}

int main(void) {
  int fd[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fd)); /* fd[0] and fd[1]: both can read and write */
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    CHECK(close(fd[0]));
    exchange(fd[1], "child ", "hello parent, from the child"); /* the same fd both ways */
    CHECK(close(fd[1]));
    _exit(0);
  }
  CHECK(close(fd[1]));
  exchange(fd[0], "parent", "hello child, from the parent");
  CHECK(close(fd[0]));
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
