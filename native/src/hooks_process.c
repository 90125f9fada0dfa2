/* Process and thread life cycle hooks: fork/vfork/_Fork, posix_spawn(p), the exec family, the wait family, the exit
 * family, pthread_create/pthread_exit, dlopen, and __libc_start_main (to learn main's return value).
 * clone() is not interposed: a raw clone child shares or copies the shim's state in ways no wrapper can repair
 * (CLONE_VM without a new TLS); programs that use it directly are traced only in their original process. */
#include "ipcscope.h"

#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdio.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---------------------------------------------------------------- fork */

static pid_t fork_common(int how, uint64_t caller) {
  IPS_REAL_DECL(fork, pid_t, void);
  if (!ips_hook_enter()) return real_fork();
  IPS_PAUSE_POINT(FORK, caller);
  ips_dl_fork_prepare();
  ips_fork_prepare();
  pid_t pid = real_fork();
  ips_errno_keep();
  ips_dl_fork_done(pid == 0);
  if (pid == 0) {
    ips_fork_child();
    if (ips_cfg.enabled && ips_cfg.snapshots) ips_snapshot(IPS_SNAPSHOT_REASON_FORK_CHILD);
  } else {
    ips_fork_parent();
    ips_perf_fork_parent(pid);
    IPS_EMIT(FORK, IPS_PHASE_INSTANT, pid, pid < 0 ? ips_errno_keep() : 0, caller, NULL, 0, (uint64_t)how);
    if (pid > 0 && ips_cfg.snapshots) ips_snapshot(IPS_SNAPSHOT_REASON_FORK_PARENT);
  }
  ips_hook_leave();
  return pid;
}

IPS_EXPORT pid_t fork(void) { return fork_common(IPS_FORK_HOW_FORK, IPS_CALLER()); }
/* vfork runs as fork: a wrapper cannot share the parent's stack safely. */
IPS_EXPORT pid_t vfork(void) { return fork_common(IPS_FORK_HOW_VFORK, IPS_CALLER()); }
IPS_EXPORT pid_t _Fork(void) { return fork_common(IPS_FORK_HOW_FORK, IPS_CALLER()); }

/* ---------------------------------------------------------------- posix_spawn */

static int spawn_common(int how, pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[], uint64_t caller) {
  typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                          char *const[], char *const[]);
  static spawn_fn real_spawn, real_spawnp;
  if (!real_spawn) real_spawn = (spawn_fn)ips_real("posix_spawn");
  if (!real_spawnp) real_spawnp = (spawn_fn)ips_real("posix_spawnp");
  spawn_fn fn = how == IPS_SPAWN_HOW_POSIX_SPAWNP ? real_spawnp : real_spawn;
  if (!ips_hook_enter()) return fn(pid, path, fa, attr, argv, envp);
  pid_t local;
  if (!pid) pid = &local;
  IPS_PAUSE_POINT(SPAWN, caller);
  char *const *given = envp ? envp : environ;
  char **env = ips_spawn_env(given);
  int r = fn(pid, path, fa, attr, argv, env);
  if (env != (char **)given) ips_exec_env_free(env);
  IPS_EMIT(SPAWN, IPS_PHASE_INSTANT, r ? -1 : 0, r, caller, path, (uint32_t)strlen(path), (uint64_t)(r ? 0 : *pid),
           (uint64_t)how);
  ips_hook_leave();
  return r;
}
IPS_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]) {
  return spawn_common(IPS_SPAWN_HOW_POSIX_SPAWN, pid, path, fa, attr, argv, envp, IPS_CALLER());
}
IPS_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]) {
  return spawn_common(IPS_SPAWN_HOW_POSIX_SPAWNP, pid, file, fa, attr, argv, envp, IPS_CALLER());
}

/* ---------------------------------------------------------------- exec */

/* Would an exec of this file find an executable? Shells try every PATH entry with execve; only the one that will
 * work ends the connection (BYE) first, the failing probes are just events. */
