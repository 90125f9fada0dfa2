// `ipcscope record` on real programs under the real shim: pipes, FIFOs, POSIX queues, shared memory, signals.
// Each test compiles its fixture from test/fixtures/record, records it with the CLI, and asserts exact events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { arg, blobText, compileC, events, recordProgram, rootPid, whyNoShim, ROOT } from '../helpers/record';

const skip = whyNoShim();
const FIX = 'test/fixtures/record';
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

test('a parent writes three messages through a pipe to its child: one pipe dev/ino on both sides, byte counts match', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/pipe_parent_child.c`));
  assert.equal(r.exit.status, 0, r.stderr);
  assert.match(r.stdout, /child read 48 bytes/);
  const s = r.store;
  const parent = rootPid(s);
  const [pipe] = events(s, 'pipe', { pid: parent });
  assert.ok(pipe, 'pipe event in the parent');
  const dev = arg(pipe, 'pipe', 'dev'), ino = arg(pipe, 'pipe', 'ino');
  assert.notEqual(ino, 0n);
  const [fork] = events(s, 'fork', { pid: parent });
  const child = Number(fork.result);
  assert.ok(child > 0);
  const writes = events(s, 'write', { pid: parent, phase: 'end', args: { dev, ino } });
  assert.deepEqual(writes.map((w) => w.result), [16n, 16n, 16n]);
  assert.deepEqual(writes.map((w) => arg(w, 'write', 'otype')), [1n, 1n, 1n]); // otype pipe
  assert.equal(writes.map(blobText).join(''), 'message one....\nmessage two....\nmessage three..\n');
  const reads = events(s, 'read', { pid: child, phase: 'end', args: { dev, ino } });
  assert.equal(sum(reads.map((x) => x.result)), 48n);
  assert.equal(reads[reads.length - 1].result, 0n, 'the last read sees EOF');
  assert.equal(reads.map(blobText).join(''), writes.map(blobText).join(''));
  r.cleanup();
});

test('a FIFO between two unrelated processes: both opens name one dev/ino, 36 bytes each way', { skip }, async () => {
  const bin = compileC(`${FIX}/fifo_end.c`);
  const r = await recordProgram('sh', [join(ROOT, FIX, 'fifo.sh'), bin]);
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const proc = (role: string) => s.connections().find((c) => c.argv[1] === role && c.argv[0].endsWith('fifo_end'));
  const writer = proc('write'), reader = proc('read');
  assert.ok(writer && reader, `fifo_end processes connected: ${JSON.stringify(s.connections().map((c) => c.argv))}`);
  assert.ok(events(s, 'mkfifo').some((e) => blobText(e).endsWith('/fifo')), 'mkfifo recorded with its path');
  const [wo] = events(s, 'open', { pid: writer.pid, args: { otype: 'fifo' } });
  const [ro] = events(s, 'open', { pid: reader.pid, args: { otype: 'fifo' } });
  assert.ok(wo && ro, 'both opens are of a fifo');
  const dev = arg(wo, 'open', 'dev'), ino = arg(wo, 'open', 'ino');
  assert.deepEqual([arg(ro, 'open', 'dev'), arg(ro, 'open', 'ino')], [dev, ino]);
  assert.deepEqual(events(s, 'write', { pid: writer.pid, phase: 'end', args: { ino } }).map((e) => e.result), [12n, 12n, 12n]);
  assert.equal(sum(events(s, 'read', { pid: reader.pid, phase: 'end', args: { ino } }).map((e) => e.result)), 36n);
  r.cleanup();
});

test('a POSIX message queue with priorities 1, 5, 3 delivers 5, 3, 1', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/mq_prio.c`));
  assert.equal(r.exit.status, 0, r.stderr);
  assert.equal(r.stdout, 'high 5\nmiddle 3\nlow 1\n');
  const s = r.store;
  const parent = rootPid(s);
  const [open] = events(s, 'mq_open', { pid: parent });
  assert.match(blobText(open), /^\/ipcscope-test-\d+$/);
  const dev = arg(open, 'mq_open', 'dev'), ino = arg(open, 'mq_open', 'ino');
  const child = Number(events(s, 'fork', { pid: parent })[0].result);
  const sends = events(s, 'mq_send', { pid: child, phase: 'end', args: { dev, ino } });
  assert.deepEqual(sends.map((e) => arg(e, 'mq_send', 'prio')), [1n, 5n, 3n]);
  assert.deepEqual(sends.map((e) => blobText(e).replace(/\0$/, '')), ['low', 'high', 'middle']);
  const recvs = events(s, 'mq_receive', { pid: parent, phase: 'end', args: { dev, ino } });
  assert.deepEqual(recvs.map((e) => arg(e, 'mq_receive', 'prio')), [5n, 3n, 1n]);
  assert.deepEqual(recvs.map((e) => e.result), [5n, 7n, 4n]);
  r.cleanup();
});

