/* A burst of page faults from many processes of one tree at once: 80 fork children each write every page of their
 * own 1 MiB mapping while most of them are still connecting, then stay alive for half a second. They share the tree's per-CPU fault rings (perf.c),
 * which free space only as fast as the slowest reader: nothing may be lost (20480+ faults, no dropped event). */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define KIDS 80
int main(void) {
  pid_t kids[KIDS];
  for (int i = 0; i < KIDS; i++) {
    kids[i] = fork();
    if (kids[i] < 0) return 10;
    if (kids[i] == 0) {
      char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) _exit(1);
      for (int o = 0; o < (1 << 20); o += 4096) m[o] = 1;
      usleep(500000); /* alive (and reading) while the others fault */
      _exit(0);
    }
  }
  for (int i = 0; i < KIDS; i++) {
    int st;
    if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st)) return 11;
  }
  return 0;
}
