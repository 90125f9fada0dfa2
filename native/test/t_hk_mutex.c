/* 4 threads contending one mutex (each holds it for a moment): contended acquisitions are begin/end pairs, the
 * others single instant events; every acquisition has its unlock. */
#include <pthread.h>
#include <time.h>

#define THREADS 4
#define ROUNDS 50
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    pthread_mutex_lock(&m);
    counter++;
    struct timespec t = {0, 100 * 1000}; /* hold it 0.1 ms so the others queue up */
    nanosleep(&t, NULL);
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, worker, NULL) != 0) return 1;
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  return counter == THREADS * ROUNDS ? 0 : 2;
}
