/* Page-table snapshots from /proc/self/pagemap: for each mapping that matters (private writable anonymous, [heap],
 * [stack], every MAP_SHARED mapping), a `mapping` event, then `page_snapshot` chunks of at most 4096 raw pagemap
 * entries (and, when frames are visible and /proc/kpagecount is readable, one map count per page), then
 * `snapshot_done`. Code, [vvar], [vdso] and [vsyscall] are skipped. At most ~1M pages per snapshot. */
#include "ipcscope.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define CHUNK_PAGES 4096
#define MAX_PAGES (1u << 20)
#define PFN_MASK ((1ull << 55) - 1)
#define PAGE_PRESENT (1ull << 63)

static _Atomic uint32_t snapshot_seq;
static int pfn_state; /* 0 unknown, 1 readable, -1 not */

static int sys_open(const char *p) { return (int)syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC, 0); }
static ssize_t sys_pread(int fd, void *b, size_t n, uint64_t off) { return syscall(SYS_pread64, fd, b, n, off); }

int ips_pfn_readable(void) {
  if (pfn_state) return pfn_state > 0;
  pfn_state = -1;
  int pm = sys_open("/proc/self/pagemap");
  int kc = sys_open("/proc/kpagecount");
  if (pm >= 0 && kc >= 0) {
    volatile char probe = 1; /* a present page: this stack */
    uint64_t e = 0;
    uint64_t vpn = (uint64_t)(uintptr_t)&probe / (uint64_t)getpagesize();
    if (sys_pread(pm, &e, 8, vpn * 8) == 8 && (e & PAGE_PRESENT) && (e & PFN_MASK)) pfn_state = 1;
    (void)probe;
  }
  if (pm >= 0) syscall(SYS_close, pm);
  if (kc >= 0) syscall(SYS_close, kc);
  return pfn_state > 0;
}

static int wanted(const char *perms, uint64_t ino, const char *path, uint64_t start, uint64_t end) {
  if (!strncmp(path, "anon_inode:[perf_event]", 23) || ips_shim_owns(start, end)) return 0; /* the shim's own */
  if (!strcmp(path, "[vvar]") || !strcmp(path, "[vdso]") || !strcmp(path, "[vsyscall]") || !strncmp(path, "[vvar", 5))
    return 0;
  if (perms[3] == 's') return 1;                       /* every shared mapping */
  if (perms[1] != 'w') return 0;                       /* private read-only / code: not IPC-relevant */
  return ino == 0 || !strcmp(path, "[heap]") || !strcmp(path, "[stack]");
}

/* Space for one chunk: entries, then map counts. */
static uint8_t chunk[CHUNK_PAGES * 9];
static atomic_flag snapshot_busy = ATOMIC_FLAG_INIT; /* chunk and maps_buf are shared: one snapshot at a time */
static char maps_buf[1 << 18];


