// The model's column tables (src/common/model/tables.ts): rows read back exactly as the plain objects they replace
// (same properties, absent ones absent), across chunk boundaries, through every array method consumers use; and a
// model built live in small batches answers exactly as one built at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable, WaitTable, LockHoldTable } from '../../src/common/model/tables';
import { TraceModel, FLOW_KINDS, type Flow, type Wait, type LockHold } from '../../src/common/model';
import type { EventSource } from '../../src/common/traceEvent';
import { SyntheticTrace } from '../../bench/webview/synthetic';

/** Deterministic pseudo-random numbers (a test that fails must fail the same way again). */
function rng(seed: number): () => number {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x80000000; };
}

test('FlowTable: rows equal the plain flows they replace, across chunks, through the array methods', () => {
  const r = rng(7), t = new FlowTable(), plain: Flow[] = [];
  const n = 40_000; // more than two chunks (16,384 rows each; the first grows from 64)
  for (let i = 0; i < n; i++) {
    const kind = FLOW_KINDS[Math.floor(r() * FLOW_KINDS.length)];
    const from = { index: i * 2, pid: 100 + (i % 7), tid: 1000 + (i % 13), ts: 1_000_000_000_000n + BigInt(i) * 997n };
    // a negative index: a process's end stands for the writer (procEndpoint); times past 2^53 stay exact
    const to = { index: i % 100 === 0 ? -1 : i * 2 + 1, pid: 200 + (i % 5), tid: 2000 + (i % 11), ts: (1n << 60n) + BigInt(i) };
    const bytes = Math.floor(r() * 1e9), detail = i % 3 === 0 ? undefined : i % 64;
    const object = `9:${i % 50}`;
    assert.equal(t.add(kind, object, from, to, bytes, detail), i);
    plain.push({ id: i + 1, kind, object, from, to, bytes, detail });
  }
  assert.equal(t.length, n);
  for (const i of [0, 1, 63, 64, 65, 16_383, 16_384, 16_385, 32_767, 32_768, n - 1]) assert.deepStrictEqual(t.at(i), plain[i], `row ${i}`);
  assert.deepStrictEqual(t.at(-1), plain[n - 1]);
  assert.equal(t.at(n), undefined);
  assert.equal(t.at(-n - 1), undefined);
  assert.deepStrictEqual([...t], plain, 'iteration');
  assert.deepStrictEqual(t.toArray(), plain);
  const pred = (f: Flow) => f.kind === 'signal' && f.from.pid === 103;
  assert.deepStrictEqual(t.filter(pred), plain.filter(pred));
  assert.deepStrictEqual(t.find((f) => f.bytes > 5e8 && f.detail === 7), plain.find((f) => f.bytes > 5e8 && f.detail === 7));
  assert.equal(t.findIndex((f) => f.to.index === -1 && f.id > 20_000), plain.findIndex((f) => f.to.index === -1 && f.id > 20_000));
  assert.deepStrictEqual(t.map((f, i) => [f.id, i, f.to.ts]), plain.map((f, i) => [f.id, i, f.to.ts]));
  assert.equal(t.reduce((a, f) => a + BigInt(f.bytes), 0n), plain.reduce((a, f) => a + BigInt(f.bytes), 0n));
  assert.equal(t.some((f) => f.bytes < 0), false);
  assert.equal(t.every((f) => f.id > 0), true);
  assert.deepStrictEqual(t.slice(16_380, 16_390), plain.slice(16_380, 16_390));
  assert.deepStrictEqual(t.slice(-3), plain.slice(-3));
  for (let i = 0; i < n; i += 997) { assert.equal(t.fromTs(i), plain[i].from.ts); assert.equal(t.toTs(i), plain[i].to.ts); }
});

test('WaitTable: waits completed later through their rows read back as the objects the model used to mutate', () => {
  const r = rng(11), t = new WaitTable(), plain: Wait[] = [];
  const watches = [{ fd: 3, object: '9:1', dir: 'in' as const }];
  const n = 20_000;
  const rows = [];
  for (let i = 0; i < n; i++) {
    const object = i % 4 === 0 ? undefined : `obj${i % 9}`;
    rows.push(t.add(10 + (i % 3), 20 + (i % 5), 3 + (i % 4), object, 2 * i, BigInt(i) * 10n));
    plain.push({ pid: 10 + (i % 3), tid: 20 + (i % 5), kind: 3 + (i % 4), object, begin: 2 * i, end: -1, t0: BigInt(i) * 10n });
  }
  // Complete them out of order, as ends, hand-offs and late readiness arrive; some stay open.
  for (let k = 0; k < 3 * n; k++) {
    const i = Math.floor(r() * n), w = rows[i], p = plain[i] as { -readonly [K in keyof Wait]: Wait[K] };
    const what = Math.floor(r() * 5);
    if (what === 0) { w.end = 2 * i + 1; w.t1 = BigInt(i) * 10n + 5n; p.end = 2 * i + 1; p.t1 = BigInt(i) * 10n + 5n; }
    else if (what === 1) { const by = { index: k, pid: 1, tid: 2, ts: BigInt(k) }; if (!w.by) w.by = by; if (!p.by) p.by = by; }
    else if (what === 2) { const h = [[], [{ pid: 1, tid: k }], [{ pid: 1, tid: k }, { pid: 3, tid: k + 1 }]][k % 3]; w.holders = h; p.holders = h; } // none, one (columns) or more (side map)
    else if (what === 3) { w.watches = watches; p.watches = watches; }
    else { w.watchesIncomplete = true; p.watchesIncomplete = true; }
  }
  assert.deepStrictEqual([...t], plain);
  for (let i = 0; i < n; i += 101) {
    const w = t.ref(i), p = plain[i];
    assert.deepStrictEqual([w.pid, w.tid, w.kind, w.object, w.begin, w.end, w.t0, w.t1, w.by, w.holders, w.watches, w.watchesIncomplete],
      [p.pid, p.tid, p.kind, p.object, p.begin, p.end, p.t0, p.t1, p.by, p.holders, p.watches, p.watchesIncomplete]);
    assert.equal(t.ended(i), p.t1 !== undefined);
    assert.equal(t.hasBy(i), p.by !== undefined);
  }
  const watched = plain.findIndex((p) => p.watches);
  assert.equal(t.at(watched)!.watches, watches, 'a shared watches array stays shared (the model keys a WeakMap by it)');
});

