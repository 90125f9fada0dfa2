/* IPC Scope shim: the Python file:line of each traced call in a Python target (issues 3 and 6, docs/model.md
 * "Python targets").
 *
 * The launcher puts native/python/ on PYTHONPATH; its sitecustomize.py calls ipcscope_python_install() through
 * ctypes.PyDLL (the GIL stays held). That installs profile_cb with PyEval_SetProfile for the calling thread (new
 * threading.Thread threads call ipcscope_python_install_thread() from threading.setprofile). The callback runs with
 * the GIL held; around each call of a C function (PyTrace_C_CALL … C_RETURN/C_EXCEPTION) it keeps in thread-local
 * storage the innermost frame that is the user's code (not the stdlib, not site-/dist-packages, not <frozen …>), so a
 * call made inside subprocess.py is charged to the user's line that called subprocess.run. Entering a stdlib
 * function from the user's code (PyTrace_CALL) sets that line too, and it holds between that function's C calls:
 * type calls (mmap.mmap in SharedMemory.__init__, _socket.socket.__init__) raise no C_CALL of their own.
 *
 * ips_python_sync() runs in the emit path (runtime.c) only once a hook is installed in this process: when the thread's
 * location differs from the last one it sent, it emits python_location first (line 0: no Python location any more).
 *
 * Every Python C-API function is resolved with dlsym(RTLD_DEFAULT) and declared here with opaque pointers: the shim
 * links against glibc only and does nothing in processes that are not Python. */
#include "ipcscope.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct py_object py_object;
typedef int (*py_tracefunc)(py_object *obj, py_object *frame, int what, py_object *arg);

enum { PYTRACE_CALL = 0, PYTRACE_RETURN = 3, PYTRACE_C_CALL = 4, PYTRACE_C_EXCEPTION = 5, PYTRACE_C_RETURN = 6 };

static struct {
  void (*set_profile)(py_tracefunc, py_object *);
  py_object *(*frame_code)(py_object *);  /* new reference */
  py_object *(*frame_back)(py_object *);  /* new reference or NULL */
  int (*frame_line)(py_object *);
  int (*frame_lasti)(py_object *);        /* 3.11+; NULL before: no line cache */
  py_object *(*getattr)(py_object *, const char *);
  const char *(*as_utf8)(py_object *);
  void (*incref)(py_object *);
  void (*decref)(py_object *);
  void (*err_clear)(void);
} py;

IPS_HOT_DATA volatile int ips_python_active; /* hidden (ipcscope.h is not changed for one flag); read by runtime.c's emit path */

/* ---- files: interned once, referenced by pointer ---- */
#define MAX_FILES 512
struct file_rec {
  const char *path;
  uint32_t len;
  uint64_t hash; /* FNV-1a 64 of path: what the debug adapter's Python breakpoints name (docs/stepping.md) */
};
static struct file_rec files[MAX_FILES];
static int n_files;

/* Paths that are not the user's code: the stdlib directories sitecustomize passes, and our own directory. */
#define MAX_EXCLUDES 8
static char *excludes[MAX_EXCLUDES];
static size_t exclude_len[MAX_EXCLUDES];
static int n_excludes;

static int is_user_path(const char *p) {
  if (!p || !*p || *p == '<') return 0; /* <frozen importlib._bootstrap>, <string> (python3 -c), <stdin> */
  for (int i = 0; i < n_excludes; i++)
    if (!strncmp(p, excludes[i], exclude_len[i]) && (p[exclude_len[i]] == '/' || p[exclude_len[i]] == 0)) return 0;
  return !strstr(p, "/site-packages/") && !strstr(p, "/dist-packages/");
}

