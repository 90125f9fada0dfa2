/* shm_counter.c — the System V shmget counter from the notes: each run attaches the segment with key 0x20211013,
 * increments the int in it and prints it; `shm_counter remove` deletes the segment.
 * Fixed from the notes: shmget(key, 0, IPC_EXCL) was meaningless (IPC_EXCL without IPC_CREAT) — one
 * shmget(IPC_CREAT) does it; Logout() did not exist; failures exited with status 0; shmdt was unchecked; and the
 * segment was never removed. */
#include "demo.h"
#include <sys/ipc.h>
#include <sys/shm.h>

#define SHM_KEY ((key_t)demo_key(0x20211013)) /* mixed with IPCSCOPE_DEMO_TAG, see demo.h */

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "remove")) {
    int shmid = shmget(SHM_KEY, 0, 0);
    if (shmid == -1) { if (errno == ENOENT) return 0; die("shmget"); }
    CHECK(shmctl(shmid, IPC_RMID, NULL));
    printf("segment %#x removed\n", (unsigned)SHM_KEY);
    return 0;
  }
  int shmid = shmget(SHM_KEY, sizeof(int), IPC_CREAT | 0600); /* a new segment is zero-filled */
  if (shmid == -1) die("shmget");
  int *num = shmat(shmid, NULL, 0);
  if (num == (void *)-1) die("shmat");
  (*num)++; /* not atomic: two runs at once could lose an update (run them one after another) */
  printf("shared memory value : %d\n", *num);
  CHECK(shmdt(num));
  return 0;
}
