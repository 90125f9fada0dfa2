/* IPC Scope shim runtime: configuration, per-thread event rings, ips_emit, the sender thread (websocket or file
 * sink), flushing, process start/end, fork and exec support. Wire format: docs/protocol.md.
 *
 * Hot path (ips_emit): a thread appends a finished wire record to its own single-producer ring (Tracy-style); the
 * sender thread, started with every signal blocked (heaptrack-style), drains all rings every 4 ms into
 * EVENTS messages. No malloc, lock or stdio on the hot path; rings come from mmap and are recycled after their
 * thread exits. Re-entry from a signal handler on the same thread nests: records are reserved with one unlocked
 * xadd (atomic against a handler on the same CPU; no lock prefix, since no other thread appends) and the ring's head
 * only moves, by one plain store, when the outermost append finishes. Times come from the TSC mapped to
 * CLOCK_MONOTONIC where the kernel itself trusts the TSC (see "the clock").
 *
 * Known limits: a signal handler that longjmps out while it interrupted an append leaves that append open, so the
 * thread's later events are never committed: the first ring-full of them are lost without a count, the rest are
 * dropped and counted. clone() children are not followed (see hooks_process.c). */
#include "ipcscope.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

const char ips_shim_version[] = "0.1.0";
struct ips_config ips_cfg IPS_HOT_DATA;
volatile int ips_pause_armed IPS_HOT_DATA;
__thread struct ips_tls ips_tls __attribute__((tls_model("initial-exec")));

/* ---------------------------------------------------------------- small helpers (no libc state, no hooks) */

long ips_sys(long n, long a, long b, long c, long d, long e, long f) { return syscall(n, a, b, c, d, e, f); }
#define SYS3(n, a, b, c) syscall((n), (long)(a), (long)(b), (long)(c))

static int raw_open(const char *path, int flags, int mode) { return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode); }
static void raw_close(int fd) { syscall(SYS_close, fd); }
static ssize_t raw_read(int fd, void *b, size_t n) { return syscall(SYS_read, fd, b, n); }
static int raw_write_all(int fd, const void *b, size_t n) {
  const char *p = b;
  while (n) {
    ssize_t w = syscall(SYS_write, fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w; n -= (size_t)w;
  }
  return 0;
}
static void *raw_mmap(size_t len) {
  void *p = (void *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}
static void raw_munmap(void *p, size_t len) { syscall(SYS_munmap, p, len); }
static int futex_wait(_Atomic uint32_t *addr, uint32_t val, long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  return (int)syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, &ts, 0, 0);
}
static void futex_wake(_Atomic uint32_t *addr) { syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0); }
static void sleep_ns(long ns) {
  struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
  syscall(SYS_nanosleep, &ts, 0);
}
/* Internal fds live high up, away from the numbers a program expects (fd 1 when stdout is closed). */
static int move_fd_high(int fd) {
  if (fd < 0) return fd;
  int hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
  if (hi < 0) return fd;
  raw_close(fd);
  return hi;
}

static uint64_t vdso_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO */
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- the clock
 * Event times are CLOCK_MONOTONIC ns (comparable across processes and with perf's page-fault samples). The vDSO
 * costs ~23-33 ns a call here; rdtsc ~10. When the kernel itself keeps CLOCK_MONOTONIC on an invariant TSC
 * (clocksource tsc, constant_tsc + nonstop_tsc), we map TSC to it linearly: the rate from two vDSO samples at least
 * 10 ms apart (until then the vDSO is used), re-anchored by the sender every loop while the baseline is short and
 * every 50 ms after, so the mapping stays within tens of ns of the kernel's clock. Readers use a seqlock the
 * sender alone writes. */
static struct {
  _Atomic uint32_t seq;
  _Atomic uint64_t tsc0, ns0, mult; /* ns = ns0 + (tsc - tsc0) * mult / 2^32 */
} clk __attribute__((aligned(64))) IPS_HOT_DATA;
static int clk_on IPS_HOT_DATA; /* read per event: the mapping is valid */
static int clk_allowed;  /* TSC usable here (decided once per image) */
static uint64_t clk_anchor_tsc, clk_anchor_ns, clk_last_ns; /* sender (and init) only */

#if defined(__x86_64__)
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
/* One vDSO reading and the TSC at that moment: the narrowest of a few rdtsc brackets, its midpoint. */
static void clk_sample(uint64_t *tsc, uint64_t *ns) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 5; i++) {
    uint64_t a = rdtsc(), n = vdso_now_ns(), b = rdtsc();
    if (b - a < best) { best = b - a; *tsc = a + (b - a) / 2; *ns = n; }
  }
}
#endif

static int text_has(const char *hay, const char *word) {
  size_t wl = strlen(word);
  for (const char *p = hay; (p = strstr(p, word)); p += wl)
    if ((p == hay || p[-1] == ' ' || p[-1] == '\t') && (p[wl] == ' ' || p[wl] == '\n' || p[wl] == 0)) return 1;
  return 0;
}
static size_t read_small_file(const char *path, char *buf, size_t cap);

static void clk_init(int want_tsc) {
  clk_on = 0;
  clk_allowed = 0;
#if defined(__x86_64__)
  if (!want_tsc) return;
  static char buf[16384];
  size_t n = read_small_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf, 63);
  buf[n] = 0;
  if (strncmp(buf, "tsc", 3) || (buf[3] != '\n' && buf[3] != 0)) return;
  n = read_small_file("/proc/cpuinfo", buf, sizeof buf - 1); /* the first CPU's flags line is enough */
  buf[n] = 0;
  char *fl = strstr(buf, "\nflags");
  if (!fl) return;
  char *eol = strchr(fl + 1, '\n');
  if (eol) *eol = 0;
  if (!text_has(fl, "constant_tsc") || !text_has(fl, "nonstop_tsc")) return;
  clk_allowed = 1;
  clk_sample(&clk_anchor_tsc, &clk_anchor_ns);
  clk_last_ns = clk_anchor_ns;
#else
  (void)want_tsc;
#endif
}

/* Sender thread: re-anchor the mapping (and turn it on once the rate is known from a long enough baseline). */
static void clk_resync(void) {
#if defined(__x86_64__)
  if (!clk_allowed) return;
  uint64_t now = vdso_now_ns();
  uint64_t base = now - clk_anchor_ns;
  if (base < 10000000ull || (clk_on && base >= 1000000000ull && now - clk_last_ns < 50000000ull)) return;
  uint64_t t, n;
  clk_sample(&t, &n);
  if (t <= clk_anchor_tsc || n <= clk_anchor_ns) return;
  uint64_t mult = (uint64_t)(((unsigned __int128)(n - clk_anchor_ns) << 32) / (t - clk_anchor_tsc));
  uint32_t s = atomic_load_explicit(&clk.seq, memory_order_relaxed);
  atomic_store_explicit(&clk.seq, s + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&clk.tsc0, t, memory_order_relaxed);
  atomic_store_explicit(&clk.ns0, n, memory_order_relaxed);
  atomic_store_explicit(&clk.mult, mult, memory_order_relaxed);
  atomic_store_explicit(&clk.seq, s + 2, memory_order_release);
  clk_last_ns = n;
  /* A baseline past a minute follows rate changes (NTP slewing) better from a fresh anchor. */
  if (n - clk_anchor_ns > 60000000000ull) { clk_anchor_tsc = t; clk_anchor_ns = n; }
  clk_on = 1;
#endif
}

/* Inline in the deferred begin and end (the hot path); ips_now_ns() for everyone else. */
static inline __attribute__((always_inline)) uint64_t now_ns(void) {
#if defined(__x86_64__)
  if (IPS_LIKELY(clk_on)) {
    uint32_t s = atomic_load_explicit(&clk.seq, memory_order_acquire);
    uint64_t t0 = atomic_load_explicit(&clk.tsc0, memory_order_relaxed);
    uint64_t n0 = atomic_load_explicit(&clk.ns0, memory_order_relaxed);
    uint64_t m = atomic_load_explicit(&clk.mult, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    /* Mid-update (the sender may be preempted there, on our core): never spin, ask the vDSO this once. */
    if (IPS_LIKELY(!(s & 1) && atomic_load_explicit(&clk.seq, memory_order_relaxed) == s)) {
      /* Signed: another CPU's TSC may read a hair behind the anchor the sender just took. */
      int64_t d = (int64_t)(rdtsc() - t0);
      return n0 + (uint64_t)(int64_t)(((__int128)d * (__int128)m) >> 32);
    }
  }
#endif
  return vdso_now_ns();
}
uint64_t ips_now_ns(void) { return now_ns(); }
uint32_t ips_tid_slow(void) {
  if (!ips_tls.tid) ips_tls.tid = (uint32_t)syscall(SYS_gettid);
  return ips_tls.tid;
}

void *ips_real(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (!p) p = dlsym(RTLD_DEFAULT, name);
  return p;
}
void *ips_real_versioned(const char *name, const char *version) {
  void *p = dlvsym(RTLD_NEXT, name, version);
  return p ? p : ips_real(name);
}

/* ---------------------------------------------------------------- recursion guard */

int ips_errno_keep(void) {
  ips_tls.saved_errno = errno;
  ips_tls.errno_kept = 1;
  return ips_tls.saved_errno;
}

/* ---------------------------------------------------------------- configuration */

static char cfg_secret[80], cfg_session[128], cfg_file[PATH_MAX], cfg_raw[1024];
static int cfg_port, cfg_from_origin = IPS_ORIGIN_INITIAL;
static char shim_path[PATH_MAX];
static int cfg_clock_vdso;
static int cfg_sender_inherit;        /* sendercpus=inherit: the sender keeps the CPUs of the thread that made it */
#define SENDER_HEAVY_EPS 4000000ull   /* events per second from which a live sender goes home (sender_place) */
static uint64_t cfg_sender_heavy;     /* that threshold; senderheavy=N sets it (tests) */
static int cfg_wire_fixed;            /* wire=fixed: EVENTS in encoding 0 (as before the compact encoding) */
static char cfg_fixed_copy[PATH_MAX]; /* fixedcopy=PATH (tests): also write the stream in encoding 0 there */

static void parse_config(const char *s) {
  /* Keep the original (minus from=) for the environment of children. */
  size_t rl = 0;
  ips_cfg.payload_bytes = 64;
  ips_cfg.page_faults = 1;
  ips_cfg.snapshots = 1;
  cfg_wire_fixed = 0;
  cfg_sender_inherit = 0;
  cfg_sender_heavy = SENDER_HEAVY_EPS;
  cfg_fixed_copy[0] = 0;
  ips_cfg.cgroup[0] = 0;
  ips_cfg.fault_bpf = 0;
  ips_cfg.pidf_parent = ips_cfg.pidf_tgid = 0;
  const char *p = s;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char item[PATH_MAX + 16];
    if (len >= sizeof item) len = sizeof item - 1;
    memcpy(item, p, len);
    item[len] = 0;
    char *eq = strchr(item, '=');
    if (eq) {
      *eq = 0;
      const char *k = item, *v = eq + 1;
      if (!strcmp(k, "port")) cfg_port = atoi(v);
      else if (!strcmp(k, "secret")) snprintf(cfg_secret, sizeof cfg_secret, "%s", v);
      else if (!strcmp(k, "session")) snprintf(cfg_session, sizeof cfg_session, "%s", v);
      else if (!strcmp(k, "payload")) { long n = atol(v); ips_cfg.payload_bytes = n < 0 ? 0 : n > 4096 ? 4096 : (unsigned)n; }
      else if (!strcmp(k, "faults")) ips_cfg.page_faults = atoi(v) != 0;
      else if (!strcmp(k, "snapshots")) ips_cfg.snapshots = atoi(v) != 0;
      else if (!strcmp(k, "pause")) ips_cfg.pause_enabled = atoi(v) != 0;
      else if (!strcmp(k, "clock")) cfg_clock_vdso = !strcmp(v, "vdso"); /* clock=vdso: never the TSC mapping */
      else if (!strcmp(k, "file")) snprintf(cfg_file, sizeof cfg_file, "%s", v);
      else if (!strcmp(k, "wire")) cfg_wire_fixed = !strcmp(v, "fixed");
      else if (!strcmp(k, "sendercpus")) cfg_sender_inherit = !strcmp(v, "inherit");
      else if (!strcmp(k, "senderheavy")) cfg_sender_heavy = strtoull(v, NULL, 10);
      else if (!strcmp(k, "fixedcopy")) snprintf(cfg_fixed_copy, sizeof cfg_fixed_copy, "%s", v);
      else if (!strcmp(k, "cgroup")) snprintf(ips_cfg.cgroup, sizeof ips_cfg.cgroup, "%s", v);
      else if (!strcmp(k, "bpf")) ips_cfg.fault_bpf = atoi(v) != 0;
      else if (!strcmp(k, "pidf")) {
        int a = 0, b = 0;
        if (sscanf(v, "%d/%d", &a, &b) == 2 && a > 0 && b > 0 && a < 65536 && b < 65536) {
          ips_cfg.pidf_parent = a;
          ips_cfg.pidf_tgid = b;
        }
      }
      else if (!strcmp(k, "pfset")) ips_perf_set_join(v); /* this image only: never passed on as it is */
      else if (!strcmp(k, "from")) {
        /* from=exec:PID / from=spawn:PID, set by our exec/spawn hooks; only believed when it fits this process. */
        long pid = atol(strchr(v, ':') ? strchr(v, ':') + 1 : "0");
        if (!strncmp(v, "exec:", 5) && pid == getpid()) cfg_from_origin = IPS_ORIGIN_EXEC;
        else if (!strncmp(v, "spawn:", 6) && pid == getppid()) cfg_from_origin = IPS_ORIGIN_SPAWN;
      }
      if (strcmp(k, "from") && strcmp(k, "pfset") && rl + len + 2 < sizeof cfg_raw) {
        if (rl) cfg_raw[rl++] = ';';
        memcpy(cfg_raw + rl, p, len);
        rl += len;
        cfg_raw[rl] = 0;
      }
    }
    if (!end) break;
    p = end + 1;
  }
}

