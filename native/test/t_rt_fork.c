/* fork + exec + wait + exit status, a failed exec, and the page-table snapshots on both sides of the fork. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "child")) exit(5); /* the exec'd image */
  char *bad[] = {"nope", NULL};
  if (execv("/nonexistent/program", bad) != -1) return 20;
  pid_t pid = fork();
  if (pid < 0) return 21;
  if (pid == 0) {
    char *args[] = {argv[0], "child", NULL};
    execv("/proc/self/exe", args);
    _exit(99);
  }
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) return 22;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 5) return 23;
  return 0;
}
