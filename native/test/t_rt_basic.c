/* The runtime alone: a traced program's image start and normal end (HELLO, proc_start, shim_info, mappings,
 * proc_exit, BYE), and that the shim adds no fds where the program could meet them (all high and close-on-exec). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return 10;
  struct dirent *e;
  int bad = 0;
  while ((e = readdir(d))) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] == '.' || fd == dirfd(d)) continue;
    if (fd > 2 && fd < 900) { fprintf(stderr, "unexpected fd %d\n", fd); bad = 1; }
    if (fd >= 900 && !(fcntl(fd, F_GETFD) & FD_CLOEXEC)) { fprintf(stderr, "fd %d not close-on-exec\n", fd); bad = 1; }
  }
  closedir(d);
  puts("basic done");
  return bad ? 11 : 7;
}
