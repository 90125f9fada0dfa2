/* A collector that stops reading: the shim's rings fill, each event waits a bounded time (100 ms without progress)
 * and, once the sender has been stuck in one send for 1 s, is dropped at once and counted; when the collector reads again, the
 * drops are reported as `dropped` events and in BYE. 4 M events in four threads is far more than the rings and socket
 * buffers hold, also in the compact encoding (~7 bytes a sigprocmask; 400 k of them fit in the socket buffers). */
#include <pthread.h>
#include <signal.h>
#include <time.h>

static void *worker(void *arg) {
  sigset_t s;
  sigemptyset(&s);
  for (int i = 0; i < 1000000; i++) sigprocmask(SIG_BLOCK, &s, NULL);
  return arg;
}
int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  struct timespec ts = {2, 0}; /* outlast the stall so the drop counts are delivered before exit */
  nanosleep(&ts, NULL);
  return 0;
}
