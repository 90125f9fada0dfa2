// EventStore: every field comes back exactly as it went in (narrow columns, side tables, interned values, blobs),
// across chunk boundaries; maxEvents refuses and counts; a mutex-heavy stream costs ≤ 48 bytes per event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventStore } from '../../src/common/store';
import { encodeEventsBody, encodeEventsBodyCompact, type EventRecord } from '../../src/common/protocol';
import { kindId, KINDS } from '../../src/common/vocabulary';

const MUTEX_LOCK = kindId('mutex_lock'), MUTEX_UNLOCK = kindId('mutex_unlock'), WRITE = kindId('write');

function mutexStream(n: number, t0 = 1_000_000n): EventRecord[] {
  const out: EventRecord[] = [];
  for (let i = 0; i < n; i++) {
    const lock = i % 2 === 0;
    out.push({ kind: lock ? MUTEX_LOCK : MUTEX_UNLOCK, phase: 0, flags: 0, tid: 100 + (i % 4), err: 0, ts: t0 + BigInt(i * 37),
      result: 0n, caller: lock ? 0x5555_5555_1234n : 0x5555_5555_1300n, args: lock ? [0x7fff_0000_1000n + BigInt(i % 3) * 64n, 0n] : [0x7fff_0000_1000n + BigInt(i % 3) * 64n] });
  }
  return out;
}

test('round trip of awkward values: wide results, negative errno, big flags, u64 args, blobs', () => {
  const s = new EventStore();
  const recs: EventRecord[] = [
    { kind: WRITE, phase: 2, flags: 2, tid: 7, err: 0, ts: 0xffff_ffff_ffff_fff0n, result: 5n, caller: 0xffff_ffff_ffff_ffffn,
      args: [1n, 5n, 1n, 15n, 0xffff_ffff_ffff_ffffn, 0x8000_0000n, 0x7fff_ffffn, 0n], blob: Buffer.from('hello') },
    { kind: WRITE, phase: 1, flags: 0x9001, tid: 7, err: 70000, ts: 5n, result: -1n, caller: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n] },
    { kind: WRITE, phase: 2, flags: 0, tid: 8, err: -5, ts: 6n, result: 0x1_0000_0000n, caller: 1n, args: [1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n] },
    { kind: WRITE, phase: 2, flags: 0, tid: 8, err: 0, ts: 7n, result: -0x8000_0000n, caller: 1n, args: [2n, 2n, 2n, 2n, 2n, 2n, 2n, 2n] },
    { kind: WRITE, phase: 2, flags: 0, tid: 8, err: 0, ts: 8n, result: -0x7fff_ffffn, caller: 1n, args: [3n, 3n, 3n, 3n, 3n, 3n, 3n, 3n], blob: new Uint8Array(65535).fill(0xab) },
  ];
  assert.equal(s.appendEventsBody(3, 4242, encodeEventsBody(recs)), recs.length);
  assert.equal(s.count, recs.length);
  recs.forEach((r, i) => {
    const e = s.get(i);
    assert.equal(e.index, i);
    assert.equal(e.conn, 3);
    assert.equal(e.pid, 4242);
    assert.deepEqual({ kind: e.kind, phase: e.phase, flags: e.flags, tid: e.tid, err: e.err, ts: e.ts, result: e.result, caller: e.caller, args: e.args },
      { kind: r.kind, phase: r.phase, flags: r.flags, tid: r.tid, err: r.err, ts: r.ts, result: r.result, caller: r.caller, args: r.args }, `event ${i}`);
    assert.deepEqual(e.blob ? [...e.blob] : undefined, r.blob ? [...r.blob] : undefined, `blob of event ${i}`);
    assert.equal(s.tsAt(i), r.ts);
    assert.equal(s.kindAt(i), r.kind);
    r.args.forEach((a, j) => assert.equal(s.argAt(i, j), a));
  });
  assert.throws(() => s.get(5), /event index 5 is outside 0..4/);
  assert.throws(() => s.argAt(0, 8), /event 0 has 8 arguments, no argument 8/);
});

test('every kind of the vocabulary round-trips with its declared argument count', () => {
  const s = new EventStore();
  const recs = KINDS.map((k, i): EventRecord => ({ kind: k.id, phase: 0, flags: 0, tid: 1, err: 0, ts: BigInt(i), result: 0n, caller: 0n,
    args: k.args.map((_, j) => BigInt(j) << 40n) }));
  s.appendEventsBody(1, 1, encodeEventsBody(recs));
  recs.forEach((r, i) => assert.deepEqual(s.get(i).args, r.args));
});

