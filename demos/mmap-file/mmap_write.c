/* mmap_write.c — writing a file through a MAP_SHARED mapping, msync() to push it to the file, then reading the file
 * back with ordinary stdio (the notes' 4.4 example).
 * Fixed from the notes: ftruncate, msync, munmap, close, fopen and fgets are checked; the file lives in the current
 * directory under a per-run name instead of a fixed /tmp path. */
#include "demo.h"
#include <fcntl.h>
#include <sys/mman.h>

int main(void) {
  char filepath[64];
  snprintf(filepath, sizeof filepath, "mmap_example-%d.dat", (int)getpid());
  const size_t filesize = 4096;
  int fd = open(filepath, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1) die("open");
  CHECK(ftruncate(fd, (off_t)filesize)); /* a mapping cannot grow the file: size it first */
  char *mapped = mmap(NULL, filesize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) die("mmap");

  strcpy(mapped, "Hello, Memory-Mapped File!\n"); /* a plain memory store: no write() call */
  printf("Written: %s", mapped);
  CHECK(msync(mapped, filesize, MS_SYNC)); /* <- flush the dirty page to the file now */
  CHECK(munmap(mapped, filesize));
  CHECK(close(fd));

  FILE *f = fopen(filepath, "r");
  if (!f) die("fopen");
  char buffer[256];
  if (!fgets(buffer, sizeof buffer, f)) die("fgets");
  printf("File content: %s", buffer);
  fclose(f);
  CHECK(unlink(filepath));
  return strcmp(buffer, "Hello, Memory-Mapped File!\n") == 0 ? 0 : 1;
}
