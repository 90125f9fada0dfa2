/* An epoll server: a listening Unix socket and its accepted connections in one epoll set; two clients (children)
 * each send one message; the server echoes until both have hung up. */
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = "epoll.sock"};

static void client(const char *msg) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) _exit(10);
  size_t n = strlen(msg);
  if (write(s, msg, n) != (ssize_t)n) _exit(11);
  char buf[32];
  if (read(s, buf, sizeof buf) != (ssize_t)n) _exit(12);
  close(s);
  _exit(0);
}

int main(void) {
  unlink(addr.sun_path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(l, 8) != 0) return 1;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) != 0) return 2;
  pid_t c1 = fork();
  if (c1 == 0) client("from one");
  pid_t c2 = fork();
  if (c2 == 0) client("from two");
  int open_conns = 0, done = 0;
  while (done < 2) {
    struct epoll_event out[8];
    int n = epoll_wait(ep, out, 8, 5000);
    if (n <= 0) return 3;
    for (int i = 0; i < n; i++) {
      int fd = out[i].data.fd;
      if (fd == l) {
        int s = accept(l, NULL, NULL);
        struct epoll_event cev = {.events = EPOLLIN, .data.fd = s};
        if (s < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s, &cev) != 0) return 4;
        open_conns++;
      } else {
        char buf[32];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
          if (write(fd, buf, (size_t)r) != r) return 5;
        } else {
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
          close(fd);
          done++;
        }
      }
    }
  }
  int st, ok = open_conns == 2;
  for (int i = 0; i < 2; i++)
    if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
  unlink(addr.sun_path);
  return ok ? 0 : 6;
}
