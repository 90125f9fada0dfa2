/* The program's very first IPC call sits on a breakpoint's line: the entry stop holds the program right there. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

int main(void) {
  pthread_mutex_lock(&m); /* first traced call */
  pthread_mutex_unlock(&m);
  puts("done");
  return 0;
}
