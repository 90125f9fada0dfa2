/* Appends nested by signal handlers on the same thread (the ring's reservation takes no lock): a 20 kHz SIGALRM
 * handler traces exactly 2000 sigprocmask calls of its own while the main loop traces 200000 and more. Every record
 * must decode, every event of both must be there (a lost reservation race would overwrite the handler's), none
 * dropped, and the handler's marked as in a handler. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_alrm(int sig) {
  (void)sig;
  if (handled >= 2000) return;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGURG);
  sigprocmask(SIG_UNBLOCK, &s, NULL);
  if (++handled == 2000) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
  }
}
int main(void) {
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = on_alrm;
  a.sa_flags = SA_RESTART;
  if (sigaction(SIGALRM, &a, NULL)) return 10;
  struct itimerval it = {{0, 50}, {0, 50}};
  if (setitimer(ITIMER_REAL, &it, NULL)) return 11;
  sigset_t e;
  sigemptyset(&e);
  for (int i = 0; i < 200000 || handled < 2000; i++) sigprocmask(SIG_BLOCK, &e, NULL);
  return 0;
}
