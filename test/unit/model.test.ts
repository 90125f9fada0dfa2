// The model's pure algorithms on hand-built event sequences: byte-offset flow matching, priority order, signal
// coalescing, lock hand-off, wait-for cycles, lock-order cycles, fd inheritance and exec leaks, page states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArraySource } from '../fixtures/model/source';
import { ByteStreamMatcher, PriorityQueueMatcher, TraceModel, findings, summarize, waitForGraph, type Endpoint } from '../../src/common/model';

const ep = (index: number, pid = 1): Endpoint => ({ index, pid, tid: pid, ts: BigInt(index) });

test('byte stream: one write split across two reads, two writes merged into one read', () => {
  const got: [number, number, number][] = [];
  const m = new ByteStreamMatcher((f, t, b) => got.push([f.index, t.index, b]));
  m.write(ep(1), 100);
  m.read(ep(2), 60);
  m.read(ep(3), 40);
  m.write(ep(4), 30);
  m.write(ep(5), 50);
  m.read(ep(6), 80);
  assert.deepEqual(got, [[1, 2, 60], [1, 3, 40], [4, 6, 30], [5, 6, 50]]);
  assert.equal(m.unread, 0);
});

test('byte stream: reads known before the writes still match by offset', () => {
  const got: [number, number, number][] = [];
  const m = new ByteStreamMatcher((f, t, b) => got.push([f.index, t.index, b]));
  m.read(ep(10), 5);
  m.read(ep(11), 5);
  m.write(ep(1), 7);
  m.write(ep(2), 3);
  assert.deepEqual(got, [[1, 10, 5], [1, 11, 2], [2, 11, 3]]);
});

test('byte stream: concurrent writers ordered by what the reader saw, waiting for a write that completes later', () => {
  const got: [number, number, number][] = [];
  const m = new ByteStreamMatcher((f, t, b) => got.push([f.index, t.index, b]));
  const text = (c: string, n: number) => new TextEncoder().encode(c.repeat(n));
  const at = (index: number, ts: number): Endpoint => ({ index, pid: index, tid: index, ts: BigInt(ts) });
  // A's write began at 10 but completed at 100; B wrote at 20..30. The reader saw A's bytes first.
  m.write(at(2, 30), 4, { t0: 20n, preview: text('B', 4) });
  m.read(at(5, 40), 4, { preview: text('A', 4) });
  assert.deepEqual(got, [], 'held back: the write the read saw is not known yet');
  m.write(at(1, 100), 4, { t0: 10n, preview: text('A', 4) });
  m.read(at(6, 110), 4, { preview: text('B', 4) });
  assert.deepEqual(got, [[1, 5, 4], [2, 6, 4]]);
  assert.equal(m.reordered, 1);
  // Without previews the order is completion order.
  const got2: number[] = [];
  const m2 = new ByteStreamMatcher((f) => got2.push(f.index));
  m2.write(at(2, 30), 4, { t0: 20n }); m2.write(at(1, 100), 4, { t0: 10n }); m2.read(at(5, 110), 8);
  assert.deepEqual(got2, [2, 1]);
});

test('priority queue: highest priority first, FIFO within a priority', () => {
  const got: [number, number, number][] = [];
  const q = new PriorityQueueMatcher((f, t, _b, p) => got.push([f.index, t.index, p]));
  q.send(ep(1), 10, 1); q.send(ep(2), 10, 5); q.send(ep(3), 10, 3); q.send(ep(4), 10, 5);
  assert.deepEqual(q.order().map((o) => o.from.index), [2, 4, 3, 1]);
  q.receive(ep(11), 10, 5); q.receive(ep(12), 10, 5); q.receive(ep(13), 10, 3); q.receive(ep(14), 10, 1);
  assert.deepEqual(got, [[2, 11, 5], [4, 12, 5], [3, 13, 3], [1, 14, 1]]);
  assert.equal(q.orderViolations, 0);
});

