// Page-table panel data: replaying page states fault by fault over a copy-on-write run.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { buildPagesData as packModel, classifyPagemapEntry, countersAt, PageGridReplay, PageState, PAGE_STATE_NAMES, windowGrid, type PagesData } from '../../src/common/panels/pages';
import type { EventSource } from '../../src/common/traceEvent';
import { TraceBuilder, pagemapBlob, PM } from './panels-fixture';
import { kindId } from '../../src/common/vocabulary';
import { arg, compileC, events, ROOT, recordProgram, whyNoShim, type RecordResult } from '../helpers/record';
import { TraceModel } from '../../src/common/model/model';

const A = 0x7f0000000000n, PAGES = 8;
/** The panel's data from the trace model of a whole trace (or from a given model as it is). */
function buildPagesData(input: EventSource | TraceModel): PagesData {
  if (input instanceof TraceModel) return packModel(input);
  const m = new TraceModel(input);
  m.update({ flush: true });
  return packModel(m);
}
function counts(data: PagesData, mappingId: string, ts: bigint): Record<string, number> {
  const r = new PageGridReplay(data.grids.get(mappingId)!);
  r.seek(ts);
  return Object.fromEntries(PAGE_STATE_NAMES.map((n, i) => [n, r.counts[i]]).filter(([, c]) => c));
}

/** Parent touches 8 pages, forks; child writes 4 of them. With or without the shim's fork snapshots. */
function cowTrace(withSnapshots: boolean) {
  const b = new TraceBuilder();
  const parent = b.image(100, { exe: '/demo/cow' });
  const child = b.image(101, { ppid: 100, origin: 'fork', exe: '/demo/cow', startNs: 200n });
  b.ev(parent, 100, 'mmap', 10n, { addr: 0, length: PAGES * 4096, prot: 3, flags: 0x22, fd: -1 }, { result: A });
  for (let i = 0; i < PAGES; i++) b.ev(parent, 100, 'page_fault', 100n + BigInt(i), { addr: A + BigInt(i) * 4096n + 12n, ip: 0x401234n, major: 0 });
  b.ev(parent, 100, 'fork', 200n, { how: 0 }, { result: 101 });
  if (withSnapshots) {
    const shared = Array.from({ length: PAGES }, (_, i) => PM.present | BigInt(1000 + i)); // present, not exclusive, frame 1000+i
    b.ev(parent, 100, 'page_snapshot', 201n, { mapStart: A, mapEnd: A + BigInt(PAGES) * 4096n, firstPage: 0, pageCount: PAGES, hasPfn: 1, reason: 0, seq: 1, hasMapcount: 1 },
      { blob: pagemapBlob(shared, shared.map(() => 2)) });
    b.ev(parent, 100, 'snapshot_done', 202n, { seq: 1, mappings: 1, pages: PAGES, reason: 0 });
    b.ev(child, 101, 'mapping', 205n, { start: A, end: A + BigInt(PAGES) * 4096n, prot: 3, shared: 0 });
    b.ev(child, 101, 'page_snapshot', 206n, { mapStart: A, mapEnd: A + BigInt(PAGES) * 4096n, firstPage: 0, pageCount: PAGES, hasPfn: 1, reason: 1, seq: 1, hasMapcount: 1 },
      { blob: pagemapBlob(shared, shared.map(() => 2)) });
    b.ev(child, 101, 'snapshot_done', 207n, { seq: 1, mappings: 1, pages: PAGES, reason: 1 });
  }
  for (let i = 0; i < 4; i++) b.ev(child, 101, 'page_fault', 300n + BigInt(i), { addr: A + BigInt(i) * 4096n, ip: 0x401300n, major: 0 });
  return { store: b.build(), parent, child };
}

