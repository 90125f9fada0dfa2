/* Signal hooks: sending (kill, tgkill, pthread_kill, raise, sigqueue), dispositions (sigaction, signal, sigset,
 * bsd_signal), masks (sigprocmask, pthread_sigmask), waiting (sigwait, sigwaitinfo, sigtimedwait, sigsuspend, pause),
 * the handler trampoline that makes every delivery a signal_handler span, and the shim's own fatal-signal handler
 * that flushes before the process dies.
 *
 * Installed handlers are wrapped: the program's handler (and whether it wants siginfo) is kept in `user_act`, the
 * kernel gets the trampoline. Reading the old action gives the program's handler back, never the trampoline. */
#include "ipcscope.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NSIGS 65
struct user_action {
  _Atomic(void *) handler; /* the program's handler; SIG_DFL / SIG_IGN pass through */
  _Atomic int siginfo;     /* SA_SIGINFO: call as (sig, info, ucontext) */
  _Atomic int wrapped;     /* the kernel has our trampoline */
  _Atomic int fatal_own;   /* the kernel has the shim's fatal handler (the program has SIG_DFL) */
  _Atomic int resethand;   /* SA_RESETHAND: the kernel puts SIG_DFL back on delivery; so does the table */
};
static struct user_action user_act[NSIGS];

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction_p;
static int real_sigaction(int sig, const struct sigaction *a, struct sigaction *o) {
  if (!real_sigaction_p) real_sigaction_p = (sigaction_fn)ips_real("sigaction");
  return real_sigaction_p(sig, a, o);
}

/* Signals whose default action ends the process and that the shim catches while the program leaves them at
 * SIG_DFL, to report and flush before dying of them: faults and abort, and the polite kills (kill's SIGTERM, Ctrl-C,
 * a closed terminal, a broken pipe, an unexpected alarm or user signal). SIGKILL cannot be caught: there the
 * sender's 1 ms cadence is all. */
static const int fatal_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGTERM, SIGINT,
                                 SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ};
static int is_fatal_sig(int sig) {
  for (size_t i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++)
    if (fatal_sigs[i] == sig) return 1;
  return 0;
}
/* Signals whose default action ends the process. */
static int default_kills(int sig) {
  switch (sig) {
  case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH: case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
    return 0;
  default:
    return sig > 0 && sig < NSIGS;
  }
}
static uint64_t handler_word(void *h) {
  if (h == (void *)SIG_DFL) return 0;
  if (h == (void *)SIG_IGN) return 1;
  return (uint64_t)(uintptr_t)h;
}

/* ---------------------------------------------------------------- delivery */

static void trampoline(int sig, siginfo_t *si, void *uc) {
  int e = errno;
  void *h = sig > 0 && sig < NSIGS ? atomic_load(&user_act[sig].handler) : NULL;
  int want_info = sig > 0 && sig < NSIGS ? atomic_load(&user_act[sig].siginfo) : 0;
  if (sig > 0 && sig < NSIGS && atomic_load(&user_act[sig].resethand)) {
    atomic_store(&user_act[sig].handler, (void *)SIG_DFL);
    atomic_store(&user_act[sig].wrapped, 0);
    atomic_store(&user_act[sig].resethand, 0);
  }
  int saved_in_hook = ips_tls.in_hook;
  /* The handler's own calls are traced even when the signal arrived inside a hook. */
  ips_tls.in_hook = 0;
  ips_tls.sig_depth++;
  if (ips_cfg.enabled && !ips_tls.is_sender)
    IPS_EMIT(SIGNAL_HANDLER, IPS_PHASE_BEGIN, 0, 0, (uint64_t)(uintptr_t)h, NULL, 0, (uint64_t)sig,
             (uint64_t)(si ? si->si_pid : 0), (uint64_t)(si ? si->si_uid : 0), (uint64_t)(int64_t)(si ? si->si_code : 0),
             handler_word(h));
  if (ips_cfg.enabled && !ips_tls.is_sender) IPS_PAUSE_POINT(SIGNAL_HANDLER, (uint64_t)(uintptr_t)h); /* stepping */
  errno = e;
  if (h == (void *)SIG_IGN) {
  } else if (h == (void *)SIG_DFL || !h) {
    /* Raced with a change back to SIG_DFL: do what the default would do. */
    struct sigaction d;
    memset(&d, 0, sizeof d);
    d.sa_handler = SIG_DFL;
    real_sigaction(sig, &d, NULL);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
  } else if (want_info) {
    ((void (*)(int, siginfo_t *, void *))h)(sig, si, uc);
  } else {
    ((void (*)(int))h)(sig);
  }
  e = errno;
  if (ips_cfg.enabled && !ips_tls.is_sender)
    IPS_EMIT(SIGNAL_HANDLER, IPS_PHASE_END, 0, 0, (uint64_t)(uintptr_t)h, NULL, 0, (uint64_t)sig,
             (uint64_t)(si ? si->si_pid : 0), (uint64_t)(si ? si->si_uid : 0), (uint64_t)(int64_t)(si ? si->si_code : 0),
             handler_word(h));
  ips_tls.sig_depth--;
  ips_tls.in_hook = saved_in_hook;
  errno = e;
}

