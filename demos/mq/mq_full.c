/* mq_full.c — a full queue blocks the sender: a queue of 2 messages, a sender of 5, and a receiver that starts
 * 300 ms late. The sender's third mq_send waits until the receiver makes room. */
#include "demo.h"
#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>

#define FULL_QUEUE demo_name("/ipcscope_demo_full")

int main(void) {
  struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = 32 };
  if (mq_unlink(FULL_QUEUE) == -1 && errno != ENOENT) die("mq_unlink");
  mqd_t mq = mq_open(FULL_QUEUE, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  if (mq == (mqd_t)-1) die("mq_open");

  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) { /* receiver */
    sleep_ms(300);
    char buf[32];
    for (int i = 0; i < 5; i++) {
      ssize_t n = mq_receive(mq, buf, sizeof buf, NULL);
      if (n == -1) die("mq_receive");
      printf("receiver: got '%.*s'\n", (int)n, buf);
      fflush(stdout);
    }
    _exit(0);
  }
  for (int i = 1; i <= 5; i++) {
    char msg[32];
    int len = snprintf(msg, sizeof msg, "message %d", i);
    printf("sender: sending message %d%s\n", i, i == 3 ? " (queue is full: this blocks)" : "");
    fflush(stdout);
    if (mq_send(mq, msg, (size_t)len, 0) == -1) die("mq_send"); /* <- the third one waits for the receiver */
  }
  int status;
  CHECK(waitpid(pid, &status, 0));
  CHECK(mq_close(mq));
  CHECK(mq_unlink(FULL_QUEUE));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
