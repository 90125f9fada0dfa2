/* The message both mq programs exchange (as in the notes). */
#ifndef MQ_COMMON_H
#define MQ_COMMON_H
#define QUEUE_NAME demo_name("/my_message_queue") /* + IPCSCOPE_DEMO_TAG, see demo.h */
#define MAX_MSG_SIZE 256
#define MAX_MESSAGES 10
typedef struct {
  long type;
  char data[MAX_MSG_SIZE];
  int priority;
} message_t;
#endif
