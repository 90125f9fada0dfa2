// The compact event encoding (docs/protocol.md, encoding 1): a golden frame written byte by byte from the doc, the
// reference encoder and decoder against it, the store's fast decoder held to the reference on randomized records,
// every malformed case the doc lists rejected by both with nothing of the bad body kept, and the collector and the
// trace file over real connections and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Collector } from '../../src/common/collector';
import { EventStore } from '../../src/common/store';
import {
  decodeEventsBody, decodeMessage, encodeEvents, encodeEventsBody, encodeEventsBodyCompact, encodeJson, encodeMessage,
  EventsEncoding, MessageType, ProtocolError, SUBPROTOCOL, validateEventsBody, type EventRecord,
} from '../../src/common/protocol';
import { readTraceFile } from '../../src/common/traceFile';
import { KINDS, kindId } from '../../src/common/vocabulary';

const dir = mkdtempSync(join(tmpdir(), 'ipcscope-compact-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
const compactBody = (count: number, baseTs: bigint, records: number[]) => Uint8Array.from([...u32(count), ...u32(1), ...u64(baseTs), ...records]);

const LOCK = kindId('mutex_lock'), WRITE = kindId('write');
const WRITE_ARGS = [3n, 5n, 1n, 15n, 25743n, 0n, 0n, 0n];
const GOLDEN_RECORDS: EventRecord[] = [
  { kind: LOCK, phase: 0, flags: 0, tid: 4242, err: 0, ts: 1_000_000_123n, result: 0n, caller: 0x401234n, args: [0x7ffd12345678n, 0n] },
  { kind: WRITE, phase: 2, flags: 2, tid: 77, err: 0, ts: 1_000_000_223n, result: 5n, caller: 0x55aa00n, args: WRITE_ARGS, blob: Buffer.from('hello') },
  { kind: WRITE, phase: 1, flags: 0, tid: 77, err: -9, ts: 1_000_000_200n, result: -1n, caller: 0x55aa00n, args: WRITE_ARGS },
  { kind: LOCK, phase: 0, flags: 0, tid: 4242, err: 0, ts: 1_000_000_263n, result: 0n, caller: 0x401234n, args: [0x7ffd12345678n, 0n] },
  { kind: WRITE, phase: 2, flags: 2, tid: 77, err: 0, ts: 1_000_000_300n, result: 5n, caller: 0x55aa00n, args: WRITE_ARGS, blob: Buffer.from('hello') },
];
// byte by byte from the doc
const GOLDEN_BYTES = [
  // mutex_lock (kind 103): head T | instant; kind 103; tid 4242 = 0x92 0x21; Δts 0; caller 0x401234 = 0xb4 0xa4 0x80 0x02;
  // mutex 0x7ffd12345678 as 7-bit groups; how 0
  0x08, 103, 0x92, 0x21, 0x00, 0xb4, 0xa4, 0x80, 0x02, 0xf8, 0xac, 0xd1, 0x91, 0xd1, 0xff, 0x1f, 0x00,
  // write (kind 43) end: head B | R | F | T | 2; kind 43; tid 77; Δts +100 (zigzag 200 = 0xc8 0x01); flags 2; result 5
  // (zigzag 10); caller 0x55aa00 = 0x80 0xd4 0xd6 0x02; args 3 5 1 15 25743 (0x8f 0xc9 0x01) 0 0 0; blob 5 "hello"
  0xda, 43, 77, 0xc8, 0x01, 0x02, 0x0a, 0x80, 0xd4, 0xd6, 0x02, 3, 5, 1, 15, 0x8f, 0xc9, 0x01, 0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
  // write begin, same kind and tid: head R | E | K | 1; Δts -23 (zigzag 45); errno -9 (zigzag 17); result -1 (zigzag 1);
  // caller and all arguments as before: XOR 0
  0x65, 45, 17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  // mutex_lock again: head T (tid changed back); kind 103; Δts +63 (zigzag 126); caller, mutex, how: XOR 0
  0x08, 103, 0x92, 0x21, 126, 0, 0, 0,
  // write end again with the same "hello": head B | R | F | T | 2; kind 43; tid 77; Δts +37 (zigzag 74); flags 2;
  // result 5; caller and arguments XOR 0; blob length 0: the same bytes as the kind's previous blob in this message
  0xda, 43, 77, 74, 0x02, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

test('golden compact EVENTS body: the reference decoder reads it field by field, the encoder writes it byte for byte', () => {
  const body = compactBody(5, 1_000_000_123n, GOLDEN_BYTES);
  assert.deepEqual(encodeEventsBodyCompact(GOLDEN_RECORDS), body);
  assert.deepEqual(decodeEventsBody(body), GOLDEN_RECORDS.map((r) => (r.blob ? { ...r, blob: Uint8Array.from(r.blob) } : r)));
  const m = decodeMessage(encodeMessage(MessageType.Events, 5, body), 'shim');
  assert.equal(m.type === MessageType.Events && m.encoding, EventsEncoding.Compact);
  assert.equal(m.type === MessageType.Events && m.count, 5);
  // the same records in fixed records take 4.5x the bytes
  assert.equal(encodeEventsBody(GOLDEN_RECORDS).length, 8 + 56 + 112 + 104 + 56 + 112);
  // the store shares the repeated blob's bytes (and the record's argument words) instead of copying them again
  const s = new EventStore();
  s.appendEventsBody(1, 1, body);
  assert.equal(Buffer.from(s.get(4).blob!).toString(), 'hello');
  assert.deepEqual(s.get(4).args, WRITE_ARGS);
  // against the same fifth record carrying other bytes ("hellp"): that one takes ten pool words (eight arguments, the
  // blob's offset and length) and five blob bytes, the repeat none
  const other = new EventStore();
  other.appendEventsBody(1, 1, compactBody(5, 1_000_000_123n, [...GOLDEN_BYTES.slice(0, -1), 5, ...Buffer.from('hellp')]));
  assert.equal(Buffer.from(other.get(4).blob!).toString(), 'hellp');
  assert.equal(Math.round((other.bytesPerEvent() - s.bytesPerEvent()) * 5), 10 * 4 + 5);
  assert.equal(body.length, 16 + GOLDEN_BYTES.length);
});

/** A small deterministic PRNG (mulberry32): the randomized cases are the same every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records that exercise every field's range: repeated and fresh values, wide and negative ones, steps backwards. */
function randomRecords(seed: number, n: number): EventRecord[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const u64 = () => (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
  const value = () => pick([() => 0n, () => BigInt(Math.floor(r() * 300)), () => u64(), () => 0xffff_ffff_ffff_ffffn, () => 0x7fff_0000_1000n])();
  const kinds = [LOCK, WRITE, kindId('read'), kindId('mutex_unlock'), ...KINDS.map((k) => k.id)];
  const out: EventRecord[] = [];
  let ts = 0xffff_ffff_0000n;
  const callers = [0x401234n, 0x5555_5555_1234n, 0n, 0xffff_ffff_ffff_fff0n];
  const prevArgs = new Map<number, bigint[]>(), prevBlob = new Map<number, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const kind = r() < 0.3 && out.length ? out[out.length - 1].kind : pick(kinds);
    const nargs = KINDS.find((k) => k.id === kind)!.args.length;
    const prev = prevArgs.get(kind);
    const args = Array.from({ length: nargs }, (_, j) => (prev && r() < 0.6 ? prev[j] : value()));
    prevArgs.set(kind, args);
    ts += pick([() => BigInt(Math.floor(r() * 100)), () => -BigInt(Math.floor(r() * 5000)), () => BigInt(Math.floor(r() * 2 ** 40)), () => 0n])();
    if (ts < 0n) ts = 0n;
    const rec: EventRecord = {
      kind, phase: Math.floor(r() * 3), flags: pick([0, 0, 1, 8, 0x1fff, 0xffff]), tid: pick([100, 101, 0xffff_ffff, 1]),
      err: pick([0, 0, 0, -1, 11, 70000, -0x8000_0000, 0x7fff_ffff]), ts,
      result: pick([0n, 1n, -1n, 64n, 0x7fff_ffffn, -0x8000_0000n, 0x1_0000_0000n, -0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn]),
      caller: pick(callers), args,
    };
    if (r() < 0.3) {
      // a third of them the kind's previous blob again (sent as a repeat), some the same length with other bytes
      const last = prevBlob.get(kind), roll = r();
      rec.blob = last && roll < 0.33 ? Uint8Array.from(last)
        : last && roll < 0.45 ? Uint8Array.from(last, (b, j) => (j === last.length - 1 ? b ^ 1 : b))
          : Uint8Array.from({ length: pick([1, 3, 8, 64, 65535]) }, () => Math.floor(r() * 256));
      prevBlob.set(kind, rec.blob);
    }
    out.push(rec);
  }
  return out;
}

function assertSameEvents(a: EventStore, b: EventStore, what: string): void {
  assert.equal(a.count, b.count, `${what}: count`);
  for (let i = 0; i < a.count; i++) {
    const x = a.get(i), y = b.get(i);
    assert.deepEqual({ ...x, blob: x.blob && [...x.blob] }, { ...y, blob: y.blob && [...y.blob] }, `${what}: event ${i}`);
  }
}

test('randomized records: reference round trip, and the store decodes compact exactly as it stores fixed', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const recs = randomRecords(seed, 2000);
    const compact = encodeEventsBodyCompact(recs), fixed = encodeEventsBody(recs);
    assert.equal(validateEventsBody(compact, 0), recs.length);
    assert.deepEqual(decodeEventsBody(compact), decodeEventsBody(fixed), `seed ${seed}: reference decoder`);
    const a = new EventStore(), b = new EventStore();
    for (let k = 0; k < recs.length; k += 300) {
      assert.equal(a.appendEventsBody(7, 700, encodeEventsBodyCompact(recs.slice(k, k + 300))), Math.min(300, recs.length - k));
      b.appendEventsBody(7, 700, encodeEventsBody(recs.slice(k, k + 300)));
    }
    assertSameEvents(a, b, `seed ${seed}`);
  }
});

test('across column chunks, with threads taking turns and arguments repeating, compact and fixed store the same events', () => {
  // 150 000 records in messages of 8000: three column chunks, whose first rows fall mid-message and on other threads
  // than the rows before them (the thread column is stored XOR a base per chunk), and long runs of records whose
  // arguments repeat the kind's previous ones (stored once, shared).
  const recs: EventRecord[] = [];
  let ts = 9_000_000_000n;
  for (let i = 0; i < 150_000; i++) {
    const lock = i % 2 === 0, tid = 300 + (Math.floor(i / 4999) % 3);
    ts += BigInt(20 + (i % 11));
    recs.push({ kind: lock ? LOCK : kindId('mutex_unlock'), phase: 0, flags: 0, tid, err: 0, ts, result: 0n,
      caller: lock ? 0x5555_0000_1000n : 0x5555_0000_1040n,
      args: lock ? [0x7fff_0000_0040n + BigInt(Math.floor(i / 777) % 5) * 64n, 0n] : [0x7fff_0000_0040n + BigInt(Math.floor(i / 777) % 5) * 64n] });
  }
  const a = new EventStore(), b = new EventStore();
  for (let k = 0; k < recs.length; k += 8000) {
    a.appendEventsBody(3, 30, encodeEventsBodyCompact(recs.slice(k, k + 8000)));
    b.appendEventsBody(3, 30, encodeEventsBody(recs.slice(k, k + 8000)));
  }
  assert.equal(a.count, recs.length);
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    if (a.tidAt(i) !== r.tid || a.argAt(i, 0) !== r.args[0] || a.tsAt(i) !== r.ts) assert.fail(`event ${i}: tid ${a.tidAt(i)}, mutex ${a.argAt(i, 0)}, ts ${a.tsAt(i)}; sent ${r.tid}, ${r.args[0]}, ${r.ts}`);
  }
  assertSameEvents(a, b, 'compact against fixed');
  assert.ok(a.bytesPerEvent() < b.bytesPerEvent(), `repeated arguments are stored once: ${a.bytesPerEvent()} < ${b.bytesPerEvent()} bytes/event`);
});

