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
