// The wait-for graph on real recordings of every kind of wait (issue 3, "Waiting"): C programs under the real shim,
// recorded with `ipcscope record`, read back from the .ipctrace. Deadlocked programs are ended by alarm().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileC, recordProgram, whyNoShim } from '../helpers/record';
import { TraceModel, findings, waitForGraph, type WaitForGraph } from '../../src/common/model';
import { kindId } from '../../src/common/vocabulary';

const skip = whyNoShim();
const FIX = 'test/fixtures/waits';

async function model(prog: string, args: string[] = []) {
  const bin = compileC(`${FIX}/${prog}.c`);
  const r = await recordProgram(bin, args, { timeoutMs: 60_000 });
  const m = new TraceModel(r.store);
  m.update({ flush: true });
  return { r, m };
}

/** The graph in words, for failure messages. */
function show(g: WaitForGraph): string {
  return JSON.stringify({
    blocked: [...g.blocked].map(([t, w]) => `${t} ${w.kind}`), open: [...g.open],
    edges: g.edges.map((e) => `${e.from} -> ${e.to}: ${e.reason}`), deadlocks: g.deadlocks.map((d) => d.threads),
  }, null, 1);
}

for (const how of ['poll', 'select', 'epoll'] as const) {
  test(`two processes each waiting in ${how} for input the other should write first: a deadlock through ${how}`, { skip }, async () => {
    const { r, m } = await model('readiness', [how]);
    assert.notEqual(r.exit.code, 0, 'alarm ended the hang');
    const kind = kindId(how === 'epoll' ? 'epoll_wait' : how);
    const g = waitForGraph(m);
    assert.equal(g.deadlocks.length, 1, show(g));
    const d = g.deadlocks[0];
    assert.equal(d.threads.length, 2, show(g));
    assert.ok(d.waits.every((w) => w.kind === kind && w.t1 === undefined), show(g));
    assert.equal(new Set(d.waits.map((w) => w.pid)).size, 2);
    // Each waits for the other through the pipe the other holds the write end of; the reason says so.
    for (const w of d.waits) {
      assert.equal(w.watches?.length, 1);
      assert.equal(m.objects.get(w.watches![0].object!)?.type, 'pipe');
      const e = g.edges.find((x) => x.wait.begin === w.begin && x.to !== `${w.pid}/${w.tid}`)!;
      assert.ok(e, show(g));
      assert.match(e.reason, /readable when \d+ writes/);
    }
    assert.equal(g.open.size, 0, show(g));
    const f = findings(m).filter((x) => x.kind === 'deadlock');
    assert.equal(f.length, 1);
    assert.match(f[0].message, new RegExp(`blocked in ${how === 'epoll' ? 'epoll_wait' : how} on fd \\d+ \\(pipe `));
  });
}

for (const how of ['poll', 'epoll'] as const) {
  test(`a ${how} woken by a write names the writer (by)`, { skip }, async () => {
    const { r, m } = await model('readiness', [`woken-${how}`]);
    assert.equal(r.exit.code, 0, r.stderr);
    assert.match(r.stdout, /ready 1 got c/);
    const parent = r.store.connections()[0].pid;
    const kind = kindId(how === 'epoll' ? 'epoll_wait' : how);
    const w = m.waits.find((x) => x.kind === kind && x.pid === parent)!;
    assert.ok(w && w.t1 !== undefined, 'the wait ended');
    const child = [...m.processes.values()].find((p) => p.ppid === parent)!.pid;
    assert.equal(w.by?.pid, child, `by: ${w.by?.pid}/${w.by?.tid} at event ${w.by?.index}`);
    const by = r.store.get(w.by!.index);
    assert.equal(by.kind, kindId('write'));
    assert.ok(by.ts >= w.t0);
    assert.equal(waitForGraph(m).deadlocks.length, 0);
  });
}

