/* fd hooks: open/close/dup/fcntl, pipes and FIFOs, the read and write families, ftruncate.
 * Every hook follows the template in ipcscope.h; reads and writes are begin/end (they can block), the rest instant.
 * The payload preview is the first ips_cfg.payload_bytes bytes, gathered across iovecs into a stack buffer. */
#include "ipcscope.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define NO_OFFSET ((uint64_t)-1) /* read/write at the file position (not pread/pwrite) */

_Static_assert(IPS_EV_READ_NARGS == 8 && IPS_EV_WRITE_NARGS == 8, "read/write layout");

void ips_emit_io(uint16_t kind, uint8_t phase, uint16_t flags, int64_t result, int err, uint64_t caller, int fd,
                 uint64_t count, const struct ips_fdinfo *fi, uint64_t offset, unsigned how, uint64_t peer,
                 const void *blob, uint32_t blob_len) {
  if (fi->nonblock) flags |= IPS_FLAG_NON_BLOCKING;
  const uint64_t args[] = IPS_IO_ARGS(fd, count, fi, offset, how, peer);
  if (ips_emit_flags)
    ips_emit_flags(kind, phase, flags, result, err, caller, 8, args, blob, blob_len);
  else
    ips_emit(kind, phase, result, err, caller, 8, args, blob, blob_len);
}

uint32_t ips_gather_iov(const void *iovp, int iovcnt, size_t total, char *buf, int *truncated) {
  const struct iovec *iov = iovp;
  uint32_t want = ips_preview_len(total, truncated), got = 0;
  for (int i = 0; i < iovcnt && got < want; i++) {
    size_t n = iov[i].iov_len;
    if (n > want - got) n = want - got;
    if (n) memcpy(buf + got, iov[i].iov_base, n);
    got += (uint32_t)n;
  }
  return got;
}

static size_t iov_total(const struct iovec *iov, int iovcnt) {
  size_t t = 0;
  for (int i = 0; iov && i < iovcnt; i++) t += iov[i].iov_len;
  return t;
}

/* ---- reads and writes ---- */

/* One body for every contiguous-buffer read/write: begin, pause point, real call, end with the preview. */
#define IO_CONTIG(KIND, how, fd, buf, count, offset, call)                                              \
  do {                                                                                                  \
    uint64_t caller = IPS_CALLER();                                                                     \
    struct ips_fdinfo fi;                                                                               \
    ips_fd_info_or_zero(fd, &fi);                                                                       \
    uint64_t ticket = ips_io_begin(IPS_EV_##KIND, 0, caller, fd, count, &fi, offset, how, fi.peer);     \
    IPS_PAUSE_POINT(KIND, caller);                                                                      \
    ssize_t r = call;                                                                                   \
    int e = IPS_IO_ERRNO(r);                                                                            \
    ips_fd_refresh_peer(fd, &fi);                                                                       \
    int trunc = 0;                                                                                      \
    uint32_t pn = r > 0 ? ips_preview_len((size_t)r, &trunc) : 0;                                       \
    ips_io_end(ticket, IPS_EV_##KIND, trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0, r, e, caller,             \
               fd, count, &fi, offset, how, fi.peer, buf, pn);                                          \
    IPS_IO_RETURN(r, e);                                                                                \
  } while (0)

#define IO_VEC(KIND, how, fd, iov, iovcnt, offset, call)                                                \
  do {                                                                                                  \
    uint64_t caller = IPS_CALLER();                                                                     \
    struct ips_fdinfo fi;                                                                               \
    ips_fd_info_or_zero(fd, &fi);                                                                       \
    size_t total = iov_total(iov, iovcnt);                                                              \
    uint64_t ticket = ips_io_begin(IPS_EV_##KIND, 0, caller, fd, total, &fi, offset, how, fi.peer);     \
    IPS_PAUSE_POINT(KIND, caller);                                                                      \
    ssize_t r = call;                                                                                   \
    int e = IPS_IO_ERRNO(r);                                                                            \
    ips_fd_refresh_peer(fd, &fi);                                                                       \
    int trunc = 0;                                                                                      \
    char pv[IPS_PREVIEW_MAX];                                                                           \
    uint32_t pn = r > 0 ? ips_gather_iov(iov, iovcnt, (size_t)r, pv, &trunc) : 0;                       \
    ips_io_end(ticket, IPS_EV_##KIND, trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0, r, e, caller,             \
               fd, total, &fi, offset, how, fi.peer, pv, pn);                                           \
    IPS_IO_RETURN(r, e);                                                                                \
  } while (0)

IPS_EXPORT IPS_HOT ssize_t read(int fd, void *buf, size_t n) {
  IPS_REAL_DECL(read, ssize_t, int, void *, size_t);
  if (!ips_hook_enter()) return real_read(fd, buf, n);
  IO_CONTIG(READ, IPS_READ_HOW_READ, fd, buf, n, NO_OFFSET,
          IPS_CANCELLABLE(ssize_t, real_read(fd, buf, n), SYS_read, fd, buf, n, 0, 0, 0));
}

IPS_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) {
  IPS_REAL_DECL(__read_chk, ssize_t, int, void *, size_t, size_t);
  if (n > buflen || !ips_hook_enter()) return real___read_chk(fd, buf, n, buflen);
  IO_CONTIG(READ, IPS_READ_HOW_READ, fd, buf, n, NO_OFFSET,
          IPS_CANCELLABLE(ssize_t, real___read_chk(fd, buf, n, buflen), SYS_read, fd, buf, n, 0, 0, 0));
}

IPS_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  IPS_REAL_DECL(pread, ssize_t, int, void *, size_t, off_t);
  if (!ips_hook_enter()) return real_pread(fd, buf, n, off);
  IO_CONTIG(READ, IPS_READ_HOW_PREAD, fd, buf, n, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_pread(fd, buf, n, off), SYS_pread64, fd, buf, n, off, 0, 0));
}

IPS_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off) {
  IPS_REAL_DECL(pread64, ssize_t, int, void *, size_t, off64_t);
  if (!ips_hook_enter()) return real_pread64(fd, buf, n, off);
  IO_CONTIG(READ, IPS_READ_HOW_PREAD, fd, buf, n, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_pread64(fd, buf, n, off), SYS_pread64, fd, buf, n, off, 0, 0));
}

/* _FORTIFY_SOURCE variants (Debian builds its packages with them). n > buflen: glibc's __chk_fail, untraced. */
IPS_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) {
  IPS_REAL_DECL(__pread_chk, ssize_t, int, void *, size_t, off_t, size_t);
  if (n > buflen || !ips_hook_enter()) return real___pread_chk(fd, buf, n, off, buflen);
  IO_CONTIG(READ, IPS_READ_HOW_PREAD, fd, buf, n, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real___pread_chk(fd, buf, n, off, buflen), SYS_pread64, fd, buf, n, off, 0, 0));
}

IPS_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen) {
  IPS_REAL_DECL(__pread64_chk, ssize_t, int, void *, size_t, off64_t, size_t);
  if (n > buflen || !ips_hook_enter()) return real___pread64_chk(fd, buf, n, off, buflen);
  IO_CONTIG(READ, IPS_READ_HOW_PREAD, fd, buf, n, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real___pread64_chk(fd, buf, n, off, buflen), SYS_pread64, fd, buf, n, off, 0, 0));
}

IPS_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt) {
  IPS_REAL_DECL(readv, ssize_t, int, const struct iovec *, int);
  if (!ips_hook_enter()) return real_readv(fd, iov, iovcnt);
  IO_VEC(READ, IPS_READ_HOW_READV, fd, iov, iovcnt, NO_OFFSET,
          IPS_CANCELLABLE(ssize_t, real_readv(fd, iov, iovcnt), SYS_readv, fd, iov, iovcnt, 0, 0, 0));
}

IPS_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int iovcnt, off_t off) {
  IPS_REAL_DECL(preadv, ssize_t, int, const struct iovec *, int, off_t);
  if (!ips_hook_enter()) return real_preadv(fd, iov, iovcnt, off);
  IO_VEC(READ, IPS_READ_HOW_PREADV, fd, iov, iovcnt, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_preadv(fd, iov, iovcnt, off), SYS_preadv, fd, iov, iovcnt, off, 0, 0));
}

