// demos/shared-vs-private: without sharing the parent still sees 1000; with an mmap(MAP_SHARED) page it reads the
// 2000 the child wrote, and the trace shows the child touching the shared page before the parent reaps it.
// The model has no flow for stores into shared memory (no system call carries them), so the child → parent flow is
// asserted from the raw events: the parent's MAP_SHARED mmap, the fork, the child's fault in that page, the wait.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { byTime, context, evs, forkedChildren, num, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

const MAP_SHARED = 0x01, MAP_ANONYMOUS = 0x20;

describe('shared-vs-private: non-shared-memory.py', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('shared-vs-private', partCommand('shared-vs-private', 'non-shared'), (run) => {
    test('the parent still sees 1000 after the child set its copy to 2', () => {
      assert.match(run().stdout, /after the child exited\): 1000\s*$/, context(run()));
    });
    test('the child is a fork of the parent and no shared anonymous page joins them', () => {
      const parent = proc(run(), 'non-shared-memory.py');
      assert.equal(forkedChildren(run(), parent).length, 1, context(run()));
      const sharedAnon = evs(run(), 'mmap', { pid: parent.pid }).filter((e) => e.err === 0 && (num(e, 'mmap', 'flags') & (MAP_SHARED | MAP_ANONYMOUS)) === (MAP_SHARED | MAP_ANONYMOUS));
      assert.equal(sharedAnon.length, 0, 'no MAP_SHARED|MAP_ANONYMOUS mapping in the non-shared run');
    });
  });
});

describe('shared-vs-private: shared-memory.py', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('shared-vs-private', partCommand('shared-vs-private', 'shared'), (run) => {
    test('the parent reads 2000: the child doubled the value in the shared page', () => {
      assert.match(run().stdout, /after the child exited\): 2000\s*$/, context(run()));
    });
    test('flow child → parent through the mapping: MAP_SHARED page before fork, child touches it, parent reaps, reads 2000', () => {
      const r = run();
      const parent = proc(r, 'shared-memory.py');
      const [child] = forkedChildren(r, parent);
      assert.ok(child, context(r));
      const mmap = evs(r, 'mmap', { pid: parent.pid }).find((e) => e.err === 0 && (num(e, 'mmap', 'flags') & (MAP_SHARED | MAP_ANONYMOUS)) === (MAP_SHARED | MAP_ANONYMOUS) && num(e, 'mmap', 'length') === 4096);
      assert.ok(mmap, 'the parent maps one shared anonymous page');
      const lo = BigInt.asUintN(64, mmap.result), hi = lo + 4096n;
      const fork = evs(r, 'fork', { pid: parent.pid }).find((e) => Number(e.result) === child.pid);
      assert.ok(fork && fork.ts > mmap.ts, 'the page is mapped before the fork');
      // The child's first access to a shared anonymous page faults (fork does not copy page-table entries of shared
      // mappings): the fault address shows the child touching that very page.
      const touch = evs(r, 'page_fault', { pid: child.pid }).filter((e) => e.args[0] >= lo && e.args[0] < hi);
      assert.ok(touch.length >= 1, `the child faults in the shared page [${lo.toString(16)}, ${hi.toString(16)})`);
      const reaped = evs(r, 'wait', { pid: parent.pid, phase: 'end' }).filter((e) => Number(e.result) === child.pid).sort(byTime)[0];
      assert.ok(reaped && reaped.ts > touch[0].ts, 'the parent reaps the child after the child touched the page');
      const obj = [...r.model.objects.values()].find((o) => o.type === 'shared-mapping' && o.pids.has(parent.pid));
      assert.ok(obj, 'the model knows the shared anonymous mapping');
    });
  });
});

wholeRun('shared-vs-private');
