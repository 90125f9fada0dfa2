/* The shim's sender thread works in a file table of its own (runtime.c), which must hold none of the program's
 * files: a fork child's sender starts after the fork from a copy of the child's table. The child closes its write
 * end of a pipe and stays alive for 2 s; the parent must see EOF at once, not when the child exits. And the trace
 * file is not among the program's fds (only the perf fds are, from 900 up: two events per CPU and the memfd of their
 * reader table). */
#include <dirent.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(void) {
  int p[2];
  if (pipe(p)) return 9;
  pid_t c = fork();
  if (c == 0) {
    close(p[0]);
    if (write(p[1], "x", 1) != 1) _exit(1);
    close(p[1]);
    sleep(2);
    _exit(0);
  }
  close(p[1]);
  char b[8];
  double t0 = now();
  if (read(p[0], b, 1) != 1) return 10;
  if (read(p[0], b, sizeof b) != 0) return 11;
  if (now() - t0 > 1.0) return 12; /* EOF only came with the child's exit: something kept its write end open */
  long high = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 13;
  for (struct dirent *e; (e = readdir(d));) if (atoi(e->d_name) >= 900) high++;
  closedir(d);
  if (high > 2 * sysconf(_SC_NPROCESSORS_CONF) + 1) return 14;
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) return 15;
  return 0;
}
