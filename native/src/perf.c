/* Page faults sampled with perf_event_open: one minor-fault and one major-fault software event (user space only, every
 * fault, TID|TIME|ADDR|IP, CLOCK_MONOTONIC), each with an mmap ring the sender thread drains into page_fault events
 * (ips_emit_at with the sample's time and tid); PERF_RECORD_LOST counts as dropped.
 *
 * Two designs, the first preferred:
 *  - shared (one set per fork tree): the first image opens, before its sender thread starts, one pair per CPU for
 *    itself with inherit=1 (every thread and fork child it makes inherits them) and remove_on_exec=1 (an exec'd image
 *    opens its own). Per-CPU because the kernel refuses to mmap an inherited per-task event with cpu == -1; children's
 *    samples land in the opener's rings (kernel/events/core.c: output goes to the parent event). Why bother: a task
 *    whose perf context is a clone of the next task's (context_equiv()) swaps contexts at a context switch instead of
 *    scheduling every event out and in, and a ping-pong is mostly context switches (pinned pipe ping-pong, file sink,
 *    CPU per round trip over untraced: +2.8 us with per-process events, +0.75 us with inherited ones). Every process of the tree
 *    keeps the rings mapped (fork copies the MAP_SHARED mapping and the fds) and reads all of them with its own tails,
 *    kept in a shared reader table; it takes only the samples whose pid is its own (and not its sender's tid). The
 *    kernel's data_tail is the lowest tail of the live readers. A fork child's reader is reserved by the parent before
 *    the fork with the parent's tails, so no sample of the child is passed over before it reads; exit and exec give
 *    the reader back; readers of processes that died without doing so (SIGKILL) are reclaimed when a ring fills.
 *    The shared set comes in two scopes:
 *     - cgroup (root, when the collector passed cgroup=DIR, the session's cgroup v2 directory): the first image of a
 *       tree makes a leaf DIR-i<pid>-<ns> beside DIR (not below it: every cgroup level above a task costs each context
 *       switch), moves itself in before its sender thread starts, and opens the pair per CPU for that leaf. Fork
 *       children stay in it, and so do exec'd images: an image about to exec hands the set over (the fds survive the
 *       exec, pfset= in IPCSCOPE names them; "handing the set over" below), so a fork-and-exec tree (a shell script,
 *       make) has one leaf and one set. Only an image that starts without a hand-over (a posix_spawn child, an exec
 *       the hooks did not see) makes a leaf and a set of its own. Moving costs ~8 ms (an RCU grace period), hence
 *       once per tree, never per fork or exec. Two ways to open the pair:
 *        - bpf=1 (the collector's default at root): per CPU for every task (pid -1), each with a BPF filter that
 *          keeps only the samples of tasks in the leaf (bpf_cgroup_filter). Nothing changes at a context switch
 *          (pinned pipe ping-pong, no tracer, the program in a leaf: +10..20 ns per round trip), but every page fault
 *          on the machine runs the filter of every live set (another program faulting 512 MiB: 1.41 us per fault
 *          with no session, 1.80 beside one set), which is why one set per tree matters.
 *        - cgroup events (IPCSCOPE_FAULT_SCOPE=cgroup, or the filter cannot be loaded): PERF_FLAG_PID_CGROUP, no
 *          inherit. They live in the CPU's perf context, so the program's tasks carry none, but any cgroup event
 *          turns on the scheduler's perf hook for every context switch of the machine: +150..250 ns per round trip
 *          for the traced ping-pong and about +200 for an untraced one elsewhere on the machine while the session
 *          records. Page faults elsewhere cost nothing more.
 *       shim_info says which ran ("on (cgroup, BPF filter)", "on (cgroup)", "on (cgroup; BPF filter: ERROR)", with
 *       ", handed over at exec" when the image took the set over).
 *     - per task: the inherited events described above (not root, or anything on the cgroup path failed).
 *  - per thread (fallback when the shared set cannot be made, e.g. more CPUs than PF_MAX_CPUS or a locked-memory
 *    limit): each thread opens its own pair, cpu == -1, no inherit, re-armed in every fork child. */
#include "ipcscope.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_PERF 256           /* per-thread design: event slots (two per thread) */
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

/* ---- the shared design's state ---- */
#define PF_MAX_CPUS 32
#define PF_RINGS (2 * PF_MAX_CPUS) /* [2c] minor, [2c + 1] major */
#define PF_READERS 64
struct pf_ring {
  int fd; /* -1: that CPU could not be opened (offline) */
  int major;
  void *base;
  size_t len;
};
/* A reader: one process of the tree. pid 0 free; -(parent's pid) reserved for a fork child not named yet. */
struct pf_reader {
  _Atomic int pid;
  /* Nonzero while the process is exec'ing with the set handed to its next image (when it was handed over): the
   * new image takes the reader on; if none does within EXEC_JOIN_NS (not traced, or the exec failed unnoticed),
   * the reader is reclaimed like a dead one's. */
  _Atomic uint64_t exec_ns;
  _Atomic uint64_t tail[PF_RINGS];
} __attribute__((aligned(64)));
#define EXEC_JOIN_NS 2000000000ull
struct pf_table {
  struct pf_reader r[PF_READERS];
  _Atomic uint64_t gc_ns; /* last sweep for dead readers */
};
static int pf_shared;            /* 1: the shared design is on in this process */
static int pf_nrings;
static struct pf_ring pf_rings[PF_RINGS];
static struct pf_table *pf_tab;  /* MAP_SHARED: the same pages in every process of the tree */
static int pf_tab_fd = -1;       /* the memfd behind pf_tab (exec'd images map it again) */
static size_t pf_pages[2];       /* data pages of the minor- and major-fault rings */
static int pf_handoff;           /* 1 between ips_perf_exec_prepare and the exec (or its failure) */
static char pf_join_spec[600];   /* pfset=: the set handed over by the image before an exec (ips_perf_set_join) */
static int pf_joined;            /* this image took the set over from the image before its exec */
static uint32_t pf_prev_sender;  /* that image's sender thread: its faults are the shim's, not the program's */
static int pf_me = -1, pf_pending = -1;
static int pf_pid;
static int pf_cgroup;            /* 1: the shared set samples only this image's leaf cgroup */
static int pf_bpf;               /* 1: CPU-wide with the BPF filter (bpf=1); 0: cgroup events (PERF_FLAG_PID_CGROUP) */
#define PF_BPF_PIDS 2            /* pf_bpf: CPU-wide with the pid filter (pidf=) */
static char pf_scope_note[200];  /* ips_perf_scope() */
static char pf_bpf_error[80];    /* bpf=1 asked for the filter and it failed: why */