/* The program has no handler for a fatal signal: record it, flush, and die of it as the program would have. */
static void fatal_handler(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  ips_tls.in_hook = 1;
  if (ips_cfg.enabled) {
    int fault = sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP;
    IPS_EMIT(FATAL_SIGNAL, IPS_PHASE_INSTANT, 0, 0, 0, NULL, 0, (uint64_t)sig,
             (uint64_t)(uintptr_t)(si && fault ? si->si_addr : 0), (uint64_t)(int64_t)(si ? si->si_code : 0));
    IPS_EMIT(PROC_EXIT, IPS_PHASE_INSTANT, 0, 0, 0, NULL, 0, (uint64_t)sig, (uint64_t)IPS_EXIT_HOW_FATAL_SIGNAL);
    ips_flush_sync();
  }
  /* SA_RESETHAND already restored SIG_DFL; SA_NODEFER lets the re-raise through at once. A fault re-executes
   * the faulting instruction anyway. */
  struct sigaction d;
  memset(&d, 0, sizeof d);
  d.sa_handler = SIG_DFL;
  real_sigaction(sig, &d, NULL);
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

static void install_fatal(int sig) {
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_sigaction = fatal_handler;
  a.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&a.sa_mask);
  if (real_sigaction(sig, &a, NULL) == 0) atomic_store(&user_act[sig].fatal_own, 1);
}

