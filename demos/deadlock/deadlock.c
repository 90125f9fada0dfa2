/* deadlock [abba|ordered] — two threads, two mutexes.
 * abba:    thread one takes A then B, thread two takes B then A. A barrier makes sure each holds its first lock
 *          before it asks for the second, so each waits for the lock the other holds, for good: a deadlock.
 *          main notices (neither thread finished within 1 s), says so and exits, which ends the stuck threads.
 * ordered: both threads take A then B (one lock order for everyone): no cycle is possible and both finish. */
#include <pthread.h>
#include <string.h>
#include "demo.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_first;
static int ordered;

struct worker { const char *name; pthread_mutex_t *first, *second; const char *first_name, *second_name; };

static void *run(void *arg) {
  struct worker *w = arg;
  PCHECK(pthread_mutex_lock(w->first));
  printf("%s: holds %s, asks for %s\n", w->name, w->first_name, w->second_name);
  fflush(stdout);
  if (!ordered) pthread_barrier_wait(&both_hold_first); /* both hold their first lock before asking for the second */
  PCHECK(pthread_mutex_lock(w->second)); /* abba: each waits here for the lock the other holds */
  printf("%s: holds %s and %s\n", w->name, w->first_name, w->second_name);
  fflush(stdout);
  PCHECK(pthread_mutex_unlock(w->second));
  PCHECK(pthread_mutex_unlock(w->first));
  return NULL;
}

/* Joins t, giving up at `deadline`: 0 when it finished, ETIMEDOUT when it is still stuck. */
static int join_until(pthread_t t, const struct timespec *deadline) {
  int e = pthread_timedjoin_np(t, NULL, deadline);
  if (e != 0 && e != ETIMEDOUT) { errno = e; die("pthread_timedjoin_np"); }
  return e;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "abba";
  if (strcmp(mode, "abba") != 0 && strcmp(mode, "ordered") != 0) {
    fprintf(stderr, "usage: %s [abba|ordered]\n", argv[0]);
    return 2;
  }
  ordered = strcmp(mode, "ordered") == 0;
  PCHECK(pthread_barrier_init(&both_hold_first, NULL, 2));
  struct worker one = { "thread one", &lock_a, &lock_b, "A", "B" };
  struct worker two = ordered ? (struct worker){ "thread two", &lock_a, &lock_b, "A", "B" }
                              : (struct worker){ "thread two", &lock_b, &lock_a, "B", "A" };
  pthread_t t1, t2;
  PCHECK(pthread_create(&t1, NULL, run, &one));
  PCHECK(pthread_create(&t2, NULL, run, &two));
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 1;
  if (join_until(t1, &deadline) == ETIMEDOUT || join_until(t2, &deadline) == ETIMEDOUT) {
    /* Both threads are blocked in pthread_mutex_lock for good; exiting the process is the only way out. */
    printf("%s: deadlock — after 1 s thread one still holds A and waits for B, thread two holds B and waits for A\n", mode);
    fflush(stdout);
    exit(0);
  }
  PCHECK(pthread_barrier_destroy(&both_hold_first));
  printf("%s: both threads finished\n", mode);
  return 0;
}
