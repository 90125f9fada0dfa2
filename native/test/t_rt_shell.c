/* Real programs under the shim: /bin/sh -c 'a | b' and a python3 script, each with its children traced
 * (fork/exec through dash and python's subprocess), their output intact. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(char *const argv[], const char *want) {
  int p[2];
  if (pipe(p)) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(p[1]);
  char buf[256] = {0};
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || strcmp(buf, want)) {
    fprintf(stderr, "%s: status %d output [%s]\n", argv[0], st, buf);
    return -1;
  }
  return 0;
}
int main(void) {
  char *sh[] = {"/bin/sh", "-c", "echo hello pipe | tr a-z A-Z", NULL};
  if (run(sh, "HELLO PIPE\n")) return 10;
  char *py[] = {"python3", "-c",
                "import subprocess, os\n"
                "out = subprocess.run(['echo', 'from child'], capture_output=True).stdout\n"
                "print(out.decode().strip(), os.getpid() > 0)", NULL};
  if (run(py, "from child True\n")) return 11;
  return 0;
}
