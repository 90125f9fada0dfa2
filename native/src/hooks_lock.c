/* Locks and semaphores: file locks (flock, lockf; fcntl locks are in hooks_fd.c), pthread mutexes, rwlocks,
 * condition variables and spinlocks, POSIX and System V semaphores.
 *
 * Acquisitions try the non-blocking variant first: success is one instant event (the uncontended case, which must
 * stay cheap: no syscalls, no fd lookups, one ips_emit); only when that fails with EBUSY/EAGAIN do we emit begin,
 * block in the real call, and emit end — so a lock's wait is exactly the begin-to-end interval. */
#include "ipcscope.h"

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#define P(x) ((uint64_t)(uintptr_t)(x))

/* ---- file locks ---- */

IPS_EXPORT int flock(int fd, int op) {
  IPS_REAL_DECL(flock, int, int, int);
  if (!ips_hook_enter()) return real_flock(fd, op);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  uint16_t nb = (op & LOCK_NB) ? IPS_FLAG_NON_BLOCKING : 0;
  IPS_EMITF(FLOCK, IPS_PHASE_BEGIN, nb, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)op, fi.dev, fi.ino);
  IPS_PAUSE_POINT(FLOCK, caller);
  int r = real_flock(fd, op);
  int e = errno;
  IPS_EMITF(FLOCK, IPS_PHASE_END, nb, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)op, fi.dev,
            fi.ino);
  IPS_RETURN(r, e);
}

static int lockf_common(int (*real)(int, int, off_t), int fd, int cmd, off_t len, uint64_t caller) {
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  IPS_EMIT(LOCKF, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)cmd, (uint64_t)len, fi.dev,
           fi.ino);
  IPS_PAUSE_POINT(LOCKF, caller);
  int r = real(fd, cmd, len);
  int e = errno;
  IPS_EMIT(LOCKF, IPS_PHASE_END, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)cmd,
           (uint64_t)len, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int lockf(int fd, int cmd, off_t len) {
  IPS_REAL_DECL(lockf, int, int, int, off_t);
  if (!ips_hook_enter()) return real_lockf(fd, cmd, len);
  return lockf_common(real_lockf, fd, cmd, len, IPS_CALLER());
}

IPS_EXPORT int lockf64(int fd, int cmd, off64_t len) {
  IPS_REAL_DECL(lockf64, int, int, int, off_t);
  if (!ips_hook_enter()) return real_lockf64(fd, cmd, len);
  return lockf_common(real_lockf64, fd, cmd, len, IPS_CALLER());
}

/* ---- mutexes ---- */

