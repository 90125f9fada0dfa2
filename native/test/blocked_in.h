/* Shared by the native tests that check an order between a blocked task and the task that releases it. */
#ifndef IPCSCOPE_TEST_BLOCKED_IN_H
#define IPCSCOPE_TEST_BLOCKED_IN_H
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Waits (up to ~10 s) until the task behind `path` (/proc/PID/syscall) is blocked in syscall nr1 or nr2, so the
 * order the test checks does not depend on how fast a loaded machine schedules us. */
static int blocked_in(const char *path, long nr1, long nr2) {
  for (int i = 0; i < 10000; i++) {
    char buf[64] = {0};
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
      if (read(fd, buf, sizeof buf - 1) < 0) buf[0] = 0;
      close(fd);
    }
    long n = strtol(buf, NULL, 10);
    if (buf[0] >= '0' && buf[0] <= '9' && (n == nr1 || n == nr2)) return 1;
    usleep(1000);
  }
  return 0;
}
#endif
