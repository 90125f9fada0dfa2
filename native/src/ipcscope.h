/* IPC Scope shim: the internal API shared by the runtime (runtime.c, ws.c, perf.c, pagemap.c, hooks_process.c,
 * hooks_signal.c) and the IPC hook families (hooks_fd.c, hooks_socket.c, hooks_mq_shm.c, hooks_lock.c,
 * hooks_ready.c, fdtable.c). Wire format: docs/protocol.md. Vocabulary: events_gen.h (generated). */
#ifndef IPCSCOPE_H
#define IPCSCOPE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <dlfcn.h>
#include <errno.h>
#include "events_gen.h"

#define IPS_HIDDEN __attribute__((visibility("hidden")))
#ifndef IPS_EXPORT
#define IPS_EXPORT __attribute__((visibility("default"))) /* interposed libc functions (built with -fvisibility=hidden) */
#endif
#define IPS_LIKELY(x) __builtin_expect(!!(x), 1)
#define IPS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define IPS_CALLER() ((uint64_t)(uintptr_t)__builtin_return_address(0))
/* The hot path in one place. A pinned pipe ping-pong switches process at every call, and what a call touches comes
 * back cold each time, page by page (this VM's nested paging makes a TLB miss dear): the flags, clock, fd-table root
 * and real_* pointers every hook reads were spread over eight data pages and the hot functions over ten code pages.
 * IPS_HOT_DATA puts a variable in .data1, which GNU ld's default script gathers from every object into one output
 * section after .data (about 2.5 KiB: one or two pages); IPS_HOT puts a function in .text.hot.ipcscope, which the
 * script gathers with every .text.hot* at the start of .text: the read/write and send/recv path, about 8 KiB (the
 * less used hooks of those families stay out, so that this path keeps to two pages). */
#define IPS_HOT_DATA __attribute__((section(".data1")))
#define IPS_HOT __attribute__((section(".text.hot.ipcscope")))

/* ---- configuration (parsed once from $IPCSCOPE by the runtime's constructor) ---- */
struct ips_config {
  int enabled;            /* 0: IPCSCOPE unset or tracing failed; hooks call straight through */
  unsigned payload_bytes; /* preview size, 0..4096 */
  int page_faults;
  int snapshots;
  int pause_enabled;      /* stepping support (issue 6) */
  char cgroup[512];       /* cgroup=PATH: the session's cgroup (root only; perf.c), "" when none: v2, or with pidf= a
                           * v1 freezer cgroup */
  int fault_bpf;          /* bpf=1: sample page faults CPU-wide with a BPF filter on the leaf, not as cgroup events */
  int pidf_parent, pidf_tgid; /* pidf=A/B: task_struct's real_parent and tgid offsets: the BPF filter keeps the
                               * tree's pids, the tree goes into the freezer cgroup= (no leaf); 0 when not given */
};
extern struct ips_config ips_cfg IPS_HIDDEN IPS_HOT_DATA;

/* ---- entering a hook ----
 * Every hook is written as:
 *
 *   ssize_t write(int fd, const void *buf, size_t n) {
 *     IPS_REAL_DECL(write, ssize_t, int, const void *, size_t);
 *     if (!ips_hook_enter()) return real_write(fd, buf, n);   // not tracing, or re-entered from our own code
 *     uint64_t caller = IPS_CALLER();
 *     ... ips_emit(...) / real call / ips_emit(...) ...
 *     IPS_RETURN(r, e);   // leaves the hook with the real call's result and errno
 *   }
 *
 * ips_hook_enter() returns 0 when tracing is off, when this thread is already inside a hook (recursion guard, a
 * __thread flag with initial-exec TLS), or when the thread is the shim's own sender thread. It does not read errno:
 * ips_hook_leave() clears the guard and puts back only what ips_errno_keep() saved (use it to capture the real call's
 * errno before emitting). */
