/* POSIX and System V message queues, shared memory objects, and the memory-mapping calls that share memory.
 * A POSIX mqd is an fd on the mqueue filesystem: its (dev, ino) is the queue's identity across processes. */
#include "ipcscope.h"

#include <fcntl.h>
#include <mqueue.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t name_len(const char *s) { return s ? (uint32_t)strnlen(s, 4096) : 0; }

/* ---- POSIX message queues ---- */

IPS_EXPORT mqd_t mq_open(const char *name, int oflag, ...) {
  IPS_REAL_DECL(mq_open, mqd_t, const char *, int, ...);
  mode_t mode = 0;
  struct mq_attr *attr = NULL;
  if (oflag & O_CREAT) {
    va_list ap;
    va_start(ap, oflag);
    mode = va_arg(ap, mode_t);
    attr = va_arg(ap, struct mq_attr *);
    va_end(ap);
  }
  if (!ips_hook_enter()) return real_mq_open(name, oflag, mode, attr);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MQ_OPEN, caller);
  mqd_t r = real_mq_open(name, oflag, mode, attr);
  int e = errno;
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  struct mq_attr got;
  memset(&got, 0, sizeof got);
  if (r != (mqd_t)-1) {
    if (ips_fd_probe((int)r, &fi) == 0) {
      fi.otype = IPS_OTYPE_MQUEUE;
      ips_fd_set((int)r, &fi);
    }
    syscall(SYS_mq_getsetattr, (int)r, NULL, &got);
  }
  IPS_EMIT(MQ_OPEN, IPS_PHASE_INSTANT, r, r == (mqd_t)-1 ? e : 0, caller, name, name_len(name), (uint64_t)oflag,
           mode, fi.dev, fi.ino, (uint64_t)got.mq_maxmsg, (uint64_t)got.mq_msgsize);
  IPS_RETURN(r, e);
}

static int send_common(mqd_t q, const char *msg, size_t len, unsigned prio, const struct timespec *abs, int timed,
                       uint64_t caller) {
  IPS_REAL_DECL(mq_timedsend, int, mqd_t, const char *, size_t, unsigned, const struct timespec *);
  IPS_REAL_DECL(mq_send, int, mqd_t, const char *, size_t, unsigned);
  struct ips_fdinfo fi;
  ips_fd_info_or_zero((int)q, &fi);
  uint16_t nb = fi.nonblock ? IPS_FLAG_NON_BLOCKING : 0;
  IPS_EMITF(MQ_SEND, IPS_PHASE_BEGIN, nb, 0, 0, caller, NULL, 0, (uint64_t)q, len, prio, fi.dev, fi.ino,
            (uint64_t)timed);
  IPS_PAUSE_POINT(MQ_SEND, caller);
  int r = timed ? IPS_CANCELLABLE(int, real_mq_timedsend(q, msg, len, prio, abs), SYS_mq_timedsend, q, msg, len, prio,
                                  abs, 0)
                : IPS_CANCELLABLE(int, real_mq_send(q, msg, len, prio), SYS_mq_timedsend, q, msg, len, prio, 0, 0);
  int e = errno;
  int trunc = 0;
  uint32_t pn = r == 0 ? ips_preview_len(len, &trunc) : 0;
  IPS_EMITF(MQ_SEND, IPS_PHASE_END, nb | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r, r < 0 ? e : 0, caller, msg, pn,
            (uint64_t)q, len, prio, fi.dev, fi.ino, (uint64_t)timed);
  IPS_RETURN(r, e);
}

IPS_EXPORT int mq_send(mqd_t q, const char *msg, size_t len, unsigned prio) {
  IPS_REAL_DECL(mq_send, int, mqd_t, const char *, size_t, unsigned);
  if (!ips_hook_enter()) return real_mq_send(q, msg, len, prio);
  return send_common(q, msg, len, prio, NULL, 0, IPS_CALLER());
}

IPS_EXPORT int mq_timedsend(mqd_t q, const char *msg, size_t len, unsigned prio, const struct timespec *abs) {
  IPS_REAL_DECL(mq_timedsend, int, mqd_t, const char *, size_t, unsigned, const struct timespec *);
  if (!ips_hook_enter()) return real_mq_timedsend(q, msg, len, prio, abs);
  return send_common(q, msg, len, prio, abs, 1, IPS_CALLER());
}

