/* work.c — the same job (summing 1..N in WORKERS slices) done by several processes and by several threads, so their
 * IPC can be compared side by side.
 *   procs  : fork() per worker; each has its own address space, so the partial sums come back through a pipe
 *            (write in the child, read in the parent) and the parent reaps each child with waitpid().
 *   threads: pthread_create() per worker; they share the address space, so each adds its partial sum straight into
 *            one total under a mutex — no kernel object carries data, the mutex only orders them.
 * Usage: work procs|threads|both [workers] [N]   (defaults both, 4, 20000000) */
#include "demo.h"
#include <pthread.h>
#include <sys/wait.h>

static long long n_total;
static int workers;

static long long slice_sum(int w) {
  long long lo = n_total * w / workers + 1, hi = n_total * (w + 1) / workers, s = 0;
  for (long long i = lo; i <= hi; i++) s += i;
  return s;
}

static long long with_processes(void) {
  int p[2];
  CHECK(pipe(p));
  pid_t pids[64];
  for (int w = 0; w < workers; w++) {
    pids[w] = fork();
    if (pids[w] == -1) die("fork");
    if (pids[w] == 0) {
      CHECK(close(p[0]));
      long long s = slice_sum(w);
      write_all(p[1], &s, sizeof s); /* <- the result has to travel through the kernel */
      _exit(0);
    }
  }
  CHECK(close(p[1]));
  long long total = 0, s;
  for (int w = 0; w < workers; w++) {
    ssize_t n = read(p[0], &s, sizeof s); /* 8-byte writes to a pipe are atomic: never interleaved */
    if (n != (ssize_t)sizeof s) die("read");
    total += s;
  }
  CHECK(close(p[0]));
  for (int w = 0; w < workers; w++) {
    int status;
    CHECK(waitpid(pids[w], &status, 0));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { fprintf(stderr, "worker %d failed\n", w); exit(1); }
  }
  return total;
}

static long long shared_total;
static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;

static void *thread_worker(void *arg) {
  long long s = slice_sum((int)(long)arg);
  PCHECK(pthread_mutex_lock(&total_lock)); /* <- shared memory: only the order needs the kernel (if contended) */
  shared_total += s;
  PCHECK(pthread_mutex_unlock(&total_lock));
  return NULL;
}

static long long with_threads(void) {
  pthread_t t[64];
  shared_total = 0;
  for (long w = 0; w < workers; w++) PCHECK(pthread_create(&t[w], NULL, thread_worker, (void *)w));
  for (int w = 0; w < workers; w++) PCHECK(pthread_join(t[w], NULL));
  return shared_total;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "both";
  workers = argc > 2 ? atoi(argv[2]) : 4;
  n_total = argc > 3 ? atoll(argv[3]) : 20000000;
  int both = !strcmp(mode, "both");
  if ((!both && strcmp(mode, "procs") && strcmp(mode, "threads")) || workers < 1 || workers > 64 || n_total < 1) {
    fprintf(stderr, "usage: %s procs|threads|both [workers 1..64] [N]\n", argv[0]);
    return 2;
  }
  long long expected = n_total * (n_total + 1) / 2;
  int ok = 1;
  if (both || !strcmp(mode, "procs")) {
    long long r = with_processes();
    printf("processes: %d workers, sum = %lld (%s)\n", workers, r, r == expected ? "correct" : "WRONG");
    fflush(stdout);
    ok &= r == expected;
  }
  if (both || !strcmp(mode, "threads")) {
    long long r = with_threads();
    printf("threads:   %d workers, sum = %lld (%s)\n", workers, r, r == expected ? "correct" : "WRONG");
    ok &= r == expected;
  }
  return ok ? 0 : 1;
}
