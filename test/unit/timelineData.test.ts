// timelineData: lanes, spans, flows and tiles from hand-written event lists (every field known), the synthetic
// generator at scale, and a real recorded program under the shim; plus the host-side TimelineSession message
// handling and the webview protocol's input checks.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ConnectionInfo, EventSource, TraceEvent } from '../../src/common/traceEvent';
import { KINDS, kindByName, enumValue, type Phase } from '../../src/common/vocabulary';
import { TimelineData, levelCovering, tileViews, hexDump, timelineTurns } from '../../src/common/timelineData';
import { TILE_BUCKETS, SPAN_STYLE, parseFromWebview, type ToWebviewMessage, type TileFilter } from '../../src/common/webviewProtocol';
import { TimelineSession, timelineHtml } from '../../src/host/timelineFeed';
import { SyntheticTrace } from '../../bench/webview/synthetic';
import { encodeMessage } from '../../bench/webview/harness';
import { ROOT, compileC, recordProgram, whyNoShim } from '../helpers/record';
import { TraceModel } from '../../src/common/model';

const T0 = 5_000_000_000n;
const ALL: TileFilter = { hiddenClasses: [], hiddenKinds: [], objects: null };

/** A list of events as an EventSource (no column accessors: the TraceEvent path). */
class ListSource implements EventSource {
  readonly events: TraceEvent[] = [];
  private readonly listeners = new Set<(first: number, count: number) => void>();
  constructor(private readonly conns: ConnectionInfo[] = []) {}
  get count(): number { return this.events.length; }
  get(i: number): TraceEvent { const e = this.events[i]; if (!e) throw new RangeError(`no event ${i}`); return e; }
  connections(): readonly ConnectionInfo[] { return this.conns; }
  onAppend(l: (first: number, count: number) => void): () => void { this.listeners.add(l); return () => this.listeners.delete(l); }
  add(kind: string, phase: Phase, pid: number, tid: number, dt: number, args: Record<string, bigint | number> = {}, more: Partial<TraceEvent> = {}): number {
    const k = kindByName(kind)!;
    const index = this.events.length;
    this.events.push({
      index, kind: k.id, phase, flags: 0, pid, tid, err: 0, ts: T0 + BigInt(dt), result: 0n, caller: 0x401234n, conn: 1,
      args: k.args.map((a) => BigInt(args[a] ?? 0)), ...more,
    });
    for (const l of this.listeners) l(index, 1);
    return index;
  }
}
const conn = (pid: number, ppid: number, exe: string): ConnectionInfo =>
  ({ conn: pid, pid, ppid, tid: pid, origin: 'fork', session: 't', exe, cwd: '/', argv: [exe], startNs: T0, shim: 't' });
const PIPE = enumValue('otype', 'pipe');