static ssize_t receive_common(mqd_t q, char *msg, size_t len, unsigned *prio, const struct timespec *abs, int timed,
                              uint64_t caller) {
  IPS_REAL_DECL(mq_timedreceive, ssize_t, mqd_t, char *, size_t, unsigned *, const struct timespec *);
  IPS_REAL_DECL(mq_receive, ssize_t, mqd_t, char *, size_t, unsigned *);
  struct ips_fdinfo fi;
  ips_fd_info_or_zero((int)q, &fi);
  uint16_t nb = fi.nonblock ? IPS_FLAG_NON_BLOCKING : 0;
  IPS_EMITF(MQ_RECEIVE, IPS_PHASE_BEGIN, nb, 0, 0, caller, NULL, 0, (uint64_t)q, len, 0, fi.dev, fi.ino,
            (uint64_t)timed);
  IPS_PAUSE_POINT(MQ_RECEIVE, caller);
  unsigned got_prio = 0;
  unsigned *pp = prio ? prio : &got_prio; /* we want the priority even when the program does not */
  ssize_t r = timed ? IPS_CANCELLABLE(ssize_t, real_mq_timedreceive(q, msg, len, pp, abs), SYS_mq_timedreceive, q,
                                      msg, len, pp, abs, 0)
                    : IPS_CANCELLABLE(ssize_t, real_mq_receive(q, msg, len, pp), SYS_mq_timedreceive, q, msg, len, pp,
                                      0, 0);
  int e = errno;
  int trunc = 0;
  uint32_t pn = r > 0 ? ips_preview_len((size_t)r, &trunc) : 0;
  IPS_EMITF(MQ_RECEIVE, IPS_PHASE_END, nb | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r, r < 0 ? e : 0, caller, msg,
            pn, (uint64_t)q, len, r >= 0 ? *pp : 0, fi.dev, fi.ino, (uint64_t)timed);
  IPS_RETURN(r, e);
}

IPS_EXPORT ssize_t mq_receive(mqd_t q, char *msg, size_t len, unsigned *prio) {
  IPS_REAL_DECL(mq_receive, ssize_t, mqd_t, char *, size_t, unsigned *);
  if (!ips_hook_enter()) return real_mq_receive(q, msg, len, prio);
  return receive_common(q, msg, len, prio, NULL, 0, IPS_CALLER());
}

IPS_EXPORT ssize_t mq_timedreceive(mqd_t q, char *msg, size_t len, unsigned *prio, const struct timespec *abs) {
  IPS_REAL_DECL(mq_timedreceive, ssize_t, mqd_t, char *, size_t, unsigned *, const struct timespec *);
  if (!ips_hook_enter()) return real_mq_timedreceive(q, msg, len, prio, abs);
  return receive_common(q, msg, len, prio, abs, 1, IPS_CALLER());
}

IPS_EXPORT int mq_close(mqd_t q) {
  IPS_REAL_DECL(mq_close, int, mqd_t);
  if (!ips_hook_enter()) return real_mq_close(q);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero((int)q, &fi);
  ips_fd_forget((int)q);
  IPS_PAUSE_POINT(MQ_CLOSE, caller);
  int r = real_mq_close(q);
  int e = errno;
  IPS_EMIT(MQ_CLOSE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)q, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int mq_unlink(const char *name) {
  IPS_REAL_DECL(mq_unlink, int, const char *);
  if (!ips_hook_enter()) return real_mq_unlink(name);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MQ_UNLINK, caller);
  int r = real_mq_unlink(name);
  int e = errno;
  IPS_EMIT0(MQ_UNLINK, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, name, name_len(name));
  IPS_RETURN(r, e);
}

/* ---- System V message queues ---- */

IPS_EXPORT int msgget(key_t key, int flags) {
  IPS_REAL_DECL(msgget, int, key_t, int);
  if (!ips_hook_enter()) return real_msgget(key, flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MSGGET, caller);
  int r = real_msgget(key, flags);
  int e = errno;
  IPS_EMIT(MSGGET, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)key, (uint64_t)flags);
  IPS_RETURN(r, e);
}

