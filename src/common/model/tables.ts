// The model's per-event answers (flows, waits, lock holds) as columns of typed arrays instead of one small object per
// row. A live model at 200k events/s made millions of them (each flow with two endpoint objects and two bigint times),
// all surviving into the old generation, where every major GC marked them again: one such GC was the longest stall of
// the extension host. Here the heap holds a few large arrays per table; a row is materialized as a plain object only
// when a consumer asks for it (at, iteration, filter, …), so consumers read the same shapes as before.
import type { Endpoint } from './matchers';
import { FLOW_KINDS, type Flow, type FlowKind, type LockHold, type Wait, type WatchedFd, type IpcObject, type ObjectType, type FdInterval } from './types';

type Column = Int32Array | Uint8Array | Float64Array | BigInt64Array;
type Chunk = Record<string, Column>;

/** Rows per chunk: columns grow chunk by chunk (a full table is never copied); the first chunk grows from small. */
const SHIFT = 14;
const CHUNK = 1 << SHIFT;
const MASK = CHUNK - 1;
const FIRST = 64;

/**
 * The read-only array methods the model's consumers use, over rows materialized on demand. Each call materializes
 * fresh objects: compare rows by their fields (id, begin, index), not by identity.
 */
export abstract class RowList<T> implements Iterable<T> {
  abstract get length(): number;
  /** Row i (a negative i counts from the end, as Array.prototype.at). */
  at(i: number): T | undefined {
    const n = this.length;
    const k = i < 0 ? n + i : i;
    return k >= 0 && k < n ? this.row(k) : undefined;
  }
  protected abstract row(i: number): T;
  *[Symbol.iterator](): IterableIterator<T> { for (let i = 0; i < this.length; i++) yield this.row(i); }
  toArray(): T[] { const out = new Array<T>(this.length); for (let i = 0; i < out.length; i++) out[i] = this.row(i); return out; }
  filter(pred: (x: T, i: number) => unknown): T[] { const out: T[] = []; for (let i = 0; i < this.length; i++) { const x = this.row(i); if (pred(x, i)) out.push(x); } return out; }
  map<U>(f: (x: T, i: number) => U): U[] { const out = new Array<U>(this.length); for (let i = 0; i < out.length; i++) out[i] = f(this.row(i), i); return out; }
  find(pred: (x: T, i: number) => unknown): T | undefined { for (let i = 0; i < this.length; i++) { const x = this.row(i); if (pred(x, i)) return x; } return undefined; }
  findIndex(pred: (x: T, i: number) => unknown): number { for (let i = 0; i < this.length; i++) if (pred(this.row(i), i)) return i; return -1; }
  some(pred: (x: T, i: number) => unknown): boolean { return this.findIndex(pred) >= 0; }
  every(pred: (x: T, i: number) => unknown): boolean { return this.findIndex((x, i) => !pred(x, i)) < 0; }
  forEach(f: (x: T, i: number) => void): void { for (let i = 0; i < this.length; i++) f(this.row(i), i); }
  reduce<U>(f: (acc: U, x: T, i: number) => U, init: U): U { let acc = init; for (let i = 0; i < this.length; i++) acc = f(acc, this.row(i), i); return acc; }
  slice(start = 0, end = this.length): T[] {
    const n = this.length;
    const a = start < 0 ? Math.max(0, n + start) : Math.min(start, n), b = end < 0 ? Math.max(0, n + end) : Math.min(end, n);
    const out: T[] = [];
    for (let i = a; i < b; i++) out.push(this.row(i));
    return out;
  }
}

