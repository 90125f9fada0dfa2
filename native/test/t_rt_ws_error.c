/* An ERROR message from the collector reaches the program's stderr ("ipcscope: collector error for pid N: ..."),
 * written by the sender thread, whose own file table does not hold fd 2 (it reopens the program's stderr). */
#include <unistd.h>
int main(void) {
  usleep(300000);
  return 0;
}
