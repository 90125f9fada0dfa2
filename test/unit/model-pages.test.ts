// The trace model's page tables (PageModel.mappings) on a copy-on-write run recorded under the real shim: demos/cow
// maps 4 MiB, touches it, forks, and the child writes every page. Checked against what the program itself read from
// /proc/self/smaps (its SUMMARY lines) and against the model's other page view (the debugger's PageModel tracks).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TraceModel } from '../../src/common/model/model';
import { CellState, PAGE_SIZE, type PageMapping } from '../../src/common/model/pages';
import { enumValue, kindId } from '../../src/common/vocabulary';
import { ROOT, arg, events, recordProgram, whyNoShim } from '../helpers/record';
import { TraceBuilder, pagemapBlob, PM } from './panels-fixture';

const MIB = 4, BUF_PAGES = MIB * 256;
const count = (states: Uint8Array, state: number) => states.reduce((n, s) => n + (s === state ? 1 : 0), 0);

test('recorded CoW run: the model lists each image\'s mappings and follows the buffer\'s pages through fork and the child\'s writes', async (t) => {
  const why = whyNoShim();
  const bin = join(ROOT, 'demos/cow/build/cow');
  if (why || !existsSync(bin)) return t.skip(why ?? `${bin} not built (make -C demos)`);
  const r = await recordProgram(bin, [String(MIB)]);
  try {
    assert.equal(r.exit.status, 0, r.stderr);
    const kinds = new Set<number>(); for (let i = 0; i < r.store.count; i++) kinds.add(r.store.kindAt(i));
    assert.ok(kinds.has(kindId('fork')) && kinds.has(kindId('page_snapshot')), 'the shim records fork and page-table snapshots');
    const m = new TraceModel(r.store);
    m.update({ flush: true });
    const pm = m.pages.mappings;
    const conns = r.store.connections();
    const parent = conns.find((c) => c.origin !== 'fork')!, child = conns.find((c) => c.origin === 'fork');
    assert.ok(child, 'the forked child is traced');
    assert.equal(pm.forkParent(child.conn), parent.conn, 'the child image is paired with its parent');
    assert.deepEqual(pm.forkChildren(parent.conn), [child.conn]);

    // The mapping list: the program's own binary (file-backed, executable), the shim, the stack, and the buffer.
    const listed = pm.listed();
    const pmaps = listed.get(parent.conn) ?? [];
    const show = (l: readonly PageMapping[]) => l.map((x) => `${x.start.toString(16)}-${x.end.toString(16)} ${x.perms} ${x.path}`).join('\n');
    assert.ok(pmaps.some((x) => x.path.endsWith('/cow') && x.fileBacked && x.perms === 'r-xp'), `the program's text:\n${show(pmaps)}`);
    assert.ok(pmaps.some((x) => x.path.endsWith('libipcscope.so') && x.fileBacked), 'the shim is mapped');
    assert.ok(pmaps.some((x) => x.path === '[stack]' && !x.fileBacked && x.perms === 'rw-p'), 'the stack');
    for (let i = 1; i < pmaps.length; i++) assert.ok(pmaps[i - 1].start < pmaps[i].start, 'listed by address');
    const mmap = events(r.store, 'mmap', { pid: parent.pid }).find((e) => arg(e, 'mmap', 'length') === BigInt(MIB) << 20n);
    assert.ok(mmap, 'the demo mmap()s the buffer');
    const lo = BigInt.asUintN(64, mmap.result), hi = lo + (BigInt(MIB) << 20n);
    // The kernel may merge the buffer with an adjacent anonymous mapping: the listed mapping holds it, maybe more.
    const holding = (conn: number) => (listed.get(conn) ?? []).filter((x) => x.start <= lo && hi <= x.end && x.grid)
      .sort((a, b) => a.end - a.start < b.end - b.start ? -1 : 1)[0];
    const pbuf = holding(parent.conn), cbuf = holding(child.conn);
    assert.ok(pbuf, `a parent mapping holds the buffer ${lo.toString(16)}-${hi.toString(16)}:\n${show(pmaps)}\nmerged: ${[...pm.merged].join(' ')}`);
    assert.ok(cbuf, `a child mapping holds the buffer:\n${show(listed.get(child.conn) ?? [])}`);
    for (const x of [pbuf, cbuf]) {
      assert.equal(x.perms, 'rw-p');
      assert.equal(x.shared, false);
      assert.equal(x.fileBacked, false);
    }
    const range = (x: PageMapping, states: Uint8Array) => states.subarray(Number((lo - x.start) / PAGE_SIZE), Number((hi - x.start) / PAGE_SIZE));

    // The child's snapshot after fork, and its last one (at exit): the moments its snapshot_done events stamp.
    const done = events(r.store, 'snapshot_done', { pid: child.pid });
    const afterFork = done.find((e) => arg(e, 'snapshot_done', 'reason') === BigInt(enumValue('snapshotReason', 'fork_child')));
    assert.ok(afterFork, 'a snapshot right after fork');
    const atExit = done[done.length - 1].ts;
    const c1 = range(cbuf, cbuf.grid!.statesAt(afterFork.ts)), c2 = range(cbuf, cbuf.grid!.statesAt(atExit));
    const p1 = range(pbuf, pbuf.grid!.statesAt(afterFork.ts)), p2 = range(pbuf, pbuf.grid!.statesAt(atExit));
    assert.equal(count(c1, CellState.Shared), BUF_PAGES, 'right after fork the child shares every buffer page');
    assert.equal(count(p1, CellState.Shared), BUF_PAGES, 'and so does the parent');
    assert.equal(count(c2, CellState.Copied), BUF_PAGES, 'after its writes the child has its own copy of every page');
    assert.equal(count(p2, CellState.Private), BUF_PAGES, 'the parent maps its originals alone');
    assert.deepEqual([...cbuf.cur.subarray(Number((lo - cbuf.start) / PAGE_SIZE), Number((hi - cbuf.start) / PAGE_SIZE))], [...c2], 'the current states are the last ones');

    // What the child read from /proc/self/smaps about the mapping holding the buffer (KiB), beside the model.
    const summary = (who: string) => {
      const line = new RegExp(`SUMMARY ${who} .*shared_kib=(\\d+) private_kib=(\\d+)`).exec(r.stdout);
      assert.ok(line, `the demo printed its ${who} summary:\n${r.stdout}`);
      return { shared: Number(line[1]), private: Number(line[2]) };
    };
    const smapsFork = summary('child-after-fork'), smapsWrite = summary('child-after-write');
    assert.ok(smapsFork.shared >= MIB * 1024 && smapsWrite.private >= MIB * 1024, 'the kernel agrees: shared after fork, private after the writes');

    // The model's counters for the child (whole image): the buffer's pages moved from shared to private.
    const cc = pm.counters.get(child.conn)!;
    const last = cc.ts.length - 1;
    assert.ok(cc.privateAt.at(last) >= BUF_PAGES, `the child's private pages at the end: ${cc.privateAt.at(last)}`);
    if (kinds.has(kindId('page_fault'))) {
      assert.ok(cc.minorAt.at(last) >= BUF_PAGES * 0.9, `one minor fault per written page, give or take dropped samples: ${cc.minorAt.at(last)}`);
      const faults = cbuf.grid!.faultTs.length;
      assert.ok(faults >= BUF_PAGES * 0.9, `the child's faults land in the buffer's grid: ${faults}`);
    } else t.diagnostic('no page_fault events (perf_event_open refused): states come from snapshots only');

    // The debugger's view of the same pages (PageModel tracks, classified from the raw pagemap entries): at exit no
    // page is shared any more (its latest snapshot shows each page private), and half way through the child's
    // faults both views count the same pages copied.
    const track = m.pages.trackList(child.pid).find((x) => x.start <= lo && hi <= x.end);
    assert.ok(track, 'a debugger page track covers the buffer');
    const dbgAt = (ts: bigint) => m.pages.statesAt(track, ts).states.subarray(Number((lo - track.start) / PAGE_SIZE), Number((hi - track.start) / PAGE_SIZE));
    assert.equal(count(dbgAt(atExit), 2), 0, 'the debugger sees no child page shared at exit');
    const cf = cbuf.grid!.faultTs;
    if (cf.length) {
      const mid = cf.at(cf.length >> 1);
      const gridCopied = count(range(cbuf, cbuf.grid!.statesAt(mid)), CellState.Copied);
      assert.ok(gridCopied > 0 && gridCopied < BUF_PAGES, `half way, some pages copied: ${gridCopied}`);
      assert.equal(count(dbgAt(mid), 3), gridCopied, 'both views count the same pages copied half way');
    }
  } finally { r.cleanup(); }
});

