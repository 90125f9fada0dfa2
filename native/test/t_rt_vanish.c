/* The collector pauses every thread (stepping) and then vanishes: the shim must let the held thread go and the
 * program must run to its end untraced, not hang forever. */
#include <signal.h>
#include <time.h>

int main(void) {
  struct timespec a, z;
  clock_gettime(CLOCK_MONOTONIC, &a);
  sigset_t s;
  sigemptyset(&s);
  do {
    sigprocmask(SIG_BLOCK, &s, NULL); /* a traced call: where the pause holds the thread */
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
    clock_gettime(CLOCK_MONOTONIC, &z);
  } while (z.tv_sec - a.tv_sec < 2);
  return 4;
}