/** parent 100 forks child 200 (which starts thread 201); the parent writes 10 bytes, the child reads 4 then 6. */
function pipeTrace(): ListSource {
  const s = new ListSource([conn(100, 1, '/bin/parent'), conn(200, 100, '/bin/child')]);
  s.add('proc_start', 0, 100, 100, 0, { ppid: 1 });
  s.add('pipe', 0, 100, 100, 100, { readFd: 3, writeFd: 4, dev: 12, ino: 777 });
  s.add('fork', 0, 100, 100, 200, {}, { result: 200n });
  s.add('proc_start', 0, 200, 200, 300, { ppid: 100 });
  s.add('thread_start', 0, 200, 201, 350, { creatorTid: 200 });
  s.add('read', 1, 200, 200, 400, { fd: 3, count: 4, otype: PIPE, dev: 12, ino: 777 });
  s.add('write', 1, 100, 100, 1_000, { fd: 4, count: 10, otype: PIPE, dev: 12, ino: 777 });
  s.add('write', 2, 100, 100, 1_500, { fd: 4, count: 10, otype: PIPE, dev: 12, ino: 777 }, { result: 10n, blob: new TextEncoder().encode('hello pipe') });
  s.add('read', 2, 200, 200, 2_000, { fd: 3, count: 4, otype: PIPE, dev: 12, ino: 777 }, { result: 4n, blob: new TextEncoder().encode('hell') });
  s.add('read', 1, 200, 200, 2_100, { fd: 3, count: 64, otype: PIPE, dev: 12, ino: 777 });
  s.add('read', 2, 200, 200, 2_300, { fd: 3, count: 64, otype: PIPE, dev: 12, ino: 777 }, { result: 6n, blob: new TextEncoder().encode('o pipe') });
  // thread 201 waits for a mutex the main thread holds, then holds it
  s.add('mutex_lock', 0, 200, 200, 2_400, { mutex: 0x1000 });
  s.add('mutex_lock', 1, 200, 201, 2_500, { mutex: 0x1000 });
  s.add('mutex_unlock', 0, 200, 200, 3_000, { mutex: 0x1000 });
  s.add('mutex_lock', 2, 200, 201, 3_100, { mutex: 0x1000 });
  s.add('mutex_unlock', 0, 200, 201, 3_600, { mutex: 0x1000 });
  // a failed close, and a signal from the parent to the child's handler
  s.add('close', 0, 100, 100, 3_700, { fd: 99 }, { err: 9, result: -1n });
  s.add('kill', 0, 100, 100, 3_800, { pid: 200, sig: 10 });
  s.add('signal_handler', 1, 200, 200, 3_900, { sig: 10, senderPid: 100 });
  s.add('signal_handler', 2, 200, 200, 4_000, { sig: 10, senderPid: 100 });
  s.add('proc_exit', 0, 200, 200, 4_100);
  s.add('proc_exit', 0, 100, 100, 4_200);
  return s;
}

