/* The fd table: what object each fd of this process refers to (otype, dev, ino, Unix peer, close-on-exec).
 * Filled by the hooks that create fds (open, pipe, socket, accept, …) and lazily by ips_fd_probe on a miss.
 *
 * Lock-free and async-signal-safe: a fixed directory of chunk pointers (installed with CAS, chunks from mmap, never
 * freed), one seqlock per slot. A writer that finds a slot being written by someone else (another thread, or the
 * code this signal handler interrupted) simply skips the update — the table is a cache, a miss only costs an fstat. */
#include "ipcscope.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif
#ifndef ANON_INODE_FS_MAGIC
#define ANON_INODE_FS_MAGIC 0x09041934
#endif

#define PEER_TRIES 8
#define CHUNK_SHIFT 10
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define MAX_CHUNKS 1024 /* 1M fds */

struct slot {
  uint32_t seq; /* odd while being written */
  uint8_t valid;
  struct ips_fdinfo info;
};

static struct slot *chunks[MAX_CHUNKS];
/* chunks[0] (fds 0..1023, the ones nearly every program uses) again, beside the other hot variables (IPS_HOT_DATA):
 * the 8 KiB directory is one more page to touch per event otherwise. */
static struct slot *chunk0 IPS_HOT_DATA;

/* Learned once: st_dev of pipefs (anonymous pipes) and of /dev/shm. 0 until learned. */
static uint64_t pipefs_dev, devshm_dev;
static int devs_learned;

/* Raw syscalls: the table is used inside hooks and must not re-enter interposed libc functions. */
static long raw(long nr, long a, long b, long c, long d, long e) { return syscall(nr, a, b, c, d, e); }

