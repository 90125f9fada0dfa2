/* Readiness: select/pselect, poll/ppoll, epoll and eventfd. The waits are begin/end with the sets as blobs
 * (docs/events.md): what was asked on begin, what was ready on end. */
#include "ipcscope.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>

#define MAX_ENTRIES (IPS_PREVIEW_MAX / 8) /* blob entries kept per event (the rest are counted in nfds) */

/* ---- select ---- */

/* (u32 fd, u32 mask 1=read 2=write 4=except) for every fd set in any of the three sets. */
static uint32_t select_pairs(int nfds, const fd_set *r, const fd_set *w, const fd_set *x, uint32_t *out) {
  uint32_t n = 0;
  if (nfds > FD_SETSIZE) nfds = FD_SETSIZE;
  for (int fd = 0; fd < nfds && n < MAX_ENTRIES; fd++) {
    uint32_t m = (r && FD_ISSET(fd, r) ? 1u : 0u) | (w && FD_ISSET(fd, w) ? 2u : 0u) | (x && FD_ISSET(fd, x) ? 4u : 0u);
    if (m) {
      out[2 * n] = (uint32_t)fd;
      out[2 * n + 1] = m;
      n++;
    }
  }
  return n * 8;
}

static uint64_t ts_ns(const struct timespec *t) {
  return t ? (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec : (uint64_t)-1;
}

IPS_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv) {
  IPS_REAL_DECL(select, int, int, fd_set *, fd_set *, fd_set *, struct timeval *);
  if (!ips_hook_enter()) return real_select(nfds, r, w, x, tv);
  uint64_t caller = IPS_CALLER();
  uint32_t pairs[2 * MAX_ENTRIES];
  uint64_t tns = tv ? (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull : (uint64_t)-1;
  uint32_t bl = select_pairs(nfds, r, w, x, pairs);
  IPS_EMIT(SELECT, IPS_PHASE_BEGIN, 0, 0, caller, pairs, bl, (uint64_t)nfds, tns, IPS_SELECT_HOW_SELECT);
  IPS_PAUSE_POINT(SELECT, caller);
  int res = real_select(nfds, r, w, x, tv);
  int e = errno;
  bl = res > 0 ? select_pairs(nfds, r, w, x, pairs) : 0;
  IPS_EMIT(SELECT, IPS_PHASE_END, res, res < 0 ? e : 0, caller, pairs, bl, (uint64_t)nfds, tns, IPS_SELECT_HOW_SELECT);
  IPS_RETURN(res, e);
}

IPS_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts, const sigset_t *mask) {
  IPS_REAL_DECL(pselect, int, int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
  if (!ips_hook_enter()) return real_pselect(nfds, r, w, x, ts, mask);
  uint64_t caller = IPS_CALLER();
  uint32_t pairs[2 * MAX_ENTRIES];
  uint64_t tns = ts_ns(ts);
  uint32_t bl = select_pairs(nfds, r, w, x, pairs);
  IPS_EMIT(SELECT, IPS_PHASE_BEGIN, 0, 0, caller, pairs, bl, (uint64_t)nfds, tns, IPS_SELECT_HOW_PSELECT);
  IPS_PAUSE_POINT(SELECT, caller);
  int res = real_pselect(nfds, r, w, x, ts, mask);
  int e = errno;
  bl = res > 0 ? select_pairs(nfds, r, w, x, pairs) : 0;
  IPS_EMIT(SELECT, IPS_PHASE_END, res, res < 0 ? e : 0, caller, pairs, bl, (uint64_t)nfds, tns, IPS_SELECT_HOW_PSELECT);
  IPS_RETURN(res, e);
}

/* ---- poll ---- */

/* struct pollfd is exactly (i32 fd, u16 events, u16 revents): the blob is the array itself. */
_Static_assert(sizeof(struct pollfd) == 8, "pollfd layout");

static uint32_t poll_blob_len(nfds_t n) { return (uint32_t)((n > MAX_ENTRIES ? MAX_ENTRIES : n) * 8); }

static int poll_common(int (*real_poll)(struct pollfd *, nfds_t, int),
                       int (*real_ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *),
                       struct pollfd *fds, nfds_t n, int timeout, const struct timespec *ts, const sigset_t *mask,
                       uint64_t caller) {
  unsigned how = real_poll ? IPS_POLL_HOW_POLL : IPS_POLL_HOW_PPOLL;
  uint64_t tns = real_poll ? (timeout < 0 ? (uint64_t)-1 : (uint64_t)timeout * 1000000ull) : ts_ns(ts);
  IPS_EMIT(POLL, IPS_PHASE_BEGIN, 0, 0, caller, fds, fds ? poll_blob_len(n) : 0, (uint64_t)n, tns, how);
  IPS_PAUSE_POINT(POLL, caller);
  int r = real_poll ? IPS_CANCELLABLE(int, real_poll(fds, n, timeout), SYS_poll, fds, n, timeout, 0, 0, 0)
                    : real_ppoll(fds, n, ts, mask); /* glibc keeps *ts as it was: not the kernel's way */
  int e = errno;
  IPS_EMIT(POLL, IPS_PHASE_END, r, r < 0 ? e : 0, caller, fds, fds ? poll_blob_len(n) : 0, (uint64_t)n, tns, how);
  IPS_RETURN(r, e);
}

IPS_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
  IPS_REAL_DECL(poll, int, struct pollfd *, nfds_t, int);
  if (!ips_hook_enter()) return real_poll(fds, n, timeout);
  return poll_common(real_poll, NULL, fds, n, timeout, NULL, NULL, IPS_CALLER());
}

