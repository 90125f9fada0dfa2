/* A Python script under the shim with the launcher's PYTHONPATH (native/python first): its sitecustomize installs the
 * shim's profile hook, and each traced call is preceded by a python_location naming the script's line (never a file
 * of the stdlib), then line 0 once the script is outside its calls again. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char script[] =
    "import os, subprocess\n"                    /* 1 */
    "r, w = os.pipe()\n"                          /* 2 */
    "os.write(w, b'from line three')\n"           /* 3 */
    "data = os.read(r, 100)\n"                    /* 4 */
    "subprocess.run(['true'], check=True)\n"      /* 5: its fork and pipes happen in subprocess.py */
    "assert data == b'from line three'\n";

int main(void) {
  char exe[PATH_MAX], hooks[PATH_MAX + 32], path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return 2;
  exe[n] = 0;
  /* build/test/t_hk_pyloc → native/python */
  snprintf(hooks, sizeof hooks, "%s/../../python", dirname(exe));
  if (!realpath(hooks, path)) return 3;
  setenv("PYTHONPATH", path, 1);
  const char *dir = getenv("IPS_TEST_DIR");
  snprintf(path, sizeof path, "%s/pyloc.py", dir ? dir : ".");
  FILE *f = fopen(path, "w");
  if (!f || fputs(script, f) < 0 || fclose(f)) return 4;
  execl("/usr/bin/python3", "python3", path, (char *)NULL);
  return 127;
}