/* struct msgbuf starts with a long mtype; the text follows it. */
IPS_EXPORT int msgsnd(int id, const void *msgp, size_t size, int flags) {
  IPS_REAL_DECL(msgsnd, int, int, const void *, size_t, int);
  if (!ips_hook_enter()) return real_msgsnd(id, msgp, size, flags);
  uint64_t caller = IPS_CALLER();
  long mtype = 0;
  if (msgp) memcpy(&mtype, msgp, sizeof mtype);
  uint16_t nb = (flags & IPC_NOWAIT) ? IPS_FLAG_NON_BLOCKING : 0;
  IPS_EMITF(MSGSND, IPS_PHASE_BEGIN, nb, 0, 0, caller, NULL, 0, (uint64_t)id, size, (uint64_t)mtype, (uint64_t)flags);
  IPS_PAUSE_POINT(MSGSND, caller);
  int r = IPS_CANCELLABLE(int, real_msgsnd(id, msgp, size, flags), SYS_msgsnd, id, msgp, size, flags, 0, 0);
  int e = errno;
  int trunc = 0;
  uint32_t pn = r == 0 && msgp ? ips_preview_len(size, &trunc) : 0;
  IPS_EMITF(MSGSND, IPS_PHASE_END, nb | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r, r < 0 ? e : 0, caller,
            msgp ? (const char *)msgp + sizeof(long) : NULL, pn, (uint64_t)id, size, (uint64_t)mtype, (uint64_t)flags);
  IPS_RETURN(r, e);
}

IPS_EXPORT ssize_t msgrcv(int id, void *msgp, size_t size, long mtype, int flags) {
  IPS_REAL_DECL(msgrcv, ssize_t, int, void *, size_t, long, int);
  if (!ips_hook_enter()) return real_msgrcv(id, msgp, size, mtype, flags);
  uint64_t caller = IPS_CALLER();
  uint16_t nb = (flags & IPC_NOWAIT) ? IPS_FLAG_NON_BLOCKING : 0;
  IPS_EMITF(MSGRCV, IPS_PHASE_BEGIN, nb, 0, 0, caller, NULL, 0, (uint64_t)id, size, (uint64_t)mtype, 0,
            (uint64_t)flags);
  IPS_PAUSE_POINT(MSGRCV, caller);
  ssize_t r = IPS_CANCELLABLE(ssize_t, real_msgrcv(id, msgp, size, mtype, flags), SYS_msgrcv, id, msgp, size, mtype,
                              flags, 0);
  int e = errno;
  long got = 0;
  if (r >= 0 && msgp) memcpy(&got, msgp, sizeof got);
  int trunc = 0;
  uint32_t pn = r > 0 && msgp ? ips_preview_len((size_t)r, &trunc) : 0;
  IPS_EMITF(MSGRCV, IPS_PHASE_END, nb | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r, r < 0 ? e : 0, caller,
            msgp ? (const char *)msgp + sizeof(long) : NULL, pn, (uint64_t)id, size, (uint64_t)mtype, (uint64_t)got,
            (uint64_t)flags);
  IPS_RETURN(r, e);
}

IPS_EXPORT int msgctl(int id, int cmd, struct msqid_ds *buf) {
  IPS_REAL_DECL(msgctl, int, int, int, struct msqid_ds *);
  if (!ips_hook_enter()) return real_msgctl(id, cmd, buf);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MSGCTL, caller);
  int r = real_msgctl(id, cmd, buf);
  int e = errno;
  IPS_EMIT(MSGCTL, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)id, (uint64_t)cmd);
  IPS_RETURN(r, e);
}

/* ---- POSIX shared memory ---- */

IPS_EXPORT int shm_open(const char *name, int oflag, mode_t mode) {
  IPS_REAL_DECL(shm_open, int, const char *, int, mode_t);
  if (!ips_hook_enter()) return real_shm_open(name, oflag, mode);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHM_OPEN, caller);
  int r = real_shm_open(name, oflag, mode);
  int e = errno;
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (r >= 0 && ips_fd_probe(r, &fi) == 0) {
    fi.otype = IPS_OTYPE_SHM;
    ips_fd_set(r, &fi);
  }
  IPS_EMIT(SHM_OPEN, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, name, name_len(name), (uint64_t)oflag, mode, fi.dev,
           fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int shm_unlink(const char *name) {
  IPS_REAL_DECL(shm_unlink, int, const char *);
  if (!ips_hook_enter()) return real_shm_unlink(name);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHM_UNLINK, caller);
  int r = real_shm_unlink(name);
  int e = errno;
  IPS_EMIT0(SHM_UNLINK, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, name, name_len(name));
  IPS_RETURN(r, e);
}

/* ---- System V shared memory ---- */

IPS_EXPORT int shmget(key_t key, size_t size, int flags) {
  IPS_REAL_DECL(shmget, int, key_t, size_t, int);
  if (!ips_hook_enter()) return real_shmget(key, size, flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHMGET, caller);
  int r = real_shmget(key, size, flags);
  int e = errno;
  IPS_EMIT(SHMGET, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)key, size,
           (uint64_t)flags);
  IPS_RETURN(r, e);
}