/* ---------------------------------------------------------------- per-thread rings */

#define RING_SIZE (1u << 20) /* 1 MiB per thread (mmap: only the pages a thread fills cost memory) */
#define RING_MASK (RING_SIZE - 1)
enum { RING_FREE = 0, RING_LIVE = 1, RING_DEAD = 2 };
struct ips_ring {
  struct ips_ring *next;
  _Atomic int state;
  uint32_t tid;
  _Atomic uint64_t dropped;
  uint64_t dropped_reported; /* sender only */
  /* Producer-private line (the thread and its own signal handlers): no locked instructions touch it on the fast
   * path, and the sender never writes it, so it stays in this core's cache. */
  _Alignas(64) _Atomic uint64_t reserve; /* reserved end */
  _Atomic int depth;                     /* appends in progress on this thread (nested by signal handlers) */
  uint64_t tail_seen;                    /* last tail read from the sender's line; refreshed when space looks short */
  int in_raw;                            /* 1 while the thread is in a direct system call (ips_cancellable) */
  _Alignas(64) _Atomic uint64_t head;    /* committed end (producer writes, sender reads) */
  _Alignas(64) _Atomic uint64_t tail;    /* consumed end (sender writes, producer reads when space looks short) */
  /* A deferred begin (ips_begin_deferred): the producer writes it; the sender claims it when it finds it pending. */
  _Alignas(64) _Atomic uint64_t pend_state; /* seq << 2 | PEND_* */
  uint64_t pend_pos;                        /* reserve when stashed: the begin's place among the thread's records */
  _Alignas(8) uint8_t pend_rec[40 + 8 * IPS_MAX_ARGS]; /* the begin record, as emit_raw would have written it */
  /* Sender only: a begin it claimed, to go out when the drain reaches claimed_pos; claimed_seq, the sequence number
   * of the last begin it claimed (0: none), so that the same begin carried again by a combined record (the thread
   * ended its call in the instant of the claim, see ips_end_deferred) goes out once. */
  _Alignas(64) int claimed;
  uint64_t claimed_pos;
  uint64_t claimed_seq;
  _Alignas(8) uint8_t claimed_rec[40 + 8 * IPS_MAX_ARGS];
  /* Ring pages made present (ring_populate below): the sender's, once the ring is listed (before: its thread's; in a
   * fork child: the forking thread's until the new sender starts). */
  uint64_t pop_base, pop_pos; /* since pop_base (absolute positions), pages up to pop_pos are present and private */
  uint64_t pop_seen;          /* reserve at the sender's last round: how fast the thread writes */
  uint32_t pop_gen;           /* fork_gen when pop_base was set */
  int pop_restart;            /* positions start again at 0 (a reused ring): look at the pages again */
  int wiped;                  /* data is MADV_WIPEONFORK: a fork leaves this process's pages as they were */
  /* Page-aligned, so that data alone can be wiped on fork (the header above is copied like any memory). */
  _Alignas(4096) uint8_t data[RING_SIZE];
};
static struct ips_ring *_Atomic ring_list;
static pthread_key_t ring_key;
static _Atomic uint64_t dropped_noring;
static _Atomic uint64_t total_dropped;

/* Sender wake-up: an eventfd the producers write when a ring is half full or when the sender sleeps long. */
/* A futex word, not an eventfd: producers must never write to an fd number the program may have closed and reused. */
static _Atomic uint32_t wake_word;
static _Atomic int wake_pending;
static _Atomic int sender_idle IPS_HOT_DATA; /* read per event */
static _Atomic int sender_running; /* 1 while a sender thread drains */

void ips_count_dropped(uint64_t n) { atomic_fetch_add(&dropped_noring, n); }

static void wake_sender(void) {
  if (atomic_exchange(&wake_pending, 1)) return;
  atomic_fetch_add(&wake_word, 1);
  futex_wake(&wake_word);
}

static void ring_thread_gone(void *p) {
  struct ips_ring *r = p;
  if (r && ips_tls.ring == r) {
    ips_tls.ring = NULL;
    ips_tls.raw_slot = NULL;
    ips_tls.dead = 1;
    ips_perf_thread_gone(r->tid);
    atomic_store(&r->state, RING_DEAD);
  }
}

/* Ring pages are made present before the thread writes them (MADV_POPULATE_WRITE, Linux 5.14): otherwise the
 * thread page-faults on each fresh 4 KiB of its ring the first time round, and on each again after every fork
 * (copy-on-write, in parent and child alike), and the page-fault sampling then records those as the program's own
 * faults, fault by fault: 414 of the 678 page faults in the trace of a pinned pipe ping-pong (200,000 round trips)
 * were ours, most of them on the ring in its first ~20 ms (its speed did not change measurably without them: 5818
 * vs 5816 ns per round trip, 11 runs). Pages populated this way are not page faults (no sample). The sender keeps
 * each live ring's writer twice what it wrote in the last round ahead (at least POPULATE_MIN, at most
 * POPULATE_AHEAD: a thread that writes little keeps costing little memory) until every page of the ring has been
 * done since the last fork (fork_gen). A new ring gets its first POPULATE_MIN bytes at once, on its thread.
 * Nothing is done inside fork itself: populating 256 KiB there on each side made a traced fork and exit +290 us
 * slower (2851 vs 2559 us), and waking both senders for it at each fork +950 us (a child that exits at once waited
 * for its sender's copying before its BYE), while a child that execs or exits soon never needed the copies. So
 * what a writer faster than the sender (a mutex loop at 16 M events/s) outruns still faults. A ring's data is also
 * MADV_WIPEONFORK (ring_get): a fork then leaves the parent's ring pages private and present (no copy-on-write, no
 * populating again, and fork does not copy their page-table entries), and gives the child fresh zero pages, of which
 * the forking thread's first POPULATE_MIN bytes are populated in the child at once and the rest by its sender. */
#define POPULATE_AHEAD (256u * 1024u)
#define POPULATE_MIN (32u * 1024u)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
static int populate_off;            /* the kernel has no MADV_POPULATE_WRITE */
static _Atomic uint32_t fork_gen;   /* forks this process made: each leaves every unwiped ring page copy-on-write */

/* Makes the ring pages of positions [from, to) present and private. errno is kept. */
static void ring_populate(struct ips_ring *r, uint64_t from, uint64_t to) {
  if (populate_off || to <= from) return;
  if (to - from > RING_SIZE) from = to - RING_SIZE;
  int saved = errno;
  uint64_t off = from & RING_MASK, n = to - from;
  while (n) {
    uint64_t len = RING_SIZE - off < n ? RING_SIZE - off : n;
    uintptr_t a = (uintptr_t)(r->data + off) & ~(uintptr_t)4095;
    uintptr_t b = ((uintptr_t)(r->data + off + len) + 4095) & ~(uintptr_t)4095;
    if (syscall(SYS_madvise, a, b - a, MADV_POPULATE_WRITE) != 0 && (errno == EINVAL || errno == ENOSYS)) {
      populate_off = 1;
      break;
    }
    n -= len;
    off = 0;
  }
  errno = saved;
}

/* Sender, each round, each live ring. */
static void ring_populate_ahead(struct ips_ring *r) {
  uint64_t res = atomic_load_explicit(&r->reserve, memory_order_relaxed);
  uint32_t g = atomic_load_explicit(&fork_gen, memory_order_relaxed);
  if (r->pop_restart || (r->pop_gen != g && !r->wiped)) { /* a fork since, or a reused ring: populate again */
    r->pop_restart = 0;
    r->pop_base = r->pop_pos = r->pop_seen = res;
  }
  r->pop_gen = g;
  uint64_t rate = res - r->pop_seen;
  r->pop_seen = res;
  if (populate_off || r->pop_pos - r->pop_base >= RING_SIZE) return;
  uint64_t ahead = rate > POPULATE_AHEAD / 2 ? POPULATE_AHEAD : rate * 2 < POPULATE_MIN ? POPULATE_MIN : rate * 2;
  uint64_t want = res + ahead, end = r->pop_base + RING_SIZE;
  if (want > end) want = end;
  if (want <= r->pop_pos) return;
  ring_populate(r, r->pop_pos > res ? r->pop_pos : res, want);
  r->pop_pos = want;
}

static struct ips_ring *ring_get(void) {
  struct ips_ring *r = ips_tls.ring;
  if (IPS_LIKELY(r)) return r;
  if (ips_tls.dead) return NULL;
  for (r = atomic_load(&ring_list); r; r = r->next) {
    int expect = RING_FREE;
    if (atomic_compare_exchange_strong(&r->state, &expect, RING_LIVE)) break;
  }
  if (!r) {
    r = raw_mmap(sizeof *r);
    if (!r) return NULL;
    /* A fork child gets fresh zero pages here instead of the parent's, copy-on-write (Linux 4.14): the parent keeps
     * writing its ring with no fault after a fork, and the child, which starts its ring empty anyway, copies
     * nothing. Where the kernel refuses, both sides copy on write as before (fork_gen). */
    int saved = errno;
    r->wiped = syscall(SYS_madvise, r->data, (size_t)RING_SIZE, MADV_WIPEONFORK) == 0;
    errno = saved;
    ring_populate(r, 0, POPULATE_MIN); /* before it is listed: the sender's from then on */
    r->pop_pos = POPULATE_MIN;
    r->pop_gen = atomic_load(&fork_gen);
    atomic_store(&r->state, RING_LIVE);
    struct ips_ring *h = atomic_load(&ring_list);
    do r->next = h; while (!atomic_compare_exchange_weak(&ring_list, &h, r));
  }
  r->tid = ips_tid();
  /* A reused ring: its last thread may have died with a begin pending (cancelled in a read). Idle, same sequence. */
  atomic_store(&r->pend_state, atomic_load(&r->pend_state) & ~(uint64_t)3);
  r->in_raw = 0;
  ips_tls.ring = r;
  ips_tls.raw_slot = &r->in_raw;
  pthread_setspecific(ring_key, r);
  return r;
}

int ips_thread_in_raw(uint32_t tid) {
  for (struct ips_ring *r = atomic_load(&ring_list); r; r = r->next)
    if (atomic_load(&r->state) == RING_LIVE && r->tid == tid) return __atomic_load_n(&r->in_raw, __ATOMIC_ACQUIRE);
  return 1; /* no ring known for it: assume it may be */
}

/* The hot path calls no libc function: memcmp and a memcpy of a variable length are calls into libc's code, one more
 * page to come back cold to at every event of a ping-pong. */
static inline __attribute__((always_inline)) int words_equal(const uint64_t *a, const uint64_t *b, unsigned n) {
  uint64_t d = 0;
  for (unsigned i = 0; i < n; i++) d |= a[i] ^ b[i];
  return d == 0;
}
static inline __attribute__((always_inline)) void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n) {
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    __builtin_memcpy(&w, src + i, 8);
    __builtin_memcpy(dst + i, &w, 8);
  }
  for (; i < n; i++) dst[i] = src[i];
}

static inline void ring_put(struct ips_ring *r, uint64_t pos, const void *src, size_t len) {
  size_t off = pos & RING_MASK, first = RING_SIZE - off;
  if (len <= first) memcpy(r->data + off, src, len);
  else {
    memcpy(r->data + off, src, first);
    memcpy(r->data, (const char *)src + first, len - first);
  }
}
static inline void ring_get_bytes(struct ips_ring *r, uint64_t pos, void *dst, size_t len) {
  size_t off = pos & RING_MASK, first = RING_SIZE - off;
  if (len <= first) memcpy(dst, r->data + off, len);
  else {
    memcpy(dst, r->data + off, first);
    memcpy((char *)dst + first, r->data, len - first);
  }
}

struct rec_header {
  uint16_t kind;
  uint8_t phase, nargs;
  uint16_t blob_len, flags;
  uint32_t tid;
  int32_t err;
  uint64_t ts;
  int64_t result;
  uint64_t caller;
};
_Static_assert(sizeof(struct rec_header) == 40, "record header is 40 bytes");

static inline size_t rec_size(unsigned nargs, uint32_t blob_len) { return 40 + 8 * (size_t)nargs + ((blob_len + 7u) & ~7u); }

