/* A shell pipeline runs unchanged under the shim: /bin/sh -c 'echo … | tr a-z A-Z > out.txt' — echo writes into a
 * pipe that tr reads, in two traced processes, and the result is right. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  pid_t c = fork();
  if (c == 0) {
    execl("/bin/sh", "sh", "-c", "echo shell pipeline | tr a-z A-Z > out.txt", (char *)NULL);
    _exit(127);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 2;
  FILE *f = fopen("out.txt", "r");
  char buf[64] = {0};
  if (!f || !fgets(buf, sizeof buf, f)) return 3;
  fclose(f);
  return strcmp(buf, "SHELL PIPELINE\n") == 0 ? 0 : 4;
}