IPS_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int iovcnt, off64_t off) {
  IPS_REAL_DECL(preadv64, ssize_t, int, const struct iovec *, int, off64_t);
  if (!ips_hook_enter()) return real_preadv64(fd, iov, iovcnt, off);
  IO_VEC(READ, IPS_READ_HOW_PREADV, fd, iov, iovcnt, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_preadv64(fd, iov, iovcnt, off), SYS_preadv, fd, iov, iovcnt, off, 0, 0));
}

IPS_EXPORT IPS_HOT ssize_t write(int fd, const void *buf, size_t n) {
  IPS_REAL_DECL(write, ssize_t, int, const void *, size_t);
  if (!ips_hook_enter()) return real_write(fd, buf, n);
  IO_CONTIG(WRITE, IPS_WRITE_HOW_WRITE, fd, buf, n, NO_OFFSET,
          IPS_CANCELLABLE(ssize_t, real_write(fd, buf, n), SYS_write, fd, buf, n, 0, 0, 0));
}

IPS_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  IPS_REAL_DECL(pwrite, ssize_t, int, const void *, size_t, off_t);
  if (!ips_hook_enter()) return real_pwrite(fd, buf, n, off);
  IO_CONTIG(WRITE, IPS_WRITE_HOW_PWRITE, fd, buf, n, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_pwrite(fd, buf, n, off), SYS_pwrite64, fd, buf, n, off, 0, 0));
}

IPS_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  IPS_REAL_DECL(pwrite64, ssize_t, int, const void *, size_t, off64_t);
  if (!ips_hook_enter()) return real_pwrite64(fd, buf, n, off);
  IO_CONTIG(WRITE, IPS_WRITE_HOW_PWRITE, fd, buf, n, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_pwrite64(fd, buf, n, off), SYS_pwrite64, fd, buf, n, off, 0, 0));
}

IPS_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
  IPS_REAL_DECL(writev, ssize_t, int, const struct iovec *, int);
  if (!ips_hook_enter()) return real_writev(fd, iov, iovcnt);
  IO_VEC(WRITE, IPS_WRITE_HOW_WRITEV, fd, iov, iovcnt, NO_OFFSET,
          IPS_CANCELLABLE(ssize_t, real_writev(fd, iov, iovcnt), SYS_writev, fd, iov, iovcnt, 0, 0, 0));
}

IPS_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int iovcnt, off_t off) {
  IPS_REAL_DECL(pwritev, ssize_t, int, const struct iovec *, int, off_t);
  if (!ips_hook_enter()) return real_pwritev(fd, iov, iovcnt, off);
  IO_VEC(WRITE, IPS_WRITE_HOW_PWRITEV, fd, iov, iovcnt, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_pwritev(fd, iov, iovcnt, off), SYS_pwritev, fd, iov, iovcnt, off, 0, 0));
}

IPS_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int iovcnt, off64_t off) {
  IPS_REAL_DECL(pwritev64, ssize_t, int, const struct iovec *, int, off64_t);
  if (!ips_hook_enter()) return real_pwritev64(fd, iov, iovcnt, off);
  IO_VEC(WRITE, IPS_WRITE_HOW_PWRITEV, fd, iov, iovcnt, (uint64_t)off,
          IPS_CANCELLABLE(ssize_t, real_pwritev64(fd, iov, iovcnt, off), SYS_pwritev, fd, iov, iovcnt, off, 0, 0));
}

/* ---- open family ---- */

static int open_has_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

