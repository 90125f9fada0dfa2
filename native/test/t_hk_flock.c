/* flock held by the parent while a child waits for it: the waiter's begin comes before the holder's unlock, its
 * end after. The child opens the file itself (its own open file description), so the locks really conflict. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blocked_in.h"

int main(void) {
  int fd = open("lockfile", O_CREAT | O_RDWR, 0600);
  if (fd < 0) return 1;
  if (flock(fd, LOCK_EX) != 0) return 2;
  int ready[2];
  if (pipe(ready) != 0) return 3;
  pid_t c = fork();
  if (c == 0) {
    int mine = open("lockfile", O_RDWR);
    if (mine < 0) _exit(10);
    if (write(ready[1], "w", 1) != 1) _exit(11);
    if (flock(mine, LOCK_EX) != 0) _exit(12); /* blocks until the parent unlocks */
    flock(mine, LOCK_UN);
    _exit(0);
  }
  char b;
  if (read(ready[0], &b, 1) != 1) return 4;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)c);
  if (!blocked_in(path, SYS_flock, SYS_flock)) return 7; /* the child waits for our lock */
  if (flock(fd, LOCK_UN) != 0) return 5;
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 6;
  close(fd);
  return 0;
}
