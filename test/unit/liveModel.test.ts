// LiveModel: the extension host's trace model of a live recording catches up with the store in bounded steps (the
// event loop turns between them) and, completed, equals the model built from the finished store in one go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStore } from '../../src/common/store';
import { encodeEventsBody, type EventRecord } from '../../src/common/protocol';
import { TraceModel } from '../../src/common/model';
import { kindId } from '../../src/common/vocabulary';
import { LiveModel } from '../../src/host/liveModel';
import { SyntheticTrace } from '../../bench/webview/synthetic';

const READ = kindId('read'), WRITE = kindId('write');

/** A store filled as the collector fills it: one EVENTS body per process per batch, times following the index. */
function recordedStore(events: number, batches: number): EventStore {
  const trace = new SyntheticTrace({ events });
  const store = new EventStore();
  for (const c of trace.connections()) store.addConnection(c);
  const connOf = new Map(trace.connections().map((c) => [c.pid, c.conn]));
  const per = Math.ceil(trace.count / batches);
  const preview = new Uint8Array(64).fill(0x61);
  for (let i = 0; i < trace.count; i += per) {
    const byConn = new Map<number, EventRecord[]>();
    for (let j = i; j < Math.min(trace.count, i + per); j++) {
      const e = trace.get(j);
      const blob = e.phase === 2 && (e.kind === READ || e.kind === WRITE) && e.result > 0n ? preview.subarray(0, Math.min(64, Number(e.result))) : e.blob;
      const list = byConn.get(e.pid) ?? [];
      list.push({ kind: e.kind, phase: e.phase, flags: 0, tid: e.tid, err: 0, ts: 1_000_000_000n + BigInt(j) * 5000n, result: e.result, caller: e.caller, args: [...e.args], blob });
      byConn.set(e.pid, list);
    }
    for (const [pid, recs] of byConn) store.appendEventsBody(connOf.get(pid)!, pid, encodeEventsBody(recs));
  }
  return store;
}

test('LiveModel catches up in several steps, letting timers run between them', async () => {
  const store = recordedStore(60_000, 30);
  const live = new LiveModel(store);
  let ticks = 0;
  const timer = setInterval(() => { ticks++; }, 1);
  try {
    assert.equal(live.caughtUp, false);
    await live.catchUp();
    assert.equal(live.caughtUp, true);
    assert.equal(live.stats.consumed, store.count);
    assert.ok(live.stats.steps > 1, `caught up in ${live.stats.steps} step(s)`);
    assert.ok(ticks > 0, 'a 1 ms timer ran while the model caught up');
    assert.ok(live.model.eventsProcessed > 0 && live.model.eventsProcessed <= store.count);
  } finally {
    clearInterval(timer);
    live.dispose();
  }
});

test('a completed LiveModel equals the model of the finished store', async () => {
  const store = recordedStore(20_000, 10);
  const live = new LiveModel(store);
  await live.catchUp();
  const m = live.complete();
  const whole = new TraceModel(store, { live: false });
  whole.update();
  assert.equal(m.eventsProcessed, whole.eventsProcessed);
  assert.equal(m.eventsProcessed, store.count);
  assert.equal(m.flows.length, whole.flows.length);
  assert.ok(m.flows.length > 0);
  assert.deepEqual([...m.processes.keys()].sort(), [...whole.processes.keys()].sort());
  assert.deepEqual([...m.objects.keys()].sort(), [...whole.objects.keys()].sort());
  assert.equal(m.waits.length, whole.waits.length);
  live.dispose();
});

test('catchUp after new events continues from where the model stopped', async () => {
  const store = recordedStore(10_000, 5);
  const live = new LiveModel(store);
  await live.catchUp();
  const before = live.stats.consumed;
  const more = recordedStore(2_000, 1);
  // the same connections appended again as a later batch of a live store
  const late: EventRecord[] = [];
  for (let i = 0; i < more.count; i++) {
    if (more.pidAt(i) !== 1000) continue;
    const e = more.get(i);
    late.push({ kind: e.kind, phase: e.phase, flags: 0, tid: e.tid, err: 0, ts: 2_000_000_000n + BigInt(i) * 5000n, result: e.result, caller: e.caller, args: [...e.args], blob: e.blob });
  }
  store.appendEventsBody(1, 1000, encodeEventsBody(late));
  assert.equal(live.caughtUp, false);
  await live.catchUp();
  assert.equal(live.stats.consumed, before + late.length);
  live.dispose();
});

