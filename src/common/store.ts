// EventStore: every event of a session in columns of typed arrays, grown chunk by chunk so tens of millions of events
// never cost a giant reallocation copy. Per event (fixed part, 30 bytes):
//   tsLo/tsHi u32+u32 · thread u32 (index into an interned (conn, pid, tid) table) · kind u16 · pf u16 (phase in bits
//   0–1, has-blob bit 2, flags above) · err i16 · result i32 · caller u32 (interned return address) · extra u32
// plus one u32 word per argument in the extra pool (values ≥ 2^31 are interned: a mutex address used a million times
// is stored once) and, with a blob, two more words (offset, length) into a byte pool. Values that do not fit their
// narrow column (result outside i32, errno outside i16, flags above 13 bits) go to small side tables keyed by index.
// maxEvents: once full, further events are refused and counted in `dropped` (the collector adds a note); nothing
// already stored is ever overwritten.
import type { ConnectionInfo, EventSource, TraceEvent } from './traceEvent';
import type { Phase } from './vocabulary';
import { KINDS, MAX_KIND_ID } from './vocabulary';

export interface SessionNote { ts: bigint; level: 'info' | 'warning' | 'error'; message: string; conn?: number }
/** How a connection ended (the CLOSED chunk of a trace, or the collector's bookkeeping). */
export interface ClosedInfo { reason: string; bye: boolean; emitted: string; dropped: string }
/** The END chunk of a trace. */
export interface EndSummary { events: number; dropped: number; exitCode: number | null; signal: string | null; endNs: string }

const CHUNK_SHIFT = 16;
const CHUNK = 1 << CHUNK_SHIFT; // events per column chunk
const CHUNK_MASK = CHUNK - 1;
const POOL_SHIFT = 20;
const POOL_CHUNK = 1 << POOL_SHIFT; // u32 words per extra-pool chunk
const POOL_MASK = POOL_CHUNK - 1;
const BLOB_SHIFT = 22;
const BLOB_CHUNK = 1 << BLOB_SHIFT; // bytes per blob-pool chunk (a blob is ≤ 64 KiB, so one always fits)
const BLOB_MASK = BLOB_CHUNK - 1;
const INTERNED = 0x80000000;
const RESULT_OVERFLOW = -0x80000000;
const ERR_OVERFLOW = -0x8000;
const FLAGS_OVERFLOW = 0x1fff;

const NARGS = new Uint8Array(MAX_KIND_ID + 1);
for (const k of KINDS) NARGS[k.id] = k.args.length;

interface Columns {
  tsLo: Uint32Array; tsHi: Uint32Array; thread: Uint32Array; kind: Uint16Array; pf: Uint16Array;
  err: Int16Array; result: Int32Array; caller: Uint32Array; extra: Uint32Array;
}
function newColumns(): Columns {
  return {
    tsLo: new Uint32Array(CHUNK), tsHi: new Uint32Array(CHUNK), thread: new Uint32Array(CHUNK), kind: new Uint16Array(CHUNK),
    pf: new Uint16Array(CHUNK), err: new Int16Array(CHUNK), result: new Int32Array(CHUNK), caller: new Uint32Array(CHUNK),
    extra: new Uint32Array(CHUNK),
  };
}
const COLUMN_BYTES_PER_EVENT = 4 + 4 + 4 + 2 + 2 + 2 + 4 + 4 + 4;

/** BigInts of small values, made once: get() runs per event for the model, and every small argument (fds, counts,
 *  enums) and result would otherwise be a fresh heap bigint for the GC to collect. */
const SMALL_BIGINTS = 4096;
const SMALL_BIGINT: readonly bigint[] = Array.from({ length: SMALL_BIGINTS }, (_, v) => BigInt(v));
const bigOf = (v: number): bigint => (v >= 0 && v < SMALL_BIGINTS ? SMALL_BIGINT[v] : BigInt(v));

/** A u64 from its two u32 halves: one bigint made from an exact double below 2^53 (three more otherwise). */
const tsBig = (hi: number, lo: number): bigint => (hi < 0x200000 ? BigInt(hi * 0x100000000 + lo) : (BigInt(hi) << 32n) | BigInt(lo));

