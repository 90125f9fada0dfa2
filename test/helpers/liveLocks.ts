// A program for the live lock tests: two threads take a global mutex (hot_lock) 100 times in all, then it prints
// "waiting" and blocks on its stdin until the test ends it, so a test can look at a live session's lock table while
// the program is still running. Traced for real: the shim streams to a real Collector over its websocket.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Collector } from '../../src/common/collector';
import { TracedProcess } from '../../src/common/launcher';
import { compileC, tempDir } from './record';

export const LIVE_LOCKS_PROGRAM = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *worker(void *x) {
  (void)x;
  for (int i = 0; i < 50; i++) {
    pthread_mutex_lock(&hot_lock); /* THE LOCK LINE */
    counter++; usleep(100);
    pthread_mutex_unlock(&hot_lock);
  }
  return NULL;
}
int main(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  usleep(20000);
  printf("waiting %ld\n", counter); fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {}
  return 0;
}`;
/** The 1-based line of the pthread_mutex_lock call in live_locks.c. */
export const LIVE_LOCK_LINE = LIVE_LOCKS_PROGRAM.split('\n').findIndex((l) => l.includes('THE LOCK LINE')) + 1;

export interface LiveLocksRun {
  collector: Collector;
  proc: TracedProcess;
  /** Whether the program has exited. */
  exited(): boolean;
  stdout(): string;
  /** Ends the program's stdin and waits for it and its connections to close. */
  finish(): Promise<number | null>;
  close(): Promise<void>;
}

/** Compiles live_locks.c (-O0 -g) and starts it under the shim with a fresh collector. */
export async function startLiveLocks(): Promise<LiveLocksRun> {
  const src = join(tempDir(), 'live_locks.c');
  writeFileSync(src, LIVE_LOCKS_PROGRAM);
  const bin = compileC(src, { flags: ['-O0'] });
  const collector = await Collector.start({});
  const proc = TracedProcess.launch({ command: bin, args: [], collector, stdio: 'pipe' });
  let exited = false, out = '';
  void proc.exited.then(() => { exited = true; });
  proc.on('stdout', (d: Buffer) => { out += d.toString(); });
  const finish = async () => {
    proc.endInput();
    const { code } = await proc.exited;
    for (let i = 0; i < 200 && collector.liveConnections().length; i++) await new Promise((r) => setTimeout(r, 25));
    return code;
  };
  return {
    collector, proc, exited: () => exited, stdout: () => out, finish,
    close: async () => { proc.endInput(); await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 5000))]); await collector.close(); },
  };
}
