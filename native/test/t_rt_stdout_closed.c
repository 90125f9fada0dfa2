/* stdout closed before start: the shim's own fds must not take fd 1 (the program's next open would get it and
 * its output would land in the shim's stream, or the shim's stream in the program's file). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    close(1);
    execl("/proc/self/exe", argv[0], "again", (char *)NULL);
    return 10;
  }
  /* The exec'd image started with fd 1 closed: the lowest free fd is still 1. */
  int fd = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd != 1) { dprintf(2, "open gave %d\n", fd); return 11; }
  if (write(1, "mine\n", 5) != 5) return 12;
  close(1);
  char buf[16] = {0};
  fd = open("out.txt", O_RDONLY);
  if (read(fd, buf, sizeof buf) != 5 || strcmp(buf, "mine\n")) return 13;
  return 0;
}