for (const withSnapshots of [true, false]) {
  test(`copy-on-write replay, fault by fault (${withSnapshots ? 'with fork snapshots' : 'inferred from fork, no snapshots'})`, () => {
    const { store, parent, child } = cowTrace(withSnapshots);
    const data = buildPagesData(store);
    const pm = `${parent}:0x${A.toString(16)}`, cm = `${child}:0x${A.toString(16)}`;
    const p = data.processes.find((x) => x.conn === parent)!;
    assert.deepEqual(p.forkChildren, [child]);
    assert.equal(data.processes.find((x) => x.conn === child)!.forkParent, parent);
    assert.ok(p.mappings.some((m) => m.id === pm && m.pageCount === PAGES && m.perms === 'rw-p'));

    assert.deepEqual(counts(data, pm, 50n), { notPresent: 8 }, 'before the first touch');
    assert.deepEqual(counts(data, pm, 103n), { notPresent: 4, private: 4 }, 'four first-touch faults');
    assert.deepEqual(counts(data, pm, 150n), { private: 8 });
    assert.deepEqual(counts(data, pm, 250n), { shared: 8 }, 'after fork every page is shared');
    assert.deepEqual(counts(data, cm, 250n), { shared: 8 });
    assert.deepEqual(counts(data, cm, 302n), { shared: 5, copied: 3 }, 'three CoW faults in the child');
    assert.deepEqual(counts(data, pm, 302n), { shared: 5, private: 3 }, 'the parent keeps the originals alone');
    assert.deepEqual(counts(data, cm, 400n), { shared: 4, copied: 4 });

    // Scrubbing back and forth gives the same states as a fresh replay.
    const r = new PageGridReplay(data.grids.get(cm)!);
    r.seek(400n); r.seek(250n);
    assert.deepEqual([...r.counts], [0, 0, 8, 0, 0, 0]);
    assert.equal(r.seek(301n), 2, 'two changes crossed');
    assert.equal(r.states[0], PageState.Copied);
    assert.equal(r.states[2], PageState.Shared);
    r.seek(400n);
    const d = r.detail(1);
    assert.equal(d.address, A + 4096n);
    assert.equal(d.faultTs, 301n);
    assert.equal(d.faultIp, 0x401300n);
    if (withSnapshots) { assert.equal(d.pfn, 1001n); assert.equal(d.mapcount, 2); }

    const pc = countersAt(data.counters.get(parent)!, 1000n)!, cc = countersAt(data.counters.get(child)!, 1000n)!;
    assert.equal(pc.minorFaults, 8);
    assert.equal(cc.minorFaults, 4);
    assert.equal(cc.resident, 8);
    assert.equal(cc.private, 4);
    assert.equal(pc.shared, 4);
    if (withSnapshots) assert.equal(countersAt(data.counters.get(parent)!, 202n)!.pss, 4, 'PSS: 8 pages mapped twice');
  });
}

test('the child\'s copy-on-write faults free the parent\'s pages by address when the kernel merged the parent\'s mapping with a neighbour', () => {
  // Recorded: the parent's 4 MiB buffer merged with a 257-page anonymous neighbour the child does not have (one VMA of
  // 1281 pages in the parent's maps, 1024 in the child's); the parent's pages stayed shared for ever. Here with 8 + 4.
  const b = new TraceBuilder();
  const parent = b.image(100), child = b.image(101, { ppid: 100, origin: 'fork', startNs: 200n });
  const below = A - 4n * 4096n, end = A + BigInt(PAGES) * 4096n;
  b.ev(parent, 100, 'mmap', 10n, { length: PAGES * 4096, prot: 3, flags: 0x22 }, { result: A });
  for (let i = 0; i < PAGES; i++) b.ev(parent, 100, 'page_fault', 100n + BigInt(i), { addr: A + BigInt(i) * 4096n, ip: 1 });
  b.ev(parent, 100, 'fork', 200n, {}, { result: 101 });
  b.ev(parent, 100, 'mapping', 201n, { start: below, end, prot: 3 }); // the fork snapshot's maps: merged
  b.ev(child, 101, 'mapping', 205n, { start: A, end, prot: 3 });
  for (let i = 0; i < PAGES; i++) b.ev(child, 101, 'page_fault', 300n + BigInt(i), { addr: A + BigInt(i) * 4096n, ip: 2 });
  const data = buildPagesData(b.build());
  const pm = data.processes.find((x) => x.conn === parent)!.mappings.find((m) => BigInt(m.start) <= A && A < BigInt(m.end))!;
  assert.equal(pm.start, `0x${below.toString(16)}`, 'the parent lists one merged mapping');
  const buffer = (ts: bigint) => {
    const r = new PageGridReplay(windowGrid(data.grids.get(pm.id)!, A, PAGES));
    r.seek(ts);
    return Object.fromEntries(PAGE_STATE_NAMES.map((n, i) => [n, r.counts[i]]).filter(([, c]) => c));
  };
  assert.deepEqual(buffer(250n), { shared: PAGES }, 'after fork the buffer is shared');
  assert.deepEqual(buffer(303n), { shared: 4, private: 4 }, 'each child fault frees the parent\'s page at its address');
  assert.deepEqual(buffer(400n), { private: PAGES });
  assert.deepEqual(counts(data, `${child}:0x${A.toString(16)}`, 400n), { copied: PAGES });
});