/** Rows in chunks of typed-array columns. */
abstract class ChunkedRows<C extends Chunk, T> extends RowList<T> {
  protected chunks: C[] = [];
  protected n = 0;
  protected abstract newChunk(rows: number): C;
  get length(): number { return this.n; }
  /** Makes room for one more row and returns its position (the caller fills the columns). */
  protected addRow(): number {
    const i = this.n, c = i >>> SHIFT, j = i & MASK;
    if (c === this.chunks.length) this.chunks.push(this.newChunk(c === 0 ? FIRST : CHUNK));
    else if (j === firstLength(this.chunks[c])) this.chunks[c] = grown(this.chunks[c], Math.min(CHUNK, 2 * j));
    this.n++;
    return i;
  }
}
function firstLength(c: Chunk): number { for (const k in c) return c[k].length; return 0; }
/** A chunk with its columns copied into longer ones (only the first chunk grows, up to CHUNK rows). */
function grown<C extends Chunk>(c: C, rows: number): C {
  const out: Chunk = {};
  for (const k in c) {
    const a = c[k];
    const b = new (a.constructor as new (n: number) => Column)(rows);
    (b as Int32Array).set(a as Int32Array);
    out[k] = b;
  }
  return out as C;
}

/** Strings (object keys) by a small id, so a row holds an int instead of a pointer. */
class Interned {
  private ids = new Map<string, number>();
  readonly values: string[] = [];
  id(s: string | undefined): number {
    if (s === undefined) return -1;
    let i = this.ids.get(s);
    if (i === undefined) { i = this.values.length; this.values.push(s); this.ids.set(s, i); }
    return i;
  }
  get(i: number): string | undefined { return i < 0 ? undefined : this.values[i]; }
}

const FLOW_KIND_ID = new Map<FlowKind, number>(FLOW_KINDS.map((k, i) => [k, i]));

interface FlowChunk extends Chunk {
  kind: Uint8Array; object: Int32Array; bytes: Float64Array; detail: Float64Array;
  fi: Int32Array; fp: Int32Array; ft: Int32Array; fts: BigInt64Array;
  ti: Int32Array; tp: Int32Array; tt: Int32Array; tts: BigInt64Array;
}

/** TraceModel.flows: every exactly matched flow, in the order found (id = position + 1). */
export class FlowTable extends ChunkedRows<FlowChunk, Flow> {
  private objects = new Interned();
  protected newChunk(rows: number): FlowChunk {
    return {
      kind: new Uint8Array(rows), object: new Int32Array(rows), bytes: new Float64Array(rows), detail: new Float64Array(rows),
      fi: new Int32Array(rows), fp: new Int32Array(rows), ft: new Int32Array(rows), fts: new BigInt64Array(rows),
      ti: new Int32Array(rows), tp: new Int32Array(rows), tt: new Int32Array(rows), tts: new BigInt64Array(rows),
    };
  }
  /** Appends a flow; returns its position (its id is position + 1). */
  add(kind: FlowKind, object: string, from: Endpoint, to: Endpoint, bytes: number, detail?: number): number {
    const i = this.addRow(), c = this.chunks[i >>> SHIFT], j = i & MASK;
    c.kind[j] = FLOW_KIND_ID.get(kind)!; c.object[j] = this.objects.id(object); c.bytes[j] = bytes; c.detail[j] = detail ?? NaN;
    c.fi[j] = from.index; c.fp[j] = from.pid; c.ft[j] = from.tid; c.fts[j] = from.ts;
    c.ti[j] = to.index; c.tp[j] = to.pid; c.tt[j] = to.tid; c.tts[j] = to.ts;
    return i;
  }
  protected row(i: number): Flow {
    const c = this.chunks[i >>> SHIFT], j = i & MASK, d = c.detail[j];
    return {
      id: i + 1, kind: FLOW_KINDS[c.kind[j]], object: this.objects.get(c.object[j])!,
      from: { index: c.fi[j], pid: c.fp[j], tid: c.ft[j], ts: c.fts[j] },
      to: { index: c.ti[j], pid: c.tp[j], tid: c.tt[j], ts: c.tts[j] },
      bytes: c.bytes[j], detail: Number.isNaN(d) ? undefined : d,
    };
  }
  /** Columns read without materializing a row (the model's range index). */
  fromTs(i: number): bigint { return this.chunks[i >>> SHIFT].fts[i & MASK]; }
  toTs(i: number): bigint { return this.chunks[i >>> SHIFT].tts[i & MASK]; }
}

const HAS_T1 = 1, HAS_BY = 2, INCOMPLETE = 4, HAS_HOLDERS = 8;

