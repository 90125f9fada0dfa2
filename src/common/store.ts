// EventStore: every event of a session in columns of typed arrays, grown chunk by chunk so tens of millions of events
// never cost a giant reallocation copy. Per event (fixed part, 30 bytes):
//   tsLo/tsHi u32+u32 (tsHi XOR the chunk's base, mostly 0) · thread u32 (index into an interned (conn, pid, tid)
//   table) · kind u16 · pf u16 (phase in bits 0–1, has-blob bit 2, flags above) · err i16 · result i32 · caller u32
//   (interned return address) · extra u32 (where the argument words are)
// plus one u32 word per argument in the extra pool (values ≥ 2^31 are interned: a mutex address used a million times
// is stored once) and, with a blob, two more words (offset, length) into a byte pool. Values that do not fit their
// narrow column (result outside i32, errno outside i16, flags above 13 bits) go to small side tables keyed by index.
// A chunk's columns are one allocation whose pages the kernel hands out zero and faults in only where written, and a
// field that is 0 is not written. So that most fields are 0: thread is stored XOR the chunk's first thread, caller and
// extra XOR the first of their kind in the chunk, and records whose arguments repeat their kind's last share one
// list of words. A loop of mutex events then writes 6 bytes per event (tsLo, kind), where each 4 KiB page fault
// costs the collector 1-2 us on a VM.
// maxEvents: once full, further events are refused and counted in `dropped` (the collector adds a note); nothing
// already stored is ever overwritten.
import type { ConnectionInfo, EventSource, TraceEvent } from './traceEvent';
import type { Phase } from './vocabulary';
import { KINDS, MAX_KIND_ID } from './vocabulary';
import { COMPACT_BODY_HEADER, CompactHead, EventsEncoding, HEADER_BYTES, ProtocolError } from './protocol';

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
/** Stores row j's caller index and argument offset, each XOR its kind's base in the chunk (set by the kind's first row). */
function putCallerExtra(c: Columns, j: number, kind: number, caller: number, extra: number): void {
  if (c.seen[kind] === 0) { c.seen[kind] = 1; c.callerBase[kind] = caller; c.extraBase[kind] = extra; return; }
  const cx = caller ^ c.callerBase[kind], ex = extra ^ c.extraBase[kind];
  if (cx !== 0) c.caller[j] = cx;
  if (ex !== 0) c.extra[j] = ex;
}
const KNOWN = new Uint8Array(MAX_KIND_ID + 1);
for (const k of KINDS) { NARGS[k.id] = k.args.length; KNOWN[k.id] = 1; }
const MAX_NARGS = Math.max(...KINDS.map((k) => k.args.length));
/** Compact decoding: per kind, the previous caller and arguments (lo, hi words) that the next record XORs against. */
const PREV_STRIDE = 2 * (1 + MAX_NARGS);
const PREV_WORDS = 1 + MAX_NARGS;
const TWO31 = 0x80000000;
const TWO32 = 0x100000000;

/** A compact record that breaks the rules; appendEventsBody names the record and its byte. */
class CompactFault extends Error {}
/** Where readVarint64 leaves a value: low and high 32 bits. */
const wide = new Uint32Array(2);
/** Reads an unsigned LEB128 varint of up to 64 bits at `off` into wide[0..1]; returns the offset after it. */
function readVarint64(b: Uint8Array, off: number, end: number, field: string): number {
  let lo = 0, hi = 0;
  for (let shift = 0; ; shift += 7) {
    if (off >= end) throw new CompactFault(`runs past the end of the message in its ${field}`);
    const byte = b[off++];
    if (shift < 28) lo |= (byte & 0x7f) << shift;
    else if (shift === 28) { lo |= (byte & 0x0f) << 28; hi = (byte & 0x7f) >>> 4; }
    else if (shift < 63) hi |= (byte & 0x7f) << (shift - 32);
    else if (byte > 1) throw new CompactFault(`the ${field} varint exceeds 64 bits`);
    else hi |= byte << 31;
    if (byte < 0x80) break;
  }
  wide[0] = lo; wide[1] = hi;
  return off;
}
/** Zigzag-decodes wide[0..1] in place (a signed 64-bit value as two's-complement halves). */
function unzigzag(): void {
  const lo = wide[0], hi = wide[1];
  let mlo = (lo >>> 1) | (hi << 31), mhi = hi >>> 1;
  if (lo & 1) { mlo = ~mlo; mhi = ~mhi; }
  wide[0] = mlo; wide[1] = mhi;
}

