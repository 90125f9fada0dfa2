/* A fatal signal the program does not handle (SIGSEGV here, SIGABRT via abort() and an external SIGTERM in fork
 * children): the shim reports fatal_signal and proc_exit, flushes, and the process still dies of that signal.
 * The SIGTERM'd child's last event is there although the parent kills it the moment it hears from it. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t pid = fork();
  if (pid == 0) abort();
  int st;
  waitpid(pid, &st, 0);
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT) return 10;

  int p[2];
  if (pipe(p)) return 12;
  pid = fork();
  if (pid == 0) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGWINCH);
    sigprocmask(SIG_UNBLOCK, &s, NULL); /* the marker */
    (void)!write(p[1], "x", 1);
    for (;;) pause();
  }
  char c;
  if (read(p[0], &c, 1) != 1) return 13;
  kill(pid, SIGTERM);
  waitpid(pid, &st, 0);
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM) return 14;
  struct sigaction old;
  if (sigaction(SIGTERM, NULL, &old) || old.sa_handler != SIG_DFL) return 15; /* the program's view */

  volatile int *bad = (int *)16;
  *bad = 1;
  return 11;
}
