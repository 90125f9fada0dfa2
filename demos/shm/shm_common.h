/* The POSIX shared-memory layout shared by shm_writer and shm_reader (as in the notes). */
#ifndef SHM_COMMON_H
#define SHM_COMMON_H
#include <stdatomic.h>
#define SHM_NAME demo_name("/my_shared_memory") /* + IPCSCOPE_DEMO_TAG, see demo.h */
typedef struct {
  int counter;
  char message[256];
  /* The notes used a plain int: the compiler may keep it in a register and loop forever, and nothing orders the
   * message against the flag. An atomic with release/acquire fixes both. */
  atomic_int ready;
} shared_data_t;
#endif
