/* IPC Scope shim: holding threads at their traced calls for stepping (issue 6, docs/stepping.md).
 *
 * Every hook runs IPS_PAUSE_POINT(KIND, caller) after its begin event and before the real call. The branch is on
 * ips_pause_armed, which stays 0 unless pause was asked for (IPCSCOPE pause=1, or 2 = stop on entry) AND something
 * could stop a thread now (all-stop requested, a step pending, breakpoints set), so with stepping off the hot path
 * costs one predictable branch. A thread that must stop emits `paused` (with its return addresses), flushes, and
 * waits on a futex word until the collector's `resume`/`step` COMMAND (handled on the sender thread) bumps it. It
 * holds no lock of ours while it waits (ips_emit and ips_flush_sync return before the wait).
 *
 * All-stop inside one process: the first thread to stop sets hold_all, so every other thread stops at its own next
 * traced call; the collector extends that to the other processes with `pause`. A thread blocked inside a call is not
 * touched: it stops at its next traced call after the call returns. */
#include "ipcscope.h"

#include <execinfo.h>
#include <link.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_RANGES 512
#define MAX_FRAMES 32

static _Atomic uint32_t hold_all;  /* nonzero (a pauseReason): every thread stops at its next traced call */
static _Atomic uint32_t run_gen;   /* futex word: bumped by each resume/step */
static _Atomic uint32_t step_tid;  /* this thread stops at its next traced call */
static _Atomic uint32_t only_tid;  /* while hold_all: the one thread allowed to run (single-thread step) */
static _Atomic uint64_t kind_bits[4];
static uint64_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static _Atomic int n_ranges;
static _Atomic uint32_t next_stop;
static _Atomic int held;
static uint64_t main_bias; /* load bias of the main executable (PIE): source lines arrive as link-time addresses */
static int entry_hold;     /* pause=2: a debug session; every image, fork children included, holds at its first call */

/* Python source breakpoints (hooks_python.c): file hash + line, matched against the thread's Python location. */
int ips_python_bp_count(void) IPS_HIDDEN;
int ips_python_bp_add(uint64_t file_hash, int line) IPS_HIDDEN;
void ips_python_bp_clear(void) IPS_HIDDEN;
int ips_python_bp_hit(uint16_t kind) IPS_HIDDEN;

static void rearm(void) {
  int any = atomic_load(&hold_all) || atomic_load(&step_tid) || atomic_load(&n_ranges) || ips_python_bp_count() ||
            atomic_load(&kind_bits[0]) ||
            atomic_load(&kind_bits[1]) || atomic_load(&kind_bits[2]) || atomic_load(&kind_bits[3]);
  ips_pause_armed = ips_cfg.pause_enabled && any;
}

static int first_object(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  *(uint64_t *)data = (uint64_t)info->dlpi_addr;
  return 1; /* the first object is the main program */
}

/* After the runtime's constructor (101): read pause=2 (stop on entry, every image) and prime backtrace(),
 * whose first call loads libgcc_s — never do that later from inside a hook. */
__attribute__((constructor(102))) static void pause_init(void) {
  if (!ips_cfg.enabled || !ips_cfg.pause_enabled) { ips_pause_armed = 0; return; }
  const char *env = getenv("IPCSCOPE");
  int saved = ips_tls.in_hook;
  ips_tls.in_hook = 1;
  void *f[4];
  backtrace(f, 4);
  dl_iterate_phdr(first_object, &main_bias);
  ips_tls.in_hook = saved;
  /* Writing to files (file=…) there is nobody to release a held thread: never hold one. */
  if (env && strstr(env, "file=")) { ips_cfg.pause_enabled = 0; ips_pause_armed = 0; return; }
  /* Every image of a debug session (pause=2), the first and each one exec'd or spawned later, stops at its first
   * traced call until the debugger has put its breakpoints in place and releases it: an exec'd image runs on at
   * once, and its first calls would otherwise pass before its breakpoints arrive. */
  if (env && strstr(env, "pause=2")) {
    entry_hold = 1;
    atomic_store(&hold_all, IPS_PAUSE_REASON_ENTRY);
  }
  rearm();
}

/* A fork child of a debug session holds at its first traced call too. It inherits the parent's breakpoints, but the
 * debugger puts them in place again on the child's connection (clear, then add), and a child running meanwhile could
 * pass its breakpoint in that window (a worker whose one write is the breakpoint: "Step Through Demo
 * procs-vs-threads" missed its stop under load). Its thread has a new tid: no step or single-thread run carries over. */
