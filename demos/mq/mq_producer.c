/* mq_producer.c — POSIX message queue producer: five messages with priorities 0,1,2,0,1 and then "END".
 * Fixed from the notes: END was sent with priority 9, so it overtook every data message and a consumer that
 * started late stopped at once; it now goes at priority 0, the lowest, so it is received last. The queue is
 * recreated fresh (a leftover queue with other attributes made mq_send fail with EMSGSIZE). */
#include "demo.h"
#include "mq_common.h"
#include <fcntl.h>
#include <mqueue.h>

int main(void) {
  struct mq_attr attr = { .mq_flags = 0, .mq_maxmsg = MAX_MESSAGES, .mq_msgsize = sizeof(message_t), .mq_curmsgs = 0 };
  if (mq_unlink(QUEUE_NAME) == -1 && errno != ENOENT) die("mq_unlink");
  mqd_t mq = mq_open(QUEUE_NAME, O_CREAT | O_EXCL | O_WRONLY, 0600, &attr);
  if (mq == (mqd_t)-1) die("mq_open");
  printf("Producer: Message queue opened.\n");

  for (int i = 0; i < 5; i++) {
    message_t msg = { .type = 1, .priority = i % 3 };
    snprintf(msg.data, sizeof msg.data, "Message #%d", i + 1);
    if (mq_send(mq, (const char *)&msg, sizeof msg, (unsigned)msg.priority) == -1) die("mq_send");
    printf("Producer: Sent '%s' with priority %d\n", msg.data, msg.priority);
  }
  message_t end_msg = { .type = 0, .data = "END", .priority = 0 };
  if (mq_send(mq, (const char *)&end_msg, sizeof end_msg, 0) == -1) die("mq_send END"); /* lowest: received last */
  CHECK(mq_close(mq));
  printf("Producer: Done.\n");
  return 0;
}
