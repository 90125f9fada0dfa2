// The timeline's data path (plain Node): turns an EventSource into lanes (processes in process-tree order, their
// threads nested), items per lane (instant marks; spans for blocking calls, lock waits, lock holds and signal
// handlers), flows (writer → reader arrows with byte counts, signal sender → handler, unlock → next lock) and answers
// the webview's tile requests with packed typed arrays aggregated per power-of-two time bucket, so a 10M-event trace
// never crosses whole: a tile is at most lanes × 1024 cells plus the spans and arrows wider than a bucket.
//
// Times: the origin and everything that leaves this module are bigint / BigInt64Array. Inside, per-lane offsets from
// the origin are integer nanoseconds held in Float64Array (as EventStore.tsNumberAt does): doubles hold integers
// exactly below 2^53 ns (104 days), no fractional arithmetic is done on them, and the conversion at the edges is exact.
import type { ConnectionInfo, EventSource, TraceEvent } from './traceEvent';
import { CLASSES, ENUMS, KINDS, MAX_KIND_ID, enumName, kindById, kindId, argIndex } from './vocabulary';
import { loopBudget } from './loopBudget';
import {
  TILE_BUCKETS, SPAN_STYLE, type EventDetails, type LaneInfo, type ObjectInfo, type PackedTile, type SearchHit,
  type TileFilter, type TileRequest, type TimelineHeader,
} from './webviewProtocol';

/** The column accessors EventStore offers; used when present so the hot loop allocates no TraceEvent. */
interface Columns {
  kindAt(i: number): number; phaseAt(i: number): number; pidAt(i: number): number; tidAt(i: number): number; tsAt(i: number): bigint;
  argAt(i: number, j: number): bigint;
  errAt?(i: number): number; resultAt?(i: number): bigint; tsNumberAt?(i: number): number; flagsAt?(i: number): number; blobAt?(i: number): Uint8Array | undefined;
}
function columnsOf(s: EventSource): Columns | null {
  const c = s as unknown as Partial<Columns>;
  return typeof c.kindAt === 'function' && typeof c.tsAt === 'function' && typeof c.argAt === 'function' &&
    typeof c.phaseAt === 'function' && typeof c.pidAt === 'function' && typeof c.tidAt === 'function' ? (c as Columns) : null;
}

const NONE = 0xffffffff;
const UTF8 = new TextDecoder();
const INSTANT = 255;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

const K = {
  procStart: kindId('proc_start'), procExit: kindId('proc_exit'), threadStart: kindId('thread_start'), threadExit: kindId('thread_exit'), pythonLocation: kindId('python_location'),
  mapping: kindId('mapping'), open: kindId('open'), mkfifo: kindId('mkfifo'), read: kindId('read'), write: kindId('write'),
  mqOpen: kindId('mq_open'), mqSend: kindId('mq_send'), mqReceive: kindId('mq_receive'), msgsnd: kindId('msgsnd'), msgrcv: kindId('msgrcv'),
  kill: kindId('kill'), tgkill: kindId('tgkill'), sigqueue: kindId('sigqueue'), signalHandler: kindId('signal_handler'),
  mutexLock: kindId('mutex_lock'), mutexUnlock: kindId('mutex_unlock'), rwlockLock: kindId('rwlock_lock'), rwlockUnlock: kindId('rwlock_unlock'),
  spinLock: kindId('spin_lock'), spinUnlock: kindId('spin_unlock'), semWait: kindId('sem_wait'), semPost: kindId('sem_post'),
  condWait: kindId('cond_wait'), condSignal: kindId('cond_signal'), flock: kindId('flock'), fcntlLock: kindId('fcntl_lock'), lockf: kindId('lockf'),
  semop: kindId('semop'), shmOpen: kindId('shm_open'), socketpair: kindId('socketpair'), accept: kindId('accept'), connect: kindId('connect'),
} as const;
/** Kinds the shim's sender records beside a thread (not that thread's own calls, so not in order with them). */
const ASYNC_KIND = new Uint8Array(MAX_KIND_ID + 1);
for (const n of ['page_fault', 'page_snapshot', 'snapshot_done', 'dropped']) ASYNC_KIND[kindId(n)] = 1;
const ARG = {
  rwOtype: argIndex('read', 'otype'), rwDev: argIndex('read', 'dev'), rwIno: argIndex('read', 'ino'), rwPeer: argIndex('read', 'peer'),
  mqDev: argIndex('mq_send', 'dev'), mqIno: argIndex('mq_send', 'ino'), mqRecvPrio: argIndex('mq_receive', 'prio'), mqSendPrio: argIndex('mq_send', 'prio'),
  msgsndId: argIndex('msgsnd', 'msqid'), msgrcvId: argIndex('msgrcv', 'msqid'),
  killPid: argIndex('kill', 'pid'), killSig: argIndex('kill', 'sig'), tgTid: argIndex('tgkill', 'tid'), tgSig: argIndex('tgkill', 'sig'),
  sqPid: argIndex('sigqueue', 'pid'), sqSig: argIndex('sigqueue', 'sig'), hSig: argIndex('signal_handler', 'sig'), hSender: argIndex('signal_handler', 'senderPid'),
  lockAddr: 0, // mutex, rwlock, spin lock, sem, cond: the first argument is the object's address
};
const OTYPE_SOCKET_UNIX = ENUMS.otype.indexOf('socket_unix');
/** Kinds whose begin→end is a wait for a lock (drawn hatched), rather than a blocking call. */
const LOCK_WAIT = new Set([K.mutexLock, K.rwlockLock, K.spinLock, K.semWait, K.condWait, K.flock, K.fcntlLock, K.lockf, K.semop]);
/** Acquire → release pairs that make a "holding" span (per thread and lock address). */
const HOLD_RELEASE = new Map([[K.mutexLock, K.mutexUnlock], [K.rwlockLock, K.rwlockUnlock], [K.spinLock, K.spinUnlock]]);
const RELEASES = new Set(HOLD_RELEASE.values());
/** Kinds whose args carry (dev, ino) of an object, by argument position. */
const DEV_INO = new Map<number, [number, number]>();
for (const k of KINDS) {
  const d = k.args.indexOf('dev'), n = k.args.indexOf('ino');
  if (d >= 0 && n >= 0) DEV_INO.set(k.id, [d, n]);
}
/** Lock kinds whose first argument is the lock's address (mutex, rwlock, spin lock, semaphore, condition variable). */
const LOCK_ADDR_NAME: (string | undefined)[] = [];
const LOCK_NAMES = ['mutex', 'rwlock', 'lock', 'sem', 'cond'];
for (const k of KINDS) if (k.cls === 'lock' && LOCK_NAMES.includes(k.args[0] ?? '')) LOCK_ADDR_NAME[k.id] = k.args[0];
const CLASS_OF = new Uint8Array(MAX_KIND_ID + 1);
for (const k of KINDS) CLASS_OF[k.id] = Math.max(0, CLASSES.indexOf(k.cls));

const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES',
  14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 24: 'EMFILE', 28: 'ENOSPC', 32: 'EPIPE', 35: 'EDEADLK', 38: 'ENOSYS',
  104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 115: 'EINPROGRESS',
};

/** A growable struct-of-arrays of one lane's items, in start order (per-thread arrival order is time order). */
class LaneItems {
  n = 0;
  start = new Float64Array(64);
  end = new Float64Array(64); // -1 while a span is open
  kind = new Uint16Array(64);
  style = new Uint8Array(64); // INSTANT or a SPAN_STYLE
  flags = new Uint8Array(64); // 1 error
  ev = new Uint32Array(64);
  endEv = new Uint32Array(64);
  obj = new Uint32Array(64); // 0 none
  /** Items whose duration exceeds LONG_NS, in end order: found by a separate scan, not the start-order search. */
  long: number[] = [];
  /** Pre-aggregated cells per power-of-two level (PYRAMID_LEVELS), kept up to date as items arrive in start order. */
  pyramid = PYRAMID_LEVELS.map((level) => new PyramidLevel(level));
  lastStart = 0;
  push(start: number, kind: number, style: number, flags: number, ev: number, obj: number): number {
    if (this.n === this.start.length) this.grow();
    const i = this.n++;
    if (start > this.lastStart) this.lastStart = start;
    this.start[i] = start; this.end[i] = style === INSTANT ? start : -1; this.kind[i] = kind; this.style[i] = style;
    this.flags[i] = flags; this.ev[i] = ev; this.endEv[i] = NONE; this.obj[i] = obj;
    if (style !== SPAN_STYLE.hold) {
      const bit = 1 << CLASS_OF[kind], fl = flags | (style === INSTANT ? 0 : 2);
      for (const p of this.pyramid) p.add(start, bit, fl, ev);
    }
    return i;
  }
  close(i: number, end: number, endEv: number, flags: number): void {
    this.end[i] = Math.max(end, this.start[i]); this.endEv[i] = endEv; this.flags[i] |= flags;
    if (this.end[i] - this.start[i] > LONG_NS) this.long.push(i);
  }
  private grow(): void {
    const m = this.start.length * 2;
    const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(m); b.set(a); return b; };
    this.start = g(this.start); this.end = g(this.end); this.kind = g(this.kind); this.style = g(this.style);
    this.flags = g(this.flags); this.ev = g(this.ev); this.endEv = g(this.endEv); this.obj = g(this.obj);
  }
  /**
   * Puts the items in start order and rebuilds the pyramid (for the lane's out-of-order items: page-fault samples
   * arrive in batches, later than the calls around them). Only instants go here, so no span bookkeeping moves.
   */
  sortByStart(): void {
    const n = this.n;
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const st = this.start;
    idx.sort((x, y) => st[x] - st[y] || x - y);
    const perm = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T): T => { const b = a.slice() as T; for (let i = 0; i < n; i++) b[i] = a[idx[i]]; return b; };
    this.start = perm(this.start); this.end = perm(this.end); this.kind = perm(this.kind); this.style = perm(this.style);
    this.flags = perm(this.flags); this.ev = perm(this.ev); this.endEv = perm(this.endEv); this.obj = perm(this.obj);
    this.pyramid = PYRAMID_LEVELS.map((level) => new PyramidLevel(level));
    for (let i = 0; i < n; i++) for (const p of this.pyramid) p.add(this.start[i], 1 << CLASS_OF[this.kind[i]], this.flags[i], this.ev[i]);
  }
  /** First item with start ≥ t. */
  lowerBound(t: number): number {
    let lo = 0, hi = this.n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (this.start[mid] < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
}
const LONG_NS = 2 ** 22; // ~4 ms
const MAX_TILE_FLOWS = 3000;

/**
 * Tiles at level ≥ PYRAMID_LEVELS[0] read these instead of the items: one entry per non-empty bucket of 2^level ns
 * with the count, a bit per kind class and the first event. Levels 3 apart, so a tile merges at most 8 entries per
 * bucket per lane whatever the trace size.
 */
const PYRAMID_LEVELS = [17, 20, 23, 26, 29, 32, 35, 38, 41];
class PyramidLevel {
  n = 0;
  bucket = new Float64Array(16);
  count = new Uint32Array(16);
  mask = new Uint16Array(16);
  flags = new Uint8Array(16);
  ev = new Uint32Array(16);
  private readonly scale: number;
  constructor(readonly level: number) { this.scale = 2 ** -level; }
  add(start: number, bit: number, flags: number, ev: number): void {
    const b = Math.floor(start * this.scale);
    const last = this.n - 1;
    // Items come in start order per lane; an out-of-order one (clock skew) joins the last bucket.
    if (last >= 0 && b <= this.bucket[last]) { this.count[last]++; this.mask[last] |= bit; this.flags[last] |= flags; return; }
    if (this.n === this.bucket.length) {
      const m = this.n * 2;
      const g = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(a: T): T => { const x = new (a.constructor as new (n: number) => T)(m); x.set(a); return x; };
      this.bucket = g(this.bucket); this.count = g(this.count); this.mask = g(this.mask); this.flags = g(this.flags); this.ev = g(this.ev);
    }
    const i = this.n++;
    this.bucket[i] = b; this.count[i] = 1; this.mask[i] = bit; this.flags[i] = flags; this.ev[i] = ev;
  }
  lowerBound(b: number): number {
    let lo = 0, hi = this.n;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (this.bucket[mid] < b) lo = mid + 1; else hi = mid; }
    return lo;
  }
}
/** The class drawn for a bucket holding several classes: the most telling one first. */
const CLASS_PRIORITY = ['lock', 'signal', 'pipe', 'socket', 'mq', 'shm', 'process', 'readiness', 'fd', 'memory', 'meta'].map((c) => CLASSES.indexOf(c)).filter((c) => c >= 0);
const CLASS_OF_MASK = new Uint8Array(1 << 16);
for (let m = 1; m < CLASS_OF_MASK.length; m++) CLASS_OF_MASK[m] = CLASS_PRIORITY.find((c) => m & (1 << c)) ?? 0;

