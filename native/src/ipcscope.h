/* IPC Scope shim: the internal API shared by the runtime (runtime.c, ws.c, perf.c, pagemap.c, hooks_process.c,
 * hooks_signal.c) and the IPC hook families (hooks_fd.c, hooks_socket.c, hooks_mq_shm.c, hooks_lock.c,
 * hooks_ready.c, fdtable.c). Wire format: docs/protocol.md. Vocabulary: events_gen.h (generated). */
#ifndef IPCSCOPE_H
#define IPCSCOPE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <dlfcn.h>
#include <errno.h>
#include "events_gen.h"

#define IPS_HIDDEN __attribute__((visibility("hidden")))
#define IPS_LIKELY(x) __builtin_expect(!!(x), 1)
#define IPS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define IPS_CALLER() ((uint64_t)(uintptr_t)__builtin_return_address(0))

/* ---- configuration (parsed once from $IPCSCOPE by the runtime's constructor) ---- */
struct ips_config {
  int enabled;            /* 0: IPCSCOPE unset or tracing failed; hooks call straight through */
  unsigned payload_bytes; /* preview size, 0..4096 */
  int page_faults;
  int snapshots;
  int pause_enabled;      /* stepping support (issue 6) */
};
extern struct ips_config ips_cfg IPS_HIDDEN;

/* ---- entering a hook ----
 * Every hook is written as:
 *
 *   ssize_t write(int fd, const void *buf, size_t n) {
 *     IPS_REAL_DECL(write, ssize_t, int, const void *, size_t);
 *     if (!ips_hook_enter()) return real_write(fd, buf, n);   // not tracing, or re-entered from our own code
 *     uint64_t caller = IPS_CALLER();
 *     ... ips_emit(...) / real call / ips_emit(...) ...
 *     ips_hook_leave();   // restores errno to what the real call left
 *     return r;
 *   }
 *
 * ips_hook_enter() returns 0 when tracing is off, when this thread is already inside a hook (recursion guard, a
 * __thread flag with initial-exec TLS), or when the thread is the shim's own sender thread. It saves errno.
 * ips_hook_leave() clears the guard. Use ips_errno_keep() to capture the real call's errno before emitting. */
int ips_hook_enter(void) IPS_HIDDEN;
void ips_hook_leave(void) IPS_HIDDEN;

/* Resolve the real symbol once (thread-safe, async-signal-safe after the first call from the constructor). */
void *ips_real(const char *name) IPS_HIDDEN;
void *ips_real_versioned(const char *name, const char *version) IPS_HIDDEN;
#define IPS_REAL_DECL(name, ret, ...)                                                   \
  static ret (*real_##name)(__VA_ARGS__);                                              \
  if (IPS_UNLIKELY(!real_##name)) real_##name = (ret (*)(__VA_ARGS__))ips_real(#name)

/* ---- emitting events ----
 * Appends one record to this thread's buffer (lock-free; async-signal-safe; never blocks longer than the bounded
 * back-pressure wait, then drops and counts). Timestamp and tid are taken inside. args has nargs words, which must
 * equal the kind's IPS_EV_<KIND>_NARGS. blob may be NULL. */
void ips_emit(uint16_t kind, uint8_t phase, int64_t result, int err, uint64_t caller, unsigned nargs,
              const uint64_t *args, const void *blob, uint32_t blob_len) IPS_HIDDEN;
/* Same, with an explicit timestamp and tid (page faults sampled by perf carry their own). */
void ips_emit_at(uint64_t ts, uint32_t tid, uint16_t kind, uint8_t phase, int64_t result, int err,
                 uint64_t caller, unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len) IPS_HIDDEN;
/* Two iovecs for the blob (e.g. a readv preview assembled from pieces is done by the caller into a stack buffer). */
uint64_t ips_now_ns(void) IPS_HIDDEN;   /* CLOCK_MONOTONIC */
uint32_t ips_tid(void) IPS_HIDDEN;      /* cached gettid */

#define IPS_EMIT(KIND, phase, result, err, caller, blob, blob_len, ...)                              \
  do {                                                                                            \
    const uint64_t ips_args_[] = {__VA_ARGS__};                                                   \
    _Static_assert(sizeof(ips_args_) / 8 == IPS_EV_##KIND##_NARGS, "wrong arg count for " #KIND); \
    ips_emit(IPS_EV_##KIND, (phase), (int64_t)(result), (err), (caller), IPS_EV_##KIND##_NARGS,   \
             ips_args_, (blob), (blob_len));                                                      \
  } while (0)
/* For kinds with no arguments. */
#define IPS_EMIT0(KIND, phase, result, err, caller, blob, blob_len) \
  ips_emit(IPS_EV_##KIND, (phase), (int64_t)(result), (err), (caller), 0, NULL, (blob), (blob_len))

/* ---- the fd table (fdtable.c): what object each fd of this process refers to ---- */
struct ips_fdinfo {
  uint8_t otype;  /* IPS_OTYPE_* */
  uint8_t cloexec;
  uint64_t dev, ino;
  uint64_t peer;  /* socket peer inode (Unix) or 0 */
};
/* Looks the fd up, filling the cache with fstat (and getsockopt for sockets) on a miss. Returns 0 or -1 (bad fd). */
int ips_fd_info(int fd, struct ips_fdinfo *out) IPS_HIDDEN;
void ips_fd_set(int fd, const struct ips_fdinfo *info) IPS_HIDDEN;
void ips_fd_forget(int fd) IPS_HIDDEN;
void ips_fd_forget_all(void) IPS_HIDDEN; /* after exec the new image starts empty anyway; used by tests */
/* Payload preview helper: copies min(len, ips_cfg.payload_bytes) bytes; returns the count and sets *truncated. */
uint32_t ips_preview_len(size_t len, int *truncated) IPS_HIDDEN;

/* ---- runtime services the hooks use ---- */
/* Flush everything buffered and wait (bounded, ~1 s) until the sender has handed it to the socket: before exec,
 * at exit, on fatal signals, before raise(SIGKILL). Safe to call from a signal handler. */
void ips_flush_sync(void) IPS_HIDDEN;
/* Called by the fork hook: prepare (parent, before), parent after, child after (new connection, new sender). */
void ips_fork_prepare(void) IPS_HIDDEN;
void ips_fork_parent(void) IPS_HIDDEN;
void ips_fork_child(void) IPS_HIDDEN;
/* Page-table snapshot of the mappings that matter (anonymous private writable, shared) with a reason. */
void ips_snapshot(int reason) IPS_HIDDEN;
/* Environment for exec: returns envp with LD_PRELOAD and IPCSCOPE guaranteed (a static or malloc'd array). */
char **ips_exec_env(char *const envp[]) IPS_HIDDEN;

/* ---- stepping (issue 6): one predictable branch on the hot path when pausing is off ---- */
extern volatile int ips_pause_armed IPS_HIDDEN;
void ips_pause_point_slow(uint16_t kind, uint64_t caller) IPS_HIDDEN;
#define IPS_PAUSE_POINT(KIND, caller) \
  do { if (IPS_UNLIKELY(ips_pause_armed)) ips_pause_point_slow(IPS_EV_##KIND, (caller)); } while (0)

#endif
