/* POSIX message queue with priorities: the parent sends prio 1, 5, 3 before the child reads; the child receives
 * them highest priority first (5, 3, 1). Both sides' mqd refer to one queue (dev, ino). */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  char name[64];
  snprintf(name, sizeof name, "/ipcscope-t-hk-mq-%d", (int)getpid());
  struct mq_attr a = {.mq_maxmsg = 8, .mq_msgsize = 32};
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
  if (q == (mqd_t)-1) return 1;
  if (mq_send(q, "low", 3, 1) || mq_send(q, "high", 4, 5) || mq_send(q, "mid", 3, 3)) return 2;
  pid_t c = fork();
  if (c == 0) {
    mqd_t r = mq_open(name, O_RDONLY);
    if (r == (mqd_t)-1) _exit(10);
    const unsigned want[] = {5, 3, 1};
    for (int i = 0; i < 3; i++) {
      char buf[32];
      unsigned prio = 0;
      if (mq_receive(r, buf, sizeof buf, &prio) < 0 || prio != want[i]) _exit(11 + i);
    }
    mq_close(r);
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 3;
  mq_close(q);
  return mq_unlink(name) == 0 ? 0 : 4;
}
