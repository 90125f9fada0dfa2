/* TCP echo on 127.0.0.1 between a server (parent) and a client (child): connect and accept carry
 * "local|remote" address text that mirror each other. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4) != 0) return 1;
  socklen_t al = sizeof a;
  if (getsockname(l, (struct sockaddr *)&a, &al) != 0) return 2;
  pid_t c = fork();
  if (c == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) _exit(10);
    if (send(s, "hello tcp", 9, 0) != 9) _exit(11);
    char buf[16];
    ssize_t got = 0, n;
    while (got < 9 && (n = recv(s, buf + got, sizeof buf - (size_t)got, 0)) > 0) got += n;
    if (got != 9 || memcmp(buf, "hello tcp", 9) != 0) _exit(12);
    close(s);
    _exit(0);
  }
  int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  if (s < 0) return 3;
  char buf[16];
  ssize_t got = 0, n;
  while (got < 9 && (n = recv(s, buf + got, sizeof buf - (size_t)got, 0)) > 0) got += n;
  if (got != 9 || send(s, buf, 9, 0) != 9) return 4;
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 5;
  close(s);
  close(l);
  return 0;
}
