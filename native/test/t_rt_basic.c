/* The runtime alone: a traced program's image start and normal end (HELLO, proc_start, shim_info, mappings,
 * proc_exit, BYE), and that the shim adds no fds where the program could meet them (all high and close-on-exec),
 * in this image and in the one it execs (the new image reconnects; nothing of the old one is inherited). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 10;
  struct dirent *e;
  int bad = 0, high = 0;
  while ((e = readdir(d))) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd == dirfd(d)) continue;
    if (fd > 2 && fd < 900) { fprintf(stderr, "unexpected fd %d\n", fd); bad = 1; }
    if (fd >= 900) high++;
    if (fd >= 900 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC)) { fprintf(stderr, "fd %d not close-on-exec\n", fd); bad = 1; }
  }
  closedir(d);
  /* the trace file and two perf fds per CPU (page faults, inherited by the whole tree); an exec must not add to them */
  if (high > 1 + 2 * sysconf(_SC_NPROCESSORS_CONF)) { fprintf(stderr, "%d shim fds\n", high); bad = 1; }
  return bad ? 11 : 0;
}

int main(int argc, char **argv) {
  int r = check_fds();
  if (r) return r;
  if (argc < 2) {
    /* an argument that is not valid UTF-8 (HELLO stays valid JSON: the stray byte becomes U+FFFD) */
    execl("/proc/self/exe", argv[0], "again", "q\"\\\377\303\251", (char *)NULL);
    return 12;
  }
  puts("basic done");
  return 7;
}
