// demos/cow: after fork the child's 100 MiB is shared; its writes take ≥ 25,000 minor faults and leave every page
// private (the note: about 25,600 faults, about 100 MiB more memory).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE_SIZE } from '../../src/common/model/pages';
import type { ProcessInfo } from '../../src/common/model';
import { context, evs, forkedChildren, num, partCommand, proc, recordDemo, shimInfo, whyNoDemos, type DemoRun } from './demoSupport';

const MAPPING_PAGES = (100 * 1024 * 1024) / Number(PAGE_SIZE);

function summaryLine(run: DemoRun, who: string): Record<string, number> {
  const line = run.stdout.split('\n').find((l) => l.startsWith(`SUMMARY ${who} `));
  assert.ok(line, `no SUMMARY ${who} line\n${context(run)}`);
  return Object.fromEntries(line.split(' ').slice(2).map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)]));
}

/** The parent's 100 MiB mapping: the address range its mmap returned. */
function mappingRange(run: DemoRun, parentPid: number): { lo: bigint; hi: bigint } {
  const m = evs(run, 'mmap', { pid: parentPid }).find((e) => e.err === 0 && num(e, 'mmap', 'length') === MAPPING_PAGES * Number(PAGE_SIZE));
  assert.ok(m, `the parent's 100 MiB mmap is in the trace\n${context(run)}`);
  const lo = BigInt.asUintN(64, m.result);
  return { lo, hi: lo + BigInt(MAPPING_PAGES) * PAGE_SIZE };
}

/** Shared/private counts of the child's pages in the 100 MiB range, right after fork (first snapshot) and at the end.
 * (The kernel may merge the mapping with an adjacent anonymous one: only the range's pages are counted.) */
function childPages(run: DemoRun, childPid: number, range: { lo: bigint; hi: bigint }) {
  const track = run.model.pages.trackList(childPid).find((t) => t.start <= range.lo && t.end >= range.hi);
  assert.ok(track, `no page track covering the mapping for the child ${childPid}; tracks: ${run.model.pages.trackList(childPid).map((t) => t.pages).join(', ')}\n${context(run)}`);
  assert.ok(track.snapshots.length >= 2, `child has ${track.snapshots.length} snapshots of the mapping (want one after fork, one at exit)`);
  const first = Number((range.lo - track.start) / PAGE_SIZE);
  const count = (ts: bigint) => {
    const { states } = run.model.pages.statesAt(track, ts);
    let shared = 0, priv = 0;
    for (const s of states.subarray(first, first + MAPPING_PAGES)) { if (s === 2) shared++; else if (s === 1 || s === 3) priv++; }
    return { shared, priv };
  };
  return { track, afterFork: count(track.snapshots[0].ts), atEnd: count(track.snapshots[track.snapshots.length - 1].ts) };
}

for (const [part, program] of [['cow-c', './build/cow'], ['cow-py', 'cow.py']] as const) {
  describe(`cow (${part})`, { skip: whyNoDemos(), timeout: 120_000 }, () => {
    let run: DemoRun;
    let kid: ProcessInfo;
    let range: { lo: bigint; hi: bigint };
    before(async () => {
      run = await recordDemo('cow', partCommand('cow', part));
      assert.equal(run.exit.code, 0, context(run));
      const kids = forkedChildren(run, proc(run, program));
      assert.equal(kids.length, 1, `one forked child of the same program expected\n${context(run)}`);
      kid = kids[0];
      range = mappingRange(run, proc(run, program).pid);
    });
    after(() => run?.cleanup());

    test('right after fork every page of the child\'s 100 MiB mapping is shared', () => {
      const { afterFork } = childPages(run, kid.pid, range);
      assert.ok(afterFork.shared >= MAPPING_PAGES * 0.95, `after fork only ${afterFork.shared} of ${MAPPING_PAGES} pages shared`);
    });

    // cow.py's child runs `free` and `ps` after its writes (as the note does): each fork shares its pages again with
    // the short-lived grandchild until that execs, so the "all private" moment is only checked on the C version,
    // whose child reports through /proc itself.
    if (part === 'cow-c') test('after the child\'s writes none of its pages is shared, all are private', () => {
      const { atEnd } = childPages(run, kid.pid, range);
      assert.equal(atEnd.shared, 0, `after the writes ${atEnd.shared} pages are still shared`);
      assert.ok(atEnd.priv >= MAPPING_PAGES * 0.95, `after the writes only ${atEnd.priv} pages private`);
      const afterFork = summaryLine(run, 'child-after-fork'), afterWrite = summaryLine(run, 'child-after-write');
      // smaps describes the whole (possibly merged) area: at least the 100 MiB.
      assert.ok(afterFork.shared_kib >= 102_400, `smaps: ${afterFork.shared_kib} KiB shared right after fork`);
      assert.ok(afterWrite.private_kib >= 102_400, `smaps: ${afterWrite.private_kib} KiB private after the writes`);
    });

    test('the child takes at least 25,000 minor faults (the note: about 25,600)', () => {
      const own = summaryLine(run, 'child-after-write').min_flt - summaryLine(run, 'child-after-fork').min_flt;
      assert.ok(own >= 25_000, `the child counted only ${own} minor faults itself (getrusage)`);
      const faults = run.model.pages.faultCounts.get(kid.pid);
      assert.ok(faults, `no page faults recorded for the child ${kid.pid}; shim_info: ${shimInfo(run)}`);
      assert.ok(faults.minor >= 25_000, `child minor faults in the trace ${faults.minor} < 25,000`);
    });
  });
}