void ips_signals_init(void) {
  for (size_t i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++) {
    struct sigaction old;
    if (real_sigaction(fatal_sigs[i], NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
      install_fatal(fatal_sigs[i]);
  }
}

/* ---------------------------------------------------------------- dispositions */

/* The common path of sigaction/signal/sigset/bsd_signal. Returns like sigaction; *old_user gets the program's view. */
static int set_action(int sig, const struct sigaction *act, struct sigaction *old) {
  if (sig <= 0 || sig >= NSIGS || sig == SIGKILL || sig == SIGSTOP) return real_sigaction(sig, act, old);
  struct user_action *u = &user_act[sig];
  void *prev_handler = atomic_load(&u->handler);
  int prev_info = atomic_load(&u->siginfo), prev_wrapped = atomic_load(&u->wrapped), prev_fatal = atomic_load(&u->fatal_own);
  struct sigaction kold;
  int r;
  if (!act) {
    r = real_sigaction(sig, NULL, &kold);
  } else {
    void *h = (act->sa_flags & SA_SIGINFO) ? (void *)act->sa_sigaction : (void *)act->sa_handler;
    if (h == (void *)SIG_DFL && is_fatal_sig(sig)) {
      /* Keep (or put back) the shim's fatal handler; the program sees SIG_DFL. */
      struct sigaction a;
      memset(&a, 0, sizeof a);
      a.sa_sigaction = fatal_handler;
      a.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
      r = real_sigaction(sig, &a, &kold);
      if (r == 0) {
        atomic_store(&u->handler, (void *)SIG_DFL);
        atomic_store(&u->siginfo, 0);
        atomic_store(&u->wrapped, 0);
        atomic_store(&u->fatal_own, 1);
      }
    } else if (h == (void *)SIG_DFL || h == (void *)SIG_IGN) {
      r = real_sigaction(sig, act, &kold);
      if (r == 0) {
        atomic_store(&u->handler, h);
        atomic_store(&u->siginfo, 0);
        atomic_store(&u->wrapped, 0);
        atomic_store(&u->fatal_own, 0);
      }
    } else {
      /* Record the handler before the kernel can deliver to the trampoline. */
      atomic_store(&u->handler, h);
      atomic_store(&u->siginfo, (act->sa_flags & SA_SIGINFO) != 0);
      atomic_store(&u->resethand, (act->sa_flags & SA_RESETHAND) != 0);
      struct sigaction a = *act;
      a.sa_sigaction = trampoline;
      a.sa_flags |= SA_SIGINFO;
      r = real_sigaction(sig, &a, &kold);
      if (r == 0) {
        atomic_store(&u->wrapped, 1);
        atomic_store(&u->fatal_own, 0);
      } else {
        atomic_store(&u->handler, prev_handler);
        atomic_store(&u->siginfo, prev_info);
      }
    }
  }
  if (r == 0 && old) {
    *old = kold;
    if (prev_wrapped) {
      if (prev_info) old->sa_sigaction = (void (*)(int, siginfo_t *, void *))prev_handler;
      else { old->sa_handler = (void (*)(int))prev_handler; old->sa_flags &= ~SA_SIGINFO; }
    } else if (prev_fatal) {
      memset(old, 0, sizeof *old);
      old->sa_handler = SIG_DFL;
    }
  }
  return r;
}

static void *action_handler(const struct sigaction *a) {
  if (!a) return NULL;
  return (a->sa_flags & SA_SIGINFO) ? (void *)a->sa_sigaction : (void *)a->sa_handler;
}

IPS_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
  if (!ips_cfg.enabled || ips_tls.is_sender) return real_sigaction(sig, act, old);
  int traced = ips_hook_enter();
  uint64_t caller = IPS_CALLER();
  struct sigaction o;
  int r = set_action(sig, act, &o);
  int e = errno;
  if (r == 0 && old) *old = o;
  if (traced) {
    if (act)
      IPS_EMIT(SIGACTION, IPS_PHASE_INSTANT, r, r ? e : 0, caller, NULL, 0, (uint64_t)sig, handler_word(action_handler(act)),
               (uint64_t)act->sa_flags, r ? 0 : handler_word(action_handler(&o)), (uint64_t)IPS_SIGACTION_HOW_SIGACTION);
    ips_hook_leave();
  }
  errno = e;
  return r;
}

static sighandler_t signal_common(int sig, sighandler_t h, int flags, int how, uint64_t caller) {
  int traced = ips_hook_enter();
  struct sigaction a, o;
  memset(&a, 0, sizeof a);
  a.sa_handler = h;
  a.sa_flags = flags;
  sigemptyset(&a.sa_mask);
  int r = set_action(sig, &a, &o);
  int e = errno;
  if (traced) {
    IPS_EMIT(SIGACTION, IPS_PHASE_INSTANT, r, r ? e : 0, caller, NULL, 0, (uint64_t)sig, handler_word((void *)h),
             (uint64_t)flags, r ? 0 : handler_word(action_handler(&o)), (uint64_t)how);
    ips_hook_leave();
  }
  errno = e;
  return r ? SIG_ERR : (sighandler_t)action_handler(&o);
}

IPS_EXPORT sighandler_t signal(int sig, sighandler_t h) {
  IPS_REAL_DECL(signal, sighandler_t, int, sighandler_t);
  if (!ips_cfg.enabled || ips_tls.is_sender) return real_signal(sig, h);
  return signal_common(sig, h, SA_RESTART, IPS_SIGACTION_HOW_SIGNAL, IPS_CALLER()); /* glibc: BSD semantics */
}
IPS_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h) {
  IPS_REAL_DECL(bsd_signal, sighandler_t, int, sighandler_t);
  if (!ips_cfg.enabled || ips_tls.is_sender) return real_bsd_signal(sig, h);
  return signal_common(sig, h, SA_RESTART, IPS_SIGACTION_HOW_BSD_SIGNAL, IPS_CALLER());
}
IPS_EXPORT sighandler_t sigset(int sig, sighandler_t h) {
  IPS_REAL_DECL(sigset, sighandler_t, int, sighandler_t);
  /* SIG_HOLD changes the mask, not the handler: leave it to libc. */
  if (!ips_cfg.enabled || ips_tls.is_sender || h == SIG_HOLD) return real_sigset(sig, h);
  return signal_common(sig, h, 0, IPS_SIGACTION_HOW_SIGSET, IPS_CALLER());
}

