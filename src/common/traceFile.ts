// The .ipctrace file (docs/protocol.md): a 16-byte header, then chunks (u32 type, u32 body length, body padded to 8)
// written as messages arrive, so a recording cut off by a crash reads up to its last whole chunk.
// EVENTS chunks hold the EVENTS bodies exactly as the shim sent them.
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { ConnectionInfo } from './traceEvent';
import { EventStore, type ClosedInfo, type EndSummary, type SessionNote } from './store';
import { EventsEncoding, eventsEncoding, ProtocolError, validateEventsBody } from './protocol';

export const TRACE_MAGIC = 'IPCTRACE';
export const TRACE_VERSION = 1;
export enum ChunkType { Meta = 1, Connection = 2, Events = 3, Closed = 4, Note = 5, End = 6 }

const utf8 = new TextEncoder();
/** Bytes per slab of EVENTS chunk heads (16 bytes each). */
const HEAD_SLAB_BYTES = 64 * 1024;
/** Padding after a body whose length is not a multiple of 8 (only ever read). */
const ZERO_PAD = new Uint8Array(8);
const utf8d = new TextDecoder();

function header(): Uint8Array {
  const h = new Uint8Array(16);
  h.set(utf8.encode(TRACE_MAGIC), 0);
  new DataView(h.buffer).setUint32(8, TRACE_VERSION, true);
  return h;
}

function chunk(type: ChunkType, parts: readonly Uint8Array[]): Uint8Array {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(8 + ((len + 7) & ~7));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, len, true);
  let off = 8;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

function u32s(...v: number[]): Uint8Array {
  const b = new Uint8Array(4 * v.length);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true));
  return b;
}

export function noteJson(n: SessionNote): Record<string, unknown> {
  return { ts: n.ts.toString(), level: n.level, message: n.message, ...(n.conn !== undefined ? { conn: n.conn } : {}) };
}

/**
 * Streams a trace to disk. Chunks queue up and go out in batches with one writev each (no copies of EVENTS bodies,
 * which are written straight from the received message). Writes never throw at the caller: the first write error
 * (a full disk, say) is reported once through `onError`, and every later call is a no-op, so recording continues
 * in memory.
 */
export class TraceFileWriter {
  /** Set by the owner to hear about the first write error. */
  onError: ((err: Error) => void) | undefined;
  failed: Error | undefined;
  private ended = false;
  private queue: Uint8Array[] = [];
  private writing: Promise<void> | undefined;
  private fileClosed = false;

  private constructor(readonly path: string, private readonly fh: FileHandle) {}

  static async open(path: string, meta: Record<string, unknown>): Promise<TraceFileWriter> {
    // Open first, so a bad path is an error of open() and not a note later.
    const w = new TraceFileWriter(path, await open(path, 'w'));
    w.put(header());
    w.put(chunk(ChunkType.Meta, [utf8.encode(JSON.stringify(meta))]));
    return w;
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.queue = [];
    this.onError?.(err);
  }

  private put(...parts: Uint8Array[]): void {
    if (this.failed || this.ended) return;
    this.queue.push(...parts);
    this.writing ??= this.drain();
  }

  /** Writes queued buffers until the queue is empty (new ones may arrive while a batch is on its way). */
  private async drain(): Promise<void> {
    await Promise.resolve(); // let the current burst of messages queue up first
    try {
      while (this.queue.length && !this.failed) {
        const batch = this.queue.splice(0, 1024); // IOV_MAX
        let total = batch.reduce((n, b) => n + b.length, 0);
        let bufs = batch;
        while (total > 0) {
          const { bytesWritten } = await this.fh.writev(bufs);
          total -= bytesWritten;
          if (total > 0) bufs = skipBytes(bufs, bytesWritten); // short write: go on from where it stopped
        }
      }
    } catch (e) {
      this.fail(e as Error);
    } finally {
      this.writing = undefined;
    }
    if (this.queue.length && !this.failed) this.writing = this.drain();
  }

  connection(info: ConnectionInfo, helloJson: string): void {
    this.put(chunk(ChunkType.Connection, [u32s(info.conn), utf8.encode(helloJson)]));
  }
  // EVENTS chunk heads are carved from a shared slab: a fresh 16-byte typed array per message gets its own backing
  // store once `.buffer` is read or it is written (V8 keeps small typed arrays on its heap until then), which
  // profiled as the collector's costliest line at 200k events/s.
  private slab = new Uint8Array(HEAD_SLAB_BYTES);
  private slabView = new DataView(this.slab.buffer);
  private slabUsed = 0;

