/* pipe-eof.c — EOF on a pipe arrives only when EVERY write end is closed.
 *   pipe-eof correct : the reader child closes its inherited copy of the write end, sees EOF after the data.
 *   pipe-eof bug     : the classic bug — the reader keeps its own copy of the write end open. The writer finishes
 *                      and closes, yet read() blocks forever, because the reader itself still holds a write end.
 *                      (A 1 s alarm ends the process here so the demo terminates; a real program would hang.) */
#include "demo.h"
#include <signal.h>
#include <sys/wait.h>

/* The bug's read() would block forever: after 1 s the alarm handler reports it and ends the process right there,
 * from inside the blocked read (write and _exit are async-signal-safe). */
static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "reader: NO EOF after 1 s: a write end is still open (in this very process)\n";
  ssize_t n = write(STDOUT_FILENO, msg, sizeof msg - 1);
  (void)n;
  _exit(3);
}

int main(int argc, char **argv) {
  int bug = argc > 1 && !strcmp(argv[1], "bug");
  if (argc > 1 && !bug && strcmp(argv[1], "correct")) { fprintf(stderr, "usage: %s [correct|bug]\n", argv[0]); return 2; }
  int fds[2];
  CHECK(pipe(fds));
  pid_t reader = fork();
  if (reader == -1) die("fork");
  if (reader == 0) {
    if (!bug) CHECK(close(fds[1])); /* <- the fix; the bug is forgetting this line */
    struct sigaction sa = { 0 };
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGALRM, &sa, NULL));
    alarm(1);
    char buf[64];
    size_t total = 0;
    for (;;) {
      ssize_t n = read(fds[0], buf, sizeof buf);
      if (n > 0) { total += (size_t)n; continue; }
      if (n == 0) { printf("reader: got %zu bytes, then EOF\n", total); fflush(stdout); _exit(0); }
      if (errno != EINTR) die("read");
    }
  }
  CHECK(close(fds[0]));
  write_all(fds[1], "all the data\n", 13);
  CHECK(close(fds[1])); /* the writer is done: its write end is closed either way */
  int status;
  CHECK(waitpid(reader, &status, 0));
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  printf("writer: reader exited with %d (%s)\n", code, code == 0 ? "saw EOF" : "never saw EOF");
  /* The demo succeeds when it shows what it should: EOF when correct, no EOF with the bug. */
  return (bug ? code == 3 : code == 0) ? 0 : 1;
}