IPS_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen) {
  IPS_REAL_DECL(__poll_chk, int, struct pollfd *, nfds_t, int, size_t);
  IPS_REAL_DECL(poll, int, struct pollfd *, nfds_t, int);
  if (!ips_hook_enter()) return real___poll_chk(fds, n, timeout, fdslen);
  if (fdslen / sizeof *fds < n) { /* let glibc report the overflow the way it does */
    ips_hook_leave();
    return real___poll_chk(fds, n, timeout, fdslen);
  }
  return poll_common(real_poll, NULL, fds, n, timeout, NULL, NULL, IPS_CALLER());
}

IPS_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
  IPS_REAL_DECL(ppoll, int, struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
  if (!ips_hook_enter()) return real_ppoll(fds, n, ts, mask);
  return poll_common(NULL, real_ppoll, fds, n, 0, ts, mask, IPS_CALLER());
}

IPS_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
                           size_t fdslen) {
  IPS_REAL_DECL(__ppoll_chk, int, struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);
  IPS_REAL_DECL(ppoll, int, struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
  if (!ips_hook_enter()) return real___ppoll_chk(fds, n, ts, mask, fdslen);
  if (fdslen / sizeof *fds < n) {
    ips_hook_leave();
    return real___ppoll_chk(fds, n, ts, mask, fdslen);
  }
  return poll_common(NULL, real_ppoll, fds, n, 0, ts, mask, IPS_CALLER());
}

/* ---- epoll ---- */

static int epoll_created(int r, int e, int flags, uint64_t caller) {
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (r >= 0 && ips_fd_probe(r, &fi) == 0) {
    fi.otype = IPS_OTYPE_EPOLL;
    ips_fd_set(r, &fi);
  }
  IPS_EMIT(EPOLL_CREATE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)flags, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int epoll_create(int size) {
  IPS_REAL_DECL(epoll_create, int, int);
  if (!ips_hook_enter()) return real_epoll_create(size);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(EPOLL_CREATE, caller);
  int r = real_epoll_create(size);
  return epoll_created(r, errno, 0, caller);
}

IPS_EXPORT int epoll_create1(int flags) {
  IPS_REAL_DECL(epoll_create1, int, int);
  if (!ips_hook_enter()) return real_epoll_create1(flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(EPOLL_CREATE, caller);
  int r = real_epoll_create1(flags);
  return epoll_created(r, errno, flags, caller);
}

IPS_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) {
  IPS_REAL_DECL(epoll_ctl, int, int, int, int, struct epoll_event *);
  if (!ips_hook_enter()) return real_epoll_ctl(epfd, op, fd, ev);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(EPOLL_CTL, caller);
  int r = real_epoll_ctl(epfd, op, fd, ev);
  int e = errno;
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  IPS_EMIT(EPOLL_CTL, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)epfd, (uint64_t)op,
           (uint64_t)(int64_t)fd, ev ? ev->events : 0, ev ? ev->data.u64 : 0, fi.otype, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

/* struct epoll_event is packed (12 bytes) on x86-64: widen to (u32 events, u32 0, u64 data). */
static uint32_t epoll_blob(const struct epoll_event *ev, int n, uint64_t *out) {
  if (n > MAX_ENTRIES / 2) n = MAX_ENTRIES / 2;
  for (int i = 0; i < n; i++) {
    out[2 * i] = ev[i].events;
    out[2 * i + 1] = ev[i].data.u64;
  }
  return n > 0 ? (uint32_t)n * 16 : 0;
}

#define EPOLL_WAIT_BODY(how, tns, call)                                                                      \
  do {                                                                                                       \
    uint64_t caller = IPS_CALLER();                                                                          \
    IPS_EMIT(EPOLL_WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)epfd, (uint64_t)maxevents, \
             tns, how);                                                                                      \
    IPS_PAUSE_POINT(EPOLL_WAIT, caller);                                                                     \
    int r = call;                                                                                            \
    int e = errno;                                                                                           \
    uint64_t blob[MAX_ENTRIES];                                                                              \
    uint32_t bl = r > 0 ? epoll_blob(events, r, blob) : 0;                                                   \
    IPS_EMIT(EPOLL_WAIT, IPS_PHASE_END, r, r < 0 ? e : 0, caller, blob, bl, (uint64_t)(int64_t)epfd,         \
             (uint64_t)maxevents, tns, how);                                                                 \
    IPS_RETURN(r, e);                                                                                        \
  } while (0)

IPS_EXPORT int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) {
  IPS_REAL_DECL(epoll_wait, int, int, struct epoll_event *, int, int);
  if (!ips_hook_enter()) return real_epoll_wait(epfd, events, maxevents, timeout);
  EPOLL_WAIT_BODY(IPS_EPOLL_WAIT_HOW_EPOLL_WAIT, timeout < 0 ? (uint64_t)-1 : (uint64_t)timeout * 1000000ull,
                  IPS_CANCELLABLE(int, real_epoll_wait(epfd, events, maxevents, timeout), SYS_epoll_wait, epfd, events,
                                  maxevents, timeout, 0, 0));
}

IPS_EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *mask) {
  IPS_REAL_DECL(epoll_pwait, int, int, struct epoll_event *, int, int, const sigset_t *);
  if (!ips_hook_enter()) return real_epoll_pwait(epfd, events, maxevents, timeout, mask);
  EPOLL_WAIT_BODY(IPS_EPOLL_WAIT_HOW_EPOLL_PWAIT, timeout < 0 ? (uint64_t)-1 : (uint64_t)timeout * 1000000ull,
                  IPS_CANCELLABLE(int, real_epoll_pwait(epfd, events, maxevents, timeout, mask), SYS_epoll_pwait, epfd,
                                  events, maxevents, timeout, mask, 8 /* the kernel's sigset_t */));
}

