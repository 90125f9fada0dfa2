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
    assert.ok(pbuf, `a parent mapping holds the buffer:\n${show(pmaps)}`);
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