/* ---------------------------------------------------------------- sending */

/* Would this signal, sent to this process, end it before the hook could report? Then report and flush first. */
static int kills_self(int sig) {
  if (sig <= 0 || sig >= NSIGS) return 0;
  if (sig == SIGKILL) return 1;
  if (!default_kills(sig)) return 0;
  struct sigaction k;
  if (real_sigaction(sig, NULL, &k) != 0) return 0;
  if (k.sa_handler != SIG_DFL) return 0; /* the program's handler, SIG_IGN, or the shim's fatal handler (flushes) */
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  return !sigismember(&cur, sig);
}
static int targets_self(pid_t pid) {
  pid_t me = getpid();
  return pid == me || pid == 0 || pid == -1 || pid == -getpgrp();
}

IPS_EXPORT int kill(pid_t pid, int sig) {
  IPS_REAL_DECL(kill, int, pid_t, int);
  if (!ips_hook_enter()) return real_kill(pid, sig);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(KILL, caller);
  if (targets_self(pid) && kills_self(sig)) {
    IPS_EMIT(KILL, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)pid, (uint64_t)sig);
    IPS_EMIT(PROC_EXIT, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)sig, (uint64_t)IPS_EXIT_HOW_FATAL_SIGNAL);
    ips_flush_sync();
    int r = real_kill(pid, sig);
    ips_hook_leave();
    return r;
  }
  int r = real_kill(pid, sig);
  int e = ips_errno_keep();
  IPS_EMIT(KILL, IPS_PHASE_INSTANT, r, r ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)pid, (uint64_t)sig);
  ips_hook_leave();
  return r;
}

IPS_EXPORT int raise(int sig) {
  IPS_REAL_DECL(raise, int, int);
  if (!ips_hook_enter()) return real_raise(sig);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(RAISE, caller);
  if (kills_self(sig)) {
    IPS_EMIT(RAISE, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)sig);
    IPS_EMIT(PROC_EXIT, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)sig, (uint64_t)IPS_EXIT_HOW_FATAL_SIGNAL);
    ips_flush_sync();
    int r = real_raise(sig);
    ips_hook_leave();
    return r;
  }
  /* Emit first: with a handler, the delivery (signal_handler span) happens inside the call. */
  IPS_EMIT(RAISE, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)sig);
  ips_hook_leave();
  return real_raise(sig);
}