interface Lane {
  id: number; kind: 'process' | 'thread'; pid: number; tid: number; label: string; processLane: number;
  startRel: number; endRel: number | null; items: LaneItems;
  /** Instants that arrived out of time order (sorted lazily before use, see lateItems()). */
  late: LaneItems; lateSorted: boolean;
  /** Thread lanes: open blocking spans by kind (a stack: signal handlers nest inside blocking calls). */
  stack: number[];
  /** Open lock holds by lock object id. */
  holds: Map<number, number>;
}

interface ObjectRec { id: number; type: string; label: string; key: string }

/** A write (or send) waiting to be matched with reads (receives) of the same object. */
/** Writes (or sends) or reads (receives) of one object, as columns: no object per operation for the GC to trace. */
class StreamOps {
  lane: number[] = []; rel: number[] = []; ev: number[] = []; bytes: number[] = []; prio: number[] = [];
  get n(): number { return this.lane.length; }
  push(lane: number, rel: number, ev: number, bytes: number, prio: number): void {
    this.lane.push(lane); this.rel.push(rel); this.ev.push(ev); this.bytes.push(bytes); this.prio.push(prio);
  }
  /** Indices in time order (stable). */
  order(): Uint32Array {
    const idx = new Uint32Array(this.n);
    const r = this.rel;
    let sorted = true;
    for (let i = 0; i < idx.length; i++) { idx[i] = i; if (i > 0 && r[i] < r[i - 1]) sorted = false; }
    // A live recording appends each object's operations in time order: skip the comparison sort (tens of ms per
    // 100k operations, in one block) when they already are.
    return sorted ? idx : idx.sort((a, b) => r[a] - r[b] || a - b);
  }
}

/** Flows of one key (object) or the direct ones (signals, lock hand-offs), as compact columns. */
class FlowColumns {
  n = 0;
  from = new Uint16Array(16); to = new Uint16Array(16); fromRel = new Float64Array(16); toRel = new Float64Array(16);
  bytes = new Float64Array(16); ev = new Uint32Array(16); toEv = new Uint32Array(16);
  push(from: number, to: number, fromRel: number, toRel: number, bytes: number, ev: number, toEv: number): void {
    if (this.n === this.from.length) {
      const m = this.n * 2;
      const g = <T extends Float64Array | Uint32Array | Uint16Array>(a: T): T => { const x = new (a.constructor as new (n: number) => T)(m); x.set(a); return x; };
      this.from = g(this.from); this.to = g(this.to); this.fromRel = g(this.fromRel); this.toRel = g(this.toRel);
      this.bytes = g(this.bytes); this.ev = g(this.ev); this.toEv = g(this.toEv);
    }
    const k = this.n++;
    this.from[k] = from; this.to[k] = to; this.fromRel[k] = fromRel; this.toRel[k] = toRel; this.bytes[k] = bytes; this.ev[k] = ev; this.toEv[k] = toEv;
  }
}

/** Width of the flow index buckets: the finest pyramid level, so the pyramid's first level is one pass over them. */
const FLOW_BUCKET_LEVEL = 17;

/**
 * All flows as one column set with two bucket indexes (CSR: flows whose from / to time falls in each 2^17 ns bucket),
 * built without a comparison sort, plus the flow pyramid. Rebuilt in slices (a generator) so a host never blocks.
 */
interface FlowSet {
  n: number; from: Uint16Array; to: Uint16Array; fromRel: Float64Array; toRel: Float64Array; bytes: Float64Array;
  ev: Uint32Array; toEv: Uint32Array;
  buckets: number; fromStart: Uint32Array; fromIdx: Uint32Array; toStart: Uint32Array; toIdx: Uint32Array;
  /** Per PYRAMID_LEVELS level: flows merged per (from bucket, from lane, to lane), in bucket order. */
  pyramid: FlowLevel[];
}
interface FlowLevel {
  level: number; n: number; bucket: Float64Array; from: Uint16Array; to: Uint16Array; count: Uint32Array; bytes: Float64Array;
  fromRel: Float64Array; toRel: Float64Array; ev: Uint32Array; toEv: Uint32Array;
}
const SLICE = 20_000; // loop iterations between yields (~1–5 ms)
/** A host's sliced work (feed, tile builds, flow rebuilds) runs at most this long per turn of the event loop (less when
 *  the turn's shared loopBudget is spent). */
export const TURN_SLICE_MS = 8;

/**
 * Sliced work of every timeline in this process takes turns: one slice per turn of the event loop, in FIFO order.
 * Jobs that each yielded with setImmediate after 8 ms all ran in the same check phase (a grow's five tile requests,
 * a flow step, the feed), which added up to 60–120 ms blocks of the extension host.
 */
class TurnQueue {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;
  /** When the slice now running should stop (performance.now() time). */
  deadline = 0;
  /** Resolves when it is the caller's turn; work until `deadline`, then call again. */
  next(): Promise<void> { return new Promise((r) => { this.waiting.push(r); this.schedule(); }); }
  /** Milliseconds left in the current slice. */
  get left(): number { return Math.max(0, this.deadline - performance.now()); }
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }
  private run(): void {
    this.scheduled = false;
    const r = this.waiting.shift();
    if (!r) return;
    this.deadline = performance.now() + loopBudget.slice(TURN_SLICE_MS);
    r(); // its work runs in the microtasks after this callback, before the next turn
    if (this.waiting.length) this.schedule();
  }
}
export const timelineTurns = new TurnQueue();
/** While a trace is live, the flow index is rebuilt at most this often. */
const LIVE_FLOW_REBUILD_MS = 1000;