static int executable(const char *path) { return syscall(SYS_faccessat, AT_FDCWD, path, X_OK) == 0; }
static int exec_likely(const char *file, int search) {
  if (!file || !*file) return 0;
  if (!search || strchr(file, '/')) return executable(file);
  const char *p = getenv("PATH");
  if (!p) p = "/bin:/usr/bin";
  char buf[PATH_MAX];
  while (*p) {
    const char *e = strchr(p, ':');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    if (l + strlen(file) + 2 < sizeof buf) {
      memcpy(buf, p, l);
      if (!l) buf[l++] = '.';
      buf[l] = '/';
      strcpy(buf + l + 1, file);
      if (executable(buf)) return 1;
    }
    if (!e) break;
    p = e + 1;
  }
  return 0;
}

static uint32_t exec_blob(char *blob, size_t cap, const char *path, char *const argv[]) {
  size_t o = 0;
  size_t l = path ? strlen(path) : 0;
  if (l >= cap) l = cap - 1;
  memcpy(blob, path ? path : "", l);
  o = l;
  for (size_t i = 0; argv && argv[i] && o + 1 < cap; i++) {
    blob[o++] = 0;
    size_t al = strlen(argv[i]);
    if (al > cap - o) al = cap - o;
    memcpy(blob + o, argv[i], al);
    o += al;
  }
  return (uint32_t)o;
}

enum { EX_PATH, EX_SEARCH, EX_FD, EX_AT };
typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

static int exec_common(int how, int kind, int fd, const char *path, char *const argv[], char *const envp[], int flags,
                       uint64_t caller) {
  static execve_fn real_execve, real_execvpe;
  static fexecve_fn real_fexecve;
  static execveat_fn real_execveat;
  if (!real_execve) {
    real_execve = (execve_fn)ips_real("execve");
    real_execvpe = (execve_fn)ips_real("execvpe");
    real_fexecve = (fexecve_fn)ips_real("fexecve");
    real_execveat = (execveat_fn)ips_real("execveat");
  }
  int traced = ips_hook_enter();
  char **env = (char **)envp;
  if (traced) {
    static __thread char blob[4096] __attribute__((tls_model("initial-exec")));
    uint32_t bl = exec_blob(blob, sizeof blob, path, argv);
    IPS_EMIT(EXEC, IPS_PHASE_BEGIN, 0, 0, caller, blob, bl, (uint64_t)how, (uint64_t)(int64_t)fd);
    IPS_PAUSE_POINT(EXEC, caller); /* before the BYE below: a held exec is still on its connection */
    int likely = kind == EX_FD || kind == EX_AT ? 1 : exec_likely(path, kind == EX_SEARCH);
    if (likely) ips_exec_prepare(); /* flush, then BYE: this image's connection ends here */
    else ips_flush_sync();
    env = ips_exec_env(envp); /* after ips_exec_prepare: it may hand the page-fault set to the next image */
  } else if (ips_cfg.enabled) {
    env = ips_exec_env(envp); /* still keep descendants traced */
  }
  int r;
  if (kind == EX_SEARCH) r = real_execvpe(path, argv, env);
  else if (kind == EX_FD) r = real_fexecve(fd, argv, env);
  else if (kind == EX_AT) r = real_execveat(fd, path, argv, env, flags);
  else r = real_execve(path, argv, env);
  int e = errno;
  if (env != envp) ips_exec_env_free(env);
  if (traced) {
    IPS_EMIT(EXEC, IPS_PHASE_END, r, e, caller, NULL, 0, (uint64_t)how, (uint64_t)(int64_t)fd);
    ips_exec_failed(); /* after the end event: the new connection's HELLO comes after it */
    ips_hook_leave();
  }
  errno = e;
  return r;
}

IPS_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  return exec_common(IPS_EXEC_HOW_EXECVE, EX_PATH, -1, path, argv, envp, 0, IPS_CALLER());
}
IPS_EXPORT int execv(const char *path, char *const argv[]) {
  return exec_common(IPS_EXEC_HOW_EXECV, EX_PATH, -1, path, argv, environ, 0, IPS_CALLER());
}
IPS_EXPORT int execvp(const char *file, char *const argv[]) {
  return exec_common(IPS_EXEC_HOW_EXECVP, EX_SEARCH, -1, file, argv, environ, 0, IPS_CALLER());
}
IPS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  return exec_common(IPS_EXEC_HOW_EXECVPE, EX_SEARCH, -1, file, argv, envp, 0, IPS_CALLER());
}
IPS_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  return exec_common(IPS_EXEC_HOW_FEXECVE, EX_FD, fd, NULL, argv, envp, 0, IPS_CALLER());
}
IPS_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags) {
  return exec_common(IPS_EXEC_HOW_EXECVEAT, EX_AT, dirfd, path, argv, envp, flags, IPS_CALLER());
}

