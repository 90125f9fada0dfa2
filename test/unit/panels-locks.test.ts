// Lock-contention panel data: ranking by total wait, holds and hand-offs, the wait-for graph with a deadlock cycle,
// lock-order inversions, and a recorded contended-mutex program under the real shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildLocksData, sortLocks } from '../../src/common/panels/locks';
import { PanelService } from '../../src/common/panels/service';
import { TraceModel, stronglyConnected, cycleThrough } from '../../src/common/model';
import type { EventSource } from '../../src/common/traceEvent';
import { TraceBuilder } from './panels-fixture';
import { compileC, recordProgram, tempDir, whyNoShim } from '../helpers/record';
import { kindId } from '../../src/common/vocabulary';

const model = (s: EventSource) => { const m = new TraceModel(s); m.update({ flush: true }); return m; };
const MA = 0x5000n, MB = 0x6000n;
const begin = { phase: 'begin' as const }, end = { phase: 'end' as const };

test('contention table: ranked by total wait, with holds, waiters, holders and sites', () => {
  const b = new TraceBuilder();
  const c = b.image(10, { exe: '/demo/counter' });
  // Lock A: thread 11 takes it uncontended and holds 40 ns; thread 12 waits 31 ns for it (a hand-off), holds 9 ns.
  b.ev(c, 11, 'mutex_lock', 10n, { mutex: MA }, { caller: 0x1111n });
  b.ev(c, 12, 'mutex_lock', 20n, { mutex: MA }, { ...begin, caller: 0x2222n });
  b.ev(c, 11, 'mutex_unlock', 50n, { mutex: MA });
  b.ev(c, 12, 'mutex_lock', 51n, { mutex: MA }, { ...end, caller: 0x2222n });
  b.ev(c, 12, 'mutex_unlock', 60n, { mutex: MA });
  // Lock B: three uncontended acquisitions, one failed trylock.
  for (let i = 0n; i < 3n; i++) { b.ev(c, 11, 'mutex_lock', 100n + i * 10n, { mutex: MB }, { caller: 0x3333n }); b.ev(c, 11, 'mutex_unlock', 105n + i * 10n, { mutex: MB }); }
  b.ev(c, 12, 'mutex_lock', 101n, { mutex: MB, how: 1 }, { result: 16, caller: 0x4444n }); // EBUSY
  const d = buildLocksData(model(b.build()));
  assert.equal(d.locks.length, 2);
  const [a, bb] = d.locks;
  assert.equal(a.name, 'mutex 0x5000', 'the lock with the most total wait ranks first');
  assert.equal(a.acquisitions, 2);
  assert.equal(a.contended, 1);
  assert.equal(a.contendedPct, 50);
  assert.equal(a.totalWaitNs, '31');
  assert.equal(a.maxWaitNs, '31');
  assert.equal(a.totalHoldNs, '49');
  assert.equal(a.maxHoldNs, '40');
  assert.equal(a.topWaiters[0].thread, '10/12');
  assert.equal(a.topHolders[0].thread, '10/11');
  assert.deepEqual(a.sites.map((s) => [s.caller, s.contended, s.totalWaitNs]), [['0x2222', 1, '31'], ['0x1111', 0, '0']]);
  assert.equal(bb.acquisitions, 3);
  assert.equal(bb.contended, 1, 'a failed trylock is contention');
  assert.equal(bb.contendedPct, 25);
  assert.deepEqual(sortLocks(d.locks, 'acquisitions').map((l) => l.name), ['mutex 0x6000', 'mutex 0x5000']);
  assert.deepEqual(sortLocks(d.locks, 'name', false).map((l) => l.name), ['mutex 0x5000', 'mutex 0x6000']);

  const tl = d.timeline(a.key)!;
  assert.deepEqual([...tl.spanKind].sort(), [0, 1, 1]);
  assert.equal(tl.handoffFromTs.length, 1);
  assert.equal(tl.handoffFromTs[0], 50n);
  assert.equal(tl.handoffToTs[0], 51n);
  assert.equal(tl.rows[tl.handoffFromRow[0]], 'counter 10/11');
  assert.equal(tl.rows[tl.handoffToRow[0]], 'counter 10/12');
  assert.deepEqual(d.inversions, []);
  assert.equal(d.firstDeadlockNs, undefined);
});

