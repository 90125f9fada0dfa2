/* Stepping armed with stop on entry (pause=2) while writing to the file sink: nobody could release a held thread,
 * so the shim must never hold one — the program runs to its end and no `paused` event is recorded. */
#include <unistd.h>

int main(void) {
  int p[2];
  if (pipe(p)) return 3;
  for (int i = 0; i < 5; i++)
    if (write(p[1], "step", 4) != 4) return 4;
  char b[32];
  if (read(p[0], b, sizeof b) <= 0) return 5;
  return 0;
}
