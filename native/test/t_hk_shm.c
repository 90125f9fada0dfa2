/* shm_open + ftruncate + mmap(MAP_SHARED) after fork: the child writes through its mapping, the parent reads the
 * same object (dev, ino) through its own. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  char name[64];
  snprintf(name, sizeof name, "/ipcscope-t-hk-shm-%d", (int)getpid());
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return 1;
  if (ftruncate(fd, 8192) != 0) return 2;
  pid_t c = fork();
  if (c == 0) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) _exit(10);
    strcpy(p, "written by the child");
    msync(p, 8192, MS_SYNC);
    munmap(p, 8192);
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 3;
  char *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 4;
  int ok = strcmp(p, "written by the child") == 0;
  munmap(p, 8192);
  close(fd);
  shm_unlink(name);
  return ok ? 0 : 5;
}