test('wait-for graph: an ABBA deadlock is a cycle, and the lock-order inversion is explained', () => {
  const b = new TraceBuilder();
  const c = b.image(20, { exe: '/demo/abba' });
  b.ev(c, 21, 'mutex_lock', 10n, { mutex: MA }, { caller: 0xa1n });
  b.ev(c, 22, 'mutex_lock', 11n, { mutex: MB }, { caller: 0xb1n });
  b.ev(c, 21, 'mutex_lock', 20n, { mutex: MB }, { ...begin, caller: 0xa2n }); // never ends
  b.ev(c, 22, 'mutex_lock', 30n, { mutex: MA }, { ...begin, caller: 0xb2n }); // never ends
  const d = buildLocksData(model(b.build()));
  const before = d.waitForAt(25n);
  assert.equal(before.edges.length, 1, 'at 25 only thread 21 waits (for 22, the holder of B)');
  assert.deepEqual([before.edges[0].from, before.edges[0].to], ['20/21', '20/22']);
  assert.equal(before.cycles.length, 0);
  const g = d.waitForAt(35n);
  assert.equal(g.cycles.length, 1);
  assert.deepEqual([...g.cycles[0].nodes].sort(), ['20/21', '20/22']);
  assert.match(g.cycles[0].explanation, /Deadlock: abba 20\/21 waits for abba 20\/22 \(held mutex 0x6000\); abba 20\/22 waits for abba 20\/21 \(held mutex 0x5000\)/);
  assert.equal(d.firstDeadlockNs, '30');
  assert.equal(d.inversions.length, 1);
  const inv = d.inversions[0];
  assert.deepEqual([inv.firstName, inv.secondName], ['mutex 0x5000', 'mutex 0x6000']);
  assert.match(inv.explanation, /took mutex 0x5000 then mutex 0x6000 .* took mutex 0x6000 then mutex 0x5000/);
  // Contention so far: both waits are still open (the program hangs), and count toward wait at the trace end.
  assert.equal(d.timeline(d.locks[0].key)!.spanEnd.includes(-1n), true);
});

test('wait-for graph across processes: two processes each blocked reading the pipe the other writes', () => {
  const b = new TraceBuilder();
  const p = b.image(30, { exe: '/demo/ping' }), q = b.image(31, { ppid: 30, origin: 'fork', exe: '/demo/ping', startNs: 5n });
  const P1 = { otype: 1, dev: 9, ino: 111 }, P2 = { otype: 1, dev: 9, ino: 222 };
  // Two pipes made before the fork; each process closes the ends it does not use, as the demos do.
  b.ev(p, 30, 'pipe', 1n, { readFd: 3, writeFd: 4, dev: 9, ino: 111 });
  b.ev(p, 30, 'pipe', 2n, { readFd: 5, writeFd: 6, dev: 9, ino: 222 });
  b.ev(p, 30, 'fork', 4n, {}, { result: 31 });
  b.ev(p, 30, 'close', 6n, { fd: 3, otype: 1, dev: 9, ino: 111 });
  b.ev(p, 30, 'close', 7n, { fd: 6, otype: 1, dev: 9, ino: 222 });
  b.ev(q, 31, 'close', 8n, { fd: 4, otype: 1, dev: 9, ino: 111 });
  b.ev(q, 31, 'close', 9n, { fd: 5, otype: 1, dev: 9, ino: 222 });
  b.ev(p, 30, 'write', 10n, { fd: 4, count: 1, ...P1 }, { ...begin });
  b.ev(p, 30, 'write', 11n, { fd: 4, count: 1, ...P1 }, { ...end, result: 1 });
  b.ev(q, 31, 'write', 12n, { fd: 6, count: 1, ...P2 }, { ...begin });
  b.ev(q, 31, 'write', 13n, { fd: 6, count: 1, ...P2 }, { ...end, result: 1 });
  b.ev(p, 30, 'read', 20n, { fd: 5, count: 1, ...P2 }, { ...begin }); // p waits for q's pipe
  b.ev(q, 31, 'read', 21n, { fd: 3, count: 1, ...P1 }, { ...begin }); // q waits for p's pipe
  const d = buildLocksData(model(b.build()));
  const g = d.waitForAt(30n);
  assert.equal(g.edges.length, 2);
  assert.ok(g.edges.every((e) => e.reason === 'pipe'));
  assert.equal(g.cycles.length, 1);
  assert.match(g.cycles[0].explanation, /other end of the pipe/);
});

