/* exec_write: the first image's only traced call is its exec of itself; the new image's first traced call is a
 * write. A breakpoint on write must stop there: the new image holds at its first call until its breakpoints are in
 * place (otherwise it writes before they arrive). */
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1) {
    write(1, "after exec\n", 11); /* first traced call of the new image */
    return 0;
  }
  execl(argv[0], argv[0], "again", (char *)0);
  return 1;
}
