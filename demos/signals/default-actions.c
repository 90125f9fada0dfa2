/* default-actions.c — what SIGINT, SIGTERM and SIGKILL do by default (terminate), what a SIGINT handler changes,
 * and that SIGKILL cannot be caught. Four children wait in pause(); the parent signals each and reports how it ended. */
#include "demo.h"
#include <signal.h>
#include <sys/wait.h>

static void on_int(int sig) {
  (void)sig;
  static const char msg[] = "child: caught SIGINT, exiting normally instead of being killed\n";
  ssize_t n = write(STDOUT_FILENO, msg, sizeof msg - 1);
  (void)n;
  _exit(0);
}

static pid_t spawn_waiter(int with_handler, int ready_fd) {
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    if (with_handler) {
      struct sigaction sa = { 0 };
      sa.sa_handler = on_int;
      sigemptyset(&sa.sa_mask);
      CHECK(sigaction(SIGINT, &sa, NULL));
      /* SIGKILL's action cannot be changed: the kernel refuses with EINVAL. */
      if (sigaction(SIGKILL, &sa, NULL) == -1 && errno == EINVAL)
        printf("child: sigaction(SIGKILL) refused: %s\n", strerror(errno));
      fflush(stdout);
    }
    write_all(ready_fd, "r", 1); /* tell the parent the handler is in place */
    for (;;) pause();
  }
  return pid;
}

static void report(const char *what, pid_t pid) {
  int status;
  CHECK(waitpid(pid, &status, 0));
  if (WIFSIGNALED(status)) printf("%-26s -> killed by signal %d (%s)\n", what, WTERMSIG(status), strsignal(WTERMSIG(status)));
  else printf("%-26s -> exited with status %d\n", what, WEXITSTATUS(status));
  fflush(stdout);
}

int main(void) {
  struct { const char *what; int sig; int handler; } cases[] = {
    { "SIGINT, default action", SIGINT, 0 },
    { "SIGTERM, default action", SIGTERM, 0 },
    { "SIGKILL, default action", SIGKILL, 0 },
    { "SIGINT, with a handler", SIGINT, 1 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int ready[2];
    CHECK(pipe(ready));
    pid_t pid = spawn_waiter(cases[i].handler, ready[1]);
    CHECK(close(ready[1]));
    char c;
    if (read(ready[0], &c, 1) != 1) die("read ready");
    CHECK(close(ready[0]));
    CHECK(kill(pid, cases[i].sig));
    report(cases[i].what, pid);
  }
  return 0;
}