function* buildFlowSet(parts: FlowColumns[], maxRel: number): Generator<void, FlowSet> {
  let n = 0;
  for (const p of parts) n += p.n;
  const f = {
    n, from: new Uint16Array(n), to: new Uint16Array(n), fromRel: new Float64Array(n), toRel: new Float64Array(n), bytes: new Float64Array(n),
    ev: new Uint32Array(n), toEv: new Uint32Array(n),
  };
  let at = 0;
  for (const p of parts) {
    f.from.set(p.from.subarray(0, p.n), at); f.to.set(p.to.subarray(0, p.n), at); f.fromRel.set(p.fromRel.subarray(0, p.n), at);
    f.toRel.set(p.toRel.subarray(0, p.n), at); f.bytes.set(p.bytes.subarray(0, p.n), at); f.ev.set(p.ev.subarray(0, p.n), at); f.toEv.set(p.toEv.subarray(0, p.n), at);
    at += p.n;
  }
  yield;
  const scale = 2 ** -FLOW_BUCKET_LEVEL;
  const buckets = Math.floor(maxRel * scale) + 2;
  const csr = function* (t: Float64Array): Generator<void, [Uint32Array, Uint32Array]> {
    const start = new Uint32Array(buckets + 1);
    for (let k = 0; k < n; k++) { start[Math.min(buckets - 1, Math.floor(t[k] * scale)) + 1]++; if (k % SLICE === SLICE - 1) yield; }
    for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
    const fill = start.slice(0, buckets);
    const idx = new Uint32Array(n);
    for (let k = 0; k < n; k++) { idx[fill[Math.min(buckets - 1, Math.floor(t[k] * scale))]++] = k; if (k % SLICE === SLICE - 1) yield; }
    return [start, idx];
  };
  const [fromStart, fromIdx] = yield* csr(f.fromRel);
  const [toStart, toIdx] = yield* csr(f.toRel);
  const base = { ...f, buckets, fromStart, fromIdx, toStart, toIdx };
  // Pyramid: the first level groups each from-bucket's flows per lane pair; each next level merges the previous one.
  const pyramid: FlowLevel[] = [];
  {
    const out = new FlowLevelBuilder(PYRAMID_LEVELS[0]);
    let done = 0;
    for (let b = 0; b < buckets; b++) {
      const group = new Map<number, number>();
      for (let k = fromStart[b]; k < fromStart[b + 1]; k++) {
        const j = fromIdx[k];
        const key = f.from[j] * 65536 + f.to[j];
        const g = group.get(key);
        if (g !== undefined) out.merge(g, 1, f.bytes[j], f.fromRel[j], f.toRel[j]);
        else group.set(key, out.push(b, f.from[j], f.to[j], 1, f.bytes[j], f.fromRel[j], f.toRel[j], f.ev[j], f.toEv[j]));
      }
      done += fromStart[b + 1] - fromStart[b] + 1;
      if (done > SLICE) { done = 0; yield; }
    }
    pyramid.push(out.finish());
  }
  for (let p = 1; p < PYRAMID_LEVELS.length; p++) {
    const prev = pyramid[p - 1];
    const out = new FlowLevelBuilder(PYRAMID_LEVELS[p]);
    const shift = 2 ** (PYRAMID_LEVELS[p] - prev.level);
    let current = -1;
    let group = new Map<number, number>();
    for (let k = 0; k < prev.n; k++) {
      const b = Math.floor(prev.bucket[k] / shift);
      if (b !== current) { current = b; group = new Map(); }
      const key = prev.from[k] * 65536 + prev.to[k];
      const g = group.get(key);
      if (g !== undefined) out.merge(g, prev.count[k], prev.bytes[k], prev.fromRel[k], prev.toRel[k]);
      else group.set(key, out.push(b, prev.from[k], prev.to[k], prev.count[k], prev.bytes[k], prev.fromRel[k], prev.toRel[k], prev.ev[k], prev.toEv[k]));
      if (k % SLICE === SLICE - 1) yield;
    }
    pyramid.push(out.finish());
  }
  return { ...base, pyramid };
}

/**
 * One pyramid level being built, straight into typed arrays (grown by doubling): copying number[] columns of
 * hundreds of thousands of entries into typed arrays at the end was one long block of a live rebuild.
 */
class FlowLevelBuilder {
  n = 0;
  bucket = new Float64Array(64); from = new Uint16Array(64); to = new Uint16Array(64); count = new Uint32Array(64); bytes = new Float64Array(64);
  fromRel = new Float64Array(64); toRel = new Float64Array(64); ev = new Uint32Array(64); toEv = new Uint32Array(64);
  constructor(readonly level: number) {}
  push(b: number, from: number, to: number, count: number, bytes: number, fromRel: number, toRel: number, ev: number, toEv: number): number {
    if (this.n === this.bucket.length) {
      const m = this.n * 2;
      const g = <T extends Float64Array | Uint32Array | Uint16Array>(a: T): T => { const x = new (a.constructor as new (n: number) => T)(m); x.set(a); return x; };
      this.bucket = g(this.bucket); this.from = g(this.from); this.to = g(this.to); this.count = g(this.count); this.bytes = g(this.bytes);
      this.fromRel = g(this.fromRel); this.toRel = g(this.toRel); this.ev = g(this.ev); this.toEv = g(this.toEv);
    }
    const k = this.n++;
    this.bucket[k] = b; this.from[k] = from; this.to[k] = to; this.count[k] = count; this.bytes[k] = bytes;
    this.fromRel[k] = fromRel * count; this.toRel[k] = toRel * count; this.ev[k] = ev; this.toEv[k] = toEv;
    return k;
  }
  merge(at: number, count: number, bytes: number, fromRel: number, toRel: number): void {
    // weighted sums here, means in finish()
    this.count[at] += count; this.bytes[at] += bytes; this.fromRel[at] += fromRel * count; this.toRel[at] += toRel * count;
  }
  finish(): FlowLevel {
    const n = this.n;
    for (let i = 0; i < n; i++) { this.fromRel[i] = Math.round(this.fromRel[i] / this.count[i]); this.toRel[i] = Math.round(this.toRel[i] / this.count[i]); }
    return {
      level: this.level, n, bucket: this.bucket.subarray(0, n), from: this.from.subarray(0, n), to: this.to.subarray(0, n),
      count: this.count.subarray(0, n), bytes: this.bytes.subarray(0, n), fromRel: this.fromRel.subarray(0, n),
      toRel: this.toRel.subarray(0, n), ev: this.ev.subarray(0, n), toEv: this.toEv.subarray(0, n),
    };
  }
}

/** A flow as the trace model (src/common/model) matches it exactly: endpoints are events. */
export interface ExactFlow {
  readonly from: { readonly index: number; readonly tid: number; readonly ts: bigint };
  readonly to: { readonly index: number; readonly tid: number; readonly ts: bigint };
  readonly bytes: number;
}

export interface TimelineDataOptions {
  title?: string;
  live?: boolean;
  /**
   * The model's exact flows (TraceModel.flows), when the host has a complete model: they replace this module's own
   * matching, which stays the fallback while recording (a live model holds back its newest events).
   */
  exactFlows?: () => { readonly length: number; at(i: number): ExactFlow | undefined } | undefined;
  /** Consume nothing in the constructor: the host calls update() in slices (see TimelineSession). */
  deferred?: boolean;
}

export class TimelineData {
  readonly source: EventSource;
  private readonly cols: Columns | null;
  private consumed = 0;
  private origin: bigint | null = null;
  private maxRel = 0;
  private generation = 0;
  private live: boolean;
  private title: string;
  private readonly lanes: Lane[] = [];
  private readonly processLane = new Map<number, number>();
  private readonly threadLane = new Map<number, number>();
  private readonly ppid = new Map<number, number>();
  private readonly exe = new Map<number, string>();
  private readonly objects: ObjectRec[] = [{ id: 0, type: 'none', label: '', key: '' }];
  private readonly objectByKey = new Map<string, number>();
  private readonly objectByDevIno = new Map<number, number>();
  private originNumber: number | null = null;
  private readonly pathOfDevIno = new Map<string, string>();
  // Flow inputs, matched lazily (ensureFlows) because records of different processes arrive out of time order.
  private readonly writes = new Map<string, StreamOps>();
  private readonly reads = new Map<string, StreamOps>();
  private readonly messageKeys = new Set<string>();
  private readonly directFlows = new FlowColumns();
  private readonly keyFlows = new Map<string, FlowColumns>();
  private readonly dirtyKeys = new Set<string>();
  private flowJob: Generator<void, FlowSet> | null = null;
  private flowJobStarted = -Infinity;
  private readonly pendingSignals = new Map<string, { lane: number; rel: number; ev: number }[]>();
  /** Last release (unlock, post, signal) per lock object id: the hand-off source for the next contended acquire. */
  private readonly lastRelease = new Map<number, { lane: number; rel: number; ev: number }>();
  private readonly lockObjects = new Map<number, Map<bigint, number>>();
  /** Thread lane id → indices of its python_location events (and proc_starts after one), in order. */
  private readonly pyMarks = new Map<number, number[]>();
  private flowsDirty = true;
  private readonly exactFlows: TimelineDataOptions['exactFlows'];
  /** Whether the last flow index came from the model (for tests and the details pane). */
  flowsFromModel = false;
  private flows: FlowSet | null = null;

  constructor(source: EventSource, opts: TimelineDataOptions = {}) {
    this.source = source;
    this.cols = columnsOf(source);
    this.live = opts.live ?? false;
    this.exactFlows = opts.exactFlows;
    this.title = opts.title ?? 'IPC Scope trace';
    if (!opts.deferred) this.update();
  }

  private originScan: bigint | null = null;
  /**
   * For hosts that load in slices (deferred): the origin must be the earliest event of the whole trace, and a
   * recorded file's events are not in time order across processes, so the host scans them all first, in slices.
   */
  scanOrigin(from: number, until: number): void {
    if (this.origin !== null) return;
    const m = this.findOrigin(from, Math.min(until, this.source.count));
    if (from < until && (this.originScan === null || m < this.originScan)) this.originScan = m;
  }
  /** Fixes the origin found by scanOrigin (before the first update). */
  fixOrigin(): void {
    if (this.origin !== null || this.originScan === null) return;
    this.origin = this.originScan;
    if (this.origin < BigInt(MAX_SAFE)) this.originNumber = Number(this.origin);
  }

  get eventCount(): number { return this.consumed; }
  /** Bumped by every change; tiles carry the generation they were built at. */
  get currentGeneration(): number { return this.generation; }
  get laneCount(): number { return this.lanes.length; }
  get objectCount(): number { return this.objects.length - 1; }
  setLive(live: boolean): void {
    if (this.live === live) return;
    this.live = live; this.generation++;
    if (!live && this.exactFlows) this.flowsDirty = true; // the finished model's exact flows replace ours
  }

  private notedConns: readonly ConnectionInfo[] | null = null;
  private notedConnCount = 0;

  /** Consumes events appended since the last call; returns how many were new. `budget` limits the work per call. */
  update(budget = Infinity): number {
    const total = this.source.count;
    const until = Math.min(total, this.consumed + budget);
    if (until <= this.consumed) return 0;
    if (this.origin === null) {
      this.origin = this.findOrigin(this.consumed, until);
      if (this.origin < BigInt(MAX_SAFE)) this.originNumber = Number(this.origin);
    }
    // Connections only ever join the list: note the new ones (a label per process on every call was a string built
    // per connection per feed chunk). A source that hands out a new list each time is noted in full.
    const conns = this.source.connections();
    if (conns !== this.notedConns || conns.length !== this.notedConnCount) {
      for (let k = conns === this.notedConns ? this.notedConnCount : 0; k < conns.length; k++) this.noteConnection(conns[k]);
      this.notedConns = conns;
      this.notedConnCount = conns.length;
    }
    const from = this.consumed;
    for (let i = from; i < until; i++) this.consume(i);
    this.consumed = until;
    this.generation++;
    return until - from;
  }