test('shared memory via shm_open and via anonymous MAP_SHARED, written by a forked child', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/shm_fork.c`));
  assert.equal(r.exit.status, 0, r.stderr);
  assert.equal(r.stdout, 'written via shm_open / written via MAP_SHARED\n');
  const s = r.store;
  const parent = rootPid(s);
  const [so] = events(s, 'shm_open', { pid: parent });
  assert.match(blobText(so), /^\/ipcscope-shm-\d+$/);
  const fd = so.result, dev = arg(so, 'shm_open', 'dev'), ino = arg(so, 'shm_open', 'ino');
  assert.ok(events(s, 'ftruncate', { pid: parent, args: { fd, length: 4096 } }).length === 1, 'ftruncate of the shm fd');
  const maps = events(s, 'mmap', { pid: parent });
  const named = maps.find((e) => arg(e, 'mmap', 'fd') === fd);
  assert.ok(named, 'mmap of the shm fd');
  assert.equal(arg(named, 'mmap', 'flags') & 0x3n, 1n, 'MAP_SHARED');
  assert.deepEqual([arg(named, 'mmap', 'otype'), arg(named, 'mmap', 'dev'), arg(named, 'mmap', 'ino')], [13n, dev, ino]); // otype shm
  assert.ok(maps.some((e) => arg(e, 'mmap', 'flags') === 0x21n && arg(e, 'mmap', 'length') === 4096n), 'anonymous MAP_SHARED mapping');
  const [fork] = events(s, 'fork', { pid: parent });
  const child = s.connections().find((c) => c.pid === Number(fork.result));
  assert.ok(child, 'the child connected');
  assert.equal(child.origin, 'fork');
  assert.equal(child.ppid, parent);
  assert.ok(named.ts < fork.ts, 'mapped before the fork');
  r.cleanup();
});

test('SIGUSR1 sent by a child and delivered to the parent\'s handler', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/sigusr1.c`));
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const parent = rootPid(s);
  const child = Number(events(s, 'fork', { pid: parent })[0].result);
  assert.equal(events(s, 'sigaction', { pid: parent, args: { sig: 10 } }).length, 1);
  const kills = events(s, 'kill', { pid: child, args: { pid: parent, sig: 10 } });
  assert.equal(kills.length, 1);
  assert.equal(kills[0].result, 0n);
  const begin = events(s, 'signal_handler', { pid: parent, phase: 'begin', args: { sig: 10 } });
  const end = events(s, 'signal_handler', { pid: parent, phase: 'end', args: { sig: 10 } });
  assert.equal(begin.length, 1);
  assert.equal(end.length, 1);
  assert.equal(arg(begin[0], 'signal_handler', 'senderPid'), BigInt(child));
  // kill's instant event is stamped after kill() returns, and the parent may enter its handler before that on the
  // other core: only the handler's own order is certain
  assert.ok(begin[0].ts <= end[0].ts);
  assert.equal(arg(end[0], 'signal_handler', 'senderPid'), BigInt(child));
  r.cleanup();
});