/* Under the GIL only. Relative names (a module imported through '' on sys.path) are made absolute once. */
static const struct file_rec *intern_file(const char *p) {
  char buf[PATH_MAX];
  if (p[0] != '/') {
    if (!getcwd(buf, sizeof buf - 1)) return NULL;
    size_t n = strlen(buf);
    if ((size_t)snprintf(buf + n, sizeof buf - n, "/%s", p) >= sizeof buf - n) return NULL;
    p = buf;
  }
  for (int i = 0; i < n_files; i++)
    if (!strcmp(files[i].path, p)) return &files[i];
  if (n_files == MAX_FILES) return NULL;
  char *copy = strdup(p);
  if (!copy) return NULL;
  uint64_t h = 14695981039346656037ull;
  for (const unsigned char *c = (const unsigned char *)copy; *c; c++) h = (h ^ *c) * 1099511628211ull;
  files[n_files] = (struct file_rec){copy, (uint32_t)strlen(copy), h};
  return &files[n_files++];
}

/* ---- code objects: user's file or not, cached by address. The cache holds a reference, so no address is reused
 * while it is cached; `gen` names one insertion, so a line cached for an evicted code object never matches again. */
#define CODE_SLOTS 1024
struct code_rec {
  py_object *code;
  const struct file_rec *file; /* NULL: not the user's code */
  uint32_t gen;
};
static struct code_rec code_cache[CODE_SLOTS];
static uint32_t code_gen;

static const struct code_rec *code_info(py_object *code) {
  struct code_rec *c = &code_cache[((uintptr_t)code >> 4) & (CODE_SLOTS - 1)];
  if (IPS_LIKELY(c->code == code)) return c;
  const struct file_rec *f = NULL;
  py_object *name = py.getattr(code, "co_filename");
  if (name) {
    const char *s = py.as_utf8(name);
    if (s && is_user_path(s)) f = intern_file(s);
    if (!s) py.err_clear();
    py.decref(name);
  } else
    py.err_clear();
  if (c->code) py.decref(c->code);
  py.incref(code);
  *c = (struct code_rec){code, f, ++code_gen};
  return c;
}

/* (code, lasti) → line: PyFrame_GetLineNumber scans the code's line table from its start on every call. */
#define LINE_SLOTS 4096
struct line_rec {
  uint32_t gen;
  int lasti, line;
};
static struct line_rec line_cache[LINE_SLOTS];

static int frame_line(py_object *frame, const struct code_rec *c) {
  if (!py.frame_lasti) return py.frame_line(frame);
  int lasti = py.frame_lasti(frame);
  struct line_rec *l = &line_cache[(c->gen * 2654435761u + (unsigned)lasti) & (LINE_SLOTS - 1)];
  if (l->gen == c->gen && l->lasti == lasti) return l->line;
  int line = py.frame_line(frame);
  *l = (struct line_rec){c->gen, lasti, line};
  return line;
}

static int frame_is_user(py_object *frame) {
  py_object *code = py.frame_code(frame);
  if (!code) return 0;
  int user = code_info(code)->file != NULL;
  py.decref(code);
  return user;
}

/* ---- per thread: what the callback found, and what this thread last sent ---- */
#define STACK_MAX 16
struct py_tls {
  const struct file_rec *file; /* NULL: no Python location */
  int line;
  const struct file_rec *sent_file;
  int sent_line;
  uint32_t sent_tid;           /* 0 or another tid (fork child, recycled TLS): nothing sent on this thread yet */
  uint32_t sent_seq;           /* bumped with every python_location sent: one arrival at a line */
  uint32_t bp_seq;             /* the arrival a Python breakpoint last stopped (stop once per arrival) */
  int depth;                   /* nested C calls (a C function calling back into Python that calls C again) */
  const struct file_rec *saved_file[STACK_MAX];
  int saved_line[STACK_MAX];
};
static __thread struct py_tls py_tls __attribute__((tls_model("initial-exec")));

#define MAX_WALK 64
/* The innermost user frame from `frame` outwards: its file and line, or NULL. */
static const struct file_rec *user_location(py_object *frame, int *line) {
  py_object *f = frame;
  int owned = 0; /* f is a new reference we must drop */
  const struct file_rec *found = NULL;
  for (int depth = 0; f && depth < MAX_WALK; depth++) {
    py_object *code = py.frame_code(f);
    const struct code_rec *c = code ? code_info(code) : NULL;
    if (c && c->file) {
      *line = frame_line(f, c);
      found = c->file;
    }
    if (code) py.decref(code);
    if (found) break;
    py_object *back = py.frame_back(f);
    if (owned) py.decref(f);
    f = back;
    owned = 1;
  }
  if (owned && f) py.decref(f);
  return found;
}

