/* socketpair between parent and child; the parent passes one end of a pipe over it with SCM_RIGHTS, the child
 * writes through the received fd and the parent reads it. fd_pass send and recv name the same (dev, ino). */
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int sv[2], p[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(p) != 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    close(sv[0]);
    char b[4];
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec io = {b, sizeof b};
    struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    if (recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC) != 1) _exit(10);
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    if (!h || h->cmsg_type != SCM_RIGHTS) _exit(11);
    int fd;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    if (write(fd, "via SCM_RIGHTS", 14) != 14) _exit(12);
    _exit(0);
  }
  close(sv[1]);
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
  memset(&u, 0, sizeof u);
  struct iovec io = {"F", 1};
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(h), &p[1], sizeof(int));
  if (sendmsg(sv[0], &m, 0) != 1) return 2;
  close(p[1]);
  char buf[32];
  ssize_t got = 0, n;
  while ((n = read(p[0], buf + got, sizeof buf - (size_t)got)) > 0) got += n;
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 3;
  return got == 14 && memcmp(buf, "via SCM_RIGHTS", 14) == 0 ? 0 : 4;
}
