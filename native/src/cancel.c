/* Cancellation points without glibc's bracket.
 *
 * In a process with more than one thread (and the shim's sender makes every traced process one), glibc's read,
 * write, send, recv and the rest wrap their system call in __pthread_enable_asynccancel/__pthread_disable_asynccancel
 * (glibc 2.36: two locked compare-and-swaps on the thread's cancelhandling per call, and two more calls) so that a
 * thread blocked in them can be cancelled. Untraced, a single-threaded program skips that bracket: it is ours to
 * pay. And after a system call that blocked, every `ret` to a frame made before it mispredicts (the kernel refills
 * the return stack on a context switch), so a hook that reaches the kernel through glibc's function pays one more
 * than the program alone. The hooks of cancellation points that are one plain system call in glibc (the read/write
 * and send/recv families, connect, accept, poll, epoll_wait/epoll_pwait, mq_send/receive, msgsnd/msgrcv; not ppoll,
 * whose timeout glibc copies, nor the _chk variants' failing case) therefore make the system call themselves, inline
 * (IPS_CANCELLABLE in ipcscope.h), for as long as the process has never called pthread_cancel: no thread can be
 * cancelled then. Measured: docs/architecture.md.
 *
 * From the first pthread_cancel on, every hook calls glibc's function again, which acts on a pending cancellation as
 * before. What is left is a thread already inside our direct call when the first pthread_cancel comes: glibc marks
 * it cancelled but signals only threads in asynchronous mode, and its SIGCANCEL handler is SA_RESTART, so that thread
 * would stay blocked until its call returned. For it, pthread_cancel (hooked here):
 *  - installs, once, a SIGCANCEL handler of ours over glibc's (raw rt_sigaction, same flags, mask and restorer)
 *    that runs glibc's and then, when the thread's in_raw word is set (it was about to enter, or is in, our direct
 *    call), calls pthread_testcancel: the thread is at a cancellation point and is cancelled there, as glibc's
 *    asynchronous mode would have. Like glibc 2.36's bracket, this leaves one window: a signal landing after the
 *    system call returned and before in_raw is cleared (one instruction here) cancels a call that took effect.
 *  - sends the target SIGCANCEL itself when the target is inside our direct call (its ring's in_raw word). The
 *    target stores in_raw and then reads ips_cancel_seen; the canceller stores ips_cancel_seen and then reads in_raw:
 *    a membarrier (private expedited) on the canceller's side makes sure one of them sees the other's store, so the
 *    hot path needs no fence. Where membarrier is refused, the target is signalled whenever it is not the caller.
 * Only x86-64 has the direct path; elsewhere IPS_CANCELLABLE always calls glibc. */
#include "ipcscope.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

IPS_HIDDEN IPS_HOT_DATA volatile int ips_cancel_seen; /* the process called pthread_cancel at least once (inherited by fork) */

#if defined(__x86_64__)
#define SIGCANCEL_NR 32 /* glibc's SIGCANCEL: __SIGRTMIN */
struct kernel_sigaction {
  void (*handler)(int, siginfo_t *, void *);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};
static void (*glibc_sigcancel)(int, siginfo_t *, void *);
static void (*real_testcancel)(void);

static void sigcancel_wrapper(int sig, siginfo_t *si, void *ctx) {
  int saved = errno;
  if (glibc_sigcancel) glibc_sigcancel(sig, si, ctx);
  int *slot = ips_tls.raw_slot;
  if (slot && *(volatile int *)slot && real_testcancel)
    real_testcancel(); /* does not return when the thread is cancelled (and cancellation is enabled) */
  errno = saved;
}

/* After glibc's pthread_cancel installed its handler (it does on its first call): wrap it, once. */
static void wrap_sigcancel(void) {
  static _Atomic int done;
  if (atomic_load(&done)) return;
  struct kernel_sigaction cur;
  if (syscall(SYS_rt_sigaction, SIGCANCEL_NR, NULL, &cur, 8) != 0) return;
  if (cur.handler == sigcancel_wrapper) {
    atomic_store(&done, 1);
    return;
  }
  if (cur.handler == (void *)SIG_DFL || cur.handler == (void *)SIG_IGN || !(cur.flags & SA_SIGINFO)) return;
  glibc_sigcancel = cur.handler;
  struct kernel_sigaction mine = cur;
  mine.handler = sigcancel_wrapper;
  if (syscall(SYS_rt_sigaction, SIGCANCEL_NR, &mine, NULL, 8) == 0) atomic_store(&done, 1);
}

/* Might thread tid be inside a direct call? Asked after our store of ips_cancel_seen (see the top). */
static int target_maybe_in_raw(uint32_t tid) {
  static _Atomic int mb; /* 0 untried, 1 registered, -1 refused */
  int m = atomic_load(&mb);
  if (m == 0) {
    m = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1 : -1;
    atomic_store(&mb, m);
  }
  if (m < 0 || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) return 1;
  return ips_thread_in_raw(tid);
}
#endif

IPS_EXPORT int pthread_cancel(pthread_t t) {
  IPS_REAL_DECL(pthread_cancel, int, pthread_t);
  __atomic_store_n(&ips_cancel_seen, 1, __ATOMIC_SEQ_CST);
  if (!ips_cfg.enabled) return real_pthread_cancel(t); /* no hook makes a direct call then */
  int rc = real_pthread_cancel(t);
#if defined(__x86_64__)
  if (rc == 0 && !pthread_equal(t, pthread_self())) {
    int saved = errno;
    if (!real_testcancel) real_testcancel = (void (*)(void))ips_real("pthread_testcancel");
    wrap_sigcancel();
    uint32_t tid = ips_thread_tid_of((unsigned long)t);
    if (tid && glibc_sigcancel && target_maybe_in_raw(tid))
      syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid), (pid_t)tid, SIGCANCEL_NR);
    errno = saved;
  }
#endif
  return rc;
}
