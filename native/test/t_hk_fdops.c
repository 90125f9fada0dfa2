/* fd bookkeeping and the rest of the read/write family on a regular file: dup/dup2/dup3/F_DUPFD_CLOEXEC with
 * their close-on-exec bits, F_SETFD/F_SETFL, fcntl record locks (F_SETLKW, F_GETLK), writev/pwrite/readv/pread with
 * offsets and previews, a preview cut at payload=64 (flag previewTruncated), a non-blocking pipe read (EAGAIN, flag
 * nonBlocking), lockf and ftruncate. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
  int fd = open("data.bin", O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  int d1 = dup(fd);
  if (dup2(fd, 20) != 20 || dup3(fd, 21, O_CLOEXEC) != 21) return 2;
  int d2 = fcntl(fd, F_DUPFD_CLOEXEC, 30);
  if (d1 < 0 || d2 < 30) return 3;
  if (fcntl(d1, F_SETFD, FD_CLOEXEC) != 0) return 4;
  struct iovec iov[2] = {{"head-", 5}, {"tail", 4}};
  if (writev(fd, iov, 2) != 9) return 5;
  if (pwrite(fd, "XY", 2, 100) != 2) return 6;
  char big[100];
  memset(big, 'b', sizeof big);
  if (pwrite(fd, big, sizeof big, 200) != 100) return 7;
  char a[3], b[6];
  struct iovec rv[2] = {{a, 3}, {b, 6}};
  if (preadv(fd, rv, 2, 0) != 9 || pread(fd, a, 2, 100) != 2) return 8;
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  if (fcntl(fd, F_SETLKW, &fl) != 0) return 9;
  struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
  if (fcntl(fd, F_GETLK, &q) != 0 || q.l_type != F_UNLCK) return 10; /* our own lock never conflicts */
  if (lockf(fd, F_TLOCK, 50) != 0) return 11;
  if (ftruncate(fd, 4096) != 0) return 12;
  int p[2];
  if (pipe(p) != 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0) return 13;
  if (read(p[0], a, 1) != -1 || errno != EAGAIN) return 14;
  close(d1);
  close(20);
  close(21);
  close(d2);
  return close(fd) == 0 ? 0 : 15;
}
