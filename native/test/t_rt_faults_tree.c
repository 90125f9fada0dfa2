/* Page faults in a fork tree come from one set of inherited perf events whose rings every process reads (perf.c):
 * each process's faults must still be recorded under its own pid, once. Parent, child and grandchild each write
 * every page of the same 4 MiB private mapping (untouched before the forks, so 1024 fresh faults each); the child
 * execs itself first in a second round (an exec'd image opens its own set: remove_on_exec). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (4u << 20)
static void touch_all(void) {
  char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) _exit(10);
  long ps = sysconf(_SC_PAGESIZE);
  for (size_t off = 0; off < SIZE; off += (size_t)ps) m[off] = 1;
}
static int wait_ok(pid_t pid) {
  int st;
  return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}
int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "execd")) { /* the exec'd image: its own faults, then a child of its own */
    pid_t g = fork();
    if (g == 0) { touch_all(); _exit(0); }
    touch_all();
    return wait_ok(g) ? 0 : 12;
  }
  pid_t a = fork();
  if (a == 0) {
    pid_t b = fork();
    if (b == 0) { touch_all(); _exit(0); }
    touch_all();
    if (!wait_ok(b)) _exit(13);
    execl("/proc/self/exe", argv[0], "execd", (char *)NULL);
    _exit(14);
  }
  touch_all();
  return wait_ok(a) ? 0 : 11;
}
