// The collector over real websocket connections (npm ws clients speaking docs/protocol.md): secret and Origin checks,
// HELLO/WELCOME, EVENTS into the store and the trace file, one bad connection not hurting another, COMMAND/REPLY,
// a full disk, BYE bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Collector } from '../../src/common/collector';
import {
  decodeMessage, encodeBye, encodeEvents, encodeJson, encodeMessage, encodeReply, MessageType, SUBPROTOCOL, type DecodedMessage, type EventRecord,
} from '../../src/common/protocol';
import { readTraceFile } from '../../src/common/traceFile';
import { kindId } from '../../src/common/vocabulary';

const dir = mkdtempSync(join(tmpdir(), 'ipcscope-collector-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function secretOf(c: Collector): string {
  return /secret=([0-9a-f]+)/.exec(c.envFor().IPCSCOPE!)![1];
}

/** A client speaking the shim's side of the protocol over a real websocket. */
class ShimClient {
  seq = 0;
  received: DecodedMessage[] = [];
  closeCode: Promise<number>;
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => { this.received.push(decodeMessage(new Uint8Array(d), 'collector')); this.waiters.splice(0).forEach((w) => w()); });
    this.closeCode = new Promise((r) => ws.on('close', (code) => r(code)));
  }
  static connect(c: Collector, headers: Record<string, string> = { 'X-IPCScope-Secret': secretOf(c) }): Promise<ShimClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${c.port}/ipcscope`, SUBPROTOCOL, { headers });
    return new Promise((res, rej) => {
      ws.once('open', () => res(new ShimClient(ws)));
      ws.once('unexpected-response', (_req, resp) => rej(Object.assign(new Error(`HTTP ${resp.statusCode}`), { status: resp.statusCode })));
      ws.once('error', rej);
    });
  }
  send(b: Uint8Array): void { this.ws.send(b); }
  async next(type: MessageType): Promise<DecodedMessage> {
    for (;;) {
      const m = this.received.find((x) => x.type === type);
      if (m) { this.received.splice(this.received.indexOf(m), 1); return m; }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async hello(pid: number): Promise<DecodedMessage> {
    this.send(encodeJson(MessageType.Hello, this.seq++, { pid, ppid: 1, tid: pid, origin: 'initial', session: '', vocabulary: 1, exe: '/bin/x', cwd: '/', argv: ['x'], startNs: '1', shim: 'test' }));
    return this.next(MessageType.Welcome);
  }
  events(recs: EventRecord[]): void { this.send(encodeEvents(this.seq++, recs)); }
}

const LOCK = kindId('mutex_lock');
const recs = (n: number, t0 = 0n): EventRecord[] => Array.from({ length: n }, (_, i) => ({
  kind: LOCK, phase: 0, flags: 0, tid: 5, err: 0, ts: t0 + BigInt(i), result: 0n, caller: 0x1234n, args: [0xdead0000n, 0n],
}));
const until = async (cond: () => boolean, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await new Promise((r) => setTimeout(r, 5)); }
};

test('missing or wrong secret → 401; an Origin header → 403; a wrong subprotocol or path → 400; nothing reaches the session', async () => {
  const c = await Collector.start();
  try {
    await assert.rejects(ShimClient.connect(c, {}), { status: 401 });
    await assert.rejects(ShimClient.connect(c, { 'X-IPCScope-Secret': '00'.repeat(32) }), { status: 401 });
    await assert.rejects(ShimClient.connect(c, { 'X-IPCScope-Secret': 'short' }), { status: 401 });
    await assert.rejects(ShimClient.connect(c, { 'X-IPCScope-Secret': secretOf(c), Origin: 'http://evil.example' }), { status: 403 });
    const ws = new WebSocket(`ws://127.0.0.1:${c.port}/ipcscope`, 'other.v9', { headers: { 'X-IPCScope-Secret': secretOf(c) } });
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_q, resp) => r(resp.statusCode!)));
    assert.equal(status, 400);
    const other = new WebSocket(`ws://127.0.0.1:${c.port}/elsewhere`, SUBPROTOCOL, { headers: { 'X-IPCScope-Secret': secretOf(c) } });
    assert.equal(await new Promise<number>((r) => other.once('unexpected-response', (_q, resp) => r(resp.statusCode!))), 400);
    assert.equal(c.store.connections().length, 0);
  } finally { await c.close(); }
});

