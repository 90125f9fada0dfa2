/* debug test target: a child sends SIGUSR1 to its parent, whose handler writes one line. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_usr1(int sig) {
  (void)sig;
  got = 1;
  write(1, "handler: got SIGUSR1\n", 21);
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    kill(getppid(), SIGUSR1);
    _exit(0);
  }
  while (!got) usleep(1000);
  waitpid(pid, NULL, 0);
  return 0;
}