static int open_common(int dirfd, const char *path, int flags, mode_t mode, uint64_t caller, int r, int e) {
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (r >= 0 && ips_fd_probe(r, &fi) == 0) ips_fd_set(r, &fi);
  uint32_t plen = path ? (uint32_t)strnlen(path, 4096) : 0;
  IPS_EMIT(OPEN, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, path, plen, (uint64_t)(int64_t)dirfd,
           (uint64_t)flags, mode, fi.otype, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

#define OPEN_BODY(name, dirfd, call)                    \
  do {                                                  \
    uint64_t caller = IPS_CALLER();                     \
    IPS_PAUSE_POINT(OPEN, caller);                      \
    int r = call;                                       \
    int e = errno;                                      \
    return open_common(dirfd, path, flags, mode, caller, r, e); \
  } while (0)

IPS_EXPORT int open(const char *path, int flags, ...) {
  IPS_REAL_DECL(open, int, const char *, int, ...);
  mode_t mode = 0;
  if (open_has_mode(flags)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  if (!ips_hook_enter()) return real_open(path, flags, mode);
  OPEN_BODY(open, AT_FDCWD, real_open(path, flags, mode));
}

IPS_EXPORT int open64(const char *path, int flags, ...) {
  IPS_REAL_DECL(open64, int, const char *, int, ...);
  mode_t mode = 0;
  if (open_has_mode(flags)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  if (!ips_hook_enter()) return real_open64(path, flags, mode);
  OPEN_BODY(open64, AT_FDCWD, real_open64(path, flags, mode));
}

IPS_EXPORT int openat(int dirfd, const char *path, int flags, ...) {
  IPS_REAL_DECL(openat, int, int, const char *, int, ...);
  mode_t mode = 0;
  if (open_has_mode(flags)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  if (!ips_hook_enter()) return real_openat(dirfd, path, flags, mode);
  OPEN_BODY(openat, dirfd, real_openat(dirfd, path, flags, mode));
}

IPS_EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
  IPS_REAL_DECL(openat64, int, int, const char *, int, ...);
  mode_t mode = 0;
  if (open_has_mode(flags)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, mode_t); va_end(ap); }
  if (!ips_hook_enter()) return real_openat64(dirfd, path, flags, mode);
  OPEN_BODY(openat64, dirfd, real_openat64(dirfd, path, flags, mode));
}

IPS_EXPORT int creat(const char *path, mode_t mode) {
  IPS_REAL_DECL(creat, int, const char *, mode_t);
  if (!ips_hook_enter()) return real_creat(path, mode);
  int flags = O_CREAT | O_WRONLY | O_TRUNC;
  OPEN_BODY(creat, AT_FDCWD, real_creat(path, mode));
}

IPS_EXPORT int creat64(const char *path, mode_t mode) {
  IPS_REAL_DECL(creat64, int, const char *, mode_t);
  if (!ips_hook_enter()) return real_creat64(path, mode);
  int flags = O_CREAT | O_WRONLY | O_TRUNC;
  OPEN_BODY(creat64, AT_FDCWD, real_creat64(path, mode));
}

/* _FORTIFY_SOURCE variants (open without O_CREAT). */
IPS_EXPORT int __open_2(const char *path, int flags) {
  IPS_REAL_DECL(__open_2, int, const char *, int);
  if (!ips_hook_enter()) return real___open_2(path, flags);
  mode_t mode = 0;
  OPEN_BODY(__open_2, AT_FDCWD, real___open_2(path, flags));
}

IPS_EXPORT int __open64_2(const char *path, int flags) {
  IPS_REAL_DECL(__open64_2, int, const char *, int);
  if (!ips_hook_enter()) return real___open64_2(path, flags);
  mode_t mode = 0;
  OPEN_BODY(__open64_2, AT_FDCWD, real___open64_2(path, flags));
}

IPS_EXPORT int __openat_2(int dirfd, const char *path, int flags) {
  IPS_REAL_DECL(__openat_2, int, int, const char *, int);
  if (!ips_hook_enter()) return real___openat_2(dirfd, path, flags);
  mode_t mode = 0;
  OPEN_BODY(__openat_2, dirfd, real___openat_2(dirfd, path, flags));
}

IPS_EXPORT int __openat64_2(int dirfd, const char *path, int flags) {
  IPS_REAL_DECL(__openat64_2, int, int, const char *, int);
  if (!ips_hook_enter()) return real___openat64_2(dirfd, path, flags);
  mode_t mode = 0;
  OPEN_BODY(__openat64_2, dirfd, real___openat64_2(dirfd, path, flags));
}

/* ---- close and dup ---- */

IPS_EXPORT int close(int fd) {
  IPS_REAL_DECL(close, int, int);
  if (IPS_UNLIKELY(fd >= 900) && ips_internal_fd(fd)) return 0; /* the shim's own fd: the program never had it */
  if (!ips_hook_enter()) return real_close(fd);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  /* forget first: once the real close returns, another thread may get this number back from open */
  ips_fd_forget(fd);
  IPS_PAUSE_POINT(CLOSE, caller);
  int r = real_close(fd);
  int e = errno;
  IPS_EMIT(CLOSE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, fi.otype, fi.dev,
           fi.ino);
  IPS_RETURN(r, e);
}

/* close_range/closefrom: no event kind of their own; keep the table honest so later lookups re-probe. */
IPS_EXPORT int close_range(unsigned first, unsigned last, int flags) {
  IPS_REAL_DECL(close_range, int, unsigned, unsigned, int);
  if (!ips_hook_enter()) return ips_cfg.enabled ? ips_close_range_sparing(first, last, flags, real_close_range)
                                                 : real_close_range(first, last, flags);
  int r = ips_close_range_sparing(first, last, flags, real_close_range); /* keeps the shim's own fds */
  int e = errno;
  if (r == 0) ips_fd_forget_range(first, last); /* also after CLOSE_RANGE_CLOEXEC: re-probe the bits */
  IPS_RETURN(r, e);
}

/* glibc's closefrom is close_range(lowfd, ~0U, 0) inside libc, which would close the shim's own fds too. */
IPS_EXPORT void closefrom(int lowfd) {
  IPS_REAL_DECL(closefrom, void, int);
  IPS_REAL_DECL(close_range, int, unsigned, unsigned, int);
  if (!ips_cfg.enabled || lowfd < 0) { real_closefrom(lowfd); return; }
  int traced = ips_hook_enter();
  if (ips_close_range_sparing((unsigned)lowfd, ~0u, 0, real_close_range) != 0) real_closefrom(lowfd);
  if (!traced) return;
  int e = errno;
  ips_fd_forget_range((unsigned)lowfd, ~0u);
  ips_hook_leave();
  errno = e;
}

static void dup_common(uint64_t caller, int oldfd, int newfd_req, int r, int e, int flags, unsigned how) {
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(oldfd, &fi);
  if (r >= 0) {
    struct ips_fdinfo ni = fi;
    ni.cloexec = (flags & O_CLOEXEC) != 0;
    ips_fd_set(r, &ni);
  }
  (void)newfd_req;
  IPS_EMIT(DUP, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)oldfd,
           (uint64_t)(int64_t)r, (uint64_t)flags, how, fi.otype, fi.dev, fi.ino);
}

IPS_EXPORT int dup(int oldfd) {
  IPS_REAL_DECL(dup, int, int);
  if (!ips_hook_enter()) return real_dup(oldfd);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(DUP, caller);
  int r = real_dup(oldfd);
  int e = errno;
  dup_common(caller, oldfd, -1, r, e, 0, IPS_DUP_HOW_DUP);
  IPS_RETURN(r, e);
}

IPS_EXPORT int dup2(int oldfd, int newfd) {
  IPS_REAL_DECL(dup2, int, int, int);
  if (!ips_hook_enter()) return real_dup2(oldfd, newfd);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  if (oldfd != newfd && ips_fd_info(oldfd, &fi) == 0) ips_fd_forget(newfd); /* target is closed implicitly */
  IPS_PAUSE_POINT(DUP, caller);
  int r = real_dup2(oldfd, newfd);
  int e = errno;
  if (r >= 0 && oldfd == newfd) {
    IPS_EMIT(DUP, IPS_PHASE_INSTANT, r, 0, caller, NULL, 0, (uint64_t)(int64_t)oldfd, (uint64_t)(int64_t)r, 0,
             IPS_DUP_HOW_DUP2, 0, 0, 0);
  } else {
    dup_common(caller, oldfd, newfd, r, e, 0, IPS_DUP_HOW_DUP2);
  }
  IPS_RETURN(r, e);
}

IPS_EXPORT int dup3(int oldfd, int newfd, int flags) {
  IPS_REAL_DECL(dup3, int, int, int, int);
  if (!ips_hook_enter()) return real_dup3(oldfd, newfd, flags);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  if (oldfd != newfd && ips_fd_info(oldfd, &fi) == 0) ips_fd_forget(newfd);
  IPS_PAUSE_POINT(DUP, caller);
  int r = real_dup3(oldfd, newfd, flags);
  int e = errno;
  dup_common(caller, oldfd, newfd, r, e, flags, IPS_DUP_HOW_DUP3);
  IPS_RETURN(r, e);
}

/* ---- fcntl ---- */

static int is_lock_cmd(int cmd) {
  return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW ||
         cmd == F_OFD_GETLK;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg, uint64_t caller) {
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
    IPS_PAUSE_POINT(DUP, caller);
    int r = real(fd, cmd, arg);
    int e = errno;
    dup_common(caller, fd, -1, r, e, cmd == F_DUPFD_CLOEXEC ? O_CLOEXEC : 0,
               cmd == F_DUPFD_CLOEXEC ? IPS_DUP_HOW_FCNTL_DUPFD_CLOEXEC : IPS_DUP_HOW_FCNTL_DUPFD);
    IPS_RETURN(r, e);
  }
  if (is_lock_cmd(cmd)) {
    struct flock *fl = arg;
    uint64_t type = fl ? (uint64_t)fl->l_type : 0, whence = fl ? (uint64_t)fl->l_whence : 0;
    uint64_t start = fl ? (uint64_t)fl->l_start : 0, len = fl ? (uint64_t)fl->l_len : 0;
    IPS_EMIT(FCNTL_LOCK, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)cmd, type, whence,
             start, len, fi.dev, fi.ino);
    IPS_PAUSE_POINT(FCNTL_LOCK, caller);
    int r = real(fd, cmd, arg);
    int e = errno;
    if (fl && r == 0) { /* F_GETLK fills in the conflicting lock (or F_UNLCK) */
      type = (uint64_t)fl->l_type;
      whence = (uint64_t)fl->l_whence;
      start = (uint64_t)fl->l_start;
      len = (uint64_t)fl->l_len;
    }
    IPS_EMIT(FCNTL_LOCK, IPS_PHASE_END, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)cmd, type,
             whence, start, len, fi.dev, fi.ino);
    IPS_RETURN(r, e);
  }
  IPS_PAUSE_POINT(FCNTL, caller);
  int r = real(fd, cmd, arg);
  int e = errno;
  if (r >= 0 && cmd == F_SETFD) {
    fi.cloexec = ((uintptr_t)arg & FD_CLOEXEC) != 0;
    ips_fd_set(fd, &fi);
  } else if (r >= 0 && cmd == F_SETFL) {
    fi.nonblock = ((uintptr_t)arg & O_NONBLOCK) != 0;
    ips_fd_set(fd, &fi);
  }
  IPS_EMIT(FCNTL, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)cmd,
           (uint64_t)(uintptr_t)arg, fi.otype, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

/* The third argument is an int, a long or a pointer depending on cmd; on x86-64 and aarch64 all travel in one
 * register/slot, which is why glibc itself reads it as void *. */
IPS_EXPORT int fcntl(int fd, int cmd, ...) {
  IPS_REAL_DECL(fcntl, int, int, int, ...);
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (!ips_hook_enter()) return real_fcntl(fd, cmd, arg);
  return fcntl_common(real_fcntl, fd, cmd, arg, IPS_CALLER());
}

IPS_EXPORT int fcntl64(int fd, int cmd, ...) {
  IPS_REAL_DECL(fcntl64, int, int, int, ...);
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  if (!ips_hook_enter()) return real_fcntl64(fd, cmd, arg);
  return fcntl_common(real_fcntl64, fd, cmd, arg, IPS_CALLER());
}

/* ---- pipes and FIFOs ---- */

static int pipe_common(int *fds, int flags, int r, int e, uint64_t caller) {
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (r == 0 && ips_fd_probe(fds[0], &fi) == 0) {
    fi.otype = IPS_OTYPE_PIPE;
    fi.cloexec = (flags & O_CLOEXEC) != 0;
    fi.nonblock = (flags & O_NONBLOCK) != 0;
    ips_fd_set(fds[0], &fi);
    ips_fd_set(fds[1], &fi);
  }
  IPS_EMIT(PIPE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, r == 0 ? (uint64_t)(int64_t)fds[0] : (uint64_t)-1,
           r == 0 ? (uint64_t)(int64_t)fds[1] : (uint64_t)-1, (uint64_t)flags, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int pipe(int fds[2]) {
  IPS_REAL_DECL(pipe, int, int *);
  if (!ips_hook_enter()) return real_pipe(fds);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(PIPE, caller);
  int r = real_pipe(fds);
  int e = errno;
  return pipe_common(fds, 0, r, e, caller);
}

IPS_EXPORT int pipe2(int fds[2], int flags) {
  IPS_REAL_DECL(pipe2, int, int *, int);
  if (!ips_hook_enter()) return real_pipe2(fds, flags);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(PIPE, caller);
  int r = real_pipe2(fds, flags);
  int e = errno;
  return pipe_common(fds, flags, r, e, caller);
}

static int mkfifo_emit(int dirfd, const char *path, mode_t mode, int r, int e, uint64_t caller) {
  IPS_EMIT(MKFIFO, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, path, path ? (uint32_t)strnlen(path, 4096) : 0,
           (uint64_t)(int64_t)dirfd, mode);
  IPS_RETURN(r, e);
}

IPS_EXPORT int mkfifo(const char *path, mode_t mode) {
  IPS_REAL_DECL(mkfifo, int, const char *, mode_t);
  if (!ips_hook_enter()) return real_mkfifo(path, mode);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MKFIFO, caller);
  int r = real_mkfifo(path, mode);
  int e = errno;
  return mkfifo_emit(AT_FDCWD, path, mode, r, e, caller);
}

IPS_EXPORT int mkfifoat(int dirfd, const char *path, mode_t mode) {
  IPS_REAL_DECL(mkfifoat, int, int, const char *, mode_t);
  if (!ips_hook_enter()) return real_mkfifoat(dirfd, path, mode);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MKFIFO, caller);
  int r = real_mkfifoat(dirfd, path, mode);
  int e = errno;
  return mkfifo_emit(dirfd, path, mode, r, e, caller);
}