test('a snapshot stamped when its reading began may already show a partner\'s later copy-on-write breaks', () => {
  // The shim stamps a page_snapshot chunk before it reads pagemap and kpagecount, so every event stamped earlier is
  // in it; the child's faults stamped after it but handled before the read show as map count 1 already. (Stamped
  // after the read, as it was, a parent descheduled in between sent map counts of 2 for pages the child's earlier-
  // stamped faults had freed, and the snapshot turned them shared again: 396 of 1024 in a recorded run.)
  const b = new TraceBuilder();
  const parent = b.image(100), child = b.image(101, { ppid: 100, origin: 'fork', startNs: 200n });
  b.ev(parent, 100, 'mmap', 10n, { length: PAGES * 4096, prot: 3, flags: 0x22 }, { result: A });
  for (let i = 0; i < PAGES; i++) b.ev(parent, 100, 'page_fault', 100n + BigInt(i), { addr: A + BigInt(i) * 4096n, ip: 1 });
  b.ev(parent, 100, 'fork', 200n, {}, { result: 101 });
  const frames = Array.from({ length: PAGES }, (_, i) => PM.present | BigInt(1000 + i));
  // The parent's chunk, stamped at 250, read while the child's faults at 260 and 261 had already copied pages 0 and 1.
  b.ev(parent, 100, 'page_snapshot', 250n, { mapStart: A, mapEnd: A + BigInt(PAGES) * 4096n, pageCount: PAGES, hasPfn: 1, reason: 0, seq: 1, hasMapcount: 1 },
    { blob: pagemapBlob(frames, frames.map((_, i) => (i < 2 ? 1 : 2))) });
  b.ev(parent, 100, 'snapshot_done', 255n, { seq: 1, mappings: 1, pages: PAGES, reason: 0 });
  for (let i = 0; i < PAGES; i++) b.ev(child, 101, 'page_fault', 260n + BigInt(i), { addr: A + BigInt(i) * 4096n, ip: 2 });
  const data = buildPagesData(b.build());
  const pm = `${parent}:0x${A.toString(16)}`;
  assert.deepEqual(counts(data, pm, 250n), { shared: 6, private: 2 });
  assert.deepEqual(counts(data, pm, 263n), { shared: 4, private: 4 }, 'the faults already shown change nothing');
  assert.deepEqual(counts(data, pm, 400n), { private: PAGES });
  assert.deepEqual(counts(data, `${child}:0x${A.toString(16)}`, 400n), { copied: PAGES });
});

test('pagemap entries are classified by what backs the mapping', () => {
  const anon = { fileBacked: false, shared: false }, file = { fileBacked: true, shared: false };
  assert.equal(classifyPagemapEntry(0n, undefined, anon), PageState.NotPresent);
  assert.equal(classifyPagemapEntry(PM.present | PM.exclusive, undefined, anon), PageState.Private);
  assert.equal(classifyPagemapEntry(PM.present, undefined, anon), PageState.Shared);
  assert.equal(classifyPagemapEntry(PM.present, 1, anon), PageState.Private, 'map count wins over the exclusive bit');
  assert.equal(classifyPagemapEntry(PM.present | PM.file, undefined, file), PageState.FileClean);
  assert.equal(classifyPagemapEntry(PM.present, undefined, file), PageState.FileDirty, 'anonymous copy of a file page');
  assert.equal(classifyPagemapEntry(PM.present | PM.file, undefined, { fileBacked: false, shared: true }), PageState.Shared);
});

test('a malformed page_snapshot is reported and skipped, the rest still replays', () => {
  const b = new TraceBuilder();
  const c = b.image(7);
  b.ev(c, 7, 'mmap', 1n, { length: 2 * 4096, prot: 3, flags: 0x22 }, { result: A });
  b.ev(c, 7, 'page_snapshot', 2n, { mapStart: A, mapEnd: A + 8192n, firstPage: 0, pageCount: 2 }, { blob: new Uint8Array(3) });
  b.ev(c, 7, 'page_fault', 3n, { addr: A, ip: 1 });
  const data = buildPagesData(b.build());
  assert.match(data.processes[0].notes.join('\n'), /malformed/);
  assert.deepEqual(counts(data, `${c}:0x${A.toString(16)}`, 10n), { notPresent: 1, private: 1 });
});