#define MAX_LIST_ARGS 4096
/* argv from an execl-style list (the first argument is passed separately); envp follows the NULL for execle. */
static void collect_args(const char *first, va_list *ap, char **argv, char ***envp_out) {
  size_t n = 0;
  argv[n++] = (char *)first;
  while (argv[n - 1] && n < MAX_LIST_ARGS - 1) argv[n++] = va_arg(*ap, char *);
  argv[n] = NULL;
  if (envp_out) *envp_out = va_arg(*ap, char **);
}
#define COLLECT_ARGS(first, ap, argv, envp_out) collect_args((first), &(ap), (argv), (envp_out))

IPS_EXPORT int execl(const char *path, const char *arg, ...) {
  char *argv[MAX_LIST_ARGS];
  va_list ap;
  va_start(ap, arg);
  COLLECT_ARGS(arg, ap, argv, (char ***)NULL);
  va_end(ap);
  return exec_common(IPS_EXEC_HOW_EXECL, EX_PATH, -1, path, argv, environ, 0, IPS_CALLER());
}
IPS_EXPORT int execlp(const char *file, const char *arg, ...) {
  char *argv[MAX_LIST_ARGS];
  va_list ap;
  va_start(ap, arg);
  COLLECT_ARGS(arg, ap, argv, (char ***)NULL);
  va_end(ap);
  return exec_common(IPS_EXEC_HOW_EXECLP, EX_SEARCH, -1, file, argv, environ, 0, IPS_CALLER());
}
IPS_EXPORT int execle(const char *path, const char *arg, ...) {
  char *argv[MAX_LIST_ARGS];
  char **envp = NULL;
  va_list ap;
  va_start(ap, arg);
  COLLECT_ARGS(arg, ap, argv, &envp);
  va_end(ap);
  return exec_common(IPS_EXEC_HOW_EXECLE, EX_PATH, -1, path, argv, envp, 0, IPS_CALLER());
}

/* ---------------------------------------------------------------- wait */

#define WAIT_HOOK(how, pid_arg, opts, call, statusp)                                                          \
  int st_ = 0;                                                                                                \
  if (!statusp) statusp = &st_;                                                                               \
  IPS_EMIT(WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)(pid_arg), (uint64_t)(opts), 0,    \
           (uint64_t)(how));                                                                                  \
  IPS_PAUSE_POINT(WAIT, caller);                                                                              \
  pid_t r = call;                                                                                             \
  int e = ips_errno_keep();                                                                                   \
  IPS_EMIT(WAIT, IPS_PHASE_END, r, r < 0 ? e : 0, caller, NULL, 0, (uint64_t)(int64_t)(pid_arg),              \
           (uint64_t)(opts), (uint64_t)(r > 0 ? (uint32_t)*statusp : 0), (uint64_t)(how));                    \
  ips_hook_leave();                                                                                           \
  return r

