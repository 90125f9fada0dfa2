/* mmap_orders.c — two processes map the same file (the notes' MAP_FILE of 1000 ORD records). The parent creates and
 * maps the file and fills the orders; a child process opens and maps the file again by name, updates order 0; the
 * parent sees the child's change through its own mapping, with no read() or write() between them.
 * Fixed from the notes: the second program mapped with an uninitialised `size`; the first mapped sizeof(ORD)*1000-1
 * bytes; no call was checked; the file was left behind. */
#include "demo.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MAP_NAME demo_name("./MAP_FILE") /* + IPCSCOPE_DEMO_TAG, see demo.h */
#define ORDERS 1000

typedef struct _ORD {
  int type;
  double prc;
  double qty;
} ORD;

static ORD *map_orders(int flags) {
  int fd = open(MAP_NAME, flags, 0600);
  if (fd == -1) die("open MAP_FILE");
  if (flags & O_CREAT) CHECK(ftruncate(fd, sizeof(ORD) * ORDERS)); /* the notes used lseek + write of one byte */
  ORD *orders = mmap(NULL, sizeof(ORD) * ORDERS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (orders == MAP_FAILED) die("mmap");
  CHECK(close(fd)); /* the mapping keeps the file open */
  return orders;
}

int main(void) {
  ORD *pord = map_orders(O_RDWR | O_CREAT | O_TRUNC);
  for (int i = 0; i < ORDERS; i++) pord[i] = (ORD){ .type = 1, .prc = 100.0 + i, .qty = 10 };
  printf("parent: order 0 = type %d, %.2f x %.0f\n", pord[0].type, pord[0].prc, pord[0].qty);
  fflush(stdout);

  pid_t pid = fork();
  if (pid == -1) die("fork");
  if (pid == 0) {
    ORD *mine = map_orders(O_RDWR); /* a second, independent mapping of the same file */
    mine[0].type = 2;                /* <- a store into the page cache page both mappings share */
    mine[0].prc = 99.5;
    mine[0].qty = 42;
    printf("child:  set order 0 to type 2, 99.50 x 42\n");
    fflush(stdout);
    CHECK(munmap(mine, sizeof(ORD) * ORDERS));
    _exit(0);
  }
  int status;
  CHECK(waitpid(pid, &status, 0));
  printf("parent: order 0 = type %d, %.2f x %.0f (seen through the parent's own mapping)\n", pord[0].type, pord[0].prc, pord[0].qty);
  int ok = pord[0].type == 2 && pord[0].qty == 42;
  CHECK(munmap(pord, sizeof(ORD) * ORDERS));
  CHECK(unlink(MAP_NAME));
  return ok ? 0 : 1;
}
