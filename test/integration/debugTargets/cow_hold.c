/* Copy-on-write for the debugger's filter: the parent touches a 16 MiB private mapping and forks; the child writes
 * every page (each write a copy-on-write fault), then waits on a pipe until the parent lets it go after 5 s. The wait
 * keeps the child alive while the fault samples and page tables reach the adapter, however loaded the machine is. */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (16u << 20)

int main(void) {
  char *data = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) return 1;
  for (size_t i = 0; i < SIZE; i += 4096) data[i] = 1;
  int go[2];
  if (pipe(go) != 0) return 1;
  pid_t pid = fork();
  if (pid == 0) {
    close(go[1]);
    for (size_t i = 0; i < SIZE; i += 4096) data[i] = 2; /* copy-on-write faults */
    char c;
    if (read(go[0], &c, 1) != 1) _exit(1);
    _exit(0);
  }
  close(go[0]);
  sleep(5);
  if (write(go[1], "x", 1) != 1) return 1;
  int status;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
