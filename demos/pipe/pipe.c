/* pipe.c — parent -> child through one anonymous pipe (the notes' C example): the parent writes three messages,
 * closes its write end, and the child reads until read() returns 0 (EOF). */
#include "demo.h"
#include <sys/wait.h>

#define BUFFER_SIZE 256

int main(void) {
  int pipefd[2]; /* pipefd[0]: read end, pipefd[1]: write end */
  CHECK(pipe(pipefd));
  pid_t pid = fork();
  if (pid == -1) die("fork");

  if (pid == 0) {
    CHECK(close(pipefd[1])); /* the child only reads: close its copy of the write end, or it never sees EOF */
    char buffer[BUFFER_SIZE];
    ssize_t n;
    while ((n = read(pipefd[0], buffer, sizeof buffer)) > 0)
      printf("Child received: %.*s", (int)n, buffer);
    if (n == -1) die("read");
    printf("Child: EOF (every write end is closed)\n");
    CHECK(close(pipefd[0]));
    fflush(stdout);
    _exit(EXIT_SUCCESS);
  }

  CHECK(close(pipefd[0])); /* the parent only writes */
  const char *messages[] = { "Hello from parent!\n", "This is IPC via pipe.\n", "Goodbye!\n" };
  for (int i = 0; i < 3; i++) {
    write_all(pipefd[1], messages[i], strlen(messages[i])); /* the notes ignored short writes and errors */
    sleep_ms(100);
  }
  CHECK(close(pipefd[1])); /* <- the last write end closes: the child's read returns 0 */
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
