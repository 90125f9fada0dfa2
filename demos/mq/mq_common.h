/* The message both mq programs exchange (as in the notes). */
#ifndef MQ_COMMON_H
#define MQ_COMMON_H
#define QUEUE_NAME "/my_message_queue"
#define MAX_MSG_SIZE 256
#define MAX_MESSAGES 10
typedef struct {
  long type;
  char data[MAX_MSG_SIZE];
  int priority;
} message_t;
#endif
