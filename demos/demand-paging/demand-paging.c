/* demand-paging.c — execve() a program and watch page faults arrive only as its pages are first touched.
 * The parent forks and the child execs this same binary with "touch": the new image maps a region (no faults yet),
 * then touches it page by page in steps, printing its minor-fault count after each step.
 * Usage: demand-paging [pages] [steps]   (default 2560 pages = 10 MiB, in 10 steps) */
#include "demo.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static long minflt(void) {
  struct rusage ru;
  CHECK(getrusage(RUSAGE_SELF, &ru));
  return ru.ru_minflt;
}

static int touch(long pages, long steps) {
  long page = sysconf(_SC_PAGESIZE);
  long before_map = minflt();
  char *region = mmap(NULL, (size_t)(pages * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) die("mmap");
  printf("mapped %ld pages: %ld new faults (mapping allocates no memory)\n", pages, minflt() - before_map);
  long per_step = pages / steps;
  for (long s = 0; s < steps; s++) {
    long f0 = minflt();
    for (long p = s * per_step; p < (s + 1) * per_step; p++) region[p * page] = 1; /* first touch -> page fault */
    printf("step %ld: touched pages %ld..%ld, %ld new minor faults\n", s + 1, s * per_step, (s + 1) * per_step - 1,
           minflt() - f0);
    fflush(stdout);
    sleep_ms(20); /* spread the steps out so the faults form visible bursts on the timeline */
  }
  long f0 = minflt();
  for (long p = 0; p < pages; p++) region[p * page] = 2; /* second pass: pages are present, no faults */
  printf("second pass over all pages: %ld new minor faults\n", minflt() - f0);
  CHECK(munmap(region, (size_t)(pages * page)));
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "touch")) {
    long pages = argc > 2 ? atol(argv[2]) : 2560, steps = argc > 3 ? atol(argv[3]) : 10;
    if (pages <= 0 || steps <= 0 || steps > pages) { fprintf(stderr, "bad pages/steps\n"); return 2; }
    return touch(pages, steps);
  }
  const char *pages = argc > 1 ? argv[1] : "2560", *steps = argc > 2 ? argv[2] : "10";
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    /* A fresh image: execve discards this address space; the new program's pages arrive on demand. */
    char *args[] = { argv[0], "touch", (char *)pages, (char *)steps, NULL };
    execv("/proc/self/exe", args);
    die("execv");
  }
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