IPS_EXPORT int mknod(const char *path, mode_t mode, dev_t dev) {
  IPS_REAL_DECL(mknod, int, const char *, mode_t, dev_t);
  if (!S_ISFIFO(mode) || !ips_hook_enter()) return real_mknod(path, mode, dev);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MKFIFO, caller);
  int r = real_mknod(path, mode, dev);
  int e = errno;
  return mkfifo_emit(AT_FDCWD, path, mode, r, e, caller);
}

IPS_EXPORT int mknodat(int dirfd, const char *path, mode_t mode, dev_t dev) {
  IPS_REAL_DECL(mknodat, int, int, const char *, mode_t, dev_t);
  if (!S_ISFIFO(mode) || !ips_hook_enter()) return real_mknodat(dirfd, path, mode, dev);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(MKFIFO, caller);
  int r = real_mknodat(dirfd, path, mode, dev);
  int e = errno;
  return mkfifo_emit(dirfd, path, mode, r, e, caller);
}

/* ---- ftruncate (sizing shared memory objects) ---- */

static int ftruncate_emit(int fd, uint64_t len, int r, int e, uint64_t caller) {
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  IPS_EMIT(FTRUNCATE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, len, fi.otype,
           fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int ftruncate(int fd, off_t len) {
  IPS_REAL_DECL(ftruncate, int, int, off_t);
  if (!ips_hook_enter()) return real_ftruncate(fd, len);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(FTRUNCATE, caller);
  int r = real_ftruncate(fd, len);
  int e = errno;
  return ftruncate_emit(fd, (uint64_t)len, r, e, caller);
}

IPS_EXPORT int ftruncate64(int fd, off64_t len) {
  IPS_REAL_DECL(ftruncate64, int, int, off64_t);
  if (!ips_hook_enter()) return real_ftruncate64(fd, len);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(FTRUNCATE, caller);
  int r = real_ftruncate64(fd, len);
  int e = errno;
  return ftruncate_emit(fd, (uint64_t)len, r, e, caller);
}

/* ---- stdio output ----
 * printf/fwrite/puts… reach the kernel through glibc's internal write, which no preload can interpose; a program
 * printing into a pipe would show reads with no writer. So the output functions are wrapped: the FILE's pending
 * buffer is measured before and after the real call (under the FILE lock), and when bytes left for the kernel
 * during the call — pending before + bytes added − pending after — one write begin/end pair is recorded for them on
 * the stream's fd (how=write), begin at the call's start. Nothing is recorded while output only accumulates in the
 * buffer. The preview is the pending bytes followed by the call's own data (for the printf family only the pending
 * part is known, so a preview there may be short and is flagged truncated). At exit the streams are flushed through
 * the same path before glibc's own final flush, which would come after the shim's last message. */
#include <stdio.h>
#include <stdlib.h>
#undef fwrite_unlocked
#undef fputs_unlocked

/* glibc exports these (GLIBC_2.2.5) without declaring them: the list of open streams and its lock. */
extern void *_IO_list_all;
extern void _IO_list_lock(void);
extern void _IO_list_unlock(void);

/* glibc declares the FILE arguments nonnull; a program may still pass NULL, and we must not touch it then. */
static inline FILE *opaque(FILE *f) {
  __asm__("" : "+r"(f));
  return f;
}

struct stdio_pre {
  uint64_t t0;
  size_t pend0;
  uint32_t pvn;
  int err0;
  char pv[IPS_PREVIEW_MAX];
};

static size_t stdio_pending(FILE *f) {
  if (!f->_IO_write_base || f->_IO_write_ptr <= f->_IO_write_base) return 0;
  return (size_t)(f->_IO_write_ptr - f->_IO_write_base);
}

static void stdio_before(FILE *f, struct stdio_pre *s) {
  s->t0 = ips_now_ns();
  s->pend0 = stdio_pending(f);
  s->pvn = ips_preview_len(s->pend0, NULL);
  if (s->pvn) memcpy(s->pv, f->_IO_write_base, s->pvn);
  s->err0 = (f->_flags & _IO_ERR_SEEN) != 0;
}

static void stdio_exit_flush(void);

/* Records the bytes that went to the kernel between stdio_before and now. added: bytes the call put into the stream
 * (-1 unknown: then only an error is recorded); data: those bytes when the caller has them. pend1: pending after
 * (SIZE_MAX: read it from f, which must still be valid). */
static void stdio_after(FILE *f, int fd, const struct stdio_pre *s, long added, const void *data, size_t pend1,
                        uint64_t caller, int e) {
  static int exit_hook;
  if (!__atomic_exchange_n(&exit_hook, 1, __ATOMIC_ACQ_REL)) atexit(stdio_exit_flush); /* after main's start, so it
                                                                  runs before _dl_fini and the shim's destructor */
  if (pend1 == (size_t)-1) pend1 = stdio_pending(f);
  long flushed = added < 0 ? 0 : (long)(s->pend0 + (size_t)added) - (long)pend1;
  int failed = f && !s->err0 && (f->_flags & _IO_ERR_SEEN);
  if (flushed <= 0 && !failed) return;
  if (fd < 0) return;
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  char pv[IPS_PREVIEW_MAX];
  int trunc = 0;
  uint32_t want = flushed > 0 ? ips_preview_len((size_t)flushed, &trunc) : 0, pn = 0;
  if (want) {
    pn = s->pvn < want ? s->pvn : want;
    memcpy(pv, s->pv, pn);
    if (pn < want && data && (size_t)flushed > s->pend0) {
      uint32_t more = want - pn;
      memcpy(pv + pn, data, more);
      pn += more;
    }
    if (pn < want) trunc = 1;
  }
  uint64_t count = flushed > 0 ? (uint64_t)flushed : 0;
  const uint64_t args[] = {(uint64_t)(int64_t)fd, count, fi.otype, fi.dev, fi.ino, (uint64_t)-1, IPS_WRITE_HOW_WRITE,
                           fi.peer};
  ips_emit_at(s->t0, ips_tid(), IPS_EV_WRITE, IPS_PHASE_BEGIN, 0, 0, caller, IPS_EV_WRITE_NARGS, args, NULL, 0);
  ips_emit_io(IPS_EV_WRITE, IPS_PHASE_END, trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0, failed ? -1 : flushed,
              failed ? e : 0, caller, fd, count, &fi, (uint64_t)-1, IPS_WRITE_HOW_WRITE, fi.peer, pv, pn);
}

/* One wrapper body: lock (unless _unlocked), measure, call, measure, unlock. */
#define STDIO_OUT(f, locked, added_expr, data, call_decl)                \
  do {                                                                  \
    uint64_t caller = IPS_CALLER();                                     \
    if (!opaque(f)) { call_decl; IPS_RETURN(r, errno); }                      \
    if (locked) flockfile(f);                                           \
    struct stdio_pre s;                                                 \
    stdio_before(f, &s);                                                \
    IPS_PAUSE_POINT(WRITE, caller);                                     \
    call_decl;                                                          \
    int e = errno;                                                      \
    stdio_after(f, (f)->_fileno, &s, (added_expr), (data), (size_t)-1, caller, e); \
    if (locked) funlockfile(f);                                         \
    IPS_RETURN(r, e);                                                   \
  } while (0)

IPS_EXPORT size_t fwrite(const void *p, size_t size, size_t n, FILE *f) {
  IPS_REAL_DECL(fwrite, size_t, const void *, size_t, size_t, FILE *);
  if (!ips_hook_enter()) return real_fwrite(p, size, n, f);
  STDIO_OUT(f, 1, (long)(r * size), p, size_t r = real_fwrite(p, size, n, f));
}

IPS_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t n, FILE *f) {
  IPS_REAL_DECL(fwrite_unlocked, size_t, const void *, size_t, size_t, FILE *);
  if (!ips_hook_enter()) return real_fwrite_unlocked(p, size, n, f);
  STDIO_OUT(f, 0, (long)(r * size), p, size_t r = real_fwrite_unlocked(p, size, n, f));
}

IPS_EXPORT int fputs(const char *str, FILE *f) {
  IPS_REAL_DECL(fputs, int, const char *, FILE *);
  if (!ips_hook_enter()) return real_fputs(str, f);
  STDIO_OUT(f, 1, r >= 0 ? (long)strlen(str) : 0, str, int r = real_fputs(str, f));
}

IPS_EXPORT int fputs_unlocked(const char *str, FILE *f) {
  IPS_REAL_DECL(fputs_unlocked, int, const char *, FILE *);
  if (!ips_hook_enter()) return real_fputs_unlocked(str, f);
  STDIO_OUT(f, 0, r >= 0 ? (long)strlen(str) : 0, str, int r = real_fputs_unlocked(str, f));
}

/* puts adds a newline the data pointer does not have: the preview then stops before it. */
IPS_EXPORT int puts(const char *str) {
  IPS_REAL_DECL(puts, int, const char *);
  if (!ips_hook_enter()) return real_puts(str);
  FILE *f = stdout;
  STDIO_OUT(f, 1, r >= 0 ? (long)strlen(str) + 1 : 0, str, int r = real_puts(str));
}

/* glibc's stream flag values (libio.h, stable ABI; not in the public headers) */
#define IPS_IO_UNBUFFERED 0x0002
#define IPS_IO_LINE_BUF 0x0200

/* Fast path for single characters: room in a fully buffered stream means no flush can happen in this call. */
static inline int putc_cannot_flush(FILE *f) {
  return opaque(f) && !(f->_flags & (IPS_IO_UNBUFFERED | IPS_IO_LINE_BUF)) && f->_IO_write_ptr &&
         f->_IO_write_ptr < f->_IO_write_end;
}

#define PUTC_HOOK(name, locked, file_expr, ...)                                        \
  IPS_EXPORT int name(__VA_ARGS__) {                                                   \
    IPS_REAL_DECL(name, int, PUTC_PROTO_##name);                                       \
    if (putc_cannot_flush(file_expr)) return real_##name(PUTC_ARGS_##name);            \
    if (!ips_hook_enter()) return real_##name(PUTC_ARGS_##name);                       \
    FILE *f = (file_expr);                                                             \
    unsigned char ch = (unsigned char)c;                                               \
    STDIO_OUT(f, locked, r == EOF ? 0 : 1, &ch, int r = real_##name(PUTC_ARGS_##name)); \
  }
#define PUTC_PROTO_fputc int, FILE *
#define PUTC_ARGS_fputc c, fp
#define PUTC_PROTO_putc int, FILE *
#define PUTC_ARGS_putc c, fp
#define PUTC_PROTO__IO_putc int, FILE *
#define PUTC_ARGS__IO_putc c, fp
#define PUTC_PROTO_fputc_unlocked int, FILE *
#define PUTC_ARGS_fputc_unlocked c, fp
#define PUTC_PROTO_putc_unlocked int, FILE *
#define PUTC_ARGS_putc_unlocked c, fp
#define PUTC_PROTO_putchar int
#define PUTC_ARGS_putchar c
#define PUTC_PROTO_putchar_unlocked int
#define PUTC_ARGS_putchar_unlocked c
#define PUTC_PROTO___overflow FILE *, int
#define PUTC_ARGS___overflow fp, c
#undef putc
#undef putchar
#undef putc_unlocked
#undef putchar_unlocked
#undef fputc_unlocked
PUTC_HOOK(fputc, 1, fp, int c, FILE *fp)
PUTC_HOOK(putc, 1, fp, int c, FILE *fp)
PUTC_HOOK(_IO_putc, 1, fp, int c, FILE *fp)
PUTC_HOOK(fputc_unlocked, 0, fp, int c, FILE *fp)
PUTC_HOOK(putc_unlocked, 0, fp, int c, FILE *fp)
PUTC_HOOK(putchar, 1, stdout, int c)
PUTC_HOOK(putchar_unlocked, 0, stdout, int c)
/* the inline putc_unlocked/putchar macros call __overflow when the buffer is full */
PUTC_HOOK(__overflow, 0, fp, FILE *fp, int c)

static int traced_vfprintf(FILE *f, int locked, int chk, int flag, const char *fmt, va_list ap, uint64_t caller) {
  IPS_REAL_DECL(vfprintf, int, FILE *, const char *, va_list);
  IPS_REAL_DECL(__vfprintf_chk, int, FILE *, int, const char *, va_list);
  if (locked) flockfile(f);
  struct stdio_pre s;
  stdio_before(f, &s);
  IPS_PAUSE_POINT(WRITE, caller);
  int r = chk ? real___vfprintf_chk(f, flag, fmt, ap) : real_vfprintf(f, fmt, ap);
  int e = errno;
  stdio_after(f, f->_fileno, &s, r >= 0 ? r : 0, NULL, (size_t)-1, caller, e);
  if (locked) funlockfile(f);
  IPS_RETURN(r, e);
}

IPS_EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap) {
  IPS_REAL_DECL(vfprintf, int, FILE *, const char *, va_list);
  if (!opaque(f) || !ips_hook_enter()) return real_vfprintf(f, fmt, ap);
  return traced_vfprintf(f, 1, 0, 0, fmt, ap, IPS_CALLER());
}

IPS_EXPORT int vprintf(const char *fmt, va_list ap) {
  IPS_REAL_DECL(vfprintf, int, FILE *, const char *, va_list);
  if (!ips_hook_enter()) return real_vfprintf(stdout, fmt, ap);
  return traced_vfprintf(stdout, 1, 0, 0, fmt, ap, IPS_CALLER());
}

IPS_EXPORT int fprintf(FILE *f, const char *fmt, ...) {
  IPS_REAL_DECL(vfprintf, int, FILE *, const char *, va_list);
  va_list ap;
  va_start(ap, fmt);
  int r = !opaque(f) || !ips_hook_enter() ? real_vfprintf(f, fmt, ap) : traced_vfprintf(f, 1, 0, 0, fmt, ap, IPS_CALLER());
  va_end(ap);
  return r;
}

IPS_EXPORT int printf(const char *fmt, ...) {
  IPS_REAL_DECL(vfprintf, int, FILE *, const char *, va_list);
  va_list ap;
  va_start(ap, fmt);
  int r = !ips_hook_enter() ? real_vfprintf(stdout, fmt, ap) : traced_vfprintf(stdout, 1, 0, 0, fmt, ap, IPS_CALLER());
  va_end(ap);
  return r;
}

/* _FORTIFY_SOURCE variants */
IPS_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap) {
  IPS_REAL_DECL(__vfprintf_chk, int, FILE *, int, const char *, va_list);
  if (!opaque(f) || !ips_hook_enter()) return real___vfprintf_chk(f, flag, fmt, ap);
  return traced_vfprintf(f, 1, 1, flag, fmt, ap, IPS_CALLER());
}

IPS_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap) {
  IPS_REAL_DECL(__vfprintf_chk, int, FILE *, int, const char *, va_list);
  if (!ips_hook_enter()) return real___vfprintf_chk(stdout, flag, fmt, ap);
  return traced_vfprintf(stdout, 1, 1, flag, fmt, ap, IPS_CALLER());
}