describe('timelineData from a hand-written trace', () => {
  const src = pipeTrace();
  const d = new TimelineData(src, { title: 't' });
  const h = d.header();

  test('lanes: processes in process-tree order, threads nested under their process, main thread first', () => {
    assert.deepEqual(h.lanes.map((l) => [l.kind, l.pid, l.tid, l.depth]),
      [['process', 100, 100, 0], ['thread', 100, 100, 1], ['process', 200, 200, 1], ['thread', 200, 200, 2], ['thread', 200, 201, 2]]);
    assert.equal(h.lanes[0].label, 'parent 100');
    assert.equal(h.originNs, T0.toString(), 'origin is the first event');
    assert.equal(h.durationNs, '4200');
    assert.equal(h.eventCount, src.count);
  });

  test('spans: begin/end pairs with exact ns; lock waits hatched, holds separate, handlers as handlers', () => {
    const t = tileViews(d.tile({ level: 3, index: 0, filter: ALL }));
    const spans = [...t.spanKind].map((k, i) => ({
      kind: KINDS.find((x) => x.id === k)!.name, style: t.spanStyle[i], s: t.spanStart[i], e: t.spanEnd[i], tid: h.lanes.find((l) => l.id === t.spanLane[i])!.tid,
    }));
    const find = (kind: string, style: number, tid?: number) => spans.find((x) => x.kind === kind && x.style === style && (tid === undefined || x.tid === tid));
    assert.deepEqual(find('read', SPAN_STYLE.blocking, 200) && [find('read', SPAN_STYLE.blocking, 200)!.s, find('read', SPAN_STYLE.blocking, 200)!.e], [400n, 2000n]);
    assert.deepEqual([find('mutex_lock', SPAN_STYLE.wait, 201)!.s, find('mutex_lock', SPAN_STYLE.wait, 201)!.e], [2500n, 3100n], 'waiting for the mutex');
    assert.deepEqual([find('mutex_lock', SPAN_STYLE.hold, 201)!.s, find('mutex_lock', SPAN_STYLE.hold, 201)!.e], [3100n, 3600n], 'holding it');
    assert.deepEqual([find('mutex_lock', SPAN_STYLE.hold, 200)!.s, find('mutex_lock', SPAN_STYLE.hold, 200)!.e], [2400n, 3000n], 'uncontended lock held until unlock');
    assert.deepEqual([find('signal_handler', SPAN_STYLE.handler, 200)!.s, find('signal_handler', SPAN_STYLE.handler, 200)!.e], [3900n, 4000n]);
  });

  test('flows: the 10 written bytes reach the reader as 4 + 6; kill → handler; unlock → contended lock', () => {
    const t = tileViews(d.tile({ level: 3, index: 0, filter: ALL }));
    const lane = (id: number) => h.lanes.find((l) => l.id === id)!;
    const flows = [...t.flowFrom].map((f, i) => ({ from: lane(f).tid, to: lane(t.flowTo[i]).tid, bytes: t.flowBytes[i], s: t.flowFromNs[i], e: t.flowToNs[i] }));
    const pipe = flows.filter((f) => f.bytes > 0n).sort((a, b) => Number(a.e - b.e));
    assert.deepEqual(pipe.map((f) => [f.from, f.to, f.bytes, f.s, f.e]), [[100, 200, 4n, 1000n, 2000n], [100, 200, 6n, 1000n, 2300n]]);
    assert.ok(flows.some((f) => f.from === 100 && f.to === 200 && f.bytes === 0n && f.s === 3800n && f.e === 3900n), 'signal');
    assert.ok(flows.some((f) => f.from === 200 && f.to === 201 && f.s === 3000n && f.e === 3100n), 'lock hand-off');
  });

  test('cells: instants and short spans aggregate per bucket; counts are conserved across levels', () => {
    const fine = tileViews(d.tile({ level: 3, index: 0, filter: ALL }));
    const coarse = tileViews(d.tile({ level: 13, index: 0, filter: ALL }));
    assert.ok(coarse.cellCount.length < fine.cellCount.length, `${coarse.cellCount.length} < ${fine.cellCount.length}`);
    const sumThreads = (v: ReturnType<typeof tileViews>) => [...v.cellCount].reduce((a, c, i) => a + (h.lanes.find((l) => l.id === v.cellLane[i])!.kind === 'thread' ? c : 0), 0);
    // at level 13 everything (≤ 4200 ns) falls into one bucket per lane, spans included
    assert.equal(sumThreads(coarse), src.count - 5 /* five ends close their begins */);
    assert.ok(coarse.cellBucket.every((b) => b === 0));
    assert.equal(coarse.spanLane.length, 0, 'no span is a bucket wide at 8 µs buckets');
  });

  test('filters: hidden classes drop their marks; an object filter keeps only that object', () => {
    const noPipe = tileViews(d.tile({ level: 3, index: 0, filter: { hiddenClasses: ['pipe'], hiddenKinds: [], objects: null } }));
    assert.ok(![...noPipe.spanKind].some((k) => KINDS.find((x) => x.id === k)!.cls === 'pipe'));
    const pipeObj = h.objects.find((o) => o.label.includes('777'))!;
    assert.ok(pipeObj, JSON.stringify(h.objects));
    const only = tileViews(d.tile({ level: 3, index: 0, filter: { hiddenClasses: [], hiddenKinds: [], objects: [pipeObj.id] } }));
    assert.ok([...only.spanKind].every((k) => ['read', 'write'].includes(KINDS.find((x) => x.id === k)!.name)));
    assert.ok(only.spanKind.length >= 3);
  });

  test('details: call, arguments by name with enum names, result, errno name, payload as text and hex, linked events', () => {
    const writeEnd = src.events.findIndex((e) => e.kind === kindByName('write')!.id && e.phase === 2);
    const w = d.details(writeEnd);
    assert.equal(w.call, 'write');
    assert.equal(w.phase, 'span');
    assert.equal(w.durationNs, '500');
    assert.equal(w.args.find((a) => a.name === 'otype')!.value, 'pipe');
    assert.equal(w.args.find((a) => a.name === 'count')!.value, '10');
    assert.equal(w.payloadText, 'hello pipe');
    assert.match(w.payloadHex!, /^0000 {2}68 65 6c 6c 6f 20 70 69 70 65/);
    assert.equal(w.process, 'parent 100');
    assert.equal(w.related.length, 2, 'the two reads it fed');
    const close = d.details(src.events.findIndex((e) => e.kind === kindByName('close')!.id));
    assert.equal(close.errnoName, 'EBADF');
    assert.equal(close.result, '-1');
    assert.throws(() => d.details(10_000), /no event 10000/);
  });

  test('search: by kind, by pid, by object label', () => {
    assert.equal(d.search('read', 10).total, 2);
    assert.ok(d.search('pid 200', 100).hits.every((x) => h.lanes.find((l) => l.id === x.lane)!.pid === 200));
    assert.equal(d.search('pipe:[777]', 10).total, 4, 'pipe(), the write and the two reads');
    assert.equal(d.search('', 10).total, 0);
  });

  test('locate: an event found by index on its lane, with its span', () => {
    const readBegin = src.events.findIndex((e) => e.kind === kindByName('read')!.id);
    const loc = d.locate(readBegin);
    assert.deepEqual([loc.startNs, loc.endNs], [(T0 + 400n).toString(), (T0 + 2000n).toString()]);
    assert.equal(h.lanes.find((l) => l.id === loc.lane)!.tid, 200);
  });
});