interface Columns {
  tsLo: Uint32Array;
  /** The timestamp's high word XOR hiBase: 0 (not written, its pages never touched) while it stays the chunk's. */
  tsHi: Uint32Array; hiBase: number;
  /** The thread's index XOR threadBase (the thread of the record before the chunk's first, where the decoder knows it):
   *  0, not written, while one thread's run goes on. */
  thread: Uint32Array; threadBase: number; kind: Uint16Array; pf: Uint16Array;
  err: Int16Array; result: Int32Array;
  /** The caller's interned index and the argument words' pool offset, each XOR its kind's first in the chunk
   *  (callerBase, extraBase; `seen` says which kinds have one): a call site or argument list that repeats stores 0. */
  caller: Uint32Array; extra: Uint32Array; callerBase: Uint32Array; extraBase: Uint32Array; seen: Uint8Array;
}
function newColumns(hiBase: number, threadBase: number): Columns {
  // One allocation for all ten columns: at 1.9 MB it is above glibc's mmap threshold, so its pages come from the
  // kernel already zero and are faulted in only where written. Ten separate 128-256 KB arrays could be carved from
  // the heap (freed message buffers raise that threshold), and calloc then cleared every byte of every column, the
  // ones that stay 0 for most events (tsHi, err, result) included.
  const buf = new ArrayBuffer(CHUNK * COLUMN_BYTES_PER_EVENT), n = CHUNK;
  return {
    tsLo: new Uint32Array(buf, 0, n), tsHi: new Uint32Array(buf, 4 * n, n), hiBase: hiBase >>> 0, thread: new Uint32Array(buf, 8 * n, n), threadBase,
    result: new Int32Array(buf, 12 * n, n), caller: new Uint32Array(buf, 16 * n, n), extra: new Uint32Array(buf, 20 * n, n),
    kind: new Uint16Array(buf, 24 * n, n), pf: new Uint16Array(buf, 26 * n, n), err: new Int16Array(buf, 28 * n, n),
    callerBase: new Uint32Array(MAX_KIND_ID + 1), extraBase: new Uint32Array(MAX_KIND_ID + 1), seen: new Uint8Array(MAX_KIND_ID + 1),
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

  private newPoolChunk(): Uint32Array {
    const pool = new Uint32Array(POOL_CHUNK);
    this.pool.push(pool);
    return pool;
  }

  /** Copies the `len`-byte blob at body[a] into the blob pool and puts its (offset, length) in pool[w], pool[w + 1]. */
  private copyBlob(pool: Uint32Array, w: number, body: Uint8Array, dv: DataView, a: number, len: number): void {
    this.blobRoom(len);
    const last = this.blobs.length - 1, to = this.blobUsed;
    pool[w] = last * BLOB_CHUNK + to;
    pool[w + 1] = len;
    const bdv = this.blobViews[last];
    let b = 0;
    for (; b + 4 <= len; b += 4) bdv.setUint32(to + b, dv.getUint32(a + b, true), true);
    if (b < len) { const chunk = this.blobs[last]; for (; b < len; b++) chunk[to + b] = body[a + b]; }
    this.blobUsed += len;
    this.blobBytes += len;
  }

  private markTable = new Uint8Array(MAX_KIND_ID + 1);
  /** Rows appended since the last clear whose kind markKinds named, in order (the appends fill it as they decode). */
  readonly marked: number[] = [];
  /**
   * Names the kinds (a table indexed by kind id, nonzero to mark) whose rows the appends list in `marked`: a caller
   * that looks for a few rare kinds in every batch learns them from the decoding loop, not a second pass.
   */
  markKinds(kinds: Uint8Array): void {
    this.markTable = new Uint8Array(MAX_KIND_ID + 1);
    this.markTable.set(kinds.subarray(0, MAX_KIND_ID + 1));
  }

  /**
   * Appends the records of an EVENTS body (count, encoding, records). Fixed records must have passed
   * `validateEventsBody`; compact ones are checked here as they are decoded, and a malformed one throws a
   * ProtocolError (naming the record and its byte; `base` is the body's offset in its message) with nothing of that
   * body kept. Returns how many were stored (the rest were refused: store full) and tells the onAppend listeners.
   */
  appendEventsBody(conn: number, pid: number, body: Uint8Array, base = HEADER_BYTES): number {
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    if (body.length >= 8 && dv.getUint32(4, true) === EventsEncoding.Compact) return this.appendCompact(conn, pid, body, dv, base);
    return this.appendFixed(conn, pid, body, dv);
  }

  /**
   * The hot loop of the collector for fixed records (millions of events/s): state lives in locals and is written
   * back once, the caller and wide-value caches are probed inline (a call and a Map lookup only for a value not seen
   * lately).
   */
  private appendFixed(conn: number, pid: number, body: Uint8Array, dv: DataView): number {
    const count = dv.getUint32(0, true);
    const first = this.n;
    const room = Math.max(0, Math.min(count, this.maxEvents - this.n));
    if (room < count) this.dropped += count - room;
    let off = 8;
    let lastTid = -1, lastThread = 0;
    let i = this.n;
    let c = this.chunks[i >>> CHUNK_SHIFT];
    const callerCache = this.callerCache, wideCache = this.wideCache, markTable = this.markTable;
    let pool = this.pool.length ? this.pool[this.pool.length - 1] : undefined;
    let poolUsed = this.poolUsed;
    let poolBase = (this.pool.length - 1) << POOL_SHIFT;
    for (let r = 0; r < room; r++, i++) {
      const j = i & CHUNK_MASK;
      if (j === 0 || c === undefined) {
        if ((i >>> CHUNK_SHIFT) === this.chunks.length) this.chunks.push(newColumns(dv.getUint32(off + 20, true), lastThread));
        c = this.chunks[i >>> CHUNK_SHIFT];
      }
      const kind = dv.getUint16(off, true);
      const phase = body[off + 2];
      const nargs = body[off + 3];
      const blobLen = dv.getUint16(off + 4, true);
      const flags = dv.getUint16(off + 6, true);
      const tid = dv.getUint32(off + 8, true);
      if (tid !== lastTid) { lastTid = tid; lastThread = this.threadOf(conn, pid, tid); }
      if (lastThread !== c.threadBase) c.thread[j] = lastThread ^ c.threadBase;
      c.kind[j] = kind;
      if (markTable[kind]) this.marked.push(i);
      if (flags < FLAGS_OVERFLOW) c.pf[j] = phase | (blobLen ? 4 : 0) | (flags << 3);
      else { c.pf[j] = phase | (blobLen ? 4 : 0) | (FLAGS_OVERFLOW << 3); this.flagsWide.set(i, flags); }
      const err = dv.getInt32(off + 12, true);
      if (err > ERR_OVERFLOW && err < 0x8000) c.err[j] = err; else { c.err[j] = ERR_OVERFLOW; this.errWide.set(i, err); }
      c.tsLo[j] = dv.getUint32(off + 16, true);
      const hx = (dv.getUint32(off + 20, true) ^ c.hiBase) >>> 0;
      if (hx) c.tsHi[j] = hx;
      const rlo = dv.getUint32(off + 24, true), rhi = dv.getInt32(off + 28, true);
      if ((rhi === 0 && rlo < 0x80000000) || (rhi === -1 && rlo > 0x80000000)) c.result[j] = rlo | 0;
      else { c.result[j] = RESULT_OVERFLOW; this.resultWide.set(i, dv.getBigInt64(off + 24, true)); }
      const clo = dv.getUint32(off + 32, true), chi = dv.getUint32(off + 36, true);
      const cslot = 3 * ((clo ^ (clo >>> 8) ^ chi) & 255);
      const callerIndex = callerCache[cslot] === clo && callerCache[cslot + 1] === chi && callerCache[cslot + 2] !== 0xffffffff
        ? callerCache[cslot + 2] : this.internCaller(clo, chi);
      const words = nargs + (blobLen ? 2 : 0);
      let extra = 0;
      if (words) {
        if (pool === undefined || poolUsed + words > POOL_CHUNK) {
          pool = this.newPoolChunk();
          poolUsed = 0;
          poolBase = (this.pool.length - 1) << POOL_SHIFT;
        }
        let w = poolUsed;
        extra = poolBase + w;
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
        if (blobLen) this.copyBlob(pool, w, body, dv, a, blobLen);
      }
      putCallerExtra(c, j, kind, callerIndex, extra);
      off += 40 + 8 * nargs + ((blobLen + 7) & ~7);
    }
    this.poolUsed = pool === undefined ? this.poolUsed : poolUsed;
    this.n = i;
    if (room) for (const l of this.listeners) l(first, room);
    return room;
  }

  /** Per kind, the previous caller and arguments of the message being decoded (docs/protocol.md, encoding 1). */
  private readonly prev = new Uint32Array((MAX_KIND_ID + 1) * PREV_STRIDE);
  /** Per kind, where the previous record's argument words are in the pool (0xffffffff: none yet in this message). */
  private readonly prevExtra = new Uint32Array(MAX_KIND_ID + 1);
  /** The same across messages: where the kind's last argument words went (0xffffffff: none); set when a body is stored
   *  whole, so it never names words a rejected body took back. */
  private readonly lastExtra = new Uint32Array(MAX_KIND_ID + 1).fill(0xffffffff);
  /** Per kind, the previous blob in this message (blob-pool offset and length; length 0: none yet), which a compact
   *  record's blob length 0 repeats, and whether prevExtra's words end with a blob's two words (then a record repeating
   *  both the arguments and the blob shares them whole). */
  private readonly prevBlobOff = new Uint32Array(MAX_KIND_ID + 1);
  private readonly prevBlobLen = new Uint32Array(MAX_KIND_ID + 1);
  private readonly prevExtraBlob = new Uint8Array(MAX_KIND_ID + 1);
  /** Per kind, what the previous caller and arguments were stored as (caller index, pool words). */
  private readonly prevWord = new Uint32Array((MAX_KIND_ID + 1) * PREV_WORDS);

  /**
   * The hot loop for compact records: one pass that decodes, checks and stores. Varints of one byte (most fields:
   * XORs against a repeated call site, mutex or fd are 0) are read inline, longer ones through readVarint64. On a
   * malformed record everything this body added is taken back before the error goes up.
   */
  private appendCompact(conn: number, pid: number, body: Uint8Array, dv: DataView, base: number): number {
    if (body.length < COMPACT_BODY_HEADER)
      throw new ProtocolError(`compact EVENTS body is ${body.length} bytes, shorter than its ${COMPACT_BODY_HEADER}-byte header`);
    const count = dv.getUint32(0, true);
    const first = this.n;
    const room = Math.max(0, Math.min(count, this.maxEvents - this.n));
    const keep = { pool: this.pool.length, poolUsed: this.poolUsed, blobs: this.blobs.length, blobUsed: this.blobUsed, blobBytes: this.blobBytes };
    const prev = this.prev, prevWord = this.prevWord, prevExtra = this.prevExtra.fill(0xffffffff), lastExtra = this.lastExtra;
    const markTable = this.markTable, marked = this.marked, markedKept = marked.length;
    const prevBlobOff = this.prevBlobOff, prevBlobLen = this.prevBlobLen.fill(0), prevExtraBlob = this.prevExtraBlob.fill(0);
    prev.fill(0);
    // per kind: the caller's interned index (unknown at first) and each argument's pool word (0 for the value 0)
    prevWord.fill(0);
    for (let k = 0; k < prevWord.length; k += PREV_WORDS) prevWord[k] = 0xffffffff;
    const end = body.length;
    let off = COMPACT_BODY_HEADER, at = off, r = 0;
    let tsLo = dv.getUint32(8, true), tsHi = dv.getUint32(12, true);
    let kind = -1, lastThread = -1, mark = 0;
    let i = this.n;
    let c = this.chunks[i >>> CHUNK_SHIFT];
    const callerCache = this.callerCache, wideCache = this.wideCache;
    let pool = this.pool.length ? this.pool[this.pool.length - 1] : undefined;
    let poolUsed = this.poolUsed;
    let poolBase = (this.pool.length - 1) << POOL_SHIFT;
    try {
      for (; r < room; r++, i++) {
        at = off;
        const j = i & CHUNK_MASK;
        if (j === 0 || c === undefined) {
          if ((i >>> CHUNK_SHIFT) === this.chunks.length) this.chunks.push(newColumns(tsHi, Math.max(lastThread, 0)));
          c = this.chunks[i >>> CHUNK_SHIFT];
        }
        if (off >= end) throw new CompactFault(`runs past the end of the message (count says ${count} records)`);
        const head = body[off++];
        const phase = head & 3;
        if (phase === 3) throw new CompactFault('phase 3 is not 0 (instant), 1 (begin) or 2 (end)');
        if (head & CompactHead.SameKind) {
          if (r === 0) throw new CompactFault('the first record of a message cannot repeat a previous kind');
        } else {
          let b = body[off];
          if (b < 0x80) off++;
          else { off = readVarint64(body, off, end, 'kind'); b = wide[1] || wide[0] > MAX_KIND_ID ? -1 : wide[0]; }
          if (!(b >= 0 && b <= MAX_KIND_ID && KNOWN[b])) throw new CompactFault(`kind ${b === -1 || b === undefined ? 'beyond the vocabulary' : b} is not in the vocabulary`);
          kind = b;
          mark = markTable[b];
        }
        if (head & CompactHead.Tid) {
          off = readVarint64(body, off, end, 'tid');
          if (wide[1]) throw new CompactFault('its tid exceeds 32 bits');
          lastThread = this.threadOf(conn, pid, wide[0]);
        } else if (r === 0) throw new CompactFault('the first record of a message must carry its tid');
        // the timestamp: the previous one plus a signed step below 2^53
        let d = body[off], d2 = 0;
        if (d < 0x80) { off++; d = (d >>> 1) ^ -(d & 1); }
        else if ((d2 = body[off + 1]) < 0x80) { off += 2; d = (d & 0x7f) | (d2 << 7); d = (d >>> 1) ^ -(d & 1); }
        else {
          off = readVarint64(body, off, end, 'timestamp');
          const lo = wide[0], hi = wide[1];
          if (hi >>> 1 >= 0x200000) throw new CompactFault('its timestamp step is not below 2^53 in magnitude');
          const m = (hi >>> 1) * TWO32 + (((lo >>> 1) | (hi << 31)) >>> 0);
          d = lo & 1 ? -m - 1 : m;
        }
        if (d > -TWO31 && d < TWO31) tsLo += d;
        else { const dHi = Math.floor(d / TWO32); tsLo += d - dHi * TWO32; tsHi += dHi; }
        if (tsLo >= TWO32) { tsLo -= TWO32; tsHi++; } else if (tsLo < 0) { tsLo += TWO32; tsHi--; }
        if (tsHi < 0 || tsHi >= TWO32) throw new CompactFault('its timestamp is outside 0..2^64-1');
        // Columns of a fresh chunk are zero, and a rolled-back body zeroes its rows again: a field that is 0 is not
        // written. Columns that stay 0 (errno, result, flags of most events) are then never touched, and their pages
        // never faulted in.
        c.tsLo[j] = tsLo;
        if (tsHi !== c.hiBase) c.tsHi[j] = (tsHi ^ c.hiBase) >>> 0;
        if (lastThread !== c.threadBase) c.thread[j] = lastThread ^ c.threadBase;
        c.kind[j] = kind;
        if (mark) marked.push(i);
        let flags = 0;
        if (head & CompactHead.Flags) {
          off = readVarint64(body, off, end, 'flags');
          if (wide[1] || wide[0] > 0xffff) throw new CompactFault('its flags exceed 16 bits');
          flags = wide[0];
        }
        const blobBit = head & CompactHead.Blob ? 4 : 0;
        if (flags < FLAGS_OVERFLOW) { const pf = phase | blobBit | (flags << 3); if (pf) c.pf[j] = pf; }
        else { c.pf[j] = phase | blobBit | (FLAGS_OVERFLOW << 3); this.flagsWide.set(i, flags); }
        let err = 0;
        if (head & CompactHead.Err) {
          off = readVarint64(body, off, end, 'errno');
          unzigzag();
          const lo = wide[0] | 0, hi = wide[1] | 0;
          if (!((hi === 0 && lo >= 0) || (hi === -1 && lo < 0))) throw new CompactFault('its errno does not fit an i32');
          err = lo;
        }
        if (err === 0) { /* stays 0 */ } else if (err > ERR_OVERFLOW && err < 0x8000) c.err[j] = err; else { c.err[j] = ERR_OVERFLOW; this.errWide.set(i, err); }
        if (head & CompactHead.Result) {
          const b = body[off];
          let b2 = 0;
          if (b < 0x80) { off++; c.result[j] = (b >>> 1) ^ -(b & 1); }
          else if ((b2 = body[off + 1]) < 0x80) { off += 2; const z = (b & 0x7f) | (b2 << 7); c.result[j] = (z >>> 1) ^ -(z & 1); }
          else {
            off = readVarint64(body, off, end, 'result');
            unzigzag();
            const lo = wide[0] | 0, hi = wide[1] | 0;
            if ((hi === 0 && lo >= 0) || (hi === -1 && lo < 0 && lo !== RESULT_OVERFLOW)) c.result[j] = lo;
            else { c.result[j] = RESULT_OVERFLOW; this.resultWide.set(i, (BigInt(hi) << 32n) | BigInt(lo >>> 0)); }
          }
        }
        // the caller and the arguments: XORs against the same kind's previous values. An XOR of 0 (the same call
        // site, mutex, fd as last time) reuses the word stored for it last time: no interning lookup.
        let p = kind * PREV_STRIDE, q = kind * PREV_WORDS, callerIndex = 0, extra = 0;
        {
          let xlo = body[off], xhi = 0, b2 = 0;
          if (xlo < 0x80) off++;
          else if ((b2 = body[off + 1]) < 0x80) { off += 2; xlo = (xlo & 0x7f) | (b2 << 7); }
          else { off = readVarint64(body, off, end, 'caller'); xlo = wide[0]; xhi = wide[1]; }
          if ((xlo | xhi) === 0 && prevWord[q] !== 0xffffffff) callerIndex = prevWord[q];
          else {
            const clo = (prev[p] ^= xlo) >>> 0, chi = (prev[p + 1] ^= xhi) >>> 0;
            // The cache probe stays inline, as in appendFixed: calling internCaller (and internWide below) instead
            // made this loop 25 -> 37-48 ns/event on a mutex stream in half the runs (V8's inlining of the loop).
            const cslot = 3 * ((clo ^ (clo >>> 8) ^ chi) & 255);
            callerIndex = prevWord[q] = callerCache[cslot] === clo && callerCache[cslot + 1] === chi && callerCache[cslot + 2] !== 0xffffffff
              ? callerCache[cslot + 2] : this.internCaller(clo, chi);
          }
        }
        const nargs = NARGS[kind];
        const words = nargs + (blobBit ? 2 : 0);
        // The same arguments as the kind's previous record (each XOR a single 0 byte), and no blob or the same blob
        // (length 0) as the one those words end with: point at the words stored for that record. A mutex's lock and
        // unlock events then add no argument words at all, nor a ping-pong's repeated reads and writes.
        let same = words !== 0 && prevExtra[kind] !== 0xffffffff && off + nargs + (blobBit ? 1 : 0) <= end &&
          (!blobBit || (prevExtraBlob[kind] === 1 && body[off + nargs] === 0));
        for (let k = 0; same && k < nargs; k++) same = body[off + k] === 0;
        if (same) { extra = prevExtra[kind]; off += nargs + (blobBit ? 1 : 0); }
        else if (words) {
          if (pool === undefined || poolUsed + words > POOL_CHUNK) {
            pool = this.newPoolChunk();
            poolUsed = 0;
            poolBase = (this.pool.length - 1) << POOL_SHIFT;
          }
          let w = poolUsed;
          const firstOfKind = prevExtra[kind] === 0xffffffff;
          extra = prevExtra[kind] = poolBase + w;
          prevExtraBlob[kind] = blobBit ? 1 : 0;
          poolUsed += words;
          for (let k = 0; k < nargs; k++) {
            p += 2; q++;
            let xlo = body[off], xhi = 0, b2 = 0;
            if (xlo === 0) { off++; pool[w++] = prevWord[q]; continue; }
            if (xlo < 0x80) off++;
            else if ((b2 = body[off + 1]) < 0x80) { off += 2; xlo = (xlo & 0x7f) | (b2 << 7); }
            else { off = readVarint64(body, off, end, `argument ${k}`); xlo = wide[0]; xhi = wide[1]; }
            const lo = (prev[p] ^= xlo) >>> 0, hi = (prev[p + 1] ^= xhi) >>> 0;
            if (hi === 0 && lo < INTERNED) pool[w++] = prevWord[q] = lo;
            else {
              const ws = 3 * ((lo ^ (lo >>> 8) ^ hi) & 255);
              pool[w++] = prevWord[q] = INTERNED | (wideCache[ws] === lo && wideCache[ws + 1] === hi && wideCache[ws + 2] !== 0xffffffff
                ? wideCache[ws + 2] : this.internWide(lo, hi));
            }
          }
          // The kind's first record in this message, with the arguments its last one had in an earlier message (whose
          // XOR state this one does not share): give the fresh words back and point at those, so a repeated argument
          // list stays one offset across messages too.
          const le = lastExtra[kind];
          if (firstOfKind && !blobBit && le !== 0xffffffff) {
            const lp = this.pool[le >>> POOL_SHIFT], l0 = le & POOL_MASK, w0 = w - nargs;
            let eq = true;
            for (let k = 0; eq && k < nargs; k++) eq = lp[l0 + k] === pool[w0 + k];
            if (eq) { poolUsed -= words; extra = prevExtra[kind] = le; prevExtraBlob[kind] = 0; }
          }
          if (blobBit) {
            let blobLen = body[off];
            if (blobLen < 0x80) off++;
            else {
              off = readVarint64(body, off, end, 'blob length');
              blobLen = wide[1] ? -1 : wide[0];
            }
            if (blobLen === 0) {
              // the same bytes as the kind's previous blob in this message: its offset and length again, no copy
              if (prevBlobLen[kind] === 0) throw new CompactFault('its blob repeats the previous one of its kind, and none came before in this message');
              pool[w] = prevBlobOff[kind];
              pool[w + 1] = prevBlobLen[kind];
            } else {
              if (!(blobLen >= 1 && blobLen <= 0xffff)) throw new CompactFault(`its blob length ${blobLen === -1 ? 'exceeds 32 bits' : blobLen} is not 0..65535`);
              if (off + blobLen > end) throw new CompactFault(`its ${blobLen}-byte blob runs past the end of the message (${end - off} left)`);
              this.copyBlob(pool, w, body, dv, off, blobLen);
              prevBlobOff[kind] = pool[w];
              prevBlobLen[kind] = blobLen;
              off += blobLen;
            }
          }
        }
        putCallerExtra(c, j, kind, callerIndex, extra);
        if (off > end) throw new CompactFault('runs past the end of the message');
      }
      if (room === count && off !== end)
        throw new ProtocolError(`EVENTS: ${end - off} bytes after the last of ${count} records (at byte ${base + off})`);
    } catch (e) {
      // take back everything this body added: the store stays as it was before the message, its rows zero again
      for (let x = first; x <= i && x < first + room; x++) {
        const z = this.chunks[x >>> CHUNK_SHIFT], y = x & CHUNK_MASK;
        if (!z) break;
        z.tsLo[y] = 0; z.tsHi[y] = 0; z.thread[y] = 0; z.kind[y] = 0; z.pf[y] = 0; z.err[y] = 0; z.result[y] = 0; z.caller[y] = 0; z.extra[y] = 0;
      }
      this.n = first;
      marked.length = markedKept;
      this.pool.length = keep.pool; this.poolUsed = keep.poolUsed;
      this.blobs.length = keep.blobs; this.blobViews.length = keep.blobs; this.blobUsed = keep.blobUsed; this.blobBytes = keep.blobBytes;
      for (const m of [this.flagsWide, this.errWide, this.resultWide]) for (const k of m.keys()) if (k >= first) m.delete(k);
      if (e instanceof CompactFault) throw new ProtocolError(`compact record ${r} at byte ${base + at}: ${e.message}`);
      throw e;
    }
    if (room < count) this.dropped += count - room;
    this.poolUsed = pool === undefined ? this.poolUsed : poolUsed;
    this.n = i;
    for (let k = 0; k < prevExtra.length; k++) if (prevExtra[k] !== 0xffffffff) lastExtra[k] = prevExtra[k];
    if (room) for (const l of this.listeners) l(first, room);
    return room;
  }

  private col(i: number): Columns {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`event index ${i} is outside 0..${this.n - 1}`);
    return this.chunks[i >>> CHUNK_SHIFT];
  }

  kindAt(i: number): number { return this.col(i).kind[i & CHUNK_MASK]; }
  /**
   * Appends to `out` the indices in [first, first + count) whose kind has a nonzero byte in `kinds` (indexed by kind
   * id): one tight loop over the kind column, for a caller that looks for a few rare kinds in every batch.
   */
  findKinds(first: number, count: number, kinds: Uint8Array, out: number[]): void {
    const end = Math.min(first + count, this.n);
    for (let i = Math.max(0, first); i < end;) {
      const col = this.chunks[i >>> CHUNK_SHIFT].kind, base = i & ~CHUNK_MASK, stop = Math.min(end, base + CHUNK);
      for (; i < stop; i++) if (kinds[col[i - base]]) out.push(i);
    }
  }
  phaseAt(i: number): number { return this.col(i).pf[i & CHUNK_MASK] & 3; }
  flagsAt(i: number): number {
    const f = this.col(i).pf[i & CHUNK_MASK] >>> 3;
    return f === FLAGS_OVERFLOW ? this.flagsWide.get(i)! : f;
  }
  private threadAt(i: number): number { const c = this.col(i); return c.thread[i & CHUNK_MASK] ^ c.threadBase; }
  pidAt(i: number): number { return this.threadPid[this.threadAt(i)]; }
  tidAt(i: number): number { return this.threadTid[this.threadAt(i)]; }
  connAt(i: number): number { return this.threadConn[this.threadAt(i)]; }
  tsAt(i: number): bigint {
    const c = this.col(i), j = i & CHUNK_MASK;
    return tsBig((c.tsHi[j] ^ c.hiBase) >>> 0, c.tsLo[j]);
  }
  /** The timestamp as a double (ns): exact below 2^53 ns (104 days of uptime), for sorting and drawing. */
  tsNumberAt(i: number): number {
    const c = this.col(i), j = i & CHUNK_MASK;
    return ((c.tsHi[j] ^ c.hiBase) >>> 0) * 0x100000000 + c.tsLo[j];
  }
  errAt(i: number): number {
    const e = this.col(i).err[i & CHUNK_MASK];
    return e === ERR_OVERFLOW ? this.errWide.get(i)! : e;
  }
  resultAt(i: number): bigint {
    const r = this.col(i).result[i & CHUNK_MASK];
    return r === RESULT_OVERFLOW ? this.resultWide.get(i)! : bigOf(r);
  }
  callerAt(i: number): bigint { const c = this.col(i), j = i & CHUNK_MASK; return this.callerValues[c.caller[j] ^ c.callerBase[c.kind[j]]]; }
  /** Where event j of chunk c keeps its argument words (then, with a blob, the blob's offset and length). */
  private extraOf(c: Columns, j: number): number { return c.extra[j] ^ c.extraBase[c.kind[j]]; }
  nargsAt(i: number): number { return NARGS[this.kindAt(i)]; }

  private word(w: number): number { return this.pool[w >>> POOL_SHIFT][w & POOL_MASK]; }
  private wordValue(v: number): bigint { return v >= INTERNED ? this.wideValues[v - INTERNED] : bigOf(v); }

  /** Argument j of event i (unsigned 64-bit, as on the wire). */
  argAt(i: number, j: number): bigint {
    const c = this.col(i), k = i & CHUNK_MASK;
    const nargs = NARGS[c.kind[k]];
    if (!(j >= 0 && j < nargs)) throw new RangeError(`event ${i} has ${nargs} arguments, no argument ${j}`);
    return this.wordValue(this.word(this.extraOf(c, k) + j));
  }
  /** Argument j as a double when it is below 2^31 (no allocation), else -1; for hot loops over fds, counts, enums. */
  argSmallAt(i: number, j: number): number {
    const c = this.col(i), k = i & CHUNK_MASK;
    const v = this.word(this.extraOf(c, k) + j);
    return v >= INTERNED ? -1 : v;
  }

  blobAt(i: number): Uint8Array | undefined {
    const c = this.col(i), k = i & CHUNK_MASK;
    if (!(c.pf[k] & 4)) return undefined;
    const w = this.extraOf(c, k) + NARGS[c.kind[k]];
    const at = this.word(w), len = this.word(w + 1);
    const chunk = this.blobs[Math.floor(at / BLOB_CHUNK)];
    const off = at % BLOB_CHUNK;
    return chunk.subarray(off, off + len);
  }

  get(i: number): TraceEvent {
    const c = this.col(i), k = i & CHUNK_MASK;
    const nargs = NARGS[c.kind[k]];
    const args: bigint[] = new Array(nargs);
    const x = this.extraOf(c, k);
    for (let a = 0; a < nargs; a++) args[a] = this.wordValue(this.word(x + a));
    const t = c.thread[k] ^ c.threadBase, pf = c.pf[k], f = pf >>> 3, e = c.err[k], r = c.result[k];
    // the column reads inline (each accessor would check the index again)
    const ev: { -readonly [K in keyof TraceEvent]: TraceEvent[K] } = {
      index: i, kind: c.kind[k], phase: (pf & 3) as Phase, flags: f === FLAGS_OVERFLOW ? this.flagsWide.get(i)! : f,
      pid: this.threadPid[t], tid: this.threadTid[t], err: e === ERR_OVERFLOW ? this.errWide.get(i)! : e,
      ts: tsBig((c.tsHi[k] ^ c.hiBase) >>> 0, c.tsLo[k]), result: r === RESULT_OVERFLOW ? this.resultWide.get(i)! : bigOf(r),
      caller: this.callerValues[c.caller[k] ^ c.callerBase[c.kind[k]]], args, conn: this.threadConn[t],
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
    const x = this.extraOf(c, k);
    for (let a = 0; a < nargs; a++) args[a] = this.wordValue(this.word(x + a));
    const t = c.thread[k] ^ c.threadBase, pf = c.pf[k], f = pf >>> 3, e = c.err[k], r = c.result[k];
    ev.index = i; ev.kind = c.kind[k]; ev.phase = (pf & 3) as Phase; ev.flags = f === FLAGS_OVERFLOW ? this.flagsWide.get(i)! : f;
    ev.pid = this.threadPid[t]; ev.tid = this.threadTid[t]; ev.err = e === ERR_OVERFLOW ? this.errWide.get(i)! : e;
    ev.ts = tsBig((c.tsHi[k] ^ c.hiBase) >>> 0, c.tsLo[k]); ev.result = r === RESULT_OVERFLOW ? this.resultWide.get(i)! : bigOf(r);
    ev.caller = this.callerValues[c.caller[k] ^ c.callerBase[c.kind[k]]]; ev.args = args; ev.conn = this.threadConn[t];
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
