/* Thread synchronisation other than plain mutexes: a semaphore a thread has to wait for (begin/end) and one that
 * is available (instant), a condition variable wait and signal, a read lock that waits for a writer, an
 * uncontended spinlock, a named semaphore's life cycle, and mutex init/destroy with attributes. */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static sem_t sem;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int ready;

/* Waits (up to ~10 s) until thread `tid` is blocked in a futex (where sem_wait, cond_wait and rdlock sleep), so the
 * order the test checks does not depend on how fast a loaded machine schedules the thread. */
static volatile pid_t waiter_tid;
static int thread_blocked(void) {
  for (int i = 0; i < 10000; i++) {
    char path[64], buf[64] = {0};
    if (waiter_tid) {
      snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)waiter_tid);
      int fd = open(path, O_RDONLY);
      if (fd >= 0) {
        if (read(fd, buf, sizeof buf - 1) < 0) buf[0] = 0;
        close(fd);
      }
      if (buf[0] >= '0' && buf[0] <= '9' && strtol(buf, NULL, 10) == SYS_futex) return 1;
    }
    usleep(1000);
  }
  return 0;
}

static void *sem_waiter(void *arg) {
  (void)arg;
  waiter_tid = (pid_t)syscall(SYS_gettid);
  sem_wait(&sem); /* blocks until main posts */
  return NULL;
}

static void *cond_waiter(void *arg) {
  (void)arg;
  waiter_tid = (pid_t)syscall(SYS_gettid);
  pthread_mutex_lock(&m);
  while (!ready) pthread_cond_wait(&cv, &m);
  pthread_mutex_unlock(&m);
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  waiter_tid = (pid_t)syscall(SYS_gettid);
  pthread_rwlock_rdlock(&rw); /* blocks while main holds the write lock */
  pthread_rwlock_unlock(&rw);
  return NULL;
}

int main(void) {
  if (sem_init(&sem, 0, 0) != 0) return 1;
  pthread_t t;
  pthread_create(&t, NULL, sem_waiter, NULL);
  if (!thread_blocked()) return 4;
  sem_post(&sem);
  pthread_join(t, NULL);
  sem_post(&sem);
  if (sem_wait(&sem) != 0) return 2; /* available: no wait */
  sem_destroy(&sem);

  waiter_tid = 0;
  pthread_create(&t, NULL, cond_waiter, NULL);
  if (!thread_blocked()) return 5;
  pthread_mutex_lock(&m);
  ready = 1;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&m);
  pthread_join(t, NULL);

  pthread_rwlock_wrlock(&rw);
  waiter_tid = 0;
  pthread_create(&t, NULL, reader, NULL);
  if (!thread_blocked()) return 6;
  pthread_rwlock_unlock(&rw);
  pthread_join(t, NULL);

  pthread_spinlock_t spin;
  pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
  pthread_spin_lock(&spin);
  pthread_spin_unlock(&spin);

  char name[64];
  snprintf(name, sizeof name, "/ipcscope-t-hk-sync-%d", (int)getpid());
  sem_t *named = sem_open(name, O_CREAT | O_EXCL, 0600, 2);
  if (named == SEM_FAILED) return 3;
  sem_wait(named);
  sem_close(named);
  sem_unlink(name);

  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_t rm;
  pthread_mutex_init(&rm, &a);
  pthread_mutex_destroy(&rm);
  return 0;
}
