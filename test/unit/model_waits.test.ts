// Wait-for graph rules on hand-built events: what real recordings cannot easily produce (malformed blobs, an epoll
// interest list edited by DEL, timed waits in an otherwise deadlocked cycle). Real programs: test/integration/model_waits.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArraySource } from '../fixtures/model/source';
import { TraceModel, waitForGraph } from '../../src/common/model';

/** Parent 50 and child 51 with two pipes, each holding the write end of the other's input: a (fd 3 read in 51, fd 4
 * write in 50) and b (fd 5 read in 50, fd 6 write in 51). */
function twoPipes(): ArraySource {
  const s = new ArraySource();
  s.connect(50, 1, ['p'], 0n).connect(51, 50, ['c'], 10n, 'fork');
  s.ev('proc_start', 'instant', 50, 50, 0, { ppid: 1 });
  s.ev('pipe', 'instant', 50, 50, 1, { readFd: 3, writeFd: 4, dev: 9, ino: 1 });
  s.ev('pipe', 'instant', 50, 50, 2, { readFd: 5, writeFd: 6, dev: 9, ino: 2 });
  s.ev('fork', 'instant', 50, 50, 5, {}, { result: 51 });
  s.ev('proc_start', 'instant', 51, 51, 10, { ppid: 50, origin: 'fork' });
  s.ev('close', 'instant', 50, 50, 11, { fd: 3 }); s.ev('close', 'instant', 50, 50, 12, { fd: 6 });
  s.ev('close', 'instant', 51, 51, 13, { fd: 4 }); s.ev('close', 'instant', 51, 51, 14, { fd: 5 });
  return s;
}
/** A poll blob: (i32 fd, u16 events, u16 revents) per fd. */
function pollfds(...fds: [number, number][]): Uint8Array {
  const b = new Uint8Array(8 * fds.length);
  const dv = new DataView(b.buffer);
  fds.forEach(([fd, ev], i) => { dv.setInt32(8 * i, fd, true); dv.setUint16(8 * i + 4, ev, true); });
  return b;
}
const NO_TIMEOUT = 0xffffffffffffffffn, POLLIN = 1;

function graph(s: ArraySource) {
  const m = new TraceModel(s);
  m.update({ flush: true });
  return { m, g: waitForGraph(m) };
}

test('poll on both sides with well-formed fd lists is a deadlock; a cut blob makes the wait open, and nothing throws', () => {
  const s = twoPipes();
  s.ev('poll', 'begin', 51, 51, 20, { nfds: 1, timeoutNs: NO_TIMEOUT }, { blob: pollfds([3, POLLIN]) });
  const good = twoPipes();
  good.ev('poll', 'begin', 51, 51, 20, { nfds: 1, timeoutNs: NO_TIMEOUT }, { blob: pollfds([3, POLLIN]) });
  good.ev('poll', 'begin', 50, 50, 21, { nfds: 1, timeoutNs: NO_TIMEOUT }, { blob: pollfds([5, POLLIN]) });
  const a = graph(good);
  assert.deepEqual(a.g.deadlocks.map((d) => d.threads.slice().sort()), [['50/50', '51/51']]);
  assert.deepEqual(a.g.blocked.get('50/50')?.watches?.map((w) => [w.fd, w.object, w.dir]), [[5, '9:2', 'in']]);
  // The parent's blob is 5 bytes (not one whole entry) for nfds 1: its watched fds are unknown.
  s.ev('poll', 'begin', 50, 50, 21, { nfds: 1, timeoutNs: NO_TIMEOUT }, { blob: new Uint8Array([5, 0, 0, 0, 1]) });
  s.ev('poll', 'end', 50, 50, 22, { nfds: 1, timeoutNs: NO_TIMEOUT }, { result: 1, blob: new Uint8Array([1, 2, 3]) });
  s.ev('poll', 'begin', 50, 50, 23, { nfds: 1, timeoutNs: NO_TIMEOUT }, { blob: new Uint8Array([5, 0, 0, 0, 1]) });
  const b = graph(s);
  assert.equal(b.g.deadlocks.length, 0);
  assert.match(b.g.open.get('50/50') ?? '', /does not know/);
  assert.ok(b.g.edges.some((e) => e.from === '51/51' && e.to === '50/50'), 'the child still waits for the parent');
});