test('a 25,600-page grid replays every fault in order', () => {
  const b = new TraceBuilder();
  const c = b.image(9);
  const n = 25_600;
  b.ev(c, 9, 'mmap', 1n, { length: n * 4096, prot: 3, flags: 0x22 }, { result: A });
  for (let i = 0; i < n; i++) b.ev(c, 9, 'page_fault', 10n + BigInt(i), { addr: A + BigInt(i) * 4096n, ip: 5 });
  const data = buildPagesData(b.build());
  const r = new PageGridReplay(data.grids.get(`${c}:0x${A.toString(16)}`)!);
  r.seek(10n + 12_799n);
  assert.equal(r.counts[PageState.Private], 12_800);
  r.seek(1n << 40n);
  assert.equal(r.counts[PageState.Private], n);
  r.seek(0n);
  assert.equal(r.counts[PageState.NotPresent], n);
});

// The seed's experiment under the real shim: demos/cow maps 4 MiB, touches it, forks, and the child writes it all.
async function recordCow(t: TestContext, env?: NodeJS.ProcessEnv): Promise<void> {
  const why = whyNoShim();
  const bin = join(ROOT, 'demos/cow/build/cow');
  if (why || !existsSync(bin)) return t.skip(why ?? `${bin} not built (make -C demos)`);
  const r = await recordProgram(bin, ['4'], { env });
  try {
    assert.equal(r.exit.status, 0, r.stderr);
    const kinds = new Set<number>(); for (let i = 0; i < r.store.count; i++) kinds.add(r.store.kindAt(i));
    if (!kinds.has(kindId('fork')) || !kinds.has(kindId('page_snapshot'))) return t.skip('the shim does not record fork and page_snapshot yet');
    checkCow(r);
  } finally { r.cleanup(); }
}
function checkCow(r: RecordResult): void {
  const data = buildPagesData(r.store);
  const child = data.processes.find((p) => p.origin === 'fork');
  assert.ok(child, 'the child image is in the trace');
  const parent = data.processes.find((p) => p.conn === child.forkParent);
  assert.ok(parent, 'the child\'s fork parent is known');
  // The buffer is the parent's 4 MiB mmap. The kernel merges its VMA with whatever compatible anonymous neighbour
  // each process has (recorded: one VMA of 1281 pages in the parent's maps and of 1024 in the child's, or 1036 and
  // 1293), so each side is read through a window on the buffer's own 1024 pages of the mapping that holds it.
  const mmaps = events(r.store, 'mmap', { pid: parent.pid }).filter((e) => arg(e, 'mmap', 'length') === 4n << 20n);
  assert.equal(mmaps.length, 1, 'the parent maps one 4 MiB buffer');
  const buf = BigInt.asUintN(64, mmaps[0].result), PAGES_4M = 1024;
  const bufferGrid = (p: typeof child) => {
    const m = p.mappings.find((x) => BigInt(x.start) <= buf && buf + (4n << 20n) <= BigInt(x.end) && data.grids.has(x.id));
    assert.ok(m, `pid ${p.pid} lists a followed mapping holding the buffer at 0x${buf.toString(16)}: ${p.mappings.map((x) => `${x.start}+${x.pageCount}`).join(', ')}`);
    return { grid: data.grids.get(m.id)!, window: windowGrid(data.grids.get(m.id)!, buf, PAGES_4M) };
  };
  const { grid, window } = bufferGrid(child);
  assert.ok(grid.snapTs.length >= 2, 'snapshots after fork and at exit');
  const replay = new PageGridReplay(window);
  // Right after fork (the child's fork_child snapshot): every page is shared, write-protected, with the parent.
  replay.seek(grid.snapTs[0]);
  assert.equal(replay.counts[PageState.Shared], PAGES_4M, `all shared right after fork: ${[...replay.counts]}`);
  const faults = window.faultTs.length;
  if (faults) {
    // With perf page faults: each write turns one cell, fault by fault.
    replay.seek(window.faultTs[Math.min(99, faults - 1)]);
    assert.ok(replay.counts[PageState.Copied] >= 1 && replay.counts[PageState.Copied] <= 100, `copied grows fault by fault: ${[...replay.counts]}`);
  }
  replay.seek(1n << 62n);
  assert.equal(replay.counts[PageState.Copied], PAGES_4M, `the child's writes copied every page: ${[...replay.counts]}`);
  // The parent's pages are its own again once the child has its copies: at the child's exit snapshot every write
  // is done, each freed the parent's page (the fault at its address, or the snapshot showing the child's new frame).
  const pr = new PageGridReplay(bufferGrid(parent).window);
  pr.seek(grid.snapTs[grid.snapTs.length - 1]);
  assert.equal(pr.counts[PageState.Private], PAGES_4M, `the parent maps its pages alone after the child's writes: ${[...pr.counts]}`);
  // A snapshot chunk is stamped before it is read: the parent's fork snapshot shows every copy the child made
  // before that stamp (map count 1, where a chunk stamped after its read could show 2 and the model undo the copy).
  const childFault = new Map<bigint, bigint>();
  for (const e of events(r.store, 'page_fault', { pid: child.pid })) {
    const page = arg(e, 'page_fault', 'addr') & ~4095n;
    if (page >= buf && page < buf + (4n << 20n) && !childFault.has(page)) childFault.set(page, e.ts);
  }
  for (const s of events(r.store, 'page_snapshot', { pid: parent.pid, args: { reason: 'fork_parent', hasMapcount: 1 } })) {
    const start = arg(s, 'page_snapshot', 'mapStart'), first = arg(s, 'page_snapshot', 'firstPage'), n = Number(arg(s, 'page_snapshot', 'pageCount'));
    for (let i = 0; i < n; i++) {
      const page = start + (first + BigInt(i)) * 4096n, t = childFault.get(page);
      if (t !== undefined && t < s.ts) assert.equal(s.blob![n * 8 + i], 1, `the parent's chunk stamped ${s.ts} shows the child's copy of 0x${page.toString(16)} made at ${t}`);
    }
  }
  // The parent's pages stay its own until it unmaps the buffer (a late parent snapshot must not share them again).
  const unmap = events(r.store, 'munmap', { pid: parent.pid }).find((e) => arg(e, 'munmap', 'addr') === buf);
  assert.ok(unmap, 'the parent unmaps the buffer');
  pr.seek(unmap.ts - 1n);
  assert.equal(pr.counts[PageState.Private], PAGES_4M, `the parent's pages until its munmap: ${[...pr.counts]}`);
}