test('the mapping list follows mmap, mprotect, munmap, System V shm and the shim\'s mapping lines', () => {
  const b = new TraceBuilder();
  const c = b.image(7);
  const A = 0x7f0000000000n, S = 0x7f1000000000n, F = 0x555555554000n, Y = 0x7f2000000000n;
  b.ev(c, 7, 'mapping', 1n, { start: F, end: F + 0x2000n, prot: 5, shared: 0, ino: 42 }, { blob: '/usr/bin/demo' });
  b.ev(c, 7, 'mmap', 2n, { length: 4 * 4096, prot: 3, flags: 0x22, fd: -1 }, { result: A }); // MAP_PRIVATE|MAP_ANONYMOUS
  b.ev(c, 7, 'mmap', 3n, { length: 4096, prot: 3, flags: 0x21, fd: -1 }, { result: S }); // MAP_SHARED|MAP_ANONYMOUS
  b.ev(c, 7, 'shmat', 4n, { shmid: 5, size: 3 * 4096 }, { result: Y });
  b.ev(c, 7, 'page_fault', 5n, { addr: A + 4096n, ip: F + 0x10n });
  b.ev(c, 7, 'page_fault', 6n, { addr: S, ip: F + 0x20n });
  b.ev(c, 7, 'page_fault', 7n, { addr: F, ip: F + 0x30n });
  b.ev(c, 7, 'mprotect', 8n, { addr: A, length: 4 * 4096, prot: 1 });
  b.ev(c, 7, 'page_fault', 9n, { addr: Y + 8192n, ip: F + 0x40n });
  b.ev(c, 7, 'shmdt', 10n, { addr: Y });
  b.ev(c, 7, 'munmap', 11n, { addr: A, length: 4 * 4096 });
  const m = new TraceModel(b.build());
  m.update({ flush: true });
  const pm = m.pages.mappings;
  const list = pm.listed().get(c)!;
  assert.deepEqual(list.map((x) => [x.start, x.perms, x.shared, x.fileBacked, x.path]), [
    [F, 'r-xp', false, true, '/usr/bin/demo'],
    [A, 'r--p', false, false, ''],
    [S, 'rw-s', true, false, ''],
    [Y, 'rw-s', true, false, '/SYSV'],
  ], 'in address order, unmapped ones still listed (their history is on the timeline)');
  const at = (start: bigint, ts: bigint) => [...list.find((x) => x.start === start)!.grid!.statesAt(ts)];
  assert.deepEqual(at(A, 5n), [CellState.NotPresent, CellState.Private, CellState.NotPresent, CellState.NotPresent], 'first touch of private memory');
  assert.deepEqual(at(S, 6n), [CellState.Shared], 'first touch of shared anonymous memory');
  assert.deepEqual(at(F, 7n), [CellState.FileClean, CellState.NotPresent], 'a page of the program read from its file');
  assert.deepEqual(at(Y, 9n), [CellState.NotPresent, CellState.NotPresent, CellState.Shared]);
  assert.deepEqual(at(Y, 10n), [0, 0, 0], 'shmdt unmaps the segment');
  assert.deepEqual(at(A, 11n), [0, 0, 0, 0], 'munmap unmaps the range');
  assert.equal(pm.mappingAt(c, A), undefined, 'no current mapping at the unmapped address');
  assert.equal(pm.moduleOffset(c, F + 0x10n), 'demo+0x10', 'fault sites by module and offset');
  const counters = pm.counters.get(c)!;
  assert.equal(counters.minorAt.at(counters.ts.length - 1), 4);
  assert.equal(counters.residentAt.at(counters.ts.length - 1), 2, 'after the unmaps only the program\'s page and the shared one are resident');
  assert.equal(counters.ts.at(counters.ts.length - 1), 11n, 'the counters drop at the munmap');
});

