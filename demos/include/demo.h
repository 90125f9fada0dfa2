/* Small helpers shared by the C demos: every call that can fail is checked, and a failure says which call and why. */
#ifndef IPCSCOPE_DEMO_H
#define IPCSCOPE_DEMO_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Exit with the failing call's name and strerror(errno). */
#define die(what) do { fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, (what), strerror(errno)); exit(EXIT_FAILURE); } while (0)
/* For calls that return -1 and set errno. */
#define CHECK(call) do { if ((call) == -1) die(#call); } while (0)
/* For pthread_* calls, which return the error number instead of setting errno. */
#define PCHECK(call) do { int e_ = (call); if (e_ != 0) { errno = e_; die(#call); } } while (0)

/* write() all of buf, retrying short writes and EINTR. */
static inline void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n == -1) { if (errno == EINTR) continue; die("write"); }
    p += n; len -= (size_t)n;
  }
}

/* Sleep for ms milliseconds (demos pace themselves so the timeline is readable). */
static inline void sleep_ms(long ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}
/* The name of a named IPC object (queue, semaphore, shared-memory object, file): `base` as the notes spell it, plus
 * the IPCSCOPE_DEMO_TAG environment variable when set. Unset for a reader running a demo; the tests set it so that
 * two recordings of one demo at once (several test runs on one machine) never share a queue or a semaphore. */
static inline const char *demo_name(const char *base) {
  static char names[4][256];
  static int next;
  const char *tag = getenv("IPCSCOPE_DEMO_TAG");
  if (!tag || !*tag) return base;
  char *out = names[next++ % 4];
  snprintf(out, sizeof names[0], "%s%s", base, tag);
  return out;
}

/* A System V key: `base`, mixed with IPCSCOPE_DEMO_TAG when set (see demo_name). */
static inline int demo_key(int base) {
  const char *tag = getenv("IPCSCOPE_DEMO_TAG");
  unsigned h = 2166136261u; /* FNV-1a */
  if (!tag || !*tag) return base;
  for (; *tag; tag++) h = (h ^ (unsigned char)*tag) * 16777619u;
  return base ^ (int)(h & 0x7fff0000u);
}
#endif
