/* Collector absent (nothing listens on the port): one line on stderr, the program runs normally and untraced. */
#include <stdio.h>
#include <unistd.h>
int main(void) {
  if (write(1, "still running\n", 14) != 14) return 1;
  return 3;
}
