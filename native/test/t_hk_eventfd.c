/* eventfd shared by parent and child: the child adds 3 (write) and 4 (eventfd_write), the parent reads the sum (eventfd_read). Both sides see one
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
    if (eventfd_write(e1, 4) != 0) _exit(11); /* glibc's helper: its internal write is hooked separately */
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 2;
  eventfd_t sum = 0;
  if (eventfd_read(e1, &sum) != 0) return 3;
  return sum == 7 ? 0 : 4;
}