#include <sys/types.h>
struct ips_ring;
struct ips_tls {
  int in_hook;          /* recursion guard */
  int is_sender;        /* the shim's sender thread: every hook passes straight through */
  int saved_errno;
  int errno_kept;
  uint32_t tid;
  int dead;             /* after the thread's key destructor ran: drop */
  struct ips_ring *ring;
  int perf_state;       /* 0 not tried, 1 open, -1 failed */
  int sig_depth;        /* > 0 inside a traced signal handler */
  int *raw_slot;        /* this thread's ring's in_raw word (cancel.c), NULL until the thread has a ring */
};
extern __thread struct ips_tls ips_tls IPS_HIDDEN __attribute__((tls_model("initial-exec")));
void ips_thread_init(void) IPS_HIDDEN;
/* Inline: every hook enters and leaves (two calls fewer per hook). */
static inline __attribute__((always_inline)) int ips_hook_enter(void) {
  if (IPS_UNLIKELY(!ips_cfg.enabled)) return 0;
  /* Two 4-byte loads, not the one 8-byte load the compiler would merge them into: hook_leave's 4-byte store to
   * in_hook is usually still in the store buffer, and a wider load cannot be forwarded from it (a stall per hook). */
  if (*(volatile int *)&ips_tls.in_hook || *(volatile int *)&ips_tls.is_sender) return 0;
  ips_tls.in_hook = 1;
  /* errno is not read here: hook_leave only restores what ips_errno_keep saved (a libc call per hook saved). */
  ips_tls.errno_kept = 0;
  if (IPS_UNLIKELY(!ips_tls.perf_state) && ips_cfg.page_faults) ips_thread_init();
  return 1;
}
static inline __attribute__((always_inline)) void ips_hook_leave(void) {
  if (IPS_UNLIKELY(ips_tls.errno_kept)) errno = ips_tls.saved_errno;
  ips_tls.errno_kept = 0;
  ips_tls.in_hook = 0;
}
/* Optional: right after the real call, keep its errno; ips_hook_leave() then sets errno back to it (ips_emit itself
 * never changes errno, so a hook that emits nothing errno-changing between the real call and leave needs no keep). */
int ips_errno_keep(void) IPS_HIDDEN;
/* Nonzero for fds the shim itself owns (its socket, eventfd, perf fds): close/dup2 hooks should leave them alone. */
int ips_internal_fd(int fd) IPS_HIDDEN;
/* close_range through `real` for [first, last] minus the shim's own fds. */
int ips_close_range_sparing(unsigned first, unsigned last, int flags, int (*real)(unsigned, unsigned, int)) IPS_HIDDEN;