/** Parent 100 forks child 101 over a pipe (dev 9, ino 77). */
function pipeFamily(s: ArraySource, cloexec = false): void {
  s.connect(100, 1, ['parent'], 1000n).connect(101, 100, ['child'], 2000n, 'fork');
  s.ev('proc_start', 'instant', 100, 100, 1000, { ppid: 1, origin: 'initial' });
  s.ev('pipe', 'instant', 100, 100, 1100, { readFd: 3, writeFd: 4, flags: cloexec ? 0o2000000 : 0, dev: 9, ino: 77 });
  s.ev('fork', 'instant', 100, 100, 1500, { how: 'fork' }, { result: 101 });
  s.ev('proc_start', 'instant', 101, 101, 2000, { ppid: 100, origin: 'fork' });
}

test('model: pipe writes matched to partial reads across processes, whatever the arrival order', () => {
  const s = new ArraySource();
  pipeFamily(s);
  // The child's events arrive before the parent's write (different connections).
  s.ev('close', 'instant', 101, 101, 2100, { fd: 4, otype: 'pipe', dev: 9, ino: 77 });
  s.call('read', 101, 101, 2200, 5000, { fd: 3, count: 60, otype: 'pipe', dev: 9, ino: 77 }, { result: 60 });
  s.call('read', 101, 101, 5100, 5200, { fd: 3, count: 4096, otype: 'pipe', dev: 9, ino: 77 }, { result: 40 });
  s.ev('close', 'instant', 100, 100, 2050, { fd: 3, otype: 'pipe', dev: 9, ino: 77 });
  const [, w] = s.call('write', 100, 100, 4000, 4500, { fd: 4, count: 100, otype: 'pipe', dev: 9, ino: 77 }, { result: 100 });
  const m = new TraceModel(s);
  m.update();
  const flows = m.flows.filter((f) => f.kind === 'pipe');
  assert.deepEqual(flows.map((f) => [f.from.pid, f.to.pid, f.bytes]), [[100, 101, 60], [100, 101, 40]]);
  assert.ok(flows.every((f) => f.from.index === w));
  // The first read blocked until the parent wrote: the wait names the writer.
  const wait = m.waits.find((x) => x.pid === 101 && x.t1 === 5000n)!;
  assert.equal(wait.by?.pid, 100);
  // Fds followed through fork and close.
  assert.deepEqual(m.processAt(101, 3000n)!.fds.map((f) => [f.fd, f.end, f.how]), [[3, 'r', 'fork']]);
  assert.deepEqual(m.processAt(100, 3000n)!.fds.map((f) => [f.fd, f.end]), [[4, 'w']]);
  assert.equal(m.process(101)!.ppid, 100);
  assert.deepEqual(m.process(100)!.children, [101]);
  assert.equal(summarize(m, { callSites: false }).bytes.pipe, 100);
});

test('model: two writers to one FIFO keep their own bytes', () => {
  const s = new ArraySource();
  s.ev('open', 'instant', 10, 10, 100, { flags: 1, otype: 'fifo', dev: 5, ino: 6 }, { result: 3, blob: '/tmp/f' });
  s.ev('open', 'instant', 11, 11, 100, { flags: 1, otype: 'fifo', dev: 5, ino: 6 }, { result: 3, blob: '/tmp/f' });
  s.ev('open', 'instant', 12, 12, 100, { flags: 0, otype: 'fifo', dev: 5, ino: 6 }, { result: 3, blob: '/tmp/f' });
  s.call('write', 10, 10, 200, 210, { fd: 3, count: 8, otype: 'fifo', dev: 5, ino: 6 }, { result: 8 });
  s.call('write', 11, 11, 220, 230, { fd: 3, count: 8, otype: 'fifo', dev: 5, ino: 6 }, { result: 8 });
  s.call('write', 10, 10, 240, 250, { fd: 3, count: 8, otype: 'fifo', dev: 5, ino: 6 }, { result: 8 });
  s.call('read', 12, 12, 300, 310, { fd: 3, count: 12, otype: 'fifo', dev: 5, ino: 6 }, { result: 12 });
  s.call('read', 12, 12, 320, 330, { fd: 3, count: 100, otype: 'fifo', dev: 5, ino: 6 }, { result: 12 });
  const m = new TraceModel(s);
  m.update();
  assert.deepEqual(m.flows.map((f) => [f.kind, f.from.pid, f.to.index, f.bytes]), [
    ['fifo', 10, 10, 8], ['fifo', 11, 10, 4], ['fifo', 11, 12, 4], ['fifo', 10, 12, 8]]);
  assert.equal(m.objects.get('5:6')!.name, '/tmp/f');
  assert.deepEqual([...m.objects.get('5:6')!.pids].sort(), [10, 11, 12]);
});