describe('timelineData with events out of time order on a thread', () => {
  test('page-fault samples that arrive late land in their own buckets and can be located', () => {
    const s = new ListSource([conn(100, 1, '/bin/x')]);
    s.add('proc_start', 0, 100, 100, 0);
    s.add('close', 0, 100, 100, 50_000, { fd: 3 });
    s.add('close', 0, 100, 100, 90_000, { fd: 4 });
    const late = s.add('page_fault', 0, 100, 100, 20_000, { addr: 0x1000 }); // sampled earlier, delivered later
    s.add('page_fault', 0, 100, 100, 10_000, { addr: 0x2000 });
    const d = new TimelineData(s);
    assert.deepEqual(d.locate(late), { lane: d.header().lanes[1].id, startNs: (T0 + 20_000n).toString(), endNs: (T0 + 20_000n).toString() });
    assert.equal(d.details(late).call, 'page_fault');
    for (const level of [10, 17]) { // scanned and pyramid tiles
      const v = tileViews(d.tile({ level, index: 0, filter: ALL }));
      const thread = d.header().lanes[1].id;
      const buckets = [...v.cellBucket].filter((_, i) => v.cellLane[i] === thread);
      if (level === 10) assert.deepEqual(buckets.sort((a, b) => a - b), [0, 9, 19, 48, 87], 'each event in the bucket of its time');
      const total = [...v.cellCount].filter((_, i) => v.cellLane[i] === thread).reduce((a, b) => a + b, 0);
      assert.equal(total, 5, `level ${level}`);
    }
  });

  test('a fault sample sent ahead of its thread\'s earlier blocking read leaves the read findable (search, locate, details)', () => {
    // The shim's sender may send a batch of fault samples before the thread's own ring: a fault stamped after the
    // read arrives first. The read's span must still be where a search for it and the details pane look.
    const s = new ListSource([conn(100, 1, '/bin/x')]);
    s.add('proc_start', 0, 100, 100, 0);
    s.add('page_fault', 0, 100, 100, 90_000, { addr: 0x1000 });
    const begin = s.add('read', 1, 100, 100, 40_000, { fd: 3 });
    s.add('read', 2, 100, 100, 60_000, { fd: 3 });
    const d = new TimelineData(s);
    const hits = d.search('read', 10).hits;
    assert.deepEqual(hits.map((h) => h.index), [begin]);
    assert.deepEqual(d.locate(begin), { lane: d.header().lanes[1].id, startNs: (T0 + 40_000n).toString(), endNs: (T0 + 60_000n).toString() });
    assert.equal(d.details(begin).call, 'read');
  });
});

