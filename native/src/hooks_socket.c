/* Socket hooks: socket/socketpair/bind/listen/accept/connect/shutdown and the send/recv families (recorded as
 * write/read events with `how`), SCM_RIGHTS fd passing (one fd_pass per carried fd after the end event), and
 * Unix peer inodes from NETLINK_SOCK_DIAG (fdtable.c) on accept/connect. */
#include "ipcscope.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <unistd.h>

static int otype_socktype(uint8_t otype) {
  return otype == IPS_OTYPE_SOCKET_TCP ? SOCK_STREAM : otype == IPS_OTYPE_SOCKET_UDP ? SOCK_DGRAM : 0;
}

/* "local|remote" as text, from getsockname/getpeername (raw syscalls: no hooks involved). */
static uint32_t conn_text(int fd, uint8_t otype, char *buf, uint32_t cap) {
  struct sockaddr_storage ss;
  socklen_t l = sizeof ss;
  uint32_t at = 0;
  int type = otype_socktype(otype);
  if (syscall(SYS_getsockname, fd, &ss, &l) == 0) at = ips_sockaddr_text(type, &ss, l, buf, cap);
  if (at < cap) buf[at++] = '|';
  l = sizeof ss;
  if (syscall(SYS_getpeername, fd, &ss, &l) == 0) at += ips_sockaddr_text(type, &ss, l, buf + at, cap - at);
  return at;
}

static void set_socket_info(int fd, int type, uint64_t peer, struct ips_fdinfo *out) {
  struct ips_fdinfo fi;
  if (ips_fd_probe(fd, &fi) != 0) { memset(out, 0, sizeof *out); return; }
  if (type >= 0) {
    fi.cloexec = (type & SOCK_CLOEXEC) != 0;
    fi.nonblock = (type & SOCK_NONBLOCK) != 0;
  }
  if (peer) fi.peer = peer;
  ips_fd_set(fd, &fi);
  *out = fi;
}

IPS_EXPORT int socket(int domain, int type, int protocol) {
  IPS_REAL_DECL(socket, int, int, int, int);
  if (!ips_hook_enter()) return real_socket(domain, type, protocol);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SOCKET, caller);
  int r = real_socket(domain, type, protocol);
  int e = errno;
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  if (r >= 0) set_socket_info(r, type, 0, &fi);
  IPS_EMIT(SOCKET, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)domain, (uint64_t)type,
           (uint64_t)protocol, fi.dev, fi.ino);
  IPS_RETURN(r, e);
}

IPS_EXPORT int socketpair(int domain, int type, int protocol, int sv[2]) {
  IPS_REAL_DECL(socketpair, int, int, int, int, int *);
  if (!ips_hook_enter()) return real_socketpair(domain, type, protocol, sv);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SOCKETPAIR, caller);
  int r = real_socketpair(domain, type, protocol, sv);
  int e = errno;
  struct ips_fdinfo a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  if (r == 0) {
    set_socket_info(sv[0], type, 0, &a);
    set_socket_info(sv[1], type, a.ino, &b);
    a.peer = b.ino; /* each other's peers */
    ips_fd_set(sv[0], &a);
  }
  IPS_EMIT(SOCKETPAIR, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)domain, (uint64_t)type,
           (uint64_t)protocol, r == 0 ? (uint64_t)(int64_t)sv[0] : (uint64_t)-1,
           r == 0 ? (uint64_t)(int64_t)sv[1] : (uint64_t)-1, a.ino, b.ino, a.dev);
  IPS_RETURN(r, e);
}

IPS_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  IPS_REAL_DECL(bind, int, int, const struct sockaddr *, socklen_t);
  if (!ips_hook_enter()) return real_bind(fd, addr, len);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(BIND, caller);
  int r = real_bind(fd, addr, len);
  int e = errno;
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  char text[160];
  uint32_t tl = ips_sockaddr_text(otype_socktype(fi.otype), addr, len, text, sizeof text);
  IPS_EMIT(BIND, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, text, tl, (uint64_t)(int64_t)fd, fi.ino,
           ips_pack_sockaddr(addr, len));
  IPS_RETURN(r, e);
}

IPS_EXPORT int listen(int fd, int backlog) {
  IPS_REAL_DECL(listen, int, int, int);
  if (!ips_hook_enter()) return real_listen(fd, backlog);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(LISTEN, caller);
  int r = real_listen(fd, backlog);
  int e = errno;
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  IPS_EMIT(LISTEN, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)backlog,
           fi.ino);
  IPS_RETURN(r, e);
}