static void learn_devs(void) {
  if (__atomic_load_n(&devs_learned, __ATOMIC_ACQUIRE)) return;
  int p[2];
  struct stat st;
  if (raw(SYS_pipe2, (long)p, O_CLOEXEC, 0, 0, 0) == 0) {
    if (raw(SYS_fstat, p[0], (long)&st, 0, 0, 0) == 0) pipefs_dev = st.st_dev;
    raw(SYS_close, p[0], 0, 0, 0, 0);
    raw(SYS_close, p[1], 0, 0, 0, 0);
  }
  if (raw(SYS_newfstatat, AT_FDCWD, (long)"/dev/shm", (long)&st, 0, 0) == 0) devshm_dev = st.st_dev;
  __atomic_store_n(&devs_learned, 1, __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) struct slot *slot_for(int fd, int create) {
  if (fd < 0) return NULL;
  if ((unsigned)fd < CHUNK_SLOTS) {
    struct slot *c0 = __atomic_load_n(&chunk0, __ATOMIC_ACQUIRE);
    if (IPS_LIKELY(c0 != NULL)) return &c0[fd];
  }
  unsigned c = (unsigned)fd >> CHUNK_SHIFT;
  if (c >= MAX_CHUNKS) return NULL;
  struct slot *ch = __atomic_load_n(&chunks[c], __ATOMIC_ACQUIRE);
  if (!ch) {
    if (!create) return NULL;
    void *m = (void *)syscall(SYS_mmap, 0L, (long)(CHUNK_SLOTS * sizeof(struct slot)), (long)(PROT_READ | PROT_WRITE),
                              (long)(MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
    if (m == MAP_FAILED || (long)m < 0) return NULL;
    struct slot *expected = NULL;
    if (__atomic_compare_exchange_n(&chunks[c], &expected, (struct slot *)m, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
      ch = m;
    } else {
      raw(SYS_munmap, (long)m, CHUNK_SLOTS * sizeof(struct slot), 0, 0, 0);
      ch = expected;
    }
  }
  if (c == 0) __atomic_store_n(&chunk0, ch, __ATOMIC_RELEASE);
  return &ch[(unsigned)fd & (CHUNK_SLOTS - 1)];
}

static void slot_write(int fd, const struct ips_fdinfo *info, int valid) {
  struct slot *s = slot_for(fd, valid);
  if (!s) return;
  uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
  if ((seq & 1) || !__atomic_compare_exchange_n(&s->seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return; /* someone else is writing this slot right now: leave it to them */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  if (info) s->info = *info;
  s->valid = (uint8_t)valid;
  __atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) int slot_read(int fd, struct ips_fdinfo *out) {
  struct slot *s = slot_for(fd, 0);
  if (!s) return 0;
  uint32_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
  if (a & 1) return 0;
  uint8_t valid = s->valid;
  struct ips_fdinfo copy = s->info;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != a || !valid) return 0;
  *out = copy;
  return 1;
}

/* eventfd objects all share the anon inode; the kernel's per-object eventfd-id (fdinfo) tells them apart. */
static uint64_t eventfd_id(int fd) {
  char path[40] = "/proc/self/fdinfo/";
  char num[12];
  int n = 0;
  unsigned v = (unsigned)fd;
  do { num[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  size_t p = strlen(path);
  while (n) path[p++] = num[--n];
  path[p] = 0;
  int f = (int)raw(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC, 0, 0);
  if (f < 0) return 0;
  char buf[512];
  long r = raw(SYS_read, f, (long)buf, sizeof buf - 1, 0, 0);
  raw(SYS_close, f, 0, 0, 0, 0);
  if (r <= 0) return 0;
  buf[r] = 0;
  const char *k = strstr(buf, "eventfd-id:");
  if (!k) return 0;
  k += 11;
  while (*k == ' ' || *k == '\t') k++;
  uint64_t id = 0;
  while (*k >= '0' && *k <= '9') id = id * 10 + (uint64_t)(*k++ - '0');
  return id;
}

static uint8_t anon_kind(int fd, uint64_t *ino) {
  char path[32] = "/proc/self/fd/";
  char num[12];
  int n = 0;
  unsigned v = (unsigned)fd;
  do { num[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  size_t p = strlen(path);
  while (n) path[p++] = num[--n];
  path[p] = 0;
  char link[64];
  long r = raw(SYS_readlinkat, AT_FDCWD, (long)path, (long)link, sizeof link - 1, 0);
  if (r <= 0) return IPS_OTYPE_ANON_INODE;
  link[r] = 0;
  if (strstr(link, "[eventfd]")) {
    uint64_t id = eventfd_id(fd);
    if (id) *ino = id;
    return IPS_OTYPE_EVENTFD;
  }
  if (strstr(link, "[eventpoll]")) return IPS_OTYPE_EPOLL;
  return IPS_OTYPE_ANON_INODE;
}

static int is_tty_rdev(dev_t rdev) {
  unsigned maj = major(rdev);
  return maj == 4 || maj == 5 || (maj >= 136 && maj <= 143);
}

int ips_fd_probe(int fd, struct ips_fdinfo *out) {
  struct stat st;
  memset(out, 0, sizeof *out);
  if (raw(SYS_fstat, fd, (long)&st, 0, 0, 0) != 0) return -1;
  learn_devs();
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  long fdfl = raw(SYS_fcntl, fd, F_GETFD, 0, 0, 0);
  out->cloexec = fdfl > 0 && (fdfl & FD_CLOEXEC);
  long fl = raw(SYS_fcntl, fd, F_GETFL, 0, 0, 0);
  out->nonblock = fl > 0 && (fl & O_NONBLOCK);
  switch (st.st_mode & S_IFMT) {
  case S_IFIFO: out->otype = (pipefs_dev && st.st_dev == pipefs_dev) ? IPS_OTYPE_PIPE : IPS_OTYPE_FIFO; break;
  case S_IFDIR: out->otype = IPS_OTYPE_DIR; break;
  case S_IFBLK: out->otype = IPS_OTYPE_BLOCKDEV; break;
  case S_IFCHR: out->otype = is_tty_rdev(st.st_rdev) ? IPS_OTYPE_TTY : IPS_OTYPE_CHRDEV; break;
  case S_IFSOCK: {
    int dom = 0, type = 0, proto = 0;
    socklen_t l = sizeof dom;
    raw(SYS_getsockopt, fd, SOL_SOCKET, SO_DOMAIN, (long)&dom, (long)&l);
    l = sizeof type;
    raw(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, (long)&type, (long)&l);
    l = sizeof proto;
    raw(SYS_getsockopt, fd, SOL_SOCKET, SO_PROTOCOL, (long)&proto, (long)&l);
    if (dom == AF_UNIX) {
      out->otype = IPS_OTYPE_SOCKET_UNIX;
      out->peer = ips_unix_peer_ino(st.st_ino);
      out->peer_tries = PEER_TRIES;
    } else if (dom == AF_INET || dom == AF_INET6) {
      /* SCTP also offers SOCK_STREAM/SOCK_SEQPACKET: only TCP and UDP(-Lite) get their own otype */
      out->otype = type == SOCK_STREAM && proto == IPPROTO_TCP                          ? IPS_OTYPE_SOCKET_TCP
                   : type == SOCK_DGRAM && (proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE) ? IPS_OTYPE_SOCKET_UDP
                                                                                        : IPS_OTYPE_SOCKET_OTHER;
    } else {
      out->otype = IPS_OTYPE_SOCKET_OTHER;
    }
    break;
  }
  case S_IFREG: {
    struct statfs sf;
    out->otype = IPS_OTYPE_FILE;
    if (raw(SYS_fstatfs, fd, (long)&sf, 0, 0, 0) == 0) {
      if ((unsigned long)sf.f_type == MQUEUE_MAGIC) out->otype = IPS_OTYPE_MQUEUE;
      else if ((unsigned long)sf.f_type == TMPFS_MAGIC && devshm_dev && st.st_dev == devshm_dev)
        out->otype = IPS_OTYPE_SHM;
      else if ((unsigned long)sf.f_type == ANON_INODE_FS_MAGIC) out->otype = anon_kind(fd, &out->ino);
    }
    break;
  }
  default: {
    /* anon inodes (eventfd, epoll, timerfd, signalfd…) have no file type bits */
    struct statfs sf;
    if (raw(SYS_fstatfs, fd, (long)&sf, 0, 0, 0) == 0 && (unsigned long)sf.f_type == ANON_INODE_FS_MAGIC)
      out->otype = anon_kind(fd, &out->ino);
    else
      out->otype = IPS_OTYPE_UNKNOWN;
  }
  }
  return 0;
}

/* A miss (fstat, getsockopt, sock_diag) keeps errno: the read/write hooks no longer restore it after a call that
 * succeeded (IPS_IO_RETURN). */
static __attribute__((noinline)) int fd_info_slow(int fd, struct ips_fdinfo *out, int hit) {
  int saved = errno, r = 0;
  if (hit) {
    out->peer_tries--;
    out->peer = ips_unix_peer_ino(out->ino);
    slot_write(fd, out, 1);
  } else if (ips_fd_probe(fd, out) != 0) {
    r = -1;
  } else {
    slot_write(fd, out, 1);
  }
  errno = saved;
  return r;
}

int ips_fd_info(int fd, struct ips_fdinfo *out) {
  if (IPS_LIKELY(slot_read(fd, out))) {
    if (IPS_UNLIKELY(out->otype == IPS_OTYPE_SOCKET_UNIX && !out->peer && out->peer_tries)) return fd_info_slow(fd, out, 1);
    return 0;
  }
  return fd_info_slow(fd, out, 0);
}

void ips_fd_refresh_peer_slow(int fd, struct ips_fdinfo *fi) {
  struct ips_fdinfo now;
  if (ips_fd_info(fd, &now) == 0 && now.ino == fi->ino) fi->peer = now.peer;
}

void ips_fd_info_or_zero(int fd, struct ips_fdinfo *out) {
  if (ips_fd_info(fd, out) != 0) memset(out, 0, sizeof *out);
}

void ips_fd_set(int fd, const struct ips_fdinfo *info) { slot_write(fd, info, 1); }

void ips_fd_forget(int fd) { slot_write(fd, NULL, 0); }

void ips_fd_forget_range(unsigned first, unsigned last) {
  for (unsigned c = first >> CHUNK_SHIFT; c < MAX_CHUNKS && (c << CHUNK_SHIFT) <= last; c++) {
    if (!__atomic_load_n(&chunks[c], __ATOMIC_ACQUIRE)) continue; /* never filled: nothing to forget */
    for (unsigned i = 0; i < CHUNK_SLOTS; i++) {
      unsigned fd = c * CHUNK_SLOTS + i;
      if (fd >= first && fd <= last) slot_write((int)fd, NULL, 0);
    }
  }
}

void ips_fd_forget_all(void) { ips_fd_forget_range(0, ~0u); }

/* ---- Unix socket peers: what `ss -x` does, for one inode ---- */
uint64_t ips_unix_peer_ino(uint64_t ino) {
  if (!ino || ino > 0xffffffffu) return 0;
  int nl = (int)raw(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG, 0, 0);
  if (nl < 0) return 0;
  struct {
    struct nlmsghdr nlh;
    struct unix_diag_req req;
  } msg;
  memset(&msg, 0, sizeof msg);
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST;
  msg.nlh.nlmsg_seq = 1;
  msg.req.sdiag_family = AF_UNIX;
  msg.req.udiag_states = 0xffffffffu;
  msg.req.udiag_ino = (uint32_t)ino;
  msg.req.udiag_show = UDIAG_SHOW_PEER;
  msg.req.udiag_cookie[0] = msg.req.udiag_cookie[1] = 0xffffffffu; /* INET_DIAG_NOCOOKIE: any */
  struct sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  uint64_t peer = 0;
  if (syscall(SYS_sendto, nl, &msg, sizeof msg, 0, &sa, sizeof sa) == (long)sizeof msg) {
    long buf[512]; /* 4 KiB, aligned for nlmsghdr */
    long r = syscall(SYS_recvfrom, nl, buf, sizeof buf, 0, NULL, NULL);
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; r > 0 && NLMSG_OK(h, (unsigned long)r); h = NLMSG_NEXT(h, r)) {
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) break; /* NLMSG_ERROR: no such socket (or no unix_diag) */
      struct unix_diag_msg *m = NLMSG_DATA(h);
      if (m->udiag_ino != (uint32_t)ino) continue;
      int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
      for (struct rtattr *a = (struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= 4) peer = *(uint32_t *)RTA_DATA(a);
      break;
    }
  }
  raw(SYS_close, nl, 0, 0, 0, 0);
  return peer;
}

/* ---- socket address helpers ---- */
uint64_t ips_pack_sockaddr(const void *sa, unsigned salen) {
  if (!sa || salen < sizeof(struct sockaddr_in)) return 0;
  const struct sockaddr_in *in = sa;
  if (in->sin_family != AF_INET) return 0;
  return (1ull << 48) | ((uint64_t)ntohs(in->sin_port) << 32) | (uint64_t)ntohl(in->sin_addr.s_addr);
}

static uint32_t put(char *buf, uint32_t cap, uint32_t at, const char *s, size_t n) {
  for (size_t i = 0; i < n && at < cap; i++) buf[at++] = s[i];
  return at;
}

static uint32_t put_uint(char *buf, uint32_t cap, uint32_t at, unsigned v) {
  char num[12];
  int n = 0;
  do { num[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (n && at < cap) buf[at++] = num[--n];
  return at;
}

uint32_t ips_sockaddr_text(int type, const void *sa, unsigned salen, char *buf, uint32_t cap) {
  if (!sa || salen < sizeof(sa_family_t)) return 0;
  const struct sockaddr *s = sa;
  const char *proto = type == SOCK_STREAM ? "tcp:" : type == SOCK_DGRAM ? "udp:" : "ip:";
  char addr[INET6_ADDRSTRLEN];
  uint32_t at = 0;
  if (s->sa_family == AF_UNIX) {
    const struct sockaddr_un *un = sa;
    at = put(buf, cap, at, "unix:", 5);
    size_t n = salen > offsetof(struct sockaddr_un, sun_path) ? salen - offsetof(struct sockaddr_un, sun_path) : 0;
    if (n > sizeof un->sun_path) n = sizeof un->sun_path;
    if (n && un->sun_path[0] == 0) { /* abstract socket: shown as @name */
      at = put(buf, cap, at, "@", 1);
      at = put(buf, cap, at, un->sun_path + 1, n - 1);
    } else {
      at = put(buf, cap, at, un->sun_path, strnlen(un->sun_path, n));
    }
  } else if (s->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = sa;
    inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
    at = put(buf, cap, at, proto, 4 - (proto[2] == ':'));
    at = put(buf, cap, at, addr, strlen(addr));
    at = put(buf, cap, at, ":", 1);
    at = put_uint(buf, cap, at, ntohs(in->sin_port));
  } else if (s->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
    at = put(buf, cap, at, proto, 4 - (proto[2] == ':'));
    at = put(buf, cap, at, "[", 1);
    at = put(buf, cap, at, addr, strlen(addr));
    at = put(buf, cap, at, "]:", 2);
    at = put_uint(buf, cap, at, ntohs(in6->sin6_port));
  }
  return at;
}
