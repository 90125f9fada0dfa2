/* Four threads each emitting many events at once (sigprocmask calls: runtime hooks, no IPC needed): every event
 * arrives, each thread's in order, with thread_start/thread_exit around them; a thread that ends with pthread_exit
 * is reported too; 300 short-lived threads reuse the rings of ended ones. Then a burst large enough to fill a ring exercises back-pressure without losing anything. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#define PER_THREAD 20000
static _Atomic int started;
static void *worker(void *arg) {
  started++;
  sigset_t s;
  sigemptyset(&s);
  for (int i = 0; i < PER_THREAD; i++) pthread_sigmask(SIG_BLOCK, &s, NULL);
  if ((intptr_t)arg == 3) pthread_exit((void *)33);
  return arg;
}
static void *short_worker(void *arg) {
  sigset_t s;
  sigemptyset(&s);
  for (int i = 0; i < 10; i++) sigprocmask(SIG_BLOCK, &s, NULL);
  return arg;
}
int main(void) {
  pthread_t t[4];
  for (intptr_t i = 0; i < 4; i++)
    if (pthread_create(&t[i], NULL, worker, (void *)i)) return 10;
  /* pthread_kill names its target's kernel tid once the target has run (signal 0: only asks if it exists) */
  while (started < 4) sched_yield();
  for (int i = 0; i < 4; i++) pthread_kill(t[i], 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    if ((intptr_t)r != (i == 3 ? 33 : i)) return 11;
  }
  /* 300 short threads one after another: rings of ended threads are drained and reused, nothing is lost. */
  for (intptr_t i = 0; i < 300; i++) {
    pthread_t t1;
    if (pthread_create(&t1, NULL, short_worker, (void *)i)) return 12;
    pthread_join(t1, NULL);
  }
  return 0;
}