static int accept_common(int fd, struct sockaddr *addr, socklen_t *len, int flags, int four, uint64_t caller) {
  IPS_REAL_DECL(accept, int, int, struct sockaddr *, socklen_t *);
  IPS_REAL_DECL(accept4, int, int, struct sockaddr *, socklen_t *, int);
  struct ips_fdinfo lfi;
  ips_fd_info_or_zero(fd, &lfi);
  IPS_EMITF(ACCEPT, IPS_PHASE_BEGIN, lfi.nonblock ? IPS_FLAG_NON_BLOCKING : 0, 0, 0, caller, NULL, 0,
            (uint64_t)(int64_t)fd, (uint64_t)flags, lfi.ino, 0, 0, lfi.dev);
  IPS_PAUSE_POINT(ACCEPT, caller);
  int r = four ? IPS_CANCELLABLE(int, real_accept4(fd, addr, len, flags), SYS_accept4, fd, addr, len, flags, 0, 0)
               : IPS_CANCELLABLE(int, real_accept(fd, addr, len), SYS_accept, fd, addr, len, 0, 0, 0);
  int e = errno;
  struct ips_fdinfo fi;
  memset(&fi, 0, sizeof fi);
  char text[320];
  uint32_t tl = 0;
  if (r >= 0) {
    set_socket_info(r, flags, 0, &fi);
    if (fi.otype == IPS_OTYPE_SOCKET_UNIX && !fi.peer) {
      fi.peer = ips_unix_peer_ino(fi.ino);
      ips_fd_set(r, &fi);
    }
    tl = conn_text(r, fi.otype, text, sizeof text);
  }
  IPS_EMITF(ACCEPT, IPS_PHASE_END, lfi.nonblock ? IPS_FLAG_NON_BLOCKING : 0, r, r < 0 ? e : 0, caller, text, tl,
            (uint64_t)(int64_t)fd, (uint64_t)flags, lfi.ino, fi.ino, fi.otype == IPS_OTYPE_SOCKET_UNIX ? fi.peer : 0,
            lfi.dev);
  IPS_RETURN(r, e);
}

IPS_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len) {
  IPS_REAL_DECL(accept, int, int, struct sockaddr *, socklen_t *);
  if (!ips_hook_enter()) return real_accept(fd, addr, len);
  return accept_common(fd, addr, len, 0, 0, IPS_CALLER());
}

IPS_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
  IPS_REAL_DECL(accept4, int, int, struct sockaddr *, socklen_t *, int);
  if (!ips_hook_enter()) return real_accept4(fd, addr, len, flags);
  return accept_common(fd, addr, len, flags, 1, IPS_CALLER());
}

IPS_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  IPS_REAL_DECL(connect, int, int, const struct sockaddr *, socklen_t);
  if (!ips_hook_enter()) return real_connect(fd, addr, len);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  uint16_t fl = fi.nonblock ? IPS_FLAG_NON_BLOCKING : 0;
  IPS_EMITF(CONNECT, IPS_PHASE_BEGIN, fl, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)fd, fi.ino, 0, fi.dev);
  IPS_PAUSE_POINT(CONNECT, caller);
  int r = IPS_CANCELLABLE(int, real_connect(fd, addr, len), SYS_connect, fd, addr, len, 0, 0, 0);
  int e = errno;
  char text[320];
  uint32_t tl = 0;
  uint64_t peer = 0;
  if (r == 0 || e == EINPROGRESS) {
    if (fi.otype == IPS_OTYPE_SOCKET_UNIX) peer = ips_unix_peer_ino(fi.ino);
    else if (fi.otype == IPS_OTYPE_SOCKET_UDP) fi.peer = ips_pack_sockaddr(addr, len); /* default destination */
    if (peer) fi.peer = peer;
    ips_fd_set(fd, &fi);
    tl = conn_text(fd, fi.otype, text, sizeof text);
  }
  IPS_EMITF(CONNECT, IPS_PHASE_END, fl, r, r < 0 ? e : 0, caller, text, tl, (uint64_t)(int64_t)fd, fi.ino, peer,
            fi.dev);
  IPS_RETURN(r, e);
}