/* Ring-only phase (never on the wire: the sender expands it): an end record that carries its begin, a call whose begin
 * was deferred and never left the thread (ips_begin_deferred). After its blob, 16 bytes: the begin's ts, and its flags
 * with the begin's sequence number (48 bits) above them;
 * the begin's kind, tid, caller and arguments are the end's, its result and errno 0, no blob. */
#define RING_PHASE_COMBINED 3
#define COMBINED_TAIL 16
static inline size_t ring_rec_size(const struct rec_header *h) {
  return rec_size(h->nargs, h->blob_len) + (h->phase == RING_PHASE_COMBINED ? COMBINED_TAIL : 0);
}

static _Atomic int conn_state; /* CONN_NONE (0) while the sender is still connecting */
static _Atomic uint64_t send_started_ns; /* nonzero while the sender is inside one websocket send */
static uint32_t proc_pid;

/* Reservation by this thread or a signal handler nested on it: a single instruction is atomic with respect to
 * signals on the same CPU, so x86-64 needs no lock prefix (a locked RMW costs ~20 cycles per event). */
static inline uint64_t reserve_add(_Atomic uint64_t *p, uint64_t n) {
#if defined(__x86_64__)
  __asm__ volatile("xaddq %0, %1" : "+r"(n), "+m"(*(uint64_t *)p) : : "memory");
  return n;
#else
  return atomic_fetch_add_explicit(p, n, memory_order_relaxed);
#endif
}

/* Compare-and-swap that is atomic with respect to this thread's signal handlers only (x86-64: cmpxchg without the lock
 * prefix, which would drain the store buffer behind the event the thread just wrote). Used where a race with another
 * CPU is resolved otherwise (the deferred end, below). */
static inline int cas_this_cpu(_Atomic uint64_t *p, uint64_t want, uint64_t to) {
#if defined(__x86_64__)
  uint64_t prev = want;
  __asm__ volatile("cmpxchgq %2, %1" : "+a"(prev), "+m"(*(uint64_t *)p) : "r"(to) : "memory", "cc");
  return prev == want;
#else
  return atomic_compare_exchange_strong(p, &want, to);
#endif
}

/* The ring looked short of space: wait (yielding) for the sender, then drop. Returns the reserved position
 * or UINT64_MAX to drop and count. Never waits when nested in a signal handler (the interrupted append holds the head
 * back) or on the sender thread itself. */
