/* System V IPC across fork: a message queue (the child waits in msgrcv until the parent sends type 2), a shared
 * memory segment written by the child and read by the parent, and a semaphore the parent waits on until the
 * child posts it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg { long mtype; char text[32]; };
union semun { int val; struct semid_ds *buf; unsigned short *array; };

#include "blocked_in.h"

int main(void) {
  int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  if (q < 0 || shm < 0 || sem < 0) return 1;
  union semun arg = {.val = 0};
  if (semctl(sem, 0, SETVAL, arg) != 0) return 2;
  pid_t c = fork();
  if (c == 0) {
    struct msg m;
    if (msgrcv(q, &m, sizeof m.text, 2, 0) != 7 || strcmp(m.text, "second") != 0) _exit(10);
    char *p = shmat(shm, NULL, 0);
    if (p == (void *)-1) _exit(11);
    strcpy(p, "from the child");
    shmdt(p);
    struct sembuf post = {0, 1, 0};
    if (semop(sem, &post, 1) != 0) _exit(12);
    _exit(0);
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)c);
  if (!blocked_in(path, SYS_msgrcv, SYS_msgrcv)) return 6; /* the child waits in msgrcv */
  struct msg m1 = {1, "first"}, m2 = {2, "second"};
  if (msgsnd(q, &m1, 6, 0) != 0 || msgsnd(q, &m2, 7, 0) != 0) return 3;
  struct sembuf wait_op = {0, -1, 0};
  if (semop(sem, &wait_op, 1) != 0) return 4;
  char *p = shmat(shm, NULL, SHM_RDONLY);
  int ok = p != (void *)-1 && strcmp(p, "from the child") == 0;
  shmdt(p);
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) ok = 0;
  msgctl(q, IPC_RMID, NULL);
  shmctl(shm, IPC_RMID, NULL);
  semctl(sem, 0, IPC_RMID);
  return ok ? 0 : 5;
}
