/* A collector that refuses the secret (HTTP 401): one stderr line, and the program runs untraced to its end. */
#include <unistd.h>
int main(void) { return write(1, "ran\n", 4) == 4 ? 6 : 1; }