  private findOrigin(from: number, until: number): bigint {
    // The first event, not the processes' start times: a HELLO's startNs can precede the first traced call by
    // the whole exec and dynamic-linking time, which would leave the view mostly empty.
    let min: bigint | null = null;
    for (let i = from; i < until; i++) { const t = this.tsOf(i); if (min === null || t < min) min = t; }
    return min ?? 0n;
  }

  private tsOf(i: number): bigint { return this.cols ? this.cols.tsAt(i) : this.source.get(i).ts; }

  private noteConnection(c: ConnectionInfo): void {
    if (!this.ppid.has(c.pid)) this.ppid.set(c.pid, c.ppid);
    if (c.exe) this.exe.set(c.pid, c.exe);
    const lane = this.processLane.get(c.pid);
    if (lane !== undefined) this.lanes[lane].label = this.processLabel(c.pid);
  }

  private processLabel(pid: number): string {
    const exe = this.exe.get(pid);
    return `${exe ? exe.split('/').pop() : 'process'} ${pid}`;
  }

  private laneFor(pid: number, tid: number, rel: number): number {
    let t = this.threadLane.get(tid);
    if (t !== undefined && this.lanes[t].pid === pid) return t;
    let p = this.processLane.get(pid);
    if (p === undefined) {
      p = this.lanes.length;
      this.lanes.push({ id: p, kind: 'process', pid, tid: pid, label: this.processLabel(pid), processLane: p, startRel: rel, endRel: null,
        items: new LaneItems(), late: new LaneItems(), lateSorted: true, stack: [], holds: new Map() });
      this.processLane.set(pid, p);
    }
    t = this.lanes.length;
    this.lanes.push({ id: t, kind: 'thread', pid, tid, label: tid === pid ? `main ${tid}` : `thread ${tid}`, processLane: p, startRel: rel,
      endRel: null, items: new LaneItems(), late: new LaneItems(), lateSorted: true, stack: [], holds: new Map() });
    this.threadLane.set(tid, t);
    return t;
  }

  private objectId(key: string, type: string, label: string): number {
    let id = this.objectByKey.get(key);
    if (id === undefined) {
      id = this.objects.length;
      this.objects.push({ id, type, label, key });
      this.objectByKey.set(key, id);
    }
    return id;
  }

  // One reusable argument reader per event (no closure allocated per event in the hot loop).
  private cur = -1;
  private curEvent: TraceEvent | null = null;
  private readonly arg = (j: number): bigint => (this.curEvent ? this.curEvent.args[j] : this.cols!.argAt(this.cur, j));
  private readonly resultOf = (): bigint => {
    if (this.curEvent) return this.curEvent.result;
    return this.cols!.resultAt ? this.cols!.resultAt(this.cur) : this.source.get(this.cur).result;
  };

  private consume(i: number): void {
    const c = this.cols;
    const e: TraceEvent | null = c ? null : this.source.get(i);
    this.cur = i; this.curEvent = e;
    const kind = c ? c.kindAt(i) : e!.kind;
    const phase = c ? c.phaseAt(i) : e!.phase;
    const pid = c ? c.pidAt(i) : e!.pid;
    const tid = c ? c.tidAt(i) : e!.tid;
    const arg = this.arg, resultOf = this.resultOf;
    const err = c ? (c.errAt ? c.errAt(i) : this.source.get(i).err) : e!.err;
    // Doubles of ns below 2^53 subtract exactly; tsNumberAt (EventStore) avoids a bigint per event.
    let rel: number;
    if (c?.tsNumberAt && this.originNumber !== null) rel = c.tsNumberAt(i) - this.originNumber;
    else { const ts = c ? c.tsAt(i) : e!.ts; rel = this.origin !== null && ts > this.origin ? Number(ts - this.origin) : 0; }
    if (rel < 0) rel = 0;
    if (rel > MAX_SAFE) throw new Error(`event ${i}: timestamp is more than 2^53 ns after the trace start; the trace is not one session`);
    if (rel > this.maxRel) this.maxRel = rel;
    const laneId = this.laneFor(pid, tid, rel);
    const lane = this.lanes[laneId];
    const proc = this.lanes[lane.processLane];
    const items = lane.items;
    const flags = err !== 0 ? 1 : 0;

    if (kind === K.procStart) {
      const ppid = Number(arg(0));
      if (ppid > 0 && !this.ppid.has(pid)) this.ppid.set(pid, ppid);
      if (proc.endRel !== null) proc.endRel = null; // exec: same pid, new image
      // A successful exec has no end event (events.md): the new image's first event ends the old image's calls.
      this.closeOpenSpans(pid, rel, i);
      const blob = c ? c.blobAt?.(i) : e!.blob;
      if (blob) { const exe = UTF8.decode(blob).split('\0')[0]; if (exe) { this.exe.set(pid, exe); proc.label = this.processLabel(pid); } }
    } else if (kind === K.procExit) {
      proc.endRel = rel; lane.endRel = rel;
      this.closeOpenSpans(pid, rel, i); // calls still blocked in other threads end with the process
    } else if (kind === K.threadExit) {
      lane.endRel = rel;
    }
    // python_location, and a new image (exec) in a thread that had one: it is not that Python code any more.
    if (kind === K.pythonLocation || (kind === K.procStart && this.pyMarks.has(laneId))) {
      const marks = this.pyMarks.get(laneId);
      if (marks) marks.push(i); else this.pyMarks.set(laneId, [i]);
    }

    // Object identity: (dev, ino) where the kind has them; lock address per process for pthread objects.
    let obj = 0;
    const di = DEV_INO.get(kind);
    if (di) {
      const dev = arg(di[0]), ino = arg(di[1]);
      if (ino !== 0n) {
        // Numeric key when it fits (the usual case): no string per event.
        const small = dev < 0x100000n && ino < 0x100000000n;
        const nk = small ? Number(dev) * 0x100000000 + Number(ino) : -1;
        const known = small ? this.objectByDevIno.get(nk) : undefined;
        if (known !== undefined) obj = known;
        else {
          const key = `${dev}:${ino}`;
          const otype = kind === K.read || kind === K.write ? enumName('otype', Number(arg(ARG.rwOtype))) : kindById(kind)!.cls;
          obj = this.objectId(key, otype, this.pathOfDevIno.get(key) ?? `${otype}:[${ino}]`);
          if (small) this.objectByDevIno.set(nk, obj);
        }
        const key = this.objects[obj].key;
        if ((kind === K.open || kind === K.mqOpen || kind === K.shmOpen) && err === 0) {
          const blob = c ? c.blobAt?.(i) ?? this.source.get(i).blob : e!.blob;
          if (blob && blob.length) {
            const path = UTF8.decode(blob);
            this.pathOfDevIno.set(key, path);
            this.objects[obj].label = path;
          }
        }
      }
    } else if (LOCK_ADDR_NAME[kind]) {
      const a = LOCK_ADDR_NAME[kind]!;
      const addr = arg(0);
      const ck = pid * 8 + LOCK_NAMES.indexOf(a);
      let m = this.lockObjects.get(ck);
      if (!m) this.lockObjects.set(ck, (m = new Map()));
      const known = m.get(addr);
      if (known !== undefined) obj = known;
      else { obj = this.objectId(`${a}:${pid}:${addr}`, a === 'lock' ? 'spinlock' : a, `${a} 0x${addr.toString(16)} (pid ${pid})`); m.set(addr, obj); }
    }

    if (phase === 1) {
      const style = kind === K.signalHandler ? SPAN_STYLE.handler : LOCK_WAIT.has(kind) ? SPAN_STYLE.wait : SPAN_STYLE.blocking;
      const it = items.push(rel, kind, style, flags, i, obj);
      lane.stack.push(it);
      if (kind === K.signalHandler) this.matchSignal(pid, tid, Number(arg(ARG.hSig)), Number(arg(ARG.hSender)), laneId, rel, i);
      return;
    }
    if (phase === 2) {
      let it = -1;
      for (let s = lane.stack.length - 1; s >= 0; s--) if (items.kind[lane.stack[s]] === kind) { it = lane.stack[s]; lane.stack.splice(s, 1); break; }
      if (it < 0) it = items.push(rel, kind, INSTANT, flags, i, obj); // its begin predates the trace
      else items.close(it, rel, i, flags);
      if (err === 0) this.afterCall(kind, i, arg, resultOf, laneId, lane, rel, obj, it, true);
      return;
    }
    if ((ASYNC_KIND[kind] || rel < items.lastStart) && !HOLD_RELEASE.has(kind)) {
      // Out of time order on its thread, or recorded beside the thread rather than by its own call (sampled page
      // faults, snapshots, drop counts: the shim's sender may send them before the thread's earlier calls, and a
      // later call's begin would then land behind them in \`items\`, which must stay in start order): kept apart,
      // sorted when read.
      lane.late.push(rel, kind, INSTANT, flags, i, obj);
      lane.lateSorted = false;
      if (err === 0 && !RELEASES.has(kind)) this.afterCall(kind, i, arg, resultOf, laneId, lane, rel, obj, -1, false);
      return;
    }
    const it = items.push(rel, kind, INSTANT, flags, i, obj);
    if (err === 0) this.afterCall(kind, i, arg, resultOf, laneId, lane, rel, obj, it, false);
  }

  /** The lane's item lists: in-order items, then the late ones (sorted first if new ones came). */
  private itemLists(lane: Lane): LaneItems[] {
    if (lane.late.n === 0) return [lane.items];
    if (!lane.lateSorted) { lane.late.sortByStart(); lane.lateSorted = true; }
    return [lane.items, lane.late];
  }

