/* epoll_lt_et.c — level-triggered vs edge-triggered epoll on a pipe holding 10 bytes, read 2 bytes per wakeup.
 *   level: epoll_wait keeps reporting the fd while data remains -> 5 wakeups, all 10 bytes read.
 *   edge:  epoll_wait reports the fd once, when data arrived -> 1 wakeup, 2 bytes read, 8 left stranded
 *          (the rule with EPOLLET: read until EAGAIN). */
#include "demo.h"
#include <fcntl.h>
#include <sys/epoll.h>

static int run(int edge) {
  int p[2];
  CHECK(pipe2(p, O_NONBLOCK));
  int ep = epoll_create1(0);
  if (ep == -1) die("epoll_create1");
  struct epoll_event ev = { .events = EPOLLIN | (edge ? EPOLLET : 0), .data.fd = p[0] };
  CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  write_all(p[1], "0123456789", 10);
  int wakeups = 0, total = 0;
  for (;;) {
    struct epoll_event out;
    int k = epoll_wait(ep, &out, 1, 100); /* 100 ms: "nothing more is coming" */
    if (k == -1) die("epoll_wait");
    if (k == 0) break;
    wakeups++;
    char buf[2];
    ssize_t n = read(p[0], buf, sizeof buf); /* deliberately only 2 bytes per wakeup */
    if (n > 0) total += (int)n;
  }
  printf("%s-triggered: %d wakeups, %d of 10 bytes read%s\n", edge ? "edge" : "level", wakeups, total,
         total < 10 ? " (the rest is stranded until more data arrives)" : "");
  CHECK(close(ep));
  CHECK(close(p[0]));
  CHECK(close(p[1]));
  return edge ? (wakeups == 1 && total == 2) : (wakeups == 5 && total == 10);
}

int main(void) {
  int ok = run(0);
  ok &= run(1);
  return ok ? 0 : 1;
}
