/* named_sem.c — a POSIX named semaphore with value 2 lets at most 2 of 5 threads into the critical section at once
 * (the notes' example, with 200 ms of "work" instead of 2 s).
 * Fixed from the notes: a semaphore left over from an earlier run kept its old value (sem_open(O_CREAT) ignores the
 * value when the name exists) — it is unlinked first and created with O_EXCL; pthread_create/join are checked. */
#include "demo.h"
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>

#define NUM_THREADS 5
#define MAX_CONCURRENT 2
#define SEM_NAME demo_name("/my_semaphore") /* + IPCSCOPE_DEMO_TAG, see demo.h */

static sem_t *semaphore;
static atomic_int inside, most_inside; /* to check the claim, not part of the mechanism */

static void *worker(void *arg) {
  int id = *(int *)arg;
  printf("Thread %d: Waiting for semaphore...\n", id);
  fflush(stdout);
  CHECK(sem_wait(semaphore)); /* <- the third caller blocks here until someone posts */
  int now = atomic_fetch_add(&inside, 1) + 1;
  for (int m = atomic_load(&most_inside); now > m && !atomic_compare_exchange_weak(&most_inside, &m, now);) {}
  printf("Thread %d: Entered critical section (%d inside)\n", id, now);
  fflush(stdout);
  sleep_ms(200); /* work */
  atomic_fetch_sub(&inside, 1);
  printf("Thread %d: Leaving critical section\n", id);
  fflush(stdout);
  CHECK(sem_post(semaphore));
  return NULL;
}

int main(void) {
  if (sem_unlink(SEM_NAME) == -1 && errno != ENOENT) die("sem_unlink");
  semaphore = sem_open(SEM_NAME, O_CREAT | O_EXCL, 0600, MAX_CONCURRENT);
  if (semaphore == SEM_FAILED) die("sem_open");
  pthread_t threads[NUM_THREADS];
  int ids[NUM_THREADS];
  for (int i = 0; i < NUM_THREADS; i++) {
    ids[i] = i;
    PCHECK(pthread_create(&threads[i], NULL, worker, &ids[i]));
  }
  for (int i = 0; i < NUM_THREADS; i++) PCHECK(pthread_join(threads[i], NULL));
  CHECK(sem_close(semaphore));
  CHECK(sem_unlink(SEM_NAME));
  printf("All threads completed. At most %d were inside at once.\n", atomic_load(&most_inside));
  return atomic_load(&most_inside) <= MAX_CONCURRENT ? 0 : 1;
}