interface WaitChunk extends Chunk {
  pid: Int32Array; tid: Int32Array; kind: Int32Array; object: Int32Array; begin: Int32Array; end: Int32Array;
  t0: BigInt64Array; t1: BigInt64Array; flags: Uint8Array;
  bi: Int32Array; bp: Int32Array; bt: Int32Array; bts: BigInt64Array;
  /** holders: how many (the first one inline; two or more in the side map). */
  hn: Int32Array; hp: Int32Array; ht: Int32Array;
}

/**
 * TraceModel.waits: every blocking call, in the order its begin was handled. The model updates a wait after it was
 * added (its end, who ended it, …) through a WaitRow. A lock wait's holders (none or one, nearly always) are columns,
 * more than one and the watches of readiness waits live in side maps (a watches array is shared by the waits that
 * saw the same interest list).
 */
export class WaitTable extends ChunkedRows<WaitChunk, Wait> {
  private objects = new Interned();
  private holders = new Map<number, { pid: number; tid: number }[]>();
  private watches = new Map<number, WatchedFd[]>();
  protected newChunk(rows: number): WaitChunk {
    return {
      pid: new Int32Array(rows), tid: new Int32Array(rows), kind: new Int32Array(rows), object: new Int32Array(rows),
      begin: new Int32Array(rows), end: new Int32Array(rows), t0: new BigInt64Array(rows), t1: new BigInt64Array(rows),
      flags: new Uint8Array(rows), bi: new Int32Array(rows), bp: new Int32Array(rows), bt: new Int32Array(rows), bts: new BigInt64Array(rows),
      hn: new Int32Array(rows), hp: new Int32Array(rows), ht: new Int32Array(rows),
    };
  }
  /** Appends an open wait; returns the row through which the model completes it. */
  add(pid: number, tid: number, kind: number, object: string | undefined, begin: number, t0: bigint): WaitRow {
    const i = this.addRow(), c = this.chunks[i >>> SHIFT], j = i & MASK;
    c.pid[j] = pid; c.tid[j] = tid; c.kind[j] = kind; c.object[j] = this.objects.id(object); c.begin[j] = begin; c.end[j] = -1; c.t0[j] = t0;
    return new WaitRow(this, i);
  }
  /** The row of the wait at position i, for updating it. */
  ref(i: number): WaitRow { return new WaitRow(this, i); }
  protected row(i: number): Wait {
    const c = this.chunks[i >>> SHIFT], j = i & MASK, f = c.flags[j];
    // the same properties, in the same order, as the objects the model used to keep
    const w: { -readonly [K in keyof Wait]: Wait[K] } = { pid: c.pid[j], tid: c.tid[j], kind: c.kind[j], object: this.objects.get(c.object[j]), begin: c.begin[j], end: c.end[j], t0: c.t0[j] };
    if (f & HAS_T1) w.t1 = c.t1[j];
    if (f & HAS_HOLDERS) w.holders = this.holdersAt(i);
    if (f & HAS_BY) w.by = { index: c.bi[j], pid: c.bp[j], tid: c.bt[j], ts: c.bts[j] };
    const ws = this.watches.get(i);
    if (ws) w.watches = ws;
    if (f & INCOMPLETE) w.watchesIncomplete = true;
    return w;
  }

