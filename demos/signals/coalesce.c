/* coalesce.c — standard signals do not queue: five SIGUSR1 sent while blocked are delivered once; five real-time
 * signals (SIGRTMIN) sent the same way are delivered five times. */
#include "demo.h"
#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t usr1, rtmin;
static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_rtmin(int sig) { (void)sig; rtmin++; }

int main(void) {
  struct sigaction sa = { 0 };
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_usr1;
  CHECK(sigaction(SIGUSR1, &sa, NULL));
  sa.sa_handler = on_rtmin;
  CHECK(sigaction(SIGRTMIN, &sa, NULL));

  sigset_t both;
  sigemptyset(&both);
  sigaddset(&both, SIGUSR1);
  sigaddset(&both, SIGRTMIN);
  CHECK(sigprocmask(SIG_BLOCK, &both, NULL)); /* inherited by the child: it starts with both blocked */

  int done[2];
  CHECK(pipe(done));
  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    CHECK(close(done[1]));
    char c;
    if (read(done[0], &c, 1) != 1) die("read"); /* wait until the parent has sent everything */
    CHECK(sigprocmask(SIG_UNBLOCK, &both, NULL)); /* <- pending signals are delivered here */
    printf("child: 5 SIGUSR1 sent -> handler ran %d time(s); 5 SIGRTMIN sent -> handler ran %d time(s)\n", (int)usr1, (int)rtmin);
    fflush(stdout); /* _exit does not flush stdio */
    _exit(usr1 == 1 && rtmin == 5 ? 0 : 1);
  }
  CHECK(close(done[0]));
  for (int i = 0; i < 5; i++) CHECK(kill(pid, SIGUSR1));
  for (int i = 0; i < 5; i++) {
    union sigval v = { .sival_int = i };
    CHECK(sigqueue(pid, SIGRTMIN, v));
  }
  write_all(done[1], "g", 1);
  CHECK(close(done[1]));
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