test('anonymous mappings the kernel merges and splits again keep their pages\' history', () => {
  // The buffer (4 pages) gets a 1-page neighbour below it that the kernel merges into one line of the mapping list;
  // the neighbour is unmapped and mapped again, and the list shows the buffer alone again: its pages go on.
  const b = new TraceBuilder();
  const c = b.image(8);
  const X = 0x7f0000400000n, P = 4096n;
  b.ev(c, 8, 'mmap', 1n, { length: 4 * 4096, prot: 3, flags: 0x22 }, { result: X });
  for (let i = 0n; i < 4n; i++) b.ev(c, 8, 'page_fault', 2n + i, { addr: X + i * P, ip: 1 });
  b.ev(c, 8, 'mmap', 10n, { length: 4096, prot: 3, flags: 0x22 }, { result: X - P });
  b.ev(c, 8, 'page_fault', 11n, { addr: X - P, ip: 1 });
  b.ev(c, 8, 'mapping', 12n, { start: X - P, end: X + 4n * P, prot: 3 });
  b.ev(c, 8, 'munmap', 13n, { addr: X - P, length: 4096 });
  b.ev(c, 8, 'mmap', 14n, { length: 4096, prot: 3, flags: 0x22 }, { result: X - P });
  b.ev(c, 8, 'mapping', 15n, { start: X, end: X + 4n * P, prot: 3 });
  b.ev(c, 8, 'munmap', 16n, { addr: X + 2n * P, length: 8192 });
  const m = new TraceModel(b.build());
  m.update({ flush: true });
  const holding = m.pages.mappings.listed().get(c)!.filter((x) => x.start <= X && X + 4n * P <= x.end);
  assert.equal(holding.length, 1, 'one listed mapping holds the buffer');
  const g = holding[0].grid!, off = Number((X - holding[0].start) / P);
  const buf = (ts: bigint) => [...g.statesAt(ts).subarray(off, off + 4)];
  assert.deepEqual(buf(5n), [1, 1, 1, 1]);
  assert.deepEqual(buf(15n), [1, 1, 1, 1], 'merged, split and listed again: still the same pages');
  assert.deepEqual(buf(16n), [1, 1, 0, 0], 'a munmap of part of it unmaps those pages only');
  if (off > 0) {
    assert.equal(g.statesAt(11n)[off - 1], CellState.Private, 'the neighbour\'s page, merged in');
    assert.equal(g.statesAt(13n)[off - 1], CellState.NotPresent, 'unmapped');
  }
});