test('model: message queue receives follow priority', () => {
  const s = new ArraySource();
  const q = { dev: 1, ino: 2 };
  const sends = [[1, 'low'], [9, 'high'], [5, 'mid']] as const;
  sends.forEach(([prio], i) => s.call('mq_send', 20, 20, 100 + i * 10, 105 + i * 10, { mqd: 3, len: 4, prio, ...q }));
  for (let i = 0; i < 3; i++) s.call('mq_receive', 21, 21, 200 + i * 10, 205 + i * 10, { mqd: 3, bufLen: 64, prio: [9, 5, 1][i], ...q }, { result: 4 });
  const m = new TraceModel(s);
  m.update();
  const fl = m.flows.filter((f) => f.kind === 'mq');
  assert.deepEqual(fl.map((f) => f.detail), [9, 5, 1]);
  assert.deepEqual(fl.map((f) => Number(f.from.ts)), [115, 125, 105]);
  assert.equal(m.evidence.mqOrderViolations, 0);
});

test('model: signals sent and delivered are counted, coalesced ones reported', () => {
  const s = new ArraySource();
  for (let i = 0; i < 10; i++) s.ev('kill', 'instant', 30, 30, 100 + i, { pid: 31, sig: 10 });
  // Only three deliveries (standard signals coalesce while pending).
  for (const t of [105, 108, 120]) { s.ev('signal_handler', 'begin', 31, 31, t, { sig: 10, senderPid: 30 }); s.ev('signal_handler', 'end', 31, 31, t + 1, { sig: 10, senderPid: 30 }); }
  const m = new TraceModel(s);
  m.update();
  assert.deepEqual(m.signalStats(), [{ sig: 10, sent: 10, delivered: 3 }]);
  const fl = m.flows.filter((f) => f.kind === 'signal');
  assert.equal(fl.length, 3);
  assert.ok(fl.every((f) => f.from.ts <= f.to.ts && f.from.pid === 30 && f.to.pid === 31));
  assert.ok(findings(m).some((f) => f.kind === 'signals-coalesced' && f.message.includes('10 sent, 3 delivered')));
});

test('model: a mutex handed between threads, waits attributed to the holder', () => {
  const s = new ArraySource();
  const mu = 0x5000;
  s.ev('mutex_lock', 'instant', 40, 41, 100, { mutex: mu, how: 'lock' });
  s.ev('mutex_lock', 'begin', 40, 42, 110, { mutex: mu, how: 'lock' }, { caller: 0x4242n });
  s.ev('mutex_lock', 'begin', 40, 43, 120, { mutex: mu, how: 'lock' });
  s.ev('mutex_unlock', 'instant', 40, 41, 200, { mutex: mu });
  s.ev('mutex_lock', 'end', 40, 42, 210, { mutex: mu, how: 'lock' }, { caller: 0x4242n });
  s.ev('mutex_unlock', 'instant', 40, 42, 300, { mutex: mu });
  s.ev('mutex_lock', 'end', 40, 43, 305, { mutex: mu, how: 'lock' });
  s.ev('mutex_unlock', 'instant', 40, 43, 400, { mutex: mu });
  const m = new TraceModel(s);
  m.update();
  const [l] = m.lockStats();
  assert.equal(l.acquisitions, 3);
  assert.equal(l.contended, 2);
  assert.equal(l.waitNs, 100n + 185n);
  assert.equal(l.maxWaitNs, 185n);
  assert.equal(l.maxHoldNs, 100n);
  assert.equal(l.holdNs, 100n + 90n + 95n);
  assert.deepEqual(m.flows.filter((f) => f.kind === 'lock').map((f) => [f.from.tid, f.to.tid]), [[41, 42], [42, 43]]);
  const w42 = m.waits.find((w) => w.tid === 42)!;
  assert.deepEqual(w42.holders, [{ pid: 40, tid: 41 }]);
  assert.equal(w42.by?.tid, 41);
  const w43 = m.waits.find((w) => w.tid === 43)!;
  assert.deepEqual(w43.holders, [{ pid: 40, tid: 41 }]);
  assert.equal(w43.by?.tid, 42);
  assert.equal(l.callers.get(0x4242n)?.count, 1);
  const sum = summarize(m, { callSites: false });
  assert.deepEqual(sum.locks[0], { ...sum.locks[0], kind: 'mutex', acquisitions: 3, contended: 2, waitNs: '285', maxWaitNs: '185', maxHoldNs: '100' });
});

