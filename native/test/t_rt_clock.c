/* Event times stay causal across processes and with perf's page-fault samples once the shim runs on its TSC
 * mapping of CLOCK_MONOTONIC (turned on ~10 ms after start; we wait 60 ms). A strict ping-pong between parent and
 * child: message k (k bytes) is written by the parent, read by the child, answered with k bytes, read back; every
 * write begins before the read that gets its bytes ends, in the merged trace. Then page faults on a fixed mapping,
 * each between two sigprocmask markers. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 200
int main(void) {
  struct timespec pause = {0, 60000000};
  nanosleep(&pause, NULL);
  int down[2], up[2];
  if (pipe(down) || pipe(up)) return 10;
  char buf[4096];
  memset(buf, 'x', sizeof buf);
  pid_t child = fork();
  if (child < 0) return 11;
  if (child == 0) {
    close(down[1]);
    close(up[0]);
    for (int k = 1; k <= ROUNDS; k++) {
      if (read(down[0], buf, sizeof buf) != k) return 20;
      if (write(up[1], buf, (size_t)k) != k) return 21;
    }
    return 0;
  }
  close(down[0]);
  close(up[1]);
  for (int k = 1; k <= ROUNDS; k++) {
    if (write(down[1], buf, (size_t)k) != k) return 12;
    if (read(up[0], buf, sizeof buf) != k) return 13;
  }
  int st;
  if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)) return 14;
  char *m = mmap((void *)0x7e0000000000ull, 16 * 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (m != (char *)0x7e0000000000ull) return 15;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGURG);
  for (int k = 0; k < 16; k++) {
    sigprocmask(SIG_BLOCK, &s, NULL);
    ((volatile char *)m)[k * 4096 + 0x100] = 1;
    sigprocmask(SIG_UNBLOCK, &s, NULL);
  }
  return 0;
}
