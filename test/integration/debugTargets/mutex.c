/* debug test target: a worker takes the mutex and holds it for a while; main then asks for it (contended). */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile int taken;

static void *holder(void *arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  taken = 1;
  struct timespec ts = {0, 400 * 1000 * 1000};
  nanosleep(&ts, NULL);
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, holder, NULL);
  while (!taken) usleep(1000);
  pthread_mutex_lock(&m); /* contended: the worker holds it */
  pthread_mutex_unlock(&m);
  pthread_join(t, NULL);
  return 0;
}