test('model: two processes blocked writing to full pipes the other should read is a deadlock', () => {
  const s = new ArraySource();
  s.connect(50, 1, ['p'], 0n).connect(51, 50, ['c'], 10n, 'fork');
  s.ev('proc_start', 'instant', 50, 50, 0, { ppid: 1 });
  s.ev('pipe', 'instant', 50, 50, 1, { readFd: 3, writeFd: 4, dev: 9, ino: 1 }); // parent → child
  s.ev('pipe', 'instant', 50, 50, 2, { readFd: 5, writeFd: 6, dev: 9, ino: 2 }); // child → parent
  s.ev('fork', 'instant', 50, 50, 5, {}, { result: 51 });
  s.ev('proc_start', 'instant', 51, 51, 10, { ppid: 50, origin: 'fork' });
  s.ev('close', 'instant', 50, 50, 11, { fd: 3 }); s.ev('close', 'instant', 50, 50, 12, { fd: 6 });
  s.ev('close', 'instant', 51, 51, 13, { fd: 4 }); s.ev('close', 'instant', 51, 51, 14, { fd: 5 });
  s.ev('write', 'begin', 50, 50, 20, { fd: 4, count: 1 << 20, otype: 'pipe', dev: 9, ino: 1 });
  s.ev('write', 'begin', 51, 51, 21, { fd: 6, count: 1 << 20, otype: 'pipe', dev: 9, ino: 2 });
  const m = new TraceModel(s);
  m.update();
  const g = waitForGraph(m);
  assert.equal(g.deadlocks.length, 1);
  assert.deepEqual(g.deadlocks[0].threads.slice().sort(), ['50/50', '51/51']);
  const f = findings(m).find((x) => x.kind === 'deadlock')!;
  assert.ok(f, 'deadlock finding');
  assert.deepEqual(f.pids.slice().sort(), [50, 51]);
  assert.equal(f.events.length, 2);
  // If the child still held the parent's read end (never closed fd 3 … here: the parent keeps fd 5 open and runs), no deadlock.
  s.ev('read', 'begin', 51, 52, 30, { fd: 3, count: 10, otype: 'pipe', dev: 9, ino: 1 });
  s.ev('thread_start', 'instant', 50, 53, 25, {});
  const m2 = new TraceModel(s);
  m2.update();
  assert.equal(waitForGraph(m2).deadlocks.length, 0, 'a running thread of the reader breaks the cycle');
});

test('model: ABBA lock order is a potential deadlock even when the run did not hang', () => {
  const s = new ArraySource();
  const A = 0xa000, B = 0xb000;
  s.ev('mutex_lock', 'instant', 60, 61, 10, { mutex: A }); s.ev('mutex_lock', 'instant', 60, 61, 11, { mutex: B });
  s.ev('mutex_unlock', 'instant', 60, 61, 12, { mutex: B }); s.ev('mutex_unlock', 'instant', 60, 61, 13, { mutex: A });
  s.ev('mutex_lock', 'instant', 60, 62, 20, { mutex: B }); s.ev('mutex_lock', 'instant', 60, 62, 21, { mutex: A });
  s.ev('mutex_unlock', 'instant', 60, 62, 22, { mutex: A }); s.ev('mutex_unlock', 'instant', 60, 62, 23, { mutex: B });
  const m = new TraceModel(s);
  m.update();
  const f = findings(m).filter((x) => x.kind === 'lock-order-inversion');
  assert.equal(f.length, 1);
  assert.equal(f[0].events.length, 4);
  assert.equal(findings(m).filter((x) => x.kind === 'deadlock').length, 0);
  // The same order in both threads is no finding.
  const s2 = new ArraySource();
  for (const t of [61, 62]) { s2.ev('mutex_lock', 'instant', 60, t, t, { mutex: A }); s2.ev('mutex_lock', 'instant', 60, t, t + 1, { mutex: B }); s2.ev('mutex_unlock', 'instant', 60, t, t + 2, { mutex: B }); s2.ev('mutex_unlock', 'instant', 60, t, t + 3, { mutex: A }); }
  const m2 = new TraceModel(s2);
  m2.update();
  assert.equal(findings(m2).filter((x) => x.kind === 'lock-order-inversion').length, 0);
});

