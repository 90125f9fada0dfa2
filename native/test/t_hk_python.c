/* A python3 program using os.pipe and os.fork runs unchanged under the shim: the pipe, the child's write and the
 * parent's read are recorded in the python processes. */
#include <unistd.h>

static const char script[] =
    "import os, sys\n"
    "r, w = os.pipe()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.close(r)\n"
    "    os.write(w, b'hello from the python child')\n"
    "    os._exit(0)\n"
    "os.close(w)\n"
    "data = os.read(r, 100)\n"
    "_, status = os.waitpid(pid, 0)\n"
    "sys.exit(0 if data == b'hello from the python child' and status == 0 else 3)\n";

int main(void) {
  execl("/usr/bin/python3", "python3", "-c", script, (char *)NULL);
  return 127;
}
