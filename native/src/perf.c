/* Page faults sampled with perf_event_open: per thread, one minor-fault and one major-fault software event
 * (user space only, every fault, TID|TIME|ADDR|IP, CLOCK_MONOTONIC) with its own mmap ring. Per-thread because the
 * kernel refuses to mmap inherited per-task events. The sender thread drains every ring into page_fault events
 * (ips_emit_at with the sample's time and tid); PERF_RECORD_LOST counts as dropped. */
#include "ipcscope.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_PERF 256           /* event slots (two per thread) */
#define DATA_PAGES_MIN 64      /* 256 KiB ring for minor faults */
#define DATA_PAGES_MAJ 8
enum { SLOT_FREE, SLOT_CLAIMED, SLOT_LIVE, SLOT_GONE };
struct perf_slot {
  _Atomic int state;
  int fd;
  uint32_t tid;
  int major;
  void *base;
  size_t len;
};
static struct perf_slot slots[MAX_PERF];
static _Atomic int perf_err;

int ips_perf_errno(void) { return atomic_load(&perf_err); }
int ips_perf_is_fd(int fd) {
  for (int i = 0; i < MAX_PERF; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE && slots[i].fd == fd) return 1;
  return 0;
}

void ips_perf_init(void) {}

static int open_one(int major, uint32_t tid) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.type = PERF_TYPE_SOFTWARE;
  a.size = sizeof a;
  a.config = major ? PERF_COUNT_SW_PAGE_FAULTS_MAJ : PERF_COUNT_SW_PAGE_FAULTS_MIN;
  a.sample_period = 1;
  a.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_IP;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  a.use_clockid = 1;
  a.clockid = CLOCK_MONOTONIC;
  a.watermark = 1;
  size_t pages = major ? DATA_PAGES_MAJ : DATA_PAGES_MIN;
  size_t psz = (size_t)getpagesize();
  a.wakeup_watermark = (uint32_t)(pages * psz / 2); /* the sender polls the fd: wake it at half full */
  int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) return -errno;
  int hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
  if (hi >= 0) { syscall(SYS_close, fd); fd = hi; }
  size_t len = (pages + 1) * psz;
  void *base = (void *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    syscall(SYS_close, fd);
    return -e;
  }
  for (int i = 0; i < MAX_PERF; i++) {
    int expect = SLOT_FREE;
    if (atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_CLAIMED)) {
      slots[i].fd = fd;
      slots[i].tid = tid;
      slots[i].major = major;
      slots[i].base = base;
      slots[i].len = len;
      atomic_store(&slots[i].state, SLOT_LIVE);
      return 0;
    }
  }
  syscall(SYS_munmap, base, len);
  syscall(SYS_close, fd);
  return -EMFILE;
}

void ips_perf_thread_open(void) {
  if (ips_tls.perf_state || ips_tls.is_sender) return;
  ips_tls.perf_state = -1;
  if (!ips_cfg.enabled || !ips_cfg.page_faults) return;
  int e0 = errno;
  uint32_t tid = ips_tid();
  int r = open_one(0, tid);
  if (r == 0) {
    open_one(1, tid); /* major faults are rare; a failure here only loses those */
    ips_tls.perf_state = 1;
  } else {
    int expect = 0;
    atomic_compare_exchange_strong(&perf_err, &expect, -r);
  }
  errno = e0;
}

/* The thread is gone: its events get one last drain, then the sender closes them. */
void ips_perf_thread_gone(uint32_t tid) {
  for (int i = 0; i < MAX_PERF; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE && slots[i].tid == tid) atomic_store(&slots[i].state, SLOT_GONE);
}

void ips_perf_fork_child(void) {
  /* Copies of the parent's events: never read them here. */
  for (int i = 0; i < MAX_PERF; i++) {
    int st = atomic_load(&slots[i].state);
    if (st == SLOT_LIVE || st == SLOT_GONE) {
      syscall(SYS_munmap, slots[i].base, slots[i].len);
      syscall(SYS_close, slots[i].fd);
    }
    atomic_store(&slots[i].state, SLOT_FREE);
  }
  ips_tls.perf_state = 0;
  ips_perf_thread_open();
}

int ips_perf_poll_fds(struct pollfd *out, int cap) {
  int n = 0;
  for (int i = 0; i < MAX_PERF && n < cap; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE && !slots[i].major) {
      out[n].fd = slots[i].fd;
      out[n].events = POLLIN;
      out[n].revents = 0;
      n++;
    }
  return n;
}

/* Drains at most `budget` samples (the sender's own ring must not overflow); returns how many it emitted. */
static unsigned drain_slot(struct perf_slot *s, unsigned budget) {
  struct perf_event_mmap_page *pc = s->base;
  uint8_t *data = (uint8_t *)s->base + pc->data_offset;
  uint64_t size = pc->data_size;
  uint64_t head = __atomic_load_n(&pc->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = pc->data_tail;
  unsigned n = 0;
  while (tail < head && n < budget) {
    struct perf_event_header h;
    uint8_t rec[256];
    uint64_t off = tail % size;
    if (off + sizeof h <= size) memcpy(&h, data + off, sizeof h);
    else {
      size_t first = (size_t)(size - off);
      memcpy(&h, data + off, first);
      memcpy((uint8_t *)&h + first, data, sizeof h - first);
    }
    if (h.size < sizeof h || h.size > head - tail) break;
    size_t take = h.size < sizeof rec ? h.size : sizeof rec;
    if (off + take <= size) memcpy(rec, data + off, take);
    else {
      size_t first = (size_t)(size - off);
      memcpy(rec, data + off, first);
      memcpy(rec + first, data, take - first);
    }
    if (h.type == PERF_RECORD_SAMPLE && take >= 8 + 32) {
      uint64_t ip, time, addr;
      uint32_t pid_tid[2];
      memcpy(&ip, rec + 8, 8);
      memcpy(pid_tid, rec + 16, 8);
      memcpy(&time, rec + 24, 8);
      memcpy(&addr, rec + 32, 8);
      const uint64_t args[3] = {addr, ip, (uint64_t)s->major};
      ips_emit_at(time, pid_tid[1], IPS_EV_PAGE_FAULT, IPS_PHASE_INSTANT, 0, 0, ip, 3, args, NULL, 0);
      n++;
    } else if (h.type == PERF_RECORD_LOST && take >= 8 + 16) {
      uint64_t lost;
      memcpy(&lost, rec + 16, 8);
      ips_count_dropped(lost);
    }
    tail += h.size;
  }
  __atomic_store_n(&pc->data_tail, tail, __ATOMIC_RELEASE);
  return n;
}

void ips_perf_drain(void) {
  unsigned budget = 6000; /* 6000 × 64 bytes fits the sender's ring */
  for (int i = 0; i < MAX_PERF && budget; i++) {
    int st = atomic_load(&slots[i].state);
    if (st != SLOT_LIVE && st != SLOT_GONE) continue;
    budget -= drain_slot(&slots[i], budget);
    if (st == SLOT_GONE && budget) {
      struct perf_event_mmap_page *pc = slots[i].base;
      if (__atomic_load_n(&pc->data_head, __ATOMIC_ACQUIRE) == pc->data_tail) {
        syscall(SYS_munmap, slots[i].base, slots[i].len);
        syscall(SYS_close, slots[i].fd);
        atomic_store(&slots[i].state, SLOT_FREE);
      }
    }
  }
}
