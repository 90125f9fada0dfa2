/* tcp_echo_client.c — connects to the echo server, sends each line of standard input, reads the same number of
 * bytes back (TCP is a byte stream: one recv may return part of a line, or more), and checks the echo matches.
 * Usage: tcp_echo_client PORT_FILE < lines */
#include "demo.h"
#include <arpa/inet.h>
#include <sys/socket.h>

#define BUFFER_SIZE 1024

static int read_port(const char *path) {
  for (int tries = 0; tries < 500; tries++) { /* the server writes the file once it listens */
    FILE *f = fopen(path, "r");
    if (f) {
      int port = 0;
      int ok = fscanf(f, "%d", &port) == 1;
      fclose(f);
      if (ok) return port;
    }
    sleep_ms(10);
  }
  fprintf(stderr, "no port in %s\n", path);
  exit(EXIT_FAILURE);
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s PORT_FILE\n", argv[0]); return 2; }
  int sock_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (sock_fd == -1) die("socket");
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)read_port(argv[1])) };
  if (inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr) != 1) die("inet_pton");
  CHECK(connect(sock_fd, (struct sockaddr *)&addr, sizeof addr));
  printf("Connected to server.\n");

  char line[BUFFER_SIZE], echo[BUFFER_SIZE];
  long sent = 0, received = 0;
  while (fgets(line, sizeof line, stdin) != NULL) {
    size_t len = strlen(line);
    write_all(sock_fd, line, len);
    sent += (long)len;
    size_t got = 0;
    while (got < len) { /* collect exactly len bytes of echo */
      ssize_t n = recv(sock_fd, echo + got, len - got, 0);
      if (n == -1) die("recv");
      if (n == 0) { fprintf(stderr, "server closed early\n"); return 1; }
      got += (size_t)n;
    }
    received += (long)got;
    if (memcmp(line, echo, len) != 0) { fprintf(stderr, "echo differs\n"); return 1; }
    printf("Echo: %.*s", (int)len, echo);
  }
  CHECK(shutdown(sock_fd, SHUT_WR)); /* tell the server we are done; it sees EOF */
  CHECK(close(sock_fd));
  printf("Disconnected: %ld bytes sent, %ld bytes echoed back.\n", sent, received);
  return sent == received ? 0 : 1;
}
