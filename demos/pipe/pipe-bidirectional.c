/* pipe-bidirectional.c — two pipes for a two-way exchange: the parent sends 42, the child answers 84. */
#include "demo.h"
#include <sys/wait.h>

/* Read exactly one NUL-terminated message (the notes' single read() could return a partial message). */
static void read_message(int fd, char *buf, size_t size) {
  size_t used = 0;
  while (used < size) {
    ssize_t n = read(fd, buf + used, 1);
    if (n == -1) { if (errno == EINTR) continue; die("read"); }
    if (n == 0) { fprintf(stderr, "unexpected EOF\n"); exit(EXIT_FAILURE); }
    if (buf[used++] == '\0') return;
  }
  fprintf(stderr, "message too long\n");
  exit(EXIT_FAILURE);
}

int main(void) {
  int parent_to_child[2], child_to_parent[2];
  CHECK(pipe(parent_to_child)); /* the notes did not check either pipe() */
  CHECK(pipe(child_to_parent));
  pid_t pid = fork();
  if (pid == -1) die("fork");

  if (pid == 0) {
    CHECK(close(parent_to_child[1]));
    CHECK(close(child_to_parent[0]));
    char buffer[32];
    read_message(parent_to_child[0], buffer, sizeof buffer);
    int num = atoi(buffer);
    printf("Child: Received %d, sending back %d\n", num, num * 2);
    fflush(stdout);
    int len = snprintf(buffer, sizeof buffer, "%d", num * 2); /* snprintf: the notes used sprintf */
    write_all(child_to_parent[1], buffer, (size_t)len + 1);
    CHECK(close(parent_to_child[0]));
    CHECK(close(child_to_parent[1]));
    _exit(0);
  }

  CHECK(close(parent_to_child[0]));
  CHECK(close(child_to_parent[1]));
  char buffer[32];
  int len = snprintf(buffer, sizeof buffer, "%d", 42);
  write_all(parent_to_child[1], buffer, (size_t)len + 1);
  read_message(child_to_parent[0], buffer, sizeof buffer);
  printf("Parent: Received result: %s\n", buffer);
  CHECK(close(parent_to_child[1]));
  CHECK(close(child_to_parent[0]));
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 && atoi(buffer) == 84 ? 0 : 1;
}