test('listens on 127.0.0.1 only; the environment carries the shim and a 64-hex-digit secret', async () => {
  const c = await Collector.start({ payloadBytes: 128, pageFaults: false });
  try {
    const env = c.envFor({ LD_PRELOAD: '/other.so', FOO: 'bar' });
    assert.match(env.LD_PRELOAD!, /libipcscope\.so:\/other\.so$/);
    assert.equal(env.FOO, 'bar');
    assert.match(env.IPCSCOPE!, new RegExp(`^port=${c.port};secret=[0-9a-f]{64};session=${c.sessionId};payload=128;faults=0;snapshots=1;pause=0$`));
    const addr = (c as unknown as { server: { address(): { address: string } } }).server.address();
    assert.equal(addr.address, '127.0.0.1');
  } finally { await c.close(); }
});

test('HELLO → WELCOME; EVENTS stored and streamed to the trace file; BYE recorded; stats', async () => {
  const path = join(dir, 'a.ipctrace');
  const c = await Collector.start({ traceFile: path, sessionId: 'sess1' });
  const conns: number[] = [];
  c.on('connection', (info) => conns.push(info.pid));
  const closed: unknown[] = [];
  c.on('closed', (conn, why) => closed.push([conn, why]));
  const a = await ShimClient.connect(c);
  const w = await a.hello(4242);
  assert.equal(w.type, MessageType.Welcome);
  if (w.type === MessageType.Welcome) assert.deepEqual(w.welcome, { session: 'sess1', connection: 1, payloadBytes: 64, pageFaults: true });
  a.events(recs(1000));
  a.events(recs(500, 5000n));
  a.send(encodeBye(a.seq++, 1500n, 0n));
  a.ws.close();
  await until(() => closed.length === 1, 'close');
  assert.deepEqual(conns, [4242]);
  assert.equal(c.store.count, 1500);
  assert.equal(c.store.pidAt(1499), 4242);
  assert.equal(c.store.tsAt(1499), 5499n);
  assert.deepEqual(closed, [[1, { bye: true, reason: 'bye' }]]);
  const st = c.stats();
  assert.equal(st.events, 1500);
  assert.equal(st.dropped, 0);
  assert.equal(st.connections, 0);
  c.exitInfo = { code: 3, signal: null };
  await c.close();
  const s = await readTraceFile(path);
  assert.equal(s.cutOff, undefined);
  assert.equal(s.count, 1500);
  assert.equal(s.meta!.session, 'sess1');
  assert.deepEqual(s.closed.get(1), { reason: 'bye', bye: true, emitted: '1500', dropped: '0' });
  assert.equal(s.end!.exitCode, 3);
  assert.equal(s.end!.events, 1500);
});