IPS_EXPORT int pthread_mutex_lock(pthread_mutex_t *m) {
  IPS_REAL_DECL(pthread_mutex_lock, int, pthread_mutex_t *);
  IPS_REAL_DECL(pthread_mutex_trylock, int, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_lock(m);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MUTEX_LOCK, caller);
  int r = real_pthread_mutex_trylock(m);
  if (IPS_LIKELY(r != EBUSY)) { /* got it (or an error such as EOWNERDEAD/EINVAL): one instant event */
    IPS_EMIT(MUTEX_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_LOCK);
    ips_hook_leave();
    return r;
  }
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_LOCK);
  if (IPS_UNLIKELY(ips_pause_armed)) ips_pause_point_slow(IPS_EV_MUTEX_LOCK | IPS_PAUSE_CONTENDED, caller); /* stepping */
  r = real_pthread_mutex_lock(m);
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_END, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_LOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m) {
  IPS_REAL_DECL(pthread_mutex_trylock, int, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_trylock(m);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MUTEX_LOCK, caller);
  int r = real_pthread_mutex_trylock(m);
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_TRYLOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs) {
  IPS_REAL_DECL(pthread_mutex_timedlock, int, pthread_mutex_t *, const struct timespec *);
  IPS_REAL_DECL(pthread_mutex_trylock, int, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_timedlock(m, abs);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MUTEX_LOCK, caller);
  int r = real_pthread_mutex_trylock(m);
  if (r != EBUSY) {
    IPS_EMIT(MUTEX_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_TIMEDLOCK);
    ips_hook_leave();
    return r;
  }
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_TIMEDLOCK);
  r = real_pthread_mutex_timedlock(m, abs);
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_END, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_TIMEDLOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *abs) {
  IPS_REAL_DECL(pthread_mutex_clocklock, int, pthread_mutex_t *, clockid_t, const struct timespec *);
  IPS_REAL_DECL(pthread_mutex_trylock, int, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_clocklock(m, clk, abs);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MUTEX_LOCK, caller);
  int r = real_pthread_mutex_trylock(m);
  if (r != EBUSY) {
    IPS_EMIT(MUTEX_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_CLOCKLOCK);
    ips_hook_leave();
    return r;
  }
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_CLOCKLOCK);
  r = real_pthread_mutex_clocklock(m, clk, abs);
  IPS_EMIT(MUTEX_LOCK, IPS_PHASE_END, r, 0, caller, NULL, 0, P(m), IPS_LOCK_HOW_CLOCKLOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m) {
  IPS_REAL_DECL(pthread_mutex_unlock, int, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_unlock(m);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MUTEX_UNLOCK, caller);
  uint64_t ts = ips_now_ns(); /* before the call: a waiter it wakes stamps its own end after this */
  int r = real_pthread_mutex_unlock(m);
  IPS_EMIT_TS(ts, MUTEX_UNLOCK, IPS_PHASE_INSTANT, r, 0, caller, P(m));
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr) {
  IPS_REAL_DECL(pthread_mutex_init, int, pthread_mutex_t *, const pthread_mutexattr_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_init(m, attr);
  uint64_t caller = IPS_CALLER();
  int r = real_pthread_mutex_init(m, attr);
  int pshared = 0, type = 0;
  if (attr) {
    pthread_mutexattr_getpshared(attr, &pshared);
    pthread_mutexattr_gettype(attr, &type);
  }
  IPS_EMIT(MUTEX_INIT, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(m), (uint64_t)pshared, (uint64_t)type);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m) {
  IPS_REAL_DECL(pthread_mutex_destroy, int, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_mutex_destroy(m);
  uint64_t caller = IPS_CALLER();
  int r = real_pthread_mutex_destroy(m);
  IPS_EMIT(MUTEX_INIT, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(m), 0, (uint64_t)-1);
  ips_hook_leave();
  return r;
}

/* ---- rwlocks ---- */

typedef int (*rw_try_fn)(pthread_rwlock_t *);

static int rw_acquire(pthread_rwlock_t *l, unsigned mode, unsigned how, rw_try_fn try_fn, int (*block)(pthread_rwlock_t *, const void *),
                      int (*block_plain)(pthread_rwlock_t *), const void *arg, uint64_t caller) {
  IPS_PAUSE_POINT(RWLOCK_LOCK, caller);
  int r = try_fn(l);
  if (r != EBUSY) {
    IPS_EMIT(RWLOCK_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(l), mode, how);
    ips_hook_leave();
    return r;
  }
  IPS_EMIT(RWLOCK_LOCK, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(l), mode, how);
  r = block ? block(l, arg) : block_plain(l);
  IPS_EMIT(RWLOCK_LOCK, IPS_PHASE_END, r, 0, caller, NULL, 0, P(l), mode, how);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
  IPS_REAL_DECL(pthread_rwlock_rdlock, int, pthread_rwlock_t *);
  IPS_REAL_DECL(pthread_rwlock_tryrdlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_rdlock(l);
  return rw_acquire(l, IPS_RW_MODE_READ, IPS_LOCK_HOW_LOCK, real_pthread_rwlock_tryrdlock, NULL,
                    real_pthread_rwlock_rdlock, NULL, IPS_CALLER());
}

IPS_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
  IPS_REAL_DECL(pthread_rwlock_wrlock, int, pthread_rwlock_t *);
  IPS_REAL_DECL(pthread_rwlock_trywrlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_wrlock(l);
  return rw_acquire(l, IPS_RW_MODE_WRITE, IPS_LOCK_HOW_LOCK, real_pthread_rwlock_trywrlock, NULL,
                    real_pthread_rwlock_wrlock, NULL, IPS_CALLER());
}

IPS_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *abs) {
  IPS_REAL_DECL(pthread_rwlock_timedrdlock, int, pthread_rwlock_t *, const void *);
  IPS_REAL_DECL(pthread_rwlock_tryrdlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_timedrdlock(l, abs);
  return rw_acquire(l, IPS_RW_MODE_READ, IPS_LOCK_HOW_TIMEDLOCK, real_pthread_rwlock_tryrdlock,
                    real_pthread_rwlock_timedrdlock, NULL, abs, IPS_CALLER());
}

IPS_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *abs) {
  IPS_REAL_DECL(pthread_rwlock_timedwrlock, int, pthread_rwlock_t *, const void *);
  IPS_REAL_DECL(pthread_rwlock_trywrlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_timedwrlock(l, abs);
  return rw_acquire(l, IPS_RW_MODE_WRITE, IPS_LOCK_HOW_TIMEDLOCK, real_pthread_rwlock_trywrlock,
                    real_pthread_rwlock_timedwrlock, NULL, abs, IPS_CALLER());
}

IPS_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l) {
  IPS_REAL_DECL(pthread_rwlock_tryrdlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_tryrdlock(l);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(RWLOCK_LOCK, caller);
  int r = real_pthread_rwlock_tryrdlock(l);
  IPS_EMIT(RWLOCK_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(l), IPS_RW_MODE_READ, IPS_LOCK_HOW_TRYLOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l) {
  IPS_REAL_DECL(pthread_rwlock_trywrlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_trywrlock(l);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(RWLOCK_LOCK, caller);
  int r = real_pthread_rwlock_trywrlock(l);
  IPS_EMIT(RWLOCK_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(l), IPS_RW_MODE_WRITE, IPS_LOCK_HOW_TRYLOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l) {
  IPS_REAL_DECL(pthread_rwlock_unlock, int, pthread_rwlock_t *);
  if (!ips_hook_enter()) return real_pthread_rwlock_unlock(l);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(RWLOCK_UNLOCK, caller);
  uint64_t ts = ips_now_ns(); /* before the call: a waiter it wakes stamps its own end after this */
  int r = real_pthread_rwlock_unlock(l);
  IPS_EMIT_TS(ts, RWLOCK_UNLOCK, IPS_PHASE_INSTANT, r, 0, caller, P(l));
  ips_hook_leave();
  return r;
}

/* ---- condition variables ----
 * glibc keeps two versions (GLIBC_2.2.5 for old binaries, GLIBC_2.3.2 the default every program since links to).
 * Our unversioned definitions satisfy references to either; we forward to the default, 2.3.2 one. */
#define COND_REAL(name, ret, ...)                                                          \
  static ret (*real_##name)(__VA_ARGS__);                                                  \
  if (IPS_UNLIKELY(!real_##name)) real_##name = (ret (*)(__VA_ARGS__))ips_real_versioned(#name, "GLIBC_2.3.2")

IPS_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  COND_REAL(pthread_cond_wait, int, pthread_cond_t *, pthread_mutex_t *);
  if (!ips_hook_enter()) return real_pthread_cond_wait(c, m);
  uint64_t caller = IPS_CALLER();
  IPS_EMIT(COND_WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(c), P(m), 0);
  IPS_PAUSE_POINT(COND_WAIT, caller);
  int r = real_pthread_cond_wait(c, m);
  IPS_EMIT(COND_WAIT, IPS_PHASE_END, r, 0, caller, NULL, 0, P(c), P(m), 0);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs) {
  COND_REAL(pthread_cond_timedwait, int, pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
  if (!ips_hook_enter()) return real_pthread_cond_timedwait(c, m, abs);
  uint64_t caller = IPS_CALLER();
  IPS_EMIT(COND_WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(c), P(m), 1);
  IPS_PAUSE_POINT(COND_WAIT, caller);
  int r = real_pthread_cond_timedwait(c, m, abs);
  IPS_EMIT(COND_WAIT, IPS_PHASE_END, r, 0, caller, NULL, 0, P(c), P(m), 1);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                      const struct timespec *abs) {
  /* only ever one version: GLIBC_2.30 (2.34 re-exports it) */
  IPS_REAL_DECL(pthread_cond_clockwait, int, pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *);
  if (!ips_hook_enter()) return real_pthread_cond_clockwait(c, m, clk, abs);
  uint64_t caller = IPS_CALLER();
  IPS_EMIT(COND_WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(c), P(m), 1);
  IPS_PAUSE_POINT(COND_WAIT, caller);
  int r = real_pthread_cond_clockwait(c, m, clk, abs);
  IPS_EMIT(COND_WAIT, IPS_PHASE_END, r, 0, caller, NULL, 0, P(c), P(m), 1);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_cond_signal(pthread_cond_t *c) {
  COND_REAL(pthread_cond_signal, int, pthread_cond_t *);
  if (!ips_hook_enter()) return real_pthread_cond_signal(c);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(COND_SIGNAL, caller);
  uint64_t ts = ips_now_ns(); /* before the call: a waiter it wakes stamps its own end after this */
  int r = real_pthread_cond_signal(c);
  IPS_EMIT_TS(ts, COND_SIGNAL, IPS_PHASE_INSTANT, r, 0, caller, P(c), 0);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_cond_broadcast(pthread_cond_t *c) {
  COND_REAL(pthread_cond_broadcast, int, pthread_cond_t *);
  if (!ips_hook_enter()) return real_pthread_cond_broadcast(c);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(COND_SIGNAL, caller);
  uint64_t ts = ips_now_ns(); /* before the call: a waiter it wakes stamps its own end after this */
  int r = real_pthread_cond_broadcast(c);
  IPS_EMIT_TS(ts, COND_SIGNAL, IPS_PHASE_INSTANT, r, 0, caller, P(c), 1);
  ips_hook_leave();
  return r;
}

/* ---- spinlocks ---- */

IPS_EXPORT int pthread_spin_lock(pthread_spinlock_t *l) {
  IPS_REAL_DECL(pthread_spin_lock, int, pthread_spinlock_t *);
  IPS_REAL_DECL(pthread_spin_trylock, int, pthread_spinlock_t *);
  if (!ips_hook_enter()) return real_pthread_spin_lock(l);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SPIN_LOCK, caller);
  int r = real_pthread_spin_trylock(l);
  if (r != EBUSY) {
    IPS_EMIT(SPIN_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(l), IPS_LOCK_HOW_LOCK);
    ips_hook_leave();
    return r;
  }
  IPS_EMIT(SPIN_LOCK, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(l), IPS_LOCK_HOW_LOCK);
  r = real_pthread_spin_lock(l);
  IPS_EMIT(SPIN_LOCK, IPS_PHASE_END, r, 0, caller, NULL, 0, P(l), IPS_LOCK_HOW_LOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_spin_trylock(pthread_spinlock_t *l) {
  IPS_REAL_DECL(pthread_spin_trylock, int, pthread_spinlock_t *);
  if (!ips_hook_enter()) return real_pthread_spin_trylock(l);
  uint64_t caller = IPS_CALLER();
  int r = real_pthread_spin_trylock(l);
  IPS_EMIT(SPIN_LOCK, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, P(l), IPS_LOCK_HOW_TRYLOCK);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int pthread_spin_unlock(pthread_spinlock_t *l) {
  IPS_REAL_DECL(pthread_spin_unlock, int, pthread_spinlock_t *);
  if (!ips_hook_enter()) return real_pthread_spin_unlock(l);
  uint64_t caller = IPS_CALLER();
  uint64_t ts = ips_now_ns(); /* before the call: a waiter it wakes stamps its own end after this */
  int r = real_pthread_spin_unlock(l);
  IPS_EMIT_TS(ts, SPIN_UNLOCK, IPS_PHASE_INSTANT, r, 0, caller, P(l));
  ips_hook_leave();
  return r;
}

/* ---- POSIX semaphores ---- */

static uint32_t name_len(const char *s) { return s ? (uint32_t)strnlen(s, 4096) : 0; }

IPS_EXPORT sem_t *sem_open(const char *name, int oflag, ...) {
  IPS_REAL_DECL(sem_open, sem_t *, const char *, int, ...);
  mode_t mode = 0;
  unsigned value = 0;
  if (oflag & O_CREAT) {
    va_list ap;
    va_start(ap, oflag);
    mode = va_arg(ap, mode_t);
    value = va_arg(ap, unsigned);
    va_end(ap);
  }
  if (!ips_hook_enter()) return real_sem_open(name, oflag, mode, value);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SEM_OPEN, caller);
  sem_t *r = real_sem_open(name, oflag, mode, value);
  int e = errno;
  IPS_EMIT(SEM_OPEN, IPS_PHASE_INSTANT, (int64_t)(intptr_t)r, r == SEM_FAILED ? e : 0, caller, name, name_len(name),
           (uint64_t)oflag, mode, value);
  IPS_RETURN(r, e);
}

/* trywait first: available → one instant event with the caller's `how`; EAGAIN → begin, block, end. */
#define SEM_ACQUIRE(how, call)                                                                   \
  do {                                                                                           \
    IPS_REAL_DECL(sem_trywait, int, sem_t *);                                                    \
    uint64_t caller = IPS_CALLER();                                                              \
    IPS_PAUSE_POINT(SEM_WAIT, caller);                                                           \
    int r = real_sem_trywait(s);                                                                 \
    int e = errno;                                                                               \
    if (r == 0 || e != EAGAIN) {                                                                 \
      IPS_EMIT(SEM_WAIT, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, P(s), how);      \
      IPS_RETURN(r, e);                                                                          \
    }                                                                                            \
    IPS_EMIT(SEM_WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, P(s), how);                       \
    r = call;                                                                                    \
    e = errno;                                                                                   \
    IPS_EMIT(SEM_WAIT, IPS_PHASE_END, r, r < 0 ? e : 0, caller, NULL, 0, P(s), how);             \
    IPS_RETURN(r, e);                                                                            \
  } while (0)

IPS_EXPORT int sem_wait(sem_t *s) {
  IPS_REAL_DECL(sem_wait, int, sem_t *);
  if (!ips_hook_enter()) return real_sem_wait(s);
  SEM_ACQUIRE(IPS_SEM_WAIT_HOW_WAIT, real_sem_wait(s));
}

IPS_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs) {
  IPS_REAL_DECL(sem_timedwait, int, sem_t *, const struct timespec *);
  if (!ips_hook_enter()) return real_sem_timedwait(s, abs);
  SEM_ACQUIRE(IPS_SEM_WAIT_HOW_TIMEDWAIT, real_sem_timedwait(s, abs));
}

IPS_EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abs) {
  IPS_REAL_DECL(sem_clockwait, int, sem_t *, clockid_t, const struct timespec *);
  if (!ips_hook_enter()) return real_sem_clockwait(s, clk, abs);
  SEM_ACQUIRE(IPS_SEM_WAIT_HOW_CLOCKWAIT, real_sem_clockwait(s, clk, abs));
}

IPS_EXPORT int sem_trywait(sem_t *s) {
  IPS_REAL_DECL(sem_trywait, int, sem_t *);
  if (!ips_hook_enter()) return real_sem_trywait(s);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SEM_WAIT, caller);
  int r = real_sem_trywait(s);
  int e = errno;
  IPS_EMIT(SEM_WAIT, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, P(s), IPS_SEM_WAIT_HOW_TRYWAIT);
  IPS_RETURN(r, e);
}

IPS_EXPORT int sem_post(sem_t *s) {
  IPS_REAL_DECL(sem_post, int, sem_t *);
  if (!ips_hook_enter()) return real_sem_post(s);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SEM_POST, caller);
  uint64_t ts = ips_now_ns(); /* before the call: a waiter it wakes stamps its own end after this */
  int r = real_sem_post(s);
  int e = errno;
  IPS_EMIT_TS(ts, SEM_POST, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, P(s));
  IPS_RETURN(r, e);
}

IPS_EXPORT int sem_init(sem_t *s, int pshared, unsigned value) {
  IPS_REAL_DECL(sem_init, int, sem_t *, int, unsigned);
  if (!ips_hook_enter()) return real_sem_init(s, pshared, value);
  uint64_t caller = IPS_CALLER();
  int r = real_sem_init(s, pshared, value);
  int e = errno;
  IPS_EMIT(SEM_INIT, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, P(s), (uint64_t)pshared, value);
  IPS_RETURN(r, e);
}

IPS_EXPORT int sem_destroy(sem_t *s) {
  IPS_REAL_DECL(sem_destroy, int, sem_t *);
  if (!ips_hook_enter()) return real_sem_destroy(s);
  uint64_t caller = IPS_CALLER();
  int r = real_sem_destroy(s);
  int e = errno;
  IPS_EMIT(SEM_CLOSE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, P(s), IPS_SEM_CLOSE_HOW_DESTROY);
  IPS_RETURN(r, e);
}

IPS_EXPORT int sem_close(sem_t *s) {
  IPS_REAL_DECL(sem_close, int, sem_t *);
  if (!ips_hook_enter()) return real_sem_close(s);
  uint64_t caller = IPS_CALLER();
  int r = real_sem_close(s);
  int e = errno;
  IPS_EMIT(SEM_CLOSE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, P(s), IPS_SEM_CLOSE_HOW_CLOSE);
  IPS_RETURN(r, e);
}

IPS_EXPORT int sem_unlink(const char *name) {
  IPS_REAL_DECL(sem_unlink, int, const char *);
  if (!ips_hook_enter()) return real_sem_unlink(name);
  uint64_t caller = IPS_CALLER();
  int r = real_sem_unlink(name);
  int e = errno;
  IPS_EMIT0(SEM_UNLINK, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, name, name_len(name));
  IPS_RETURN(r, e);
}

/* ---- System V semaphores ---- */

IPS_EXPORT int semget(key_t key, int nsems, int flags) {
  IPS_REAL_DECL(semget, int, key_t, int, int);
  if (!ips_hook_enter()) return real_semget(key, nsems, flags);
  uint64_t caller = IPS_CALLER();
  int r = real_semget(key, nsems, flags);
  int e = errno;
  IPS_EMIT(SEMGET, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)key, (uint64_t)nsems,
           (uint64_t)flags);
  IPS_RETURN(r, e);
}

/* struct sembuf is exactly (u16 num, i16 op, i16 flg): the blob is the caller's array as is. */
_Static_assert(sizeof(struct sembuf) == 6, "sembuf layout");

static int semop_common(int id, struct sembuf *ops, size_t n, const struct timespec *to, int timed, uint64_t caller) {
  IPS_REAL_DECL(semtimedop, int, int, struct sembuf *, size_t, const struct timespec *);
  IPS_REAL_DECL(semop, int, int, struct sembuf *, size_t);
  uint64_t num = 0, op = 0, flg = 0;
  if (ops && n) {
    num = ops[0].sem_num;
    op = (uint64_t)(int64_t)ops[0].sem_op;
    flg = (uint64_t)(int64_t)ops[0].sem_flg;
  }
  uint32_t bl = ops ? (uint32_t)(n * sizeof *ops) : 0;
  if (bl > IPS_PREVIEW_MAX) bl = IPS_PREVIEW_MAX / 6 * 6;
  IPS_EMIT(SEMOP, IPS_PHASE_BEGIN, 0, 0, caller, ops, bl, (uint64_t)id, n, num, op, flg, (uint64_t)timed);
  IPS_PAUSE_POINT(SEMOP, caller);
  int r = timed ? real_semtimedop(id, ops, n, to) : real_semop(id, ops, n);
  int e = errno;
  IPS_EMIT(SEMOP, IPS_PHASE_END, r, r < 0 ? e : 0, caller, ops, bl, (uint64_t)id, n, num, op, flg, (uint64_t)timed);
  IPS_RETURN(r, e);
}

IPS_EXPORT int semop(int id, struct sembuf *ops, size_t n) {
  IPS_REAL_DECL(semop, int, int, struct sembuf *, size_t);
  if (!ips_hook_enter()) return real_semop(id, ops, n);
  return semop_common(id, ops, n, NULL, 0, IPS_CALLER());
}

IPS_EXPORT int semtimedop(int id, struct sembuf *ops, size_t n, const struct timespec *to) {
  IPS_REAL_DECL(semtimedop, int, int, struct sembuf *, size_t, const struct timespec *);
  if (!ips_hook_enter()) return real_semtimedop(id, ops, n, to);
  return semop_common(id, ops, n, to, 1, IPS_CALLER());
}

union ips_semun { /* the caller defines union semun; glibc passes it as one word */
  int val;
  void *ptr;
};

IPS_EXPORT int semctl(int id, int num, int cmd, ...) {
  IPS_REAL_DECL(semctl, int, int, int, int, ...);
  union ips_semun arg = {.ptr = NULL};
  switch (cmd & ~0x100 /* IPC_64 */) {
  case SETVAL: case GETALL: case SETALL: case IPC_STAT: case IPC_SET: case IPC_INFO: case SEM_INFO: case SEM_STAT:
  case SEM_STAT_ANY: {
    va_list ap;
    va_start(ap, cmd);
    arg = va_arg(ap, union ips_semun);
    va_end(ap);
  }
  }
  if (!ips_hook_enter()) return real_semctl(id, num, cmd, arg);
  uint64_t caller = IPS_CALLER();
  int r = real_semctl(id, num, cmd, arg);
  int e = errno;
  IPS_EMIT(SEMCTL, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)id, (uint64_t)num, (uint64_t)cmd,
           (cmd & ~0x100) == SETVAL ? (uint64_t)(int64_t)arg.val : 0);
  IPS_RETURN(r, e);
}