test('current() shows the model the processes that connected, before any event', () => {
  const store = new EventStore();
  const trace = new SyntheticTrace({ events: 100 });
  for (const c of trace.connections()) store.addConnection(c);
  const live = new LiveModel(store);
  const m = live.current();
  assert.deepEqual([...m.processes.keys()].sort(), trace.connections().map((c) => c.pid).sort());
  live.dispose();
});

/**
 * A store filled as a busy live session fills it: every process's events reach the collector in small batches, each
 * process flushing on its own period, each batch delivered up to `jitterNs` late, so batches of different processes
 * interleave and overlap in time (but none arrives later than the model's 100 ms lag). Times are the synthetic
 * trace's own, stretched so the recording lasts seconds.
 */
function interleavedStore(events: number, jitterNs: number, seed = 7): { store: EventStore; appends: number[] } {
  const trace = new SyntheticTrace({ events, processes: 6, threadsPerProcess: 3 });
  const store = new EventStore();
  for (const c of trace.connections()) store.addConnection(c);
  const connOf = new Map(trace.connections().map((c) => [c.pid, c.conn]));
  const t0 = trace.tsAt(0);
  const at = (i: number): bigint => t0 + (trace.tsAt(i) - t0) * 100n;
  let s = seed;
  const rnd = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x80000000; };
  // per process: its events in time order, cut into batches at its flush period
  const byPid = new Map<number, number[]>();
  for (let i = 0; i < trace.count; i++) { const p = trace.pidAt(i); const l = byPid.get(p) ?? []; l.push(i); byPid.set(p, l); }
  const batches: { deliver: bigint; pid: number; events: number[] }[] = [];
  for (const [pid, list] of byPid) {
    list.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : a - b));
    const period = BigInt(1_000_000 + Math.floor(rnd() * 4_000_000)); // flushes every 1–5 ms
    let cur: number[] = [], bucket = -1n;
    const close = () => { if (cur.length) batches.push({ deliver: (bucket + 1n) * period + BigInt(Math.floor(rnd() * jitterNs)), pid, events: cur }); cur = []; };
    for (const i of list) {
      const b = at(i) / period;
      if (b !== bucket) { close(); bucket = b; }
      cur.push(i);
    }
    close();
  }
  batches.sort((a, b) => (a.deliver < b.deliver ? -1 : a.deliver > b.deliver ? 1 : a.pid - b.pid));
  const appends: number[] = [];
  for (const b of batches) {
    const recs: EventRecord[] = b.events.map((i) => {
      const e = trace.get(i);
      return { kind: e.kind, phase: e.phase, flags: 0, tid: e.tid, err: 0, ts: at(i), result: e.result, caller: e.caller, args: [...e.args], blob: e.blob };
    });
    store.appendEventsBody(connOf.get(b.pid)!, b.pid, encodeEventsBody(recs));
    appends.push(store.count);
  }
  return { store, appends };
}

