/* spinlock.c — a lock built from one memory word, as in the notes' pseudo-assembly (code 05-07).
 *   wrong: load, test, store — two threads can both load 0 and both enter: the total comes out short.
 *   tas:   test-and-set (atomic exchange), which the CPU performs indivisibly: the total is exact.
 * Neither makes a system call: the spinning is invisible to the kernel (and to the trace, except as threads that
 * run and never block). Usage: spinlock [iterations per thread]   (default 200000) */
#include "demo.h"
#include <pthread.h>
#include <stdatomic.h>

#define NUM_THREADS 2

static volatile int wrong_lock;       /* the notes' `mem`: 0 = free, 1 = held */
static atomic_flag tas_lock = ATOMIC_FLAG_INIT;
static volatile long counter;
static long iterations;

static void *with_wrong_lock(void *arg) {
  (void)arg;
  for (long i = 0; i < iterations; i++) {
    while (wrong_lock != 0) {} /* load r0, mem; test r0; jmpz enter; jmp start */
    wrong_lock = 1;            /* store mem, 1   <- too late: the other thread may have loaded 0 as well */
    counter = counter + 1;
    wrong_lock = 0;            /* store mem, 0 */
  }
  return NULL;
}

static void *with_tas_lock(void *arg) {
  (void)arg;
  for (long i = 0; i < iterations; i++) {
    while (atomic_flag_test_and_set_explicit(&tas_lock, memory_order_acquire)) {} /* <- one indivisible exchange */
    counter = counter + 1;
    atomic_flag_clear_explicit(&tas_lock, memory_order_release);
  }
  return NULL;
}

static long run(void *(*fn)(void *)) {
  pthread_t t[NUM_THREADS];
  counter = 0;
  for (int i = 0; i < NUM_THREADS; i++) PCHECK(pthread_create(&t[i], NULL, fn, NULL));
  for (int i = 0; i < NUM_THREADS; i++) PCHECK(pthread_join(t[i], NULL));
  return counter;
}

int main(int argc, char **argv) {
  iterations = argc > 1 ? atol(argv[1]) : 200000;
  if (iterations <= 0) { fprintf(stderr, "usage: %s [iterations]\n", argv[0]); return 2; }
  long expected = NUM_THREADS * iterations;
  long w = run(with_wrong_lock);
  printf("load/test/store lock: counter = %ld (expected %ld)%s\n", w, expected, w == expected ? "" : " <- both threads got in");
  long t = run(with_tas_lock);
  printf("test-and-set lock:    counter = %ld (expected %ld)\n", t, expected);
  return t == expected ? 0 : 1;
}