IPS_EXPORT int __fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
  IPS_REAL_DECL(__vfprintf_chk, int, FILE *, int, const char *, va_list);
  va_list ap;
  va_start(ap, fmt);
  int r = !opaque(f) || !ips_hook_enter() ? real___vfprintf_chk(f, flag, fmt, ap)
                                  : traced_vfprintf(f, 1, 1, flag, fmt, ap, IPS_CALLER());
  va_end(ap);
  return r;
}

IPS_EXPORT int __printf_chk(int flag, const char *fmt, ...) {
  IPS_REAL_DECL(__vfprintf_chk, int, FILE *, int, const char *, va_list);
  va_list ap;
  va_start(ap, fmt);
  int r = !ips_hook_enter() ? real___vfprintf_chk(stdout, flag, fmt, ap)
                            : traced_vfprintf(stdout, 1, 1, flag, fmt, ap, IPS_CALLER());
  va_end(ap);
  return r;
}

static int traced_fflush_one(FILE *f, int locked, uint64_t caller) {
  IPS_REAL_DECL(fflush_unlocked, int, FILE *);
  if (locked) flockfile(f);
  struct stdio_pre s;
  stdio_before(f, &s);
  int r = s.pend0 ? real_fflush_unlocked(f) : 0;
  int e = errno;
  if (s.pend0) stdio_after(f, f->_fileno, &s, 0, NULL, (size_t)-1, caller, e);
  if (locked) funlockfile(f);
  errno = e;
  return r;
}

