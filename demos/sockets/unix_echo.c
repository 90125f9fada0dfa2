/* unix_echo.c — a Unix domain socket echo: the parent is the server at a filesystem path, a forked child the
 * client. Fixed from the notes: listen() and send() are checked, short writes handled, the socket path is per-run
 * and removed on the way out. */
#include "demo.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static const char *messages[] = { "hello over AF_UNIX\n", "same machine, no TCP/IP\n", "bye\n" };

static void client(const char *path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd == -1) die("socket");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  CHECK(connect(fd, (struct sockaddr *)&addr, sizeof addr));
  long sent = 0, back = 0;
  for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
    size_t len = strlen(messages[i]);
    write_all(fd, messages[i], len);
    sent += (long)len;
    char buf[128];
    size_t got = 0;
    while (got < len) {
      ssize_t n = read(fd, buf + got, len - got);
      if (n <= 0) die("read echo");
      got += (size_t)n;
    }
    back += (long)got;
  }
  CHECK(close(fd));
  printf("client: %ld bytes sent, %ld echoed back\n", sent, back);
  fflush(stdout);
  _exit(sent == back ? 0 : 1);
}

int main(void) {
  char path[108];
  snprintf(path, sizeof path, "echo-%d.sock", (int)getpid());
  int server_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (server_fd == -1) die("socket");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  CHECK(bind(server_fd, (struct sockaddr *)&addr, sizeof addr));
  CHECK(listen(server_fd, 5));
  printf("Unix socket server listening at %s\n", path);
  fflush(stdout);

  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) client(path);

  int client_fd = accept(server_fd, NULL, NULL);
  if (client_fd == -1) die("accept");
  char buffer[256];
  ssize_t n;
  long total = 0;
  while ((n = recv(client_fd, buffer, sizeof buffer, 0)) > 0) {
    write_all(client_fd, buffer, (size_t)n);
    total += n;
  }
  if (n == -1) die("recv");
  CHECK(close(client_fd));
  CHECK(close(server_fd));
  CHECK(unlink(path));
  int status;
  CHECK(waitpid(pid, &status, 0));
  printf("server: echoed %ld bytes\n", total);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