test('LockHoldTable: holds ended later read back with t1 and endIndex, open ones without', () => {
  const t = new LockHoldTable('1:0x10'), plain: LockHold[] = [];
  for (let i = 0; i < 17_000; i++) {
    t.add(5, 6 + (i % 2), BigInt(i) * 100n, 3 * i);
    plain.push({ lock: '1:0x10', pid: 5, tid: 6 + (i % 2), t0: BigInt(i) * 100n, index: 3 * i });
  }
  for (let i = 0; i < 17_000; i += 2) {
    t.end(i, BigInt(i) * 100n + 50n, 3 * i + 1);
    (plain[i] as { t1?: bigint; endIndex?: number }).t1 = BigInt(i) * 100n + 50n;
    (plain[i] as { t1?: bigint; endIndex?: number }).endIndex = 3 * i + 1;
  }
  assert.deepStrictEqual([...t], plain);
  assert.equal(t.ended(16_384), true);
  assert.equal(t.ended(16_385), false);
});

/** The synthetic trace shown to a model a batch at a time (the live path's view of a growing store). */
function growing(src: SyntheticTrace): EventSource & { shown: number; tsNumberAt(i: number): number } {
  const v = {
    shown: 0,
    get count() { return v.shown; },
    get: (i: number) => src.get(i),
    tsNumberAt: (i: number) => src.tsNumberAt(i),
    connections: () => src.connections(),
  };
  return v;
}

test('a model built live in small batches has the same flows, waits, holds and range answers as one built at once', () => {
  const src = new SyntheticTrace({ events: 60_000, seed: 3 });
  const whole = new TraceModel(src);
  whole.update({ flush: true });
  const view = growing(src);
  const live = new TraceModel(view, { live: true, lagNs: 200_000n });
  const r = rng(5);
  while (view.shown < src.count) {
    view.shown = Math.min(src.count, view.shown + 1 + Math.floor(r() * 700));
    live.update({ deadline: performance.now() + 2 });
  }
  live.update({ flush: true });
  assert.ok(whole.flows.length > 5_000 && whole.waits.length > 5_000, `${whole.flows.length} flows, ${whole.waits.length} waits`);
  assert.deepStrictEqual(live.flows.toArray(), whole.flows.toArray());
  assert.deepStrictEqual(live.waits.toArray(), whole.waits.toArray());
  const holds = (m: TraceModel) => [...m.lockHolds].map(([k, t]) => [k, t.toArray()]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepStrictEqual(holds(live), holds(whole));
  assert.ok([...whole.lockHolds.values()].some((t) => t.length > 100));
  // flowsInRange (its index keeps positions) against a scan of every flow
  const a = whole.firstNs!, b = whole.lastNs!;
  const flows = whole.flows.toArray();
  for (let k = 0; k < 20; k++) {
    const t0 = a + ((b - a) * BigInt(Math.floor(r() * 1000))) / 1000n, t1 = t0 + (b - a) / BigInt(50 + k * 40);
    const hit = (f: Flow) => (f.from.ts >= t0 && f.from.ts < t1) || (f.to.ts >= t0 && f.to.ts < t1) || (f.from.ts < t0 && f.to.ts >= t1) || (f.to.ts < t0 && f.from.ts >= t1);
    const want = flows.filter(hit).map((f) => f.id).sort((x, y) => x - y);
    assert.deepStrictEqual(live.flowsInRange(t0, t1).map((f) => f.id).sort((x, y) => x - y), want);
    assert.ok(k > 0 || want.length > 0);
  }
  // processAt's blocked waits are rows of the table
  const mid = (a + b) / 2n;
  for (const pid of whole.processes.keys()) {
    const blocked = live.processAt(pid, mid)!.blocked;
    for (const w of blocked) assert.ok(w.t0 <= mid && (w.t1 === undefined || mid < w.t1));
    assert.deepStrictEqual(blocked, whole.processAt(pid, mid)!.blocked);
  }
});