  /** Ends every span still open on the threads of `pid` (exec replaced the image, or the process exited). */
  private closeOpenSpans(pid: number, rel: number, ev: number): void {
    for (const l of this.lanes) {
      if (l.kind !== 'thread' || l.pid !== pid) continue;
      for (const it of l.stack) if (l.items.end[it] < 0) l.items.close(it, rel, ev, 0);
      l.stack.length = 0;
      for (const h of l.holds.values()) if (l.items.end[h] < 0) l.items.close(h, rel, ev, 0);
      l.holds.clear();
    }
  }

  /** Flow inputs and lock holds, for calls that succeeded. */
  private afterCall(kind: number, i: number, arg: (j: number) => bigint, resultOf: () => bigint, laneId: number, lane: Lane,
    rel: number, obj: number, item: number, contended: boolean): void {
    if (kind === K.write || kind === K.read) {
      const bytes = Number(resultOf());
      if (!(bytes > 0)) return;
      const ino = arg(ARG.rwIno), dev = arg(ARG.rwDev);
      if (ino === 0n) return;
      const isUnixSocket = Number(arg(ARG.rwOtype)) === OTYPE_SOCKET_UNIX;
      const peer = arg(ARG.rwPeer);
      // A socket write goes to its peer's inode; a pipe or FIFO write to the object itself.
      const key = kind === K.write && isUnixSocket && peer !== 0n ? `s:${peer}` : isUnixSocket ? `s:${ino}` : obj ? this.objects[obj].key : `${dev}:${ino}`;
      this.pushOp(kind === K.write ? this.writes : this.reads, key, laneId, kind === K.write ? lane.items.start[item] : rel, lane.items.ev[item], bytes, 0);
    } else if (kind === K.mqSend || kind === K.mqReceive) {
      const key = `mq:${arg(ARG.mqDev)}:${arg(ARG.mqIno)}`;
      this.messageKeys.add(key);
      const prio = Number(arg(kind === K.mqSend ? ARG.mqSendPrio : ARG.mqRecvPrio));
      this.pushOp(kind === K.mqSend ? this.writes : this.reads, key,
        laneId, kind === K.mqSend ? lane.items.start[item] : rel, lane.items.ev[item], kind === K.mqSend ? Number(arg(1)) : Number(resultOf()), prio);
    } else if (kind === K.msgsnd || kind === K.msgrcv) {
      const key = `msg:${arg(kind === K.msgsnd ? ARG.msgsndId : ARG.msgrcvId)}`;
      this.messageKeys.add(key);
      this.pushOp(kind === K.msgsnd ? this.writes : this.reads, key,
        laneId, kind === K.msgsnd ? lane.items.start[item] : rel, lane.items.ev[item], kind === K.msgsnd ? Number(arg(1)) : Number(resultOf()), 0);
    } else if (kind === K.kill || kind === K.sigqueue || kind === K.tgkill) {
      const target = Number(BigInt.asIntN(64, arg(kind === K.tgkill ? ARG.tgTid : kind === K.kill ? ARG.killPid : ARG.sqPid)));
      const sig = Number(arg(kind === K.tgkill ? ARG.tgSig : kind === K.kill ? ARG.killSig : ARG.sqSig));
      if (target > 0 && sig > 0) {
        const key = `${target}:${sig}`;
        const list = this.pendingSignals.get(key) ?? [];
        list.push({ lane: laneId, rel, ev: i });
        this.pendingSignals.set(key, list);
      }
    } else if (HOLD_RELEASE.has(kind)) {
      // lock objects are per (process, address), so the object id keys holds and hand-offs (no strings per event)
      const rel0 = this.lastRelease.get(obj);
      // Lock hand-off: the last release by another thread while this one was waiting for it.
      if (contended && rel0 && rel0.lane !== laneId && rel0.rel >= lane.items.start[item] && rel0.rel <= rel)
        { this.directFlows.push(rel0.lane, laneId, rel0.rel, rel, 0, rel0.ev, i); this.flowsDirty = true; }
      const h = lane.items.push(rel, kind, SPAN_STYLE.hold, 0, i, obj);
      lane.holds.set(obj, h);
    } else if (RELEASES.has(kind)) {
      const h = lane.holds.get(obj);
      if (h !== undefined) { lane.items.close(h, rel, i, 0); lane.holds.delete(obj); }
      this.lastRelease.set(obj, { lane: laneId, rel, ev: i });
    } else if (kind === K.semPost || kind === K.condSignal) {
      this.lastRelease.set(obj, { lane: laneId, rel, ev: i });
    } else if ((kind === K.semWait || kind === K.condWait) && contended) {
      const r = this.lastRelease.get(obj);
      if (r && r.lane !== laneId && r.rel >= lane.items.start[item] && r.rel <= rel)
        { this.directFlows.push(r.lane, laneId, r.rel, rel, 0, r.ev, i); this.flowsDirty = true; }
    }
  }

  private pushOp(map: Map<string, StreamOps>, key: string, lane: number, rel: number, ev: number, bytes: number, prio: number): void {
    let list = map.get(key);
    if (!list) { list = new StreamOps(); map.set(key, list); }
    list.push(lane, rel, ev, bytes, prio);
    this.dirtyKeys.add(key);
    this.flowsDirty = true;
  }

  private matchSignal(pid: number, tid: number, sig: number, sender: number, laneId: number, rel: number, ev: number): void {
    for (const key of [`${tid}:${sig}`, `${pid}:${sig}`]) {
      const list = this.pendingSignals.get(key);
      if (!list?.length) continue;
      let k = list.findIndex((s) => this.lanes[s.lane].pid === sender);
      if (k < 0) k = 0;
      const s = list.splice(k, 1)[0];
      this.directFlows.push(s.lane, laneId, s.rel, rel, 0, s.ev, ev);
      this.flowsDirty = true;
      return;
    }
  }

  /** Matches writes to reads of one object: bytes in stream order (writes by start time, reads by end time); messages one to one. */
  private *matchKey(key: string): Generator<void, FlowColumns> {
    const out = new FlowColumns();
    const ws = this.writes.get(key), rs = this.reads.get(key);
    if (!ws || !rs) return out;
    const wo = ws.order();
    yield;
    const ro = rs.order();
    yield;
    // one object can hold most of a trace's operations: yield every SLICE reads so a rebuild never blocks the host
    let sliced = 0;
    if (this.messageKeys.has(key)) {
      // One message per receive: the oldest queued message of the received priority sent before the receive.
      const used = new Uint8Array(wo.length);
      let firstFree = 0;
      for (const r of ro) {
        if (++sliced % SLICE === 0) yield;
        while (firstFree < wo.length && used[firstFree]) firstFree++;
        let k = -1;
        for (let j = firstFree; j < wo.length && ws.rel[wo[j]] <= rs.rel[r]; j++) if (!used[j] && ws.prio[wo[j]] === rs.prio[r]) { k = j; break; }
        if (k < 0) for (let j = firstFree; j < wo.length && ws.rel[wo[j]] <= rs.rel[r]; j++) if (!used[j]) { k = j; break; }
        if (k < 0) continue;
        used[k] = 1;
        const w = wo[k];
        out.push(ws.lane[w], rs.lane[r], ws.rel[w], rs.rel[r], ws.bytes[w], ws.ev[w], rs.ev[r]);
      }
      return out;
    }
    let wi = 0, left = wo.length ? ws.bytes[wo[0]] : 0;
    for (const r of ro) {
      if (++sliced % SLICE === 0) yield;
      let need = rs.bytes[r];
      while (need > 0 && wi < wo.length) {
        const w = wo[wi];
        const take = Math.min(need, left);
        out.push(ws.lane[w], rs.lane[r], ws.rel[w], rs.rel[r], take, ws.ev[w], rs.ev[r]);
        need -= take; left -= take;
        if (left === 0) { wi++; left = wi < wo.length ? ws.bytes[wo[wi]] : 0; }
      }
    }
    return out;
  }

  /** Re-matches the objects that got new writes or reads, then rebuilds the flow index; yields between slices. */
  private *rebuildFlows(): Generator<void, FlowSet> {
    const exact = this.live ? undefined : this.exactFlows?.();
    if (exact) {
      this.flowsDirty = false;
      this.flowsFromModel = true;
      const cols = new FlowColumns();
      const o = this.origin ?? 0n;
      const relOf = (ts: bigint) => (ts > o ? Number(ts - o) : 0);
      for (let k = 0; k < exact.length; k++) {
        const f = exact.at(k)!; // an array or the model's FlowTable (rows made on demand)
        const a = this.threadLane.get(f.from.tid), b = this.threadLane.get(f.to.tid);
        if (a === undefined || b === undefined) continue;
        cols.push(a, b, relOf(f.from.ts), relOf(f.to.ts), f.bytes, f.from.index, f.to.index);
        if (k % SLICE === SLICE - 1) yield;
      }
      return yield* buildFlowSet([cols], this.maxRel);
    }
    this.flowsFromModel = false;
    const keys = [...this.dirtyKeys];
    this.dirtyKeys.clear();
    this.flowsDirty = false;
    for (const key of keys) { this.keyFlows.set(key, yield* this.matchKey(key)); yield; }
    return yield* buildFlowSet([this.directFlows, ...this.keyFlows.values()], this.maxRel);
  }

  /** Advances the flow rebuild for at most `ms` milliseconds; true when the index is current. */
  private stepFlows(ms: number): boolean {
    if (!this.flowJob) {
      if (this.flows && !this.flowsDirty) return true;
      this.flowJob = this.rebuildFlows();
      this.flowJobStarted = performance.now();
    }
    const until = performance.now() + ms;
    for (;;) {
      const r = this.flowJob.next();
      if (r.done) { this.flows = r.value; this.flowJob = null; return !this.flowsDirty; }
      if (performance.now() >= until) return false;
    }
  }

  /** The flow index, brought up to date synchronously (tests, CLI); hosts use tileAsync, which slices the work. */
  private ensureFlows(): FlowSet {
    while (!this.stepFlows(Infinity)) { /* new data arrived meanwhile: go again */ }
    return this.flows!;
  }