/* Every stream with pending output, flushed through the traced path (fflush(NULL), exit). */
static int traced_fflush_all(uint64_t caller, int lock) {
  int r = 0;
  if (lock) _IO_list_lock();
  for (FILE *f = (FILE *)_IO_list_all; f; f = f->_chain)
    if (stdio_pending(f) && traced_fflush_one(f, lock, caller) != 0) r = EOF;
  if (lock) _IO_list_unlock();
  return r;
}

/* At exit glibc flushes without taking any stream lock (another thread may hold one forever): so do we. */
static void stdio_exit_flush(void) {
  if (!ips_hook_enter()) return;
  traced_fflush_all(0, 0);
  ips_hook_leave();
}

IPS_EXPORT int fflush(FILE *f) {
  IPS_REAL_DECL(fflush, int, FILE *);
  if (!ips_hook_enter()) return real_fflush(f);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(WRITE, caller);
  int r = f ? traced_fflush_one(f, 1, caller) : traced_fflush_all(caller, 1);
  int e = errno;
  if (!f) r = real_fflush(NULL) ? EOF : r; /* whatever is left (streams not in the list) */
  IPS_RETURN(r, e);
}

IPS_EXPORT int fflush_unlocked(FILE *f) {
  IPS_REAL_DECL(fflush_unlocked, int, FILE *);
  if (!opaque(f) || !ips_hook_enter()) return real_fflush_unlocked(f);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(WRITE, caller);
  int r = traced_fflush_one(f, 0, caller);
  IPS_RETURN(r, errno);
}

/* fclose flushes and closes through glibc's internals: record the flush as a write and the close as a close. */
IPS_EXPORT int fclose(FILE *f) {
  IPS_REAL_DECL(fclose, int, FILE *);
  if (!opaque(f) || !ips_hook_enter()) return real_fclose(f);
  uint64_t caller = IPS_CALLER();
  int fd = f->_fileno;
  if (fd >= 0 && stdio_pending(f)) traced_fflush_one(f, 1, caller);
  struct ips_fdinfo fi;
  if (fd >= 0) ips_fd_info_or_zero(fd, &fi);
  IPS_PAUSE_POINT(CLOSE, caller);
  if (fd >= 0) ips_fd_forget(fd);
  int r = real_fclose(f); /* f is freed now */
  int e = errno;
  if (fd >= 0)
    IPS_EMIT(CLOSE, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, fi.otype, fi.dev,
             fi.ino);
  IPS_RETURN(r, e);
}

/* dprintf/vdprintf write to the fd through glibc's internal write too. The preview is formatted a second time into
 * a stack buffer (vsnprintf), since the bytes never pass through anything we can see. */
static int traced_vdprintf(int fd, int chk, int flag, const char *fmt, va_list ap, uint64_t caller) {
  IPS_REAL_DECL(vdprintf, int, int, const char *, va_list);
  IPS_REAL_DECL(__vdprintf_chk, int, int, int, const char *, va_list);
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  char pv[IPS_PREVIEW_MAX + 1];
  va_list again;
  va_copy(again, ap);
  int full = vsnprintf(pv, ips_preview_len(IPS_PREVIEW_MAX, NULL) + 1, fmt, again);
  va_end(again);
  ips_emit_io(IPS_EV_WRITE, IPS_PHASE_BEGIN, 0, 0, 0, caller, fd, full > 0 ? (uint64_t)full : 0, &fi, (uint64_t)-1,
              IPS_WRITE_HOW_WRITE, fi.peer, NULL, 0);
  IPS_PAUSE_POINT(WRITE, caller);
  int r = chk ? real___vdprintf_chk(fd, flag, fmt, ap) : real_vdprintf(fd, fmt, ap);
  int e = errno;
  int trunc = 0;
  uint32_t pn = r > 0 ? ips_preview_len((size_t)r, &trunc) : 0;
  if (full >= 0 && pn > (uint32_t)full) pn = (uint32_t)full;
  ips_emit_io(IPS_EV_WRITE, IPS_PHASE_END, trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0, r, r < 0 ? e : 0, caller, fd,
              full > 0 ? (uint64_t)full : 0, &fi, (uint64_t)-1, IPS_WRITE_HOW_WRITE, fi.peer, pv, pn);
  IPS_RETURN(r, e);
}

IPS_EXPORT int vdprintf(int fd, const char *fmt, va_list ap) {
  IPS_REAL_DECL(vdprintf, int, int, const char *, va_list);
  if (!ips_hook_enter()) return real_vdprintf(fd, fmt, ap);
  return traced_vdprintf(fd, 0, 0, fmt, ap, IPS_CALLER());
}

IPS_EXPORT int dprintf(int fd, const char *fmt, ...) {
  IPS_REAL_DECL(vdprintf, int, int, const char *, va_list);
  va_list ap;
  va_start(ap, fmt);
  int r = !ips_hook_enter() ? real_vdprintf(fd, fmt, ap) : traced_vdprintf(fd, 0, 0, fmt, ap, IPS_CALLER());
  va_end(ap);
  return r;
}

IPS_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap) {
  IPS_REAL_DECL(__vdprintf_chk, int, int, int, const char *, va_list);
  if (!ips_hook_enter()) return real___vdprintf_chk(fd, flag, fmt, ap);
  return traced_vdprintf(fd, 1, flag, fmt, ap, IPS_CALLER());
}

IPS_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...) {
  IPS_REAL_DECL(__vdprintf_chk, int, int, int, const char *, va_list);
  va_list ap;
  va_start(ap, fmt);
  int r = !ips_hook_enter() ? real___vdprintf_chk(fd, flag, fmt, ap)
                            : traced_vdprintf(fd, 1, flag, fmt, ap, IPS_CALLER());
  va_end(ap);
  return r;
}

/* ---- stdio input ----
 * The same for reading: glibc refills a stream's buffer with its internal read. Bytes that came from the kernel
 * during a call = bytes the call handed out − bytes buffered before + bytes buffered after; they are recorded as one
 * read begin/end on the stream's fd (how=read), begin at the call's start, preview from the bytes handed out and the
 * buffer. Hitting end-of-file is recorded as a read returning 0, an error as a read returning -1. For the scanf family
 * the bytes handed out are unknown: a refill is recognised by the buffer pointers moving and counted as one read of
 * the whole new buffer. */
struct stdio_in {
  uint64_t t0;
  size_t a0;
  char *rb0, *re0;
  int eof0, err0;
};

static size_t stdio_avail(FILE *f) {
  if (!f->_IO_read_ptr || f->_IO_read_end <= f->_IO_read_ptr) return 0;
  return (size_t)(f->_IO_read_end - f->_IO_read_ptr);
}

static void stdin_before(FILE *f, struct stdio_in *s) {
  s->t0 = ips_now_ns();
  s->a0 = stdio_avail(f);
  s->rb0 = f->_IO_read_base;
  s->re0 = f->_IO_read_end;
  s->eof0 = (f->_flags & _IO_EOF_SEEN) != 0;
  s->err0 = (f->_flags & _IO_ERR_SEEN) != 0;
}

static void stdin_emit(int fd, const struct ips_fdinfo *fi, uint64_t t0, int64_t result, int err, uint64_t count,
                       const char *pv, uint32_t pn, int trunc, uint64_t caller) {
  const uint64_t args[] = {(uint64_t)(int64_t)fd, count, fi->otype, fi->dev, fi->ino, (uint64_t)-1, IPS_READ_HOW_READ,
                           fi->peer};
  ips_emit_at(t0, ips_tid(), IPS_EV_READ, IPS_PHASE_BEGIN, 0, 0, caller, IPS_EV_READ_NARGS, args, NULL, 0);
  ips_emit_io(IPS_EV_READ, IPS_PHASE_END, trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0, result, err, caller, fd, count, fi,
              (uint64_t)-1, IPS_READ_HOW_READ, fi->peer, pv, pn);
}

