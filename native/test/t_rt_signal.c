/* SIGUSR1 from a child to its parent's SA_SIGINFO handler: the delivery is a signal_handler span with the sender's
 * pid, calls inside the handler carry the in-signal-handler flag, and reading the old action back gives the
 * program's handler, not the shim's trampoline. Also signal() and a fatal SIGSEGV-free path (handler restored). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got_pid;
static void on_usr1(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  got_pid = si->si_pid;
  (void)!write(1, "handled\n", 8);
}
static void on_usr2(int sig) { (void)sig; }

int main(void) {
  struct sigaction a, old;
  memset(&a, 0, sizeof a);
  a.sa_sigaction = on_usr1;
  a.sa_flags = SA_SIGINFO;
  sigemptyset(&a.sa_mask);
  if (sigaction(SIGUSR1, &a, NULL)) return 10;
  if (sigaction(SIGUSR1, NULL, &old) || old.sa_sigaction != on_usr1 || !(old.sa_flags & SA_SIGINFO)) return 11;
  if (signal(SIGUSR2, on_usr2) != SIG_DFL) return 12;
  if (signal(SIGUSR2, SIG_DFL) != on_usr2) return 13;
  /* SIGSEGV is the shim's (fatal handler) underneath, but the program must see SIG_DFL. */
  if (sigaction(SIGSEGV, NULL, &old) || old.sa_handler != SIG_DFL) return 14;

  sigset_t block, orig;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &orig);
  pid_t child = fork();
  if (child == 0) {
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  while (!got_pid) sigsuspend(&orig);
  int st;
  waitpid(child, &st, 0);
  if (got_pid != child) return 15;
  /* SA_RESETHAND: after one delivery the program's view is SIG_DFL again, as the kernel's is. */
  memset(&a, 0, sizeof a);
  a.sa_handler = on_usr2;
  a.sa_flags = SA_RESETHAND;
  if (sigaction(SIGUSR2, &a, NULL)) return 16;
  raise(SIGUSR2);
  if (sigaction(SIGUSR2, NULL, &old) || old.sa_handler != SIG_DFL) return 17;
  printf("sender %d\n", (int)got_pid);
  return 0;
}