  /** The last complete flow index (possibly a step behind a live trace), without doing work. */
  private currentFlows(): FlowSet {
    return this.flows ?? this.ensureFlows();
  }

  /** Number of flows (matched arrows) so far. */
  flowCount(): number { return this.ensureFlows().n; }
  /** Whether a flow rebuild is pending or under way (hosts drive it with tileAsync / stepFlows). */
  get flowsPending(): boolean { return this.flowsDirty || this.flowJob !== null; }

  /** Lanes in display order: processes in process-tree order (children after their parent by start), threads nested. */
  orderedLanes(): LaneInfo[] {
    const procs = [...this.processLane.entries()].map(([pid, id]) => ({ pid, id }));
    const known = new Set(procs.map((p) => p.pid));
    const children = new Map<number, { pid: number; id: number }[]>();
    const roots: { pid: number; id: number }[] = [];
    for (const p of procs) {
      const pp = this.ppid.get(p.pid);
      if (pp !== undefined && known.has(pp) && pp !== p.pid) { const l = children.get(pp) ?? []; l.push(p); children.set(pp, l); } else roots.push(p);
    }
    const byStart = (a: { id: number }, b: { id: number }) => this.lanes[a.id].startRel - this.lanes[b.id].startRel || a.id - b.id;
    const out: LaneInfo[] = [];
    const o = this.origin ?? 0n;
    const info = (l: Lane, depth: number): LaneInfo => ({
      id: l.id, kind: l.kind, pid: l.pid, tid: l.tid, depth, label: l.label, processLane: l.processLane,
      startNs: (o + BigInt(l.startRel)).toString(), endNs: l.endRel === null ? null : (o + BigInt(l.endRel)).toString(),
    });
    const seen = new Set<number>();
    const visit = (p: { pid: number; id: number }, depth: number): void => {
      if (seen.has(p.pid)) return;
      seen.add(p.pid);
      out.push(info(this.lanes[p.id], depth));
      const threads = this.lanes.filter((l) => l.kind === 'thread' && l.processLane === p.id)
        .sort((a, b) => (a.tid === a.pid ? -1 : b.tid === b.pid ? 1 : a.startRel - b.startRel || a.tid - b.tid));
      for (const t of threads) out.push(info(t, depth + 1));
      for (const c of (children.get(p.pid) ?? []).sort(byStart)) visit(c, depth + 1);
    };
    for (const r of roots.sort(byStart)) visit(r, 0);
    return out;
  }

  header(): TimelineHeader {
    return {
      title: this.title, live: this.live, originNs: (this.origin ?? 0n).toString(), durationNs: BigInt(this.maxRel).toString(),
      eventCount: this.consumed, lanes: this.orderedLanes(),
      objects: this.objects.slice(1).map((o): ObjectInfo => ({ id: o.id, type: o.type, label: o.label })),
      kinds: KINDS.map((k) => ({ id: k.id, name: k.name, cls: k.cls })), classes: CLASSES, generation: this.generation,
    };
  }

  /**
   * Builds one tile. Levels below the pyramid scan the lane's items in the tile's range (a tile there spans at most
   * 1024 · 2^16 ns, so the scan is short); coarser levels merge pyramid entries, so the cost never depends on the
   * event count. Spans at least one bucket wide travel as spans; everything narrower becomes a cell.
   */
  tile(req: TileRequest): PackedTile {
    const g = this.tileWith(req, this.ensureFlows());
    for (;;) { const r = g.next(); if (r.done) return r.value; }
  }

  /**
   * A tile as a generator that yields between lanes (and every SLICE pyramid entries): a coarse tile of a big trace
   * takes tens of ms, which the host spreads over turns of its event loop. A live trace may grow meanwhile: the tile
   * covers the lanes that existed when it started and carries that generation, so the webview asks again later.
   */
  private *tileWith(req: TileRequest, flowSet: FlowSet): Generator<void, PackedTile> {
    const generation = this.generation;
    const laneCount = this.lanes.length;
    const B = 2 ** req.level;
    const a = req.index * TILE_BUCKETS * B, b = a + TILE_BUCKETS * B;
    const hide = filterMask(req.filter);
    const objOk = req.filter.objects ? new Set(req.filter.objects) : null;
    const hiddenClassBits = req.filter.hiddenClasses.reduce((m, c) => (CLASSES.indexOf(c) >= 0 ? m | (1 << CLASSES.indexOf(c)) : m), 0);
    // The pyramid knows classes, not kinds or objects: a kind or object filter scans the items instead.
    const pyramidOk = req.level >= PYRAMID_LEVELS[0] && !objOk && req.filter.hiddenKinds.length === 0;
    const p = pyramidOk ? PYRAMID_LEVELS.filter((l) => l <= req.level).length - 1 : -1;
    const cells = new CellBuilder(laneCount);
    const spans = new SpanBuilder();
    const end = this.maxRel;
    let work = 0;
    for (let li = 0; li < laneCount; li++) {
      const lane = this.lanes[li];
      if (lane.kind !== 'thread') continue;
      if (work > SLICE) { work = 0; yield; }
      for (const it of this.itemLists(lane)) {
      const pl = lane.processLane;
      const visit = (k: number, cellsToo: boolean): void => {
        const kind = it.kind[k];
        if (hide[kind] || (objOk && !objOk.has(it.obj[k]))) return;
        const s = it.start[k];
        const e = it.end[k] < 0 ? end : it.end[k];
        if (e < a || s >= b) return;
        const style = it.style[k];
        if (style !== INSTANT && e - s >= B) {
          spans.add(lane.id, style, CLASS_OF[kind], kind, s, e, it.ev[k], it.endEv[k]);
          return;
        }
        // a mark belongs to the tile of its start (a short span crossing the edge must not count twice)
        if (!cellsToo || style === SPAN_STYLE.hold || s < a) return;
        const bucket = Math.floor((s - a) / B);
        const fl = it.flags[k] | (style === INSTANT ? 0 : 2);
        cells.add(lane.id, bucket, 1 << CLASS_OF[kind], 1, fl, it.ev[k]);
        cells.add(pl, bucket, 1 << CLASS_OF[kind], 1, fl, it.ev[k]);
      };
      if (p >= 0) {
        const py = it.pyramid[p];
        const shift = 2 ** (req.level - py.level);
        const first = a / 2 ** py.level, last = b / 2 ** py.level;
        for (let k = py.lowerBound(first); k < py.n && py.bucket[k] < last; k++) {
          if (++work > SLICE) { work = 0; yield; }
          const mask = py.mask[k] & ~hiddenClassBits;
          if (!mask) continue;
          const bucket = Math.floor((py.bucket[k] - first) / shift);
          cells.add(lane.id, bucket, mask, py.count[k], py.flags[k], py.ev[k]);
          cells.add(pl, bucket, mask, py.count[k], py.flags[k], py.ev[k]);
        }
        // Spans a bucket wide or wider are longer than LONG_NS (pyramid levels are above it): only those lists.
        for (const k of it.long) visit(k, false);
        if (it === lane.items) { for (const k of lane.stack) visit(k, false); for (const k of lane.holds.values()) visit(k, false); }
      } else {
        const from = it.lowerBound(a - LONG_NS);
        const to = it.lowerBound(b);
        for (let k = from; k < to; k++) { visit(k, true); if (++work > SLICE) { work = 0; yield; } }
        for (const k of it.long) if (it.start[k] < a - LONG_NS) visit(k, true);
        // open spans (still blocked, still held) reach the trace end: the call stack and held locks list them
        if (it === lane.items) for (const k of [...lane.stack, ...lane.holds.values()]) if (it.start[k] < a - LONG_NS) visit(k, true);
      }
      }
    }
    yield;
    const flows = req.filter.objects ? new FlowBuilder().finish() : yield* this.tileFlows(flowSet, a, b, req.level);
    yield;
    return packTile(req, generation, cells, spans, flows);
  }

  /** Arrows that start or end in the tile, merged per (from lane, to lane, pixel column); coarse tiles read the flow pyramid. */
  private *tileFlows(f: FlowSet, a: number, b: number, level: number): Generator<void, FlowBuilder> {
    // Too many arrows to read: merge them per wider column (2×, 4×, …) until a tile carries at most MAX_TILE_FLOWS.
    // Arrows closer than a few pixels cannot be told apart: merge per 8-bucket column from the start.
    let widen = 3;
    // Skip widths that certainly merge too little: entries of the pyramid level in range bound the arrow count.
    for (;;) {
      const p = PYRAMID_LEVELS.filter((l) => l <= level + widen).length - 1;
      if (p < 0 || p + 1 >= PYRAMID_LEVELS.length) break;
      const py = f.pyramid[p];
      const lo = lowerBoundF64(py.bucket, py.n, a / 2 ** py.level), hi = lowerBoundF64(py.bucket, py.n, b / 2 ** py.level);
      if (hi - lo <= 4 * MAX_TILE_FLOWS) break;
      widen = PYRAMID_LEVELS[p + 1] - level;
    }
    for (; ; widen += 1) {
      yield;
      const fb = this.tileFlowsAt(f, a, b, level, widen);
      if (fb.n <= MAX_TILE_FLOWS || widen >= 7) return fb.finish();
    }
  }

