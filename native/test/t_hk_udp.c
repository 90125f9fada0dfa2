/* UDP on 127.0.0.1: sendto/recvfrom carry packed IPv4 addresses as peer ((port << 32) | addr | 1 << 48), a
 * connect()ed socket's send names its default destination, and sendmmsg/recvmmsg move two datagrams in one call. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(47001)};
  struct sockaddr_in sb = {.sin_family = AF_INET, .sin_port = htons(47002)};
  sa.sin_addr.s_addr = sb.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (a < 0 || b < 0 || bind(a, (struct sockaddr *)&sa, sizeof sa) != 0 || bind(b, (struct sockaddr *)&sb, sizeof sb) != 0)
    return 1;
  if (sendto(a, "to b", 4, 0, (struct sockaddr *)&sb, sizeof sb) != 4) return 2;
  char buf[16];
  if (recvfrom(b, buf, sizeof buf, 0, NULL, NULL) != 4) return 3;
  if (connect(b, (struct sockaddr *)&sa, sizeof sa) != 0 || send(b, "to a", 4, 0) != 4) return 4;
  if (recv(a, buf, sizeof buf, 0) != 4) return 5;
  struct iovec io[2] = {{"one", 3}, {"two!", 4}};
  struct mmsghdr out[2] = {{.msg_hdr = {.msg_name = &sb, .msg_namelen = sizeof sb, .msg_iov = &io[0], .msg_iovlen = 1}},
                           {.msg_hdr = {.msg_name = &sb, .msg_namelen = sizeof sb, .msg_iov = &io[1], .msg_iovlen = 1}}};
  if (sendmmsg(a, out, 2, 0) != 2) return 6;
  char r1[8], r2[8];
  struct iovec ri[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
  struct sockaddr_in from[2];
  struct mmsghdr in[2] = {{.msg_hdr = {.msg_name = &from[0], .msg_namelen = sizeof from[0], .msg_iov = &ri[0], .msg_iovlen = 1}},
                          {.msg_hdr = {.msg_name = &from[1], .msg_namelen = sizeof from[1], .msg_iov = &ri[1], .msg_iovlen = 1}}};
  int got = 0;
  while (got < 2) {
    int n = recvmmsg(b, in + got, 2 - (unsigned)got, 0, NULL);
    if (n <= 0) return 7;
    got += n;
  }
  return memcmp(r1, "one", 3) == 0 && memcmp(r2, "two!", 4) == 0 ? 0 : 8;
}