/** A number key for a u64 given as two u32 halves when it is exact in a double, else a bigint. */
function wideKey(lo: number, hi: number): number | bigint {
  return hi < 0x200000 ? hi * 0x100000000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

export class EventStore implements EventSource {
  private chunks: Columns[] = [];
  private n = 0;
  private readonly maxEvents: number;
  /** Events refused because the store was full (maxEvents). */
  dropped = 0;

  // extra pool: argument words and blob references
  private pool: Uint32Array[] = [];
  private poolUsed = POOL_CHUNK; // forces a first chunk
  private blobs: Uint8Array[] = [];
  private blobUsed = BLOB_CHUNK;
  private blobBytes = 0;

  // interned tables
  private wideValues: bigint[] = [];
  private wideIndex = new Map<number | bigint, number>();
  private callerValues: bigint[] = [];
  private callerIndex = new Map<number | bigint, number>();
  private threadConn: number[] = [];
  private threadPid: number[] = [];
  private threadTid: number[] = [];
  private threadIndex = new Map<number, Map<number, number>>();

  // side tables for values too wide for their column
  private resultWide = new Map<number, bigint>();
  private errWide = new Map<number, number>();
  private flagsWide = new Map<number, number>();

  private conns: ConnectionInfo[] = [];
  private connPid = new Map<number, number>();
  private listeners = new Set<(first: number, count: number) => void>();

  /** Filled by readTraceFile: the trace's META, notes, how each connection closed, END, and whether it was cut off. */
  meta: Record<string, unknown> | undefined;
  notes: SessionNote[] = [];
  closed = new Map<number, ClosedInfo>();
  end: EndSummary | undefined;
  /** Set when the trace file ended without END or in the middle of a chunk: says where and why. */
  cutOff: string | undefined;

  constructor(opts: { maxEvents?: number } = {}) {
    this.maxEvents = opts.maxEvents ?? Number.MAX_SAFE_INTEGER;
  }

  get count(): number { return this.n; }

  addConnection(info: ConnectionInfo): void {
    this.conns.push(info);
    this.connPid.set(info.conn, info.pid);
  }
  connections(): readonly ConnectionInfo[] { return this.conns; }

  onAppend(listener: (first: number, count: number) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  private threadOf(conn: number, pid: number, tid: number): number {
    // per-connection maps keyed by tid: small-integer keys, no allocation per lookup
    let byTid = this.threadIndex.get(conn);
    if (!byTid) this.threadIndex.set(conn, byTid = new Map());
    let t = byTid.get(tid);
    if (t === undefined) {
      t = this.threadConn.length;
      this.threadConn.push(conn); this.threadPid.push(pid); this.threadTid.push(tid);
      byTid.set(tid, t);
    }
    return t;
  }

  // Direct-mapped caches in front of the intern maps: the same few call sites and mutex addresses repeat millions of
  // times, and a Map lookup with a double key allocates (a heap number) where this does not.
  private readonly wideCache = new Uint32Array(3 * 256).fill(0xffffffff);
  private readonly callerCache = new Uint32Array(3 * 256).fill(0xffffffff);

  private internWide(lo: number, hi: number): number {
    const c = this.wideCache, slot = 3 * ((lo ^ (lo >>> 8) ^ hi) & 255);
    if (c[slot] === lo && c[slot + 1] === hi && c[slot + 2] !== 0xffffffff) return c[slot + 2];
    const key = wideKey(lo, hi);
    let i = this.wideIndex.get(key);
    if (i === undefined) {
      i = this.wideValues.length;
      this.wideValues.push((BigInt(hi) << 32n) | BigInt(lo));
      this.wideIndex.set(key, i);
    }
    c[slot] = lo; c[slot + 1] = hi; c[slot + 2] = i;
    return i;
  }

  private internCaller(lo: number, hi: number): number {
    const c = this.callerCache, slot = 3 * ((lo ^ (lo >>> 8) ^ hi) & 255);
    if (c[slot] === lo && c[slot + 1] === hi && c[slot + 2] !== 0xffffffff) return c[slot + 2];
    const key = wideKey(lo, hi);
    let i = this.callerIndex.get(key);
    if (i === undefined) {
      i = this.callerValues.length;
      this.callerValues.push((BigInt(hi) << 32n) | BigInt(lo));
      this.callerIndex.set(key, i);
    }
    c[slot] = lo; c[slot + 1] = hi; c[slot + 2] = i;
    return i;
  }

  /** A fresh blob chunk when `len` more bytes do not fit the current one. */
  private blobRoom(len: number): void {
    if (this.blobUsed + len > BLOB_CHUNK) {
      const chunk = new Uint8Array(BLOB_CHUNK);
      this.blobs.push(chunk);
      this.blobViews.push(new DataView(chunk.buffer));
      this.blobUsed = 0;
    }
  }
  /** A DataView per blob chunk: blobs are copied four bytes at a time (a subarray of a received Buffer per event
   *  costs more than the copy). */
  private blobViews: DataView[] = [];

  /**
   * Appends the records of an EVENTS body (count, reserved, records) that `validateEventsBody` accepted.
   * Returns how many were stored (the rest were refused: store full) and tells the onAppend listeners.
   * The hot loop of the collector (millions of events/s): state lives in locals and is written back once, the
   * caller and wide-value caches are probed inline (a call and a Map lookup only for a value not seen lately).
   */
  appendEventsBody(conn: number, pid: number, body: Uint8Array): number {
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = dv.getUint32(0, true);
    const first = this.n;
    const room = Math.max(0, Math.min(count, this.maxEvents - this.n));
    if (room < count) this.dropped += count - room;
    let off = 8;
    let lastTid = -1, lastThread = 0;
    let i = this.n;
    let c = this.chunks[i >>> CHUNK_SHIFT];
    const callerCache = this.callerCache, wideCache = this.wideCache;
    let pool = this.pool.length ? this.pool[this.pool.length - 1] : undefined;
    let poolUsed = this.poolUsed;
    let poolBase = (this.pool.length - 1) << POOL_SHIFT;
    for (let r = 0; r < room; r++, i++) {
      const j = i & CHUNK_MASK;
      if (j === 0 || c === undefined) {
        if ((i >>> CHUNK_SHIFT) === this.chunks.length) this.chunks.push(newColumns());
        c = this.chunks[i >>> CHUNK_SHIFT];
      }
      const kind = dv.getUint16(off, true);
      const phase = body[off + 2];
      const nargs = body[off + 3];
      const blobLen = dv.getUint16(off + 4, true);
      const flags = dv.getUint16(off + 6, true);
      const tid = dv.getUint32(off + 8, true);
      if (tid !== lastTid) { lastTid = tid; lastThread = this.threadOf(conn, pid, tid); }
      c.thread[j] = lastThread;
      c.kind[j] = kind;
      if (flags < FLAGS_OVERFLOW) c.pf[j] = phase | (blobLen ? 4 : 0) | (flags << 3);
      else { c.pf[j] = phase | (blobLen ? 4 : 0) | (FLAGS_OVERFLOW << 3); this.flagsWide.set(i, flags); }
      const err = dv.getInt32(off + 12, true);
      if (err > ERR_OVERFLOW && err < 0x8000) c.err[j] = err; else { c.err[j] = ERR_OVERFLOW; this.errWide.set(i, err); }
      c.tsLo[j] = dv.getUint32(off + 16, true);
      c.tsHi[j] = dv.getUint32(off + 20, true);
      const rlo = dv.getUint32(off + 24, true), rhi = dv.getInt32(off + 28, true);
      if ((rhi === 0 && rlo < 0x80000000) || (rhi === -1 && rlo > 0x80000000)) c.result[j] = rlo | 0;
      else { c.result[j] = RESULT_OVERFLOW; this.resultWide.set(i, dv.getBigInt64(off + 24, true)); }
      const clo = dv.getUint32(off + 32, true), chi = dv.getUint32(off + 36, true);
      const cslot = 3 * ((clo ^ (clo >>> 8) ^ chi) & 255);
      c.caller[j] = callerCache[cslot] === clo && callerCache[cslot + 1] === chi && callerCache[cslot + 2] !== 0xffffffff
        ? callerCache[cslot + 2] : this.internCaller(clo, chi);
      const words = nargs + (blobLen ? 2 : 0);
      if (words) {
        if (pool === undefined || poolUsed + words > POOL_CHUNK) {
          pool = new Uint32Array(POOL_CHUNK);
          this.pool.push(pool);
          poolUsed = 0;
          poolBase = (this.pool.length - 1) << POOL_SHIFT;
        }
        let w = poolUsed;
        c.extra[j] = poolBase + w;
        poolUsed += words;
        let a = off + 40;
        for (let k = 0; k < nargs; k++, a += 8) {
          const lo = dv.getUint32(a, true), hi = dv.getUint32(a + 4, true);
          if (hi === 0 && lo < INTERNED) pool[w++] = lo;
          else {
            const ws = 3 * ((lo ^ (lo >>> 8) ^ hi) & 255);
            pool[w++] = INTERNED | (wideCache[ws] === lo && wideCache[ws + 1] === hi && wideCache[ws + 2] !== 0xffffffff
              ? wideCache[ws + 2] : this.internWide(lo, hi));
          }
        }
        if (blobLen) {
          this.blobRoom(blobLen);
          const last = this.blobs.length - 1, to = this.blobUsed;
          pool[w++] = last * BLOB_CHUNK + to;
          pool[w] = blobLen;
          const bdv = this.blobViews[last];
          let b = 0;
          for (; b + 4 <= blobLen; b += 4) bdv.setUint32(to + b, dv.getUint32(a + b, true), true);
          if (b < blobLen) { const chunk = this.blobs[last]; for (; b < blobLen; b++) chunk[to + b] = body[a + b]; }
          this.blobUsed += blobLen;
          this.blobBytes += blobLen;
        }
      }
      off += 40 + 8 * nargs + ((blobLen + 7) & ~7);
    }
    this.poolUsed = pool === undefined ? this.poolUsed : poolUsed;
    this.n = i;
    if (room) for (const l of this.listeners) l(first, room);
    return room;
  }

  private col(i: number): Columns {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`event index ${i} is outside 0..${this.n - 1}`);
    return this.chunks[i >>> CHUNK_SHIFT];
  }

  kindAt(i: number): number { return this.col(i).kind[i & CHUNK_MASK]; }
  phaseAt(i: number): number { return this.col(i).pf[i & CHUNK_MASK] & 3; }
  flagsAt(i: number): number {
    const f = this.col(i).pf[i & CHUNK_MASK] >>> 3;
    return f === FLAGS_OVERFLOW ? this.flagsWide.get(i)! : f;
  }
  pidAt(i: number): number { return this.threadPid[this.col(i).thread[i & CHUNK_MASK]]; }
  tidAt(i: number): number { return this.threadTid[this.col(i).thread[i & CHUNK_MASK]]; }
  connAt(i: number): number { return this.threadConn[this.col(i).thread[i & CHUNK_MASK]]; }
  tsAt(i: number): bigint {
    const c = this.col(i), j = i & CHUNK_MASK;
    return tsBig(c.tsHi[j], c.tsLo[j]);
  }
  /** The timestamp as a double (ns): exact below 2^53 ns (104 days of uptime), for sorting and drawing. */
  tsNumberAt(i: number): number {
    const c = this.col(i), j = i & CHUNK_MASK;
    return c.tsHi[j] * 0x100000000 + c.tsLo[j];
  }
  errAt(i: number): number {
    const e = this.col(i).err[i & CHUNK_MASK];
    return e === ERR_OVERFLOW ? this.errWide.get(i)! : e;
  }
  resultAt(i: number): bigint {
    const r = this.col(i).result[i & CHUNK_MASK];
    return r === RESULT_OVERFLOW ? this.resultWide.get(i)! : bigOf(r);
  }
  callerAt(i: number): bigint { return this.callerValues[this.col(i).caller[i & CHUNK_MASK]]; }
  nargsAt(i: number): number { return NARGS[this.kindAt(i)]; }

  private word(w: number): number { return this.pool[w >>> POOL_SHIFT][w & POOL_MASK]; }
  private wordValue(v: number): bigint { return v >= INTERNED ? this.wideValues[v - INTERNED] : bigOf(v); }

  /** Argument j of event i (unsigned 64-bit, as on the wire). */
  argAt(i: number, j: number): bigint {
    const c = this.col(i), k = i & CHUNK_MASK;
    const nargs = NARGS[c.kind[k]];
    if (!(j >= 0 && j < nargs)) throw new RangeError(`event ${i} has ${nargs} arguments, no argument ${j}`);
    return this.wordValue(this.word(c.extra[k] + j));
  }
  /** Argument j as a double when it is below 2^31 (no allocation), else -1; for hot loops over fds, counts, enums. */
  argSmallAt(i: number, j: number): number {
    const c = this.col(i), k = i & CHUNK_MASK;
    const v = this.word(c.extra[k] + j);
    return v >= INTERNED ? -1 : v;
  }

  blobAt(i: number): Uint8Array | undefined {
    const c = this.col(i), k = i & CHUNK_MASK;
    if (!(c.pf[k] & 4)) return undefined;
    const w = c.extra[k] + NARGS[c.kind[k]];
    const at = this.word(w), len = this.word(w + 1);
    const chunk = this.blobs[Math.floor(at / BLOB_CHUNK)];
    const off = at % BLOB_CHUNK;
    return chunk.subarray(off, off + len);
  }

  get(i: number): TraceEvent {
    const c = this.col(i), k = i & CHUNK_MASK;
    const nargs = NARGS[c.kind[k]];
    const args: bigint[] = new Array(nargs);
    for (let a = 0; a < nargs; a++) args[a] = this.wordValue(this.word(c.extra[k] + a));
    const t = c.thread[k], pf = c.pf[k], f = pf >>> 3, e = c.err[k], r = c.result[k];
    // the column reads inline (each accessor would check the index again)
    const ev: { -readonly [K in keyof TraceEvent]: TraceEvent[K] } = {
      index: i, kind: c.kind[k], phase: (pf & 3) as Phase, flags: f === FLAGS_OVERFLOW ? this.flagsWide.get(i)! : f,
      pid: this.threadPid[t], tid: this.threadTid[t], err: e === ERR_OVERFLOW ? this.errWide.get(i)! : e,
      ts: tsBig(c.tsHi[k], c.tsLo[k]), result: r === RESULT_OVERFLOW ? this.resultWide.get(i)! : bigOf(r),
      caller: this.callerValues[c.caller[k]], args, conn: this.threadConn[t],
    };
    if (pf & 4) ev.blob = this.blobAt(i);
    return ev;
  }

  /**
   * get(i) into an event object and argument array the caller reuses (both overwritten by the next call; `args` as
   * long as the kind's argument list): the trace model reads its most frequent kinds so, not an object per event.
   */
  readInto(i: number, ev: { -readonly [K in keyof TraceEvent]: TraceEvent[K] }, args: bigint[]): void {
    const c = this.col(i), k = i & CHUNK_MASK;
    const nargs = NARGS[c.kind[k]];
    for (let a = 0; a < nargs; a++) args[a] = this.wordValue(this.word(c.extra[k] + a));
    const t = c.thread[k], pf = c.pf[k], f = pf >>> 3, e = c.err[k], r = c.result[k];
    ev.index = i; ev.kind = c.kind[k]; ev.phase = (pf & 3) as Phase; ev.flags = f === FLAGS_OVERFLOW ? this.flagsWide.get(i)! : f;
    ev.pid = this.threadPid[t]; ev.tid = this.threadTid[t]; ev.err = e === ERR_OVERFLOW ? this.errWide.get(i)! : e;
    ev.ts = tsBig(c.tsHi[k], c.tsLo[k]); ev.result = r === RESULT_OVERFLOW ? this.resultWide.get(i)! : bigOf(r);
    ev.caller = this.callerValues[c.caller[k]]; ev.args = args; ev.conn = this.threadConn[t];
    ev.blob = pf & 4 ? this.blobAt(i) : undefined;
  }

  /** Memory held per stored event: columns (whole chunks), argument pool, blob bytes and interned tables, divided by count. */
  bytesPerEvent(): number {
    if (this.n === 0) return 0;
    const columns = COLUMN_BYTES_PER_EVENT * this.n;
    const poolWords = this.pool.length ? (this.pool.length - 1) * POOL_CHUNK + this.poolUsed : 0;
    const interned = (this.wideValues.length + this.callerValues.length) * 40 + this.threadConn.length * 40;
    const side = (this.resultWide.size + this.errWide.size + this.flagsWide.size) * 40;
    return (columns + poolWords * 4 + this.blobBytes + interned + side) / this.n;
  }

  /** Bytes actually allocated (whole chunks), for the curious. */
  allocatedBytes(): number {
    return this.chunks.length * CHUNK * COLUMN_BYTES_PER_EVENT + this.pool.length * POOL_CHUNK * 4 + this.blobs.length * BLOB_CHUNK;
  }
}