test('a condition-variable wait whose signaller is blocked reading a pipe the waiter should write: a cycle', { skip }, async () => {
  const { r, m } = await model('cond_pipe');
  assert.notEqual(r.exit.code, 0, 'alarm ended the hang');
  assert.match(r.stdout, /round 1 done/);
  const g = waitForGraph(m);
  assert.equal(g.deadlocks.length, 1, show(g));
  const kinds = g.deadlocks[0].waits.map((w) => w.kind).sort();
  assert.deepEqual(kinds, [kindId('read'), kindId('cond_wait')].sort(), show(g));
  const cw = g.deadlocks[0].waits.find((w) => w.kind === kindId('cond_wait'))!;
  const rd = g.deadlocks[0].waits.find((w) => w.kind === kindId('read'))!;
  const e = g.edges.find((x) => x.wait.begin === cw.begin && x.to === `${rd.pid}/${rd.tid}`)!;
  assert.ok(e, show(g));
  assert.match(e.reason, /signalled it before|uses its mutex/);
  // Round 1's wait (if it blocked) was ended by the worker's signal.
  const first = m.waits.find((w) => w.kind === kindId('cond_wait') && w.t1 !== undefined);
  if (first) assert.equal(first.by?.tid, rd.tid);
});

test('a condition-variable wait whose only signaller is blocked on a lock the waiter holds: a cycle', { skip }, async () => {
  const { r, m } = await model('cond_lock');
  assert.notEqual(r.exit.code, 0, 'the watchdog ended the hang');
  const g = waitForGraph(m);
  assert.equal(g.deadlocks.length, 1, show(g));
  const d = g.deadlocks[0];
  assert.deepEqual(d.waits.map((w) => w.kind).sort(), [kindId('mutex_lock'), kindId('cond_wait')].sort(), show(g));
  const cw = d.waits.find((w) => w.kind === kindId('cond_wait'))!, ml = d.waits.find((w) => w.kind === kindId('mutex_lock'))!;
  assert.ok(g.edges.some((e) => e.wait.begin === cw.begin && e.to === `${ml.pid}/${ml.tid}` && /uses its mutex/.test(e.reason)), show(g));
  assert.ok(g.edges.some((e) => e.wait.begin === ml.begin && e.to === `${cw.pid}/${cw.tid}` && /held by/.test(e.reason)), show(g));
});

test('a server blocked in accept with no client is not a deadlock, nor is a reader waiting for that server', { skip }, async () => {
  const { r, m } = await model('accept_idle');
  assert.notEqual(r.exit.code, 0, 'alarm ended the wait');
  const g = waitForGraph(m);
  const acc = [...g.blocked.values()].find((w) => w.kind === kindId('accept'))!;
  const rd = [...g.blocked.values()].find((w) => w.kind === kindId('read'))!;
  assert.ok(acc && rd, show(g));
  assert.match(g.open.get(`${acc.pid}/${acc.tid}`) ?? '', /connection can come from outside/);
  assert.ok(g.edges.some((e) => e.wait.begin === rd.begin && e.to === `${acc.pid}/${acc.tid}`), show(g));
  assert.equal(g.deadlocks.length, 0, show(g));
  assert.equal(findings(m).filter((x) => x.kind === 'deadlock').length, 0);
});

test('an accept woken by a client names the client\'s connect (by), and the graph shows it', { skip }, async () => {
  const { r, m } = await model('accept_idle', ['client']);
  assert.equal(r.exit.code, 0, r.stderr);
  const server = r.store.connections()[0].pid;
  const w = m.waits.find((x) => x.kind === kindId('accept') && x.pid === server)!;
  assert.ok(w && w.t1 !== undefined, 'the accept ended');
  const client = [...m.processes.values()].find((p) => p.ppid === server)!;
  assert.equal(w.by?.pid, client.pid);
  assert.equal(r.store.get(w.by!.index).kind, kindId('connect'));
  // Looked at while it waited, the accept is open; once the connect is known it is drawn for display.
  const g = waitForGraph(m, w.t0);
  assert.match(g.open.get(`${w.pid}/${w.tid}`) ?? '', /connection can come from outside/);
  assert.ok(g.edges.some((e) => e.wait.begin === w.begin && e.to.startsWith(`${client.pid}/`) && /connected/.test(e.reason)), show(g));
});