test('epoll interest list: ADD then DEL of an fd the trace cannot name leaves only the pipe, so the cycle stands', () => {
  const s = twoPipes();
  s.ev('poll', 'begin', 51, 51, 20, { nfds: 1, timeoutNs: NO_TIMEOUT }, { blob: pollfds([3, POLLIN]) });
  s.ev('epoll_create', 'instant', 50, 50, 21, { dev: 8, ino: 77 }, { result: 7 });
  s.ev('epoll_ctl', 'instant', 50, 50, 22, { epfd: 7, op: 1, fd: 5, events: POLLIN, data: 500, otype: 'pipe', dev: 9, ino: 2 });
  s.ev('epoll_ctl', 'instant', 50, 50, 23, { epfd: 7, op: 1, fd: 0, events: POLLIN, data: 0, otype: 'tty', dev: 1, ino: 5 });
  s.ev('epoll_wait', 'begin', 50, 50, 24, { epfd: 7, maxevents: 4, timeoutNs: NO_TIMEOUT });
  const a = graph(s);
  assert.equal(a.g.deadlocks.length, 0, 'stdin (a terminal) could make it ready');
  assert.match(a.g.open.get('50/50') ?? '', /does not know/);
  s.ev('epoll_wait', 'end', 50, 50, 25, { epfd: 7, maxevents: 4, timeoutNs: NO_TIMEOUT }, { result: 0 });
  s.ev('epoll_ctl', 'instant', 50, 50, 26, { epfd: 7, op: 2, fd: 0 });
  s.ev('epoll_wait', 'begin', 50, 50, 27, { epfd: 7, maxevents: 4, timeoutNs: NO_TIMEOUT });
  const b = graph(s);
  assert.deepEqual(b.g.deadlocks.map((d) => d.threads.slice().sort()), [['50/50', '51/51']]);
  assert.deepEqual(b.g.blocked.get('50/50')?.watches?.map((w) => [w.fd, w.data]), [[5, 500n]]);
});

test('a timed wait in what would be a cycle is open: pthread_cond_timedwait vs pthread_cond_wait', () => {
  for (const timed of [0, 1]) {
    const s = new ArraySource();
    s.connect(60, 1, ['p'], 0n);
    s.ev('proc_start', 'instant', 60, 60, 0, { ppid: 1 });
    s.ev('thread_start', 'instant', 60, 61, 1, {});
    s.ev('pipe', 'instant', 60, 60, 2, { readFd: 3, writeFd: 4, dev: 9, ino: 3 });
    // The worker used the mutex once, then blocks reading the pipe main should write; main waits on the condvar.
    s.ev('mutex_lock', 'instant', 60, 61, 3, { mutex: 0x500 });
    s.ev('mutex_unlock', 'instant', 60, 61, 4, { mutex: 0x500 });
    s.ev('read', 'begin', 60, 61, 5, { fd: 3, count: 1, otype: 'pipe', dev: 9, ino: 3 });
    s.ev('mutex_lock', 'instant', 60, 60, 6, { mutex: 0x500 });
    s.ev('cond_wait', 'begin', 60, 60, 7, { cond: 0x600, mutex: 0x500, timed });
    const { g } = graph(s);
    assert.ok(g.edges.some((e) => e.from === '60/60' && e.to === '60/61' && /uses its mutex/.test(e.reason)), JSON.stringify(g.edges.map((e) => e.reason)));
    if (timed) { assert.equal(g.deadlocks.length, 0); assert.match(g.open.get('60/60') ?? '', /timedwait: it ends by itself/); }
    else assert.deepEqual(g.deadlocks.map((d) => d.threads.slice().sort()), [['60/60', '60/61']]);
  }
});

test('an epoll fd inherited across fork or dup\'ed keeps its interest list; two instances never mix', () => {
  const s = new ArraySource();
  s.connect(70, 1, ['p'], 0n).connect(71, 70, ['c'], 10n, 'fork');
  s.ev('proc_start', 'instant', 70, 70, 0, { ppid: 1 });
  s.ev('pipe', 'instant', 70, 70, 1, { readFd: 3, writeFd: 4, dev: 9, ino: 1 });
  s.ev('epoll_create', 'instant', 70, 70, 2, { dev: 8, ino: 77 }, { result: 5 });
  s.ev('epoll_ctl', 'instant', 70, 70, 3, { epfd: 5, op: 1, fd: 3, events: POLLIN, data: 33, otype: 'pipe', dev: 9, ino: 1 });
  s.ev('fork', 'instant', 70, 70, 4, {}, { result: 71 });
  s.ev('proc_start', 'instant', 71, 71, 10, { ppid: 70, origin: 'fork' });
  // The parent makes a second instance (same anonymous inode) watching nothing the child's does.
  s.ev('epoll_create', 'instant', 70, 70, 11, { dev: 8, ino: 77 }, { result: 6 });
  s.ev('epoll_ctl', 'instant', 70, 70, 12, { epfd: 6, op: 1, fd: 4, events: 4, data: 44, otype: 'pipe', dev: 9, ino: 1 });
  s.ev('dup', 'instant', 71, 71, 13, { oldfd: 5, newfd: 8, how: 'dup', otype: 'epoll', dev: 8, ino: 77 }, { result: 8 });
  s.ev('epoll_wait', 'begin', 71, 71, 14, { epfd: 8, maxevents: 4, timeoutNs: NO_TIMEOUT });
  s.ev('epoll_wait', 'begin', 70, 70, 15, { epfd: 6, maxevents: 4, timeoutNs: NO_TIMEOUT });
  const { g } = graph(s);
  assert.deepEqual(g.blocked.get('71/71')?.watches?.map((w) => [w.fd, w.data, w.dir]), [[3, 33n, 'in']]);
  assert.deepEqual(g.blocked.get('70/70')?.watches?.map((w) => [w.fd, w.data, w.dir]), [[4, 44n, 'out']]);
  assert.equal(g.blocked.get('71/71')?.watchesIncomplete, undefined);
});