test('recorded CoW demo: the child grid goes from all shared to all copied', (t) => recordCow(t));

test('recorded CoW demo, the parent held 50 ms between reading its fork snapshot and sending it: its pages end private', (t) => {
  // As a parent descheduled there does (one did for 4 ms under load): the child's writes all land in between. A
  // chunk stamped after its read then showed map counts of 2 for pages whose copies were stamped before it, and the
  // parent's 1024 pages ended shared; stamped before its read, it shows what precedes its stamp.
  const hold = compileC('test/fixtures/record/hold_after_snapshot_read.c', { out: 'libhold_after_snapshot_read.so', flags: ['-shared', '-fPIC', '-ldl'] });
  return recordCow(t, { LD_PRELOAD: hold });
});

test('live: the model follows a growing trace page event by page event, and ends equal to a build of the whole trace', () => {
  // The copy-on-write run with 50 ms between steps, so the live model's 100 ms lag lets earlier steps through.
  const b = new TraceBuilder();
  const ms = (n: number) => BigInt(n) * 50_000_000n;
  const parent = b.image(100, { exe: '/demo/cow' });
  const child = b.image(101, { ppid: 100, origin: 'fork', exe: '/demo/cow', startNs: ms(20) });
  b.ev(parent, 100, 'mmap', ms(1), { addr: 0, length: PAGES * 4096, prot: 3, flags: 0x22, fd: -1 }, { result: A });
  for (let i = 0; i < PAGES; i++) b.ev(parent, 100, 'page_fault', ms(2 + i), { addr: A + BigInt(i) * 4096n, ip: 0x401234n, major: 0 });
  b.ev(parent, 100, 'fork', ms(20), { how: 0 }, { result: 101 });
  for (let i = 0; i < 4; i++) b.ev(child, 101, 'page_fault', ms(30 + i), { addr: A + BigInt(i) * 4096n, ip: 0x401300n, major: 0 });
  const store = b.build();
  let limit = 0;
  const view: EventSource = { get count() { return Math.min(limit, store.count); }, get: (i) => store.get(i), connections: () => store.connections() };
  const model = new TraceModel(view, { live: true });
  const id = `${parent}:${'0x' + A.toString(16)}`;
  const seen: number[] = [];
  for (limit = 4; limit <= store.count; limit += 4) {
    model.update();
    seen.push(buildPagesData(model).grids.get(id)?.changeTs.length ?? 0);
  }
  assert.ok(seen.some((n) => n > 0 && n < seen[seen.length - 1]), `the parent's grid grew step by step: ${seen.join(' ')}`);
  limit = store.count;
  model.update({ flush: true });
  const live = buildPagesData(model);
  assert.deepEqual(live, buildPagesData(store), 'the live model ends where a build from the whole trace does');
  assert.deepEqual(counts(live, id, ms(25)), { shared: PAGES }, 'after fork every parent page is shared');
});

