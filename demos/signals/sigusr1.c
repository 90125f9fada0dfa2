/* sigusr1.c — a SIGUSR1 handler: the child sends its parent SIGUSR1 three times; the parent's handler runs once per
 * signal (they are spaced out, so none coalesce) and the parent prints how many it got.
 * A signal carries no data: the only message is "it happened". */
#include "demo.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t received; /* only async-signal-safe work in the handler: bump a counter */

static void on_usr1(int sig) {
  (void)sig;
  received++;
}

int main(void) {
  struct sigaction sa = { 0 };
  sa.sa_handler = on_usr1; /* <- the handler replaces SIGUSR1's default action (terminate) */
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, NULL));

  /* Block SIGUSR1 outside sigsuspend, so a signal cannot slip in between the check and the wait. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  CHECK(sigprocmask(SIG_BLOCK, &block, &old));

  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    for (int i = 0; i < 3; i++) {
      sleep_ms(50);
      CHECK(kill(getppid(), SIGUSR1));
    }
    _exit(0);
  }
  while (received < 3) sigsuspend(&old); /* wait with SIGUSR1 unblocked */
  int status;
  CHECK(waitpid(pid, &status, 0));
  printf("parent: handler ran %d times for 3 SIGUSR1\n", (int)received);
  return 0;
}
