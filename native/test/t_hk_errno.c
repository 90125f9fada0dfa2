/* errno across traced calls: a call that succeeds leaves errno as the program set it (the hooks' own work, an fd
 * the table has not seen, a Unix peer looked up again, keeps it), and a call that fails sets the real call's errno.
 * The exit status names the first check that failed. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define MARK 4321 /* no errno value: only our own assignment puts it there */

int main(void) {
  char buf[64];
  int p[2];
  if (pipe(p) != 0) return 1;
  errno = MARK;
  if (write(p[1], "hello", 5) != 5 || errno != MARK) return 2;
  if (read(p[0], buf, sizeof buf) != 5 || errno != MARK) return 3;
  struct iovec v[2] = {{"ab", 2}, {"cd", 2}};
  if (writev(p[1], v, 2) != 4 || errno != MARK) return 4;
  struct iovec rv[1] = {{buf, sizeof buf}};
  if (readv(p[0], rv, 1) != 4 || errno != MARK) return 5;
  /* A pipe the shim did not see made (a raw system call): its first write fills the fd table (fstat, fcntl). */
  int q[2];
  if (syscall(SYS_pipe2, q, 0) != 0) return 6;
  errno = MARK;
  if (write(q[1], "x", 1) != 1 || errno != MARK) return 7;
  /* A connect()ed Unix socket whose server has not accepted yet: no peer known, looked up again after the send. */
  int srv = socket(AF_UNIX, SOCK_STREAM, 0), cli = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path + 1, "ipcscope-errno-test"); /* abstract: nothing to clean up */
  socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen("ipcscope-errno-test"));
  if (srv < 0 || cli < 0 || bind(srv, (struct sockaddr *)&a, al) != 0 || listen(srv, 1) != 0) return 8;
  if (connect(cli, (struct sockaddr *)&a, al) != 0) return 9;
  errno = MARK;
  if (send(cli, "ping", 4, 0) != 4 || errno != MARK) return 10;
  int c = accept(srv, NULL, NULL);
  if (c < 0) return 11;
  errno = MARK;
  if (recv(c, buf, sizeof buf, 0) != 4 || errno != MARK) return 12;
  /* Failures: the real call's errno. */
  errno = MARK;
  if (read(-1, buf, 1) != -1 || errno != EBADF) return 13;
  signal(SIGPIPE, SIG_IGN);
  close(p[0]);
  errno = MARK;
  if (write(p[1], "x", 1) != -1 || errno != EPIPE) return 14;
  errno = MARK;
  if (recv(cli, buf, sizeof buf, MSG_DONTWAIT) != -1 || errno != EAGAIN) return 15;
  return 0;
}
