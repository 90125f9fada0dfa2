/* A FIFO between two unrelated processes (two fresh exec'd images that share no fds): every opener sees the same
 * (dev, ino); the writer's bytes reach the reader. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn(const char *role) {
  pid_t c = fork();
  if (c == 0) {
    execl("/proc/self/exe", "t_hk_fifo", role, (char *)NULL);
    _exit(127);
  }
  return c;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "writer") == 0) {
    int fd = open("chan.fifo", O_WRONLY);
    if (fd < 0) return 10;
    if (write(fd, "through the fifo", 16) != 16) return 11;
    return close(fd) == 0 ? 0 : 12;
  }
  if (argc > 1 && strcmp(argv[1], "reader") == 0) {
    int fd = open("chan.fifo", O_RDONLY);
    if (fd < 0) return 20;
    char buf[64];
    ssize_t n, total = 0;
    while ((n = read(fd, buf + total, sizeof buf - (size_t)total)) > 0) total += n;
    if (total != 16 || memcmp(buf, "through the fifo", 16) != 0) return 21;
    return close(fd) == 0 ? 0 : 22;
  }
  unlink("chan.fifo");
  if (mkfifo("chan.fifo", 0600) != 0) return 1;
  pid_t r = spawn("reader"), w = spawn("writer");
  int st, ok = 1;
  if (waitpid(r, &st, 0) != r || !WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
  if (waitpid(w, &st, 0) != w || !WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
  unlink("chan.fifo");
  return ok ? 0 : 3;
}
