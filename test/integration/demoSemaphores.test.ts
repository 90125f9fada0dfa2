// demos/semaphores: a semaphore of 2 admits two of five threads at a time (three wait); the bounded buffer's
// producers and consumers wait on `empty` and `full` and every item is consumed once (C and Python).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { byTime, context, evs, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

describe('semaphores: named', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('semaphores', partCommand('semaphores', 'named'), (run) => {
    test('at most 2 threads between their sem_wait and sem_post, and 3 of the 5 had to wait', () => {
      const r = run();
      const p = proc(r, './build/named_sem');
      const open = evs(r, 'sem_open', { pid: p.pid }).find((e) => e.err === 0);
      assert.ok(open, context(r));
      const sem = open.result;
      const acquired = evs(r, 'sem_wait', { pid: p.pid }).filter((e) => e.phase !== 1 && e.err === 0 && e.args[0] === BigInt.asUintN(64, sem));
      const posts = evs(r, 'sem_post', { pid: p.pid }).filter((e) => e.err === 0);
      assert.equal(acquired.length, 5);
      assert.equal(posts.length, 5);
      assert.equal(acquired.filter((e) => e.phase === 2).length, 3, 'three waits (begin/end spans); two got in at once');
      // Inside = from the acquisition to the same thread's post. sem_post is recorded after it returns, so the thread
      // it woke may record its acquisition a few microseconds before the post: count the post 1 ms early (the
      // threads stay inside for 200 ms).
      const steps = [...acquired.map((e) => ({ ts: e.ts, d: 1 })), ...posts.map((e) => ({ ts: e.ts - 1_000_000n, d: -1 }))]
        .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.d - b.d));
      let inside = 0, most = 0;
      for (const s of steps) { inside += s.d; most = Math.max(most, inside); }
      assert.equal(most, 2, 'never more than two inside');
      const waits = evs(r, 'sem_wait', { pid: p.pid, phase: 'end' }).sort(byTime);
      for (const w of waits) assert.ok(posts.some((q) => q.ts - 1_000_000n <= w.ts && q.tid !== w.tid), 'each wait ends when another thread posts');
    });
  });
});

describe('semaphores: bounded buffer (C)', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('semaphores', partCommand('semaphores', 'bounded-buffer-c'), (run) => {
    test('20 items through 5 slots: 20 acquisitions of each semaphore, 40 of the mutex, each item consumed once', () => {
      const r = run();
      const p = proc(r, './build/bounded_buffer');
      assert.match(r.stdout, /every item consumed exactly once/, context(r));
      const sems = r.model.lockStats().filter((s) => s.kind === 'semaphore');
      assert.equal(sems.length, 2, 'empty and full');
      assert.deepEqual(sems.map((s) => s.acquisitions), [20, 20]);
      const mutex = r.model.lockStats().find((s) => s.kind === 'mutex');
      assert.equal(mutex?.acquisitions, 40);
      assert.equal(evs(r, 'sem_post', { pid: p.pid }).length, 40);
    });
  });
});

describe('semaphores: bounded buffer (Python)', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('semaphores', partCommand('semaphores', 'bounded-buffer-py'), (run) => {
    test('threading.Semaphore runs on POSIX semaphores: sem_wait/sem_post from the four worker threads', () => {
      const r = run();
      const p = proc(r, 'bounded_buffer.py');
      assert.match(r.stdout, /every item consumed exactly once/, context(r));
      const tids = new Set(evs(r, 'sem_post', { pid: p.pid }).map((e) => e.tid));
      assert.ok(tids.size >= 4, `sem_post from ${tids.size} threads`);
      assert.ok(r.model.lockStats().some((s) => s.kind === 'semaphore' && s.acquisitions >= 10));
    });
  });
});

wholeRun('semaphores');