test('mq_receive on an empty queue whose only sender is blocked receiving too: a cycle', { skip }, async () => {
  const { r, m } = await model('mq_cycle');
  assert.notEqual(r.exit.code, 0, 'alarm ended the hang');
  const g = waitForGraph(m);
  assert.equal(g.deadlocks.length, 1, show(g));
  const d = g.deadlocks[0];
  assert.equal(d.threads.length, 2, show(g));
  assert.ok(d.waits.every((w) => w.kind === kindId('mq_receive')), show(g));
  assert.notEqual(d.waits[0].object, d.waits[1].object, 'two queues');
  for (const w of d.waits) assert.ok(g.edges.some((e) => e.wait.begin === w.begin && /opened for writing/.test(e.reason) && e.to.startsWith(`${d.waits.find((x) => x !== w)!.pid}/`)), show(g));
});

for (const mode of ['msg', 'sem'] as const) {
  const kind = mode === 'msg' ? 'msgrcv' : 'semop';
  test(`System V ${kind} in a cycle (ids inherited across fork, no descriptor): a deadlock`, { skip }, async () => {
    const { r, m } = await model('sysv_cycle', [mode]);
    assert.notEqual(r.exit.code, 0, 'the watchdog ended the hang');
    const g = waitForGraph(m);
    assert.equal(g.deadlocks.length, 1, show(g));
    const d = g.deadlocks[0];
    assert.equal(d.threads.length, 2, show(g));
    assert.ok(d.waits.every((w) => w.kind === kindId(kind)), show(g));
    assert.equal(new Set(d.waits.map((w) => w.pid)).size, 2);
    // The cleaner (forked before the ids existed) is running but has no id: not a candidate.
    const cleaner = [...m.processes.values()].filter((p) => !d.waits.some((w) => w.pid === p.pid));
    assert.ok(!g.edges.some((e) => cleaner.some((p) => e.to.startsWith(`${p.pid}/`))), show(g));
    assert.ok(g.edges.every((e) => /has the (queue|set)'s id/.test(e.reason)), show(g));
  });
}

test('a sem_wait whose only poster (it posted before) is blocked reading a pipe the waiter should write: a cycle', { skip }, async () => {
  const { r, m } = await model('sem_pipe');
  assert.notEqual(r.exit.code, 0, 'the watchdog ended the hang');
  assert.match(r.stdout, /round 1 done/);
  const g = waitForGraph(m);
  assert.equal(g.deadlocks.length, 1, show(g));
  const d = g.deadlocks[0];
  assert.deepEqual(d.waits.map((w) => w.kind).sort(), [kindId('read'), kindId('sem_wait')].sort(), show(g));
  const sw = d.waits.find((w) => w.kind === kindId('sem_wait'))!, rd = d.waits.find((w) => w.kind === kindId('read'))!;
  assert.ok(g.edges.some((e) => e.wait.begin === sw.begin && e.to === `${rd.pid}/${rd.tid}` && /posted it before/.test(e.reason)), show(g));
});

const OPEN_WHY = { listen: /connection or datagram can come from outside/, timed: /ends by itself/, sigwait: /signal can come from any process/ };
for (const mode of ['listen', 'timed', 'sigwait'] as const) {
  test(`a wait something outside the trace could end (${mode}) breaks what would be a cycle: no deadlock`, { skip }, async () => {
    const { r, m } = await model('open_waits', [mode]);
    assert.notEqual(r.exit.code, 0, 'the watchdog ended the wait');
    const g = waitForGraph(m);
    const parent = r.store.connections()[0].pid;
    const pw = [...g.blocked.values()].find((w) => w.pid === parent)!;
    const rd = [...g.blocked.values()].find((w) => w.pid !== parent && w.kind === kindId('read'))!;
    assert.ok(pw && rd, show(g));
    assert.equal(pw.kind, kindId(mode === 'sigwait' ? 'sigwait' : 'poll'));
    assert.match(g.open.get(`${pw.pid}/${pw.tid}`) ?? '', OPEN_WHY[mode], show(g));
    // The child waits for the parent (it holds the write end), which is open: no deadlock.
    assert.ok(g.edges.some((e) => e.wait.begin === rd.begin && e.to === `${pw.pid}/${pw.tid}`), show(g));
    if (mode !== 'sigwait') assert.ok(g.edges.some((e) => e.wait.begin === pw.begin && e.to === `${rd.pid}/${rd.tid}`), 'the pipe edge is still drawn');
    assert.equal(g.deadlocks.length, 0, show(g));
  });
}