  events(conn: number, pid: number, body: Uint8Array): void {
    // chunk header + (conn, pid), then the body as received, then padding (bodies are 8-aligned)
    if (this.slabUsed + 16 > HEAD_SLAB_BYTES) {
      this.slab = new Uint8Array(HEAD_SLAB_BYTES);
      this.slabView = new DataView(this.slab.buffer);
      this.slabUsed = 0;
    }
    const at = this.slabUsed, dv = this.slabView;
    this.slabUsed += 16;
    dv.setUint32(at, ChunkType.Events, true);
    dv.setUint32(at + 4, 8 + body.length, true);
    dv.setUint32(at + 8, conn, true);
    dv.setUint32(at + 12, pid, true);
    const head = this.slab.subarray(at, at + 16);
    const pad = (8 - (body.length & 7)) & 7;
    if (pad) this.put(head, body, ZERO_PAD.subarray(0, pad)); else this.put(head, body);
  }
  closed(conn: number, info: ClosedInfo): void {
    this.put(chunk(ChunkType.Closed, [u32s(conn, 0), utf8.encode(JSON.stringify(info))]));
  }
  note(n: SessionNote): void {
    this.put(chunk(ChunkType.Note, [utf8.encode(JSON.stringify(noteJson(n)))]));
  }
  end(summary: EndSummary): void {
    this.put(chunk(ChunkType.End, [utf8.encode(JSON.stringify(summary))]));
    this.ended = true;
  }

  /** Writes what is queued and closes; resolves even after a write error (which onError already reported). */
  async close(): Promise<void> {
    this.ended = true;
    while (this.writing) await this.writing;
    if (this.fileClosed) return;
    this.fileClosed = true;
    try { await this.fh.close(); } catch (e) { this.fail(e as Error); }
  }
}