test('compact cuts a mutex stream to a few bytes per event and the store to the same 36 bytes per event', () => {
  const recs: EventRecord[] = [];
  for (let i = 0; i < 20_000; i++) {
    const lock = i % 2 === 0;
    recs.push({ kind: lock ? LOCK : kindId('mutex_unlock'), phase: 0, flags: 0, tid: 100, err: 0, ts: 5_000_000n + BigInt(i * 31), result: 0n,
      caller: lock ? 0x5555_5555_1234n : 0x5555_5555_1300n, args: lock ? [0x7fff_0000_1000n, 0n] : [0x7fff_0000_1000n] });
  }
  const compact = encodeEventsBodyCompact(recs);
  const perEvent = (compact.length - 16) / recs.length;
  assert.ok(perEvent <= 8, `compact bytes per mutex event: ${perEvent}`);
  assert.equal((encodeEventsBody(recs).length - 8) / recs.length, 52);
  const s = new EventStore();
  for (let b = 0; b < 50; b++) s.appendEventsBody(1, 10, compact);
  assert.equal(s.count, 1_000_000);
  assert.ok(s.bytesPerEvent() <= 48, `store bytes per event ${s.bytesPerEvent()}`);
});

/** Malformed compact bodies and the words their error must contain (the reference and the store both say it). */
const GOOD_LOCK = [0x08, 103, 0x05, 0x00, 0x10, 0x20, 0x00];
const malformed: [string, Uint8Array, RegExp][] = [
  ['phase 3', compactBody(1, 0n, [0x0b, 103, 5, 0, 0, 0, 0]), /compact record 0 at byte 32: phase 3 is not 0/],
  ['same kind in the first record', compactBody(1, 0n, [0x0c, 5, 0, 0, 0, 0]), /compact record 0 at byte 32: the first record of a message cannot repeat/],
  ['no tid in the first record', compactBody(1, 0n, [0x00, 103, 0, 0, 0, 0]), /compact record 0 at byte 32: the first record of a message must carry its tid/],
  ['unknown kind', compactBody(2, 0n, [...GOOD_LOCK, 0x00, 0xe7, 0x07, 0, 0]), /compact record 1 at byte 39: kind (999 )?.*not in the vocabulary/],
  ['varint over 10 bytes', compactBody(1, 0n, [0x08, 103, 5, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0]), /compact record 0 at byte 32: .*(longer than 10 bytes|exceeds 64 bits)/],
  ['varint over 64 bits', compactBody(1, 0n, [0x08, 103, 5, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0]), /compact record 0 at byte 32: the caller varint exceeds 64 bits/],
  ['flags over 16 bits', compactBody(1, 0n, [0x18, 103, 5, 0, 0x80, 0x80, 0x04, 0, 0, 0]), /compact record 0 at byte 32: (its )?flags .*exceed 16 bits/],
  ['errno over 32 bits', compactBody(1, 0n, [0x28, 103, 5, 0, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0, 0]), /compact record 0 at byte 32: (its )?errno .*does not fit an i32/],
  ['blob repeat with no blob before', compactBody(1, 0n, [0x88, 43, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /compact record 0 at byte 32: its blob repeats the previous one of its kind, and none came before/],
  ['blob repeat of another kind\'s blob', compactBody(2, 0n, [0x88, 43, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x41, 0x80, 42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), /compact record 1 at byte 47: its blob repeats the previous one of its kind, and none came before/],
  ['blob past the end', compactBody(1, 0n, [0x88, 43, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 1, 2]), /compact record 0 at byte 32: its 9-byte blob runs past the end/],
  ['record past the end', compactBody(2, 0n, [...GOOD_LOCK]), /compact record 1 at byte 39: runs past the end of the message/],
  ['cut inside a record', compactBody(1, 0n, [0x08, 103, 5, 0, 0x10]), /compact record 0 at byte 32: runs past the end of the message in its argument 0/],
  ['trailing bytes', compactBody(1, 0n, [...GOOD_LOCK, 0, 0]), /2 bytes after the last of 1 records \(at byte 39\)/],
  ['timestamp below zero', compactBody(1, 0n, [0x08, 103, 5, 0x03, 0, 0, 0]), /compact record 0 at byte 32: (its )?timestamp .*outside 0..2\^64-1/],
  ['timestamp past 2^64', compactBody(1, 0xffff_ffff_ffff_ffffn, [0x08, 103, 5, 0x02, 0, 0, 0]), /compact record 0 at byte 32: (its )?timestamp .*outside 0..2\^64-1/],
  ['timestamp step of 2^53', compactBody(1, 0n, [0x08, 103, 5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0, 0, 0]), /compact record 0 at byte 32: (its )?timestamp step .*not below 2\^53/],
  ['unknown encoding', Uint8Array.from([...u32(0), ...u32(2)]), /EVENTS encoding 2 at byte 20 is neither 0 \(fixed\) nor 1 \(compact\)/],
  ['short compact header', Uint8Array.from([...u32(0), ...u32(1), 0, 0]), /compact EVENTS body is 10 bytes, shorter than its 16-byte header/],
];

test('malformed compact bodies: the reference and the store reject each with where and what, and the store keeps none of it', () => {
  const good = randomRecords(9, 50);
  for (const [name, body, re] of malformed) {
    const frame = encodeMessage(MessageType.Events, 0, body);
    assert.throws(() => decodeMessage(frame, 'shim'), (e: unknown) => e instanceof ProtocolError && re.test((e as Error).message), `reference: ${name}`);
    const s = new EventStore(), ref = new EventStore();
    s.appendEventsBody(1, 1, encodeEventsBodyCompact(good));
    ref.appendEventsBody(1, 1, encodeEventsBodyCompact(good));
    if (body.length >= 16) {
      assert.throws(() => s.appendEventsBody(1, 1, body), (e: unknown) => e instanceof ProtocolError && re.test((e as Error).message), `store: ${name}`);
    }
    // after the rejected body the store holds exactly what it held, and goes on storing
    s.appendEventsBody(1, 1, encodeEventsBodyCompact(good));
    ref.appendEventsBody(1, 1, encodeEventsBodyCompact(good));
    assertSameEvents(s, ref, `after ${name}`);
  }
});

test('a body that fails late is taken back whole: blobs, wide results and errnos of its earlier records included', () => {
  const recs = randomRecords(11, 400).filter((r) => r.blob || r.result > 0x7fff_ffffn || r.err > 0x7fff);
  assert.ok(recs.length > 20);
  const body = encodeEventsBodyCompact(recs);
  const bad = new Uint8Array(body.length + 1);
  bad.set(body);
  new DataView(bad.buffer).setUint32(0, recs.length + 1, true); // one more record than there is: the last byte is cut off
  bad[body.length] = 0x0b; // and its head says phase 3
  const s = new EventStore(), ref = new EventStore();
  const tail = randomRecords(12, 100);
  const marks = new Uint8Array(0x10000);
  for (const r of recs) marks[r.kind] = 1;
  s.markKinds(marks);
  assert.throws(() => s.appendEventsBody(2, 20, bad), /compact record \d+ at byte \d+: phase 3/);
  assert.equal(s.count, 0);
  assert.deepEqual(s.marked, [], 'the rows it marked are taken back too');
  s.appendEventsBody(2, 20, encodeEventsBodyCompact(tail));
  ref.appendEventsBody(2, 20, encodeEventsBodyCompact(tail));
  assertSameEvents(s, ref, 'after a late failure');
});

test('collector: compact EVENTS over a real websocket are stored and written; a malformed one closes only its connection', async () => {
  const path = join(dir, 'compact.ipctrace');
  const c = await Collector.start({ traceFile: path });
  const secret = /secret=([0-9a-f]+)/.exec(c.envFor().IPCSCOPE!)![1];
  const open = () => new Promise<WebSocket>((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${c.port}/ipcscope`, SUBPROTOCOL, { headers: { 'X-IPCScope-Secret': secret } });
    ws.once('open', () => res(ws)); ws.once('error', rej);
  });
  const hello = (ws: WebSocket, pid: number) => new Promise<void>((res) => {
    ws.once('message', () => res());
    ws.send(encodeJson(MessageType.Hello, 0, { pid, ppid: 1, tid: pid, origin: 'initial', session: '', vocabulary: 1, exe: '/bin/x', cwd: '/', argv: ['x'], startNs: '1', shim: 'test' }));
  });
  try {
    const a = await open(), b = await open();
    await hello(a, 11);
    await hello(b, 12);
    const recs = randomRecords(21, 1000);
    a.send(encodeEvents(1, recs.slice(0, 500), EventsEncoding.Compact));
    a.send(encodeEvents(2, recs.slice(500), EventsEncoding.Compact));
    b.send(encodeEvents(1, recs.slice(0, 10), EventsEncoding.Compact));
    const closed = new Promise<number>((r) => b.on('close', (code) => r(code)));
    b.send(encodeMessage(MessageType.Events, 2, malformed[0][1]));
    assert.equal(await closed, 1007);
    const end = Date.now() + 5000;
    while (c.store.count < 1010 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    assert.equal(c.store.count, 1010);
    assert.match(c.notes.find((n) => n.level === 'error')!.message, /pid 12 .*compact record 0 at byte 32: phase 3/);
    a.close();
    await new Promise((r) => a.on('close', r));
    const ref = new EventStore();
    ref.appendEventsBody(1, 11, encodeEventsBody(recs));
    let fromA = 0;
    for (let i = 0; i < c.store.count; i++) {
      if (c.store.pidAt(i) !== 11) continue;
      const x = c.store.get(i), y = ref.get(fromA++);
      assert.deepEqual([x.kind, x.phase, x.ts, x.result, x.err, x.flags, x.tid, x.caller, x.args], [y.kind, y.phase, y.ts, y.result, y.err, y.flags, y.tid, y.caller, y.args]);
    }
    assert.equal(fromA, 1000);
  } finally { await c.close(); }
  // the trace file holds both compact chunks of a and the good one of b, not the malformed one, and reads back whole
  const t = await readTraceFile(path);
  assert.equal(t.cutOff, undefined);
  assert.equal(t.count, 1010);
});