  // Column access, no row materialized (the model's hot paths and whole-trace passes).
  pidAt(i: number): number { return this.chunks[i >>> SHIFT].pid[i & MASK]; }
  tidAt(i: number): number { return this.chunks[i >>> SHIFT].tid[i & MASK]; }
  kindAt(i: number): number { return this.chunks[i >>> SHIFT].kind[i & MASK]; }
  objectAt(i: number): string | undefined { return this.objects.get(this.chunks[i >>> SHIFT].object[i & MASK]); }
  beginAt(i: number): number { return this.chunks[i >>> SHIFT].begin[i & MASK]; }
  endAt(i: number): number { return this.chunks[i >>> SHIFT].end[i & MASK]; }
  t0At(i: number): bigint { return this.chunks[i >>> SHIFT].t0[i & MASK]; }
  /** Whether the wait has ended (t1 known). */
  ended(i: number): boolean { return (this.chunks[i >>> SHIFT].flags[i & MASK] & HAS_T1) !== 0; }
  t1At(i: number): bigint | undefined { const c = this.chunks[i >>> SHIFT], j = i & MASK; return c.flags[j] & HAS_T1 ? c.t1[j] : undefined; }
  hasBy(i: number): boolean { return (this.chunks[i >>> SHIFT].flags[i & MASK] & HAS_BY) !== 0; }
  byAt(i: number): Endpoint | undefined {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    return c.flags[j] & HAS_BY ? { index: c.bi[j], pid: c.bp[j], tid: c.bt[j], ts: c.bts[j] } : undefined;
  }
  /** A new array each call (the rows' holders are values, not shared objects). */
  holdersAt(i: number): { pid: number; tid: number }[] | undefined {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    if (!(c.flags[j] & HAS_HOLDERS)) return undefined;
    const n = c.hn[j];
    return n === 0 ? [] : n === 1 ? [{ pid: c.hp[j], tid: c.ht[j] }] : this.holders.get(i)!.map((h) => ({ pid: h.pid, tid: h.tid }));
  }
  watchesAt(i: number): WatchedFd[] | undefined { return this.watches.get(i); }
  incompleteAt(i: number): boolean { return (this.chunks[i >>> SHIFT].flags[i & MASK] & INCOMPLETE) !== 0; }

  setEnd(i: number, end: number, t1: bigint): void { const c = this.chunks[i >>> SHIFT], j = i & MASK; c.end[j] = end; c.t1[j] = t1; c.flags[j] |= HAS_T1; }
  setEndIndex(i: number, end: number): void { this.chunks[i >>> SHIFT].end[i & MASK] = end; }
  setT1(i: number, t1: bigint | undefined): void {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    if (t1 === undefined) c.flags[j] &= ~HAS_T1; else { c.t1[j] = t1; c.flags[j] |= HAS_T1; }
  }
  setBy(i: number, ep: Endpoint | undefined): void {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    if (!ep) { c.flags[j] &= ~HAS_BY; return; }
    c.bi[j] = ep.index; c.bp[j] = ep.pid; c.bt[j] = ep.tid; c.bts[j] = ep.ts; c.flags[j] |= HAS_BY;
  }
  setHolders(i: number, h: { pid: number; tid: number }[] | undefined): void {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    this.holders.delete(i);
    if (!h) { c.flags[j] &= ~HAS_HOLDERS; return; }
    c.flags[j] |= HAS_HOLDERS; c.hn[j] = h.length;
    if (h.length === 1) { c.hp[j] = h[0].pid; c.ht[j] = h[0].tid; }
    else if (h.length > 1) this.holders.set(i, h.map((x) => ({ pid: x.pid, tid: x.tid })));
  }
  setWatches(i: number, w: WatchedFd[] | undefined): void { if (w) this.watches.set(i, w); else this.watches.delete(i); }
  setIncomplete(i: number, v: boolean | undefined): void { const c = this.chunks[i >>> SHIFT], j = i & MASK; if (v) c.flags[j] |= INCOMPLETE; else c.flags[j] &= ~INCOMPLETE; }
}

/**
 * One wait as the model updates it: a Wait whose fields read and write its table row. Short-lived (the model keeps
 * one only while something may still complete the wait), so the old generation holds the columns, not these.
 */