test('model: an IPC fd open across exec without O_CLOEXEC is a leak; with it, it closes', () => {
  for (const cloexec of [false, true]) {
    const s = new ArraySource();
    pipeFamily(s, cloexec);
    s.ev('exec', 'begin', 101, 101, 3000, { how: 'execve' }, { blob: '/bin/true\0true\0' });
    s.ev('proc_start', 'instant', 101, 101, 3100, { ppid: 100, origin: 'exec' }, { blob: '/bin/true\0/\0true\0' });
    const m = new TraceModel(s);
    m.update();
    const leaks = findings(m).filter((f) => f.kind === 'leaked-fd-exec');
    assert.equal(leaks.length, cloexec ? 0 : 2, `cloexec=${cloexec}`);
    assert.equal(m.processAt(101, 3200n)!.fds.length, cloexec ? 0 : 2);
    assert.deepEqual(m.process(101)!.argv, ['true']);
  }
});

test('model: a reader that keeps the write end open is reported', () => {
  const s = new ArraySource();
  pipeFamily(s);
  // The child reads until EOF but never closed its copy of the write end: the read never returns.
  s.ev('read', 'begin', 101, 101, 2200, { fd: 3, count: 10, otype: 'pipe', dev: 9, ino: 77 });
  const m = new TraceModel(s);
  m.update();
  assert.ok(findings(m).some((f) => f.kind === 'pipe-write-end-in-reader' && f.pids[0] === 101));
});

test('pages: snapshots and faults give shared pages turning private one fault at a time', () => {
  const s = new ArraySource();
  const start = 0x7000_0000n, pages = 8;
  const snap = (pid: number, ts: number, exclusive: boolean[], seq: number) => {
    const b = new Uint8Array(pages * 8);
    const dv = new DataView(b.buffer);
    exclusive.forEach((ex, i) => dv.setBigUint64(i * 8, (1n << 63n) | (ex ? 1n << 56n : 0n), true));
    s.ev('page_snapshot', 'instant', pid, pid, ts, { mapStart: start, mapEnd: start + BigInt(pages * 4096), firstPage: 0, pageCount: pages, hasPfn: 0, seq }, { blob: b });
    s.ev('snapshot_done', 'instant', pid, pid, ts, { seq, mappings: 1, pages });
  };
  snap(71, 100, Array(pages).fill(false), 1);
  for (let i = 0; i < 4; i++) s.ev('page_fault', 'instant', 71, 71, 200 + i, { addr: start + BigInt(i * 4096 + 8), ip: 0x1234, major: 0 });
  snap(71, 300, [true, true, true, true, false, false, false, false], 2);
  const m = new TraceModel(s);
  m.update();
  const at = (t: bigint) => m.pages.countsAt(71, t);
  assert.deepEqual([at(150n).shared, at(150n).private], [8, 0]);
  assert.deepEqual([at(201n).shared, at(201n).private, at(201n).copied], [6, 2, 2]);
  assert.deepEqual([at(250n).shared, at(250n).private], [4, 4]);
  assert.deepEqual([at(400n).shared, at(400n).private, at(400n).method], [4, 4, 'exclusive-bit']);
  const tl = m.pages.timeline(m.pages.trackList(71)[0]);
  assert.deepEqual(tl.filter((c) => c.ts >= 200n && c.ts < 300n).map((c) => c.page), [0, 1, 2, 3]);
  const sum = summarize(m, { callSites: false });
  assert.deepEqual(sum.pageFaults, { minor: 4, major: 0, perPid: { 71: { minor: 4, major: 0 } } });
});

test('lanes: range and power-of-two bucket queries without scanning', () => {
  const s = new ArraySource();
  for (let i = 0; i < 1000; i++) s.ev('close', 'instant', 80, 80, 1000 + i * 10, { fd: 99 }, { err: 9, result: -1 });
  const m = new TraceModel(s);
  m.update();
  const lane = m.lane(80, 80)!;
  assert.equal(lane.range(1000n, 1100n).length, 10);
  const b = lane.buckets(0n, 20000n, 1000n);
  assert.equal(b.bucketNs, 1024n);
  assert.equal(b.buckets.reduce((x, y) => x + y.count, 0), 1000);
  assert.ok(b.buckets.every((x) => x.start % 1024n === 0n));
});