IPS_EXPORT int shutdown(int fd, int how) {
  IPS_REAL_DECL(shutdown, int, int, int);
  if (!ips_hook_enter()) return real_shutdown(fd, how);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SHUTDOWN, caller);
  int r = real_shutdown(fd, how);
  int e = errno;
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  IPS_EMIT(SHUTDOWN, IPS_PHASE_INSTANT, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)fd, (uint64_t)how,
           fi.ino);
  IPS_RETURN(r, e);
}

/* ---- send/recv ---- */

static uint16_t msg_flags_nb(int flags) { return (flags & MSG_DONTWAIT) ? IPS_FLAG_NON_BLOCKING : 0; }

/* One fd_pass event per fd in each SCM_RIGHTS control message; received fds enter the fd table. */
static void fd_passes(const struct msghdr *m, int direction, int via, const struct ips_fdinfo *vfi, int rflags,
                      uint64_t caller) {
  if (!m || !m->msg_control || m->msg_controllen < sizeof(struct cmsghdr)) return;
  for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char *data = CMSG_DATA(c);
    for (size_t i = 0; i < n; i++) {
      int pfd;
      memcpy(&pfd, data + i * sizeof(int), sizeof pfd);
      struct ips_fdinfo fi;
      if (direction == IPS_FD_PASS_DIRECTION_RECV) {
        if (ips_fd_probe(pfd, &fi) == 0) {
          fi.cloexec = (rflags & MSG_CMSG_CLOEXEC) != 0;
          ips_fd_set(pfd, &fi);
        } else {
          memset(&fi, 0, sizeof fi);
        }
      } else {
        ips_fd_info_or_zero(pfd, &fi);
      }
      IPS_EMIT(FD_PASS, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)direction, (uint64_t)(int64_t)pfd,
               fi.otype, fi.dev, fi.ino, (uint64_t)(int64_t)via, vfi->ino);
    }
  }
}

#define SEND_CONTIG(how, fd, buf, len, flags, peer_expr, call)                                                     \
  do {                                                                                                        \
    uint64_t caller = IPS_CALLER();                                                                           \
    struct ips_fdinfo fi;                                                                                     \
    ips_fd_info_or_zero(fd, &fi);                                                                             \
    uint64_t pr = (peer_expr);                                                                                \
    uint64_t ticket = ips_io_begin(IPS_EV_WRITE, msg_flags_nb(flags), caller, fd, len, &fi, (uint64_t)-1,     \
                how, pr);                                                                                     \
    IPS_PAUSE_POINT(WRITE, caller);                                                                           \
    ssize_t r = call;                                                                                         \
    int e = IPS_IO_ERRNO(r);                                                                                  \
    if (!pr) {                                                                                                \
      ips_fd_refresh_peer(fd, &fi);                                                                           \
      pr = fi.peer;                                                                                           \
    }                                                                                                         \
    int trunc = 0;                                                                                            \
    uint32_t pn = r > 0 ? ips_preview_len((size_t)r, &trunc) : 0;                                             \
    ips_io_end(ticket, IPS_EV_WRITE, msg_flags_nb(flags) | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r,       \
                e, caller, fd, len, &fi, (uint64_t)-1, how, pr, buf, pn);                                     \
    IPS_IO_RETURN(r, e);                                                                                      \
  } while (0)

IPS_EXPORT IPS_HOT ssize_t send(int fd, const void *buf, size_t len, int flags) {
  IPS_REAL_DECL(send, ssize_t, int, const void *, size_t, int);
  if (!ips_hook_enter()) return real_send(fd, buf, len, flags);
  SEND_CONTIG(IPS_WRITE_HOW_SEND, fd, buf, len, flags, fi.peer,
              IPS_CANCELLABLE(ssize_t, real_send(fd, buf, len, flags), SYS_sendto, fd, buf, len, flags, 0, 0));
}