function skipBytes(bufs: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const b of bufs) {
    if (n >= b.length) { n -= b.length; continue; }
    out.push(n ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}

export interface TraceChunk { type: number; body: Uint8Array; /** file offset of the chunk header */ offset: number }

/** Thrown for a file that is not an .ipctrace at all; a cut-off trace is not an error (see readTraceChunks). */
export class TraceFileError extends Error { override name = 'TraceFileError'; }

/**
 * Streams the chunks of a trace. When the file ends inside a chunk, the generator returns the reason as its return
 * value instead of yielding the partial chunk.
 */
export async function* readTraceChunks(path: string): AsyncGenerator<TraceChunk, string | undefined> {
  let buf = new Uint8Array(0);
  let bufStart = 0; // file offset of buf[0]
  let pos = 0; // parse position within buf
  let headerDone = false;
  // Pieces read but not yet joined: a big chunk (up to 16 MiB of events) is joined once, when all of it is there,
  // instead of re-copying the growing remainder for every 1 MiB read.
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let need = 16; // bytes needed in buf (from pos) before parsing can make progress
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) {
    pending.push(piece as Buffer);
    pendingBytes += (piece as Buffer).length;
    if (buf.length - pos + pendingBytes < need) continue;
    const rest = buf.subarray(pos);
    const next = new Uint8Array(rest.length + pendingBytes);
    next.set(rest, 0);
    let o = rest.length;
    for (const p of pending) { next.set(p, o); o += p.length; }
    pending = [];
    pendingBytes = 0;
    bufStart += pos;
    buf = next;
    pos = 0;
    if (!headerDone) {
      if (utf8d.decode(buf.subarray(0, 8)) !== TRACE_MAGIC) throw new TraceFileError(`${path}: not an IPC Scope trace (no IPCTRACE header)`);
      const version = new DataView(buf.buffer, buf.byteOffset).getUint32(8, true);
      if (version !== TRACE_VERSION) throw new TraceFileError(`${path}: trace format version ${version} is not supported (this reader knows ${TRACE_VERSION})`);
      pos = 16;
      headerDone = true;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    need = 8;
    while (buf.length - pos >= 8) {
      const type = dv.getUint32(pos, true);
      const len = dv.getUint32(pos + 4, true);
      const padded = (len + 7) & ~7;
      if (buf.length - pos < 8 + padded) { need = 8 + padded; break; }
      yield { type, body: buf.subarray(pos + 8, pos + 8 + len), offset: bufStart + pos };
      pos += 8 + padded;
    }
  }
  const left = buf.length - pos + pendingBytes;
  if (!headerDone) {
    if (left === 0) throw new TraceFileError(`${path}: empty file, not an IPC Scope trace`);
    throw new TraceFileError(`${path}: ${left} bytes, too short for the trace header`);
  }
  if (left > 0) return `the file ends inside a chunk at byte ${bufStart + pos} (${left} bytes of an incomplete chunk ignored)`;
  return undefined;
}

function parseJsonChunk(body: Uint8Array, what: string, offset: number): Record<string, unknown> {
  try { return JSON.parse(utf8d.decode(body)) as Record<string, unknown>; } catch (e) {
    throw new TraceFileError(`${what} chunk at byte ${offset}: bad JSON (${(e as Error).message})`);
  }
}

export function connectionFromHello(conn: number, h: Record<string, unknown>): ConnectionInfo {
  return {
    conn, pid: Number(h.pid), ppid: Number(h.ppid), tid: Number(h.tid ?? h.pid), origin: String(h.origin ?? ''),
    session: String(h.session ?? ''), exe: String(h.exe ?? ''), cwd: String(h.cwd ?? ''),
    argv: Array.isArray(h.argv) ? h.argv.map(String) : [], startNs: BigInt(String(h.startNs ?? '0')), shim: String(h.shim ?? ''),
  };
}

/** Reads a whole trace into an EventStore (streaming). A cut-off file reads up to its last whole chunk; `cutOff` says so. */
export async function readTraceFile(path: string, opts: { maxEvents?: number } = {}): Promise<EventStore> {
  const store = new EventStore(opts);
  const it = readTraceChunks(path);
  let sawEnd = false;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      if (r.value) store.cutOff = r.value;
      else if (!sawEnd) store.cutOff = 'the recording was cut off: the trace has no END chunk';
      break;
    }
    const { type, body, offset } = r.value;
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    switch (type) {
      case ChunkType.Meta: store.meta = parseJsonChunk(body, 'META', offset); break;
      case ChunkType.Connection:
        store.addConnection(connectionFromHello(dv.getUint32(0, true), parseJsonChunk(body.subarray(4), 'CONNECTION', offset)));
        break;
      case ChunkType.Events: {
        const conn = dv.getUint32(0, true), pid = dv.getUint32(4, true);
        const events = body.subarray(8);
        try {
          // fixed records are checked first; compact ones as the store decodes them
          if (eventsEncoding(events, 0) === EventsEncoding.Fixed) validateEventsBody(events, 0);
          store.appendEventsBody(conn, pid, events, 0);
        } catch (e) {
          if (e instanceof ProtocolError) throw new TraceFileError(`EVENTS chunk at byte ${offset} (connection ${conn}): ${e.message}`);
          throw e;
        }
        break;
      }
      case ChunkType.Closed: {
        const j = parseJsonChunk(body.subarray(8), 'CLOSED', offset);
        store.closed.set(dv.getUint32(0, true), { reason: String(j.reason ?? ''), bye: Boolean(j.bye), emitted: String(j.emitted ?? '0'), dropped: String(j.dropped ?? '0') });
        break;
      }
      case ChunkType.Note: {
        const j = parseJsonChunk(body, 'NOTE', offset);
        store.notes.push({ ts: BigInt(String(j.ts ?? '0')), level: (j.level as SessionNote['level']) ?? 'info', message: String(j.message ?? ''),
          ...(typeof j.conn === 'number' ? { conn: j.conn } : {}) });
        break;
      }
      case ChunkType.End: {
        const j = parseJsonChunk(body, 'END', offset);
        store.end = { events: Number(j.events), dropped: Number(j.dropped), exitCode: (j.exitCode as number | null) ?? null,
          signal: (j.signal as string | null) ?? null, endNs: String(j.endNs ?? '0') };
        sawEnd = true;
        break;
      }
      default: break; // unknown chunk types are skipped: later versions may add some
    }
  }
  return store;
}