IPS_EXPORT pid_t wait(int *status) {
  IPS_REAL_DECL(wait4, pid_t, pid_t, int *, int, struct rusage *);
  if (!ips_hook_enter()) return real_wait4(-1, status, 0, NULL);
  uint64_t caller = IPS_CALLER();
  WAIT_HOOK(IPS_WAIT_HOW_WAIT, -1, 0, real_wait4(-1, status, 0, NULL), status);
}
IPS_EXPORT pid_t waitpid(pid_t pid, int *status, int options) {
  IPS_REAL_DECL(waitpid, pid_t, pid_t, int *, int);
  if (!ips_hook_enter()) return real_waitpid(pid, status, options);
  uint64_t caller = IPS_CALLER();
  WAIT_HOOK(IPS_WAIT_HOW_WAITPID, pid, options, real_waitpid(pid, status, options), status);
}
IPS_EXPORT pid_t wait3(int *status, int options, struct rusage *ru) {
  IPS_REAL_DECL(wait4, pid_t, pid_t, int *, int, struct rusage *);
  if (!ips_hook_enter()) return real_wait4(-1, status, options, ru);
  uint64_t caller = IPS_CALLER();
  WAIT_HOOK(IPS_WAIT_HOW_WAIT3, -1, options, real_wait4(-1, status, options, ru), status);
}
IPS_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
  IPS_REAL_DECL(wait4, pid_t, pid_t, int *, int, struct rusage *);
  if (!ips_hook_enter()) return real_wait4(pid, status, options, ru);
  uint64_t caller = IPS_CALLER();
  WAIT_HOOK(IPS_WAIT_HOW_WAIT4, pid, options, real_wait4(pid, status, options, ru), status);
}
IPS_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options) {
  IPS_REAL_DECL(waitid, int, idtype_t, id_t, siginfo_t *, int);
  if (!ips_hook_enter()) return real_waitid(idtype, id, info, options);
  uint64_t caller = IPS_CALLER();
  int64_t pid_arg = idtype == P_PID ? (int64_t)id : idtype == P_PGID ? -(int64_t)id : -1;
  IPS_EMIT(WAIT, IPS_PHASE_BEGIN, 0, 0, caller, NULL, 0, (uint64_t)pid_arg, (uint64_t)options, 0,
           (uint64_t)IPS_WAIT_HOW_WAITID);
  siginfo_t local;
  if (!info) info = &local;
  info->si_pid = 0;
  IPS_PAUSE_POINT(WAIT, caller);
  int r = real_waitid(idtype, id, info, options);
  int e = ips_errno_keep();
  /* Report the reaped child's pid as the result (0 when WNOHANG found none), status as si_status. */
  IPS_EMIT(WAIT, r < 0 ? IPS_PHASE_END : IPS_PHASE_END, r < 0 ? -1 : info->si_pid, r < 0 ? e : 0, caller, NULL, 0,
           (uint64_t)pid_arg, (uint64_t)options, (uint64_t)(r == 0 ? (uint32_t)info->si_status : 0),
           (uint64_t)IPS_WAIT_HOW_WAITID);
  ips_hook_leave();
  return r;
}

/* ---------------------------------------------------------------- exit */

static void exit_event(int status, int how, uint64_t caller) {
  if (!ips_cfg.enabled || ips_tls.is_sender) return;
  int saved = ips_tls.in_hook;
  ips_tls.in_hook = 1;
  IPS_EMIT(EXIT, IPS_PHASE_INSTANT, 0, 0, caller, NULL, 0, (uint64_t)(int64_t)status, (uint64_t)how);
  ips_note_exit(status, how);
  ips_tls.in_hook = saved;
}

IPS_EXPORT void exit(int status) {
  IPS_REAL_DECL(exit, void, int);
  exit_event(status, IPS_EXIT_HOW_EXIT, IPS_CALLER());
  real_exit(status); /* atexit handlers, then our destructor sends proc_exit and BYE */
  __builtin_unreachable();
}
IPS_EXPORT void _exit(int status) {
  IPS_REAL_DECL(_exit, void, int);
  exit_event(status, IPS_EXIT_HOW__EXIT, IPS_CALLER());
  ips_finish(status, IPS_EXIT_HOW__EXIT);
  real__exit(status);
  __builtin_unreachable();
}
IPS_EXPORT void _Exit(int status) {
  IPS_REAL_DECL(_Exit, void, int);
  exit_event(status, IPS_EXIT_HOW__EXIT_2, IPS_CALLER());
  ips_finish(status, IPS_EXIT_HOW__EXIT_2);
  real__Exit(status);
  __builtin_unreachable();
}
IPS_EXPORT void quick_exit(int status) {
  IPS_REAL_DECL(quick_exit, void, int);
  exit_event(status, IPS_EXIT_HOW_QUICK_EXIT, IPS_CALLER());
  ips_finish(status, IPS_EXIT_HOW_QUICK_EXIT);
  real_quick_exit(status);
  __builtin_unreachable();
}

