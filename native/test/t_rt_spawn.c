/* posix_spawn keeps the child traced (origin spawn) even when the program passes an environment of its own without
 * LD_PRELOAD or IPCSCOPE; dlopen reports the library and its new mappings; an exec that fails after the image said
 * BYE (an executable file that is not a program) reconnects and keeps tracing. */
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  char *argv[] = {"true", NULL};
  char *envp[] = {"ONLY=this", NULL};
  pid_t pid;
  if (posix_spawn(&pid, "/bin/true", NULL, NULL, argv, envp)) return 10;
  int st;
  if (waitpid(pid, &st, 0) != pid || st) return 11;
  void *h = dlopen("libm.so.6", RTLD_NOW);
  if (!h) return 12;
  int fd = open("garbage", O_WRONLY | O_CREAT | O_TRUNC, 0755);
  if (fd < 0 || write(fd, "\x01\x02\x03\x04junk", 8) != 8) return 13;
  close(fd);
  char *gargv[] = {"./garbage", NULL};
  execv("./garbage", gargv); /* ENOEXEC */
  if (write(1, "after failed exec\n", 18) != 18) return 14;
  return 0;
}