IPS_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tl) {
  IPS_REAL_DECL(sendto, ssize_t, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
  if (!ips_hook_enter()) return real_sendto(fd, buf, len, flags, to, tl);
  SEND_CONTIG(IPS_WRITE_HOW_SENDTO, fd, buf, len, flags, to ? ips_pack_sockaddr(to, tl) : fi.peer,
              IPS_CANCELLABLE(ssize_t, real_sendto(fd, buf, len, flags, to, tl), SYS_sendto, fd, buf, len, flags, to,
                              tl));
}

static size_t msg_total(const struct msghdr *m) {
  size_t t = 0;
  for (size_t i = 0; m && m->msg_iov && i < m->msg_iovlen; i++) t += m->msg_iov[i].iov_len;
  return t;
}

IPS_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags) {
  IPS_REAL_DECL(sendmsg, ssize_t, int, const struct msghdr *, int);
  if (!ips_hook_enter()) return real_sendmsg(fd, m, flags);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  uint64_t peer = m && m->msg_name ? ips_pack_sockaddr(m->msg_name, m->msg_namelen) : fi.peer;
  size_t total = msg_total(m);
  uint64_t ticket = ips_io_begin(IPS_EV_WRITE, msg_flags_nb(flags), caller, fd, total, &fi, (uint64_t)-1,
              IPS_WRITE_HOW_SENDMSG, peer);
  IPS_PAUSE_POINT(WRITE, caller);
  ssize_t r = IPS_CANCELLABLE(ssize_t, real_sendmsg(fd, m, flags), SYS_sendmsg, fd, m, flags, 0, 0, 0);
  int e = errno;
  ips_fd_refresh_peer(fd, &fi);
  if (!peer) peer = fi.peer;
  int trunc = 0;
  char pv[IPS_PREVIEW_MAX];
  uint32_t pn = r > 0 ? ips_gather_iov(m->msg_iov, (int)m->msg_iovlen, (size_t)r, pv, &trunc) : 0;
  ips_io_end(ticket, IPS_EV_WRITE, msg_flags_nb(flags) | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r,
              r < 0 ? e : 0, caller, fd, total, &fi, (uint64_t)-1, IPS_WRITE_HOW_SENDMSG, peer, pv, pn);
  if (r >= 0) fd_passes(m, IPS_FD_PASS_DIRECTION_SEND, fd, &fi, 0, caller);
  IPS_RETURN(r, e);
}

/* sendmmsg/recvmmsg: one begin/end pair for the whole batch; count and result are bytes over all messages
 * (the kernel's per-message msg_len), the preview is the first message's. */
IPS_EXPORT int sendmmsg(int fd, struct mmsghdr *v, unsigned vlen, int flags) {
  IPS_REAL_DECL(sendmmsg, int, int, struct mmsghdr *, unsigned, int);
  if (!ips_hook_enter()) return real_sendmmsg(fd, v, vlen, flags);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  size_t total = 0;
  for (unsigned i = 0; i < vlen; i++) total += msg_total(&v[i].msg_hdr);
  uint64_t peer = vlen && v[0].msg_hdr.msg_name ? ips_pack_sockaddr(v[0].msg_hdr.msg_name, v[0].msg_hdr.msg_namelen)
                                                : fi.peer;
  uint64_t ticket = ips_io_begin(IPS_EV_WRITE, msg_flags_nb(flags), caller, fd, total, &fi, (uint64_t)-1,
              IPS_WRITE_HOW_SENDMMSG, peer);
  IPS_PAUSE_POINT(WRITE, caller);
  int r = real_sendmmsg(fd, v, vlen, flags);
  int e = errno;
  int64_t bytes = r < 0 ? -1 : 0;
  for (int i = 0; i < r; i++) bytes += v[i].msg_len;
  int trunc = 0;
  char pv[IPS_PREVIEW_MAX];
  uint32_t pn = r > 0 ? ips_gather_iov(v[0].msg_hdr.msg_iov, (int)v[0].msg_hdr.msg_iovlen, v[0].msg_len, pv, &trunc)
                      : 0;
  ips_io_end(ticket, IPS_EV_WRITE, msg_flags_nb(flags) | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), bytes,
              r < 0 ? e : 0, caller, fd, total, &fi, (uint64_t)-1, IPS_WRITE_HOW_SENDMMSG, peer, pv, pn);
  for (int i = 0; i < r; i++) fd_passes(&v[i].msg_hdr, IPS_FD_PASS_DIRECTION_SEND, fd, &fi, 0, caller);
  IPS_RETURN(r, e);
}