void ips_snapshot(int reason) {
  if (!ips_cfg.enabled) return;
  int saved = ips_tls.in_hook;
  ips_tls.in_hook = 1;
  int e0 = errno;
  while (atomic_flag_test_and_set(&snapshot_busy)) syscall(SYS_sched_yield);
  uint32_t seq = atomic_fetch_add(&snapshot_seq, 1) + 1;
  uint64_t mappings = 0, pages = 0;
  int pm = sys_open("/proc/self/pagemap");
  int kc = ips_pfn_readable() ? sys_open("/proc/kpagecount") : -1;
  int capped = 0;
  /* Read the whole maps file first: emitting must not interleave with reading a changing file. */
  size_t ml = 0;
  int mf = sys_open("/proc/self/maps");
  if (mf >= 0) {
    ssize_t r;
    while (ml < sizeof maps_buf - 1 && (r = syscall(SYS_read, mf, maps_buf + ml, sizeof maps_buf - 1 - ml)) > 0) ml += (size_t)r;
    syscall(SYS_close, mf);
  }
  maps_buf[ml] = 0;
  uint64_t psz = (uint64_t)getpagesize();
  for (char *line = maps_buf; pm >= 0 && line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = 0;
    unsigned long long start, end, off, ino;
    unsigned maj, mn;
    char perms[8];
    int pp = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj, &mn, &ino, &pp) >= 7) {
      const char *path = pp ? line + pp : "";
      if (wanted(perms, ino, path, start, end)) {
        uint64_t prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
        IPS_EMIT(MAPPING, IPS_PHASE_INSTANT, 0, 0, 0, path, (uint32_t)strlen(path), start, end, off, prot,
                 (uint64_t)(perms[3] == 's'), (uint64_t)makedev(maj, mn), ino, (uint64_t)IPS_MAPPING_REASON_SNAPSHOT);
        mappings++;
        uint64_t npages = (end - start) / psz;
        for (uint64_t first = 0; first < npages; first += CHUNK_PAGES) {
          if (pages >= MAX_PAGES) { capped = 1; break; }
          uint64_t n = npages - first < CHUNK_PAGES ? npages - first : CHUNK_PAGES;
          uint64_t *ent = (uint64_t *)chunk;
          /* The chunk is stamped before it is read, so it shows every event stamped earlier (a fault sample is stamped
           * after the kernel handled the fault). Stamped after the read, a process descheduled in between sent map
           * counts of 2 for pages a fork partner's earlier-stamped copy-on-write faults had already freed. */
          uint64_t ts = ips_now_ns();
          ssize_t got = sys_pread(pm, ent, n * 8, (start / psz + first) * 8);
          if (got != (ssize_t)(n * 8)) break;
          int has_pfn = 0;
          for (uint64_t i = 0; i < n; i++)
            if ((ent[i] & PAGE_PRESENT) && (ent[i] & PFN_MASK)) { has_pfn = 1; break; }
          int has_mc = has_pfn && kc >= 0;
          uint8_t *mc = chunk + n * 8;
          if (has_mc) {
            /* One pread per run of consecutive frames (up to 512). */
            for (uint64_t i = 0; i < n;) {
              uint64_t pfn = ent[i] & PFN_MASK;
              if (!(ent[i] & PAGE_PRESENT) || !pfn) { mc[i++] = 0; continue; }
              uint64_t run = 1;
              while (i + run < n && run < 512 && (ent[i + run] & PAGE_PRESENT) && (ent[i + run] & PFN_MASK) == pfn + run) run++;
              uint64_t counts[512];
              if (sys_pread(kc, counts, run * 8, pfn * 8) != (ssize_t)(run * 8)) memset(counts, 0, run * 8);
              for (uint64_t j = 0; j < run; j++) mc[i + j] = counts[j] > 255 ? 255 : (uint8_t)counts[j];
              i += run;
            }
          }
          const uint64_t args[] = {start, end, first, n, (uint64_t)has_pfn, (uint64_t)reason, seq, (uint64_t)has_mc};
          _Static_assert(sizeof args / 8 == IPS_EV_PAGE_SNAPSHOT_NARGS, "page_snapshot args");
          /* as ips_emit stamps them: the sender's own snapshots (on command) belong to the main thread */
          ips_emit_at(ts, ips_tls.is_sender ? (uint32_t)getpid() : ips_tid(), IPS_EV_PAGE_SNAPSHOT, IPS_PHASE_INSTANT, 0, 0,
                      0, IPS_EV_PAGE_SNAPSHOT_NARGS, args, chunk, (uint32_t)(n * 8 + (has_mc ? n : 0)));
          pages += n;
          if (ips_tls.is_sender) ips_sender_service(); /* the sender cannot drain its own ring while it works here */
        }
      }
    }
    line = nl ? nl + 1 : NULL;
  }
  if (capped) {
    static const char note[] = "page-table snapshot capped at 1048576 pages";
    IPS_EMIT(SHIM_INFO, IPS_PHASE_INSTANT, 0, 0, 0, note, (uint32_t)sizeof note - 1, ips_cfg.payload_bytes,
             (uint64_t)ips_cfg.page_faults, (uint64_t)ips_perf_errno(), (uint64_t)ips_pfn_readable());
  }
  IPS_EMIT(SNAPSHOT_DONE, IPS_PHASE_INSTANT, pm < 0 ? -1 : 0, 0, 0, NULL, 0, seq, mappings, pages, (uint64_t)reason);
  if (pm >= 0) syscall(SYS_close, pm);
  if (kc >= 0) syscall(SYS_close, kc);
  atomic_flag_clear(&snapshot_busy);
  errno = e0;
  ips_tls.in_hook = saved;
}
