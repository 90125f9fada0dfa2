// demos/deadlock: ABBA on two mutexes — both lock calls stay open and the wait-for graph is a cycle of the two
// threads; taking the locks in one order removes the cycle and both threads finish.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, evs, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';
import { waitForGraph } from '../../src/common/model/analysis';

describe('deadlock: abba', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('deadlock', partCommand('deadlock', 'abba'), (run) => {
    test('two waits that never end, a cycle in the wait-for graph, and the deadlock finding', () => {
      const r = run();
      assert.match(r.stdout, /abba: deadlock/, context(r));
      const p = proc(r, './build/deadlock');
      const begins = evs(r, 'mutex_lock', { pid: p.pid, phase: 'begin' });
      assert.equal(new Set(begins.map((e) => e.tid)).size, 2, `two threads blocked in mutex_lock\n${context(r)}`);
      const g = waitForGraph(r.model);
      assert.equal(g.deadlocks.length, 1, context(r));
      assert.deepEqual(g.deadlocks[0].threads.map((t) => Number(t.split(/[:/]/)[1])).sort(), [...new Set(begins.map((e) => e.tid))].sort());
      assert.equal(r.summary.deadlocks, 1);
      assert.ok(r.summary.findings.some((f) => f.kind === 'deadlock'), JSON.stringify(r.summary.findings));
    });
  });
});

describe('deadlock: ordered', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('deadlock', partCommand('deadlock', 'ordered'), (run) => {
    test('one lock order: both threads finish, no deadlock', () => {
      const r = run();
      assert.match(r.stdout, /ordered: both threads finished/, context(r));
      assert.equal(r.summary.deadlocks, 0);
      assert.equal(waitForGraph(r.model).deadlocks.length, 0);
    });
  });
});

wholeRun('deadlock');
