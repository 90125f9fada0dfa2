/* pthread_cancel against hooks that make their system call themselves (native/src/cancel.c). Until the process's
 * first pthread_cancel, the read/write and send/recv hooks call the kernel directly, without glibc's cancellation
 * bracket; a thread blocked there when the first pthread_cancel comes must still be cancelled, and one with
 * cancellation disabled must not be (nor lose what it reads). Four threads block before any cancel:
 *   A in read on an empty pipe: cancelled (pthread_join gives PTHREAD_CANCELED);
 *   B in read on an empty pipe with cancellation disabled: cancelled while blocked, it stays blocked (the call is
 *     restarted, no EINTR), gets the 6 bytes written 200 ms later, enables cancellation and is cancelled at its next
 *     read;
 *   C in recv on a Unix socketpair: cancelled;
 *   E in epoll_wait on an empty pipe: cancelled.
 * Then D, started after the first cancel (glibc's own path from then on), blocked in write on a full pipe:
 * cancelled. A watchdog alarm fails the test (exit 142) if anything hangs. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static int pa[2], pb[2], sc[2], pd[2], pe[2], ep;
static volatile int b_got = -1, b_blocked;

static void *reader_a(void *arg) {
  (void)arg;
  char buf[16];
  (void)!read(pa[0], buf, sizeof buf);
  return (void *)1; /* not reached when cancelled */
}

static void *reader_b(void *arg) {
  (void)arg;
  char buf[16];
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  b_blocked = 1;
  b_got = (int)read(pb[0], buf, sizeof buf);
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
  (void)!read(pb[0], buf, sizeof buf); /* a cancellation point with the cancel pending */
  return (void *)2;
}

static void *reader_c(void *arg) {
  (void)arg;
  char buf[16];
  (void)!recv(sc[0], buf, sizeof buf, 0);
  return (void *)3;
}

static void *waiter_e(void *arg) {
  (void)arg;
  struct epoll_event ev;
  (void)epoll_wait(ep, &ev, 1, -1);
  return (void *)5;
}

static void *writer_d(void *arg) {
  (void)arg;
  char chunk[4096];
  memset(chunk, 'd', sizeof chunk);
  for (;;)
    if (write(pd[1], chunk, sizeof chunk) < 0) return (void *)4;
}

static int joined_cancelled(pthread_t t, const char *name) {
  void *r = NULL;
  if (pthread_join(t, &r)) return 0;
  if (r != PTHREAD_CANCELED) {
    fprintf(stderr, "%s: not cancelled (%p)\n", name, r);
    return 0;
  }
  return 1;
}

int main(void) {
  alarm(20);
  if (pipe(pa) || pipe(pb) || pipe(pd) || pipe(pe) || socketpair(AF_UNIX, SOCK_STREAM, 0, sc)) return 10;
  struct epoll_event want = {.events = EPOLLIN, .data.fd = pe[0]};
  if ((ep = epoll_create1(0)) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pe[0], &want)) return 10;
  pthread_t a, b, c, d, e;
  if (pthread_create(&a, NULL, reader_a, NULL) || pthread_create(&b, NULL, reader_b, NULL) ||
      pthread_create(&c, NULL, reader_c, NULL) || pthread_create(&e, NULL, waiter_e, NULL))
    return 11;
  usleep(200000); /* all four blocked in their calls */
  if (!b_blocked) return 12;
  if (pthread_cancel(a)) return 13;
  if (!joined_cancelled(a, "A")) return 14;
  if (pthread_cancel(b)) return 15;
  usleep(200000); /* B, cancellation disabled, must still be in its read */
  if (b_got != -1) {
    fprintf(stderr, "B's read returned %d before any data\n", b_got);
    return 16;
  }
  if (write(pb[1], "bdata!", 6) != 6) return 17;
  if (!joined_cancelled(b, "B")) return 18;
  if (b_got != 6) {
    fprintf(stderr, "B's read returned %d, not the 6 bytes written\n", b_got);
    return 19;
  }
  if (pthread_cancel(c)) return 20;
  if (!joined_cancelled(c, "C")) return 21;
  if (pthread_cancel(e)) return 25;
  if (!joined_cancelled(e, "E")) return 26;
  fcntl(pd[1], F_SETPIPE_SZ, 4096);
  if (pthread_create(&d, NULL, writer_d, NULL)) return 22;
  usleep(200000); /* D blocked on the full pipe */
  if (pthread_cancel(d)) return 23;
  if (!joined_cancelled(d, "D")) return 24;
  printf("all cancelled\n");
  return 0;
}
