/* Built with _FORTIFY_SOURCE=2 (as Debian builds its packages): read, pread, recv, recvfrom and poll on buffers of
 * known size become __read_chk, __pread_chk, __recv_chk, __recvfrom_chk and __poll_chk, which are hooked too. */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  int p[2], sv[2];
  if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0) return 1;
  if (write(p[1], "fortified", 9) != 9 || send(sv[0], "dgram1", 6, 0) != 6 || send(sv[0], "dgram2", 6, 0) != 6)
    return 2;
  struct pollfd pf[1] = {{.fd = p[0], .events = POLLIN}};
  volatile nfds_t one = 1;
  if (poll(pf, one, 1000) != 1) return 3;
  char buf[16];
  volatile size_t cap = sizeof buf; /* not a compile-time constant: the checking variants are used */
  if (read(p[0], buf, cap) != 9) return 4;
  if (recv(sv[1], buf, cap, 0) != 6) return 5;
  if (recvfrom(sv[1], buf, cap, 0, NULL, NULL) != 6) return 6;
  int fd = open("f.txt", O_CREAT | O_RDWR | O_TRUNC, 0600);
  if (fd < 0 || write(fd, "0123456789", 10) != 10) return 7;
  if (pread(fd, buf, cap, 4) != 6) return 8;
  return 0;
}
