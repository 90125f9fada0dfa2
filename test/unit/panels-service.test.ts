// The panel service following a live session's model the way the extension host drives it: the model updated batch
// by batch, the panels refreshed from it (nothing posted when nothing is new), the last refresh final. Each panel
// ends with what a build from the finished trace gives. The trace is a real program (ABBA deadlock after a little
// contention, and a pipe to a forked child) recorded under the real shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanelService } from '../../src/common/panels/service';
import { TraceModel } from '../../src/common/model';
import type { EventSource } from '../../src/common/traceEvent';
import type { PanelKind } from '../../src/common/panels/protocol';
import { compileC, recordProgram, tempDir, whyNoShim } from '../helpers/record';

const PROGRAM = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;
static void *one(void *x) { (void)x; pthread_mutex_lock(&lock_a); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_b); return NULL; }
static void *two(void *x) { (void)x; pthread_mutex_lock(&lock_b); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_a); return NULL; }
int main(void) {
  int fd[2]; char buf[64];
  if (pipe(fd)) return 1;
  pid_t c = fork();
  if (c == 0) { close(fd[1]); while (read(fd[0], buf, sizeof buf) > 0) {} _exit(0); }
  close(fd[0]);
  for (int i = 0; i < 20; i++) { write(fd[1], "tick", 4); usleep(2000); }
  close(fd[1]); waitpid(c, NULL, 0);
  pthread_t d1, d2;
  pthread_barrier_init(&both, NULL, 2);
  pthread_create(&d1, NULL, one, NULL); pthread_create(&d2, NULL, two, NULL);
  usleep(200000);
  puts("deadlocked"); fflush(stdout);
  _exit(0);
}`;

const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>, String) : x instanceof Map ? [...x] : x)));

test('live: the three panels follow a growing model and end with what the finished trace gives', async (t) => {
  const why = whyNoShim();
  if (why) return t.skip(why);
  const src = join(tempDir(), 'live_panels.c');
  writeFileSync(src, PROGRAM);
  const bin = compileC(src, { flags: ['-O0'] });
  const r = await recordProgram(bin, [], { timeoutMs: 60_000 });
  try {
    assert.match(r.stdout, /deadlocked/);
    let limit = 0;
    const view: EventSource = { get count() { return Math.min(limit, r.store.count); }, get: (i) => r.store.get(i), connections: () => r.store.connections() };
    const model = new TraceModel(view, { live: true, lagNs: 1_000_000n });
    const kinds: PanelKind[] = ['pages', 'locks', 'map'];
    const live = kinds.map((k) => new PanelService(k, model, { title: 'live', live: true, locale: 'en', symbolize: false }));
    const changes = new Map<PanelKind, number>(kinds.map((k) => [k, 0]));
    const step = Math.max(1, Math.floor(r.store.count / 12));
    for (limit = step; limit < r.store.count + step; limit += step) {
      model.update();
      for (const s of live) if (await s.refresh({ final: false })) changes.set(s.kind, changes.get(s.kind)! + 1);
    }
    // Nothing new: nothing to post.
    for (const s of live) assert.equal(await s.refresh({ final: false }), false, `${s.kind}: no change without new events`);
    for (const k of kinds) assert.ok(changes.get(k)! >= 2, `${k} changed ${changes.get(k)} times as the trace grew`);
    model.update({ flush: true });
    for (const s of live) { s.ended(); assert.equal(await s.refresh({ final: true }), true, `${s.kind}: the final refresh builds`); }

    const done = kinds.map((k) => new PanelService(k, r.store, { title: 'done', live: false, locale: 'en', symbolize: false }));
    for (const s of done) await s.rebuild();
    assert.deepEqual(plain(live[2].mapData), plain(done[2].mapData), 'map');
    assert.deepEqual(plain(live[1].locksData!.locks), plain(done[1].locksData!.locks), 'lock table');
    assert.equal(live[1].locksData!.firstDeadlockNs, done[1].locksData!.firstDeadlockNs);
    // (whether the blocked threads' last events reach the collector before _exit is the shim's business: not asserted here)
    if (!done[1].locksData!.firstDeadlockNs) t.diagnostic('this recording has no open lock waits: the deadlock was not seen');
    assert.deepEqual(plain(live[0].pagesData!.processes), plain(done[0].pagesData!.processes), 'page images and mappings');
    assert.ok(live[2].mapData!.nodes.some((n) => n.kind === 'pipe'), 'the pipe is on the map');
  } finally { r.cleanup(); }
});