test('the model finds one elementary cycle per strongly connected component (the panel\'s deadlock cycles)', () => {
  const adj: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: ['e'], e: [] };
  const next = (n: string) => adj[n];
  const comps = stronglyConnected(new Set(Object.keys(adj)), next).filter((c) => c.length > 1);
  assert.equal(comps.length, 1);
  const cyc = cycleThrough(comps[0][0], new Set(comps[0]), next)!;
  assert.deepEqual([...cyc].sort(), ['a', 'b', 'c']);
});

const ABBA_C = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;
static void *one(void *x) { (void)x; pthread_mutex_lock(&lock_a); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_b); return NULL; }
static void *two(void *x) { (void)x; pthread_mutex_lock(&lock_b); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_a); return NULL; }
int main(void) {
  pthread_t t1, t2;
  pthread_barrier_init(&both, NULL, 2);
  pthread_create(&t1, NULL, one, NULL); pthread_create(&t2, NULL, two, NULL);
  sleep(1);           /* both threads are stuck by now */
  puts("deadlocked"); fflush(stdout);
  _exit(0);
}`;

test('recorded ABBA deadlock under the shim: the cycle names lock_a and lock_b', async (t) => {
  const why = whyNoShim();
  if (why) return t.skip(why);
  const src = join(tempDir(), 'abba.c');
  writeFileSync(src, ABBA_C);
  const bin = compileC(src, { flags: ['-O0'] });
  const r = await recordProgram(bin, []);
  try {
    assert.match(r.stdout, /deadlocked/);
    let locks = 0; for (let i = 0; i < r.store.count; i++) if (r.store.kindAt(i) === kindId('mutex_lock')) locks++;
    if (!locks) return t.skip('the shim does not record mutex_lock yet');
    const service = new PanelService('locks', r.store, { title: 'abba', live: false, locale: 'en' });
    await service.rebuild();
    const d = service.locksData!;
    assert.ok(d.firstDeadlockNs, 'a deadlock was found');
    const g = d.waitForAt(BigInt(d.firstDeadlockNs!));
    assert.equal(g.cycles.length, 1);
    assert.match(g.cycles[0].explanation, /lock_a/);
    assert.match(g.cycles[0].explanation, /lock_b/);
    assert.equal(d.inversions.length, 1);
    assert.match(d.inversions[0].explanation, /abba\.c:\d+/, 'call sites resolve to file:line');
  } finally { r.cleanup(); }
});

test('wait-for graph at a past moment: each waiter waits for whoever held the lock then', () => {
  const b = new TraceBuilder();
  const c = b.image(40, { exe: '/demo/hot' });
  // 41 holds A 10–50; 42 waits 20–51 and holds 51–60; 43 waits 55–61 and holds 61–70.
  b.ev(c, 41, 'mutex_lock', 10n, { mutex: MA }, { caller: 0x1n });
  b.ev(c, 42, 'mutex_lock', 20n, { mutex: MA }, { ...begin, caller: 0x2n });
  b.ev(c, 41, 'mutex_unlock', 50n, { mutex: MA });
  b.ev(c, 42, 'mutex_lock', 51n, { mutex: MA }, { ...end, caller: 0x2n });
  b.ev(c, 43, 'mutex_lock', 55n, { mutex: MA }, { ...begin, caller: 0x3n });
  b.ev(c, 42, 'mutex_unlock', 60n, { mutex: MA });
  b.ev(c, 43, 'mutex_lock', 61n, { mutex: MA }, { ...end, caller: 0x3n });
  b.ev(c, 43, 'mutex_unlock', 70n, { mutex: MA });
  const d = buildLocksData(model(b.build()));
  assert.deepEqual(d.waitForAt(25n).edges.map((e) => [e.from, e.to, e.reason]), [['40/42', '40/41', 'lock']]);
  assert.deepEqual(d.waitForAt(57n).edges.map((e) => [e.from, e.to, e.reason]), [['40/43', '40/42', 'lock']]);
  assert.deepEqual(d.waitForAt(65n).edges, [], 'nobody waits once 43 has it');
});
