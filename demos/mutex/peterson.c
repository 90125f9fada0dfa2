/* peterson.c — Peterson's algorithm: mutual exclusion for two threads from plain shared variables and busy waiting.
 * The notes describe it without code. On a modern CPU the textbook version with ordinary variables fails (stores
 * may be reordered after later loads), so `flag` and `turn` are sequentially consistent atomics here.
 * Usage: peterson [iterations per thread]   (default 200000) */
#include "demo.h"
#include <pthread.h>
#include <stdatomic.h>

static atomic_int flag[2]; /* flag[i]: thread i wants to enter */
static atomic_int turn;    /* whose turn it is to wait */
static long counter;
static long iterations;

static void lock(int self) {
  int other = 1 - self;
  atomic_store(&flag[self], 1);  /* I want to enter */
  atomic_store(&turn, other);    /* but you go first if you want to */
  while (atomic_load(&flag[other]) && atomic_load(&turn) == other) {} /* <- busy wait */
}

static void unlock(int self) { atomic_store(&flag[self], 0); }

static void *worker(void *arg) {
  int self = (int)(long)arg;
  for (long i = 0; i < iterations; i++) {
    lock(self);
    counter++; /* the critical section */
    unlock(self);
  }
  return NULL;
}

int main(int argc, char **argv) {
  iterations = argc > 1 ? atol(argv[1]) : 200000;
  if (iterations <= 0) { fprintf(stderr, "usage: %s [iterations]\n", argv[0]); return 2; }
  pthread_t t[2];
  for (long i = 0; i < 2; i++) PCHECK(pthread_create(&t[i], NULL, worker, (void *)i));
  for (int i = 0; i < 2; i++) PCHECK(pthread_join(t[i], NULL));
  printf("Peterson: counter = %ld (expected %ld)\n", counter, 2 * iterations);
  return counter == 2 * iterations ? 0 : 1;
}
