/* debug test target: three workers each write to /dev/null every 2 ms for a few seconds. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static int fd;

static void *worker(void *arg) {
  (void)arg;
  for (int i = 0; i < 2000; i++) {
    write(fd, "x", 1);
    usleep(2000);
  }
  return NULL;
}

int main(void) {
  fd = open("/dev/null", O_WRONLY);
  pthread_t t[3];
  for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  return 0;
}