test('live: a fork handled before the child has connected still gives the child its parent\'s pages', () => {
  // The store holds the parent's events first: revealed in that order, the fork is handled while only the parent's
  // connection is known, as a live session can see it when the child connects late.
  const { store, parent, child } = cowTrace(false);
  const first = new Map<number, number>();
  for (let i = store.count - 1; i >= 0; i--) first.set(store.get(i).conn, i);
  let limit = 0;
  const view: EventSource = {
    get count() { return Math.min(limit, store.count); }, get: (i) => store.get(i),
    connections: () => store.connections().filter((c) => (first.get(c.conn) ?? Infinity) < limit),
  };
  const model = new TraceModel(view);
  limit = first.get(child)!;
  model.update();
  assert.equal(view.connections().length, 1, 'only the parent is known when its fork is handled');
  assert.equal(model.pages.mappings.listed().get(child), undefined, 'nothing for the child yet');
  limit = store.count;
  model.update({ flush: true });
  const live = buildPagesData(model);
  assert.deepEqual(live, buildPagesData(store), 'the same as a build with every connection known');
  const cm = `${child}:0x${A.toString(16)}`;
  assert.deepEqual(counts(live, cm, 250n), { shared: 8 }, 'the child shares every page from the fork on');
  assert.deepEqual(counts(live, cm, 400n), { shared: 4, copied: 4 });
  assert.deepEqual(counts(live, `${parent}:0x${A.toString(16)}`, 400n), { shared: 4, private: 4 });
});

test('live: a fork partner\'s late copy-on-write faults still give the webview changes in time order', () => {
  // The child's connection and faults arrive after the live model has handled the parent's later events: the
  // parent's pages the child copied turn private at the child's (earlier) fault times.
  const b = new TraceBuilder();
  const ms = (n: number) => BigInt(n) * 1_000_000n;
  const parent = b.image(100), child = b.image(101, { ppid: 100, origin: 'fork', startNs: ms(20) });
  b.ev(parent, 100, 'mmap', ms(1), { length: PAGES * 4096, prot: 3, flags: 0x22 }, { result: A });
  for (let i = 0; i < PAGES; i++) b.ev(parent, 100, 'page_fault', ms(2 + i), { addr: A + BigInt(i) * 4096n, ip: 1 });
  b.ev(parent, 100, 'fork', ms(20), {}, { result: 101 });
  b.ev(parent, 100, 'page_fault', ms(500), { addr: A + 7n * 4096n, ip: 1 }); // the parent writes page 7 itself
  b.ev(parent, 100, 'page_fault', ms(900), { addr: A + 6n * 4096n, ip: 1 });
  for (let i = 0; i < 4; i++) b.ev(child, 101, 'page_fault', ms(30 + i), { addr: A + BigInt(i) * 4096n, ip: 2 });
  const store = b.build();
  let limit = 0;
  const view: EventSource = { get count() { return Math.min(limit, store.count); }, get: (i) => store.get(i), connections: () => store.connections() };
  const model = new TraceModel(view, { live: true });
  limit = PAGES + 4; // the parent's events only: handled up to 100 ms before its newest
  model.update();
  limit = store.count;
  model.update();
  const grid = buildPagesData(model).grids.get(`${parent}:0x${A.toString(16)}`)!;
  for (let i = 1; i < grid.changeTs.length; i++) assert.ok(grid.changeTs[i - 1] <= grid.changeTs[i], `change ${i} in time order`);
  assert.deepEqual(counts(buildPagesData(model), `${parent}:0x${A.toString(16)}`, ms(40)), { shared: 4, private: 4 }, 'the child copied four pages by 40 ms');
});
