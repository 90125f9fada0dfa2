/* A pipe parent → child carrying 3 fixed-size messages: both ends share one (dev, ino), byte counts and previews. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int p[2];
  if (pipe(p) != 0) return 1;
  pid_t c = fork();
  if (c < 0) return 2;
  if (c == 0) {
    close(p[1]);
    char buf[6];
    for (int i = 0; i < 3; i++)
      if (read(p[0], buf, sizeof buf) != 6) _exit(3);
    if (read(p[0], buf, sizeof buf) != 0) _exit(4); /* EOF after the writer closed */
    _exit(0);
  }
  close(p[0]);
  const char *msgs[] = {"msg-1:", "msg-2:", "msg-3:"};
  for (int i = 0; i < 3; i++)
    if (write(p[1], msgs[i], 6) != 6) return 5;
  close(p[1]);
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 6;
  return 0;
}
