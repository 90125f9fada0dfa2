// demos/signals: a SIGUSR1 handler runs once per signal; dd prints progress on SIGUSR1; default actions of SIGINT,
// SIGTERM, SIGKILL (and a SIGINT handler turning death into exit, SIGKILL refusing a handler); standard signals
// coalesce while real-time ones queue.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { byTime, childrenOf, context, EINVAL, evs, num, partCommand, proc, procs, recorded, whyNoDemos, wholeRun } from './demoSupport';

const SIGINT = 2, SIGKILL = 9, SIGUSR1 = 10, SIGTERM = 15, SIGRTMIN = 34;

describe('signals: sigusr1', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('signals', partCommand('signals', 'sigusr1'), (run) => {
    test('3 SIGUSR1 sent by the child, 3 handler runs in the parent', () => {
      const r = run();
      const parent = proc(r, './build/sigusr1');
      const sent = evs(r, 'kill', { args: { pid: parent.pid, sig: SIGUSR1 } });
      assert.equal(sent.length, 3, context(r));
      assert.ok(sent.every((e) => e.pid !== parent.pid), 'sent by the child');
      const handled = evs(r, 'signal_handler', { pid: parent.pid, phase: 'begin', args: { sig: SIGUSR1 } });
      assert.equal(handled.length, 3);
      const stats = r.model.signalStats().find((s) => s.sig === SIGUSR1);
      assert.deepEqual(stats && { sent: stats.sent, delivered: stats.delivered }, { sent: 3, delivered: 3 });
      assert.match(r.stdout, /handler ran 3 times for 3 SIGUSR1/);
    });
  });
});

describe('signals: default-actions', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('signals', partCommand('signals', 'default-actions'), (run) => {
    test('SIGINT, SIGTERM, SIGKILL kill; with a SIGINT handler the child exits 0; SIGKILL cannot be caught', () => {
      const r = run();
      const parent = proc(r, './build/default-actions');
      const kids = childrenOf(r, parent).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
      assert.equal(kids.length, 4, context(r));
      const sigs = evs(r, 'kill', { pid: parent.pid }).sort(byTime).map((e) => num(e, 'kill', 'sig'));
      assert.deepEqual(sigs, [SIGINT, SIGTERM, SIGKILL, SIGINT]);
      assert.deepEqual(kids.slice(0, 3).map((k) => k.signal), [SIGINT, SIGTERM, SIGKILL], 'the first three die by their signal');
      assert.equal(kids[3].exitCode, 0, 'the child with a SIGINT handler exits normally');
      assert.equal(kids[3].signal, undefined);
      const refused = evs(r, 'sigaction', { pid: kids[3].pid, args: { sig: SIGKILL } });
      assert.equal(refused.length, 1);
      assert.equal(refused[0].err, EINVAL, 'sigaction(SIGKILL) fails with EINVAL');
    });
  });
});

describe('signals: coalesce', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('signals', partCommand('signals', 'coalesce'), (run) => {
    test('5 SIGUSR1 sent while blocked → 1 handler run; 5 SIGRTMIN → 5 handler runs', () => {
      const r = run();
      const parent = proc(r, './build/coalesce');
      const [child] = childrenOf(r, parent);
      assert.ok(child, context(r));
      assert.equal(evs(r, 'kill', { pid: parent.pid, args: { pid: child.pid, sig: SIGUSR1 } }).length, 5);
      assert.equal(evs(r, 'sigqueue', { pid: parent.pid, args: { pid: child.pid, sig: SIGRTMIN } }).length, 5);
      assert.equal(evs(r, 'signal_handler', { pid: child.pid, phase: 'begin', args: { sig: SIGUSR1 } }).length, 1);
      assert.equal(evs(r, 'signal_handler', { pid: child.pid, phase: 'begin', args: { sig: SIGRTMIN } }).length, 5);
      const usr1 = r.model.signalStats().find((s) => s.sig === SIGUSR1);
      assert.deepEqual(usr1 && [usr1.sent, usr1.delivered], [5, 1]);
      assert.ok(r.summary.findings.some((f) => f.kind === 'signals-coalesced' && f.message.startsWith(`signal ${SIGUSR1}:`)), 'the model reports the coalescing');
    });
  });
});

describe('signals: dd', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('signals', partCommand('signals', 'dd'), (run) => {
    test('each SIGUSR1 to the real dd runs its handler, and dd then writes its progress to stderr', () => {
      const r = run();
      const [dd] = procs(r, 'dd');
      assert.ok(dd, context(r));
      const usr1 = evs(r, 'kill', { args: { pid: dd.pid, sig: SIGUSR1 } });
      assert.equal(usr1.length, 2);
      const handlers = evs(r, 'signal_handler', { pid: dd.pid, phase: 'begin', args: { sig: SIGUSR1 } }).sort(byTime);
      assert.equal(handlers.length, 2);
      // dd prints its report (a few lines through stdio) to fd 2 from its main loop, right after the handler set a flag.
      const reports = evs(r, 'write', { pid: dd.pid, args: { fd: 2 } }).filter((e) => e.phase !== 1 && e.err === 0);
      assert.ok(reports.some((e) => e.ts > handlers[0].ts && e.ts < handlers[1].ts), 'a report on stderr after the first handler run');
      assert.ok(reports.some((e) => e.ts > handlers[1].ts), 'and after the second');
      assert.equal((r.stderr.match(/records in/g) ?? []).length, 2, 'two progress reports');
      assert.equal(dd.signal, SIGTERM, 'then SIGTERM ends dd');
    });
  });
});

wholeRun('signals');