describe('timelineData: spans a process never ends', () => {
  test('a successful exec (no end event) ends at the new image; calls blocked at exit end with the process', () => {
    const s = new ListSource([conn(100, 1, '/bin/sh')]);
    s.add('proc_start', 0, 100, 100, 0);
    s.add('exec', 1, 100, 100, 1_000);
    s.add('proc_start', 0, 100, 100, 5_000, {}, { blob: new TextEncoder().encode('/bin/sleep\0/\0sleep') });
    s.add('thread_start', 0, 100, 101, 6_000);
    s.add('read', 1, 100, 101, 7_000, { fd: 0 });
    s.add('proc_exit', 0, 100, 100, 9_000);
    const d = new TimelineData(s);
    const v = tileViews(d.tile({ level: 3, index: 0, filter: ALL }));
    const span = (name: string) => { const i = [...v.spanKind].findIndex((k) => KINDS.find((x) => x.id === k)!.name === name); return [v.spanStart[i], v.spanEnd[i], v.spanEndEvent[i]]; };
    assert.deepEqual(span('exec').slice(0, 2), [1000n, 5000n]);
    assert.deepEqual(span('read').slice(0, 2), [7000n, 9000n]);
    assert.equal(d.header().lanes[0].label, 'sleep 100', 'the lane takes the new image\'s name');
  });
});

describe('timelineData at scale (synthetic generator)', () => {
  const src = new SyntheticTrace({ events: 300_000 });
  const d = new TimelineData(src);
  const h = d.header();
  const top = levelCovering(BigInt(h.durationNs));

  test('a zoomed-out tile is bounded by lanes × buckets, whatever the event count', () => {
    const t = d.tile({ level: top, index: 0, filter: ALL });
    assert.ok(t.cellCount <= h.lanes.length * TILE_BUCKETS, `${t.cellCount} cells`);
    assert.ok(t.flowCount <= 3000, `${t.flowCount} arrows`);
    const bytes = Object.values(t).reduce((a: number, v) => a + (v instanceof ArrayBuffer ? v.byteLength : 0), 0);
    assert.ok(bytes < 2_000_000, `${bytes} bytes for ${h.eventCount} events`);
  });

  test('pyramid tiles (coarse) and scanned tiles (fine) count the same events', () => {
    // level 17 reads the pyramid, level 16 scans items: over the same time range the thread cells sum alike
    const sum = (level: number, from: number, to: number) => {
      let n = 0;
      for (let i = from; i < to; i++) {
        const v = tileViews(d.tile({ level, index: i, filter: ALL }));
        v.cellCount.forEach((c, k) => { if (h.lanes.find((l) => l.id === v.cellLane[k])!.kind === 'thread') n += c; });
      }
      return n;
    };
    assert.equal(sum(17, 0, 1), sum(16, 0, 2));
  });

  test('a hidden class is gone from pyramid tiles too', () => {
    const v = tileViews(d.tile({ level: top, index: 0, filter: { hiddenClasses: ['pipe', 'lock', 'signal', 'fd', 'readiness'], hiddenKinds: [], objects: null } }));
    assert.ok([...v.cellClass].every((c) => !['pipe', 'lock', 'signal', 'fd', 'readiness'].includes(h.classes[c])));
  });

  test('incremental: feeding the same events in slices gives the same lanes and tiles', () => {
    const whole = new TimelineData(new SyntheticTrace({ events: 20_000 }));
    const inner = new SyntheticTrace({ events: 20_000 });
    // the same events, revealed 5000 at a time (a live store), read through the TraceEvent path
    const partial: EventSource & { shown: number } = {
      shown: 5000, get count() { return this.shown; }, get: (i: number) => inner.get(i), connections: () => inner.connections(),
    };
    const live = new TimelineData(partial, { live: true });
    assert.equal(live.eventCount, 5000);
    for (let n = 10_000; n <= inner.count + 5000; n += 5000) { partial.shown = Math.min(n, inner.count); live.update(); }
    assert.equal(live.eventCount, whole.eventCount);
    const a = tileViews(live.tile({ level: 14, index: 0, filter: ALL })), b = tileViews(whole.tile({ level: 14, index: 0, filter: ALL }));
    assert.deepEqual([...a.cellCount], [...b.cellCount]);
    assert.equal(live.flowCount(), whole.flowCount());
    assert.deepEqual(live.header().lanes.map((l) => l.tid), whole.header().lanes.map((l) => l.tid));
  });
});

