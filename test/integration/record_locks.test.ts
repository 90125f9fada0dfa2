// `ipcscope record` on real programs: file locks and pthread mutexes, with their waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { arg, compileC, events, recordProgram, rootPid, tempDir, whyNoShim } from '../helpers/record';
import { PHASE } from '../../src/common/vocabulary';

const skip = whyNoShim();
const FIX = 'test/fixtures/record';
const LOCK_EX = 2n, LOCK_UN = 8n;

test('flock held by one process while another waits: the waiter\'s begin/end brackets the holder\'s release', { skip }, async () => {
  const file = join(tempDir(), 'flock-target');
  const r = await recordProgram(compileC(`${FIX}/flock_wait.c`), [file]);
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const parent = rootPid(s);
  const child = Number(events(s, 'fork', { pid: parent })[0].result);
  const waitBegin = events(s, 'flock', { pid: child, phase: 'begin', args: { op: LOCK_EX } });
  const waitEnd = events(s, 'flock', { pid: child, phase: 'end', args: { op: LOCK_EX } });
  assert.equal(waitBegin.length, 1, 'the child waited: one begin');
  assert.equal(waitEnd.length, 1);
  assert.equal(waitEnd[0].result, 0n);
  const release = events(s, 'flock', { pid: parent, args: { op: LOCK_UN } })[0];
  assert.ok(release, 'the parent\'s LOCK_UN');
  // same file on both sides
  assert.equal(arg(waitBegin[0], 'flock', 'ino'), arg(release, 'flock', 'ino'));
  assert.notEqual(arg(release, 'flock', 'ino'), 0n);
  assert.ok(waitBegin[0].ts < release.ts && release.ts < waitEnd[0].ts,
    `waiter ${waitBegin[0].ts}..${waitEnd[0].ts} must bracket the release at ${release.ts}`);
  assert.ok(waitEnd[0].ts - waitBegin[0].ts > 100_000_000n, 'the wait lasted over 100 ms');
  r.cleanup();
});

test('a pthread mutex contended by 4 threads: every acquisition recorded, waits as begin/end pairs', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/mutex_threads.c`), [], { recordArgs: ['--no-page-faults'] });
  assert.equal(r.exit.status, 0, r.stderr);
  const m = /counter 1000 mutex 0x([0-9a-f]+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const mutex = BigInt(`0x${m[1]}`);
  const s = r.store;
  const pid = rootPid(s);
  const locks = events(s, 'mutex_lock', { pid, args: { mutex } });
  const acquired = locks.filter((e) => e.phase !== PHASE.begin && e.result === 0n);
  assert.equal(acquired.length, 1000, 'every acquisition: instant (uncontended) or end (after a wait)');
  const begins = locks.filter((e) => e.phase === PHASE.begin);
  const ends = locks.filter((e) => e.phase === PHASE.end);
  assert.ok(begins.length > 0, 'some acquisitions had to wait');
  assert.equal(begins.length, ends.length);
  assert.ok(new Set(begins.map((e) => e.tid)).size >= 2, 'waits in more than one thread');
  // each thread's begin is followed by its own end
  for (const tid of new Set(begins.map((e) => e.tid))) {
    const seq = locks.filter((e) => e.tid === tid && e.phase !== PHASE.instant).map((e) => e.phase);
    for (let i = 0; i < seq.length; i += 2) assert.deepEqual(seq.slice(i, i + 2), [PHASE.begin, PHASE.end], `thread ${tid}`);
  }
  assert.equal(events(s, 'mutex_unlock', { pid, args: { mutex } }).length, 1000);
  assert.equal(new Set(acquired.map((e) => e.tid)).size, 4);
  r.cleanup();
});