export class WaitRow implements Wait {
  constructor(private readonly t: WaitTable, readonly pos: number) {}
  get pid(): number { return this.t.pidAt(this.pos); }
  get tid(): number { return this.t.tidAt(this.pos); }
  get kind(): number { return this.t.kindAt(this.pos); }
  get object(): string | undefined { return this.t.objectAt(this.pos); }
  get begin(): number { return this.t.beginAt(this.pos); }
  get end(): number { return this.t.endAt(this.pos); }
  set end(v: number) { this.t.setEndIndex(this.pos, v); }
  get t0(): bigint { return this.t.t0At(this.pos); }
  get t1(): bigint | undefined { return this.t.t1At(this.pos); }
  set t1(v: bigint | undefined) { this.t.setT1(this.pos, v); }
  /** t1 !== undefined, without reading t1 (each read of a BigInt64Array element is a new bigint). */
  get ended(): boolean { return this.t.ended(this.pos); }
  get holders(): { pid: number; tid: number }[] | undefined { return this.t.holdersAt(this.pos); }
  set holders(h: { pid: number; tid: number }[] | undefined) { this.t.setHolders(this.pos, h); }
  get by(): Endpoint | undefined { return this.t.byAt(this.pos); }
  set by(ep: Endpoint | undefined) { this.t.setBy(this.pos, ep); }
  get watches(): WatchedFd[] | undefined { return this.t.watchesAt(this.pos); }
  set watches(w: WatchedFd[] | undefined) { this.t.setWatches(this.pos, w); }
  get watchesIncomplete(): boolean | undefined { return this.t.incompleteAt(this.pos) || undefined; }
  set watchesIncomplete(v: boolean | undefined) { this.t.setIncomplete(this.pos, v); }
}

const HOLD_ENDED = 1;
interface HoldChunk extends Chunk { pid: Int32Array; tid: Int32Array; index: Int32Array; endIndex: Int32Array; t0: BigInt64Array; t1: BigInt64Array; flags: Uint8Array }

/** The holds of one lock (TraceModel.lockHolds), in acquisition order; t1/endIndex are set when the hold ends. */
export class LockHoldTable extends ChunkedRows<HoldChunk, LockHold> {
  constructor(readonly lock: string) { super(); }
  protected newChunk(rows: number): HoldChunk {
    return {
      pid: new Int32Array(rows), tid: new Int32Array(rows), index: new Int32Array(rows), endIndex: new Int32Array(rows),
      t0: new BigInt64Array(rows), t1: new BigInt64Array(rows), flags: new Uint8Array(rows),
    };
  }
  add(pid: number, tid: number, t0: bigint, index: number): number {
    const i = this.addRow(), c = this.chunks[i >>> SHIFT], j = i & MASK;
    c.pid[j] = pid; c.tid[j] = tid; c.t0[j] = t0; c.index[j] = index;
    return i;
  }
  ended(i: number): boolean { return (this.chunks[i >>> SHIFT].flags[i & MASK] & HOLD_ENDED) !== 0; }
  end(i: number, t1: bigint, endIndex: number): void {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    c.t1[j] = t1; c.endIndex[j] = endIndex; c.flags[j] |= HOLD_ENDED;
  }
  protected row(i: number): LockHold {
    const c = this.chunks[i >>> SHIFT], j = i & MASK;
    const h: { -readonly [K in keyof LockHold]: LockHold[K] } = { lock: this.lock, pid: c.pid[j], tid: c.tid[j], t0: c.t0[j], index: c.index[j] };
    if (c.flags[j] & HOLD_ENDED) { h.t1 = c.t1[j]; h.endIndex = c.endIndex[j]; }
    return h;
  }
}

/** A growing list of int32 (row positions, event indices) in one typed array. */
export class IntList {
  private a = new Int32Array(16);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.length++] = v;
  }
  get(i: number): number { return this.a[i]; }
  last(): number | undefined { return this.length ? this.a[this.length - 1] : undefined; }
  /** The live view of the values (valid until the next push). */
  view(): Int32Array { return this.a.subarray(0, this.length); }
}

/** An IPC object (IpcObject) whose event indices are an int column, not a number[] of every event that touched it. */
export class ObjectRecord implements IpcObject {
  readonly pids = new Set<number>();
  readonly fds: FdInterval[] = [];
  peer?: string;
  sockType?: number;
  firstNs: bigint;
  lastNs: bigint;
  private indices = new IntList();
  private viewed?: Int32Array;
  constructor(readonly key: string, public type: ObjectType, public name: string, ts: bigint) { this.firstNs = ts; this.lastNs = ts; }
  /** A view of the indices so far (made again only after more were added). */
  get events(): Int32Array {
    if (!this.viewed || this.viewed.length !== this.indices.length) this.viewed = this.indices.view();
    return this.viewed;
  }
  /** Records an event that touched the object (once, however many times it is touched). */
  addEvent(index: number): void { if (this.indices.last() !== index) this.indices.push(index); }
}
