/* shm_writer.c — POSIX shared memory with a `ready` flag and busy waiting: writes five messages, each time waiting
 * (spinning) until the reader has cleared the flag; then a counter of -1 says "done".
 * Fixed from the notes: the flag is atomic; the writer waits for the reader to acknowledge the last message instead
 * of sleep(1) and hoping; the object is unlinked even when the reader never comes (5 s timeout). */
#include "demo.h"
#include "shm_common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* Spin until the reader clears `ready`; give up after about 5 s. */
static int wait_for_reader(shared_data_t *shared) {
  for (int spins = 0; atomic_load_explicit(&shared->ready, memory_order_acquire) == 1; spins++) {
    if (spins > 5000) return -1;
    usleep(1000); /* <- busy waiting: the writer polls the flag instead of sleeping on a kernel object */
  }
  return 0;
}

int main(void) {
  int fd = shm_open(SHM_NAME, O_CREAT | O_RDWR, 0600);
  if (fd == -1) die("shm_open");
  CHECK(ftruncate(fd, sizeof(shared_data_t)));
  shared_data_t *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (shared == MAP_FAILED) die("mmap");
  CHECK(close(fd)); /* the mapping stays valid */
  shared->counter = 0;
  atomic_store(&shared->ready, 0);
  printf("Writer: Shared memory created\n");
  fflush(stdout);

  int status = 0;
  for (int i = 1; i <= 5 && status == 0; i++) {
    shared->counter = i;
    snprintf(shared->message, sizeof shared->message, "Message #%d from writer", i);
    atomic_store_explicit(&shared->ready, 1, memory_order_release); /* publish counter + message */
    printf("Writer: Wrote counter=%d, message='%s'\n", shared->counter, shared->message);
    fflush(stdout);
    status = wait_for_reader(shared);
  }
  if (status == 0) {
    shared->counter = -1; /* termination */
    atomic_store_explicit(&shared->ready, 1, memory_order_release);
    status = wait_for_reader(shared);
  }
  if (status != 0) fprintf(stderr, "Writer: reader did not answer within 5 s\n");
  CHECK(munmap(shared, sizeof *shared));
  CHECK(shm_unlink(SHM_NAME));
  printf("Writer: Done.\n");
  return status == 0 ? 0 : 1;
}
