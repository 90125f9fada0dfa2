/* Without IPCSCOPE the preloaded shim does nothing: no thread, no fd, no output. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

static int count(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}
int main(void) {
  int threads = count("/proc/self/task"), fds = count("/proc/self/fd");
  /* fds: 0, 1, 2 and the one opendir holds */
  if (threads != 1 || fds != 4) { printf("threads %d fds %d\n", threads, fds); return 1; }
  return 0;
}
