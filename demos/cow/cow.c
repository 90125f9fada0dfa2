/* cow.c — the cow.py experiment in C: a 100 MiB private mapping, touched, fork(), and the child writes every page.
 * Besides the minor-fault count it prints the mapping's Shared_Dirty / Private_Dirty from /proc/self/smaps, which
 * shows the copy-on-write directly: right after fork the child's 100 MiB is all shared, after its writes all private.
 * Usage: cow [MiB]   (default 100) */
#include "demo.h"
#include <inttypes.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

static size_t alloc_size;
static long page_size;

static void access_pages(char *data) {
  for (size_t i = 0; i < alloc_size; i += (size_t)page_size) data[i] = 0;
}

static long used_kib(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) die("fopen /proc/meminfo");
  char key[64]; long value, total = -1, avail = -1;
  while (fscanf(f, "%63s %ld kB", key, &value) == 2) {
    if (!strcmp(key, "MemTotal:")) total = value;
    if (!strcmp(key, "MemAvailable:")) avail = value;
  }
  fclose(f);
  return total - avail;
}

/* Shared_Dirty and Private_Dirty (KiB) of the smaps entry that contains `start` (the kernel may have merged the
 * mapping with an adjacent anonymous one, so it need not start there). */
static void mapping_kib(const char *start, long *shared, long *private_) {
  FILE *f = fopen("/proc/self/smaps", "r");
  if (!f) die("fopen /proc/self/smaps");
  char line[512]; int in = 0;
  uintptr_t want = (uintptr_t)start;
  *shared = *private_ = -1;
  while (fgets(line, sizeof line, f)) {
    uintptr_t lo, hi;
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      in = (lo <= want && want < hi);
      continue;
    }
    if (!in) continue;
    long v;
    if (sscanf(line, "Shared_Dirty: %ld kB", &v) == 1) *shared = v;
    if (sscanf(line, "Private_Dirty: %ld kB", &v) == 1) *private_ = v;
  }
  fclose(f);
}

static void show(const char *msg, const char *who, const char *data) {
  struct rusage ru;
  CHECK(getrusage(RUSAGE_SELF, &ru));
  long shared, priv;
  mapping_kib(data, &shared, &priv);
  printf("%s\nSUMMARY %s used_kib=%ld min_flt=%ld maj_flt=%ld shared_kib=%ld private_kib=%ld\n\n", msg, who,
         used_kib(), ru.ru_minflt, ru.ru_majflt, shared, priv);
  fflush(stdout);
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
  if (mib <= 0) { fprintf(stderr, "usage: %s [MiB > 0]\n", argv[0]); return 2; }
  alloc_size = (size_t)mib * 1024 * 1024;
  page_size = sysconf(_SC_PAGESIZE);

  char *data = mmap(NULL, alloc_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) die("mmap");
  access_pages(data);
  show("*** before fork ***", "parent", data);

  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    show("*** child, right after fork ***", "child-after-fork", data);
    access_pages(data); /* every write is a copy-on-write fault: the kernel copies the page for the child */
    show("*** child, after writing every page ***", "child-after-write", data);
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "child failed: %#x\n", status); return 1; }
  CHECK(munmap(data, alloc_size));
  return 0;
}
