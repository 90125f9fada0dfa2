/* tcp_echo_server.c — TCP echo server on loopback. Serves one client, echoing every byte back, then exits.
 * Fixed from the notes: bound to 127.0.0.1 (not INADDR_ANY: no need to expose a demo to the network) on a port the
 * kernel picks, written to a file for the client (the fixed 8080 collides); send() handles short writes; the
 * "quit" test no longer depends on how TCP split the stream; the server stops instead of looping forever.
 * Usage: tcp_echo_server PORT_FILE */
#include "demo.h"
#include <arpa/inet.h>
#include <sys/socket.h>

#define BUFFER_SIZE 1024

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s PORT_FILE\n", argv[0]); return 2; }
  int server_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (server_fd == -1) die("socket");
  int opt = 1;
  CHECK(setsockopt(server_fd, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof opt));
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(server_fd, (struct sockaddr *)&addr, sizeof addr));
  CHECK(listen(server_fd, 5));
  socklen_t len = sizeof addr;
  CHECK(getsockname(server_fd, (struct sockaddr *)&addr, &len));

  /* Publish the port atomically: write a temporary file, then rename it into place. */
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE *f = fopen(tmp, "w");
  if (!f) die("fopen");
  fprintf(f, "%d\n", ntohs(addr.sin_port));
  if (fclose(f) != 0) die("fclose");
  CHECK(rename(tmp, argv[1]));
  printf("Server listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
  fflush(stdout);

  struct sockaddr_in client_addr;
  socklen_t client_len = sizeof client_addr;
  int client_fd = accept(server_fd, (struct sockaddr *)&client_addr, &client_len);
  if (client_fd == -1) die("accept");
  printf("Client connected: %s:%d\n", inet_ntoa(client_addr.sin_addr), ntohs(client_addr.sin_port));

  char buffer[BUFFER_SIZE];
  ssize_t n;
  long total = 0;
  while ((n = recv(client_fd, buffer, sizeof buffer, 0)) > 0) {
    write_all(client_fd, buffer, (size_t)n); /* <- echo: every byte in goes back out */
    total += n;
  }
  if (n == -1) die("recv");
  CHECK(close(client_fd));
  CHECK(close(server_fd));
  printf("Client disconnected after %ld bytes echoed.\n", total);
  return 0;
}
