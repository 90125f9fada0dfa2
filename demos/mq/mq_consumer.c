/* mq_consumer.c — receives until "END"; mq_receive always hands out the oldest message of the highest priority,
 * so the order printed is by priority (2, 1, 1, 0, 0, END), not by sending order. */
#include "demo.h"
#include "mq_common.h"
#include <fcntl.h>
#include <mqueue.h>

int main(void) {
  mqd_t mq = mq_open(QUEUE_NAME, O_RDONLY);
  if (mq == (mqd_t)-1) die("mq_open (run mq_producer first)");
  struct mq_attr attr;
  CHECK(mq_getattr(mq, &attr));
  printf("Consumer: Queue has %ld messages\n", attr.mq_curmsgs);
  if (attr.mq_msgsize < (long)sizeof(message_t)) { fprintf(stderr, "queue message size too small\n"); return 1; }

  for (;;) {
    message_t msg;
    unsigned int priority;
    ssize_t n = mq_receive(mq, (char *)&msg, sizeof msg, &priority); /* <- highest priority first */
    if (n == -1) die("mq_receive");
    msg.data[sizeof msg.data - 1] = '\0'; /* never trust the sender to terminate the string */
    printf("Consumer: Received '%s' (priority: %u)\n", msg.data, priority);
    if (strcmp(msg.data, "END") == 0) break;
  }
  CHECK(mq_close(mq));
  CHECK(mq_unlink(QUEUE_NAME));
  printf("Consumer: Done.\n");
  return 0;
}
