/* The websocket path end to end against a real `ws` server: HELLO/WELCOME, events, a snapshot COMMAND answered
 * with a REPLY after its events, a fork child on its own connection, BYE on both. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  sigset_t s;
  sigemptyset(&s);
  for (int i = 0; i < 1000; i++) sigprocmask(SIG_BLOCK, &s, NULL);
  struct timespec ts = {0, 100000000}; /* the command arrives meanwhile */
  nanosleep(&ts, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 10; i++) sigprocmask(SIG_BLOCK, &s, NULL);
    _exit(4);
  }
  int st;
  waitpid(pid, &st, 0);
  return WEXITSTATUS(st) == 4 ? 0 : 1;
}
