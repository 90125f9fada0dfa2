/* A fatal signal the program does not handle (SIGSEGV here, SIGABRT via abort() in a fork child): the shim
 * reports fatal_signal and proc_exit, flushes, and the process still dies of that signal. */
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
  volatile int *p = (int *)16;
  *p = 1;
  return 11;
}