#define RECV_CONTIG(how, fd, buf, len, flags, from, fromlen, call)                                            \
  do {                                                                                                        \
    uint64_t caller = IPS_CALLER();                                                                           \
    struct ips_fdinfo fi;                                                                                     \
    ips_fd_info_or_zero(fd, &fi);                                                                             \
    uint64_t ticket = ips_io_begin(IPS_EV_READ, msg_flags_nb(flags), caller, fd, len, &fi, (uint64_t)-1,      \
                how, fi.peer);                                                                                \
    IPS_PAUSE_POINT(READ, caller);                                                                            \
    ssize_t r = call;                                                                                         \
    int e = IPS_IO_ERRNO(r);                                                                                  \
    ips_fd_refresh_peer(fd, &fi);                                                                             \
    uint64_t pr = fi.peer;                                                                                    \
    if (r >= 0 && (from) && (fromlen)) {                                                                      \
      uint64_t p = ips_pack_sockaddr((from), *(fromlen));                                                     \
      if (p) pr = p;                                                                                          \
    }                                                                                                         \
    int trunc = 0;                                                                                            \
    uint32_t pn = r > 0 ? ips_preview_len((size_t)r, &trunc) : 0;                                             \
    ips_io_end(ticket, IPS_EV_READ, msg_flags_nb(flags) | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r,        \
                e, caller, fd, len, &fi, (uint64_t)-1, how, pr, buf, pn);                                     \
    IPS_IO_RETURN(r, e);                                                                                      \
  } while (0)

/* On a datagram socket recv is recvfrom without the address; we ask for it (same call) to learn the sender. */
IPS_EXPORT IPS_HOT ssize_t recv(int fd, void *buf, size_t len, int flags) {
  IPS_REAL_DECL(recv, ssize_t, int, void *, size_t, int);
  IPS_REAL_DECL(recvfrom, ssize_t, int, void *, size_t, int, struct sockaddr *, socklen_t *);
  if (!ips_hook_enter()) return real_recv(fd, buf, len, flags);
  struct ips_fdinfo probe;
  ips_fd_info_or_zero(fd, &probe);
  struct sockaddr_storage own;
  socklen_t ownlen = sizeof own;
  int dgram = probe.otype == IPS_OTYPE_SOCKET_UDP;
  struct sockaddr *f = dgram ? (struct sockaddr *)&own : NULL;
  socklen_t *l = dgram ? &ownlen : NULL;
  RECV_CONTIG(IPS_READ_HOW_RECV, fd, buf, len, flags, f, l,
              dgram ? IPS_CANCELLABLE(ssize_t, real_recvfrom(fd, buf, len, flags, f, l), SYS_recvfrom, fd, buf, len,
                                      flags, f, l)
                    : IPS_CANCELLABLE(ssize_t, real_recv(fd, buf, len, flags), SYS_recvfrom, fd, buf, len, flags, 0,
                                      0));
}

IPS_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags) {
  IPS_REAL_DECL(__recv_chk, ssize_t, int, void *, size_t, size_t, int);
  /* len > buflen: glibc's __chk_fail, untraced. */
  if (len > buflen || !ips_hook_enter()) return real___recv_chk(fd, buf, len, buflen, flags);
  socklen_t *none = NULL;
  RECV_CONTIG(IPS_READ_HOW_RECV, fd, buf, len, flags, (struct sockaddr *)NULL, none,
              IPS_CANCELLABLE(ssize_t, real___recv_chk(fd, buf, len, buflen, flags), SYS_recvfrom, fd, buf, len, flags, 0,
                              0));
}

/* When the program does not ask for the source address of a datagram, ask for it ourselves (same call). */
IPS_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fl) {
  IPS_REAL_DECL(recvfrom, ssize_t, int, void *, size_t, int, struct sockaddr *, socklen_t *);
  if (!ips_hook_enter()) return real_recvfrom(fd, buf, len, flags, from, fl);
  struct sockaddr_storage own;
  socklen_t ownlen = sizeof own;
  struct sockaddr *f = from ? from : (struct sockaddr *)&own;
  socklen_t *l = from ? fl : &ownlen;
  RECV_CONTIG(IPS_READ_HOW_RECVFROM, fd, buf, len, flags, f, l,
              IPS_CANCELLABLE(ssize_t, real_recvfrom(fd, buf, len, flags, f, l), SYS_recvfrom, fd, buf, len, flags, f,
                              l));
}