/* main's return value: the status of a process that returns from main (exit() is called inside libc, unhooked). */
typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;
static int main_wrapper(int argc, char **argv, char **envp) {
  int r = real_main(argc, argv, envp);
  if (ips_cfg.enabled) ips_note_exit(r, IPS_EXIT_HOW_RETURN_FROM_MAIN);
  return r;
}
IPS_EXPORT int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end) {
  typedef int (*lsm_fn)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *);
  lsm_fn real = (lsm_fn)ips_real("__libc_start_main");
  real_main = main;
  return real(ips_cfg.enabled ? main_wrapper : main, argc, argv, init, fini, rtld_fini, stack_end);
}

/* ---------------------------------------------------------------- threads */

struct thread_start {
  void *(*fn)(void *);
  void *arg;
  uint32_t creator;
};
/* pthread_t → kernel tid for threads the shim saw start, so pthread_kill events can name their target. */
#define THREAD_SLOTS 4096
static struct { _Atomic uintptr_t self; _Atomic uint32_t tid; } thread_tids[THREAD_SLOTS];
void ips_thread_register(void) {
  uintptr_t self = (uintptr_t)pthread_self();
  for (unsigned i = 0, h = (unsigned)(self >> 12) % THREAD_SLOTS; i < THREAD_SLOTS; i++, h = (h + 1) % THREAD_SLOTS) {
    uintptr_t cur = atomic_load(&thread_tids[h].self);
    if (cur == self || (cur == 0 && atomic_compare_exchange_strong(&thread_tids[h].self, &cur, self))) {
      atomic_store(&thread_tids[h].tid, ips_tid());
      return;
    }
  }
}
uint32_t ips_thread_tid_of(pthread_t t) {
  uintptr_t self = (uintptr_t)t;
  for (unsigned i = 0, h = (unsigned)(self >> 12) % THREAD_SLOTS; i < THREAD_SLOTS; i++, h = (h + 1) % THREAD_SLOTS) {
    uintptr_t cur = atomic_load(&thread_tids[h].self);
    if (cur == self) return atomic_load(&thread_tids[h].tid);
    if (cur == 0) return 0;
  }
  return 0;
}

static void *thread_trampoline(void *p) {
  struct thread_start s = *(struct thread_start *)p;
  free(p);
  if (ips_cfg.enabled) {
    ips_thread_register(); /* a reused pthread_t (same stack) simply gets the new tid */
    ips_thread_init();
    int saved = ips_tls.in_hook;
    ips_tls.in_hook = 1;
    IPS_EMIT(THREAD_START, IPS_PHASE_INSTANT, 0, 0, 0, NULL, 0, s.creator, (uint64_t)(uintptr_t)s.fn);
    ips_tls.in_hook = saved;
  }
  void *r = s.fn(s.arg);
  if (ips_cfg.enabled) {
    int saved = ips_tls.in_hook;
    ips_tls.in_hook = 1;
    IPS_EMIT(THREAD_EXIT, IPS_PHASE_INSTANT, 0, 0, 0, NULL, 0, (uint64_t)(uintptr_t)r);
    ips_tls.in_hook = saved;
  }
  return r;
}
IPS_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  IPS_REAL_DECL(pthread_create, int, pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
  if (!ips_cfg.enabled || ips_tls.is_sender) return real_pthread_create(t, attr, fn, arg);
  struct thread_start *s = malloc(sizeof *s);
  if (!s) return real_pthread_create(t, attr, fn, arg);
  s->fn = fn;
  s->arg = arg;
  s->creator = ips_tid();
  int r = real_pthread_create(t, attr, thread_trampoline, s);
  if (r) free(s);
  return r;
}
IPS_EXPORT void pthread_exit(void *retval) {
  IPS_REAL_DECL(pthread_exit, void, void *);
  if (ips_cfg.enabled && !ips_tls.is_sender) {
    int saved = ips_tls.in_hook;
    ips_tls.in_hook = 1;
    IPS_EMIT(THREAD_EXIT, IPS_PHASE_INSTANT, 0, 0, IPS_CALLER(), NULL, 0, (uint64_t)(uintptr_t)retval);
    ips_tls.in_hook = saved;
  }
  real_pthread_exit(retval);
  __builtin_unreachable();
}

/* ---------------------------------------------------------------- dlopen */