static int profile_cb(py_object *obj, py_object *frame, int what, py_object *arg) {
  (void)obj;
  (void)arg;
  struct py_tls *t = &py_tls;
  if (what == PYTRACE_C_CALL) {
    int line = 0;
    const struct file_rec *f = user_location(frame, &line);
    if (t->depth < STACK_MAX) {
      t->saved_file[t->depth] = t->file;
      t->saved_line[t->depth] = t->line;
    }
    t->depth++;
    t->file = f;
    t->line = f ? line : 0;
  } else if (what == PYTRACE_C_RETURN || what == PYTRACE_C_EXCEPTION) {
    /* Back to what held before the call: inside a stdlib function the user's code called, that user line (so the
     * type call after _posixshmem.shm_open in SharedMemory.__init__, mmap.mmap, is still charged to it). */
    if (t->depth > 0) {
      t->depth--;
      if (t->depth < STACK_MAX) {
        t->file = t->saved_file[t->depth];
        t->line = t->saved_line[t->depth];
      }
    }
  } else if (t->depth == 0 && what == PYTRACE_CALL) {
    /* Entering the user's code: its own calls will say where they are. Entering the stdlib from the user's code
     * (socket.socket.__init__, subprocess.run): what it does is that user line's doing, even where no C_CALL is
     * raised (type calls); deeper stdlib calls keep the location found once. */
    if (frame_is_user(frame)) t->file = NULL;
    else if (!t->file) t->file = user_location(frame, &t->line);
  } else if (t->depth == 0 && what == PYTRACE_RETURN) {
    py_object *back = py.frame_back(frame);
    if (!back) t->file = NULL;
    else {
      int from_user = frame_is_user(frame), to_user = frame_is_user(back);
      if (to_user) t->file = NULL; /* back in the user's code */
      else if (from_user) t->file = user_location(back, &t->line); /* a user callback returns into the stdlib */
      py.decref(back);
    }
  }
  return 0;
}

/* ---- the emit path's side (runtime.c calls this only while ips_python_active) ---- */
void ips_python_sync(void) IPS_HIDDEN;
void ips_python_sync(void) {
  if (ips_tls.is_sender) return;
  struct py_tls *t = &py_tls;
  uint32_t tid = ips_tid();
  const struct file_rec *f = t->file;
  int line = f ? t->line : 0;
  if (IPS_LIKELY(t->sent_tid == tid)) {
    if (IPS_LIKELY(f == t->sent_file && line == t->sent_line)) return;
  } else if (!f) {
    /* First event of this thread (or of a fork child) with nothing to say: start from "no location". */
    t->sent_tid = tid;
    t->sent_file = NULL;
    t->sent_line = 0;
    return;
  }
  /* Recorded as sent first: ips_emit calls back here, and must then find nothing to do. */
  t->sent_tid = tid;
  t->sent_file = f;
  t->sent_line = line;
  t->sent_seq++;
  const uint64_t args[IPS_EV_PYTHON_LOCATION_NARGS] = {(uint64_t)(int64_t)line};
  ips_emit(IPS_EV_PYTHON_LOCATION, IPS_PHASE_INSTANT, 0, 0, 0, IPS_EV_PYTHON_LOCATION_NARGS, args, f ? f->path : NULL,
           f ? f->len : 0);
}

/* ---- Python source breakpoints (pause.c's set_breakpoints op 4): file hash and line; the thread stops at the first
 * traced call it makes from that line, once per arrival there. ---- */
#define MAX_PY_BPS 256
static uint64_t pybp_hash[MAX_PY_BPS];
static int pybp_line[MAX_PY_BPS];
static _Atomic int n_pybps;