IPS_EXPORT void *shmat(int id, const void *addr, int flags) {
  IPS_REAL_DECL(shmat, void *, int, const void *, int);
  if (!ips_hook_enter()) return real_shmat(id, addr, flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHMAT, caller);
  void *r = real_shmat(id, addr, flags);
  int e = errno;
  struct shmid_ds ds;
  uint64_t size = 0;
  if (r != (void *)-1 && syscall(SYS_shmctl, id, IPC_STAT, &ds) == 0) size = ds.shm_segsz;
  IPS_EMIT(SHMAT, IPS_PHASE_INSTANT, (int64_t)(intptr_t)r, r == (void *)-1 ? e : 0, caller, NULL, 0, (uint64_t)id,
           (uint64_t)(uintptr_t)addr, (uint64_t)flags, size);
  IPS_RETURN(r, e);
}

IPS_EXPORT int shmdt(const void *addr) {
  IPS_REAL_DECL(shmdt, int, const void *);
  if (!ips_hook_enter()) return real_shmdt(addr);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHMDT, caller);
  int r = real_shmdt(addr);
  int e = errno;
  IPS_EMIT(SHMDT, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(uintptr_t)addr);
  IPS_RETURN(r, e);
}

IPS_EXPORT int shmctl(int id, int cmd, struct shmid_ds *buf) {
  IPS_REAL_DECL(shmctl, int, int, int, struct shmid_ds *);
  if (!ips_hook_enter()) return real_shmctl(id, cmd, buf);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHMCTL, caller);
  int r = real_shmctl(id, cmd, buf);
  int e = errno;
  IPS_EMIT(SHMCTL, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)id, (uint64_t)cmd);
  IPS_RETURN(r, e);
}

/* ---- mappings ---- */

static void *mmap_common(void *(*real)(void *, size_t, int, int, int, off_t), void *addr, size_t len, int prot,
                         int flags, int fd, off_t off, uint64_t caller) {
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (!(flags & MAP_ANONYMOUS) && fd >= 0) ips_fd_info_or_zero(fd, &fi);
  IPS_PAUSE_POINT(MMAP, caller);
  void *r = real(addr, len, prot, flags, fd, off);
  int e = errno;
  IPS_EMIT(MMAP, IPS_PHASE_INSTANT, (int64_t)(intptr_t)r, r == MAP_FAILED ? e : 0, caller, NULL, 0,
           (uint64_t)(uintptr_t)r, len, (uint64_t)prot, (uint64_t)flags, (uint64_t)(int64_t)fd, (uint64_t)off,
           fi.otype, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  IPS_REAL_DECL(mmap, void *, void *, size_t, int, int, int, off_t);
  if (!ips_hook_enter()) return real_mmap(addr, len, prot, flags, fd, off);
  return mmap_common(real_mmap, addr, len, prot, flags, fd, off, IPS_CALLER());
}

IPS_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off) {
  IPS_REAL_DECL(mmap64, void *, void *, size_t, int, int, int, off_t);
  if (!ips_hook_enter()) return real_mmap64(addr, len, prot, flags, fd, off);
  return mmap_common(real_mmap64, addr, len, prot, flags, fd, off, IPS_CALLER());
}

IPS_EXPORT int munmap(void *addr, size_t len) {
  IPS_REAL_DECL(munmap, int, void *, size_t);
  if (!ips_hook_enter()) return real_munmap(addr, len);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MUNMAP, caller);
  int r = real_munmap(addr, len);
  int e = errno;
  IPS_EMIT(MUNMAP, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(uintptr_t)addr, len);
  IPS_RETURN(r, e);
}

IPS_EXPORT int mprotect(void *addr, size_t len, int prot) {
  IPS_REAL_DECL(mprotect, int, void *, size_t, int);
  if (!ips_hook_enter()) return real_mprotect(addr, len, prot);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MPROTECT, caller);
  int r = real_mprotect(addr, len, prot);
  int e = errno;
  IPS_EMIT(MPROTECT, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(uintptr_t)addr, len,
           (uint64_t)prot);
  IPS_RETURN(r, e);
}

IPS_EXPORT int msync(void *addr, size_t len, int flags) {
  IPS_REAL_DECL(msync, int, void *, size_t, int);
  if (!ips_hook_enter()) return real_msync(addr, len, flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MSYNC, caller);
  int r = real_msync(addr, len, flags);
  int e = errno;
  IPS_EMIT(MSYNC, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(uintptr_t)addr, len,
           (uint64_t)flags);
  IPS_RETURN(r, e);
}