test('the debugger\'s page view: shared by frame number across processes, by the exclusive bit without frames, swapped', () => {
  const b = new TraceBuilder();
  const A = 0x7f0000000000n, N = 5;
  const p = b.image(200), c = b.image(201, { ppid: 200, origin: 'fork', startNs: 5n });
  const swapped = 1n << 62n;
  const snap = (conn: number, pid: number, ts: bigint, entries: bigint[], hasPfn: number) => {
    b.ev(conn, pid, 'page_snapshot', ts, { mapStart: A, mapEnd: A + BigInt(N) * 4096n, firstPage: 0, pageCount: N, hasPfn, seq: 1 }, { blob: pagemapBlob(entries) });
    b.ev(conn, pid, 'snapshot_done', ts + 1n, { seq: 1, mappings: 1, pages: N });
  };
  // Frames 1000 and 1001 are in both processes; 1002/1003 and 2002/2003 are each one's own; the last page is swapped.
  snap(p, 200, 10n, [PM.present | 1000n, PM.present | 1001n, PM.present | 1002n, PM.present | 1003n, swapped], 1);
  snap(c, 201, 20n, [PM.present | 1000n, PM.present | 1001n, PM.present | 2002n, PM.present | 2003n, 0n], 1);
  // A third process without frames: the exclusive bit decides.
  const q = b.image(300);
  snap(q, 300, 30n, [PM.present | PM.exclusive, PM.present, 0n, 0n, 0n], 0);
  b.ev(c, 201, 'page_fault', 40n, { addr: A + 4096n, ip: 1 });
  const m = new TraceModel(b.build());
  m.update({ flush: true });
  const at = (pid: number, ts: bigint) => { const r = m.pages.statesAt(m.pages.trackList(pid)[0], ts); return [[...r.states], r.method]; };
  assert.deepEqual(at(201, 30n), [[2, 2, 1, 1, 0], 'pfn'], 'the child shares two frames with its parent');
  assert.deepEqual(at(200, 30n), [[2, 2, 1, 1, 4], 'pfn'], 'and the parent with the child; its last page is swapped out');
  assert.deepEqual(at(300, 35n), [[1, 2, 0, 0, 0], 'exclusive-bit']);
  assert.deepEqual(at(201, 40n), [[2, 3, 1, 1, 0], 'pfn'], 'a fault on a shared page is a copy');
  assert.equal(m.pages.stateBefore(201, A + 4096n, 40n), 2, 'shared just before the fault');
  assert.deepEqual(m.pages.countsAt(201, 40n), { present: 4, private: 3, shared: 1, copied: 1, absent: 1, swapped: 0, method: 'pfn' });
});
