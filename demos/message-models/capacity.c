/* capacity.c — the three buffering models of message passing, and the rendezvous of synchronous send/receive.
 *   zero      : no buffer. send() returns only when the receiver has taken the message (here: the sender waits for
 *               an acknowledgement on a second pipe), so sender and receiver meet at every message — a rendezvous.
 *   bounded   : a pipe shrunk to one page (4096 bytes). The writer sends 1 KiB messages; the fifth write blocks
 *               until the slow reader drains some — the writer's blocked write is a long span on the timeline.
 *   unbounded : a buffer far larger than anything sent (a 1 MiB pipe for 16 KiB of messages): the writer never
 *               blocks and is done long before the reader starts. (No real buffer is infinite.)
 * Usage: capacity zero|bounded|unbounded|all */
#include "demo.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>

#define MSG 1024
#define COUNT 16

static double now_ms(void) {
  struct timespec ts;
  CHECK(clock_gettime(CLOCK_MONOTONIC, &ts));
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void read_exact(int fd, char *buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, buf + got, len - got);
    if (n == -1) { if (errno == EINTR) continue; die("read"); }
    if (n == 0) { fprintf(stderr, "unexpected EOF\n"); exit(1); }
    got += (size_t)n;
  }
}

static int finish(pid_t pid) {
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Zero capacity: a synchronous send is write + wait for the ack; a synchronous receive is read + ack. */
static int zero(void) {
  int data[2], ack[2];
  CHECK(pipe(data));
  CHECK(pipe(ack));
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) { /* receiver: slow, takes a message every 50 ms */
    CHECK(close(data[1]));
    CHECK(close(ack[0]));
    for (int i = 0; i < 4; i++) {
      sleep_ms(50);
      char m[MSG];
      read_exact(data[0], m, MSG);      /* receive … */
      write_all(ack[1], "k", 1);        /* … and release the sender: the rendezvous */
    }
    _exit(0);
  }
  CHECK(close(data[0]));
  CHECK(close(ack[1]));
  double t0 = now_ms();
  for (int i = 0; i < 4; i++) {
    char m[MSG] = { 0 }, k;
    double s = now_ms();
    write_all(data[1], m, MSG);
    read_exact(ack[0], &k, 1); /* <- the sender waits here until the receiver has the message */
    printf("zero: send %d completed after %.0f ms (waited for the receiver)\n", i, now_ms() - s);
  }
  printf("zero: 4 synchronous sends took %.0f ms: sender and receiver met at every message\n", now_ms() - t0);
  CHECK(close(data[1]));
  CHECK(close(ack[0]));
  return finish(pid);
}

/* Bounded / unbounded: one pipe whose capacity is set with F_SETPIPE_SZ; the reader starts 200 ms late. */
static int buffered(const char *name, int capacity) {
  int p[2];
  CHECK(pipe(p));
  int got = fcntl(p[1], F_SETPIPE_SZ, capacity);
  if (got == -1) die("fcntl F_SETPIPE_SZ");
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    CHECK(close(p[1]));
    sleep_ms(200); /* a late, slow reader */
    char m[MSG];
    for (int i = 0; i < COUNT; i++) read_exact(p[0], m, MSG);
    _exit(0);
  }
  CHECK(close(p[0]));
  double t0 = now_ms();
  int blocked_at = -1;
  for (int i = 0; i < COUNT; i++) {
    char m[MSG] = { 0 };
    double s = now_ms();
    write_all(p[1], m, MSG); /* <- blocks when the pipe is full */
    if (blocked_at < 0 && now_ms() - s > 50) blocked_at = i;
  }
  printf("%s: pipe capacity %d bytes, %d messages of %d bytes written in %.0f ms; ", name, got, COUNT, MSG, now_ms() - t0);
  if (blocked_at >= 0) printf("write %d blocked until the reader made room\n", blocked_at);
  else printf("the writer never blocked\n");
  CHECK(close(p[1]));
  return finish(pid);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "all";
  int all = !strcmp(mode, "all"), rc = 0;
  if (!all && strcmp(mode, "zero") && strcmp(mode, "bounded") && strcmp(mode, "unbounded")) {
    fprintf(stderr, "usage: %s zero|bounded|unbounded|all\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (all || !strcmp(mode, "zero")) rc |= zero();
  if (all || !strcmp(mode, "bounded")) rc |= buffered("bounded", 4096);
  if (all || !strcmp(mode, "unbounded")) rc |= buffered("unbounded", 1 << 20);
  return rc;
}