/** What the model answers, as plain data: flows, waits and lock statistics (with per-thread maps), processes, objects. */
function answers(m: TraceModel) {
  const ep = (e?: { index: number }) => e?.index ?? -1;
  return {
    events: m.eventsProcessed,
    flows: m.flows.map((f) => `${f.kind} ${f.object} ${ep(f.from)}->${ep(f.to)} ${f.bytes} ${f.detail ?? ''}`),
    waits: m.waits.map((w) => ({ begin: w.begin, end: w.end, object: w.object, by: ep(w.by), holders: w.holders })),
    locks: m.lockStats().sort((a, b) => (a.key < b.key ? -1 : 1)),
    holds: [...m.lockHolds.entries()].map(([k, t]) => [k, t.toArray()] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    processes: [...m.processes.keys()].sort(),
    objects: [...m.objects.keys()].sort(),
  };
}
const heldBackOutOfOrder = (m: TraceModel): boolean => (m as unknown as { outOfOrder: boolean }).outOfOrder;

test('a live model fed many small interleaved batches from several processes equals the model of the finished store', () => {
  const { store, appends } = interleavedStore(40_000, 20_000_000);
  assert.ok(appends.length > 500, `${appends.length} batches`);
  // the batches really are out of time order across processes
  let backwards = 0;
  for (let i = 1; i < store.count; i++) if (store.tsNumberAt(i) < store.tsNumberAt(i - 1)) backwards++;
  assert.ok(backwards > 100, `${backwards} events stamped before the event stored before them`);
  // The model sees the store grow one batch at a time and updates after each.
  let shown = 0;
  const view = { get count() { return shown; }, get: (i: number) => store.get(i), tsNumberAt: (i: number) => store.tsNumberAt(i), connections: () => store.connections() };
  const live = new TraceModel(view, { live: true });
  let maxBehind = 0;
  for (const n of appends) { shown = n; live.update(); maxBehind = Math.max(maxBehind, n - live.eventsProcessed); }
  // the lag held events back and let late batches in without handling anything out of order (no restart at flush)
  assert.equal(heldBackOutOfOrder(live), false);
  assert.ok(live.eventsProcessed > store.count / 2 && live.eventsProcessed < store.count, `${live.eventsProcessed} handled before the flush`);
  assert.ok(maxBehind > 0);
  live.update({ flush: true });
  const whole = new TraceModel(store);
  whole.update();
  const a = answers(live), b = answers(whole);
  assert.equal(a.events, store.count);
  assert.ok(a.flows.length > 1000 && a.waits.length > 1000 && a.locks.length > 0, `${a.flows.length} flows, ${a.waits.length} waits, ${a.locks.length} locks`);
  assert.deepEqual(a, b);
});

test('LiveModel in small bounded steps over an interleaved store equals the model of the finished store', async () => {
  const { store } = interleavedStore(20_000, 30_000_000, 11);
  const live = new LiveModel(store);
  while (!live.caughtUp) live.step(0.001); // the smallest batches
  assert.ok(live.stats.steps > 50, `${live.stats.steps} steps`);
  assert.equal(heldBackOutOfOrder(live.model), false);
  const m = live.complete();
  const whole = new TraceModel(store);
  whole.update();
  assert.deepEqual(answers(m), answers(whole));
  live.dispose();
});

test('an update whose deadline has passed handles 64 events and leaves the rest due, in order, for the next', () => {
  const { store, appends } = interleavedStore(20_000, 20_000_000, 3);
  let shown = 0;
  const view = { get count() { return shown; }, get: (i: number) => store.get(i), tsNumberAt: (i: number) => store.tsNumberAt(i), connections: () => store.connections() };
  const live = new TraceModel(view, { live: true });
  let calls = 0, sawDue = 0;
  for (const n of appends) {
    shown = n;
    const before = live.eventsProcessed;
    live.update({ deadline: 0 }); // long past
    calls++;
    assert.ok(live.eventsProcessed - before <= 64, `${live.eventsProcessed - before} events handled past the deadline`);
    sawDue = Math.max(sawDue, live.due);
  }
  assert.ok(sawDue > 64, `at most ${sawDue} events were left due`);
  while (live.due > 0) { live.update({ deadline: 0 }); calls++; }
  assert.equal(heldBackOutOfOrder(live), false);
  live.update({ flush: true });
  const whole = new TraceModel(store);
  whole.update();
  assert.deepEqual(answers(live), answers(whole));
});

test('reads, writes and lock calls read in place from the store give the same model as one TraceEvent per event', () => {
  const { store } = interleavedStore(20_000, 1_000_000, 5);
  const inPlace = new TraceModel(store);
  inPlace.update({ flush: true });
  // the same store seen through get() alone: a new TraceEvent per event
  const plain = new TraceModel({ get count() { return store.count; }, get: (i: number) => store.get(i), connections: () => store.connections() });
  plain.update({ flush: true });
  assert.ok((inPlace as unknown as { reader?: unknown }).reader, 'the store is read in place');
  assert.equal((plain as unknown as { reader?: unknown }).reader, undefined);
  const a = answers(inPlace);
  assert.ok(a.flows.length > 1000 && a.waits.length > 1000 && a.locks.length > 0, `${a.flows.length} flows, ${a.waits.length} waits, ${a.locks.length} locks`);
  assert.deepEqual(a, answers(plain));
});
