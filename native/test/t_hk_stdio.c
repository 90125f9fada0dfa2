/* stdio output into a pipe: printf + fflush, a 10000-byte fwrite, putchar, fputs left pending until exit, a dprintf,
 * a fdopen'ed stream closed with fclose, and a fopen'ed file. glibc writes these through its internal write, so the
 * shim records each flush from the stream's buffer; the parent checks it got every byte. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  int p[2], q[2];
  if (pipe(p) != 0 || pipe(q) != 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    printf("hello %d\n", 42);
    fflush(stdout);
    static char big[10000];
    memset(big, 'y', sizeof big);
    fwrite(big, 1, sizeof big, stdout);
    for (int i = 0; i < 3; i++) putchar('z');
    fflush(stdout);
    dprintf(q[1], "dp %d\n", 7);
    FILE *side = fdopen(q[1], "w");
    fputs("side channel\n", side);
    fclose(side);
    FILE *o = fopen("stdio.out", "we");
    if (!o) _exit(10);
    fputs("to a file\n", o);
    fclose(o);
    fputs("bye\n", stdout); /* still buffered when main returns: flushed by exit */
    return 0;
  }
  close(p[1]);
  close(q[1]);
  char buf[16384];
  ssize_t n, total = 0, side = 0;
  while ((n = read(p[0], buf, sizeof buf)) > 0) total += n;
  while ((n = read(q[0], buf, sizeof buf)) > 0) side += n;
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 2;
  return total == 9 + 10000 + 3 + 4 && side == 5 + 13 ? 0 : 3;
}