int ips_perf_errno(void) { return atomic_load(&perf_err); }
int ips_perf_is_fd(int fd) {
  if (fd < 900) return 0;
  if (fd == pf_tab_fd) return 1;
  for (int i = 0; i < pf_nrings; i++)
    if (pf_rings[i].fd == fd) return 1;
  for (int i = 0; i < MAX_PERF; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE && slots[i].fd == fd) return 1;
  return 0;
}

void ips_perf_init(void) {}

/* shared: 0 per thread, 1 inherited (per task), 2 per CPU on a cgroup */
static void fill_attr(struct perf_event_attr *a, int major, size_t pages, int shared) {
  memset(a, 0, sizeof *a);
  a->type = PERF_TYPE_SOFTWARE;
  a->size = sizeof *a;
  a->config = major ? PERF_COUNT_SW_PAGE_FAULTS_MAJ : PERF_COUNT_SW_PAGE_FAULTS_MIN;
  a->sample_period = 1;
  a->sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR | PERF_SAMPLE_IP;
  a->exclude_kernel = 1;
  a->exclude_hv = 1;
  a->use_clockid = 1;
  a->clockid = CLOCK_MONOTONIC;
  a->watermark = 1;
  a->wakeup_watermark = (uint32_t)(pages * (size_t)getpagesize() / 2); /* the sender polls the fd: wake it at half full */
  if (shared == 1) {
    a->inherit = 1;
    a->remove_on_exec = 1; /* the exec'd image opens its own set (and its rings) */
  }
  if (shared) a->sample_id_all = 1; /* PERF_RECORD_LOST then names a pid */
}

/* target: 0 (this thread), a cgroup directory fd (PERF_FLAG_PID_CGROUP), or CPU_WIDE (every task on cpu; only with a
 * filter attached before it is enabled); all give internal fds at 900 or above. */
#define CPU_WIDE (-2)
static int open_fd(struct perf_event_attr *a, int cpu, int cgroup_fd) {
  int fd = (int)syscall(SYS_perf_event_open, a, cgroup_fd == CPU_WIDE ? -1 : cgroup_fd >= 0 ? cgroup_fd : 0, cpu, -1,
                        PERF_FLAG_FD_CLOEXEC | (cgroup_fd >= 0 ? PERF_FLAG_PID_CGROUP : 0));
  if (fd < 0) return -errno;
  int hi = (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 900);
  if (hi >= 0) { syscall(SYS_close, fd); fd = hi; }
  return fd;
}

static int open_one(int major, uint32_t tid) {
  struct perf_event_attr a;
  size_t pages = major ? DATA_PAGES_MAJ : DATA_PAGES_MIN;
  fill_attr(&a, major, pages, 0);
  int fd = open_fd(&a, -1, -1);
  if (fd < 0) return fd;
  size_t psz = (size_t)getpagesize();
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

/* ---- shared design ---- */

static void shared_unmap(void) {
  for (int i = 0; i < pf_nrings; i++) {
    if (pf_rings[i].fd < 0) continue;
    syscall(SYS_munmap, pf_rings[i].base, pf_rings[i].len);
    syscall(SYS_close, pf_rings[i].fd);
    pf_rings[i].fd = -1;
  }
  pf_nrings = 0;
  if (pf_tab) syscall(SYS_munmap, pf_tab, sizeof *pf_tab);
  pf_tab = NULL;
  if (pf_tab_fd >= 0) syscall(SYS_close, pf_tab_fd);
  pf_tab_fd = -1;
  pf_shared = 0;
  pf_me = pf_pending = -1;
}

/* The filter of the CPU-wide set (bpf=1): a BPF_PROG_TYPE_PERF_EVENT program run at each sample, which the kernel
 * writes only when the program returns non-zero (kernel/events/core.c, bpf_overflow_handler): here, when the
 * faulting task is in the cgroup v2 cgroup_id. Any cgroup (or per-task) event turns on the scheduler's perf hook for
 * every context switch of the machine (the perf_sched_events static key; it stays on ~1 s after the last such event
 * goes); CPU-wide events leave it off, and pay at every page fault instead (see the top of this file). Needs CAP_BPF
 * and CAP_PERFMON, which the cgroup scope (root) has. A program fd (close-on-exec), or -errno. */
static int bpf_cgroup_filter(uint64_t cgroup_id) {
  const struct bpf_insn insns[] = {
      {.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_cgroup_id}, /* r0 = the faulting task's cgroup id */
      {.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 1, .imm = (int32_t)(uint32_t)cgroup_id}, /* r1 = cgroup_id */
      {.imm = (int32_t)(uint32_t)(cgroup_id >> 32)},
      {.code = BPF_JMP | BPF_JEQ | BPF_X, .dst_reg = 0, .src_reg = 1, .off = 2}, /* equal: keep the sample */
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT},
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1},
      {.code = BPF_JMP | BPF_EXIT},
  };
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_PERF_EVENT;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = sizeof insns / sizeof insns[0];
  a.license = (uint64_t)(uintptr_t)"MIT"; /* the one helper it calls is not GPL-only */
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  return fd < 0 ? -errno : fd;
}