test('garbage on one connection: ERROR + close 1007 + a note; another connection keeps streaming', async () => {
  const c = await Collector.start();
  try {
    const good = await ShimClient.connect(c);
    await good.hello(1);
    const bad = await ShimClient.connect(c);
    await bad.hello(2);
    bad.events(recs(10));
    await until(() => c.store.count === 10, 'first events');
    // kind 999 in the second record
    const frame = encodeEvents(bad.seq++, recs(2));
    new DataView(frame.buffer).setUint16(16 + 8 + 56, 999, true);
    let stop = false;
    const streaming = (async () => { let n = 0; while (!stop) { good.events(recs(100, BigInt(n))); n += 100; await new Promise((r) => setTimeout(r, 2)); } })();
    bad.send(frame);
    const err = await bad.next(MessageType.Error);
    assert.equal(err.type === MessageType.Error && err.message, 'record 1 at byte 80: kind 999 is not in the vocabulary (version 1)');
    assert.equal(await bad.closeCode, 1007);
    const before = c.store.count;
    await until(() => c.store.count > before + 1000, 'the good connection to keep streaming');
    stop = true;
    await streaming;
    assert.equal(c.liveConnections().length, 1);
    assert.equal(c.liveConnections()[0].pid, 1);
    const note = c.notes.find((n) => n.level === 'error');
    assert.match(note!.message, /pid 2 \(connection 2\) sent a malformed message, connection closed: record 1 at byte 80: kind 999/);
    assert.equal(c.store.closed.get(2)!.bye, false);
    // the 10 events the bad connection sent before its bad message are kept
    let fromBad = 0;
    for (let i = 0; i < c.store.count; i++) if (c.store.pidAt(i) === 2) fromBad++;
    assert.equal(fromBad, 10);
  } finally { await c.close(); }
});

test('EVENTS before HELLO, text frames and a second HELLO are rejected on that connection only', async () => {
  const c = await Collector.start();
  try {
    const x = await ShimClient.connect(c);
    x.events(recs(1));
    const e = await x.next(MessageType.Error);
    assert.match(e.type === MessageType.Error ? e.message : '', /EVENTS before HELLO/);
    assert.equal(await x.closeCode, 1007);
    const y = await ShimClient.connect(c);
    y.ws.send('hello as text');
    assert.equal(await y.closeCode, 1007);
    const z = await ShimClient.connect(c);
    await z.hello(3);
    z.send(encodeJson(MessageType.Hello, z.seq++, { pid: 3, ppid: 1, tid: 3, origin: 'initial', startNs: '1' }));
    assert.equal(await z.closeCode, 1007);
    assert.equal(c.notes.filter((n) => n.level === 'error').length, 3);
  } finally { await c.close(); }
});

test('sendCommand: request ids matched to REPLYs; an unknown command and a closed connection reject', async () => {
  const c = await Collector.start();
  try {
    const a = await ShimClient.connect(c);
    await a.hello(7);
    const p1 = c.sendCommand(1, 'flush');
    const p2 = c.sendCommand(1, 'snapshot', [3n]);
    const m1 = await a.next(MessageType.Command);
    const m2 = await a.next(MessageType.Command);
    assert.ok(m1.type === MessageType.Command && m2.type === MessageType.Command);
    if (m1.type !== MessageType.Command || m2.type !== MessageType.Command) return;
    assert.equal(m1.command, 6);
    assert.equal(m2.command, 1);
    assert.equal(m2.args[0], 3n);
    // answer out of order
    a.send(encodeReply(a.seq++, m2.requestId, 0, { pages: 12 }));
    a.send(encodeReply(a.seq++, m1.requestId, 11, null));
    assert.deepEqual(await p2, { status: 0, json: { pages: 12 } });
    assert.deepEqual(await p1, { status: 11, json: null });
    await assert.rejects(c.sendCommand(1, 'dance'), /unknown command 'dance'/);
    const p3 = c.sendCommand(1, 'flush');
    a.ws.terminate();
    await assert.rejects(p3, /closed before it replied/);
    await assert.rejects(c.sendCommand(1, 'flush'), /connection 1 is not open/);
  } finally { await c.close(); }
});

