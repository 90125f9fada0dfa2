/* Deferred begins (native/src/runtime.c, "deferred begins"): a read or write that returns at once reaches the ring as
 * one combined record which the sender expands into its begin and end; one that waits has its begin sent on its own
 * (claimed by the sender at its next round, or appended by a signal handler's call nested in it). Whichever way each
 * call went, the events must be what they always were:
 *   1. 2000 write/read pairs of 7 bytes on a pipe with room and data, 100 writev/readv pairs of 4 + 5 bytes, and 500
 *      send/recv pairs of 11 bytes on a Unix socketpair;
 *   2. a read of 33 bytes blocked on an empty pipe until a child writes 300 ms later: its begin is stamped when it
 *      started, before the child's write;
 *   3. 20 reads of 44 bytes blocked on an empty pipe until a SIGALRM handler (a 200 us timer) writes 5 bytes to
 *      another pipe and then the 44 the read waits for: the handler's writes carry the in-signal-handler flag, the
 *      interrupted read's begin and end do not. */
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int p3[2], p4[2];
static void on_alarm(int sig) {
  (void)sig;
  static const char b44[44] = "released by the handler";
  (void)!write(p4[1], "alarm", 5);
  (void)!write(p3[1], b44, sizeof b44);
}

int main(void) {
  int p[2];
  char buf[64];
  if (pipe(p)) return 10;
  for (int i = 0; i < 2000; i++)
    if (write(p[1], "seven!!", 7) != 7 || read(p[0], buf, 7) != 7) return 11;
  for (int i = 0; i < 100; i++) {
    struct iovec w[2] = {{"four", 4}, {"five5", 5}}, r[2] = {{buf, 4}, {buf + 4, 5}};
    if (writev(p[1], w, 2) != 9 || readv(p[0], r, 2) != 9) return 12;
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) return 20;
  for (int i = 0; i < 500; i++)
    if (send(sv[0], "eleven byte", 11, 0) != 11 || recv(sv[1], buf, 11, 0) != 11) return 21;

  pid_t child = fork();
  if (child == 0) {
    usleep(300000);
    _exit(write(p[1], "thirty-three bytes from the child", 33) == 33 ? 0 : 1);
  }
  if (read(p[0], buf, 33) != 33) return 13;
  int st;
  if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)) return 14;

  if (pipe(p3) || pipe(p4)) return 15;
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = on_alarm;
  a.sa_flags = SA_RESTART;
  if (sigaction(SIGALRM, &a, NULL)) return 16;
  for (int i = 0; i < 20; i++) {
    struct itimerval t = {{0, 0}, {0, 200}};
    if (setitimer(ITIMER_REAL, &t, NULL)) return 17;
    if (read(p3[0], buf, 44) != 44) return 18;
    if (read(p4[0], buf, 5) != 5) return 19;
  }
  return 0;
}