static int tgkill_common(pid_t tgid, pid_t tid, int sig, int r, int e, uint64_t caller) {
  IPS_EMIT(TGKILL, IPS_PHASE_INSTANT, r, r ? e : 0, caller, NULL, 0, (uint64_t)tgid, (uint64_t)tid, (uint64_t)sig);
  return r;
}
IPS_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig) {
  IPS_REAL_DECL(tgkill, int, pid_t, pid_t, int);
  if (!ips_hook_enter()) return real_tgkill(tgid, tid, sig);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(TGKILL, caller);
  if (tgid == getpid() && kills_self(sig)) {
    tgkill_common(tgid, tid, sig, 0, 0, caller);
    ips_flush_sync();
  }
  int r = real_tgkill(tgid, tid, sig);
  int e = ips_errno_keep();
  tgkill_common(tgid, tid, sig, r, e, caller);
  ips_hook_leave();
  return r;
}
IPS_EXPORT int pthread_kill(pthread_t t, int sig) {
  IPS_REAL_DECL(pthread_kill, int, pthread_t, int);
  if (!ips_hook_enter()) return real_pthread_kill(t, sig);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(TGKILL, caller);
  /* The target's kernel tid, known for threads the shim saw start (0 when not). */
  pid_t target = (pid_t)ips_thread_tid_of((unsigned long)t);
  if (kills_self(sig)) {
    tgkill_common(getpid(), target, sig, 0, 0, caller);
    ips_flush_sync();
  }
  int r = real_pthread_kill(t, sig);
  tgkill_common(getpid(), target, sig, r ? -1 : 0, r, caller);
  ips_hook_leave();
  return r;
}
IPS_EXPORT int sigqueue(pid_t pid, int sig, const union sigval value) {
  IPS_REAL_DECL(sigqueue, int, pid_t, int, const union sigval);
  if (!ips_hook_enter()) return real_sigqueue(pid, sig, value);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SIGQUEUE, caller);
  if (pid == getpid() && kills_self(sig)) {
    IPS_EMIT(SIGQUEUE, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)pid, (uint64_t)sig,
             (uint64_t)(uintptr_t)value.sival_ptr);
    ips_flush_sync();
  }
  int r = real_sigqueue(pid, sig, value);
  int e = ips_errno_keep();
  IPS_EMIT(SIGQUEUE, IPS_PHASE_INSTANT, r, r ? e : 0, caller, NULL, 0, (uint64_t)pid, (uint64_t)sig,
           (uint64_t)(uintptr_t)value.sival_ptr);
  ips_hook_leave();
  return r;
}

/* ---------------------------------------------------------------- masks */

static uint64_t set_bits(const sigset_t *s) {
  /* glibc keeps signal n at bit n-1 of the first word: the first 64 signals in one load. */
  uint64_t b = 0;
  if (s) memcpy(&b, s, sizeof b);
  return b;
}
IPS_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  IPS_REAL_DECL(sigprocmask, int, int, const sigset_t *, sigset_t *);
  if (!ips_hook_enter()) return real_sigprocmask(how, set, old);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SIGPROCMASK, caller);
  sigset_t o;
  int r = real_sigprocmask(how, set, &o);
  int e = ips_errno_keep();
  if (old && r == 0) *old = o;
  IPS_EMIT(SIGPROCMASK, IPS_PHASE_INSTANT, r, r ? e : 0, caller, NULL, 0, (uint64_t)how, set_bits(set),
           r ? 0 : set_bits(&o));
  ips_hook_leave();
  return r;
}
IPS_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  IPS_REAL_DECL(pthread_sigmask, int, int, const sigset_t *, sigset_t *);
  if (!ips_hook_enter()) return real_pthread_sigmask(how, set, old);
  uint64_t caller = IPS_CALLER();
  IPS_PAUSE_POINT(SIGPROCMASK, caller);
  sigset_t o;
  int r = real_pthread_sigmask(how, set, &o);
  if (old && r == 0) *old = o;
  IPS_EMIT(SIGPROCMASK, IPS_PHASE_INSTANT, r ? -1 : 0, r, caller, NULL, 0, (uint64_t)how, set_bits(set),
           r ? 0 : set_bits(&o));
  ips_hook_leave();
  return r;
}