describe('TimelineSession (host side of the webview)', () => {
  test('ready → init; requests are answered by id; bad input is logged, never thrown', async () => {
    const posted: ToWebviewMessage[] = [];
    const logs: string[] = [];
    const s = new TimelineSession({ source: pipeTrace(), title: 'pipe', live: false, post: (m) => posted.push(m), onLog: (_l, m) => logs.push(m) });
    s.handle({ type: 'ready', protocol: 1 });
    assert.equal(posted[0].type, 'init');
    s.handle({ type: 'request', messageId: 7, request: { type: 'tile', tile: { level: 3, index: 0, filter: ALL } } });
    s.handle({ type: 'request', messageId: 8, request: { type: 'details', index: 99_999 } });
    s.handle({ type: 'bogus' });
    s.handle({ type: 'request', messageId: 9, request: { type: 'tile', tile: { level: 99, index: 0, filter: ALL } } });
    s.handle(null);
    await s.prepared; // the trace loads in slices; requests made meanwhile are answered once it is in
    await new Promise((r) => setTimeout(r, 50));
    const reply7 = posted.find((m) => m.type === 'reply' && m.inReplyTo === 7);
    assert.ok(reply7 && reply7.type === 'reply' && reply7.reply.type === 'tile' && reply7.reply.tile.cellCount > 0);
    const err8 = posted.find((m) => m.type === 'replyError' && m.inReplyTo === 8);
    assert.ok(err8 && err8.type === 'replyError' && /no event 99999/.test(err8.message));
    assert.equal(logs.length, 3, logs.join('\n'));
    assert.match(logs[0], /unknown webview message type "bogus"/);
    assert.match(logs[1], /level must be an integer 0–62/);
    s.dispose();
  });

  test('live: appended events are consumed in slices and announced with grow at a bounded rate', async () => {
    const src = new ListSource([conn(1, 0, '/bin/x')]);
    src.add('proc_start', 0, 1, 1, 0);
    const posted: ToWebviewMessage[] = [];
    const s = new TimelineSession({ source: src, title: 'live', live: true, post: (m) => posted.push(m) });
    s.handle({ type: 'ready', protocol: 1 });
    const t0 = Date.now();
    for (let i = 1; i <= 3000; i++) {
      src.add('close', 0, 1, 1, i * 1000, { fd: 3 });
      if (i % 300 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 250));
    const grows = posted.filter((m) => m.type === 'grow');
    const elapsed = (Date.now() - t0) / 1000;
    assert.ok(grows.length >= 1);
    assert.ok(grows.length <= Math.ceil(elapsed * 10) + 1, `${grows.length} grows in ${elapsed} s`);
    const last = grows.at(-1)!;
    assert.ok(last.type === 'grow' && last.header.eventCount === 3001);
    s.end();
    await new Promise((r) => setTimeout(r, 250));
    assert.ok(posted.some((m) => m.type === 'sessionEnded'));
    s.dispose();
  });
});

describe('sliced host work', () => {
  test('jobs waiting together get one slice each, on different turns of the event loop', async () => {
    let turn = 0, ticking = true;
    const tick = (): void => { turn++; if (ticking) setImmediate(tick); };
    setImmediate(tick);
    const seen: number[] = [];
    await Promise.all([0, 1, 2, 3].map(async () => { for (let k = 0; k < 3; k++) { await timelineTurns.next(); seen.push(turn); } }));
    ticking = false;
    assert.equal(seen.length, 12);
    assert.equal(new Set(seen).size, 12, `slices shared a turn: ${seen.join(',')}`);
  });

  test('tiles built in slices (several at once, as a grow asks for them) equal the ones built in one go', async () => {
    const d = new TimelineData(new SyntheticTrace({ events: 200_000 }));
    const dur = BigInt(d.header().durationNs);
    const top = levelCovering(dur);
    const reqs = [top, top - 2, top - 5, top - 9].map((level) => ({ level, index: 0, filter: ALL }));
    const sliced = await Promise.all(reqs.map((r) => d.tileAsync(r)));
    reqs.forEach((r, i) => {
      const whole = d.tile(r);
      assert.ok(whole.cellCount + whole.spanCount > 0, `level ${r.level} has marks`);
      assert.deepEqual(tileViews(sliced[i]), tileViews(whole), `level ${r.level}`);
    });
  });
});