/* consumed: bytes handed to the caller (-1 unknown); data: those bytes. */
static void stdin_after(FILE *f, const struct stdio_in *s, long consumed, const char *data, uint64_t caller, int e) {
  int fd = f->_fileno;
  if (fd < 0) return;
  size_t a1 = stdio_avail(f);
  long got = 0;
  const char *tail = NULL; /* where the newest kernel bytes sit in the buffer */
  if (consumed >= 0) {
    got = consumed - (long)s->a0 + (long)a1;
    tail = f->_IO_read_ptr;
  } else if (f->_IO_read_base != s->rb0 || f->_IO_read_end != s->re0) {
    if (f->_IO_read_end > f->_IO_read_base) got = (long)(f->_IO_read_end - f->_IO_read_base);
    data = NULL;
  }
  int eof = !s->eof0 && (f->_flags & _IO_EOF_SEEN);
  int failed = !s->err0 && (f->_flags & _IO_ERR_SEEN);
  if (got <= 0 && !eof && !failed) return;
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  if (got > 0) {
    char pv[IPS_PREVIEW_MAX];
    int trunc = 0;
    uint32_t want = ips_preview_len((size_t)got, &trunc), pn = 0;
    if (consumed >= 0) {
      if (data && consumed > (long)s->a0) { /* handed-out bytes beyond what was buffered came from the kernel */
        size_t n = (size_t)consumed - s->a0;
        if (n > want) n = want;
        memcpy(pv, data + s->a0, n);
        pn = (uint32_t)n;
      }
      if (pn < want && tail && a1) {
        size_t n = want - pn < a1 ? want - pn : a1;
        memcpy(pv + pn, tail, n);
        pn += (uint32_t)n;
      }
    } else {
      pn = want;
      memcpy(pv, f->_IO_read_base, pn);
    }
    stdin_emit(fd, &fi, s->t0, got, 0, (uint64_t)got, pv, pn, trunc || pn < want, caller);
  }
  if (eof || failed) stdin_emit(fd, &fi, ips_now_ns(), failed ? -1 : 0, failed ? e : 0, 0, NULL, 0, 0, caller);
}

#define STDIO_IN(f, locked, consumed_expr, data_expr, call_decl)           \
  do {                                                                   \
    uint64_t caller = IPS_CALLER();                                      \
    if (!opaque(f)) { call_decl; IPS_RETURN(r, errno); }                 \
    if (locked) flockfile(f);                                            \
    struct stdio_in s;                                                   \
    stdin_before(f, &s);                                                 \
    IPS_PAUSE_POINT(READ, caller);                                       \
    call_decl;                                                           \
    int e = errno;                                                       \
    stdin_after(f, &s, (consumed_expr), (data_expr), caller, e);         \
    if (locked) funlockfile(f);                                          \
    IPS_RETURN(r, e);                                                    \
  } while (0)

#undef fgets_unlocked
#undef fread_unlocked
#undef getc
#undef getchar
#undef getc_unlocked
#undef getchar_unlocked
#undef fgetc_unlocked

#define FGETS_CONSUMED (r ? (long)strlen(r) : 0L)
IPS_EXPORT char *fgets(char *str, int n, FILE *f) {
  IPS_REAL_DECL(fgets, char *, char *, int, FILE *);
  if (!ips_hook_enter()) return real_fgets(str, n, f);
  STDIO_IN(f, 1, FGETS_CONSUMED, r, char *r = real_fgets(str, n, f));
}

IPS_EXPORT char *fgets_unlocked(char *str, int n, FILE *f) {
  IPS_REAL_DECL(fgets_unlocked, char *, char *, int, FILE *);
  if (!ips_hook_enter()) return real_fgets_unlocked(str, n, f);
  STDIO_IN(f, 0, FGETS_CONSUMED, r, char *r = real_fgets_unlocked(str, n, f));
}

IPS_EXPORT char *__fgets_chk(char *str, size_t size, int n, FILE *f) {
  IPS_REAL_DECL(__fgets_chk, char *, char *, size_t, int, FILE *);
  if (!ips_hook_enter()) return real___fgets_chk(str, size, n, f);
  STDIO_IN(f, 1, FGETS_CONSUMED, r, char *r = real___fgets_chk(str, size, n, f));
}

IPS_EXPORT char *__fgets_unlocked_chk(char *str, size_t size, int n, FILE *f) {
  IPS_REAL_DECL(__fgets_unlocked_chk, char *, char *, size_t, int, FILE *);
  if (!ips_hook_enter()) return real___fgets_unlocked_chk(str, size, n, f);
  STDIO_IN(f, 0, FGETS_CONSUMED, r, char *r = real___fgets_unlocked_chk(str, size, n, f));
}

IPS_EXPORT size_t fread(void *p, size_t size, size_t n, FILE *f) {
  IPS_REAL_DECL(fread, size_t, void *, size_t, size_t, FILE *);
  if (!ips_hook_enter()) return real_fread(p, size, n, f);
  STDIO_IN(f, 1, (long)(r * size), (const char *)p, size_t r = real_fread(p, size, n, f));
}

IPS_EXPORT size_t fread_unlocked(void *p, size_t size, size_t n, FILE *f) {
  IPS_REAL_DECL(fread_unlocked, size_t, void *, size_t, size_t, FILE *);
  if (!ips_hook_enter()) return real_fread_unlocked(p, size, n, f);
  STDIO_IN(f, 0, (long)(r * size), (const char *)p, size_t r = real_fread_unlocked(p, size, n, f));
}

IPS_EXPORT size_t __fread_chk(void *p, size_t plen, size_t size, size_t n, FILE *f) {
  IPS_REAL_DECL(__fread_chk, size_t, void *, size_t, size_t, size_t, FILE *);
  if (!ips_hook_enter()) return real___fread_chk(p, plen, size, n, f);
  STDIO_IN(f, 1, (long)(r * size), (const char *)p, size_t r = real___fread_chk(p, plen, size, n, f));
}

IPS_EXPORT size_t __fread_unlocked_chk(void *p, size_t plen, size_t size, size_t n, FILE *f) {
  IPS_REAL_DECL(__fread_unlocked_chk, size_t, void *, size_t, size_t, size_t, FILE *);
  if (!ips_hook_enter()) return real___fread_unlocked_chk(p, plen, size, n, f);
  STDIO_IN(f, 0, (long)(r * size), (const char *)p, size_t r = real___fread_unlocked_chk(p, plen, size, n, f));
}

/* Fast path for single characters: a byte already buffered means no refill can happen in this call. */
static inline int getc_cannot_refill(FILE *f) { return opaque(f) && f->_IO_read_ptr < f->_IO_read_end; }

