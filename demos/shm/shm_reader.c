/* shm_reader.c — maps the writer's object and busy-waits on `ready`, printing each message and clearing the flag.
 * Fixed from the notes: retries shm_open for up to 5 s so it may start before the writer; acknowledges the final
 * message so the writer can clean up. */
#include "demo.h"
#include "shm_common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

int main(void) {
  int fd = -1;
  for (int tries = 0; fd == -1; tries++) {
    fd = shm_open(SHM_NAME, O_RDWR, 0);
    if (fd == -1 && (errno != ENOENT || tries > 500)) die("shm_open (is the writer running?)");
    if (fd == -1) sleep_ms(10);
  }
  /* The object exists before the writer sizes it: wait for its full size, or mmap past the end would SIGBUS. */
  struct stat st;
  for (int tries = 0;; tries++) {
    CHECK(fstat(fd, &st));
    if (st.st_size >= (off_t)sizeof(shared_data_t)) break;
    if (tries > 500) { fprintf(stderr, "Reader: object never sized\n"); return 1; }
    sleep_ms(10);
  }
  shared_data_t *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (shared == MAP_FAILED) die("mmap");
  CHECK(close(fd));
  printf("Reader: Connected to shared memory\n");

  for (;;) {
    while (atomic_load_explicit(&shared->ready, memory_order_acquire) == 0)
      usleep(1000); /* <- busy waiting: spinning on the flag */
    int counter = shared->counter;
    if (counter == -1) {
      printf("Reader: Received termination signal.\n");
      atomic_store_explicit(&shared->ready, 0, memory_order_release);
      break;
    }
    printf("Reader: Read counter=%d, message='%s'\n", counter, shared->message);
    fflush(stdout);
    atomic_store_explicit(&shared->ready, 0, memory_order_release); /* "read it" */
  }
  CHECK(munmap(shared, sizeof *shared));
  printf("Reader: Done.\n");
  return 0;
}