void ips_pause_fork_child(void) {
  if (!entry_hold || !ips_cfg.enabled || !ips_cfg.pause_enabled) return;
  atomic_store(&step_tid, 0);
  atomic_store(&only_tid, 0);
  atomic_store(&held, 0);
  atomic_store(&hold_all, IPS_PAUSE_REASON_ENTRY);
  rearm();
}

static void futex_wait_ms(_Atomic uint32_t *w, uint32_t v, long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, &ts, NULL, 0);
}
static void futex_wake_all(_Atomic uint32_t *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0); }

static int in_ranges(uint64_t a) {
  int n = atomic_load(&n_ranges);
  for (int i = 0; i < n; i++)
    if (a >= range_lo[i] && a < range_hi[i]) return 1;
  return 0;
}

void ips_pause_point_slow(uint16_t kind, uint64_t caller) {
  if (!ips_cfg.enabled || !ips_cfg.pause_enabled || ips_tls.is_sender) return;
  uint32_t me = ips_tid();
  uint64_t frames[MAX_FRAMES];
  int nf = 0, have_frames = 0, reason = 0;
  int saved_in_hook = ips_tls.in_hook;
  ips_tls.in_hook = 1; /* the unwinder's own calls (if any) are not traced and cannot stop us again */
  if (kind & IPS_PAUSE_CONTENDED) {
    /* The second pause point of a lock found busy: stops only for the "lock contended" filter (kind bit 255). */
    kind &= (uint16_t)~IPS_PAUSE_CONTENDED;
    if (!(atomic_load(&kind_bits[3]) >> 63 & 1)) { ips_tls.in_hook = saved_in_hook; return; }
    reason = IPS_PAUSE_REASON_KIND;
  } else if (atomic_load(&step_tid) == me) reason = IPS_PAUSE_REASON_STEP;
  else if (kind < 255 && (atomic_load(&kind_bits[kind >> 6]) >> (kind & 63) & 1)) reason = IPS_PAUSE_REASON_KIND;
  else if (ips_python_bp_count() && ips_python_bp_hit(kind)) reason = IPS_PAUSE_REASON_BREAKPOINT;
  else if (atomic_load(&n_ranges)) {
    /* A source line stops the thread when any frame returns into it: the line may call a helper that writes. */
    void *raw[MAX_FRAMES];
    int n = backtrace(raw, MAX_FRAMES);
    int start = 0;
    for (int i = 0; i < n; i++)
      if ((uint64_t)(uintptr_t)raw[i] == caller) { start = i; break; }
    for (int i = start; i < n; i++) frames[nf++] = (uint64_t)(uintptr_t)raw[i];
    have_frames = 1;
    for (int i = 0; i < nf && !reason; i++)
      if (in_ranges(frames[i] - 1)) reason = IPS_PAUSE_REASON_BREAKPOINT;
  }
  uint32_t h = atomic_load(&hold_all), only = atomic_load(&only_tid);
  if (!reason && h && only != me) reason = (int)h;
  if (!reason) { ips_tls.in_hook = saved_in_hook; return; }

  /* Stop here. Everyone else in this process stops at their next traced call. */
  if (reason == IPS_PAUSE_REASON_STEP) atomic_store(&step_tid, 0);
  if (only == me) atomic_store(&only_tid, 0);
  uint32_t expect = 0;
  atomic_compare_exchange_strong(&hold_all, &expect, IPS_PAUSE_REASON_ALL_STOP);
  rearm();
  if (!have_frames) {
    void *raw[MAX_FRAMES];
    int n = backtrace(raw, MAX_FRAMES), start = -1;
    for (int i = 0; i < n; i++)
      if ((uint64_t)(uintptr_t)raw[i] == caller) { start = i; break; }
    if (start < 0) { frames[nf++] = caller; start = n; } /* no unwind info down to the caller: at least the caller */
    for (int i = start; i < n && nf < MAX_FRAMES; i++) frames[nf++] = (uint64_t)(uintptr_t)raw[i];
  }
  uint32_t gen = atomic_load(&run_gen);
  /* stopId = release generation << 32 | count: a `paused` that reaches the collector after the REPLY to its resume
   * (which reported the new generation) is known to be released already. */
  uint64_t stop_id = (uint64_t)gen << 32 | (atomic_fetch_add(&next_stop, 1) + 1);
  atomic_fetch_add(&held, 1);
  IPS_EMIT(PAUSED, IPS_PHASE_INSTANT, 0, 0, caller, frames, (uint32_t)(nf * 8), (uint64_t)kind, (uint64_t)reason,
           (uint64_t)stop_id);
  ips_flush_sync();
  for (;;) {
    uint32_t g = atomic_load(&run_gen);
    if (g != gen) {
      gen = g;
      if (!atomic_load(&hold_all) || atomic_load(&only_tid) == me) break;
    }
    if (!ips_cfg.enabled) break; /* the collector went away: nobody will ever release us */
    futex_wait_ms(&run_gen, gen, 250);
  }
  atomic_fetch_sub(&held, 1);
  IPS_EMIT(RESUMED, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)stop_id);
  ips_tls.in_hook = saved_in_hook;
}