/* Resolve the real symbol once (thread-safe, async-signal-safe after the first call from the constructor). */
void *ips_real(const char *name) IPS_HIDDEN;
void *ips_real_versioned(const char *name, const char *version) IPS_HIDDEN;
#define IPS_REAL_DECL(name, ret, ...)                                                   \
  static ret (*real_##name)(__VA_ARGS__) IPS_HOT_DATA;                                 \
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
uint64_t ips_now_ns(void) IPS_HIDDEN IPS_HOT;   /* CLOCK_MONOTONIC */
uint32_t ips_tid_slow(void) IPS_HIDDEN;      /* gettid, cached */
static inline __attribute__((always_inline)) uint32_t ips_tid(void) {
  return IPS_LIKELY(ips_tls.tid) ? ips_tls.tid : ips_tid_slow();
}

#define IPS_EMIT(KIND, phase, result, err, caller, blob, blob_len, ...)                              \
  do {                                                                                            \
    const uint64_t ips_args_[] = {__VA_ARGS__};                                                   \
    _Static_assert(sizeof(ips_args_) / 8 == IPS_EV_##KIND##_NARGS, "wrong arg count for " #KIND); \
    ips_emit(IPS_EV_##KIND, (phase), (int64_t)(result), (err), (caller), IPS_EV_##KIND##_NARGS,   \
             ips_args_, (blob), (blob_len));                                                      \
  } while (0)
/* Same, stamped ts (taken before the real call: an unlock, signal or post is stamped before the waiter it wakes can
 * stamp the end of its wait, whichever CPU it runs on, so a model reading events in time order sees cause first).
 * No blob. */
void ips_emit_ts(uint64_t ts, uint16_t kind, uint8_t phase, int64_t result, int err, uint64_t caller, unsigned nargs,
                 const uint64_t *args) IPS_HIDDEN;
#define IPS_EMIT_TS(ts, KIND, phase, result, err, caller, ...)                                       \
  do {                                                                                            \
    const uint64_t ips_args_[] = {__VA_ARGS__};                                                   \
    _Static_assert(sizeof(ips_args_) / 8 == IPS_EV_##KIND##_NARGS, "wrong arg count for " #KIND); \
    ips_emit_ts((ts), IPS_EV_##KIND, (phase), (int64_t)(result), (err), (caller), IPS_EV_##KIND##_NARGS, ips_args_); \
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
  uint8_t nonblock; /* O_NONBLOCK status flag as last seen (open flags, F_SETFL, SOCK_NONBLOCK, fstat miss) */
  uint8_t peer_tries; /* sock_diag lookups left for a Unix peer not known yet (a connect()ed socket's peer has
                        no inode until the server accept()s it) */
};
/* Looks the fd up, filling the cache with fstat (and getsockopt for sockets) on a miss. Returns 0 or -1 (bad fd). */
int ips_fd_info(int fd, struct ips_fdinfo *out) IPS_HIDDEN IPS_HOT;
void ips_fd_set(int fd, const struct ips_fdinfo *info) IPS_HIDDEN;
void ips_fd_forget(int fd) IPS_HIDDEN;
void ips_fd_forget_all(void) IPS_HIDDEN; /* after exec the new image starts empty anyway; used by tests */
void ips_fd_forget_range(unsigned first, unsigned last) IPS_HIDDEN; /* close_range, closefrom */
/* Payload preview helper: how many bytes to copy (min(len, ips_cfg.payload_bytes)); sets *truncated. Inline: the
 * read/write hooks ask twice per call. */
#define IPS_PREVIEW_MAX 4096
static inline uint32_t ips_preview_len(size_t len, int *truncated) {
  size_t cap = ips_cfg.payload_bytes < IPS_PREVIEW_MAX ? ips_cfg.payload_bytes : IPS_PREVIEW_MAX; /* stack buffers */
  size_t n = len < cap ? len : cap;
  if (truncated) *truncated = cap && len > n; /* previews off (payload=0) is not a truncated preview */
  return (uint32_t)n;
}

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
extern volatile int ips_pause_armed IPS_HIDDEN IPS_HOT_DATA;
void ips_pause_point_slow(uint16_t kind, uint64_t caller) IPS_HIDDEN;
/* Or'ed into kind at a second pause point once a lock turned out to be contended (the "lock contended" filter). */
#define IPS_PAUSE_CONTENDED 0x8000
#define IPS_PAUSE_POINT(KIND, caller) \
  do { if (IPS_UNLIKELY(ips_pause_armed)) ips_pause_point_slow(IPS_EV_##KIND, (caller)); } while (0)
/* pause.c: the runtime's COMMAND dispatcher passes every command it does not handle itself (args: the 4 u64 words,
 * unaligned). Fills json with the REPLY body and returns its status (ENOTSUP for commands pause.c does not know). */
int ips_pause_command(uint32_t cmd, const uint8_t *args, char *json, size_t cap) IPS_HIDDEN;
void ips_pause_fork_child(void) IPS_HIDDEN; /* after a fork child connected: hold it at its first call (pause=2) */

/* ---- helpers shared by the IPC hook families (fdtable.c, hooks_*.c) ---- */
/* Classify an fd from scratch (fstat, fstatfs, getsockopt, sock_diag for Unix peers); no caching. 0 or -1. */
int ips_fd_probe(int fd, struct ips_fdinfo *out) IPS_HIDDEN;
/* Looks up fd; on a bad fd fills *out with zeros (otype unknown) so callers can always emit. */
void ips_fd_info_or_zero(int fd, struct ips_fdinfo *out) IPS_HIDDEN IPS_HOT;
/* A blocking read/write on a connect()ed Unix socket may have outlived the server's accept: look the peer up again
 * (bounded by peer_tries) so the end event names it. errno is kept. */
void ips_fd_refresh_peer_slow(int fd, struct ips_fdinfo *fi) IPS_HIDDEN;
static inline void ips_fd_refresh_peer(int fd, struct ips_fdinfo *fi) {
  if (IPS_UNLIKELY(fi->otype == IPS_OTYPE_SOCKET_UNIX && !fi->peer && fi->peer_tries)) ips_fd_refresh_peer_slow(fd, fi);
}
/* The peer inode of a Unix socket inode, from NETLINK_SOCK_DIAG (UDIAG_SHOW_PEER), or 0. */
uint64_t ips_unix_peer_ino(uint64_t ino) IPS_HIDDEN;
/* Packed IPv4 address for `addr`/`peer` arguments (docs/events.md), 0 when not AF_INET. */
uint64_t ips_pack_sockaddr(const void *sa, unsigned salen) IPS_HIDDEN;
/* Text form of a socket address (unix:/path, tcp:127.0.0.1:80, udp:[::1]:53) into buf; returns the length. */
uint32_t ips_sockaddr_text(int type, const void *sa, unsigned salen, char *buf, uint32_t cap) IPS_HIDDEN;
/* ips_emit with record flags (IPS_FLAG_PREVIEW_TRUNCATED, IPS_FLAG_NON_BLOCKING); weak so the hooks still link
 * against a runtime that does not provide it yet (the flags are then lost, nothing else). */
void ips_emit_flags(uint16_t kind, uint8_t phase, uint16_t flags, int64_t result, int err, uint64_t caller,
                    unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len)
    IPS_HIDDEN __attribute__((weak));
#define IPS_EMITF(KIND, phase, flags, result, err, caller, blob, blob_len, ...)                       \
  do {                                                                                            \
    const uint64_t ips_args_[] = {__VA_ARGS__};                                                   \
    _Static_assert(sizeof(ips_args_) / 8 == IPS_EV_##KIND##_NARGS, "wrong arg count for " #KIND); \
    if (ips_emit_flags)                                                                           \
      ips_emit_flags(IPS_EV_##KIND, (phase), (flags), (int64_t)(result), (err), (caller),         \
                     IPS_EV_##KIND##_NARGS, ips_args_, (blob), (blob_len));                       \
    else                                                                                          \
      ips_emit(IPS_EV_##KIND, (phase), (int64_t)(result), (err), (caller), IPS_EV_##KIND##_NARGS, \
               ips_args_, (blob), (blob_len));                                                    \
  } while (0)
/* A begin whose end comes from this thread's next ips_end_deferred (runtime.c, "deferred begins"): kept aside and,
 * when the call returns before the sender looked and nothing else was recorded in between, sent with the end as one
 * ring record. The events are the same as ips_emit_flags' begin and end. Returns the ticket for the end (0: the begin
 * went out at once: stepping, Python, a long-idle sender to wake, a handler nested in another deferred call). */
uint64_t ips_begin_deferred(uint16_t kind, uint16_t flags, uint64_t caller, unsigned nargs, const uint64_t *args)
    IPS_HIDDEN IPS_HOT;
void ips_end_deferred(uint64_t ticket, uint16_t kind, uint16_t flags, int64_t result, int err, uint64_t caller,
                      unsigned nargs, const uint64_t *args, const void *blob, uint32_t blob_len) IPS_HIDDEN IPS_HOT;
/* read/write events (same argument layout for both kinds) from an fd-table entry. */
void ips_emit_io(uint16_t kind, uint8_t phase, uint16_t flags, int64_t result, int err, uint64_t caller, int fd,
                 uint64_t count, const struct ips_fdinfo *fi, uint64_t offset, unsigned how, uint64_t peer,
                 const void *blob, uint32_t blob_len) IPS_HIDDEN;
/* The same as a deferred begin and its end (the read, write, send and recv families' hot path). */
#define IPS_IO_ARGS(fd, count, fi, offset, how, peer) \
  {(uint64_t)(int64_t)(fd), (count), (fi)->otype, (fi)->dev, (fi)->ino, (offset), (how), (peer)}
static inline __attribute__((always_inline)) uint64_t ips_io_begin(uint16_t kind, uint16_t flags, uint64_t caller,
    int fd, uint64_t count, const struct ips_fdinfo *fi, uint64_t offset, unsigned how, uint64_t peer) {
  const uint64_t args[] = IPS_IO_ARGS(fd, count, fi, offset, how, peer);
  return ips_begin_deferred(kind, (uint16_t)(flags | (fi->nonblock ? IPS_FLAG_NON_BLOCKING : 0)), caller, 8, args);
}
/* A peer learned since the begin (a refreshed Unix peer, a datagram's sender) makes the end differ: the begin then
 * goes out on its own. */
static inline __attribute__((always_inline)) void ips_io_end(uint64_t ticket, uint16_t kind, uint16_t flags,
    int64_t result, int err, uint64_t caller, int fd, uint64_t count, const struct ips_fdinfo *fi, uint64_t offset,
    unsigned how, uint64_t peer, const void *blob, uint32_t blob_len) {
  const uint64_t args[] = IPS_IO_ARGS(fd, count, fi, offset, how, peer);
  ips_end_deferred(ticket, kind, (uint16_t)(flags | (fi->nonblock ? IPS_FLAG_NON_BLOCKING : 0)), result, err, caller,
                   8, args, blob, blob_len);
}
/* Copies the first min(total, payload_bytes) bytes spread over iov into buf (>= payload_bytes); sets *truncated. */
uint32_t ips_gather_iov(const void *iov, int iovcnt, size_t total, char *buf, int *truncated) IPS_HIDDEN;
/* Leave a hook returning r with errno e (the real call's), whatever our own work did to errno. */
#define IPS_RETURN(r, e) do { ips_hook_leave(); errno = (e); return (r); } while (0)
/* The read/write and send/recv families: the real call's errno, read only when it failed (IPS_IO_ERRNO), and put
 * back only then (IPS_IO_RETURN). A call that succeeded leaves errno alone, and so does everything the hook does
 * after it (the emit path and the peer refresh keep errno), so the two libc calls a save and a restore cost on every
 * event are left out. */
#define IPS_IO_ERRNO(r) ((r) < 0 ? errno : 0)
#define IPS_IO_RETURN(r, e) do { if ((r) < 0) errno = (e); ips_hook_leave(); return (r); } while (0)

/* ---- runtime internals (runtime.c, ws.c, perf.c, pagemap.c, hooks_process.c, hooks_signal.c) ---- */
extern const char ips_shim_version[] IPS_HIDDEN;
int ips_sender_alive(void) IPS_HIDDEN;
int ips_shim_owns(uint64_t start, uint64_t end) IPS_HIDDEN; /* the shim's own memory (snapshots skip it) */
void ips_sender_service(void) IPS_HIDDEN;  /* sender thread only: drain rings and send now */
/* The whole image is ending normally (exit paths): proc_exit, exit snapshot, flush, BYE. Idempotent. */
void ips_finish(int status, int how) IPS_HIDDEN;
/* exec: announce the image end (BYE) when the exec will probably succeed; after a failed exec, reconnect. */
void ips_exec_prepare(void) IPS_HIDDEN;
void ips_exec_failed(void) IPS_HIDDEN;
void ips_emit_mappings(int reason) IPS_HIDDEN;
void ips_emit_shim_info(void) IPS_HIDDEN;
void ips_note_exit(int status, int how) IPS_HIDDEN;   /* exit hooks: status and how for proc_exit */
enum { IPS_MSG_HELLO = 1, IPS_MSG_WELCOME = 2, IPS_MSG_EVENTS = 3, IPS_MSG_COMMAND = 4, IPS_MSG_BYE = 5,
       IPS_MSG_ERROR = 6, IPS_MSG_REPLY = 7 };
char **ips_spawn_env(char *const envp[]) IPS_HIDDEN;  /* like ips_exec_env, origin spawn */
void ips_exec_env_free(char **env) IPS_HIDDEN;
void ips_thread_register(void) IPS_HIDDEN;            /* remember pthread_self() → tid (new threads, main) */
uint32_t ips_thread_tid_of(unsigned long thread) IPS_HIDDEN; /* 0 when unknown */
void ips_dl_scan(void) IPS_HIDDEN;          /* sender: report objects loaded since the last scan (dlopen) */
void ips_dl_fork_prepare(void) IPS_HIDDEN;  /* fork wrapper: keep the sender out of the loader lock */
void ips_dl_fork_done(int child) IPS_HIDDEN;                /* per-thread setup (perf fds); cheap when done */
/* ws.c: RFC 6455 client on 127.0.0.1:port. Returns the fd or -1 with a reason in err. */
int ips_ws_connect(int port, const char *secret, char *err, size_t errlen) IPS_HIDDEN;
/* Sends one binary message: payload at buf + IPS_WS_HEADROOM, len bytes; buf's first IPS_WS_HEADROOM bytes are
 * free for the frame header. Masks in place. Returns 0 or -1. */
#define IPS_WS_HEADROOM 14
int ips_ws_send(int fd, uint8_t *buf, size_t len) IPS_HIDDEN;
extern _Atomic uint64_t ips_ws_sent_bytes IPS_HIDDEN;
/* How long an image waits for the collector's upgrade response, and then for its WELCOME. Generous: on a machine
 * saturated by the traced program (a demo of 100 busy-waiting shells on 2 cores) the collector is one runnable task
 * in a hundred, and at 5 s a third of the demo's short-lived processes went untraced. A collector that is gone
 * refuses the connection at once; only a live but stalled one costs the wait. */
#define IPS_CONNECT_WAIT_S 30
int ips_ws_send_close(int fd) IPS_HIDDEN;
/* Reads what is available (non-blocking); calls on_msg for each complete binary message; answers pings.
 * Returns 0, or -1 when the connection is closed or broken. */
int ips_ws_poll_read(int fd, void (*on_msg)(const uint8_t *msg, size_t len)) IPS_HIDDEN;
/* perf.c */
void ips_perf_init(void) IPS_HIDDEN;        /* process start: probe, remember the error */
void ips_perf_process_open(void) IPS_HIDDEN; /* image start, first thread, before the sender starts */
void ips_perf_thread_open(void) IPS_HIDDEN; /* current thread */
void ips_perf_close_all(void) IPS_HIDDEN;   /* tracing did not start */
void ips_perf_release(void) IPS_HIDDEN;     /* exit, exec without hand-over: stop reading the tree's shared rings */
void ips_perf_exec_failed(void) IPS_HIDDEN;
/* exec (likely to succeed, after BYE): hand the cgroup scope's set to the next image, else ips_perf_release. */
void ips_perf_exec_prepare(void) IPS_HIDDEN;
/* The ";pfset=..." item for the exec'd image's IPCSCOPE after ips_perf_exec_prepare handed the set over; its length
 * (0: none). */
size_t ips_perf_handoff_item(char *buf, size_t cap) IPS_HIDDEN;
void ips_perf_set_join(const char *spec) IPS_HIDDEN; /* pfset= from IPCSCOPE: join that set at image start */
extern uint32_t ips_sender_tid IPS_HIDDEN; /* this image's sender thread, 0 before it starts */
void ips_perf_fork_prepare(void) IPS_HIDDEN;
void ips_perf_fork_parent(int pid) IPS_HIDDEN;
int ips_perf_shared_fds(int *out, int cap) IPS_HIDDEN;
int ips_perf_fds_fixed(void) IPS_HIDDEN;
/* How page faults are sampled, for shim_info: "" (per task, inherited) or a note such as " (cgroup)". */
const char *ips_perf_scope(void) IPS_HIDDEN;
void ips_perf_drain(void) IPS_HIDDEN;       /* sender thread */
void ips_perf_fork_child(void) IPS_HIDDEN;  /* drop the parent's perf fds */
int ips_perf_errno(void) IPS_HIDDEN;
int ips_perf_is_fd(int fd) IPS_HIDDEN;
void ips_perf_thread_gone(uint32_t tid) IPS_HIDDEN;
struct pollfd;
int ips_perf_poll_fds(struct pollfd *out, int cap) IPS_HIDDEN; /* fds the sender polls (woken at half full) */
void ips_count_dropped(uint64_t n) IPS_HIDDEN;                   /* lost elsewhere (perf ring overflow) */
/* pagemap.c */
int ips_pfn_readable(void) IPS_HIDDEN;
/* hooks_signal.c */
void ips_signals_init(void) IPS_HIDDEN;     /* fatal-signal handlers where the program has none */
/* raw syscalls that never go through any hook */
long ips_sys(long n, long a, long b, long c, long d, long e, long f) IPS_HIDDEN;

/* ---- cancellation points without glibc's bracket (cancel.c, which explains why) ---- */
#define IPS_SC_FALLBACK ((long)INT64_MIN)
extern volatile int ips_cancel_seen IPS_HIDDEN IPS_HOT_DATA;
int ips_thread_in_raw(uint32_t tid) IPS_HIDDEN; /* runtime.c: that thread's in_raw word (1 when unknown) */
/* The system call nr with up to six arguments, made here (inline: a `ret` between the `syscall` and the hook would be
 * one more mispredicted return after the kernel refilled the return stack): the kernel's result (-errno on failure),
 * or IPS_SC_FALLBACK when the process has called pthread_cancel or the thread has no ring yet (the caller then calls
 * glibc's function). in_raw is 1 from before the check until the call has returned; the previous value is put back
 * (a hook in a signal handler nested in another's call). x86-64 only. */
static inline long ips_cancellable(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  int *slot = ips_tls.raw_slot;
  long r = IPS_SC_FALLBACK;
  if (IPS_LIKELY(slot != NULL)) {
    int prev = *(volatile int *)slot;
    *(volatile int *)slot = 1;
    if (IPS_LIKELY(!ips_cancel_seen)) {
      register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
      __asm__ volatile("syscall"
                       : "=a"(r)
                       : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                       : "rcx", "r11", "memory");
    }
    *(volatile int *)slot = prev;
  }
  return r;
#else
  (void)nr; (void)a; (void)b; (void)c; (void)d; (void)e; (void)f;
  return IPS_SC_FALLBACK;
#endif
}
/* In a hook of the read/write or send/recv families, instead of the real call: `IPS_CANCELLABLE(ssize_t,
 * real_read(fd, buf, n), SYS_read, fd, buf, n, 0, 0, 0)`. Sets errno like glibc. */
#define IPS_CANCELLABLE(type, realcall, nr, a, b, c, d, e, f)                                                     \
  __extension__({                                                                                                \
    long ips_sc_ = ips_cancellable((nr), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f));      \
    type ips_sr_;                                                                                                \
    if (IPS_UNLIKELY(ips_sc_ == IPS_SC_FALLBACK)) ips_sr_ = (realcall);                                          \
    else if (IPS_UNLIKELY((unsigned long)ips_sc_ > -4096ul)) { errno = (int)-ips_sc_; ips_sr_ = (type)-1; }      \
    else ips_sr_ = (type)ips_sc_;                                                                                \
    ips_sr_;                                                                                                     \
  })

#endif
