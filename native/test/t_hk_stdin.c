/* stdio input from a pipe: the parent writes lines with write(); the child reads them with fgets, getc, fread,
 * getline and scanf. glibc refills the stream with its internal read, so the shim records each refill as a read on
 * the pipe, and the end of file as a read returning 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void put(int fd, const char *s) {
  if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) _exit(20);
}

int main(void) {
  int p[2], go[2];
  if (pipe(p) != 0 || pipe(go) != 0) return 1;
  pid_t c = fork();
  if (c == 0) {
    close(p[1]);
    close(go[0]);
    FILE *in = fdopen(p[0], "r");
    char line[64];
    if (!fgets(line, sizeof line, in) || strcmp(line, "first line\n")) _exit(10);
    put(go[1], "1");
    if (getc(in) != 'x' || getc(in) != '\n') _exit(11);
    put(go[1], "2");
    char block[5];
    if (fread(block, 1, 5, in) != 5 || memcmp(block, "12345", 5)) _exit(12);
    put(go[1], "3");
    char *l = NULL;
    size_t cap = 0;
    if (getline(&l, &cap, in) != 10 || strcmp(l, "6789 tail\n")) _exit(13);
    free(l);
    int v = 0;
    if (fscanf(in, "%d", &v) != 1 || v != 77) _exit(14);
    if (getc(in) != '\n' || getc(in) != EOF) _exit(15); /* the writer closed: end of file */
    _exit(0);
  }
  close(p[0]);
  close(go[1]);
  char b;
  put(p[1], "first line\n");
  if (read(go[0], &b, 1) != 1) return 2;
  put(p[1], "x\n");
  if (read(go[0], &b, 1) != 1) return 3;
  put(p[1], "12345");
  if (read(go[0], &b, 1) != 1) return 4;
  put(p[1], "6789 tail\n77\n");
  close(p[1]);
  int st;
  return waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 5;
}
