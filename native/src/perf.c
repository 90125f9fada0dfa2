/* Page faults via perf_event_open (filled in below). */
#include "ipcscope.h"
static int perf_err;
void ips_perf_init(void) {}
void ips_perf_thread_open(void) { ips_tls.perf_state = -1; }
void ips_perf_drain(void) {}
void ips_perf_fork_child(void) {}
int ips_perf_errno(void) { return perf_err; }
int ips_perf_is_fd(int fd) { (void)fd; return 0; }