static void release(void) {
  atomic_fetch_add(&run_gen, 1);
  futex_wake_all(&run_gen);
}

/* The sender thread's COMMAND dispatcher hands every command it does not know here. Arguments (docs/stepping.md):
 *   pause            arg0 = reason (0: pause)             every thread stops at its next traced call
 *   resume           —                                    release every held thread
 *   step             arg0 = tid, arg1 = 1 only that thread runs (0: all run)   tid stops at its next traced call
 *   set_breakpoints  arg0 = 0 clear | 1 kind word (arg1 index, arg2 bits) | 2 caller range [arg1, arg2) |
 *                    3 the same range in the main executable's link-time addresses (relocated here) |
 *                    4 Python line: arg1 = line, arg2 = FNV-1a 64 of the script's absolute path (hooks_python.c)
 *                    (kind bit 255 is the "lock contended" filter: a lock call that found the lock busy)
 * Writes the reply JSON into json; returns the REPLY status (0 or an errno). */
int ips_pause_command(uint32_t cmd, const uint8_t *argbytes, char *json, size_t cap) {
  uint64_t a[4];
  memcpy(a, argbytes, sizeof a);
  if (cmd != IPS_COMMAND_PAUSE && cmd != IPS_COMMAND_RESUME && cmd != IPS_COMMAND_STEP &&
      cmd != IPS_COMMAND_SET_BREAKPOINTS) {
    snprintf(json, cap, "{\"message\":\"command not supported by this shim\"}");
    return ENOTSUP;
  }
  if (!ips_cfg.pause_enabled) {
    snprintf(json, cap, "{\"message\":\"stepping is off in this process (IPCSCOPE pause=0)\"}");
    return EPERM;
  }
  if (cmd == IPS_COMMAND_PAUSE) {
    atomic_store(&hold_all, a[0] ? (uint32_t)a[0] : IPS_PAUSE_REASON_PAUSE);
  } else if (cmd == IPS_COMMAND_RESUME) {
    atomic_store(&only_tid, 0);
    atomic_store(&step_tid, 0);
    atomic_store(&hold_all, 0);
    release();
  } else if (cmd == IPS_COMMAND_STEP) {
    atomic_store(&step_tid, (uint32_t)a[0]);
    if (a[1]) {
      atomic_store(&only_tid, (uint32_t)a[0]);
      uint32_t expect = 0;
      atomic_compare_exchange_strong(&hold_all, &expect, IPS_PAUSE_REASON_ALL_STOP);
    } else {
      atomic_store(&only_tid, 0);
      atomic_store(&hold_all, 0);
    }
    release();
  } else {
    if (a[0] == 0) {
      atomic_store(&n_ranges, 0);
      ips_python_bp_clear();
      for (int i = 0; i < 4; i++) atomic_store(&kind_bits[i], 0);
    } else if (a[0] == 1) {
      if (a[1] >= 4) { snprintf(json, cap, "{\"message\":\"kind word %llu out of range\"}", (unsigned long long)a[1]); return EINVAL; }
      atomic_store(&kind_bits[a[1]], a[2]);
    } else if (a[0] == 2 || a[0] == 3) {
      int n = atomic_load(&n_ranges);
      if (n >= MAX_RANGES) { snprintf(json, cap, "{\"message\":\"more than %d source ranges\"}", MAX_RANGES); return ENOSPC; }
      uint64_t bias = a[0] == 3 ? main_bias : 0;
      range_lo[n] = a[1] + bias;
      range_hi[n] = a[2] + bias;
      atomic_store(&n_ranges, n + 1); /* published after the range is written */
    } else if (a[0] == 4) {
      if (ips_python_bp_add(a[2], (int)a[1])) { snprintf(json, cap, "{\"message\":\"too many Python breakpoints\"}"); return ENOSPC; }
    } else {
      snprintf(json, cap, "{\"message\":\"unknown set_breakpoints op %llu\"}", (unsigned long long)a[0]);
      return EINVAL;
    }
  }
  rearm();
  snprintf(json, cap, "{\"held\":%d,\"armed\":%d,\"gen\":%u}", atomic_load(&held), ips_pause_armed,
           atomic_load(&run_gen));
  return 0;
}