IPS_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags, struct sockaddr *from,
                                  socklen_t *fl) {
  IPS_REAL_DECL(__recvfrom_chk, ssize_t, int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
  if (len > buflen || !ips_hook_enter()) /* len > buflen: glibc's __chk_fail, untraced */
    return real___recvfrom_chk(fd, buf, len, buflen, flags, from, fl);
  RECV_CONTIG(IPS_READ_HOW_RECVFROM, fd, buf, len, flags, from, fl,
              IPS_CANCELLABLE(ssize_t, real___recvfrom_chk(fd, buf, len, buflen, flags, from, fl), SYS_recvfrom, fd, buf,
                              len, flags, from, fl));
}

IPS_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags) {
  IPS_REAL_DECL(recvmsg, ssize_t, int, struct msghdr *, int);
  if (!ips_hook_enter()) return real_recvmsg(fd, m, flags);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  size_t total = msg_total(m);
  uint64_t ticket = ips_io_begin(IPS_EV_READ, msg_flags_nb(flags), caller, fd, total, &fi, (uint64_t)-1,
              IPS_READ_HOW_RECVMSG, fi.peer);
  IPS_PAUSE_POINT(READ, caller);
  ssize_t r = IPS_CANCELLABLE(ssize_t, real_recvmsg(fd, m, flags), SYS_recvmsg, fd, m, flags, 0, 0, 0);
  int e = errno;
  ips_fd_refresh_peer(fd, &fi);
  uint64_t peer = fi.peer;
  if (r >= 0 && m->msg_name) {
    uint64_t p = ips_pack_sockaddr(m->msg_name, m->msg_namelen);
    if (p) peer = p;
  }
  int trunc = 0;
  char pv[IPS_PREVIEW_MAX];
  uint32_t pn = r > 0 ? ips_gather_iov(m->msg_iov, (int)m->msg_iovlen, (size_t)r, pv, &trunc) : 0;
  ips_io_end(ticket, IPS_EV_READ, msg_flags_nb(flags) | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), r,
              r < 0 ? e : 0, caller, fd, total, &fi, (uint64_t)-1, IPS_READ_HOW_RECVMSG, peer, pv, pn);
  if (r >= 0) fd_passes(m, IPS_FD_PASS_DIRECTION_RECV, fd, &fi, flags, caller);
  IPS_RETURN(r, e);
}

IPS_EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned vlen, int flags, struct timespec *timeout) {
  IPS_REAL_DECL(recvmmsg, int, int, struct mmsghdr *, unsigned, int, struct timespec *);
  if (!ips_hook_enter()) return real_recvmmsg(fd, v, vlen, flags, timeout);
  uint64_t caller = IPS_CALLER();
  struct ips_fdinfo fi;
  ips_fd_info_or_zero(fd, &fi);
  size_t total = 0;
  for (unsigned i = 0; i < vlen; i++) total += msg_total(&v[i].msg_hdr);
  uint64_t ticket = ips_io_begin(IPS_EV_READ, msg_flags_nb(flags), caller, fd, total, &fi, (uint64_t)-1,
              IPS_READ_HOW_RECVMMSG, fi.peer);
  IPS_PAUSE_POINT(READ, caller);
  int r = real_recvmmsg(fd, v, vlen, flags, timeout);
  int e = errno;
  int64_t bytes = r < 0 ? -1 : 0;
  for (int i = 0; i < r; i++) bytes += v[i].msg_len;
  uint64_t peer = fi.peer;
  if (r > 0 && v[0].msg_hdr.msg_name) {
    uint64_t p = ips_pack_sockaddr(v[0].msg_hdr.msg_name, v[0].msg_hdr.msg_namelen);
    if (p) peer = p;
  }
  int trunc = 0;
  char pv[IPS_PREVIEW_MAX];
  uint32_t pn = r > 0 ? ips_gather_iov(v[0].msg_hdr.msg_iov, (int)v[0].msg_hdr.msg_iovlen, v[0].msg_len, pv, &trunc)
                      : 0;
  ips_io_end(ticket, IPS_EV_READ, msg_flags_nb(flags) | (trunc ? IPS_FLAG_PREVIEW_TRUNCATED : 0), bytes,
              r < 0 ? e : 0, caller, fd, total, &fi, (uint64_t)-1, IPS_READ_HOW_RECVMMSG, peer, pv, pn);
  for (int i = 0; i < r; i++) fd_passes(&v[i].msg_hdr, IPS_FD_PASS_DIRECTION_RECV, fd, &fi, flags, caller);
  IPS_RETURN(r, e);
}
