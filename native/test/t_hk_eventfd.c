/* eventfd shared by parent and child: the child adds 3 and 4, the parent reads the sum. Both sides see one
 * object (the kernel's eventfd-id stands in for the inode, which all anon inodes share). */
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int e1 = eventfd(0, EFD_CLOEXEC), e2 = eventfd(0, 0);
  if (e1 < 0 || e2 < 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    uint64_t v = 3;
    if (write(e1, &v, 8) != 8) _exit(10);
    v = 4;
    if (write(e1, &v, 8) != 8) _exit(11);
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 2;
  uint64_t sum = 0;
  if (read(e1, &sum, 8) != 8) return 3;
  return sum == 7 ? 0 : 4;
}
