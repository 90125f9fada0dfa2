/* counter.c — threads incrementing one counter, without and with a mutex (the notes' 5.2 example).
 * Without: counter++ is load, add, store; two threads interleave and updates are lost. With: exact total, and the
 * threads visibly queue on the mutex (contended locks are begin/end spans on the timeline).
 * Usage: counter [iterations-without] [iterations-with]   (defaults 1000000 and 20000 per thread; the notes used
 * 1000000 for both — a million traced lock/unlock pairs per thread is more than a demo needs). */
#include "demo.h"
#include <pthread.h>

#define NUM_THREADS 4

static long counter = 0; /* shared by all threads */
static long iterations;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
/* A start line: creating a thread takes longer than 20,000 uncontended lock/unlock pairs, so without it the
 * threads may run one after another and never meet (no lost updates, no queue on the mutex). */
static pthread_barrier_t start;

static void *increment_without_mutex(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < iterations; i++) {
    counter++; /* <- race: read-modify-write, not atomic */
  }
  return NULL;
}

static void *increment_with_mutex(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start);
  for (long i = 0; i < iterations; i++) {
    PCHECK(pthread_mutex_lock(&mutex));
    counter++;
    PCHECK(pthread_mutex_unlock(&mutex));
  }
  return NULL;
}

static long run(void *(*fn)(void *), long n) {
  pthread_t threads[NUM_THREADS];
  counter = 0;
  iterations = n;
  PCHECK(pthread_barrier_init(&start, NULL, NUM_THREADS));
  for (int i = 0; i < NUM_THREADS; i++) PCHECK(pthread_create(&threads[i], NULL, fn, NULL)); /* notes: unchecked */
  for (int i = 0; i < NUM_THREADS; i++) PCHECK(pthread_join(threads[i], NULL));
  PCHECK(pthread_barrier_destroy(&start));
  return counter;
}

int main(int argc, char **argv) {
  long without = argc > 1 ? atol(argv[1]) : 1000000, with = argc > 2 ? atol(argv[2]) : 20000;
  if (without <= 0 || with <= 0) { fprintf(stderr, "usage: %s [iterations-without] [iterations-with]\n", argv[0]); return 2; }
  long c = run(increment_without_mutex, without);
  printf("Without mutex: counter = %ld (expected: %ld)%s\n", c, NUM_THREADS * without,
         c == NUM_THREADS * without ? "" : " <- lost updates");
  fflush(stdout);
  c = run(increment_with_mutex, with);
  printf("With mutex:    counter = %ld (expected: %ld)\n", c, NUM_THREADS * with);
  PCHECK(pthread_mutex_destroy(&mutex));
  return c == NUM_THREADS * with ? 0 : 1;
}