IPS_EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *ts,
                            const sigset_t *mask) {
  IPS_REAL_DECL(epoll_pwait2, int, int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
  if (!ips_hook_enter()) return real_epoll_pwait2(epfd, events, maxevents, ts, mask);
  EPOLL_WAIT_BODY(IPS_EPOLL_WAIT_HOW_EPOLL_PWAIT2, ts_ns(ts), real_epoll_pwait2(epfd, events, maxevents, ts, mask));
}

/* ---- eventfd ---- */

IPS_EXPORT int eventfd(unsigned initval, int flags) {
  IPS_REAL_DECL(eventfd, int, unsigned, int);
  if (!ips_hook_enter()) return real_eventfd(initval, flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(EVENTFD, caller);
  int r = real_eventfd(initval, flags);
  int e = errno;
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (r >= 0 && ips_fd_probe(r, &fi) == 0) { /* ino: the kernel's eventfd-id (all eventfds share one anon inode) */
    fi.otype = IPS_OTYPE_EVENTFD;
    ips_fd_set(r, &fi);
  }
  IPS_EMIT(EVENTFD, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, initval, (uint64_t)flags, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

/* glibc's eventfd_read/eventfd_write call its internal read/write, which no preload can see: record them here as
 * the read/write they are. */
IPS_EXPORT int eventfd_read(int fd, eventfd_t *value) {
  IPS_REAL_DECL(eventfd_read, int, int, eventfd_t *);
  if (!ips_hook_enter()) return real_eventfd_read(fd, value);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  ips_emit_io(IPS_EV_READ, IPS_PHASE_BEGIN, 0, 0, 0, caller, fd, 8, &fi, (uint64_t)-1, IPS_READ_HOW_READ, 0, NULL, 0);
  IPS_PAUSE_POINT(READ, caller);
  int r = real_eventfd_read(fd, value);
  int e = errno;
  ips_emit_io(IPS_EV_READ, IPS_PHASE_END, 0, r == 0 ? 8 : -1, r < 0 ? e : 0, caller, fd, 8, &fi, (uint64_t)-1,
              IPS_READ_HOW_READ, 0, value, r == 0 ? ips_preview_len(8, NULL) : 0);
  IPS_RETURN(r, e);
}

IPS_EXPORT int eventfd_write(int fd, eventfd_t value) {
  IPS_REAL_DECL(eventfd_write, int, int, eventfd_t);
  if (!ips_hook_enter()) return real_eventfd_write(fd, value);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  ips_emit_io(IPS_EV_WRITE, IPS_PHASE_BEGIN, 0, 0, 0, caller, fd, 8, &fi, (uint64_t)-1, IPS_WRITE_HOW_WRITE, 0, NULL,
              0);
  IPS_PAUSE_POINT(WRITE, caller);
  int r = real_eventfd_write(fd, value);
  int e = errno;
  ips_emit_io(IPS_EV_WRITE, IPS_PHASE_END, 0, r == 0 ? 8 : -1, r < 0 ? e : 0, caller, fd, 8, &fi, (uint64_t)-1,
              IPS_WRITE_HOW_WRITE, 0, &value, r == 0 ? ips_preview_len(8, NULL) : 0);
  IPS_RETURN(r, e);
}