int ips_python_bp_count(void) IPS_HIDDEN;
int ips_python_bp_count(void) { return atomic_load_explicit(&n_pybps, memory_order_relaxed); }
int ips_python_bp_add(uint64_t file_hash, int line) IPS_HIDDEN;
int ips_python_bp_add(uint64_t file_hash, int line) {
  int n = atomic_load(&n_pybps);
  if (n >= MAX_PY_BPS) return -1;
  pybp_hash[n] = file_hash;
  pybp_line[n] = line;
  atomic_store(&n_pybps, n + 1); /* published after the entry is written */
  return 0;
}
void ips_python_bp_clear(void) IPS_HIDDEN;
void ips_python_bp_clear(void) { atomic_store(&n_pybps, 0); }
/* At a pause point: is this thread on a Python breakpoint's line, arrived there since it last stopped? pthread
 * mutexes and condition variables are the interpreter's own (the GIL released around os.write): a Python line's
 * own calls are the ones after them (threading.Lock is a semaphore). */
int ips_python_bp_hit(uint16_t kind) IPS_HIDDEN;
int ips_python_bp_hit(uint16_t kind) {
  struct py_tls *t = &py_tls;
  const struct file_rec *f = t->file;
  if (!f || (kind >= IPS_EV_MUTEX_LOCK && kind <= IPS_EV_COND_SIGNAL)) return 0;
  ips_python_sync(); /* a call that emits nothing before its pause point: announce the line now, before `paused` */
  if (t->bp_seq == t->sent_seq) return 0;
  int n = atomic_load(&n_pybps);
  for (int i = 0; i < n; i++)
    if (pybp_hash[i] == f->hash && pybp_line[i] == t->line) {
      t->bp_seq = t->sent_seq;
      return 1;
    }
  return 0;
}

/* ---- installation (sitecustomize.py, through ctypes.PyDLL: called with the GIL held) ---- */
static int resolve_python(void) {
  if (py.set_profile) return 0;
#define RESOLVE(field, name)                                        \
  do {                                                              \
    *(void **)&py.field = dlsym(RTLD_DEFAULT, name);                \
    if (!py.field) return -1;                                       \
  } while (0)
  RESOLVE(frame_code, "PyFrame_GetCode");
  RESOLVE(frame_back, "PyFrame_GetBack");
  RESOLVE(frame_line, "PyFrame_GetLineNumber");
  RESOLVE(getattr, "PyObject_GetAttrString");
  RESOLVE(as_utf8, "PyUnicode_AsUTF8");
  RESOLVE(incref, "Py_IncRef");
  RESOLVE(decref, "Py_DecRef");
  RESOLVE(err_clear, "PyErr_Clear");
  *(void **)&py.frame_lasti = dlsym(RTLD_DEFAULT, "PyFrame_GetLasti");
  RESOLVE(set_profile, "PyEval_SetProfile"); /* last: it marks the table complete */
#undef RESOLVE
  return 0;
}

/* Installs the hook on the calling thread. `excluded` holds the directories that are not the user's code, separated
 * by newlines (the stdlib, our own sitecustomize's directory). Returns 0, 1 (not tracing: nothing done) or -1 (no
 * Python C API in this process). */
IPS_EXPORT int ipcscope_python_install(const char *excluded) {
  if (!ips_cfg.enabled) return 1;
  if (resolve_python()) return -1;
  if (excluded && !n_excludes) {
    const char *s = excluded;
    while (*s && n_excludes < MAX_EXCLUDES) {
      const char *e = strchr(s, '\n');
      size_t n = e ? (size_t)(e - s) : strlen(s);
      while (n > 1 && s[n - 1] == '/') n--;
      if (n) {
        char *d = strndup(s, n);
        if (d) {
          excludes[n_excludes] = d;
          exclude_len[n_excludes++] = n;
        }
      }
      if (!e) break;
      s = e + 1;
    }
  }
  py.set_profile(profile_cb, NULL);
  ips_python_active = 1;
  return 0;
}

/* A new threading.Thread: called from the Python profile function threading.setprofile installed, which this
 * replaces with profile_cb for the thread. */
IPS_EXPORT int ipcscope_python_install_thread(void) {
  if (!ips_cfg.enabled || !py.set_profile) return 1;
  py.set_profile(profile_cb, NULL);
  return 0;
}