static __attribute__((noinline)) uint64_t reserve_slow(struct ips_ring *r, size_t size, int depth) {
  int saved = errno;
  uint64_t pos = UINT64_MAX;
  int waited = 0, total = 0;
  uint64_t seen_tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  uint64_t seen_sent = atomic_load_explicit(&ips_ws_sent_bytes, memory_order_relaxed);
  for (;;) {
    uint64_t res = atomic_load_explicit(&r->reserve, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    r->tail_seen = tail;
    if (res - tail + size <= RING_SIZE) {
      pos = reserve_add(&r->reserve, size);
      /* A signal handler may have reserved in between: re-check that our range still fits. */
      if (pos + size - tail <= RING_SIZE) break;
      /* It does not: give the bytes back only if nobody reserved after us (handlers finish before we resume). */
      uint64_t want = pos + size;
      pos = UINT64_MAX;
      if (atomic_compare_exchange_strong(&r->reserve, &want, want - size)) { /* retried below */ }
      else break;
    }
    /* While the connection is being made (a fork child's first ms) wait up to 2 s: nothing is lost, only delayed.
     * Once connected, 100 ms without progress, or 500 ms in all. Progress: the sender took records from this ring or the socket
     * took bytes. A collector that is slow but reading paces the program instead of losing its events. A 20 ms bound
     * dropped a few events in the first 200 ms of a flat-out mutex loop: the collector, its decoder not yet compiled,
     * worked off a full inbox with its sockets paused for longer than that. */
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t sent = atomic_load_explicit(&ips_ws_sent_bytes, memory_order_relaxed);
    if (t != seen_tail || sent != seen_sent) { seen_tail = t; seen_sent = sent; waited = 0; }
    int connecting = atomic_load(&conn_state) == 0;
    if (depth > 0 || ips_tls.is_sender || !atomic_load(&sender_running) || waited >= (connecting ? 20000 : 1000) ||
        (!connecting && total >= 5000))
      break;
    /* A collector that stopped reading (the sender has been stuck in one send for 1 s): drop at once rather
     * than slow the program to one event per wait. A merely slow collector still gets the full wait. */
    uint64_t ss = atomic_load_explicit(&send_started_ns, memory_order_relaxed);
    if (ss && ips_now_ns() - ss > 1000000000ull) break;
    wake_sender();
    sleep_ns(100000); /* 0.1 ms per look */
    waited++;
    total++;
  }
  errno = saved;
  return pos;
}

static __attribute__((noinline)) void wake_check_slow(struct ips_ring *r, uint64_t rv) {
  int saved = errno;
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  r->tail_seen = tail;
  if (rv - tail > RING_SIZE / 2 || atomic_load_explicit(&sender_idle, memory_order_relaxed)) wake_sender();
  errno = saved;
}

/* Deferred begins (below, ips_begin_deferred): the state of a ring's pend_rec. */
enum { PEND_IDLE = 0, PEND_PENDING = 1, PEND_CLAIMED = 2, PEND_BUSY = 3 };
static void flush_pending_self(struct ips_ring *r);

/* Inlined into each entry point: twelve arguments passed on to one more call cost more than the append itself.
 * flags are final (the wrappers add IPS_FLAG_IN_SIGNAL_HANDLER). begin: non-NULL for a combined record (the deferred
 * begin it carries); the caller has already taken the pending begin back. */
static inline __attribute__((always_inline)) void emit_raw(uint64_t ts, uint32_t tid, uint16_t kind, uint8_t phase, uint16_t flags, int64_t result, int err,
                     uint64_t caller, unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len,
                     const struct rec_header *begin, uint64_t begin_seq) {
  if (IPS_UNLIKELY(!ips_cfg.enabled)) return;
  if (blob_len > 65535) blob_len = 65535;
  if (!blob) blob_len = 0;
  struct ips_ring *r = ips_tls.ring;
  if (IPS_UNLIKELY(!r)) {
    int saved = errno;
    r = ring_get();
    errno = saved;
    if (!r) {
      atomic_fetch_add(&dropped_noring, 1);
      return;
    }
  }
  /* A begin of this thread still deferred goes first, so the thread's records stay in the order it made them (a
   * signal handler's call nested in a blocked read, or anything the hook emits between begin and end). */
  if (!begin && IPS_UNLIKELY((atomic_load_explicit(&r->pend_state, memory_order_relaxed) & 3) == PEND_PENDING))
    flush_pending_self(r);
  size_t size = rec_size(nargs, blob_len);
  if (begin) {
    size += COMBINED_TAIL;
    phase = RING_PHASE_COMBINED;
  }
  /* depth: a plain load and store suffice, since a nested handler puts back what it found before we resume. */
  int depth = atomic_load_explicit(&r->depth, memory_order_relaxed);
  atomic_store_explicit(&r->depth, depth + 1, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  uint64_t pos;
  uint64_t res = atomic_load_explicit(&r->reserve, memory_order_relaxed);
  if (IPS_LIKELY(res + size - r->tail_seen <= RING_SIZE)) {
    pos = reserve_add(&r->reserve, size);
    /* A handler that reserved in between may have used up the room: take the careful path. */
    if (IPS_UNLIKELY(pos + size - r->tail_seen > RING_SIZE)) {
      uint64_t want = pos + size;
      if (!atomic_compare_exchange_strong(&r->reserve, &want, pos)) goto drop;
      pos = reserve_slow(r, size, depth);
    }
  } else
    pos = reserve_slow(r, size, depth);
  if (IPS_UNLIKELY(pos == UINT64_MAX)) goto drop;
  {
    uint16_t fl = flags;
    uint64_t tailw[2] = {begin ? begin->ts : 0, begin ? begin->flags | begin_seq << 16 : 0};
    size_t off = pos & RING_MASK;
    if (IPS_LIKELY(off + size <= RING_SIZE)) {
      /* Records are 8-byte multiples, so off is 8-aligned: write the header in place, no staging copy. */
      uint8_t *p = r->data + off;
      struct rec_header *h = (struct rec_header *)(void *)p;
      h->kind = kind;
      h->phase = phase;
      h->nargs = (uint8_t)nargs;
      h->blob_len = (uint16_t)blob_len;
      h->flags = fl;
      h->tid = tid;
      h->err = err;
      h->ts = ts;
      h->result = result;
      h->caller = caller;
      uint64_t *a = (uint64_t *)(void *)(p + 40);
      for (unsigned i = 0; i < nargs; i++) a[i] = args[i];
      if (blob_len) {
        uint8_t *b = p + 40 + 8 * (size_t)nargs;
        if (blob_len & 7u) memset(b + (blob_len & ~7u), 0, 8); /* padding zeroed, then overwritten by the tail */
        copy_bytes(b, blob, blob_len);
      }
      if (begin) memcpy(p + size - COMBINED_TAIL, tailw, COMBINED_TAIL);
    } else {
      struct rec_header h = {kind, phase, (uint8_t)nargs, (uint16_t)blob_len, fl, tid, err, ts, result, caller};
      ring_put(r, pos, &h, 40);
      if (nargs) ring_put(r, pos + 40, args, 8 * (size_t)nargs);
      if (blob_len) {
        ring_put(r, pos + 40 + 8 * nargs, blob, blob_len);
        static const uint8_t zeros[8];
        uint32_t pad = ((blob_len + 7u) & ~7u) - blob_len;
        if (pad) ring_put(r, pos + 40 + 8 * nargs + blob_len, zeros, pad);
      }
      if (begin) ring_put(r, pos + size - COMBINED_TAIL, tailw, COMBINED_TAIL);
    }
  }
  goto commit;
drop:
  atomic_fetch_add_explicit(&r->dropped, begin ? 2 : 1, memory_order_relaxed); /* a combined record is two events */
commit:
  atomic_signal_fence(memory_order_seq_cst);
  if (IPS_UNLIKELY(depth != 0)) {
    /* Nested in a handler: the interrupted append publishes our record when it finishes. */
    atomic_store_explicit(&r->depth, depth, memory_order_relaxed);
    return;
  }
  /* Outermost: publish everything reserved so far. Still counted in depth while head is stored, so a handler
   * arriving now cannot publish and have us move head back; one arriving after depth drops publishes itself, and
   * we see its reservation and publish again (head only ever takes the current reserve: it never goes back). */
  uint64_t rv;
  for (;;) {
    rv = atomic_load_explicit(&r->reserve, memory_order_relaxed);
    atomic_store_explicit(&r->head, rv, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);
    atomic_store_explicit(&r->depth, 0, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    if (IPS_LIKELY(atomic_load_explicit(&r->reserve, memory_order_relaxed) == rv)) break;
    atomic_store_explicit(&r->depth, 1, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
  }
  /* Wake the sender only when the ring crosses half full (judged from our cached tail first: no shared line read
   * per event) or when it sleeps long. */
  if (IPS_UNLIKELY(rv - r->tail_seen > RING_SIZE / 2 || atomic_load_explicit(&sender_idle, memory_order_relaxed)))
    wake_check_slow(r, rv);
}

/* ---- python_location (hooks_python.c): a Python target's file:line goes out before the thread's next event
 * whenever it changed. One predictable branch in every process where no Python hook was installed. */
extern volatile int ips_python_active IPS_HIDDEN IPS_HOT_DATA;
void ips_python_sync(void) IPS_HIDDEN;
#define IPS_PYTHON_SYNC() do { if (IPS_UNLIKELY(ips_python_active)) ips_python_sync(); } while (0)

static inline uint16_t sig_flag(void) { return ips_tls.sig_depth > 0 ? IPS_FLAG_IN_SIGNAL_HANDLER : 0; }

void ips_emit(uint16_t kind, uint8_t phase, int64_t result, int err, uint64_t caller, unsigned nargs,
              const uint64_t *args, const void *blob, uint32_t blob_len) {
  IPS_PYTHON_SYNC();
  /* The sender's own events (snapshots on command, dlopen notices) belong to the process: stamp the main tid. */
  emit_raw(ips_now_ns(), IPS_UNLIKELY(ips_tls.is_sender) ? proc_pid : ips_tid(), kind, phase, sig_flag(), result, err,
           caller, nargs, args, blob, blob_len, NULL, 0);
}
void ips_emit_flags(uint16_t kind, uint8_t phase, uint16_t flags, int64_t result, int err, uint64_t caller,
                    unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len) {
  IPS_PYTHON_SYNC();
  emit_raw(ips_now_ns(), ips_tid(), kind, phase, flags | sig_flag(), result, err, caller, nargs, args, blob, blob_len,
           NULL, 0);
}
void ips_emit_ts(uint64_t ts, uint16_t kind, uint8_t phase, int64_t result, int err, uint64_t caller, unsigned nargs,
                 const uint64_t *args) {
  IPS_PYTHON_SYNC();
  emit_raw(ts, ips_tid(), kind, phase, sig_flag(), result, err, caller, nargs, args, NULL, 0, NULL, 0);
}
void ips_emit_at(uint64_t ts, uint32_t tid, uint16_t kind, uint8_t phase, int64_t result, int err, uint64_t caller,
                 unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len) {
  emit_raw(ts, tid, kind, phase, kind == IPS_EV_PAGE_FAULT ? 0 : sig_flag(), result, err, caller, nargs, args, blob,
           blob_len, NULL, 0);
}

/* ---- deferred begins: one ring record for a call that returns before anyone looks ----
 * A call that can block is a begin and an end. Most return at once (a pipe with room or data), and writing two
 * records cost a pinned pipe ping-pong ~100 ns per round trip over one. So the begin is kept in the ring's pend_rec
 * (pend_state PENDING) instead of being appended; the end, finding it still there, nothing else appended since and the
 * same arguments, appends one combined record that the sender expands into the begin and the end. What anyone sees
 * is the same two events with the same times. A begin that waits goes out on its own: the sender claims every begin
 * it finds pending at each round (so a call blocked for long shows as begun within a round, as before), and any
 * other record of the thread (a signal handler's call, nested) first appends the pending begin itself. The state
 * word carries a sequence number, so a claim can only take the begin it copied; BUSY marks a begin being written (a
 * handler arriving then records its own calls at once).
 * The end takes its begin back with a compare-and-swap that only this CPU sees atomically (cas_this_cpu: a locked one
 * cost the pinned ping-pong ~25 ns per round trip). The sender's claim, on another CPU, may then succeed in the same
 * instant as the end's swap: the end has written a combined record and the sender has sent the begin. The combined
 * record carries the begin's sequence number, and the sender sends only the end of one whose begin it claimed
 * (put_combined), so each event still goes out exactly once. */

/* The thread (or a handler nested on it) takes its pending begin back and appends it. */
static __attribute__((noinline)) void flush_pending_self(struct ips_ring *r) {
  uint64_t s = atomic_load_explicit(&r->pend_state, memory_order_relaxed);
  if ((s & 3) != PEND_PENDING) return;
  if (!atomic_compare_exchange_strong(&r->pend_state, &s, (s & ~(uint64_t)3) | PEND_CLAIMED)) return; /* the sender's */
  int saved = errno;
  const struct rec_header *h = (const struct rec_header *)(const void *)r->pend_rec;
  emit_raw(h->ts, h->tid, h->kind, h->phase, h->flags, 0, 0, h->caller, h->nargs, (const uint64_t *)(h + 1), NULL, 0,
           NULL, 0);
  errno = saved;
}

uint64_t ips_begin_deferred(uint16_t kind, uint16_t flags, uint64_t caller, unsigned nargs, const uint64_t *args) {
  struct ips_ring *r = ips_tls.ring;
  /* Stepping shows the begin while the thread is held; Python locations go out before the thread's next record; a
   * sender asleep for long (idle, 20 ms) is woken by an appended record, so a call that may block is seen at once. */
  if (IPS_UNLIKELY(!r || !ips_cfg.enabled || ips_pause_armed || ips_python_active || ips_tls.is_sender ||
                   nargs > IPS_MAX_ARGS || atomic_load_explicit(&sender_idle, memory_order_relaxed)))
    goto now;
  uint64_t s = atomic_load_explicit(&r->pend_state, memory_order_relaxed);
  if (IPS_UNLIKELY((s & 3) == PEND_PENDING || (s & 3) == PEND_BUSY)) goto now; /* nested in a handler: the slot is taken */
  uint64_t seq = (s >> 2) + 1;
  atomic_store_explicit(&r->pend_state, seq << 2 | PEND_BUSY, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  struct rec_header *h = (struct rec_header *)(void *)r->pend_rec;
  h->kind = kind;
  h->phase = IPS_PHASE_BEGIN;
  h->nargs = (uint8_t)nargs;
  h->blob_len = 0;
  h->flags = (uint16_t)(flags | sig_flag());
  h->tid = ips_tid();
  h->err = 0;
  h->ts = now_ns();
  h->result = 0;
  h->caller = caller;
  uint64_t *a = (uint64_t *)(void *)(h + 1);
  for (unsigned i = 0; i < nargs; i++) a[i] = args[i];
  r->pend_pos = atomic_load_explicit(&r->reserve, memory_order_relaxed);
  atomic_store_explicit(&r->pend_state, seq << 2 | PEND_PENDING, memory_order_release);
  /* Where the end's record will go: fetched for writing now, while the call runs (a ping-pong's read switches
   * process; its write wakes the other), not when the end stores into lines a full ring lap has left cold. A
   * combined read/write record with a 64-byte preview is 184 bytes. */
  const uint8_t *next = r->data + (r->pend_pos & RING_MASK);
  __builtin_prefetch(next, 1, 3);
  __builtin_prefetch(next + 64, 1, 3);
  __builtin_prefetch(next + 128, 1, 3);
  __builtin_prefetch(next + 191, 1, 3);
  return seq;
now:
  ips_emit_flags(kind, IPS_PHASE_BEGIN, flags, 0, 0, caller, nargs, args, NULL, 0);
  return 0;
}

void ips_end_deferred(uint64_t ticket, uint16_t kind, uint16_t flags, int64_t result, int err, uint64_t caller,
                      unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len) {
  struct ips_ring *r = ips_tls.ring;
  if (ticket && r) {
    uint64_t want = ticket << 2 | PEND_PENDING;
    const struct rec_header *b = (const struct rec_header *)(const void *)r->pend_rec;
    if (atomic_load_explicit(&r->pend_state, memory_order_relaxed) == want) {
      if (b->kind == kind && b->caller == caller && b->nargs == nargs && !ips_python_active &&
          atomic_load_explicit(&r->reserve, memory_order_relaxed) == r->pend_pos &&
          words_equal((const uint64_t *)(const void *)(b + 1), args, nargs)) {
        if (cas_this_cpu(&r->pend_state, want, ticket << 2 | PEND_IDLE)) {
          /* b stays as it is until this thread's next begin: read it in place. */
          emit_raw(now_ns(), b->tid, kind, IPS_PHASE_END, flags | sig_flag(), result, err, caller, nargs, args,
                   blob, blob_len, b, ticket);
          return;
        }
        /* The sender (or a handler nested here) claimed it just before: the begin is theirs; the end goes alone. */
      } else
        flush_pending_self(r); /* something came between, or the arguments changed: begin first, on its own */
    }
  }
  ips_emit_flags(kind, IPS_PHASE_END, flags, result, err, caller, nargs, args, blob, blob_len);
}

/* ---------------------------------------------------------------- the sink: websocket or file */

#define MSG_MAX (256u * 1024u) /* body bytes per EVENTS message before it is sent */
#define MSG_BUF (IPS_WS_HEADROOM + 16 + 16 + MSG_MAX + 70000)
/* Worst case of one compact record: head, kind, tid, dts, flags, errno, result, caller, args, blob length, blob. */
#define COMPACT_WORST(nargs, blob_len) (1 + 3 + 5 + 10 + 3 + 5 + 10 + 10 + 10 * (size_t)(nargs) + 3 + (size_t)(blob_len))
/* The fixed copy (fixedcopy=, tests) is flushed together with the compact message it mirrors, so it must hold what
 * MSG_MAX compact bytes can stand for: a fixed record is at most ~14 times its compact form (40 bytes for 3). */
#define COPY_MAX (16u * MSG_MAX)
enum { CONN_NONE, CONN_UP, CONN_BYE_SENT, CONN_FAILED };
static int sink_fd = -1, sink_is_file;
static uint64_t sink_dev, sink_ino;
static int sink_open_file(void);
static int copy_fd = -1; /* fixedcopy= file */
static uint64_t copy_dev, copy_ino;
static uint32_t copy_seq;
static _Atomic int conn_state;
static _Atomic uint32_t conn_result; /* futex: 0 pending, 1 up, 2 failed */
static char conn_error[256];
static uint32_t out_seq;
static uint8_t *msg_buf;  /* IPS_WS_HEADROOM + header + body */
static size_t msg_len;    /* body bytes after the EVENTS prefix (8 bytes fixed, 16 compact) */
static uint32_t msg_count;
static uint64_t sent_events;
static uint8_t *copy_buf; /* the fixed copy's message: header + body */
static size_t copy_len;
static uint32_t copy_count;
static int hello_origin = IPS_ORIGIN_INITIAL;
static _Atomic uint32_t flush_req, flush_done, bye_req, bye_done, reconnect_req;
static pthread_t sender_thread;

#define MSG_PREFIX ((size_t)(cfg_wire_fixed ? 8 : 16))
#define MSG_BODY (msg_buf + IPS_WS_HEADROOM + 16)

/* Opens PREFIX.<pid> for appending, high in the fd space; remembers its identity so a reused number is noticed. */
static int open_trace_file(const char *prefix, int *fd_out, uint64_t *dev, uint64_t *ino) {
  /* One file per process (PATH.PID): messages of one connection stay together, exactly as sent. */
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s.%d", prefix, (int)getpid());
  int fd = raw_open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) {
    snprintf(conn_error, sizeof conn_error, "cannot open %.200s: %s", path, strerror(errno));
    return -1;
  }
  *fd_out = move_fd_high(fd);
  struct stat st;
  if (syscall(SYS_fstat, *fd_out, &st) == 0) { *dev = st.st_dev; *ino = st.st_ino; }
  return 0;
}

/* Writes one message (header at h, body after it) to a trace file, reopening it if the number is not ours any more. */
static int file_write(const char *prefix, int *fd, uint64_t *dev, uint64_t *ino, const uint8_t *h, size_t len) {
  if (*fd < 0) return -1;
  struct stat st;
  if (syscall(SYS_fstat, *fd, &st) != 0 || st.st_dev != *dev || st.st_ino != *ino) {
    *fd = -1; /* not ours any more: never write to (or close) that number */
    if (open_trace_file(prefix, fd, dev, ino) < 0) return -1;
  }
  return raw_write_all(*fd, h, len);
}

static void put_header(uint8_t *h, uint16_t type, size_t len, uint32_t seq) {
  uint32_t magic = 0x53435049, blen = (uint32_t)len;
  uint16_t ver = 1;
  memcpy(h, &magic, 4);
  memcpy(h + 4, &ver, 2);
  memcpy(h + 6, &type, 2);
  memcpy(h + 8, &blen, 4);
  memcpy(h + 12, &seq, 4);
}

static int sink_send(uint16_t type, const void *body, size_t len, int body_in_place) {
  /* body_in_place: the body already sits at msg_buf + HEADROOM + 16. */
  uint8_t *buf = msg_buf;
  static uint8_t small[IPS_WS_HEADROOM + 16 + 4096];
  if (!body_in_place) {
    if (len > sizeof small - IPS_WS_HEADROOM - 16) return -1;
    buf = small;
    memcpy(buf + IPS_WS_HEADROOM + 16, body, len);
  }
  uint8_t *h = buf + IPS_WS_HEADROOM;
  put_header(h, type, len, out_seq++);
  if (copy_fd >= 0 && type != IPS_MSG_EVENTS) {
    /* The fixed copy gets every other message as is (its EVENTS are its own, written by msg_flush). */
    put_header(h, type, len, copy_seq++);
    file_write(cfg_fixed_copy, &copy_fd, &copy_dev, &copy_ino, h, 16 + len);
    put_header(h, type, len, out_seq - 1);
  }
  if (sink_fd < 0) return -1;
  if (sink_is_file) return file_write(cfg_file, &sink_fd, &sink_dev, &sink_ino, h, 16 + len);
  atomic_store_explicit(&send_started_ns, ips_now_ns(), memory_order_relaxed);
  int r = ips_ws_send(sink_fd, buf, 16 + len);
  atomic_store_explicit(&send_started_ns, 0, memory_order_relaxed);
  return r;
}

/* ---- the compact encoding (docs/protocol.md, "encoding 1"): "previous" state, fresh in every message */

static uint64_t enc_base, enc_ts; /* the message's base timestamp; the previous record's timestamp */
static uint32_t enc_tid;
static uint16_t enc_kind;
/* Per kind: the previous caller and arguments in this message. A row is valid only when its generation is the
 * message's, so a new message forgets them all with one increment. */
static uint32_t enc_gen, enc_row_gen[IPS_MAX_KIND + 1];
static uint64_t enc_row[IPS_MAX_KIND + 1][1 + IPS_MAX_ARGS];
/* Per kind (valid with the row): where the previous blob's bytes sit in the message body, and its length (0: none).
 * A blob equal to it goes out as length 0: a payload preview that repeats (a protocol's fixed header, a ping-pong)
 * costs one byte instead of up to 65. */
static uint32_t enc_blob_off[IPS_MAX_KIND + 1];
static uint16_t enc_blob_len[IPS_MAX_KIND + 1];
#define DTS_LIMIT (1ull << 53)

static inline uint8_t *put_uv(uint8_t *p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}
static inline uint8_t *put_sv(uint8_t *p, int64_t v) { return put_uv(p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

static void copy_flush(void) {
  if (!copy_count) return;
  uint8_t *b = copy_buf + 16;
  uint32_t zero = 0;
  memcpy(b, &copy_count, 4);
  memcpy(b + 4, &zero, 4);
  put_header(copy_buf, IPS_MSG_EVENTS, 8 + copy_len, copy_seq++);
  file_write(cfg_fixed_copy, &copy_fd, &copy_dev, &copy_ino, copy_buf, 16 + 8 + copy_len);
  copy_count = 0;
  copy_len = 0;
}
static void copy_add(const void *rec, size_t size) {
  if (copy_len + size > COPY_MAX) copy_flush(); /* never, by COPY_MAX; the copy would only split differently */
  memcpy(copy_buf + 16 + 8 + copy_len, rec, size);
  copy_len += size;
  copy_count++;
}

static int msg_flush(void) {
  if (copy_buf) copy_flush();
  if (!msg_count) return 0;
  uint8_t *b = MSG_BODY;
  uint32_t enc = cfg_wire_fixed ? 0 : 1;
  memcpy(b, &msg_count, 4);
  memcpy(b + 4, &enc, 4);
  if (!cfg_wire_fixed) memcpy(b + 8, &enc_base, 8);
  int r = sink_send(IPS_MSG_EVENTS, NULL, MSG_PREFIX + msg_len, 1);
  sent_events += msg_count;
  msg_count = 0;
  msg_len = 0;
  return r;
}
/* Drops the message being built (nowhere to send it). */
static void msg_discard(void) {
  msg_count = 0;
  msg_len = 0;
  copy_count = 0;
  copy_len = 0;
}
static uint8_t *msg_reserve(size_t size) {
  if (msg_len + size > MSG_MAX) msg_flush();
  uint8_t *p = MSG_BODY + 8 + msg_len;
  msg_len += size;
  msg_count++;
  return p;
}

/* Appends one fixed record (header h, its arguments and blob right after it) to the message in the compact encoding.
 * Inlined into the drain loop: a call per record cost ~3 ns of the sender's ~8 ns per event (mutex_loop, pinned). */
static inline __attribute__((always_inline)) void msg_put_compact(const struct rec_header *h) {
  unsigned kind = h->kind, nargs = h->nargs;
  /* Records come from emit_raw with the generated constants; a kind or count beyond the tables would be a shim bug. */
  if (IPS_UNLIKELY(kind > IPS_MAX_KIND || nargs > IPS_MAX_ARGS)) return;
  int64_t dts = (int64_t)(h->ts - enc_ts);
  if (msg_count && (msg_len + COMPACT_WORST(nargs, h->blob_len) > MSG_MAX || dts >= (int64_t)DTS_LIMIT ||
                    dts <= -(int64_t)DTS_LIMIT))
    msg_flush();
  if (copy_buf) copy_add(h, rec_size(nargs, h->blob_len)); /* after the flush: the copy's messages hold the same records */
  if (!msg_count) {
    if (IPS_UNLIKELY(++enc_gen == 0)) { /* after 2^32 messages: forget every row's generation */
      memset(enc_row_gen, 0, sizeof enc_row_gen);
      enc_gen = 1;
    }
    enc_base = enc_ts = h->ts;
    dts = 0;
  }
  uint8_t *p0 = MSG_BODY + 16 + msg_len, *p = p0 + 1;
  unsigned head = h->phase;
  if (msg_count && kind == enc_kind) head |= 4; /* K */
  else p = put_uv(p, kind);
  if (!msg_count || h->tid != enc_tid) { /* T */
    head |= 8;
    p = put_uv(p, h->tid);
  }
  p = put_sv(p, dts);
  if (h->flags) { head |= 16; p = put_uv(p, h->flags); }
  if (h->err) { head |= 32; p = put_sv(p, h->err); }
  if (h->result) { head |= 64; p = put_sv(p, h->result); }
  uint64_t *row = enc_row[kind];
  if (enc_row_gen[kind] != enc_gen) {
    enc_row_gen[kind] = enc_gen;
    memset(row, 0, sizeof enc_row[0]);
    enc_blob_len[kind] = 0;
  }
  const uint64_t *args = (const uint64_t *)(const void *)(h + 1);
  p = put_uv(p, h->caller ^ row[0]);
  row[0] = h->caller;
  for (unsigned i = 0; i < nargs; i++) {
    p = put_uv(p, args[i] ^ row[1 + i]);
    row[1 + i] = args[i];
  }
  if (h->blob_len) {
    head |= 128;
    const uint8_t *blob = (const uint8_t *)(args + nargs), *body = MSG_BODY + 16;
    if (enc_blob_len[kind] == h->blob_len && !memcmp(body + enc_blob_off[kind], blob, h->blob_len)) {
      *p++ = 0; /* the same bytes as this kind's previous blob in the message */
    } else {
      p = put_uv(p, h->blob_len);
      enc_blob_off[kind] = (uint32_t)(p - body);
      enc_blob_len[kind] = h->blob_len;
      memcpy(p, blob, h->blob_len);
      p += h->blob_len;
    }
  }
  *p0 = (uint8_t)head;
  msg_len += (size_t)(p - p0);
  msg_count++;
  enc_kind = (uint16_t)kind;
  enc_tid = h->tid;
  enc_ts = h->ts;
}

/* One record (header h, its arguments and blob right after it) into the message, in the session's encoding. */
static void put_rec(const struct rec_header *h) {
  if (cfg_wire_fixed) memcpy(msg_reserve(rec_size(h->nargs, h->blob_len)), h, rec_size(h->nargs, h->blob_len));
  else msg_put_compact(h);
}

/* A combined ring record (RING_PHASE_COMBINED; writable: the ring's bytes between tail and head, or a copy) goes out
 * as the two events it stands for: its begin, then itself as the end; only the end when this sender claimed that
 * begin already (r's claimed_seq: the thread ended its call in the instant of the claim). */
static __attribute__((noinline)) void put_combined(struct ips_ring *r, struct rec_header *h) {
  uint64_t tailw[2];
  memcpy(tailw, (const uint8_t *)h + rec_size(h->nargs, h->blob_len), COMBINED_TAIL);
  if (r->claimed_seq && tailw[1] >> 16 == (r->claimed_seq & 0xffffffffffffull)) {
    h->phase = IPS_PHASE_END;
    put_rec(h);
    return;
  }
  _Alignas(8) uint8_t b[40 + 8 * IPS_MAX_ARGS];
  struct rec_header bh = *h;
  bh.phase = IPS_PHASE_BEGIN;
  bh.flags = (uint16_t)tailw[1];
  bh.blob_len = 0;
  bh.err = 0;
  bh.ts = tailw[0];
  bh.result = 0;
  memcpy(b, &bh, 40);
  memcpy(b + 40, h + 1, 8 * (size_t)h->nargs);
  put_rec((const struct rec_header *)(const void *)b);
  h->phase = IPS_PHASE_END;
  put_rec(h);
}

/* Events the sender makes itself (dropped counts) go straight into the message. */
static void msg_add(uint32_t tid, uint16_t kind, unsigned nargs, const uint64_t *args) {
  _Alignas(8) uint8_t rec[40 + 8 * IPS_MAX_ARGS];
  struct rec_header h = {kind, 0, (uint8_t)nargs, 0, 0, tid, 0, ips_now_ns(), 0, 0};
  memcpy(rec, &h, 40);
  memcpy(rec + 40, args, 8 * nargs);
  if (cfg_wire_fixed) memcpy(msg_reserve(rec_size(nargs, 0)), rec, rec_size(nargs, 0));
  else msg_put_compact((const struct rec_header *)(const void *)rec);
}

/* Encoding 0: moves the ring's committed records [tail, head) into messages as they are; returns the new tail. */
static uint64_t drain_ring_fixed(struct ips_ring *r, uint64_t tail, uint64_t head) {
  while (tail < head) {
    /* Whole records that neither wrap nor overflow the message go over in one copy. The bytes are copied first
     * and the headers walked in the copy: walking them in the ring was a chain of dependent loads on lines the
     * producer wrote milliseconds ago (89% of drain_rings' samples on that one load), while one streaming copy
     * lets the hardware prefetch. A record cut off at the end of the copy is simply not counted (copied again
     * next time). */
    size_t off = tail & RING_MASK, room = MSG_MAX - msg_len;
    uint64_t lim = head - tail < RING_SIZE - off ? head - tail : RING_SIZE - off;
    if (lim > room) lim = room;
    uint8_t *dst = MSG_BODY + 8 + msg_len;
    uint64_t e = 0;
    uint32_t n = 0;
    if (lim >= 40) memcpy(dst, r->data + off, lim);
    while (e + 40 <= lim) {
      const struct rec_header *h = (const struct rec_header *)(const void *)(dst + e);
      if (h->phase == RING_PHASE_COMBINED) break; /* two events: one at a time, below */
      size_t size = rec_size(h->nargs, h->blob_len);
      if (e + size > lim) break;
      e += size;
      n++;
    }
    if (n) {
      msg_len += e;
      msg_count += n;
      tail += e;
    } else {
      /* A record across the ring's end, a full message or a combined record: one at a time (msg_reserve flushes). */
      static _Alignas(8) uint8_t one[40 + 8 * IPS_MAX_ARGS + 65536 + COMBINED_TAIL];
      struct rec_header h;
      ring_get_bytes(r, tail, &h, 40);
      size_t size = ring_rec_size(&h);
      ring_get_bytes(r, tail, one, size);
      if (h.phase == RING_PHASE_COMBINED) put_combined(r, (struct rec_header *)(void *)one);
      else put_rec((const struct rec_header *)(const void *)one);
      tail += size;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
  }
  return tail;
}

/* Encoding 1: re-encodes the ring's committed records [tail, head) into messages; returns the new tail. An encoder
 * reads every header anyway, so records are read in place (sequential, prefetch-friendly); only one that wraps the
 * ring's end is copied out first. */
static uint64_t drain_ring_compact(struct ips_ring *r, uint64_t tail, uint64_t head) {
  static _Alignas(8) uint8_t wrapped[40 + 8 * IPS_MAX_ARGS + 65536 + COMBINED_TAIL];
  while (tail < head) {
    /* The tail is published every 64 KiB, so a producer waiting for room need not wait for the whole ring. */
    uint64_t stop = head - tail > 65536 ? tail + 65536 : head;
    while (tail < stop) {
      size_t off = tail & RING_MASK;
      struct rec_header *h = (struct rec_header *)(void *)(r->data + off);
      size_t size;
      if (IPS_LIKELY(off + 40 <= RING_SIZE) && off + (size = ring_rec_size(h)) <= RING_SIZE) {
        if (IPS_LIKELY(h->phase != RING_PHASE_COMBINED)) msg_put_compact(h);
        else put_combined(r, h);
      } else {
        struct rec_header hc;
        ring_get_bytes(r, tail, &hc, 40);
        size = ring_rec_size(&hc);
        ring_get_bytes(r, tail, wrapped, size);
        if (hc.phase == RING_PHASE_COMBINED) put_combined(r, (struct rec_header *)(void *)wrapped);
        else msg_put_compact((const struct rec_header *)(const void *)wrapped);
      }
      tail += size;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
  }
  return tail;
}

static uint64_t drain_ring(struct ips_ring *r, uint64_t tail, uint64_t head) {
  return cfg_wire_fixed ? drain_ring_fixed(r, tail, head) : drain_ring_compact(r, tail, head);
}

/* Takes a begin the ring's thread deferred (ips_begin_deferred) and still holds: its call has been running since at
 * least the last round, so it goes out now, in its place among the thread's records. */
static void claim_pending(struct ips_ring *r) {
  if (r->claimed) return;
  uint64_t s = atomic_load_explicit(&r->pend_state, memory_order_acquire);
  if ((s & 3) != PEND_PENDING) return;
  uint64_t pos = r->pend_pos;
  memcpy(r->claimed_rec, r->pend_rec, sizeof r->claimed_rec);
  /* The copy is the begin of sequence s only if the state is still s: the thread rewrites the slot only after taking
   * it back (IDLE or CLAIMED, and a new sequence for the next begin). */
  if (!atomic_compare_exchange_strong(&r->pend_state, &s, (s & ~(uint64_t)3) | PEND_CLAIMED)) return;
  r->claimed_pos = pos;
  r->claimed_seq = s >> 2;
  r->claimed = 1;
}

/* Moves every committed record of every ring into messages. */
static void drain_rings(void) {
  for (struct ips_ring *r = atomic_load(&ring_list); r; r = r->next) {
    int st = atomic_load(&r->state);
    if (st == RING_FREE) continue;
    if (st == RING_LIVE) ring_populate_ahead(r);
    claim_pending(r);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (r->claimed && r->claimed_pos <= head) {
      /* Every record the thread appended before the begin is committed (the begin was stashed after them). */
      if (tail < r->claimed_pos) tail = drain_ring(r, tail, r->claimed_pos);
      put_rec((const struct rec_header *)(const void *)r->claimed_rec);
      r->claimed = 0;
    }
    tail = drain_ring(r, tail, head);
    uint64_t d = atomic_load_explicit(&r->dropped, memory_order_relaxed);
    if (d != r->dropped_reported) {
      uint64_t n = d - r->dropped_reported, tot = atomic_fetch_add(&total_dropped, n) + n;
      r->dropped_reported = d;
      const uint64_t a[2] = {n, tot};
      msg_add(r->tid, IPS_EV_DROPPED, 2, a);
    }
    if (st == RING_DEAD && atomic_load(&r->head) == tail) {
      r->claimed = 0;
      atomic_store(&r->head, 0);
      atomic_store(&r->tail, 0);
      atomic_store(&r->reserve, 0);
      r->tail_seen = 0;
      r->pop_restart = 1;
      atomic_store(&r->state, RING_FREE);
    }
  }
  static uint64_t noring_reported;
  uint64_t d = atomic_load(&dropped_noring);
  if (d != noring_reported) {
    uint64_t n = d - noring_reported, tot = atomic_fetch_add(&total_dropped, n) + n;
    noring_reported = d;
    const uint64_t a[2] = {n, tot};
    msg_add(ips_tid(), IPS_EV_DROPPED, 2, a);
  }
}

/* ---------------------------------------------------------------- HELLO */

static size_t json_str(char *out, size_t cap, size_t o, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (o < cap) out[o++] = '"';
  for (size_t i = 0; i < n && o + 8 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = (char)c; }
    else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
    else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
    else if (c < 0x20 || c == 0x7f) {
      out[o++] = '\\'; out[o++] = 'u'; out[o++] = '0'; out[o++] = '0';
      out[o++] = hex[c >> 4]; out[o++] = hex[c & 15];
    } else if (c < 0x80) out[o++] = (char)c;
    else {
      /* HELLO must be valid UTF-8: copy a well-formed sequence, replace a stray byte with U+FFFD. */
      size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
      size_t k = 1;
      while (len && k < len && i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80) k++;
      if (len && k == len) {
        for (k = 0; k < len; k++) out[o++] = s[i + k];
        i += len - 1;
      } else {
        out[o++] = (char)0xef; out[o++] = (char)0xbf; out[o++] = (char)0xbd;
      }
    }
  }
  if (o < cap) out[o++] = '"';
  return o;
}
static size_t read_small_file(const char *path, char *buf, size_t cap) {
  int fd = raw_open(path, O_RDONLY, 0);
  if (fd < 0) return 0;
  size_t n = 0;
  ssize_t r;
  while (n < cap && (r = raw_read(fd, buf + n, cap - n)) > 0) n += (size_t)r;
  raw_close(fd);
  return n;
}
static char proc_exe[PATH_MAX], proc_cwd[PATH_MAX], proc_cmdline[8192];
static size_t proc_cmdline_len;
static uint64_t start_ns;

static void read_proc_identity(void) {
  ssize_t n = syscall(SYS_readlink, "/proc/self/exe", proc_exe, sizeof proc_exe - 1);
  proc_exe[n > 0 ? n : 0] = 0;
  if (syscall(SYS_getcwd, proc_cwd, sizeof proc_cwd) < 0) proc_cwd[0] = 0;
  proc_cmdline_len = read_small_file("/proc/self/cmdline", proc_cmdline, sizeof proc_cmdline - 1);
  proc_cmdline[proc_cmdline_len] = 0;
}

static int send_hello(void) {
  static char j[16384];
  size_t o = 0, cap = sizeof j - 64;
  o += (size_t)snprintf(j + o, cap - o, "{\"pid\":%d,\"ppid\":%d,\"tid\":%d,\"origin\":\"%s\",\"session\":", (int)getpid(),
                        (int)getppid(), (int)getpid(),
                        hello_origin == IPS_ORIGIN_FORK ? "fork" : hello_origin == IPS_ORIGIN_EXEC ? "exec"
                                                          : hello_origin == IPS_ORIGIN_SPAWN ? "spawn" : "initial");
  o = json_str(j, cap, o, cfg_session, strlen(cfg_session));
  o += (size_t)snprintf(j + o, cap - o, ",\"vocabulary\":%d,\"exe\":", IPS_VOCABULARY_VERSION);
  o = json_str(j, cap, o, proc_exe, strlen(proc_exe));
  o += (size_t)snprintf(j + o, cap - o, ",\"cwd\":");
  o = json_str(j, cap, o, proc_cwd, strlen(proc_cwd));
  o += (size_t)snprintf(j + o, cap - o, ",\"argv\":[");
  for (size_t i = 0, first = 1; i < proc_cmdline_len; first = 0) {
    size_t l = strlen(proc_cmdline + i);
    if (!first && o < cap) j[o++] = ',';
    o = json_str(j, cap, o, proc_cmdline + i, l);
    i += l + 1;
  }
  o += (size_t)snprintf(j + o, sizeof j - o, "],\"startNs\":\"%llu\",\"shim\":\"%s\"}", (unsigned long long)start_ns,
                        ips_shim_version);
  return sink_send(IPS_MSG_HELLO, j, o, 0);
}

/* ---------------------------------------------------------------- commands from the collector */

/* Commands wait here until the sender's next round. A queue, not one slot: one read can bring several (the debug
 * adapter sends breakpoints, pause and snapshot requests back to back), and a lost command never gets its REPLY.
 * Filled and emptied by whichever thread runs the connection (the sender, or the constructor before it starts). */
#define RX_CMDS 32
static uint8_t rx_cmds[RX_CMDS][48];
static _Atomic unsigned rx_head, rx_tail; /* head: next to fill; tail: next to handle */
static int welcome_seen;

static void reply(uint64_t id, int32_t status, const char *json);
static void sender_stderr(const char *buf, size_t n);
static void on_ws_message(const uint8_t *m, size_t len) {
  if (len < 16) return;
  uint16_t type;
  memcpy(&type, m + 6, 2);
  if (type == IPS_MSG_WELCOME) welcome_seen = 1;
  else if (type == IPS_MSG_COMMAND && len >= 16 + 48) {
    unsigned h = atomic_load(&rx_head);
    if (h - atomic_load(&rx_tail) >= RX_CMDS) {
      uint64_t id;
      memcpy(&id, m + 16 + 8, 8);
      reply(id, EBUSY, "{\"message\":\"too many commands queued in the shim\"}");
      return;
    }
    memcpy(rx_cmds[h % RX_CMDS], m + 16, 48);
    atomic_store(&rx_head, h + 1);
  } else if (type == IPS_MSG_ERROR) {
    char buf[300];
    size_t n = len - 16 < 250 ? len - 16 : 250;
    int k = snprintf(buf, sizeof buf, "ipcscope: collector error for pid %d: ", (int)getpid());
    memcpy(buf + k, m + 16, n);
    buf[k + n] = '\n';
    sender_stderr(buf, (size_t)k + n + 1);
  }
}

static void reply(uint64_t id, int32_t status, const char *json) {
  uint8_t b[256];
  size_t jl = strlen(json);
  uint32_t zero = 0;
  memcpy(b, &id, 8);
  memcpy(b + 8, &status, 4);
  memcpy(b + 12, &zero, 4);
  memcpy(b + 16, json, jl);
  sink_send(IPS_MSG_REPLY, b, 16 + jl, 0);
}

static void handle_one_command(const uint8_t *c);
static void handle_command(void) {
  for (unsigned t = atomic_load(&rx_tail); t != atomic_load(&rx_head); t = atomic_load(&rx_tail)) {
    uint8_t c[48];
    memcpy(c, rx_cmds[t % RX_CMDS], 48);
    atomic_store(&rx_tail, t + 1);
    handle_one_command(c);
  }
}

static void handle_one_command(const uint8_t *c) {
  uint32_t cmd;
  uint64_t id, arg0;
  memcpy(&cmd, c, 4);
  memcpy(&id, c + 8, 8);
  memcpy(&arg0, c + 16, 8);
  if (cmd == IPS_COMMAND_SNAPSHOT) {
    /* The snapshot's events go into the sender's own ring; drain them before replying. */
    ips_snapshot(arg0 <= IPS_SNAPSHOT_REASON_START ? (int)arg0 : IPS_SNAPSHOT_REASON_REQUEST);
    drain_rings();
    msg_flush();
    reply(id, 0, "{}");
  } else if (cmd == IPS_COMMAND_FLUSH) {
    drain_rings();
    msg_flush();
    reply(id, 0, "{}");
  } else {
    char json[200]; /* pause, resume, step, set_breakpoints: stepping (pause.c) */
    int32_t st = ips_pause_command(cmd, c + 16, json, sizeof json);
    reply(id, st, json);
  }
}

/* ---------------------------------------------------------------- connecting */

static int sink_open_file(void) {
  if (open_trace_file(cfg_file, &sink_fd, &sink_dev, &sink_ino) < 0) return -1;
  sink_is_file = 1;
  return 0;
}

static int sink_connect(void) {
  out_seq = 0;
  copy_seq = 0;
  if (cfg_file[0]) {
    if (sink_open_file() < 0) return -1;
    /* The fixed copy only with the file sink and the compact encoding (what it is compared with). */
    if (cfg_fixed_copy[0] && !cfg_wire_fixed) {
      if (!copy_buf) copy_buf = raw_mmap(16 + 8 + COPY_MAX + 70000);
      if (!copy_buf || open_trace_file(cfg_fixed_copy, &copy_fd, &copy_dev, &copy_ino) < 0) return -1;
    }
    return send_hello();
  }
  if (!cfg_port || !cfg_secret[0]) {
    snprintf(conn_error, sizeof conn_error, "IPCSCOPE has neither port+secret nor file");
    return -1;
  }
  int fd = ips_ws_connect(cfg_port, cfg_secret, conn_error, sizeof conn_error);
  if (fd < 0) return -1;
  sink_fd = move_fd_high(fd);
  sink_is_file = 0;
  if (send_hello() < 0) {
    snprintf(conn_error, sizeof conn_error, "sending HELLO failed: %s", strerror(errno));
    return -1;
  }
  /* Bounded wait for WELCOME. */
  welcome_seen = 0;
  uint64_t deadline = ips_now_ns() + IPS_CONNECT_WAIT_S * 1000000000ull; /* a busy collector is slow */
  while (!welcome_seen) {
    uint64_t now = ips_now_ns();
    if (now >= deadline) {
      snprintf(conn_error, sizeof conn_error, "no WELCOME from the collector within %d s", IPS_CONNECT_WAIT_S);
      return -1;
    }
    struct pollfd p = {sink_fd, POLLIN, 0};
    struct timespec ts = {0, 50000000};
    syscall(SYS_ppoll, &p, 1, &ts, NULL, 8);
    if (ips_ws_poll_read(sink_fd, on_ws_message) < 0) {
      snprintf(conn_error, sizeof conn_error, "the collector closed the connection before WELCOME");
      return -1;
    }
  }
  return 0;
}

static void sink_close(void) {
  if (sink_fd >= 0) {
    if (!sink_is_file) ips_ws_send_close(sink_fd);
    raw_close(sink_fd);
  }
  sink_fd = -1;
  if (copy_fd >= 0) raw_close(copy_fd);
  copy_fd = -1;
}

static void send_bye(void) {
  uint64_t b[2] = {sent_events, atomic_load(&total_dropped)};
  sink_send(IPS_MSG_BYE, b, 16, 0);
}

/* ---------------------------------------------------------------- the sender thread */

/* The sender works in a file table of its own (unshare(CLONE_FILES)) holding only its socket or trace file and the
 * perf fds. Why: while a second thread shares the program's table, the kernel takes a reference on the file at every
 * read/write/... of the program (fdget's fast path needs an unshared table), an atomic on a line both ends of a pipe
 * touch: a bare sleeping pthread costs a pinned pipe ping-pong ~250 ns CPU per round trip, one that unshares its
 * table nothing. The copy the unshare makes is emptied at once, so that no file of the program stays open because
 * of it (a pipe end the program closes still gives its reader EOF). Not with per-thread perf events, which later
 * threads open in the program's table for the sender to poll and close. */
static int sender_own_files;
static void sender_unshare_files(void) {
  sender_own_files = 0;
  if (!ips_perf_fds_fixed()) return;
  if (syscall(SYS_close_range, ~0u - 1, ~0u, 0) != 0) return; /* close_range (Linux 5.9) empties the copy */
  if (syscall(SYS_unshare, CLONE_FILES) != 0) return;
  int keep[2 * 64];
  int n = ips_perf_shared_fds(keep, (int)(sizeof keep / sizeof keep[0]));
  unsigned lo = 0;
  for (int i = 0; i < n; i++) {
    if ((unsigned)keep[i] > lo) syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0);
    lo = (unsigned)keep[i] + 1;
  }
  syscall(SYS_close_range, lo, ~0u, 0);
  sender_own_files = 1;
}

/* The program's stderr from the sender: reopened through /proc when the sender has its own file table. */
static void sender_stderr(const char *buf, size_t n) {
  if (!sender_own_files || !ips_tls.is_sender) { raw_write_all(2, buf, n); return; }
  int fd = raw_open("/proc/self/fd/2", O_WRONLY | O_APPEND | O_NOCTTY, 0);
  if (fd < 0) return;
  raw_write_all(fd, buf, n);
  raw_close(fd);
}

/* A round costs the sender ~20 us of CPU whatever it carries (timer, two context switches, ppoll, the sink's
 * syscall), on the program's own core when it is pinned. Pinned ping-pong, CPU per round trip over untraced:
 * 1 ms +1650 ns, 4 ms +1400 ns (file sink); live collector +1850 -> +1450 ns. Longer gains little: a busy ring
 * wakes the sender at half full anyway. */
#define SENDER_BUSY_NS 4000000L

/* The sender runs on the CPUs the program's own affinity leaves out, when the cpuset has any: a program pinned to a
 * core (taskset -c 0) keeps it, and the sender's wake-ups, encoding and sink writes go to another core instead of
 * preempting the program (pinned ping-pong, file sink: 5801 -> 5559 ns per round trip, untraced 5011). A program
 * allowed every CPU (the usual case) leaves no CPU out: the sender keeps them all. sendercpus=inherit opts out.
 * Under heavy traffic to a live collector the sender goes back to the program's CPUs: the collector then needs the
 * others whole, and sharing them with it stalls both (pinned mutex loop, 16 M events/s, live: +110..174 ns per
 * lock/unlock pair away, +89..96 at home); the program then pays for its own events. */
static cpu_set_t sender_home, sender_away; /* the program's CPUs (the mask the sender started with); the others */
static int sender_can_move, sender_is_away;
#define SENDER_WINDOW_NS 50000000ull   /* traffic measured over 50 ms */
static uint64_t window_start, window_sent;

static void sender_place(void) {
  sender_can_move = sender_is_away = 0;
  window_start = 0; /* a fork child's sender starts its own window */
  if (cfg_sender_inherit || sched_getaffinity(0, sizeof sender_home, &sender_home) != 0) return;
  CPU_ZERO(&sender_away);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (!CPU_ISSET(c, &sender_home)) CPU_SET(c, &sender_away);
  /* The kernel keeps only the CPUs of the cpuset that are online: none left is EINVAL, and the mask stays as it was. */
  if (sched_setaffinity(0, sizeof sender_away, &sender_away) == 0) sender_can_move = sender_is_away = 1;
}

/* Once per round: the events sent over the last window decide where a live sender runs (see above). */
static void sender_follow_traffic(void) {
  if (!sender_can_move) return;
  uint64_t now = ips_now_ns();
  if (!window_start || now < window_start || sent_events < window_sent) {
    window_start = now;
    window_sent = sent_events;
    return;
  }
  if (now - window_start < SENDER_WINDOW_NS) return;
  uint64_t rate = (uint64_t)((unsigned __int128)(sent_events - window_sent) * 1000000000u / (now - window_start));
  window_start = now;
  window_sent = sent_events;
  int away = sink_is_file || (sender_is_away ? rate < cfg_sender_heavy : rate < cfg_sender_heavy / 4);
  if (away != sender_is_away && sched_setaffinity(0, sizeof(cpu_set_t), away ? &sender_away : &sender_home) == 0)
    sender_is_away = away;
}

uint32_t ips_sender_tid;
static void *sender_main(void *arg) {
  (void)arg;
  ips_tls.is_sender = 1;
  ips_tls.tid = 0;
  ips_sender_tid = ips_tid();
  syscall(SYS_prctl, PR_SET_NAME, (unsigned long)"ipcscope-send", 0, 0, 0); /* recognizable in ps/top/gdb */
  sender_unshare_files();
  sender_place();
  if (sink_connect() < 0) {
    sink_close();
    atomic_store(&conn_state, CONN_FAILED);
    atomic_store(&conn_result, 2);
    futex_wake(&conn_result);
    atomic_store(&sender_running, 0);
    return NULL;
  }
  atomic_store(&conn_state, CONN_UP);
  atomic_store(&conn_result, 1);
  futex_wake(&conn_result);
  int idle_rounds = 0, scan_round = 3;
  for (;;) {
    /* Sleep on the futex (4 ms while busy, 20 ms when idle; producers wake it at half full or after idling), then
     * look at the socket and the perf rings without waiting. */
    uint32_t w = atomic_load(&wake_word);
    if (!atomic_exchange(&wake_pending, 0)) futex_wait(&wake_word, w, atomic_load(&sender_idle) ? 20000000L : SENDER_BUSY_NS);
    atomic_store(&wake_pending, 0);
    struct pollfd p[2 + 64] = {{-1, 0, 0}, {sink_is_file ? -1 : sink_fd, POLLIN, 0}};
    int np = 2 + ips_perf_poll_fds(p + 2, 64);
    struct timespec ts = {0, 0};
    int n = (int)syscall(SYS_ppoll, p, np, &ts, NULL, 8);
    /* Only when set: a store every round would pull the line producers read per event away from them. */
    if (atomic_load_explicit(&sender_idle, memory_order_relaxed)) atomic_store(&sender_idle, 0);
    if (n > 0 && p[1].revents) {
      if (ips_ws_poll_read(sink_fd, on_ws_message) < 0) {
        /* The collector went away: stop tracing this process quietly (the program keeps running), and let go of
         * any thread held for stepping: nobody is left to resume it. */
        ips_cfg.enabled = 0;
        sink_close();
        atomic_store(&conn_state, CONN_FAILED);
        static const uint8_t no_args[32];
        char json[200];
        ips_pause_command(IPS_COMMAND_RESUME, no_args, json, sizeof json);
      }
    }
    if (atomic_load(&reconnect_req)) {
      atomic_store(&reconnect_req, 0);
      sink_close();
      hello_origin = IPS_ORIGIN_EXEC;
      if (sink_connect() < 0) { sink_close(); ips_cfg.enabled = 0; atomic_store(&conn_state, CONN_FAILED); }
      else atomic_store(&conn_state, CONN_UP);
    }
    clk_resync();
    uint32_t freq = atomic_load(&flush_req), breq = atomic_load(&bye_req);
    int st = atomic_load(&conn_state), had = 0;
    if (st == CONN_UP) {
      /* New objects every 3 rounds (~12 ms), and always before a flush or BYE (exec, exit) so none goes unreported. */
      if (++scan_round >= 3 || freq != atomic_load(&flush_done) || breq != atomic_load(&bye_done)) {
        scan_round = 0;
        ips_dl_scan();
      }
      ips_perf_drain();
      handle_command();
      drain_rings();
      had = msg_count != 0;
      msg_flush();
      sender_follow_traffic();
    } else if (st == CONN_FAILED) {
      drain_rings(); /* nowhere to send: empty the rings so no producer waits */
      msg_discard();
    }
    /* CONN_BYE_SENT (exec in progress): leave events in the rings; a failed exec reconnects and sends them. */
    if (freq != atomic_load(&flush_done)) {
      atomic_store(&flush_done, freq);
      futex_wake(&flush_done);
    }
    if (breq != atomic_load(&bye_done)) {
      if (atomic_load(&conn_state) == CONN_UP) {
        send_bye();
        atomic_store(&conn_state, CONN_BYE_SENT);
      }
      atomic_store(&bye_done, breq);
      futex_wake(&bye_done);
    }
    if (had) idle_rounds = 0;
    else if (++idle_rounds > 25) {
      /* Nothing for 100 ms: sleep longer; the next producer wakes us at once. Check once more to not miss one. */
      atomic_store(&sender_idle, 1);
      int any = 0;
      for (struct ips_ring *r = atomic_load(&ring_list); r; r = r->next)
        if (atomic_load(&r->head) != atomic_load(&r->tail)) any = 1;
      if (any) atomic_store(&sender_idle, 0);
    }
  }
  return NULL;
}

/* Called on the sender thread by long work it does itself (a snapshot on command): move its events out. */
void ips_sender_service(void) {
  if (!ips_tls.is_sender) return;
  drain_rings();
  if (atomic_load(&conn_state) == CONN_UP) msg_flush();
}

/* Is [start, end) entirely memory the shim allocated for itself (rings, message buffer)? Snapshots skip it. */
int ips_shim_owns(uint64_t start, uint64_t end) {
  for (struct ips_ring *r = atomic_load(&ring_list); r; r = r->next) {
    uint64_t a = (uint64_t)(uintptr_t)r, b = a + ((sizeof *r + 4095) & ~(uint64_t)4095);
    if (start >= a && end <= b) return 1;
  }
  uint64_t c = (uint64_t)(uintptr_t)copy_buf;
  if (copy_buf && start >= c && end <= c + ((16 + 8 + COPY_MAX + 70000 + 4095) & ~(uint64_t)4095)) return 1;
  uint64_t m = (uint64_t)(uintptr_t)msg_buf;
  return msg_buf && start >= m && end <= m + ((MSG_BUF + 4095) & ~(uint64_t)4095);
}

int ips_sender_alive(void) { return atomic_load(&sender_running); }

static int start_sender(void) {
  static int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
  if (!real_create) real_create = ips_real("pthread_create");
  if (!msg_buf) msg_buf = raw_mmap(MSG_BUF);
  if (!msg_buf) return -1;
  msg_discard();
  atomic_store(&conn_result, 0);
  atomic_store(&conn_state, CONN_NONE);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  atomic_store(&sender_running, 1);
  int rc = real_create(&sender_thread, &attr, sender_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) atomic_store(&sender_running, 0);
  return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- flushing */

static int wait_counter(_Atomic uint32_t *done, uint32_t want, long budget_ns) {
  uint64_t deadline = ips_now_ns() + (uint64_t)budget_ns;
  for (;;) {
    uint32_t d = atomic_load(done);
    if ((int32_t)(d - want) >= 0) return 0;
    if (!atomic_load(&sender_running)) return -1;
    uint64_t now = ips_now_ns();
    if (now >= deadline) return -1;
    /* A collector that stopped reading will not take the rest: give up after 1 s in one send. */
    uint64_t ss = atomic_load_explicit(&send_started_ns, memory_order_relaxed);
    if (ss && now - ss > 1000000000ull) return -1;
    long left = (long)(deadline - now);
    futex_wait(done, d, left < 5000000 ? left : 5000000);
  }
}

void ips_flush_sync(void) {
  if (!ips_cfg.enabled || ips_tls.is_sender || !atomic_load(&sender_running)) return;
  /* Counters, not flags: a flush asked for after the sender read the request is not confused with an older one. */
  uint32_t want = atomic_fetch_add(&flush_req, 1) + 1;
  atomic_store(&wake_pending, 0);
  wake_sender();
  wait_counter(&flush_done, want, 5000000000L); /* a slow collector under load still gets everything */
}

static void request_bye(void) {
  if (ips_tls.is_sender || !atomic_load(&sender_running)) return;
  uint32_t want = atomic_fetch_add(&bye_req, 1) + 1;
  atomic_store(&wake_pending, 0);
  wake_sender();
  wait_counter(&bye_done, want, 5000000000L);
}

static _Atomic int finished;
static int exit_status_known, exit_status_value, exit_how = IPS_EXIT_HOW_RETURN_FROM_MAIN;

void ips_finish(int status, int how) {
  if (!ips_cfg.enabled) return;
  if (atomic_exchange(&finished, 1)) return;
  int saved = ips_tls.in_hook;
  ips_tls.in_hook = 1;
  if (ips_cfg.snapshots) ips_snapshot(IPS_SNAPSHOT_REASON_EXIT);
  IPS_EMIT(PROC_EXIT, IPS_PHASE_INSTANT, 0, 0, 0, NULL, 0, (uint64_t)(int64_t)status, (uint64_t)how);
  request_bye();
  ips_perf_release(); /* after BYE: the sender has read our last samples */
  ips_tls.in_hook = saved;
}

void ips_note_exit(int status, int how) {
  exit_status_known = 1;
  exit_status_value = status;
  exit_how = how;
}

/* exec: BYE closes this image's connection; if the exec fails, the same image reconnects (origin exec). */
static int exec_bye_sent;
void ips_exec_prepare(void) {
  if (!ips_cfg.enabled) return;
  request_bye();
  ips_perf_exec_prepare(); /* after BYE: the sender has read our last samples; the next image reads on */
  exec_bye_sent = 1;
}
void ips_exec_failed(void) {
  if (!exec_bye_sent) return;
  exec_bye_sent = 0;
  ips_perf_exec_failed();
  start_ns = ips_now_ns(); /* the new connection covers every event from here on (receivers order by it) */
  atomic_store(&reconnect_req, 1);
  wake_sender();
}

/* ---------------------------------------------------------------- environment for children */

#define ENV_BLOCK_MAGIC ((size_t)0x49505343454e5631ull) /* "IPSCENV1" */
static char **build_env(char *const envp[], const char *origin) {
  static const char ld[] = "LD_PRELOAD=", ic[] = "IPCSCOPE=";
  size_t n = 0, bytes = 0;
  const char *old_ld = NULL;
  if (envp)
    for (; envp[n]; n++)
      if (!strncmp(envp[n], ld, sizeof ld - 1)) old_ld = envp[n] + sizeof ld - 1;
  char pfset[700];
  size_t pl = strcmp(origin, "exec") ? 0 : ips_perf_handoff_item(pfset, sizeof pfset);
  pfset[pl] = 0;
  bytes = (n + 3) * sizeof(char *) + strlen(shim_path) + (old_ld ? strlen(old_ld) : 0) + sizeof cfg_raw + pl + 128;
  /* mmap, not malloc: exec may be called in a fork child of a threaded program. The size leads the block. */
  size_t *blk = raw_mmap(bytes + 16);
  if (!blk) return (char **)envp;
  blk[0] = bytes + 16;
  blk[1] = ENV_BLOCK_MAGIC;
  char **out = (char **)(blk + 2);
  char *str = (char *)(out + n + 3);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(envp[i], ld, sizeof ld - 1) && strncmp(envp[i], ic, sizeof ic - 1)) out[k++] = envp[i];
  /* LD_PRELOAD: keep the program's value, with the shim first unless it is already there. */
  out[k++] = str;
  if (old_ld && strstr(old_ld, shim_path)) str += sprintf(str, "%s%s", ld, old_ld) + 1;
  else str += sprintf(str, "%s%s%s%s", ld, shim_path, old_ld && *old_ld ? ":" : "", old_ld ? old_ld : "") + 1;
  out[k++] = str;
  sprintf(str, "%s%s;from=%s:%d%s", ic, cfg_raw, origin, (int)getpid(), pfset);
  out[k] = NULL;
  return out;
}
char **ips_exec_env(char *const envp[]) { return build_env(envp, "exec"); }
char **ips_spawn_env(char *const envp[]) { return build_env(envp, "spawn"); }
/* Callers pass only what ips_exec_env/ips_spawn_env returned when it differs from their envp; the magic word
 * guards against anything else. */
void ips_exec_env_free(char **env) {
  if (!env) return;
  size_t *blk = (size_t *)env - 2;
  if (blk[1] == ENV_BLOCK_MAGIC) {
    blk[1] = 0;
    raw_munmap(blk, blk[0]);
  }
}

/* ---------------------------------------------------------------- internal fds */

int ips_internal_fd(int fd) {
  if (fd < 900) return 0; /* every internal fd is moved to 900 or above */
  /* The sink is not in the program's file table when the sender has its own (the same number may be the program's). */
  return fd >= 0 && (((fd == sink_fd || fd == copy_fd) && !sender_own_files) || ips_perf_is_fd(fd));
}

/* close_range that leaves the shim's own fds open (programs close "every fd" before exec: Python's subprocess). */
int ips_close_range_sparing(unsigned first, unsigned last, int flags, int (*real)(unsigned, unsigned, int)) {
  unsigned lo = first;
  int r = 0;
  for (unsigned fd = 900; fd < 1200 && fd <= last; fd++) { /* internal fds live from 900 up */
    if (fd < first || !ips_internal_fd((int)fd)) continue;
    if (fd > lo && real(lo, fd - 1, flags) != 0) r = -1;
    lo = fd + 1;
  }
  if (lo <= last && lo >= first && real(lo, last, flags) != 0) r = -1;
  return r;
}

/* ---------------------------------------------------------------- mappings (/proc/self/maps) */

void ips_emit_mappings(int reason) {
  int fd = raw_open("/proc/self/maps", O_RDONLY, 0);
  if (fd < 0) return;
  static char buf[65536];
  static char line[PATH_MAX + 256];
  size_t ll = 0;
  ssize_t n;
  while ((n = raw_read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] != '\n') {
        if (ll < sizeof line - 1) line[ll++] = buf[i];
        continue;
      }
      line[ll] = 0;
      ll = 0;
      unsigned long long start, end, off, ino;
      unsigned maj, mn;
      char perms[8];
      int pathpos = 0;
      if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &mn, &ino, &pathpos) < 7) continue;
      uint64_t prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
      const char *path = pathpos ? line + pathpos : "";
      IPS_EMIT(MAPPING, IPS_PHASE_INSTANT, 0, 0, 0, path, (uint32_t)strlen(path), start, end, off, prot,
               (uint64_t)(perms[3] == 's'), (uint64_t)makedev(maj, mn), ino, (uint64_t)reason);
    }
  }
  raw_close(fd);
}

/* ---------------------------------------------------------------- process start */

static void emit_proc_start(int origin) {
  static char blob[PATH_MAX * 2 + sizeof proc_cmdline];
  size_t o = 0, el = strlen(proc_exe), cl = strlen(proc_cwd);
  memcpy(blob + o, proc_exe, el + 1); o += el + 1;
  memcpy(blob + o, proc_cwd, cl + 1); o += cl + 1;
  memcpy(blob + o, proc_cmdline, proc_cmdline_len); o += proc_cmdline_len;
  if (o && blob[o - 1] == 0) o--; /* NUL-separated, not NUL-terminated */
  IPS_EMIT(PROC_START, IPS_PHASE_INSTANT, 0, 0, 0, blob, (uint32_t)o, (uint64_t)getppid(), (uint64_t)origin,
           (uint64_t)getuid());
}

void ips_emit_shim_info(void) {
  char note[256];
  int perr = ips_perf_errno();
  int pfn = ips_pfn_readable();
  int n = snprintf(note, sizeof note, "shim %s; page faults: %s%s%s; pagemap frames: %s", ips_shim_version,
                   !ips_cfg.page_faults ? "off" : perr ? "unavailable (perf_event_open: " : "on",
                   ips_cfg.page_faults && perr ? strerror(perr) : ips_cfg.page_faults ? ips_perf_scope() : "",
                   ips_cfg.page_faults && perr ? ")" : "",
                   pfn ? "readable" : "not readable (need root)");
  IPS_EMIT(SHIM_INFO, IPS_PHASE_INSTANT, 0, 0, 0, note, (uint32_t)n, ips_cfg.payload_bytes,
           (uint64_t)(ips_cfg.page_faults && !perr), (uint64_t)perr, (uint64_t)pfn);
}

static void image_start(int origin, int wait_connect) {
  start_ns = ips_now_ns();
  read_proc_identity();
  hello_origin = origin;
  if (start_sender() < 0) {
    snprintf(conn_error, sizeof conn_error, "cannot start the sender thread");
    goto fail;
  }
  if (wait_connect) {
    uint64_t deadline = ips_now_ns() + (2 * IPS_CONNECT_WAIT_S + 1) * 1000000000ull; /* the sender's own bounds end it first */
    while (atomic_load(&conn_result) == 0 && ips_now_ns() < deadline) futex_wait(&conn_result, 0, 100000000L);
    if (atomic_load(&conn_result) != 1) goto fail;
  }
  return;
fail:;
  char msg[400];
  int n = snprintf(msg, sizeof msg, "ipcscope: not tracing pid %d: %s\n", (int)getpid(),
                   conn_error[0] ? conn_error : "no answer from the collector");
  raw_write_all(2, msg, (size_t)n);
  ips_cfg.enabled = 0;
}

static void atfork_child_safety(void);
__attribute__((constructor(101))) static void ips_init(void) {
  const char *env = getenv("IPCSCOPE");
  if (!env || !*env) return;
  ips_tls.in_hook = 1; /* nothing the runtime does here is traced */
  ips_tid();
  proc_pid = (uint32_t)getpid();
  parse_config(env);
  Dl_info di;
  if (dladdr((void *)ips_init, &di) && di.dli_fname) {
    if (!realpath(di.dli_fname, shim_path)) snprintf(shim_path, sizeof shim_path, "%s", di.dli_fname);
  }
  pthread_key_create(&ring_key, ring_thread_gone);
  pthread_atfork(NULL, NULL, atfork_child_safety);
  ips_cfg.enabled = 1;     /* events made before WELCOME are buffered in this thread's ring */
  clk_init(!cfg_clock_vdso);
  ips_perf_init();
  /* Before the sender thread starts, so that it inherits the events too: every thread of the process then has a
   * clone of the same perf context, which is what makes context switches between them cheap (perf.c). */
  if (ips_cfg.page_faults) ips_perf_process_open();
  image_start(cfg_from_origin, 1);
  if (!ips_cfg.enabled) { ips_perf_close_all(); ips_tls.in_hook = 0; return; }
  emit_proc_start(cfg_from_origin);
  if (ips_cfg.page_faults) ips_perf_thread_open(); /* before shim_info, which reports whether it worked */
  ips_emit_shim_info();
  ips_dl_scan(); /* learn the objects present now; later ones are reported as dlopen */
  ips_emit_mappings(cfg_from_origin == IPS_ORIGIN_EXEC ? IPS_MAPPING_REASON_EXEC : IPS_MAPPING_REASON_START);
  ips_signals_init();
  ips_thread_register();
  ips_tls.in_hook = 0;
}

__attribute__((destructor(101))) static void ips_fini(void) {
  if (!ips_cfg.enabled) return;
  ips_finish(exit_status_known ? exit_status_value : 0, exit_how);
}

/* ---------------------------------------------------------------- fork */

static sigset_t fork_saved_mask;
static int in_traced_fork;
/* A fork the shim's wrapper did not see (called while a hook was active, or from inside libc): the child has no
 * sender thread and shares the parent's connection, so it must not trace at all. */
static void atfork_child_safety(void) {
  if (in_traced_fork) return;
  ips_cfg.enabled = 0;
  atomic_store(&sender_running, 0);
  sink_fd = -1;
  copy_fd = -1;
}
void ips_fork_prepare(void) {
  in_traced_fork = 1;
  ips_perf_fork_prepare();
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &fork_saved_mask);
}
void ips_fork_parent(void) {
  in_traced_fork = 0;
  atomic_fetch_add(&fork_gen, 1); /* rings not wiped on fork are copy-on-write now: the sender populates them again */
  pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

void ips_fork_child(void) {
  in_traced_fork = 0;
  proc_pid = (uint32_t)getpid();
  /* Only this thread survives: forget other threads' rings and every unsent parent event (the parent sends them). */
  ips_tls.tid = 0;
  ips_tid();
  for (struct ips_ring *r = atomic_load(&ring_list); r; r = r->next) {
    atomic_store(&r->head, 0);
    atomic_store(&r->tail, 0);
    atomic_store(&r->reserve, 0);
    atomic_store(&r->depth, 0);
    r->tail_seen = 0;
    r->dropped_reported = atomic_load(&r->dropped);
    r->claimed = 0; /* the parent's sender's; this process's sends nothing of the parent */
    r->claimed_seq = 0;
    atomic_store(&r->state, r == ips_tls.ring ? RING_LIVE : RING_FREE);
    if (r == ips_tls.ring) r->tid = ips_tls.tid;
    /* Fresh zero pages (wiped) or copy-on-write since the fork: the new sender populates this thread's ring from its
     * first round; what this thread writes before that (its process start, the handshake) gets POPULATE_MIN now. */
    r->pop_base = r->pop_pos = r->pop_seen = 0;
    r->pop_restart = 0;
    r->pop_gen = atomic_load(&fork_gen);
    if (r == ips_tls.ring) {
      ring_populate(r, 0, POPULATE_MIN);
      r->pop_pos = POPULATE_MIN;
    }
  }
  atomic_store(&total_dropped, 0);
  atomic_store(&flush_req, 0);
  atomic_store(&flush_done, 0);
  atomic_store(&bye_req, 0);
  atomic_store(&bye_done, 0);
  atomic_store(&reconnect_req, 0);
  atomic_store(&finished, 0);
  atomic_store(&wake_pending, 0);
  atomic_store(&sender_idle, 0);
  atomic_store(&rx_head, 0);
  atomic_store(&rx_tail, 0);
  exec_bye_sent = 0;
  exit_status_known = 0;
  exit_how = IPS_EXIT_HOW_RETURN_FROM_MAIN;
  sent_events = 0;
  /* The parent's connection: never write to it here (and never close that number when it lived in the parent
   * sender's own file table: here it may be one of the program's fds). */
  if (sink_fd >= 0 && !sender_own_files) raw_close(sink_fd);
  sink_fd = -1;
  if (copy_fd >= 0 && !sender_own_files) raw_close(copy_fd);
  copy_fd = -1;
  ips_perf_fork_child();
  /* The copied ring of this thread may hold half-written records of an append the fork interrupted: none, since
   * fork is called from a hook with no append in progress. */
  /* Connect before the child runs any of its own code: the collector then knows every process that can act (and
   * can stop it); the wait costs the child one handshake, the parent nothing. */
  image_start(IPS_ORIGIN_FORK, 1);
  if (!ips_cfg.enabled) ips_perf_close_all();
  if (ips_cfg.enabled) {
    int saved = ips_tls.in_hook;
    ips_tls.in_hook = 1;
    emit_proc_start(IPS_ORIGIN_FORK);
    ips_emit_shim_info(); /* every connection says what the shim can do there */
    ips_thread_register(); /* same pthread_t as in the parent, new tid */
    ips_pause_fork_child();
    ips_tls.in_hook = saved;
  }
  pthread_sigmask(SIG_SETMASK, &fork_saved_mask, NULL);
}

void ips_thread_init(void) {
  if (ips_tls.perf_state || ips_tls.is_sender) return;
  ips_perf_thread_open();
}
