/* bounded_buffer.c — the producer/consumer problem with a 5-slot ring buffer: `empty` counts free slots, `full`
 * counts filled ones, a mutex guards the indices. Two producers and two consumers, 10 items each.
 * Fixed from the notes: rand() is not thread-safe (rand_r with a per-thread seed), pauses are shorter (up to 30 ms),
 * every call is checked, and the consumers check that every produced item arrived exactly once. */
#include "demo.h"
#include <pthread.h>
#include <semaphore.h>

#define BUFFER_SIZE 5
#define NUM_ITEMS 10

static int buffer[BUFFER_SIZE];
static int in = 0, out = 0;
static sem_t empty; /* free slots */
static sem_t full;  /* filled slots */
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int seen[3][NUM_ITEMS]; /* seen[producer][i]: consumed how many times */

static void *producer(void *arg) {
  int id = *(int *)arg;
  unsigned seed = (unsigned)id;
  for (int i = 0; i < NUM_ITEMS; i++) {
    int item = id * 100 + i;
    CHECK(sem_wait(&empty)); /* <- blocks while the buffer is full */
    PCHECK(pthread_mutex_lock(&mutex));
    buffer[in] = item;
    printf("Producer %d: Produced %d at index %d\n", id, item, in);
    in = (in + 1) % BUFFER_SIZE;
    PCHECK(pthread_mutex_unlock(&mutex));
    CHECK(sem_post(&full));
    sleep_ms(rand_r(&seed) % 30);
  }
  return NULL;
}

static void *consumer(void *arg) {
  int id = *(int *)arg;
  unsigned seed = (unsigned)id + 10;
  for (int i = 0; i < NUM_ITEMS; i++) {
    CHECK(sem_wait(&full)); /* <- blocks while the buffer is empty */
    PCHECK(pthread_mutex_lock(&mutex));
    int item = buffer[out];
    printf("Consumer %d: Consumed %d from index %d\n", id, item, out);
    out = (out + 1) % BUFFER_SIZE;
    seen[item / 100][item % 100]++;
    PCHECK(pthread_mutex_unlock(&mutex));
    CHECK(sem_post(&empty));
    sleep_ms(rand_r(&seed) % 20);
  }
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t prod_threads[2], cons_threads[2];
  int prod_ids[] = { 1, 2 }, cons_ids[] = { 1, 2 };
  CHECK(sem_init(&empty, 0, BUFFER_SIZE));
  CHECK(sem_init(&full, 0, 0));
  for (int i = 0; i < 2; i++) {
    PCHECK(pthread_create(&prod_threads[i], NULL, producer, &prod_ids[i]));
    PCHECK(pthread_create(&cons_threads[i], NULL, consumer, &cons_ids[i]));
  }
  for (int i = 0; i < 2; i++) {
    PCHECK(pthread_join(prod_threads[i], NULL));
    PCHECK(pthread_join(cons_threads[i], NULL));
  }
  int ok = 1;
  for (int p = 1; p <= 2; p++)
    for (int i = 0; i < NUM_ITEMS; i++) ok &= seen[p][i] == 1;
  CHECK(sem_destroy(&empty));
  CHECK(sem_destroy(&full));
  PCHECK(pthread_mutex_destroy(&mutex));
  printf("All done: %s\n", ok ? "every item consumed exactly once" : "ITEMS LOST OR DUPLICATED");
  return ok ? 0 : 1;
}