/* dlopen is not interposed: glibc resolves a bare name through the *calling* object's RUNPATH/$ORIGIN, and a
 * wrapper would make the shim the caller. Instead the sender thread notices new objects (dl_iterate_phdr's adds
 * counter, every ~10 ms) and reports each with a dlopen event and its mappings. dl_iterate_phdr takes the loader
 * lock, so the fork wrapper waits until the sender is not inside it (a child must not inherit it locked). */
#define MAX_KNOWN 1024
static uintptr_t known_base[MAX_KNOWN];
static int n_known;
static unsigned long long last_adds;
static int scan_started;
static _Atomic int fork_pending, sender_in_dl;

struct scan_ctx {
  int check_only, changed, emit;
};
static int known(uintptr_t base) {
  for (int i = 0; i < n_known; i++)
    if (known_base[i] == base) return 1;
  return 0;
}
/* The object's mappings, found by inode (dlpi_name may go through a symlink that /proc/self/maps resolves). */
static void emit_object_mappings(const char *path) {
  struct stat st;
  if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0) return;
  static char buf[1 << 16];
  static char line[4352];
  int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t ll = 0;
  ssize_t n;
  while ((n = syscall(SYS_read, fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] != '\n') { if (ll < sizeof line - 1) line[ll++] = buf[i]; continue; }
      line[ll] = 0;
      ll = 0;
      unsigned long long start, end, off, ino;
      unsigned maj, mn;
      char perms[8];
      int pp = 0;
      if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &mn, &ino, &pp) < 7 || !pp) continue;
      if ((uint64_t)makedev(maj, mn) != (uint64_t)st.st_dev || ino != (unsigned long long)st.st_ino) continue;
      const char *mpath = line + pp;
      uint64_t prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
      IPS_EMIT(MAPPING, IPS_PHASE_INSTANT, 0, 0, 0, mpath, (uint32_t)strlen(mpath), start, end, off, prot,
               (uint64_t)(perms[3] == 's'), (uint64_t)makedev(maj, mn),
               ino, (uint64_t)IPS_MAPPING_REASON_DLOPEN);
    }
  }
  syscall(SYS_close, fd);
}
static int scan_cb(struct dl_phdr_info *info, size_t size, void *p) {
  (void)size;
  struct scan_ctx *c = p;
  if (c->check_only) {
    c->changed = info->dlpi_adds != last_adds;
    last_adds = info->dlpi_adds;
    return 1; /* the counters are the same in every call: one is enough */
  }
  if (known(info->dlpi_addr) || n_known >= MAX_KNOWN) return 0;
  known_base[n_known++] = info->dlpi_addr;
  if (c->emit && info->dlpi_name && info->dlpi_name[0]) {
    /* Stamped with the main thread's tid: the sender only noticed it, the program loaded it. */
    const char *name = info->dlpi_name;
    const uint64_t args[2] = {(uint64_t)info->dlpi_addr, 0};
    ips_emit_at(ips_now_ns(), (uint32_t)getpid(), IPS_EV_DLOPEN, IPS_PHASE_INSTANT, 0, 0, 0, 2, args, name,
                (uint32_t)strlen(name));
    emit_object_mappings(name);
  }
  return 0;
}
void ips_dl_scan(void) {
  if (atomic_load(&fork_pending)) return;
  atomic_store(&sender_in_dl, 1);
  if (atomic_load(&fork_pending)) { atomic_store(&sender_in_dl, 0); return; }
  struct scan_ctx c = {1, 0, 0};
  dl_iterate_phdr(scan_cb, &c);
  if (c.changed || !scan_started) {
    c.check_only = 0;
    c.emit = scan_started; /* the first scan only learns what was there at start (the start mappings cover it) */
    dl_iterate_phdr(scan_cb, &c);
    scan_started = 1;
  }
  atomic_store(&sender_in_dl, 0);
}
void ips_dl_fork_prepare(void) {
  atomic_fetch_add(&fork_pending, 1);
  for (int i = 0; i < 100000 && atomic_load(&sender_in_dl); i++) syscall(SYS_sched_yield);
}
void ips_dl_fork_done(int child) {
  if (child) { atomic_store(&fork_pending, 0); atomic_store(&sender_in_dl, 0); }
  else atomic_fetch_sub(&fork_pending, 1);
}