test('a full disk under the trace file: a clear note, recording continues in memory', async () => {
  const c = await Collector.start({ traceFile: '/dev/full' });
  try {
    const a = await ShimClient.connect(c);
    await a.hello(9);
    for (let i = 0; i < 20; i++) a.events(recs(1000, BigInt(i * 1000)));
    await until(() => c.store.count === 20_000, 'events in memory');
    await until(() => c.notes.some((n) => n.level === 'error'), 'the disk-full note');
    assert.match(c.notes.find((n) => n.level === 'error')!.message, /trace file \/dev\/full: write failed \(ENOSPC.*recording continues in memory only/);
    assert.ok(c.traceFileFailed);
  } finally { await c.close(); }
});

test('maxEvents: the store refuses, counts the drops and says so once', async () => {
  const c = await Collector.start({ maxEvents: 150 });
  try {
    const a = await ShimClient.connect(c);
    await a.hello(9);
    a.events(recs(100)); a.events(recs(100)); a.events(recs(100));
    await until(() => c.stats().dropped === 150, 'drops');
    assert.equal(c.store.count, 150);
    assert.equal(c.notes.filter((n) => /store is full/.test(n.message)).length, 1);
  } finally { await c.close(); }
});

test('a message with a wrong sequence number is kept and noted as a gap', async () => {
  const c = await Collector.start();
  try {
    const a = await ShimClient.connect(c);
    await a.hello(9);
    a.seq += 3;
    a.events(recs(5));
    await until(() => c.store.count === 5, 'events');
    assert.match(c.notes[0].message, /sequence 4, expected 1: 3 messages lost/);
    a.send(encodeMessage(MessageType.Bye, a.seq++, new Uint8Array(16)));
  } finally { await c.close(); }
});

test('close() with connections still open: each gets its CLOSED chunk (no BYE) before END', async () => {
  const path = join(dir, 'open-at-close.ipctrace');
  const c = await Collector.start({ traceFile: path });
  const a = await ShimClient.connect(c);
  await a.hello(11);
  const b = await ShimClient.connect(c);
  await b.hello(12);
  a.events(recs(3));
  await until(() => c.store.count === 3, 'events');
  await c.close();
  const s = await readTraceFile(path);
  assert.equal(s.cutOff, undefined);
  assert.deepEqual([...s.closed.keys()].sort(), [1, 2]);
  assert.equal(s.closed.get(1)!.bye, false);
  assert.match(s.closed.get(2)!.reason, /closed without BYE/);
});

test('a backlog is ingested in slices: connections pause until the next turn, timers run between, nothing is lost', async () => {
  const c = await Collector.start({ traceFile: join(dir, 'backlog.ipctrace') });
  try {
    const a = await ShimClient.connect(c), b = await ShimClient.connect(c);
    await a.hello(7001); await b.hello(7002);
    const MESSAGES = 100, PER = 2000;
    let ticks = 0, firstTick = -1, lastTick = -1;
    const timer = setInterval(() => { ticks++; }, 1);
    c.on('events', () => { if (firstTick < 0) firstTick = ticks; lastTick = ticks; });
    for (let m = 0; m < MESSAGES; m++) { a.events(recs(PER, BigInt(m * PER))); b.events(recs(PER, BigInt(m * PER))); }
    // the host busy elsewhere: the messages pile up in the sockets meanwhile
    const until = performance.now() + 50;
    while (performance.now() < until) { /* busy */ }
    const total = 2 * MESSAGES * PER;
    while (c.store.count < total) await new Promise((r) => setTimeout(r, 5));
    clearInterval(timer);
    assert.equal(c.store.count, total);
    assert.ok(c.ingestDeferrals > 0, 'some ingest slice left frames to the next turn');
    assert.ok(lastTick > firstTick, `a 1 ms timer ran between the first and the last message (ticks ${firstTick}..${lastTick})`);
    assert.deepEqual(c.notes.filter((n) => n.level !== 'info'), [], 'no sequence gaps or errors');
    a.send(encodeBye(a.seq++, BigInt(MESSAGES * PER), 0n)); b.send(encodeBye(b.seq++, BigInt(MESSAGES * PER), 0n));
  } finally { await c.close(); }
  const t = await readTraceFile(join(dir, 'backlog.ipctrace'));
  assert.equal(t.count, 2 * 100 * 2000);
});

/** Counts turns of the event loop (one setImmediate per turn) until stopped. */
function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0, on = true;
  const tick = (): void => { turns++; if (on) setImmediate(tick); };
  setImmediate(tick);
  return { get turns() { return turns; }, stop() { on = false; } };
}

