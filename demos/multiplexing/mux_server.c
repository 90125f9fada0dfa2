/* mux_server.c — one process, one thread, several clients: an echo server that waits with select(), poll() or
 * epoll_wait() for whichever connection is ready, instead of a process or thread per client.
 * It forks CLIENTS client processes that connect over loopback TCP, each sending three lines at its own pace and
 * checking the echo; the server exits when all have disconnected.
 * Usage: mux_server select|poll|epoll [clients]   (default 3) */
#include "demo.h"
#include <arpa/inet.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define MAX_CLIENTS 16

static void client(int port, int id) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd == -1) die("socket");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr));
  for (int i = 0; i < 3; i++) {
    sleep_ms(30 + 20 * id); /* clients talk at different moments: the server serves whoever is ready */
    char msg[64], echo[64];
    int len = snprintf(msg, sizeof msg, "client %d line %d\n", id, i);
    write_all(fd, msg, (size_t)len);
    int got = 0;
    while (got < len) {
      ssize_t n = read(fd, echo + got, (size_t)(len - got));
      if (n <= 0) die("read echo");
      got += (int)n;
    }
    if (memcmp(msg, echo, (size_t)len) != 0) { fprintf(stderr, "client %d: bad echo\n", id); _exit(1); }
  }
  CHECK(close(fd));
  _exit(0);
}

/* Echo what is readable on fd; returns 0 when the client closed. */
static int echo_once(int fd) {
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n == -1) die("read");
  if (n > 0) write_all(fd, buf, (size_t)n);
  return n > 0;
}

static int accept_one(int listen_fd) {
  int fd = accept(listen_fd, NULL, NULL);
  if (fd == -1) die("accept");
  if (fd >= FD_SETSIZE) { fprintf(stderr, "fd %d too large for select\n", fd); exit(1); }
  return fd;
}

static void serve_select(int listen_fd, int clients) {
  int fds[MAX_CLIENTS], nfds = 0, accepted = 0, wakeups = 0;
  while (accepted < clients || nfds > 0) {
    fd_set readable;
    FD_ZERO(&readable);
    int maxfd = -1;
    if (accepted < clients) { FD_SET(listen_fd, &readable); maxfd = listen_fd; }
    for (int i = 0; i < nfds; i++) { FD_SET(fds[i], &readable); if (fds[i] > maxfd) maxfd = fds[i]; }
    CHECK(select(maxfd + 1, &readable, NULL, NULL, NULL)); /* <- sleeps until any fd in the set is ready */
    wakeups++;
    if (accepted < clients && FD_ISSET(listen_fd, &readable)) { fds[nfds++] = accept_one(listen_fd); accepted++; }
    for (int i = 0; i < nfds; i++)
      if (FD_ISSET(fds[i], &readable) && !echo_once(fds[i])) { CHECK(close(fds[i])); fds[i--] = fds[--nfds]; }
  }
  printf("select: served %d clients in %d wakeups\n", clients, wakeups);
}

static void serve_poll(int listen_fd, int clients) {
  struct pollfd pfd[MAX_CLIENTS + 1];
  int n = 1, accepted = 0, wakeups = 0;
  pfd[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
  while (accepted < clients || n > 1) {
    CHECK(poll(pfd, (nfds_t)n, -1)); /* <- one array of (fd, events); the kernel fills revents */
    wakeups++;
    if (pfd[0].revents & POLLIN) {
      pfd[n++] = (struct pollfd){ .fd = accept_one(listen_fd), .events = POLLIN };
      if (++accepted == clients) pfd[0].fd = -1; /* stop watching the listener */
    }
    for (int i = 1; i < n; i++)
      if ((pfd[i].revents & (POLLIN | POLLHUP)) && !echo_once(pfd[i].fd)) { CHECK(close(pfd[i].fd)); pfd[i--] = pfd[--n]; }
  }
  printf("poll: served %d clients in %d wakeups\n", clients, wakeups);
}

static void serve_epoll(int listen_fd, int clients) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep == -1) die("epoll_create1");
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = listen_fd };
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev)); /* registered once; the kernel keeps the interest list */
  int open_conns = 0, accepted = 0, wakeups = 0;
  while (accepted < clients || open_conns > 0) {
    struct epoll_event ready[MAX_CLIENTS];
    int k = epoll_wait(ep, ready, MAX_CLIENTS, -1); /* <- returns only the ready fds */
    if (k == -1) die("epoll_wait");
    wakeups++;
    for (int i = 0; i < k; i++) {
      int fd = ready[i].data.fd;
      if (fd == listen_fd) {
        int c = accept_one(listen_fd);
        ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = c };
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev));
        open_conns++;
        if (++accepted == clients) CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, listen_fd, NULL));
      } else if (!echo_once(fd)) {
        CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL));
        CHECK(close(fd));
        open_conns--;
      }
    }
  }
  CHECK(close(ep));
  printf("epoll: served %d clients in %d wakeups\n", clients, wakeups);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "epoll";
  int clients = argc > 2 ? atoi(argv[2]) : 3;
  if ((strcmp(mode, "select") && strcmp(mode, "poll") && strcmp(mode, "epoll")) || clients < 1 || clients > MAX_CLIENTS) {
    fprintf(stderr, "usage: %s select|poll|epoll [clients 1..%d]\n", argv[0], MAX_CLIENTS);
    return 2;
  }
  int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd == -1) die("socket");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(listen_fd, (struct sockaddr *)&addr, sizeof addr));
  CHECK(listen(listen_fd, MAX_CLIENTS));
  socklen_t len = sizeof addr;
  CHECK(getsockname(listen_fd, (struct sockaddr *)&addr, &len));

  pid_t pids[MAX_CLIENTS];
  for (int i = 0; i < clients; i++) {
    pids[i] = fork();
    if (pids[i] == -1) die("fork");
    if (pids[i] == 0) { CHECK(close(listen_fd)); client(ntohs(addr.sin_port), i); }
  }
  if (!strcmp(mode, "select")) serve_select(listen_fd, clients);
  else if (!strcmp(mode, "poll")) serve_poll(listen_fd, clients);
  else serve_epoll(listen_fd, clients);
  CHECK(close(listen_fd));
  int failed = 0;
  for (int i = 0; i < clients; i++) {
    int status;
    CHECK(waitpid(pids[i], &status, 0));
    failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  return failed ? 1 : 0;
}
