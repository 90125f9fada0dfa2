/* A process killed by SIGKILL cannot give back its reader of the tree's shared fault rings (perf.c), and the
 * kernel's data_tail follows the slowest reader: once a ring fills, the survivors reclaim the dead one's reader.
 * Here a child kills itself right after the fork and stays a zombie (not reaped until the end) while the parent
 * writes 64 MiB page by page, in steps the sender can keep up with: nearly every one of its 16384 faults must be
 * recorded, not just the ~6500 a 256 KiB ring holds before the dead reader would stop it. */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE (64u << 20)
int main(void) {
  pid_t k = fork();
  if (k == 0) { kill(getpid(), SIGKILL); _exit(20); }
  char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 10;
  long ps = sysconf(_SC_PAGESIZE);
  struct timespec pause = {0, 2000000};
  for (size_t off = 0; off < SIZE; off += (size_t)ps) {
    m[off] = 1;
    if ((off / (size_t)ps) % 512 == 511) nanosleep(&pause, NULL);
  }
  int st;
  if (waitpid(k, &st, 0) != k || !WIFSIGNALED(st)) return 11;
  return 0;
}
