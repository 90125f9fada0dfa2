/* scm_rights.c — passing an open file descriptor to another process with SCM_RIGHTS over a Unix socket. The child
 * opens a file and sends the fd; the parent receives a new fd for the same open file and reads from it. */
#include "demo.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>

static void send_fd(int sock, int fd) {
  char byte = 'F';
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS; /* <- the kernel installs a copy of fd in the receiver */
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  CHECK(sendmsg(sock, &msg, 0));
}

static int recv_fd(int sock) {
  char byte;
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } ctl;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
  ssize_t n = recvmsg(sock, &msg, 0);
  if (n != 1) die("recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd received\n"); exit(1); }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int main(void) {
  char path[64];
  snprintf(path, sizeof path, "passed-%d.txt", (int)getpid());
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    CHECK(close(sv[0]));
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd == -1) die("open");
    write_all(fd, "written by the child, read by the parent\n", 41);
    CHECK(lseek(fd, 0, SEEK_SET));
    send_fd(sv[1], fd);
    printf("child: sent fd %d\n", fd);
    fflush(stdout);
    CHECK(close(fd));
    CHECK(close(sv[1]));
    _exit(0);
  }
  CHECK(close(sv[1]));
  int fd = recv_fd(sv[0]);
  char buf[64];
  ssize_t n = read(fd, buf, sizeof buf - 1); /* the same open file: same offset, same contents */
  if (n < 0) die("read");
  buf[n] = '\0';
  printf("parent: received fd %d, read: %s", fd, buf);
  CHECK(close(fd));
  CHECK(close(sv[0]));
  CHECK(unlink(path));
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