test('incremental: a live model processes only new events, holding back the newest', () => {
  const s = new ArraySource();
  const m = new TraceModel(s, { live: true, lagNs: 1000n, follow: true });
  s.call('write', 1, 1, 0, 10, { fd: 4, count: 5, otype: 'pipe', dev: 1, ino: 1 }, { result: 5 });
  s.notify(0);
  assert.equal(m.eventsProcessed, 0, 'within the lag window');
  s.call('read', 2, 2, 5000, 5010, { fd: 3, count: 5, otype: 'pipe', dev: 1, ino: 1 }, { result: 5 });
  s.notify(2);
  assert.equal(m.eventsProcessed, 2);
  assert.equal(m.flows.length, 0);
  m.update({ flush: true });
  assert.equal(m.eventsProcessed, 4);
  assert.equal(m.flows.length, 1);
  m.dispose();
});

test('findings: unsafe call in a handler, EINTR not retried, cond signalled without its mutex, lost wakeup', () => {
  const s = new ArraySource();
  s.ev('signal_handler', 'begin', 90, 90, 10, { sig: 2 });
  s.ev('mutex_lock', 'instant', 90, 90, 11, { mutex: 0x10 }, { flags: 1 });
  s.ev('mutex_unlock', 'instant', 90, 90, 12, { mutex: 0x10 }, { flags: 1 });
  s.ev('signal_handler', 'end', 90, 90, 13, { sig: 2 });
  s.call('read', 90, 90, 20, 30, { fd: 0, count: 1 }, { result: -1, err: 4 });
  s.ev('close', 'instant', 90, 90, 31, { fd: 0 });
  // cond 0x20 used with mutex 0x30 by thread 92; thread 91 signals without holding it, before the waiter blocks.
  s.ev('cond_signal', 'instant', 90, 91, 40, { cond: 0x20 });
  s.ev('mutex_lock', 'instant', 90, 92, 41, { mutex: 0x30 });
  s.ev('cond_wait', 'begin', 90, 92, 42, { cond: 0x20, mutex: 0x30 });
  s.ev('cond_signal', 'instant', 90, 91, 50, { cond: 0x20 });
  const m = new TraceModel(s);
  m.update();
  const kinds = findings(m).map((f) => f.kind);
  assert.ok(kinds.includes('signal-unsafe-call'));
  assert.equal(kinds.filter((k) => k === 'signal-unsafe-call').length, 2);
  assert.ok(kinds.includes('eintr-not-retried'));
  assert.ok(kinds.includes('cond-signal-without-mutex'));
  assert.ok(kinds.includes('lost-wakeup'));
});

test('dropped events: streams of the process that lost events stop matching, and a finding says so', () => {
  const s = new ArraySource();
  const io = (kind: string, pid: number, t: number, n: number) => s.call(kind, pid, pid, t, t + 1, { fd: 3, count: n, otype: 'pipe', dev: 1, ino: 9 }, { result: n });
  io('write', 1, 10, 4); io('read', 2, 20, 4);
  s.ev('dropped', 'instant', 1, 1, 30, { count: 7, totalDropped: 7 });
  io('write', 1, 40, 4); io('read', 2, 50, 4);
  const m = new TraceModel(s);
  m.update();
  assert.equal(m.flows.length, 1, 'only the flow before the drop');
  assert.equal(m.dropped, 7);
  const f = findings(m).find((x) => x.kind === 'events-dropped')!;
  assert.ok(f && f.pids[0] === 1 && /dropped 7 events.*1 stream/.test(f.message), f?.message);
  assert.equal(summarize(m, { callSites: false }).dropped, 7);
});

