// demos/mutex: counter++ without a lock loses updates, with a mutex the total is exact and the threads queue on the
// mutex (contended acquisitions are wait spans); test-and-set and Peterson's algorithm are exact and make no
// system call at all — spinning is invisible to the kernel.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, evs, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

describe('mutex: counter', { skip: whyNoDemos(), timeout: 180_000 }, () => {
  recorded('mutex', partCommand('mutex', 'counter'), (run) => {
    test('with the mutex the total is exact: 4 threads × 20,000 = 80,000; without it never more than 4,000,000', () => {
      const r = run();
      const without = /Without mutex: counter = (\d+)/.exec(r.stdout), withM = /With mutex: +counter = (\d+)/.exec(r.stdout);
      assert.ok(without && withM, context(r));
      assert.ok(Number(without[1]) <= 4_000_000);
      assert.equal(Number(withM[1]), 80_000);
    });
    test('the mutex: 80,000 acquisitions by 4 threads, some contended (threads waited for each other)', () => {
      const r = run();
      const p = proc(r, './build/counter');
      const mutex = r.model.lockStats().filter((s) => s.kind === 'mutex').sort((a, b) => b.acquisitions - a.acquisitions)[0];
      assert.ok(mutex, context(r));
      // Under back-pressure the shim may drop a few events, and says so (summary.dropped): never silently.
      const dropped = r.summary.dropped;
      assert.ok(dropped <= r.summary.events / 20, `${dropped} of ${r.summary.events} events dropped`);
      assert.ok(mutex.acquisitions <= 80_000 && mutex.acquisitions >= 80_000 - dropped, `${mutex.acquisitions} acquisitions, ${dropped} events dropped`);
      assert.equal(new Set([...mutex.holders.values()].map((h) => h.tid)).size, 4, 'held by four threads');
      assert.ok(mutex.contended >= 1, 'contention is visible');
      assert.ok(mutex.waitNs > 0n);
      const waits = evs(r, 'mutex_lock', { pid: p.pid, phase: 'begin' });
      assert.ok(Math.abs(waits.length - mutex.contended) <= dropped, 'each contended acquisition is a begin/end span');
    });
  });
});

for (const [part, name] of [['spinlock', './build/spinlock'], ['peterson', './build/peterson']] as const) {
  describe(`mutex: ${part}`, { skip: whyNoDemos(), timeout: 120_000 }, () => {
    recorded('mutex', partCommand('mutex', part), (run) => {
      test('two threads, an exact total, and not one lock event: the spinning never enters the kernel', () => {
        const r = run();
        const p = proc(r, name);
        assert.match(r.stdout, part === 'spinlock' ? /test-and-set lock: +counter = 400000 \(expected 400000\)/ : /Peterson: counter = 400000 \(expected 400000\)/);
        assert.ok(evs(r, 'thread_start', { pid: p.pid }).length >= 2, 'two worker threads');
        for (const k of ['mutex_lock', 'spin_lock', 'sem_wait', 'cond_wait'])
          assert.equal(evs(r, k, { pid: p.pid }).length, 0, `no ${k}`);
      });
    });
  });
}

wholeRun('mutex');