#define GETC_HOOK(name, locked, file_expr, ...)                                                          \
  IPS_EXPORT int name(__VA_ARGS__) {                                                                     \
    IPS_REAL_DECL(name, int, FILE *);                                                                    \
    FILE *f = (file_expr);                                                                               \
    if (getc_cannot_refill(f) || !ips_hook_enter()) return real_##name(f);                               \
    unsigned char ch = 0;                                                                                \
    STDIO_IN(f, locked, r == EOF ? 0L : 1L, (const char *)&ch, int r = real_##name(f); ch = (unsigned char)r); \
  }
GETC_HOOK(fgetc, 1, fp, FILE *fp)
GETC_HOOK(getc, 1, fp, FILE *fp)
GETC_HOOK(_IO_getc, 1, fp, FILE *fp)
GETC_HOOK(fgetc_unlocked, 0, fp, FILE *fp)
GETC_HOOK(getc_unlocked, 0, fp, FILE *fp)
/* the inline getc_unlocked/getchar macros call __uflow when the buffer is empty; __underflow refills for a peek */
GETC_HOOK(__uflow, 0, fp, FILE *fp)

IPS_EXPORT int __underflow(FILE *f) {
  IPS_REAL_DECL(__underflow, int, FILE *);
  if (!ips_hook_enter()) return real___underflow(f);
  STDIO_IN(f, 0, 0L, NULL, int r = real___underflow(f));
}

IPS_EXPORT int getchar(void) {
  IPS_REAL_DECL(getchar, int, void);
  if (getc_cannot_refill(stdin) || !ips_hook_enter()) return real_getchar();
  FILE *f = stdin;
  unsigned char ch = 0;
  STDIO_IN(f, 1, r == EOF ? 0L : 1L, (const char *)&ch, int r = real_getchar(); ch = (unsigned char)r);
}

IPS_EXPORT int getchar_unlocked(void) {
  IPS_REAL_DECL(getchar_unlocked, int, void);
  if (getc_cannot_refill(stdin) || !ips_hook_enter()) return real_getchar_unlocked();
  FILE *f = stdin;
  unsigned char ch = 0;
  STDIO_IN(f, 0, r == EOF ? 0L : 1L, (const char *)&ch, int r = real_getchar_unlocked(); ch = (unsigned char)r);
}

IPS_EXPORT ssize_t getdelim(char **line, size_t *n, int delim, FILE *f) {
  IPS_REAL_DECL(getdelim, ssize_t, char **, size_t *, int, FILE *);
  if (!ips_hook_enter()) return real_getdelim(line, n, delim, f);
  STDIO_IN(f, 1, r > 0 ? (long)r : 0L, line ? *line : NULL, ssize_t r = real_getdelim(line, n, delim, f));
}

IPS_EXPORT ssize_t __getdelim(char **line, size_t *n, int delim, FILE *f) {
  IPS_REAL_DECL(__getdelim, ssize_t, char **, size_t *, int, FILE *);
  if (!ips_hook_enter()) return real___getdelim(line, n, delim, f);
  STDIO_IN(f, 1, r > 0 ? (long)r : 0L, line ? *line : NULL, ssize_t r = real___getdelim(line, n, delim, f));
}

IPS_EXPORT ssize_t getline(char **line, size_t *n, FILE *f) {
  IPS_REAL_DECL(getline, ssize_t, char **, size_t *, FILE *);
  if (!ips_hook_enter()) return real_getline(line, n, f);
  STDIO_IN(f, 1, r > 0 ? (long)r : 0L, line ? *line : NULL, ssize_t r = real_getline(line, n, f));
}

/* scanf family: v-variants do the work; the C99 (__isoc99_) and GNU flavours forward to their own kind. */
static int traced_vfscanf(FILE *f, int iso, const char *fmt, va_list ap, uint64_t caller) {
  IPS_REAL_DECL(vfscanf, int, FILE *, const char *, va_list);
  IPS_REAL_DECL(__isoc99_vfscanf, int, FILE *, const char *, va_list);
  flockfile(f);
  struct stdio_in s;
  stdin_before(f, &s);
  IPS_PAUSE_POINT(READ, caller);
  int r = iso ? real___isoc99_vfscanf(f, fmt, ap) : real_vfscanf(f, fmt, ap);
  int e = errno;
  stdin_after(f, &s, -1, NULL, caller, e);
  funlockfile(f);
  IPS_RETURN(r, e);
}

/* With _GNU_SOURCE off or on, glibc's headers may redirect fscanf & co. to their __isoc99_ names, so the plain GNU
 * entry points are defined under other C names with explicit symbol names. */
#define SCANF_V(cname, sym, vname, iso, file_expr, ...)                                  \
  IPS_EXPORT int cname(__VA_ARGS__) __asm__(sym);                                        \
  IPS_EXPORT int cname(__VA_ARGS__) {                                                    \
    IPS_REAL_DECL(vname, int, FILE *, const char *, va_list);                            \
    FILE *f = (file_expr);                                                               \
    if (!opaque(f) || !ips_hook_enter()) return real_##vname(f, fmt, ap);                \
    return traced_vfscanf(f, iso, fmt, ap, IPS_CALLER());                                \
  }
SCANF_V(ips_vfscanf, "vfscanf", vfscanf, 0, fp, FILE *fp, const char *fmt, va_list ap)
SCANF_V(ips_isoc99_vfscanf, "__isoc99_vfscanf", __isoc99_vfscanf, 1, fp, FILE *fp, const char *fmt, va_list ap)
SCANF_V(ips_vscanf, "vscanf", vfscanf, 0, stdin, const char *fmt, va_list ap)
SCANF_V(ips_isoc99_vscanf, "__isoc99_vscanf", __isoc99_vfscanf, 1, stdin, const char *fmt, va_list ap)

#define SCANF_VARARGS(cname, sym, vname, iso, file_expr, ...)                            \
  IPS_EXPORT int cname(__VA_ARGS__, ...) __asm__(sym);                                   \
  IPS_EXPORT int cname(__VA_ARGS__, ...) {                                               \
    IPS_REAL_DECL(vname, int, FILE *, const char *, va_list);                            \
    FILE *f = (file_expr);                                                               \
    va_list ap;                                                                          \
    va_start(ap, fmt);                                                                   \
    int r = !opaque(f) || !ips_hook_enter() ? real_##vname(f, fmt, ap)                   \
                                            : traced_vfscanf(f, iso, fmt, ap, IPS_CALLER()); \
    va_end(ap);                                                                          \
    return r;                                                                            \
  }
SCANF_VARARGS(ips_fscanf, "fscanf", vfscanf, 0, fp, FILE *fp, const char *fmt)
SCANF_VARARGS(ips_isoc99_fscanf, "__isoc99_fscanf", __isoc99_vfscanf, 1, fp, FILE *fp, const char *fmt)
SCANF_VARARGS(ips_scanf, "scanf", vfscanf, 0, stdin, const char *fmt)
SCANF_VARARGS(ips_isoc99_scanf, "__isoc99_scanf", __isoc99_vfscanf, 1, stdin, const char *fmt)

/* ---- fopen family: the open happens inside glibc; record it as the open it is ---- */
static int fopen_flags(const char *mode) {
  int fl = 0, plus = mode && strchr(mode, '+');
  if (!mode) return 0;
  switch (mode[0]) {
  case 'r': fl = plus ? O_RDWR : O_RDONLY; break;
  case 'w': fl = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC; break;
  case 'a': fl = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND; break;
  }
  for (const char *m = mode + 1; *m && *m != ','; m++) {
    if (*m == 'e') fl |= O_CLOEXEC;
    if (*m == 'x') fl |= O_EXCL;
  }
  return fl;
}

static FILE *fopen_common(const char *path, const char *mode, FILE *r, int e, uint64_t caller) {
  int fd = r ? r->_fileno : -1;
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (fd >= 0 && ips_fd_probe(fd, &fi) == 0) ips_fd_set(fd, &fi);
  int flags = fopen_flags(mode);
  IPS_EMIT(OPEN, IPS_PHASE_INSTANT, r ? fd : -1, r ? 0 : e, caller, path, path ? (uint32_t)strnlen(path, 4096) : 0,
           (uint64_t)(int64_t)AT_FDCWD, (uint64_t)flags, (flags & O_CREAT) ? 0666 : 0, fi.otype, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT FILE *fopen(const char *path, const char *mode) {
  IPS_REAL_DECL(fopen, FILE *, const char *, const char *);
  if (!ips_hook_enter()) return real_fopen(path, mode);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(OPEN, caller);
  FILE *r = real_fopen(path, mode);
  return fopen_common(path, mode, r, errno, caller);
}

IPS_EXPORT FILE *fopen64(const char *path, const char *mode) {
  IPS_REAL_DECL(fopen64, FILE *, const char *, const char *);
  if (!ips_hook_enter()) return real_fopen64(path, mode);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(OPEN, caller);
  FILE *r = real_fopen64(path, mode);
  return fopen_common(path, mode, r, errno, caller);
}

/* freopen closes the stream's old fd (a close event) and opens path on it (an open event). */
IPS_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f) {
  IPS_REAL_DECL(freopen, FILE *, const char *, const char *, FILE *);
  if (!opaque(f) || !ips_hook_enter()) return real_freopen(path, mode, f);
  uint64_t caller = IPS_CALLER();
  int old = f->_fileno;
  struct ips_fdinfo ofi;
  if (old >= 0) {
    if (stdio_pending(f)) traced_fflush_one(f, 1, caller);
    ips_fd_info_or_zero(old, &ofi);
    ips_fd_forget(old);
  }
  IPS_PAUSE_POINT(OPEN, caller);
  FILE *r = real_freopen(path, mode, f);
  int e = errno;
  if (old >= 0 && path)
    IPS_EMIT(CLOSE, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)old, ofi.otype, ofi.dev, ofi.ino);
  if (!path) IPS_RETURN(r, e); /* mode change only: same file */
  return fopen_common(path, mode, r, e, caller);
}
