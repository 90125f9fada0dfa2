/* Unix stream socket echo between a server (parent) and a client (child): accept records the client's socket
 * inode as peerIno (sock_diag), and reads/writes on each side name the other end as their peer. */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, "echo.sock");
  unlink(a.sun_path);
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) _exit(10);
    if (send(s, "ping", 4, 0) != 4) _exit(11);
    char buf[8];
    if (recv(s, buf, sizeof buf, 0) != 4 || memcmp(buf, "ping", 4) != 0) _exit(12);
    close(s);
    _exit(0);
  }
  int s = accept(l, NULL, NULL);
  if (s < 0) return 2;
  char buf[8];
  ssize_t n = read(s, buf, sizeof buf);
  if (n != 4 || write(s, buf, 4) != 4) return 3;
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 4;
  close(s);
  close(l);
  unlink(a.sun_path);
  return 0;
}