  private tileFlowsAt(f: FlowSet, a: number, b: number, level: number, widen: number): FlowBuilder {
    const B = 2 ** (level + widen);
    const fb = new FlowBuilder();
    const p = PYRAMID_LEVELS.filter((l) => l <= level + widen).length - 1;
    if (p >= 0) {
      const py = f.pyramid[p];
      const first = a / 2 ** py.level, last = b / 2 ** py.level;
      for (let k = lowerBoundF64(py.bucket, py.n, first); k < py.n && py.bucket[k] < last; k++)
        fb.add(py.from[k], py.to[k], Math.floor((py.fromRel[k] - a) / B), py.count[k], py.bytes[k], py.fromRel[k], py.toRel[k], py.ev[k], py.toEv[k], Math.floor((py.toRel[k] - a) / B));
      return fb;
    }
    // Finer than the pyramid: the 2^17 ns buckets the tile touches, arrows that start in it, then those that only end in it.
    const scale = 2 ** -FLOW_BUCKET_LEVEL;
    const b0 = Math.max(0, Math.floor(a * scale)), b1 = Math.min(f.buckets - 1, Math.floor(b * scale));
    for (let bk = b0; bk <= b1; bk++) for (let k = f.fromStart[bk]; k < f.fromStart[bk + 1]; k++) {
      const j = f.fromIdx[k];
      if (f.fromRel[j] >= a && f.fromRel[j] < b) fb.add(f.from[j], f.to[j], Math.floor((f.fromRel[j] - a) / B), 1, f.bytes[j], f.fromRel[j], f.toRel[j], f.ev[j], f.toEv[j], Math.floor((f.toRel[j] - a) / B));
    }
    for (let bk = b0; bk <= b1; bk++) for (let k = f.toStart[bk]; k < f.toStart[bk + 1]; k++) {
      const j = f.toIdx[k];
      if (f.toRel[j] >= a && f.toRel[j] < b && !(f.fromRel[j] >= a && f.fromRel[j] < b))
        fb.add(f.from[j], f.to[j], Math.floor((f.fromRel[j] - a) / B), 1, f.bytes[j], f.fromRel[j], f.toRel[j], f.ev[j], f.toEv[j], Math.floor((f.toRel[j] - a) / B));
    }
    return fb;
  }

  /**
   * For hosts: the flow index is rebuilt in slices of a few ms between turns of the event loop, never in one block.
   * While a live trace grows, tiles use the last complete index rather than wait for the next.
   */
  async tileAsync(req: TileRequest): Promise<PackedTile> {
    // Several requests can arrive in one socket read, i.e. one task: each works in its own turns (timelineTurns).
    await timelineTurns.next();
    // While live, a rebuild starts at most every LIVE_FLOW_REBUILD_MS: each one redoes the whole index, and
    // restarting it on every grow kept a core busy beside consumption (tiles use the last complete index meanwhile).
    if (this.flows) {
      if (this.flowJob || !this.live || performance.now() - this.flowJobStarted >= LIVE_FLOW_REBUILD_MS) { this.stepFlows(timelineTurns.left / 2); await timelineTurns.next(); }
    } else while (!this.stepFlows(timelineTurns.left)) { await timelineTurns.next(); if (this.flows && !this.flowJob) break; }
    const g = this.tileWith(req, this.currentFlows());
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      if (timelineTurns.left <= 0) await timelineTurns.next();
    }
  }

  /** Builds the flow index in slices between turns of the event loop (hosts call it once a trace is loaded). */
  async prepareFlows(): Promise<void> {
    for (;;) {
      await timelineTurns.next();
      if (this.stepFlows(timelineTurns.left)) return;
      if (this.flows && !this.flowJob && this.live) return; // live: the next tiles pick up what is new
    }
  }

  /** Flows whose writer or reader is one of these events (looked up in the from/to buckets around their times). */
  private flowsOf(events: number[], rels: number[]): { index: number; label: string }[] {
    const f = this.currentFlows();
    const out: { index: number; label: string }[] = [];
    const want = new Set(events);
    const scale = 2 ** -FLOW_BUCKET_LEVEL;
    const seen = new Set<number>();
    for (const rel of rels) {
      const bk = Math.min(f.buckets - 1, Math.max(0, Math.floor(rel * scale)));
      for (const [start, idx] of [[f.fromStart, f.fromIdx], [f.toStart, f.toIdx]] as const)
        for (let k = start[bk]; k < start[bk + 1] && out.length < 20; k++) {
          const j = idx[k];
          if (seen.has(j)) continue;
          const bytes = f.bytes[j] ? ` (${f.bytes[j]} B)` : '';
          if (want.has(f.ev[j])) { seen.add(j); out.push({ index: f.toEv[j], label: `→ ${this.lanes[f.to[j]].label}${bytes}` }); }
          else if (want.has(f.toEv[j])) { seen.add(j); out.push({ index: f.ev[j], label: `← ${this.lanes[f.from[j]].label}${bytes}` }); }
        }
    }
    return out;
  }

  private laneOfEvent(index: number): { lane: Lane; items: LaneItems; item: number; endItem: boolean } | null {
    if (index < 0 || index >= this.consumed) return null;
    const e = this.source.get(index);
    const laneId = this.threadLane.get(e.tid);
    if (laneId === undefined) return null;
    const lane = this.lanes[laneId];
    const rel = this.origin !== null && e.ts > this.origin ? Number(e.ts - this.origin) : 0;
    for (const it of this.itemLists(lane)) {
      // The item that begins with this event is at its start time; an end event belongs to a span that began earlier.
      for (let k = it.lowerBound(rel); k < it.n && it.start[k] === rel; k++) if (it.ev[k] === index && it.style[k] !== SPAN_STYLE.hold) return { lane, items: it, item: k, endItem: false };
      // Spans nest, so the begin is usually a few items back; the scan is bounded all the same.
      if (e.phase === 2) for (let k = it.lowerBound(rel + 1) - 1, n = 0; k >= 0 && n < 100_000; k--, n++)
        if (it.endEv[k] === index && it.style[k] !== SPAN_STYLE.hold) return { lane, items: it, item: k, endItem: true };
    }
    return null;
  }

  /** Where an event is: its lane and time range (for reveal and search navigation). */
  locate(index: number): { lane: number; startNs: string; endNs: string } {
    const f = this.laneOfEvent(index);
    if (!f) throw new Error(`event ${index} is not on the timeline`);
    const o = this.origin ?? 0n;
    const it = f.items;
    const e = it.end[f.item] < 0 ? this.maxRel : it.end[f.item];
    return { lane: f.lane.id, startNs: (o + BigInt(it.start[f.item])).toString(), endNs: (o + BigInt(e)).toString() };
  }

  /**
   * One event (or its begin/end pair) for the details pane. `resolveSource` maps a C call's return address to
   * file:line (the host's CallSiteResolver, which runs addr2line); Python locations come from the trace itself.
   */
  details(index: number, resolveSource?: (index: number) => { file: string; line: number } | null): EventDetails {
    if (!Number.isInteger(index) || index < 0 || index >= this.consumed) throw new Error(`no event ${index} (the trace has ${this.consumed})`);
    const found = this.laneOfEvent(index);
    const first = found ? found.items.ev[found.item] : index;
    const endIdx = found && found.items.endEv[found.item] !== NONE ? found.items.endEv[found.item] : null;
    const b = this.source.get(first);
    const e = endIdx !== null ? this.source.get(endIdx) : b;
    const info = kindById(b.kind);
    const args = (info?.args ?? []).map((name, j) => {
      const en = info!.argEnums[j];
      const v = e.args[j] ?? b.args[j] ?? 0n;
      return { name, value: en ? enumName(en, Number(v)) : formatArg(name, v) };
    });
    const blob = e.blob ?? b.blob;
    const payload = blob && (b.kind === K.read || b.kind === K.write || info?.blob?.startsWith('payload')) ? blob : null;
    const o = this.origin ?? 0n;
    const open = found && found.items.style[found.item] !== INSTANT && found.items.end[found.item] < 0;
    const objectId = found ? found.items.obj[found.item] : 0;
    const it = found?.items;
    const related = found && it ? this.flowsOf([first, ...(endIdx !== null ? [endIdx] : [])], [it.start[found.item], it.end[found.item] < 0 ? this.maxRel : it.end[found.item]]) : [];
    return {
      index: first, endIndex: endIdx, call: info?.name ?? `kind ${b.kind}`, cls: info?.cls ?? '?',
      phase: b.phase === 0 || (endIdx === null && !open) ? 'instant' : open ? 'open span' : 'span',
      startNs: b.ts.toString(), endNs: endIdx !== null ? e.ts.toString() : null,
      durationNs: endIdx !== null ? (e.ts - b.ts).toString() : open ? (o + BigInt(this.maxRel) - b.ts).toString() : null,
      args, result: BigInt.asIntN(64, e.result).toString(), errno: e.err, errnoName: e.err ? ERRNO[e.err] ?? `errno ${e.err}` : null,
      payloadText: payload ? printable(payload) : null, payloadHex: payload ? hexDump(payload) : null,
      payloadTruncated: Boolean(e.flags & 2),
      object: objectId ? this.objects[objectId].label : null, objectId: objectId || null,
      pid: b.pid, tid: b.tid, process: found ? this.lanes[found.lane.processLane].label : String(b.pid),
      lane: found ? found.lane.id : -1, source: this.pythonSource(first, found ? found.lane.id : this.threadLane.get(b.tid) ?? -1) ?? safeResolve(resolveSource, first),
      caller: `0x${b.caller.toString(16)}`, related,
    };
  }

  /**
   * The Python file:line this event was made from: its thread's last python_location before it, which applies until
   * the next one (line 0: none).
   */
  private pythonSource(index: number, laneId: number): { file: string; line: number } | null {
    const marks = this.pyMarks.get(laneId);
    if (!marks) return null;
    let lo = 0, hi = marks.length; // first mark at or after index
    while (lo < hi) { const m = (lo + hi) >> 1; if (marks[m] < index) lo = m + 1; else hi = m; }
    if (lo === 0) return null;
    const ev = this.source.get(marks[lo - 1]);
    const line = ev.kind === K.pythonLocation ? Number(ev.args[0] ?? 0n) : 0;
    return line > 0 ? { file: UTF8.decode(ev.blob ?? new Uint8Array()), line } : null;
  }

  /**
   * Events matching a text: a kind name or class, `pid N`/`tid N`/a bare number (pid or tid), or part of an
   * object's label (path, pipe:[ino]). Sorted by time, at most `limit`.
   */
  search(text: string, limit: number): { hits: SearchHit[]; total: number } {
    const q = text.trim().toLowerCase();
    if (!q) return { hits: [], total: 0 };
    const kinds = new Uint8Array(MAX_KIND_ID + 1);
    // an exact kind name or class means that kind ('read' is not 'thread_start'); otherwise any kind containing the text
    const exact = KINDS.filter((k) => k.name === q || k.cls === q);
    for (const k of exact.length ? exact : KINDS.filter((x) => x.name.includes(q))) kinds[k.id] = 1;
    const objs = new Set(this.objects.filter((o) => o.id && o.label.toLowerCase().includes(q)).map((o) => o.id));
    const num = /^(?:(pid|tid)\s*)?(\d+)$/.exec(q);
    const hits: { rel: number; lane: number; ev: number; kind: number }[] = [];
    let total = 0;
    for (const lane of this.lanes) {
      if (lane.kind !== 'thread') continue;
      const laneMatch = num ? (num[1] === 'tid' ? lane.tid === +num[2] : num[1] === 'pid' ? lane.pid === +num[2] : lane.pid === +num[2] || lane.tid === +num[2]) : false;
      for (const it of this.itemLists(lane)) for (let k = 0; k < it.n; k++) {
        if (it.style[k] === SPAN_STYLE.hold) continue;
        if (laneMatch || kinds[it.kind[k]] || (objs.size && objs.has(it.obj[k]))) {
          total++;
          if (hits.length < limit * 4) hits.push({ rel: it.start[k], lane: lane.id, ev: it.ev[k], kind: it.kind[k] });
        }
      }
    }
    hits.sort((x, y) => x.rel - y.rel);
    const o = this.origin ?? 0n;
    return {
      hits: hits.slice(0, limit).map((h) => ({ index: h.ev, lane: h.lane, ns: (o + BigInt(h.rel)).toString(), label: `${kindById(h.kind)?.name} · ${this.lanes[h.lane].label}` })),
      total,
    };
  }
}

