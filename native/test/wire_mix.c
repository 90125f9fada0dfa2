/* Many events of many sizes for the encoding comparison (run.sh, w_wire_mix): two threads, each on its own pipe,
 * write 1-61 bytes (previews of varying length, so records of many sizes and some across a ring's end), read them
 * back, read an empty non-blocking pipe (EAGAIN, flags), close a bad fd (EBADF, result -1) and call sigprocmask.
 * Usage: wire_mix [ITERATIONS per thread, default 50000] */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int iterations = 50000;

static void *worker(void *arg) {
  int p[2];
  char buf[64];
  sigset_t s;
  sigemptyset(&s);
  memset(buf, 'a' + (int)(long)arg, sizeof buf);
  if (pipe(p) || fcntl(p[0], F_SETFL, O_NONBLOCK)) abort();
  for (int i = 0; i < iterations; i++) {
    size_t n = 1 + (size_t)(i * 7) % 61;
    if (write(p[1], buf, n) != (ssize_t)n || read(p[0], buf, sizeof buf) != (ssize_t)n) abort();
    if (i % 16 == 0 && (read(p[0], buf, sizeof buf) != -1 || errno != EAGAIN)) abort();
    if (i % 32 == 0) close(-1);
    sigprocmask(SIG_BLOCK, &s, NULL);
  }
  close(p[0]);
  close(p[1]);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1) iterations = atoi(argv[1]);
  pthread_t t[2];
  for (long i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  return 0;
}