/* ---------------------------------------------------------------- waiting */

#define SIGWAIT_SPAN(how, sig_expr, call, ret_t)                                                              \
  IPS_EMIT(SIGWAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)(how), 0);                              \
  IPS_PAUSE_POINT(SIGWAIT, caller);                                                                           \
  ret_t r = call;                                                                                             \
  int e = ips_errno_keep();                                                                                   \
  IPS_EMIT(SIGWAIT, IPS_PHASE_END, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(how), (uint64_t)(sig_expr)); \
  ips_hook_leave();                                                                                           \
  return r

IPS_EXPORT int sigwait(const sigset_t *set, int *sig) {
  IPS_REAL_DECL(sigwait, int, const sigset_t *, int *);
  if (!ips_hook_enter()) return real_sigwait(set, sig);
  uint64_t caller = IPS_CALLER();
  IPS_EMIT(SIGWAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)IPS_SIGWAIT_HOW_SIGWAIT, 0);
  IPS_PAUSE_POINT(SIGWAIT, caller);
  int r = real_sigwait(set, sig);
  IPS_EMIT(SIGWAIT, IPS_PHASE_END, r ? -1 : 0, r, caller, NULL, 0, (uint64_t)IPS_SIGWAIT_HOW_SIGWAIT,
           (uint64_t)(r ? 0 : *sig));
  ips_hook_leave();
  return r;
}
IPS_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  IPS_REAL_DECL(sigwaitinfo, int, const sigset_t *, siginfo_t *);
  if (!ips_hook_enter()) return real_sigwaitinfo(set, info);
  uint64_t caller = IPS_CALLER();
  SIGWAIT_SPAN(IPS_SIGWAIT_HOW_SIGWAITINFO, r > 0 ? r : 0, real_sigwaitinfo(set, info), int);
}
IPS_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
  IPS_REAL_DECL(sigtimedwait, int, const sigset_t *, siginfo_t *, const struct timespec *);
  if (!ips_hook_enter()) return real_sigtimedwait(set, info, ts);
  uint64_t caller = IPS_CALLER();
  SIGWAIT_SPAN(IPS_SIGWAIT_HOW_SIGTIMEDWAIT, r > 0 ? r : 0, real_sigtimedwait(set, info, ts), int);
}
IPS_EXPORT int sigsuspend(const sigset_t *mask) {
  IPS_REAL_DECL(sigsuspend, int, const sigset_t *);
  if (!ips_hook_enter()) return real_sigsuspend(mask);
  uint64_t caller = IPS_CALLER();
  /* The hook guard stays off while waiting so the handler that ends the wait is traced. */
  ips_tls.in_hook = 0;
  IPS_EMIT(SIGWAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)IPS_SIGWAIT_HOW_SIGSUSPEND, 0);
  IPS_PAUSE_POINT(SIGWAIT, caller);
  int r = real_sigsuspend(mask);
  int e = errno;
  IPS_EMIT(SIGWAIT, IPS_PHASE_END, r, e, caller, NULL, 0, (uint64_t)IPS_SIGWAIT_HOW_SIGSUSPEND, 0);
  errno = e;
  return r;
}
IPS_EXPORT int pause(void) {
  IPS_REAL_DECL(pause, int, void);
  if (!ips_hook_enter()) return real_pause();
  uint64_t caller = IPS_CALLER();
  ips_tls.in_hook = 0;
  IPS_EMIT(SIGWAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)IPS_SIGWAIT_HOW_PAUSE, 0);
  IPS_PAUSE_POINT(SIGWAIT, caller);
  int r = real_pause();
  int e = errno;
  IPS_EMIT(SIGWAIT, IPS_PHASE_END, r, e, caller, NULL, 0, (uint64_t)IPS_SIGWAIT_HOW_PAUSE, 0);
  errno = e;
  return r;
}
