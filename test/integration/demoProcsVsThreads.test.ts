// demos/procs-vs-threads: the same sum by four processes (fork, results through a pipe, waitpid) and by four threads
// (one address space: thread starts, one mutex, no kernel object carrying data).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOf, context, evs, flows, forkedChildren, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

describe('procs-vs-threads: processes', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('procs-vs-threads', partCommand('procs-vs-threads', 'procs'), (run) => {
    test('4 forks; each worker writes its 8-byte result into one pipe read by the parent; 4 waits', () => {
      const r = run();
      const parent = proc(r, './build/work');
      const workers = forkedChildren(r, parent);
      assert.equal(workers.length, 4, context(r));
      assert.equal(evs(r, 'fork', { pid: parent.pid }).filter((e) => e.err === 0).length, 4);
      for (const w of workers) assert.equal(bytesOf(flows(r, 'pipe', w.pid, parent.pid)), 8, `worker ${w.pid} → parent: 8 bytes`);
      assert.equal(new Set(flows(r, 'pipe').map((f) => f.object)).size, 1, 'one pipe');
      assert.equal(evs(r, 'wait', { pid: parent.pid }).filter((e) => e.phase !== 1 && e.err === 0).length, 4);
      assert.match(r.stdout, /processes: 4 workers, sum = 200000010000000 \(correct\)/);
    });
  });
});

describe('procs-vs-threads: threads', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('procs-vs-threads', partCommand('procs-vs-threads', 'threads'), (run) => {
    test('one process, 4 threads, 4 acquisitions of one mutex, no pipe and no fork', () => {
      const r = run();
      const p = proc(r, './build/work');
      assert.equal(r.model.processes.size, 1, context(r));
      assert.ok(evs(r, 'thread_start', { pid: p.pid }).length >= 4);
      const mutex = r.model.lockStats().find((s) => s.kind === 'mutex');
      assert.equal(mutex?.acquisitions, 4);
      assert.equal(new Set([...mutex!.holders.values()].map((h) => h.tid)).size, 4, 'one acquisition per thread');
      assert.equal(evs(r, 'pipe').length + evs(r, 'fork').length, 0);
      assert.equal(r.model.flows.filter((f) => f.kind !== 'lock').length, 0, 'no data flows through the kernel');
      assert.match(r.stdout, /threads: +4 workers, sum = 200000010000000 \(correct\)/);
    });
  });
});

wholeRun('procs-vs-threads');