test('hundreds of thousands of events across column chunks; onAppend reports each batch', () => {
  const s = new EventStore();
  const batches: [number, number][] = [];
  const off = s.onAppend((first, count) => batches.push([first, count]));
  const recs = mutexStream(10_000);
  const body = encodeEventsBody(recs);
  for (let b = 0; b < 30; b++) s.appendEventsBody(1, 10, body);
  off();
  s.appendEventsBody(1, 10, body);
  assert.equal(s.count, 310_000);
  assert.equal(batches.length, 30);
  assert.deepEqual(batches[29], [290_000, 10_000]);
  for (const i of [0, 65_535, 65_536, 131_071, 200_001, 309_999]) {
    const r = recs[i % 10_000];
    assert.equal(s.kindAt(i), r.kind);
    assert.equal(s.tsAt(i), r.ts);
    assert.equal(s.tidAt(i), r.tid);
    assert.equal(s.argAt(i, 0), r.args[0]);
    assert.equal(s.callerAt(i), r.caller);
  }
});

test('a mutex-heavy stream costs at most 48 bytes per event', () => {
  const s = new EventStore();
  const body = encodeEventsBody(mutexStream(10_000));
  for (let b = 0; b < 100; b++) s.appendEventsBody(1, 10, body);
  const bpe = s.bytesPerEvent();
  assert.ok(bpe <= 48, `bytes per event ${bpe.toFixed(1)}`);
  assert.ok(bpe > 20, `bytes per event ${bpe.toFixed(1)} is implausibly small`);
});

test('maxEvents refuses further events and counts them as dropped; nothing stored is overwritten', () => {
  const s = new EventStore({ maxEvents: 25 });
  const recs = mutexStream(10);
  assert.equal(s.appendEventsBody(1, 1, encodeEventsBody(recs)), 10);
  assert.equal(s.appendEventsBody(1, 1, encodeEventsBody(recs)), 10);
  assert.equal(s.appendEventsBody(1, 1, encodeEventsBody(recs)), 5);
  assert.equal(s.appendEventsBody(1, 1, encodeEventsBody(recs)), 0);
  assert.equal(s.count, 25);
  assert.equal(s.dropped, 15);
  assert.equal(s.tsAt(0), recs[0].ts);
});

test('markKinds: the appends list the rows of the marked kinds as they store them, fixed and compact alike', () => {
  const recs = mutexStream(10_000);
  recs[3] = { ...recs[3], kind: WRITE, args: [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n] };
  recs[9_999] = { ...recs[9_999], kind: WRITE, args: [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n] };
  const wanted = new Uint8Array(0x10000);
  wanted[WRITE] = 1;
  for (const encode of [encodeEventsBody, encodeEventsBodyCompact]) {
    const s = new EventStore();
    s.appendEventsBody(1, 10, encode(recs));
    assert.deepEqual(s.marked, [], 'nothing is marked before markKinds');
    s.markKinds(wanted);
    for (let b = 0; b < 7; b++) s.appendEventsBody(1, 10, encode(recs)); // across the first chunk's end
    assert.deepEqual(s.marked, Array.from({ length: 7 }, (_, b) => [(b + 1) * 10_000 + 3, (b + 1) * 10_000 + 9_999]).flat(), encode.name);
    for (const i of s.marked) assert.equal(s.kindAt(i), WRITE);
  }
});

test('findKinds: the indices of the flagged kinds in a range, across column chunks', () => {
  const s = new EventStore();
  const recs = mutexStream(10_000);
  recs[3] = { ...recs[3], kind: WRITE, args: [1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n] };
  for (let b = 0; b < 14; b++) s.appendEventsBody(1, 10, encodeEventsBody(recs)); // 140 000 events: three chunks
  const wanted = new Uint8Array(0x10000);
  wanted[WRITE] = 1;
  const found: number[] = [];
  s.findKinds(0, s.count, wanted, found);
  assert.deepEqual(found, Array.from({ length: 14 }, (_, b) => b * 10_000 + 3));
  found.length = 0;
  s.findKinds(65_000, 70_000, wanted, found); // a range across the first chunk's end, cut at the store's end
  assert.deepEqual(found, [70_003, 80_003, 90_003, 100_003, 110_003, 120_003, 130_003]);
});