describe('webview protocol', () => {
  test('parseFromWebview accepts the declared messages and rejects the rest with a clear error', () => {
    assert.equal(parseFromWebview({ type: 'selected', index: null }).type, 'selected');
    assert.equal(parseFromWebview({ type: 'openSource', file: 'a.c', line: 3 }).type, 'openSource');
    assert.throws(() => parseFromWebview('x'), /not an object/);
    assert.throws(() => parseFromWebview({ type: 'request', messageId: 1, request: { type: 'details', index: -1 } }), /non-negative integer/);
    assert.throws(() => parseFromWebview({ type: 'request', messageId: 1, request: { type: 'tile', tile: { level: 1, index: 0 } } }), /malformed filter/);
    assert.throws(() => parseFromWebview({ type: 'openSource', file: 1, line: 1 }), /file must be a string/);
  });

  test('tile buffers carry ns as BigInt64 and messages never carry a bigint', () => {
    const d = new TimelineData(pipeTrace());
    const tile = d.tile({ level: 3, index: 0, filter: ALL });
    assert.equal(tile.spanStart.byteLength, tile.spanCount * 8);
    const frame = encodeMessage({ type: 'reply', inReplyTo: 1, reply: { type: 'tile', tile } });
    assert.ok(frame.length > 8);
    assert.throws(() => encodeMessage({ x: 1n }), /bigint/);
    assert.ok(!JSON.stringify(d.header()).match(/\d\.\d+e/), 'no float-formatted ns in the header');
  });

  test('the page HTML: CSP default-src none, the nonce on every script, no inline handlers', () => {
    const html = timelineHtml({ scriptUri: 'https://x/t.js', styleUri: 'https://x/t.css', cspSource: 'https://x', nonce: 'abc123' }).replace(/&#39;/g, "'");
    assert.match(html, /default-src 'none'/);
    assert.match(html, /script-src 'nonce-abc123'/);
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval|onclick=/);
    for (const m of html.matchAll(/<script[^>]*>/g)) assert.match(m[0], /nonce="abc123"/);
  });

  test('hexDump: offset, hex and printable columns', () => {
    assert.equal(hexDump(new TextEncoder().encode('AB\n')), `0000  ${'41 42 0a'.padEnd(47)}  AB\u21b5`);
  });
});

describe('timelineData on a real recorded program', { skip: whyNoShim() }, () => {
  test('pipe-bidirectional: two processes, two flows carrying the 42 and the 84; the model\'s exact flows agree', async () => {
    const bin = compileC('demos/pipe/pipe-bidirectional.c', { out: 'tl-unit-pipe', flags: ['-I', join(ROOT, 'demos/include')] });
    const r = await recordProgram(bin, []);
    assert.equal(r.exit.code, 0, r.stderr);
    const own = new TimelineData(r.store);
    const h = own.header();
    assert.equal(h.lanes.filter((l) => l.kind === 'process').length, 2);
    const ownFlows = own.flowCount();
    assert.ok(ownFlows >= 2, `${ownFlows} flows`);
    const model = new TraceModel(r.store);
    model.update({ flush: true });
    const exact = new TimelineData(r.store, { exactFlows: () => model.flows });
    const pipeFlows = model.flows.filter((f) => f.kind === 'pipe').length;
    assert.ok(exact.flowCount() >= pipeFlows && exact.flowsFromModel);
    const top = levelCovering(BigInt(h.durationNs));
    const v = tileViews(exact.tile({ level: top, index: 0, filter: ALL }));
    const bytes = [...v.flowBytes].reduce((a, b) => a + b, 0n);
    const modelBytes = model.flows.reduce((a, f) => a + BigInt(f.bytes), 0n);
    assert.equal(bytes, modelBytes, 'every byte the model matched is on an arrow');
    r.cleanup();
  });
});