function safeResolve(r: ((index: number) => { file: string; line: number } | null) | undefined, index: number): { file: string; line: number } | null {
  if (!r) return null;
  try { const x = r(index); return x && x.file && x.line > 0 ? { file: x.file, line: x.line } : null; } catch { return null; }
}

function lowerBoundF64(a: Float64Array, n: number, x: number): number {
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (a[m] < x) lo = m + 1; else hi = m; }
  return lo;
}

function filterMask(f: TileFilter): Uint8Array {
  const m = new Uint8Array(MAX_KIND_ID + 1);
  const cls = new Set(f.hiddenClasses);
  for (const k of KINDS) if (cls.has(k.cls)) m[k.id] = 1;
  for (const k of f.hiddenKinds) if (k >= 0 && k <= MAX_KIND_ID) m[k] = 1;
  return m;
}

class CellBuilder {
  n = 0;
  /** (lane · TILE_BUCKETS + bucket) → cell index + 1; dense, because a Map per add is the tile's hot spot. */
  private readonly slot: Int32Array;
  lane: number[] = []; bucket: number[] = []; count: number[] = []; mask: number[] = []; flags: number[] = []; ev: number[] = [];
  constructor(lanes: number) { this.slot = new Int32Array(Math.max(1, lanes) * TILE_BUCKETS); }
  add(lane: number, bucket: number, mask: number, count: number, flags: number, ev: number): void {
    if (bucket >= TILE_BUCKETS || bucket < 0) return;
    const key = lane * TILE_BUCKETS + bucket;
    const at = this.slot[key] - 1;
    if (at < 0) {
      this.slot[key] = ++this.n;
      this.lane.push(lane); this.bucket.push(bucket); this.count.push(count); this.mask.push(mask); this.flags.push(flags); this.ev.push(ev);
    } else {
      this.count[at] += count; this.flags[at] |= flags; this.mask[at] |= mask;
      if (ev < this.ev[at]) this.ev[at] = ev;
    }
  }
}
class SpanBuilder {
  n = 0; lane: number[] = []; style: number[] = []; cls: number[] = []; kind: number[] = []; start: number[] = []; end: number[] = []; ev: number[] = []; endEv: number[] = [];
  add(lane: number, style: number, cls: number, kind: number, s: number, e: number, ev: number, endEv: number): void {
    this.n++; this.lane.push(lane); this.style.push(style); this.cls.push(cls); this.kind.push(kind); this.start.push(s); this.end.push(e); this.ev.push(ev); this.endEv.push(endEv);
  }
}
/** Arrows merged per (from lane, to lane, from bucket): a zoomed-out tile carries at most one arrow per pixel column and lane pair. */
class FlowBuilder {
  n = 0;
  private readonly index = new Map<number | string, number>();
  from: number[] = []; to: number[] = []; count: number[] = []; bytes: number[] = []; fromRel: number[] = []; toRel: number[] = []; ev: number[] = []; toEv: number[] = [];
  add(from: number, to: number, bucket: number, count: number, bytes: number, fromRel: number, toRel: number, ev: number, toEv: number, toBucket = bucket): void {
    // one arrow per (lanes, from column, to column): a write read in two parts stays two arrows
    const col = (b: number) => Math.max(-2048, Math.min(2047, b)) + 2048;
    const key: number | string = from < 4096 && to < 4096 ? ((from * 4096 + to) * 4096 + col(bucket)) * 4096 + col(toBucket) : `${from}:${to}:${bucket}:${toBucket}`;
    const at = this.index.get(key);
    // a merged arrow sits at the mean of its flows (weighted by count), not at the first one's: no banding by column
    if (at !== undefined) { this.count[at] += count; this.bytes[at] += bytes; this.fromRel[at] += fromRel * count; this.toRel[at] += toRel * count; return; }
    this.index.set(key, this.n++);
    this.from.push(from); this.to.push(to); this.count.push(count); this.bytes.push(bytes);
    this.fromRel.push(fromRel * count); this.toRel.push(toRel * count); this.ev.push(ev); this.toEv.push(toEv);
  }
  /** Turns the weighted sums into mean times (whole ns). */
  finish(): this {
    for (let i = 0; i < this.n; i++) { this.fromRel[i] = Math.round(this.fromRel[i] / this.count[i]); this.toRel[i] = Math.round(this.toRel[i] / this.count[i]); }
    return this;
  }
}

const big = (xs: number[]): ArrayBuffer => { const a = new BigInt64Array(xs.length); for (let i = 0; i < xs.length; i++) a[i] = BigInt(xs[i]); return a.buffer; };

function packTile(req: TileRequest, generation: number, c: CellBuilder, s: SpanBuilder, f: FlowBuilder): PackedTile {
  return {
    level: req.level, index: req.index, generation, cellCount: c.n, spanCount: s.n, flowCount: f.n,
    cellLane: Uint16Array.from(c.lane).buffer, cellBucket: Uint16Array.from(c.bucket).buffer, cellCounts: Uint32Array.from(c.count).buffer,
    cellClass: Uint8Array.from(c.mask, (m) => CLASS_OF_MASK[m]).buffer, cellFlags: Uint8Array.from(c.flags).buffer, cellEvent: Uint32Array.from(c.ev).buffer,
    spanLane: Uint16Array.from(s.lane).buffer, spanStyle: Uint8Array.from(s.style).buffer, spanClass: Uint8Array.from(s.cls).buffer,
    spanKind: Uint16Array.from(s.kind).buffer, spanStart: big(s.start), spanEnd: big(s.end), spanBegin: Uint32Array.from(s.ev).buffer,
    spanEndEvent: Uint32Array.from(s.endEv).buffer,
    flowFrom: Uint16Array.from(f.from).buffer, flowTo: Uint16Array.from(f.to).buffer, flowCounts: Uint32Array.from(f.count).buffer,
    flowBytes: big(f.bytes), flowFromNs: big(f.fromRel), flowToNs: big(f.toRel), flowEvent: Uint32Array.from(f.ev).buffer,
    flowToEvent: Uint32Array.from(f.toEv).buffer,
  };
}

function formatArg(name: string, v: bigint): string {
  if (/addr|mutex|rwlock|cond|sem$|^lock$|handler|ip|start$|end$|routine/i.test(name)) return `0x${v.toString(16)}`;
  const s = BigInt.asIntN(64, v);
  return s < 0n && s > -4096n ? s.toString() : v.toString();
}

export function printable(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x === 10 ? '\u21b5' : x >= 32 && x < 127 ? String.fromCharCode(x) : '·';
  return s;
}

export function hexDump(b: Uint8Array): string {
  const lines: string[] = [];
  for (let o = 0; o < b.length; o += 16) {
    const row = b.subarray(o, o + 16);
    const hex = [...row].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${o.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${printable(row)}`);
  }
  return lines.join('\n');
}

/** Unpacks a tile's buffers into typed-array views (webview, tests and bench share this). */
export function tileViews(t: PackedTile) {
  return {
    cellLane: new Uint16Array(t.cellLane), cellBucket: new Uint16Array(t.cellBucket), cellCount: new Uint32Array(t.cellCounts),
    cellClass: new Uint8Array(t.cellClass), cellFlags: new Uint8Array(t.cellFlags), cellEvent: new Uint32Array(t.cellEvent),
    spanLane: new Uint16Array(t.spanLane), spanStyle: new Uint8Array(t.spanStyle), spanClass: new Uint8Array(t.spanClass),
    spanKind: new Uint16Array(t.spanKind), spanStart: new BigInt64Array(t.spanStart), spanEnd: new BigInt64Array(t.spanEnd),
    spanBegin: new Uint32Array(t.spanBegin), spanEndEvent: new Uint32Array(t.spanEndEvent),
    flowFrom: new Uint16Array(t.flowFrom), flowTo: new Uint16Array(t.flowTo), flowCount: new Uint32Array(t.flowCounts),
    flowBytes: new BigInt64Array(t.flowBytes), flowFromNs: new BigInt64Array(t.flowFromNs), flowToNs: new BigInt64Array(t.flowToNs),
    flowEvent: new Uint32Array(t.flowEvent), flowToEvent: new Uint32Array(t.flowToEvent),
  };
}
export type TileViews = ReturnType<typeof tileViews>;

/** Coarsest level whose single tile 0 covers `durationNs` (the zoomed-out overview). */
export function levelCovering(durationNs: bigint): number {
  let k = 0;
  while ((BigInt(TILE_BUCKETS) << BigInt(k)) <= durationNs && k < 62) k++;
  return k;
}