test('a burst of frames from one socket read is handled over several turns, completely and in order, its close last', async () => {
  const path = join(dir, 'burst.ipctrace');
  // a slice of 0 ms: one frame per turn, so the turns can be counted without depending on this machine's speed
  const c = await Collector.start({ traceFile: path, ingestSliceMs: 0 });
  const MESSAGES = 400, PER = 500;
  const turnsAt: number[] = [];
  let closedAt = -1;
  try {
    const a = await ShimClient.connect(c);
    await a.hello(7101);
    const turns = turnCounter();
    c.on('events', () => turnsAt.push(turns.turns));
    c.on('closed', () => { closedAt = turnsAt.length; });
    // all of it written while this process is busy: the collector's socket reads find hundreds of frames at once
    for (let m = 0; m < MESSAGES; m++) a.events(recs(PER, BigInt(m * PER)));
    a.send(encodeBye(a.seq++, BigInt(MESSAGES * PER), 0n));
    a.ws.close();
    const until = performance.now() + 100;
    while (performance.now() < until) { /* busy */ }
    await a.closeCode;
    while (closedAt < 0) await new Promise((r) => setImmediate(r));
    turns.stop();
    assert.equal(c.store.count, MESSAGES * PER);
    assert.equal(turnsAt.length, MESSAGES, 'one events emit per frame');
    assert.equal(closedAt, MESSAGES, 'the close is handled after every frame the connection sent before it');
    for (let m = 1; m < MESSAGES; m++) assert.ok(turnsAt[m] > turnsAt[m - 1], `frames ${m - 1} and ${m} were handled in different turns`);
    assert.ok(c.ingestDeferrals > MESSAGES / 2, `frames were left to the next turn (${c.ingestDeferrals} times): they arrived in bursts`);
    for (let i = 1; i < c.store.count; i++) if (c.store.tsAt(i) !== c.store.tsAt(i - 1) + 1n) assert.fail(`event ${i} out of order`);
    assert.equal(c.store.closed.get(1)?.bye, true);
    assert.deepEqual(c.notes.filter((n) => n.level !== 'info'), [], 'no sequence gaps or errors');
  } finally { await c.close(); }
  const t = await readTraceFile(path);
  assert.equal(t.count, MESSAGES * PER);
  assert.equal(t.closed.get(1)?.bye, true);
});

test('a full inbox pauses every connection until it drains (back-pressure), and nothing is lost', async () => {
  const c = await Collector.start({ traceFile: join(dir, 'inbox-full.ipctrace'), inboxHighBytes: 256 << 10 });
  try {
    const a = await ShimClient.connect(c), b = await ShimClient.connect(c);
    await a.hello(7201); await b.hello(7202);
    const MESSAGES = 200, PER = 500; // ~16 MB per connection, 64 times the inbox's limit
    for (let m = 0; m < MESSAGES; m++) { a.events(recs(PER, BigInt(m * PER))); b.events(recs(PER, BigInt(m * PER))); }
    const total = 2 * MESSAGES * PER;
    await until(() => c.store.count === total, 'every event', 60_000);
    assert.ok(c.ingestPauses > 0, 'the connections were paused for a full inbox');
    // per connection, the events are stored in the order they were sent
    const last = new Map<number, bigint>();
    for (let i = 0; i < total; i++) {
      const conn = c.store.connAt(i), ts = c.store.tsAt(i), prev = last.get(conn);
      if (prev !== undefined && ts !== prev + 1n) assert.fail(`connection ${conn}: event ${i} out of order`);
      last.set(conn, ts);
    }
    assert.deepEqual(c.notes.filter((n) => n.level !== 'info'), [], 'no sequence gaps or errors');
    a.send(encodeBye(a.seq++, BigInt(MESSAGES * PER), 0n)); b.send(encodeBye(b.seq++, BigInt(MESSAGES * PER), 0n));
  } finally { await c.close(); }
});