test('TCP ends linked by address pair even when accepted sockets share the server address', () => {
  const s = new ArraySource();
  const srv = 'tcp:127.0.0.1:5000';
  // Two clients connect; the server accepts both (same local address); each client writes; the server reads.
  s.ev('socket', 'instant', 1, 1, 1, { domain: 2, type: 1, dev: 9, ino: 100 }, { result: 3 });
  s.ev('accept', 'end', 1, 1, 10, { fd: 3, listenIno: 100, ino: 101, dev: 9 }, { result: 4, blob: `${srv}|tcp:127.0.0.1:6001` });
  s.ev('accept', 'end', 1, 1, 11, { fd: 3, listenIno: 100, ino: 102, dev: 9 }, { result: 5, blob: `${srv}|tcp:127.0.0.1:6002` });
  s.ev('socket', 'instant', 2, 2, 2, { domain: 2, type: 1, dev: 9, ino: 200 }, { result: 3 });
  s.ev('connect', 'end', 2, 2, 12, { fd: 3, ino: 200, dev: 9 }, { blob: `tcp:127.0.0.1:6001|${srv}` });
  s.ev('socket', 'instant', 3, 3, 3, { domain: 2, type: 1, dev: 9, ino: 300 }, { result: 3 });
  s.ev('connect', 'end', 3, 3, 13, { fd: 3, ino: 300, dev: 9 }, { blob: `tcp:127.0.0.1:6002|${srv}` });
  s.call('write', 2, 2, 20, 21, { fd: 3, count: 5, otype: 'socket_tcp', dev: 9, ino: 200 }, { result: 5 });
  s.call('write', 3, 3, 22, 23, { fd: 3, count: 7, otype: 'socket_tcp', dev: 9, ino: 300 }, { result: 7 });
  s.call('read', 1, 1, 30, 31, { fd: 5, count: 64, otype: 'socket_tcp', dev: 9, ino: 102 }, { result: 7 });
  s.call('read', 1, 1, 32, 33, { fd: 4, count: 64, otype: 'socket_tcp', dev: 9, ino: 101 }, { result: 5 });
  const m = new TraceModel(s);
  m.update();
  assert.equal(m.objects.get('9:101')!.peer, '9:200');
  assert.equal(m.objects.get('9:102')!.peer, '9:300');
  assert.deepEqual(m.flows.map((f) => [f.from.pid, f.object, f.bytes]).sort(), [[2, '9:200', 5], [3, '9:300', 7]]);
});

test('non-atomic pipe writes: larger than PIPE_BUF with several writers', () => {
  const s = new ArraySource();
  for (const pid of [1, 2]) s.call('write', pid, pid, pid * 10, pid * 10 + 5, { fd: 4, count: 8192, otype: 'pipe', dev: 1, ino: 5 }, { result: 8192 });
  s.call('read', 3, 3, 40, 50, { fd: 3, count: 65536, otype: 'pipe', dev: 1, ino: 5 }, { result: 16384 });
  const m = new TraceModel(s);
  m.update();
  const f = findings(m).filter((x) => x.kind === 'non-atomic-pipe-write');
  assert.equal(f.length, 1);
  assert.deepEqual(f[0].pids.sort(), [1, 2]);
  assert.equal(f[0].events.length, 2);
});

test('live: events that arrive after the lag are handled late, and the flush starts over in time order', () => {
  const s = new ArraySource();
  const m = new TraceModel(s, { live: true, lagNs: 10n, follow: true });
  // A signal delivery whose kill (from a busy process) arrives long after.
  s.ev('signal_handler', 'begin', 2, 2, 100, { sig: 10, senderPid: 1 });
  s.ev('signal_handler', 'end', 2, 2, 101, { sig: 10, senderPid: 1 });
  s.ev('close', 'instant', 2, 2, 1000, { fd: 9 });
  s.notify(0);
  s.ev('kill', 'instant', 1, 1, 20, { pid: 2, sig: 10 });
  s.ev('kill', 'instant', 1, 1, 90, { pid: 2, sig: 10 });
  s.ev('close', 'instant', 1, 1, 2000, { fd: 9 });
  s.notify(3);
  m.update({ flush: true });
  const batch = new TraceModel(s);
  batch.update();
  assert.deepEqual(m.flows.map((f) => [f.from.index, f.to.index]), batch.flows.map((f) => [f.from.index, f.to.index]));
  assert.deepEqual(m.flows.map((f) => [f.from.index, f.to.index]), [[3, 0]], 'the first pending send made it pending; the second merged');
  assert.equal(m.eventsProcessed, s.count);
  m.dispose();
});
