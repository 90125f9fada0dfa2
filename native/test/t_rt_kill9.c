/* SIGKILL, from outside and of itself: the events made before it are not lost. A child makes a marker event,
 * tells the parent, and is killed 50 ms later (the shim flushes every millisecond); then the parent makes its own
 * marker and kills itself (the shim flushes before delivering a fatal signal to itself). */
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static void marker(int how) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGURG);
  sigprocmask(how, &s, NULL);
}
int main(void) {
  int p[2];
  if (pipe(p)) return 10;
  pid_t pid = fork();
  if (pid == 0) {
    marker(SIG_UNBLOCK);
    (void)!write(p[1], "x", 1);
    for (;;) pause();
  }
  char c;
  if (read(p[0], &c, 1) != 1) return 11;
  struct timespec ts = {0, 50000000}; /* 50 ms: the sender flushes every ms, but a loaded 2-core machine can delay a thread for more */
  nanosleep(&ts, NULL);
  kill(pid, SIGKILL);
  int st;
  waitpid(pid, &st, 0);
  if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) return 12;
  marker(SIG_SETMASK);
  kill(getpid(), SIGKILL);
  return 13;
}
