/* 4 threads creating, using and closing pipes as fast as they can: fd numbers are reused across threads all the
 * time, and every read, write and close must still name a pipe (the lock-free fd table under contention). */
#include <pthread.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 2000

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    int p[2];
    char c = 'x';
    if (pipe(p) != 0) return (void *)1;
    if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1) return (void *)2;
    close(p[0]);
    close(p[1]);
  }
  return NULL;
}

int main(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, worker, NULL) != 0) return 1;
  int bad = 0;
  for (int i = 0; i < THREADS; i++) {
    void *r;
    pthread_join(t[i], &r);
    bad |= r != NULL;
  }
  return bad ? 2 : 0;
}