/* The pid scope's filter (pidf=, the collector's default at root where a v1 freezer hierarchy is mounted): the tree
 * stays in its cgroup v2 (a leaf of its own cost a pinned pipe ping-pong ~140 ns per round trip where the machine
 * runs at the v2 root: the scheduler accounts each switch to every non-root cgroup), and the samples kept are those
 * of the processes in an LRU hash of tgids: the image that opens the set puts its own in, and a sample of a task not
 * in it is kept (and its tgid put in) when its real parent's is, so a fork child counts from its first fault, before
 * any code of ours ran in it. task_struct's layout comes from the collector (the kernel's BTF, src/common/btf.ts).
 * LRU: the tgids of processes gone make room first; a new tgid that reused a gone one's number is sampled for nobody
 * (every reader takes only its own pid's samples). A map fd (close-on-exec) or -errno. */
#define PIDF_ENTRIES 16384
static int bpf_pid_map(void) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_type = BPF_MAP_TYPE_LRU_HASH;
  a.key_size = 4;
  a.value_size = 4;
  a.max_entries = PIDF_ENTRIES;
  int fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
  return fd < 0 ? -errno : fd;
}
static int bpf_pid_add(int map, uint32_t tgid) {
  uint32_t one = 1;
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.map_fd = (uint32_t)map;
  a.key = (uint64_t)(uintptr_t)&tgid;
  a.value = (uint64_t)(uintptr_t)&one;
  a.flags = BPF_ANY;
  return syscall(SYS_bpf, BPF_MAP_UPDATE_ELEM, &a, sizeof a) == 0 ? 0 : -errno;
}
#define BI(c, d, s_, o, i) {.code = (c), .dst_reg = (d), .src_reg = (s_), .off = (o), .imm = (i)}
static int bpf_pid_filter(int map, int off_parent, int off_tgid) {
  const struct bpf_insn insns[] = {
      /* 0 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_pid_tgid),
      /* 1 */ BI(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 32),
      /* 2 */ BI(BPF_STX | BPF_MEM | BPF_W, 10, 0, -4, 0), /* fp[-4] = tgid */
      /* 3 */ BI(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map), BI(0, 0, 0, 0, 0),
      /* 5 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
      /* 6 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
      /* 7 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      /* 8 */ BI(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 29, 0), /* ours: keep (38) */
      /* 9 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_current_task),
      /* 10 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 3, 0, 0, 0),
      /* 11 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, off_parent),
      /* 12 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0),
      /* 13 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -16),
      /* 14 */ BI(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 8),
      /* 15 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel), /* fp[-16] = task->real_parent */
      /* 16 */ BI(BPF_LDX | BPF_MEM | BPF_DW, 3, 10, -16, 0),
      /* 17 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, off_tgid),
      /* 18 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 1, 10, 0, 0),
      /* 19 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 1, 0, 0, -8),
      /* 20 */ BI(BPF_ALU64 | BPF_MOV | BPF_K, 2, 0, 0, 4),
      /* 21 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel), /* fp[-8] = real_parent->tgid */
      /* 22 */ BI(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 17, 0), /* unreadable: drop (40) */
      /* 23 */ BI(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map), BI(0, 0, 0, 0, 0),
      /* 25 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
      /* 26 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -8),
      /* 27 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
      /* 28 */ BI(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 11, 0), /* the parent is not ours: drop (40) */
      /* 29 */ BI(BPF_ST | BPF_MEM | BPF_W, 10, 0, -12, 1),
      /* 30 */ BI(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map), BI(0, 0, 0, 0, 0),
      /* 32 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
      /* 33 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
      /* 34 */ BI(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
      /* 35 */ BI(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -12),
      /* 36 */ BI(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, BPF_ANY),
      /* 37 */ BI(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem), /* the child is ours from now on */
      /* 38 */ BI(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
      /* 39 */ BI(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
      /* 40 */ BI(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      /* 41 */ BI(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_PERF_EVENT;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = sizeof insns / sizeof insns[0];
  a.license = (uint64_t)(uintptr_t)"GPL"; /* bpf_probe_read_kernel is GPL-only */
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  return fd < 0 ? -errno : fd;
}
#undef BI

/* The kernel frees an event's ring buffer when its last mapping goes, and a later mmap makes a new, empty one whose
 * data_head starts again at 0. When an image exec's while no other process of the tree has the rings mapped, that
 * is what the next image finds: the readers' tails then point past the new head, and every sample until the head
 * caught up would be passed over. Each ring's user page carries a mark in its reserved area (the last 8 bytes, which
 * no kernel writes today); a ring without it is new: the first image to see that starts every reader's tail at 0
 * again (BUSY keeps a second image joining at that moment from reading with a stale tail). */
#define RB_MARK 0x4b52414d53504931ull /* "1IPSMARK" */
#define RB_BUSY 1ull
static _Atomic uint64_t *rb_mark(int i) {
  struct perf_event_mmap_page *pc = pf_rings[i].base;
  return (_Atomic uint64_t *)(void *)&pc->__reserved[sizeof pc->__reserved - 8];
}
static void rb_mark_check(int i) {
  _Atomic uint64_t *m = rb_mark(i);
  uint64_t v = 0;
  if (atomic_compare_exchange_strong(m, &v, RB_BUSY)) {
    for (int k = 0; k < PF_READERS; k++) atomic_store(&pf_tab->r[k].tail[i], 0);
    atomic_store(m, RB_MARK);
    return;
  }
  for (int spin = 0; v == RB_BUSY && spin < 100000; spin++) v = atomic_load(m);
}

/* Opens the tree's set on the calling thread (the image's first thread, before any other starts): inherited
 * (cgroup_fd -1); per CPU on the cgroup cgroup_fd (PERF_FLAG_PID_CGROUP) when bpf_fd is -1; else CPU-wide, each
 * event filtered by the program bpf_fd before it is enabled. 0 or -errno. */
static int shared_open_pages(size_t min_pages, size_t maj_pages, int cgroup_fd, int bpf_fd) {
  long ncpu = sysconf(_SC_NPROCESSORS_CONF);
  if (ncpu < 1 || ncpu > PF_MAX_CPUS) return -E2BIG;
  /* A memfd, not anonymous memory: an exec'd image of the tree maps the same table again (ips_perf_exec_prepare). */
  int tfd = (int)syscall(SYS_memfd_create, "ipcscope-faults", MFD_CLOEXEC);
  if (tfd < 0) return -errno;
  int hi = (int)syscall(SYS_fcntl, tfd, F_DUPFD_CLOEXEC, 900);
  if (hi >= 0) { syscall(SYS_close, tfd); tfd = hi; }
  void *t = syscall(SYS_ftruncate, tfd, (long)sizeof *pf_tab) == 0
                ? (void *)syscall(SYS_mmap, 0, sizeof *pf_tab, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0)
                : MAP_FAILED;
  if (t == MAP_FAILED) {
    int e = -errno;
    syscall(SYS_close, tfd);
    return e;
  }
  pf_tab = t;
  pf_tab_fd = tfd;
  pf_pages[0] = min_pages;
  pf_pages[1] = maj_pages;
  size_t psz = (size_t)getpagesize();
  int opened = 0, err = 0;
  pf_nrings = (int)(2 * ncpu);
  for (int i = 0; i < pf_nrings; i++) pf_rings[i].fd = -1;
  for (int i = 0; i < pf_nrings; i++) {
    int major = i & 1, cpu = i / 2;
    size_t pages = major ? maj_pages : min_pages;
    struct perf_event_attr a;
    fill_attr(&a, major, pages, cgroup_fd >= 0 ? 2 : 1);
    if (bpf_fd >= 0) a.disabled = 1; /* no sample of another program before the filter is on */
    int fd = open_fd(&a, cpu, bpf_fd >= 0 ? CPU_WIDE : cgroup_fd);
    if (fd == -ENODEV) continue; /* an offline CPU: nothing runs there */
    if (fd < 0) { err = fd; break; }
    if (bpf_fd >= 0 && (syscall(SYS_ioctl, fd, PERF_EVENT_IOC_SET_BPF, bpf_fd) != 0 ||
                        syscall(SYS_ioctl, fd, PERF_EVENT_IOC_ENABLE, 0) != 0)) {
      err = -errno;
      syscall(SYS_close, fd);
      break;
    }
    size_t len = (pages + 1) * psz;
    void *base = (void *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
      err = -errno;
      syscall(SYS_close, fd);
      break;
    }
    pf_rings[i] = (struct pf_ring){fd, major, base, len};
    atomic_store(rb_mark(i), RB_MARK);
    opened++;
  }
  if (err || !opened) {
    shared_unmap();
    return err ? err : -ENODEV;
  }
  pf_pid = (int)getpid();
  pf_me = 0;
  atomic_store(&pf_tab->r[0].pid, pf_pid); /* tails start at 0, where the rings start */
  pf_shared = 1;
  return 0;
}
/* The whole tree's faults share these rings, and a ring is freed only as fast as its slowest reader (a fork child
 * that is still connecting): 1 MiB per CPU for minor faults, where the per-thread design had 256 KiB per thread.
 * 80 children writing 1 MiB each at once lost ~2000 of their 22000 samples with 256 KiB rings. Smaller when the
 * locked-memory limit refuses (perf_event_mlock_kb per CPU, then RLIMIT_MEMLOCK). */
static int shared_open(int cgroup_fd, int bpf_fd) {
  int r = shared_open_pages(4 * DATA_PAGES_MIN, 2 * DATA_PAGES_MAJ, cgroup_fd, bpf_fd);
  if (r == -EPERM || r == -ENOMEM) r = shared_open_pages(DATA_PAGES_MIN, DATA_PAGES_MAJ, cgroup_fd, bpf_fd);
  return r;
}

/* ---- the cgroup scope: this image's leaf under the session's cgroup ---- */

static int write_file(const char *path, const char *text) {
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0) return -errno;
  long n = syscall(SYS_write, fd, text, strlen(text));
  int e = n < 0 ? -errno : 0;
  syscall(SYS_close, fd);
  return e;
}

static int write_file_at(const char *dir, const char *name, const char *text) {
  char path[sizeof ips_cfg.cgroup + 128];
  int n = snprintf(path, sizeof path, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= sizeof path) return -ENAMETOOLONG;
  return write_file(path, text);
}

/* Makes the leaf DIR-i<pid>-<ns> beside the session's cgroup DIR, moves this process in and opens the shared set on
 * it. Beside, not below: each cgroup level above a task costs every context switch, pressure-stall (PSI) accounting
 * walking up to the root (pinned pipe ping-pong, no tracer: one level below the collector's cgroup +100..130 ns per
 * round trip, two +170..200); the leaf's own level is mostly taken back by turning its PSI off (below). 0, or -errno with *step naming what failed (the caller falls
 * back to the inherited set). */
static int pidf_open(const char **step);
static int cgroup_open(const char **step) {
  if (ips_cfg.pidf_parent) return pidf_open(step);
  char leaf[sizeof ips_cfg.cgroup + 64];
  struct stat sst;
  *step = "session";
  if (stat(ips_cfg.cgroup, &sst) != 0) return -errno;
  if (!S_ISDIR(sst.st_mode)) return -ENOTDIR;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* tells apart successive images of one pid */
  int n = snprintf(leaf, sizeof leaf, "%s-i%d-%llu", ips_cfg.cgroup, (int)getpid(),
                   (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec);
  if (n < 0 || (size_t)n >= sizeof leaf) { *step = "path"; return -ENAMETOOLONG; }
  *step = "mkdir";
  if (syscall(SYS_mkdirat, AT_FDCWD, leaf, 0755) != 0) return -errno;
  /* No pressure-stall accounting in the leaf (Linux 6.1; the file is absent before, or with PSI off at boot): with
   * PSI on, every sleep, wake-up and switch of a task updates the PSI state of each cgroup from its own up to the
   * root, so the leaf's level alone cost a pinned pipe ping-pong +172 ns per round trip (no tracer, 7 interleaved
   * runs: 5097 at the root, 5269 one level down, 5153 there with cgroup.pressure 0). The levels above keep theirs,
   * so the machine's PSI and that of the cgroup the session runs in still count the program; only the leaf's own
   * pressure files go unanswered. */
  (void)write_file_at(leaf, "cgroup.pressure", "0");
  *step = "move";
  int r = write_file_at(leaf, "cgroup.procs", "0");
  if (r) { syscall(SYS_unlinkat, AT_FDCWD, leaf, AT_REMOVEDIR); return r; }
  /* From here on the process stays in the leaf even if opening fails: the session removes the leaf at its end. */
  *step = "open";
  int dfd = (int)syscall(SYS_openat, AT_FDCWD, leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dfd < 0) return -errno;
  /* A cgroup v2 directory's inode number is its cgroup id (kernfs node id), what bpf_get_current_cgroup_id() returns. */
  r = -1;
  pf_bpf = 0;
  pf_bpf_error[0] = 0;
  if (ips_cfg.fault_bpf) {
    struct stat st;
    int bpf = fstat(dfd, &st) == 0 ? bpf_cgroup_filter((uint64_t)st.st_ino) : -errno;
    if (bpf >= 0) {
      r = shared_open(dfd, bpf);
      syscall(SYS_close, bpf); /* the events hold the program */
      if (r == 0) pf_bpf = 1;
      else bpf = r;
    }
    if (r != 0) snprintf(pf_bpf_error, sizeof pf_bpf_error, "%s", strerror(-bpf));
  }
  if (r != 0) r = shared_open(dfd, -1);
  syscall(SYS_close, dfd); /* cgroup events hold the cgroup themselves */
  return r;
}

/* The pid scope: moves this process into the session's freezer cgroup (the kill container; a v1 cgroup costs the
 * program's context switches nothing), puts its tgid in a new map and opens the set CPU-wide with the pid filter.
 * 0, or -errno with *step naming what failed (the caller falls back to the inherited set). */
static int pidf_open(const char **step) {
  *step = "session";
  struct stat sst;
  if (stat(ips_cfg.cgroup, &sst) != 0) return -errno;
  if (!S_ISDIR(sst.st_mode)) return -ENOTDIR;
  *step = "move";
  int r = write_file_at(ips_cfg.cgroup, "cgroup.procs", "0");
  if (r) return r;
  *step = "map";
  int map = bpf_pid_map();
  if (map < 0) return map;
  r = bpf_pid_add(map, (uint32_t)getpid());
  *step = "filter";
  int prog = r ? r : bpf_pid_filter(map, ips_cfg.pidf_parent, ips_cfg.pidf_tgid);
  syscall(SYS_close, map); /* the program holds the map */
  if (prog < 0) return prog;
  *step = "open";
  pf_bpf = 0;
  pf_bpf_error[0] = 0;
  r = shared_open(-1, prog);
  syscall(SYS_close, prog); /* the events hold the program */
  if (r == 0) pf_bpf = PF_BPF_PIDS;
  return r;
}

static int pid_gone(int pid) {
  if (syscall(SYS_kill, pid, 0) != 0) return errno == ESRCH;
  /* A zombie still answers kill(): its state letter follows the ')' closing the command name. */
  char path[32], buf[512];
  int n = snprintf(path, sizeof path, "/proc/%d/stat", pid);
  (void)n;
  int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return 1;
  long r = syscall(SYS_read, fd, buf, sizeof buf - 1);
  syscall(SYS_close, fd);
  if (r <= 0) return 1;
  buf[r] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* A ring is filling up: readers of processes that ended without giving theirs back (killed) hold data_tail. */
static void reclaim_dead_readers(void) {
  uint64_t now = ips_now_ns(), last = atomic_load(&pf_tab->gc_ns);
  if (now - last < 100000000ull || !atomic_compare_exchange_strong(&pf_tab->gc_ns, &last, now)) return;
  for (int k = 0; k < PF_READERS; k++) {
    int pid = atomic_load(&pf_tab->r[k].pid);
    uint64_t ex = atomic_load(&pf_tab->r[k].exec_ns);
    /* a reservation whose parent died in the middle of its fork counts as that parent's */
    if (pid && k != pf_me && (pid_gone(pid > 0 ? pid : -pid) || (ex && now - ex > EXEC_JOIN_NS)) &&
        atomic_compare_exchange_strong(&pf_tab->r[k].pid, &pid, 0))
      atomic_store(&pf_tab->r[k].exec_ns, 0);
  }
}

/* data_tail = the lowest tail of the live readers (only ever moved forward, whoever computes it). */
static void advance_data_tail(int i) {
  struct perf_event_mmap_page *pc = pf_rings[i].base;
  uint64_t m = UINT64_MAX;
  for (int k = 0; k < PF_READERS; k++) {
    if (!atomic_load_explicit(&pf_tab->r[k].pid, memory_order_acquire)) continue;
    uint64_t t = atomic_load_explicit(&pf_tab->r[k].tail[i], memory_order_acquire);
    if (t < m) m = t;
  }
  if (m == UINT64_MAX) return;
  uint64_t cur = __atomic_load_n(&pc->data_tail, __ATOMIC_RELAXED);
  while (m > cur && !__atomic_compare_exchange_n(&pc->data_tail, &cur, m, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {}
}

/* A PERF_RECORD_SAMPLE of our sample_type (IP | TID | TIME | ADDR), after its 8-byte header. */
struct fault_sample { uint64_t ip, time, addr; uint32_t pid, tid; };
static void read_sample(const uint8_t *rec, struct fault_sample *fs) {
  uint32_t pid_tid[2];
  memcpy(&fs->ip, rec + 8, 8);
  memcpy(pid_tid, rec + 16, 8);
  memcpy(&fs->time, rec + 24, 8);
  memcpy(&fs->addr, rec + 32, 8);
  fs->pid = pid_tid[0];
  fs->tid = pid_tid[1];
}
static void emit_fault(const struct fault_sample *fs, int major) {
  const uint64_t args[3] = {fs->addr, fs->ip, (uint64_t)major};
  ips_emit_at(fs->time, fs->tid, IPS_EV_PAGE_FAULT, IPS_PHASE_INSTANT, 0, 0, fs->ip, 3, args, NULL, 0);
}

static void copy_wrapped(uint8_t *dst, const uint8_t *data, uint64_t size, uint64_t pos, size_t n) {
  uint64_t off = pos % size;
  if (off + n <= size) memcpy(dst, data + off, n);
  else {
    size_t first = (size_t)(size - off);
    memcpy(dst, data + off, first);
    memcpy(dst + first, data, n - first);
  }
}

/* Reads ring i from this process's tail: emits its own samples (at most budget), counts its losses. */
static unsigned shared_drain_ring(int i, unsigned budget) {
  struct pf_reader *me = &pf_tab->r[pf_me];
  struct perf_event_mmap_page *pc = pf_rings[i].base;
  uint8_t *data = (uint8_t *)pf_rings[i].base + pc->data_offset;
  uint64_t size = pc->data_size;
  uint64_t head = __atomic_load_n(&pc->data_head, __ATOMIC_ACQUIRE);
  uint64_t tail = atomic_load_explicit(&me->tail[i], memory_order_relaxed);
  uint64_t dt = __atomic_load_n(&pc->data_tail, __ATOMIC_RELAXED);
  if (tail < dt) tail = dt; /* cannot happen while we are a live reader; never read overwritten bytes */
  uint32_t own_tid = ips_tls.is_sender ? ips_tls.tid : 0;
  unsigned n = 0;
  while (tail < head && n < budget) {
    struct perf_event_header h;
    uint8_t rec[64];
    copy_wrapped((uint8_t *)&h, data, size, tail, sizeof h);
    if (h.size < sizeof h || h.size > head - tail) break;
    size_t take = h.size < sizeof rec ? h.size : sizeof rec;
    copy_wrapped(rec, data, size, tail, take);
    struct fault_sample fs;
    if (h.type == PERF_RECORD_SAMPLE && take >= 8 + 32) {
      read_sample(rec, &fs);
      if ((int)fs.pid == pf_pid && fs.tid != own_tid && (!pf_prev_sender || fs.tid != pf_prev_sender)) {
        emit_fault(&fs, pf_rings[i].major);
        n++;
      }
    } else if (h.type == PERF_RECORD_LOST && take >= 8 + 16 + 8) {
      uint64_t lost;
      uint32_t pid_tid[2];
      memcpy(&lost, rec + 16, 8);
      memcpy(pid_tid, rec + 24, 8); /* sample_id_all: the task that wrote the record next */
      if ((int)pid_tid[0] == pf_pid) ips_count_dropped(lost);
    }
    tail += h.size;
  }
  atomic_store_explicit(&me->tail[i], tail, memory_order_release);
  advance_data_tail(i);
  if (head - __atomic_load_n(&pc->data_tail, __ATOMIC_RELAXED) > size / 2) reclaim_dead_readers();
  return n;
}

/* Gives this process's reader back (exit, exec): it no longer holds the rings' data_tail. */
void ips_perf_release(void) {
  if (!pf_shared || pf_me < 0) return;
  atomic_store(&pf_tab->r[pf_me].pid, 0);
  for (int i = 0; i < pf_nrings; i++)
    if (pf_rings[i].fd >= 0) advance_data_tail(i);
  pf_me = -1;
}

/* Claims a free reader for pid (or reserves one for a fork child of this process when pid is 0) whose tails start
 * at `from` (or at each ring's data_tail when from is NULL). */
static int claim_reader(int pid, const struct pf_reader *from) {
  for (int k = 0; k < PF_READERS; k++) {
    int expect = 0;
    if (!atomic_compare_exchange_strong(&pf_tab->r[k].pid, &expect, -pf_pid)) continue;
    atomic_store(&pf_tab->r[k].exec_ns, 0);
    for (int i = 0; i < pf_nrings; i++) {
      uint64_t t = 0;
      if (from) t = atomic_load(&from->tail[i]);
      else if (pf_rings[i].fd >= 0) t = __atomic_load_n(&((struct perf_event_mmap_page *)pf_rings[i].base)->data_tail, __ATOMIC_ACQUIRE);
      atomic_store(&pf_tab->r[k].tail[i], t);
    }
    if (pid) atomic_store(&pf_tab->r[k].pid, pid);
    return k;
  }
  return -1;
}

/* ---- handing the set over across exec (cgroup scope) ----
 * The tree's set used to end with each image: an exec'd image made a leaf and a set of its own, so a session of N
 * live images had N sets, and with the BPF filter every page fault on the machine ran N filters. Now an image about
 * to exec keeps its reader and leaves the set's fds open across the exec (pfset= in the new image's IPCSCOPE); the
 * new image maps the same rings and table, takes the reader on (same pid) and stays in the same leaf. A session's
 * fork-and-exec tree thus has one set; only what starts outside it (a posix_spawn child, a program that exec'd
 * without the shim's hooks) makes another. */
static int pf_handoff_reader = -1;

static void set_cloexec_all(int on) {
  if (pf_tab_fd >= 0) syscall(SYS_fcntl, pf_tab_fd, F_SETFD, on ? FD_CLOEXEC : 0);
  for (int i = 0; i < pf_nrings; i++)
    if (pf_rings[i].fd >= 0) syscall(SYS_fcntl, pf_rings[i].fd, F_SETFD, on ? FD_CLOEXEC : 0);
}

/* An exec that will probably succeed, after BYE: stop reading here; hand the set and the reader to the next image. */
void ips_perf_exec_prepare(void) {
  pf_handoff = 0;
  if (!(pf_shared && pf_cgroup && pf_me >= 0 && pf_tab_fd >= 0)) {
    ips_perf_release();
    return;
  }
  set_cloexec_all(0);
  atomic_store(&pf_tab->r[pf_me].exec_ns, ips_now_ns() | 1);
  pf_handoff_reader = pf_me;
  pf_me = -1; /* this image's sender reads no more (its connection has ended) */
  pf_handoff = 1;
}

/* ";pfset=TABFD/MINPAGES/MAJPAGES/BPF/NRINGS/SENDERTID:FD,FD,..." for the exec'd image's IPCSCOPE, or nothing. */
size_t ips_perf_handoff_item(char *buf, size_t cap) {
  if (!pf_handoff || cap < 64) return 0;
  int n = snprintf(buf, cap, ";pfset=%d/%zu/%zu/%d/%d/%u:", pf_tab_fd, pf_pages[0], pf_pages[1], pf_bpf, pf_nrings,
                   ips_sender_tid);
  size_t o = n > 0 && (size_t)n < cap ? (size_t)n : cap;
  for (int i = 0; i < pf_nrings && o + 16 < cap; i++) {
    n = snprintf(buf + o, cap - o, "%s%d", i ? "," : "", pf_rings[i].fd);
    if (n > 0) o += (size_t)n;
  }
  if (o + 16 >= cap) return 0; /* cut short: better no hand-over than a wrong one */
  return o;
}

/* exec failed: after a hand-over, take the set back; after ips_perf_release, the image keeps its inherited events,
 * so it reads again. */
void ips_perf_exec_failed(void) {
  if (pf_handoff) {
    pf_handoff = 0;
    set_cloexec_all(1);
    pf_me = pf_handoff_reader;
    atomic_store(&pf_tab->r[pf_me].exec_ns, 0);
    if (atomic_load(&pf_tab->r[pf_me].pid) != pf_pid) pf_me = claim_reader(pf_pid, NULL); /* reclaimed meanwhile */
    return;
  }
  if (pf_shared && pf_me < 0) pf_me = claim_reader(pf_pid, NULL);
}

void ips_perf_set_join(const char *spec) { snprintf(pf_join_spec, sizeof pf_join_spec, "%s", spec); }

/* An inherited fd that is what the previous image said: a perf event, or the table's memfd of the right size. */
static int fd_is(int fd, const char *what) {
  char path[40], link[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  long n = syscall(SYS_readlinkat, AT_FDCWD, path, link, sizeof link - 1);
  if (n <= 0) return 0;
  link[n] = 0;
  return !strncmp(link, what, strlen(what));
}

/* The new image after a hand-over: map the previous image's set and take its reader on. 0 or -errno; on failure
 * every handed fd is closed (the caller then makes a set of its own). */
static int shared_join(const char *spec) {
  int tfd = -1, bpf = 0, nr = 0;
  unsigned sender = 0;
  size_t minp = 0, majp = 0;
  int fds[PF_RINGS];
  const char *p = strchr(spec, ':');
  int r = -EINVAL;
  if (!p || sscanf(spec, "%d/%zu/%zu/%d/%d/%u", &tfd, &minp, &majp, &bpf, &nr, &sender) != 6 || nr < 1 || nr > PF_RINGS) nr = 0;
  for (int i = 0; i < nr; i++) {
    fds[i] = -1;
    if (p && *p) {
      char *end;
      fds[i] = (int)strtol(p + 1, &end, 10);
      p = *end == ',' ? end : NULL;
      if (!p && i + 1 < nr) nr = 0; /* too few */
    }
  }
  size_t psz = (size_t)getpagesize();
  int ok = nr > 0 && tfd >= 900 && fd_is(tfd, "/memfd:ipcscope-faults") && minp && majp && minp <= 4096 && majp <= 4096;
  for (int i = 0; ok && i < nr; i++) ok = fds[i] == -1 || (fds[i] >= 900 && fd_is(fds[i], "anon_inode:[perf_event]"));
  struct stat st;
  if (ok && (fstat(tfd, &st) != 0 || st.st_size != (off_t)sizeof *pf_tab)) ok = 0;
  if (ok) {
    void *t = (void *)syscall(SYS_mmap, 0, sizeof *pf_tab, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
    if (t == MAP_FAILED) ok = 0;
    else pf_tab = t;
  }
  if (ok) {
    pf_tab_fd = tfd;
    pf_pages[0] = minp;
    pf_pages[1] = majp;
    pf_nrings = nr;
    for (int i = 0; i < nr; i++) pf_rings[i].fd = -1;
    for (int i = 0; i < nr; i++) {
      if (fds[i] < 0) continue;
      size_t len = (pf_pages[i & 1] + 1) * psz;
      void *base = (void *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
      if (base == MAP_FAILED) { r = -errno; ok = 0; break; }
      pf_rings[i] = (struct pf_ring){fds[i], i & 1, base, len};
      rb_mark_check(i);
    }
  }
  if (ok) {
    pf_pid = (int)getpid();
    pf_me = -1;
    for (int k = 0; k < PF_READERS && pf_me < 0; k++)
      if (atomic_load(&pf_tab->r[k].pid) == pf_pid) pf_me = k;
    if (pf_me >= 0) atomic_store(&pf_tab->r[pf_me].exec_ns, 0);
    else pf_me = claim_reader(pf_pid, NULL); /* reclaimed while the exec took long: from here on */
    if (pf_me < 0) { r = -EMFILE; ok = 0; }
  }
  if (!ok) {
    shared_unmap(); /* closes what was mapped */
    if (tfd >= 900 && fd_is(tfd, "/memfd:ipcscope-faults")) syscall(SYS_close, tfd);
    for (int i = 0; i < nr; i++)
      if (fds[i] >= 900 && fd_is(fds[i], "anon_inode:[perf_event]")) syscall(SYS_close, fds[i]);
    return r;
  }
  set_cloexec_all(1);
  pf_bpf = bpf == PF_BPF_PIDS ? PF_BPF_PIDS : bpf != 0;
  pf_prev_sender = sender;
  pf_shared = 1;
  return 0;
}

/* The shared set's fds, ascending (all of them exist before the sender thread starts). */
int ips_perf_shared_fds(int *out, int cap) {
  int n = 0;
  for (int i = 0; i < pf_nrings; i++)
    if (pf_rings[i].fd >= 0 && n < cap) {
      int k = n++;
      while (k > 0 && out[k - 1] > pf_rings[i].fd) { out[k] = out[k - 1]; k--; }
      out[k] = pf_rings[i].fd;
    }
  return n;
}
/* No perf fd will be opened after the sender starts (it is not the per-thread design with faults on). */
int ips_perf_fds_fixed(void) { return pf_shared || !ips_cfg.page_faults; }
const char *ips_perf_scope(void) {
  if (!(pf_shared && pf_cgroup)) return pf_scope_note;
  if (pf_bpf == PF_BPF_PIDS) return pf_joined ? " (pid filter, handed over at exec)" : " (pid filter)";
  if (pf_bpf) return pf_joined ? " (cgroup, BPF filter, handed over at exec)" : " (cgroup, BPF filter)";
  if (!pf_bpf_error[0]) return pf_joined ? " (cgroup, handed over at exec)" : " (cgroup)";
  snprintf(pf_scope_note, sizeof pf_scope_note, " (cgroup; BPF filter: %s)", pf_bpf_error);
  return pf_scope_note;
}

/* ---- both designs ---- */

void ips_perf_thread_open(void) {
  if (ips_tls.perf_state || ips_tls.is_sender) return;
  ips_tls.perf_state = -1;
  if (!ips_cfg.enabled || !ips_cfg.page_faults) return;
  if (pf_shared) { ips_tls.perf_state = 1; return; } /* inherited from the thread that made this one */
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

/* Image start, on its first thread, before the sender thread exists: the shared set, else per thread. */
void ips_perf_process_open(void) {
  if (!ips_cfg.enabled || !ips_cfg.page_faults || ips_tls.perf_state) return;
  int e0 = errno;
  pf_cgroup = 0;
  pf_scope_note[0] = 0;
  if (ips_cfg.cgroup[0] && pf_join_spec[0]) {
    int r = shared_join(pf_join_spec);
    pf_join_spec[0] = 0;
    if (r == 0) {
      pf_cgroup = 1;
      pf_joined = 1;
      ips_tls.perf_state = 1;
      errno = e0;
      return;
    }
  }
  if (ips_cfg.cgroup[0]) {
    const char *step = "";
    int r = cgroup_open(&step);
    if (r == 0) {
      pf_cgroup = 1;
      ips_tls.perf_state = 1;
      errno = e0;
      return;
    }
    snprintf(pf_scope_note, sizeof pf_scope_note, " (per task; cgroup %s: %s)", step, strerror(-r));
  }
  if (shared_open(-1, -1) == 0) ips_tls.perf_state = 1;
  else ips_perf_thread_open();
  errno = e0;
}

/* Tracing ended before it began (no collector): let go of the events so the tree does not sample for nobody. */
void ips_perf_close_all(void) {
  ips_perf_release();
  if (pf_shared) shared_unmap();
  for (int i = 0; i < MAX_PERF; i++) {
    int st = atomic_load(&slots[i].state);
    if (st == SLOT_LIVE || st == SLOT_GONE) {
      syscall(SYS_munmap, slots[i].base, slots[i].len);
      syscall(SYS_close, slots[i].fd);
    }
    atomic_store(&slots[i].state, SLOT_FREE);
  }
}

/* The thread is gone: its events get one last drain, then the sender closes them. */
void ips_perf_thread_gone(uint32_t tid) {
  for (int i = 0; i < MAX_PERF; i++)
    if (atomic_load(&slots[i].state) == SLOT_LIVE && slots[i].tid == tid) atomic_store(&slots[i].state, SLOT_GONE);
}

/* Parent, before fork: reserve the child's reader with our tails. */
void ips_perf_fork_prepare(void) {
  pf_pending = -1;
  if (pf_shared && pf_me >= 0) pf_pending = claim_reader(0, &pf_tab->r[pf_me]);
}
/* Parent, after fork: the reserved reader names the child (or goes back when fork failed). */
void ips_perf_fork_parent(int pid) {
  if (pf_pending < 0) return;
  int expect = -pf_pid;
  atomic_compare_exchange_strong(&pf_tab->r[pf_pending].pid, &expect, pid > 0 ? pid : 0);
  pf_pending = -1;
}

void ips_perf_fork_child(void) {
  if (pf_shared) {
    /* The inherited events already sample this process into the shared rings: read them as the reserved reader. */
    pf_pid = (int)getpid();
    pf_me = pf_pending;
    pf_pending = -1;
    /* perf mappings are VM_DONTCOPY: map the same rings again from the inherited fds (no new locked memory). */
    for (int i = 0; i < pf_nrings && pf_me >= 0; i++) {
      if (pf_rings[i].fd < 0) continue;
      void *base = (void *)syscall(SYS_mmap, 0, pf_rings[i].len, PROT_READ | PROT_WRITE, MAP_SHARED, pf_rings[i].fd, 0);
      if (base == MAP_FAILED) {
        for (int j = 0; j < i; j++) /* undo, and drop the others' fds below without touching their old addresses */
          if (pf_rings[j].fd >= 0) syscall(SYS_munmap, pf_rings[j].base, pf_rings[j].len);
        for (int j = 0; j < pf_nrings; j++)
          if (pf_rings[j].fd >= 0) { syscall(SYS_close, pf_rings[j].fd); pf_rings[j].fd = -1; }
        atomic_store(&pf_tab->r[pf_me].pid, 0);
        pf_me = -1;
        break;
      }
      pf_rings[i].base = base;
    }
    if (pf_me >= 0) {
      atomic_store(&pf_tab->r[pf_me].pid, pf_pid);
      ips_tls.perf_state = 1;
      return;
    }
    shared_unmap(); /* no reader left: sample this process on its own (the inherited events run on unread) */
  }
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
  if (pf_shared && pf_me >= 0) {
    for (int i = 0; i < pf_nrings && n < cap; i++)
      if (pf_rings[i].fd >= 0 && !pf_rings[i].major) out[n++] = (struct pollfd){pf_rings[i].fd, POLLIN, 0};
    return n;
  }
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
    copy_wrapped((uint8_t *)&h, data, size, tail, sizeof h);
    if (h.size < sizeof h || h.size > head - tail) break;
    size_t take = h.size < sizeof rec ? h.size : sizeof rec;
    copy_wrapped(rec, data, size, tail, take);
    struct fault_sample fs;
    if (h.type == PERF_RECORD_SAMPLE && take >= 8 + 32) {
      read_sample(rec, &fs);
      emit_fault(&fs, s->major);
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
  if (pf_shared) {
    for (int i = 0; i < pf_nrings && budget && pf_me >= 0; i++)
      if (pf_rings[i].fd >= 0) budget -= shared_drain_ring(i, budget);
    return;
  }
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
