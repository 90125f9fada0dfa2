/* Previews: 5000 bytes through a pipe with write, then with writev over three pieces; with the default payload=64
 * each preview holds the first 64 bytes (gathered across the iovecs for writev) and carries previewTruncated. A
 * 20-byte writev over pieces of 3, 7 and 10 fits whole, without the flag. */
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
  static char big[5000], back[5000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
  int p[2];
  if (pipe(p) != 0) return 2;
  if (write(p[1], big, sizeof big) != (ssize_t)sizeof big) return 3;
  if (read(p[0], back, sizeof back) != (ssize_t)sizeof back || memcmp(big, back, sizeof big)) return 4;
  struct iovec iov[3] = {{big, 10}, {big + 10, 40}, {big + 50, 4950}};
  if (writev(p[1], iov, 3) != 5000) return 5;
  struct iovec rv[2] = {{back, 30}, {back + 30, 4970}};
  if (readv(p[0], rv, 2) != 5000) return 6;
  struct iovec small[3] = {{"abc", 3}, {"defghij", 7}, {"klmnopqrst", 10}};
  if (writev(p[1], small, 3) != 20) return 7;
  if (read(p[0], back, sizeof back) != 20) return 8;
  return 0;
}
