// The IPC Scope wire protocol (docs/protocol.md, version 1): encode and decode every message and event record.
// Decoding validates exactly what the doc lists, and a ProtocolError says where and what in words a person reads
// ("record 17 at byte 1208: kind 999 is not in the vocabulary (version 1)").
// EVENTS bodies are validated in place and handed on as bytes: the store and the trace file take them as they came.
import { KINDS, kindById, VOCABULARY_VERSION } from './vocabulary';

/** Declared argument count per kind id, -1 for ids not in the vocabulary: one array read per record. */
const NARGS_BY_KIND = new Int16Array(0x10000).fill(-1);
for (const k of KINDS) NARGS_BY_KIND[k.id] = k.args.length;

export const MAGIC = 0x53435049;
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 40;
/** The second u32 of an EVENTS body: how its records are encoded (docs/protocol.md). */
export enum EventsEncoding { Fixed = 0, Compact = 1 }
/** Bytes before the first compact record: count, encoding, base timestamp. */
export const COMPACT_BODY_HEADER = 16;
/** Compact head byte: bits 0-1 phase, then these. */
export const enum CompactHead { SameKind = 4, Tid = 8, Flags = 16, Err = 32, Result = 64, Blob = 128 }
/** No message may exceed this (header included). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const SUBPROTOCOL = 'ipcscope.v1';
export const SECRET_HEADER = 'x-ipcscope-secret';

export enum MessageType { Hello = 1, Welcome = 2, Events = 3, Command = 4, Bye = 5, Error = 6, Reply = 7 }

/** Which side sends a message type. */
export type Sender = 'shim' | 'collector';
const SENT_BY: Record<number, Sender> = {
  [MessageType.Hello]: 'shim', [MessageType.Welcome]: 'collector', [MessageType.Events]: 'shim',
  [MessageType.Command]: 'collector', [MessageType.Bye]: 'shim', [MessageType.Error]: 'collector', [MessageType.Reply]: 'shim',
};

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** The HELLO JSON as it travels (startNs is a decimal string on the wire). */
export interface HelloJson {
  pid: number; ppid: number; tid: number; origin: string; session: string; vocabulary: number;
  exe: string; cwd: string; argv: string[]; startNs: string; shim: string;
}
export interface WelcomeJson { session: string; connection: number; payloadBytes: number; pageFaults: boolean }

/** One event record, decoded (tests, exporters, encoders; the store reads records in place instead). */
export interface EventRecord {
  kind: number; phase: number; flags: number; tid: number; err: number;
  ts: bigint; result: bigint; caller: bigint; args: bigint[]; blob?: Uint8Array;
}

export type DecodedMessage =
  | { type: MessageType.Hello; seq: number; hello: HelloJson; json: string }
  | { type: MessageType.Welcome; seq: number; welcome: WelcomeJson }
  | { type: MessageType.Events; seq: number; count: number; encoding: EventsEncoding; /** count, encoding, records: as in the .ipctrace EVENTS chunk */ body: Uint8Array }
  | { type: MessageType.Command; seq: number; command: number; requestId: bigint; args: bigint[]; blob: Uint8Array }
  | { type: MessageType.Bye; seq: number; emitted: bigint; dropped: bigint }
  | { type: MessageType.Error; seq: number; message: string }
  | { type: MessageType.Reply; seq: number; requestId: bigint; status: number; json: unknown };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8enc = new TextEncoder();

function view(buf: Uint8Array): DataView { return new DataView(buf.buffer, buf.byteOffset, buf.byteLength); }

function parseJson(body: Uint8Array, what: string): unknown {
  let text: string;
  try { text = utf8.decode(body); } catch { throw new ProtocolError(`${what} body is not valid UTF-8`); }
  try { return JSON.parse(text); } catch (e) { throw new ProtocolError(`${what} body is not valid JSON: ${(e as Error).message}`); }
}

function checkHello(v: unknown): HelloJson {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('HELLO body is not a JSON object');
  const o = v as Record<string, unknown>;
  const need = (k: string, t: 'number' | 'string') => {
    if (typeof o[k] !== t) throw new ProtocolError(`HELLO field "${k}" must be a ${t}, got ${o[k] === undefined ? 'nothing' : JSON.stringify(o[k])}`);
  };
  need('pid', 'number'); need('ppid', 'number'); need('tid', 'number'); need('origin', 'string');
  need('startNs', 'string');
  if (!/^\d+$/.test(o.startNs as string)) throw new ProtocolError(`HELLO field "startNs" must be a decimal string, got ${JSON.stringify(o.startNs)}`);
  if (o.vocabulary !== undefined && o.vocabulary !== VOCABULARY_VERSION)
    throw new ProtocolError(`HELLO speaks vocabulary ${JSON.stringify(o.vocabulary)}, this collector knows version ${VOCABULARY_VERSION}`);
  if (o.argv !== undefined && !(Array.isArray(o.argv) && o.argv.every((a) => typeof a === 'string')))
    throw new ProtocolError('HELLO field "argv" must be an array of strings');
  return {
    pid: o.pid as number, ppid: o.ppid as number, tid: o.tid as number, origin: o.origin as string,
    session: typeof o.session === 'string' ? o.session : '', vocabulary: (o.vocabulary as number) ?? VOCABULARY_VERSION,
    exe: typeof o.exe === 'string' ? o.exe : '', cwd: typeof o.cwd === 'string' ? o.cwd : '',
    argv: (o.argv as string[] | undefined) ?? [], startNs: o.startNs as string, shim: typeof o.shim === 'string' ? o.shim : '',
  };
}

/** Size in bytes of a record with `nargs` arguments and a blob of `blobLen` bytes. */
export function recordSize(nargs: number, blobLen: number): number {
  return RECORD_HEADER_BYTES + 8 * nargs + ((blobLen + 7) & ~7);
}

/** The encoding of an EVENTS body, after checking it has the header that encoding needs. */
export function eventsEncoding(body: Uint8Array, base = HEADER_BYTES): EventsEncoding {
  if (body.length < 8) throw new ProtocolError(`EVENTS body is ${body.length} bytes, shorter than its 8-byte count header`);
  const enc = view(body).getUint32(4, true);
  if (enc === EventsEncoding.Fixed) return enc;
  if (enc !== EventsEncoding.Compact) throw new ProtocolError(`EVENTS encoding ${enc} at byte ${base + 4} is neither 0 (fixed) nor 1 (compact)`);
  if (body.length < COMPACT_BODY_HEADER)
    throw new ProtocolError(`compact EVENTS body is ${body.length} bytes, shorter than its ${COMPACT_BODY_HEADER}-byte header`);
  return enc;
}

/**
 * Validates the records of an EVENTS body (count, encoding, records). `base` is the body's offset in its message so
 * messages name bytes of the whole message. Returns the record count.
 */
export function validateEventsBody(body: Uint8Array, base = HEADER_BYTES): number {
  if (eventsEncoding(body, base) === EventsEncoding.Compact) return decodeCompact(body, base, undefined);
  const dv = view(body);
  const count = dv.getUint32(0, true);
  let off = 8;
  for (let r = 0; r < count; r++) {
    const at = base + off;
    if (off + RECORD_HEADER_BYTES > body.length)
      throw new ProtocolError(`record ${r} at byte ${at}: runs past the end of the message (needs ${RECORD_HEADER_BYTES} header bytes, ${body.length - off} left; count says ${count} records)`);
    const kind = dv.getUint16(off, true);
    const phase = body[off + 2];
    const nargs = body[off + 3];
    const blobLen = dv.getUint16(off + 4, true);
    const declared = NARGS_BY_KIND[kind];
    if (declared < 0) throw new ProtocolError(`record ${r} at byte ${at}: kind ${kind} is not in the vocabulary (version ${VOCABULARY_VERSION})`);
    if (nargs !== declared)
      throw new ProtocolError(`record ${r} at byte ${at}: kind ${kind} (${kindById(kind)!.name}) has ${declared} arguments, the record says ${nargs}`);
    if (phase > 2) throw new ProtocolError(`record ${r} at byte ${at}: phase ${phase} is not 0 (instant), 1 (begin) or 2 (end)`);
    const size = recordSize(nargs, blobLen);
    if (off + size > body.length)
      throw new ProtocolError(`record ${r} at byte ${at}: ${size} bytes (${nargs} arguments, ${blobLen}-byte blob) run past the end of the message (${body.length - off} left)`);
    off += size;
  }
  if (off !== body.length)
    throw new ProtocolError(`EVENTS: ${body.length - off} bytes after the last of ${count} records (at byte ${base + off})`);
  return count;
}

const U64_LIMIT = 1n << 64n;
const TS_DELTA_LIMIT = 1n << 53n;

/**
 * The reference decoder of compact records (docs/protocol.md, encoding 1), in bigints: validates every rule the doc
 * lists and, given `out`, appends the decoded records. Returns the record count. The store has its own decoder for
 * speed (EventStore.appendEventsBody); tests hold the two to the same answers.
 */
function decodeCompact(body: Uint8Array, base: number, out: EventRecord[] | undefined): number {
  const dv = view(body);
  const count = dv.getUint32(0, true);
  let ts = dv.getBigUint64(8, true);
  let off = COMPACT_BODY_HEADER, r = 0, at = base + off;
  const fail = (what: string): never => { throw new ProtocolError(`compact record ${r} at byte ${at}: ${what}`); };
  const uv = (field: string): bigint => {
    let v = 0n;
    for (let i = 0, shift = 0n; ; i++, shift += 7n) {
      if (i === 10) fail(`the ${field} varint is longer than 10 bytes`);
      if (off >= body.length) fail(`runs past the end of the message in its ${field} (count says ${count} records)`);
      const b = body[off++];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (v >= U64_LIMIT) fail(`the ${field} varint exceeds 64 bits`);
    return v;
  };
  const sv = (field: string): bigint => { const u = uv(field); return (u >> 1n) ^ -(u & 1n); };
  const prevCaller = new Map<number, bigint>(), prevArgs = new Map<number, bigint[]>(), prevBlob = new Map<number, Uint8Array>();
  let kind = -1, tid = -1;
  for (; r < count; r++) {
    at = base + off;
    if (off >= body.length) fail(`runs past the end of the message (count says ${count} records)`);
    const head = body[off++];
    const phase = head & 3;
    if (phase === 3) fail('phase 3 is not 0 (instant), 1 (begin) or 2 (end)');
    if (head & CompactHead.SameKind) { if (r === 0) fail('the first record of a message cannot repeat a previous kind'); }
    else {
      const k = uv('kind');
      if (k > 0xffffn || NARGS_BY_KIND[Number(k)] < 0) fail(`kind ${k} is not in the vocabulary (version ${VOCABULARY_VERSION})`);
      kind = Number(k);
    }
    if (head & CompactHead.Tid) { const t = uv('tid'); if (t > 0xffffffffn) fail(`tid ${t} exceeds 32 bits`); tid = Number(t); }
    else if (r === 0) fail('the first record of a message must carry its tid');
    const d = sv('timestamp');
    if (d >= TS_DELTA_LIMIT || d <= -TS_DELTA_LIMIT) fail(`timestamp step ${d} is not below 2^53 in magnitude`);
    ts += d;
    if (ts < 0n || ts >= U64_LIMIT) fail(`timestamp ${ts} is outside 0..2^64-1`);
    let flags = 0, err = 0, result = 0n;
    if (head & CompactHead.Flags) { const f = uv('flags'); if (f > 0xffffn) fail(`flags ${f} exceed 16 bits`); flags = Number(f); }
    if (head & CompactHead.Err) { const e = sv('errno'); if (e < -0x80000000n || e > 0x7fffffffn) fail(`errno ${e} does not fit an i32`); err = Number(e); }
    if (head & CompactHead.Result) result = sv('result');
    const caller = uv('caller') ^ (prevCaller.get(kind) ?? 0n);
    prevCaller.set(kind, caller);
    const nargs = NARGS_BY_KIND[kind];
    let prev = prevArgs.get(kind);
    if (!prev) prevArgs.set(kind, prev = new Array<bigint>(nargs).fill(0n));
    const args: bigint[] = [];
    for (let i = 0; i < nargs; i++) { prev[i] ^= uv(`argument ${i}`); args.push(prev[i]); }
    let blob: Uint8Array | undefined;
    if (head & CompactHead.Blob) {
      const len = uv('blob length');
      if (len === 0n) {
        // 0: the same bytes as the previous blob of this kind in this message
        blob = prevBlob.get(kind) ?? fail('its blob repeats the previous one of its kind, and none came before in this message');
      } else {
        if (len > 0xffffn) fail(`blob length ${len} is not 0..65535`);
        if (off + Number(len) > body.length) fail(`its ${len}-byte blob runs past the end of the message (${body.length - off} left)`);
        blob = body.slice(off, off + Number(len));
        off += Number(len);
        prevBlob.set(kind, blob);
      }
    }
    if (out) {
      const rec: EventRecord = { kind, phase, flags, tid, err, ts, result, caller, args };
      if (blob) rec.blob = blob;
      out.push(rec);
    }
  }
  if (off !== body.length)
    throw new ProtocolError(`EVENTS: ${body.length - off} bytes after the last of ${count} records (at byte ${base + off})`);
  return count;
}

/**
 * Decodes one websocket message. `from` checks the direction (a collector passes 'shim'). `deferCompact`: a compact
 * EVENTS body gets only its header checked, for a caller that hands it to EventStore.appendEventsBody, which checks
 * every record as it decodes (one pass instead of two).
 */
export function decodeMessage(buf: Uint8Array, from?: Sender, opts: { deferCompact?: boolean } = {}): DecodedMessage {
  if (buf.length > MAX_MESSAGE_BYTES) throw new ProtocolError(`message of ${buf.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte (16 MiB) limit`);
  if (buf.length < HEADER_BYTES) throw new ProtocolError(`message of ${buf.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const dv = view(buf);
  const magic = dv.getUint32(0, true);
  if (magic !== MAGIC) throw new ProtocolError(`bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x${MAGIC.toString(16)}, "IPCS")`);
  const version = dv.getUint16(4, true);
  if (version !== PROTOCOL_VERSION) throw new ProtocolError(`protocol version ${version} is not supported (this side speaks version ${PROTOCOL_VERSION})`);
  const type = dv.getUint16(6, true);
  const sender = SENT_BY[type];
  if (!sender) throw new ProtocolError(`unknown message type ${type}`);
  if (from && sender !== from) throw new ProtocolError(`message type ${type} (${MessageType[type].toUpperCase()}) is sent by the ${sender}, not the ${from}`);
  const bodyLen = dv.getUint32(8, true);
  if (bodyLen !== buf.length - HEADER_BYTES)
    throw new ProtocolError(`${MessageType[type].toUpperCase()} header says the body is ${bodyLen} bytes, the message carries ${buf.length - HEADER_BYTES}`);
  const seq = dv.getUint32(12, true);
  const body = buf.subarray(HEADER_BYTES);
  const bv = view(body);
  const needBody = (n: number) => {
    if (body.length < n) throw new ProtocolError(`${MessageType[type].toUpperCase()} body is ${body.length} bytes, needs at least ${n}`);
  };
  switch (type as MessageType) {
    case MessageType.Hello: {
      const hello = checkHello(parseJson(body, 'HELLO'));
      return { type: MessageType.Hello, seq, hello, json: utf8.decode(body) };
    }
    case MessageType.Welcome:
      return { type: MessageType.Welcome, seq, welcome: parseJson(body, 'WELCOME') as WelcomeJson };
    case MessageType.Events: {
      // compact bodies are checked as they are decoded (EventStore.appendEventsBody), unless asked for here
      const encoding = eventsEncoding(body);
      const count = encoding === EventsEncoding.Fixed || !opts.deferCompact ? validateEventsBody(body) : bv.getUint32(0, true);
      return { type: MessageType.Events, seq, count, encoding, body };
    }
    case MessageType.Command: {
      needBody(48);
      const args = [0, 1, 2, 3].map((i) => bv.getBigUint64(16 + 8 * i, true));
      return { type: MessageType.Command, seq, command: bv.getUint32(0, true), requestId: bv.getBigUint64(8, true), args, blob: body.subarray(48) };
    }
    case MessageType.Bye:
      needBody(16);
      if (body.length !== 16) throw new ProtocolError(`BYE body is ${body.length} bytes, must be 16`);
      return { type: MessageType.Bye, seq, emitted: bv.getBigUint64(0, true), dropped: bv.getBigUint64(8, true) };
    case MessageType.Error: {
      const j = parseJson(body, 'ERROR') as { message?: unknown };
      return { type: MessageType.Error, seq, message: typeof j?.message === 'string' ? j.message : JSON.stringify(j) };
    }
    case MessageType.Reply: {
      needBody(16);
      const rest = body.subarray(16);
      return { type: MessageType.Reply, seq, requestId: bv.getBigUint64(0, true), status: bv.getInt32(8, true), json: rest.length ? parseJson(rest, 'REPLY') : null };
    }
  }
}

/** Builds a message: header + body. */
export function encodeMessage(type: MessageType, seq: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + body.length);
  const dv = view(out);
  dv.setUint32(0, MAGIC, true);
  dv.setUint16(4, PROTOCOL_VERSION, true);
  dv.setUint16(6, type, true);
  dv.setUint32(8, body.length, true);
  dv.setUint32(12, seq >>> 0, true);
  out.set(body, HEADER_BYTES);
  return out;
}

export function encodeJson(type: MessageType.Hello | MessageType.Welcome | MessageType.Error, seq: number, json: unknown): Uint8Array {
  return encodeMessage(type, seq, utf8enc.encode(JSON.stringify(json)));
}

export function encodeCommand(seq: number, command: number, requestId: bigint, args: readonly bigint[] = [], blob?: Uint8Array): Uint8Array {
  const body = new Uint8Array(48 + (blob?.length ?? 0));
  const dv = view(body);
  dv.setUint32(0, command, true);
  dv.setBigUint64(8, requestId, true);
  for (let i = 0; i < 4; i++) dv.setBigUint64(16 + 8 * i, BigInt.asUintN(64, args[i] ?? 0n), true);
  if (blob) body.set(blob, 48);
  return encodeMessage(MessageType.Command, seq, body);
}

export function encodeBye(seq: number, emitted: bigint, dropped: bigint): Uint8Array {
  const body = new Uint8Array(16);
  const dv = view(body);
  dv.setBigUint64(0, emitted, true);
  dv.setBigUint64(8, dropped, true);
  return encodeMessage(MessageType.Bye, seq, body);
}

export function encodeReply(seq: number, requestId: bigint, status: number, json?: unknown): Uint8Array {
  const text = json === undefined ? new Uint8Array(0) : utf8enc.encode(JSON.stringify(json));
  const body = new Uint8Array(16 + text.length);
  const dv = view(body);
  dv.setBigUint64(0, requestId, true);
  dv.setInt32(8, status, true);
  body.set(text, 16);
  return encodeMessage(MessageType.Reply, seq, body);
}

/** A fixed-record EVENTS body (count, encoding 0, records) from decoded records; the encoder a test shim or a converter uses. */
export function encodeEventsBody(records: readonly EventRecord[]): Uint8Array {
  let size = 8;
  for (const r of records) size += recordSize(r.args.length, r.blob?.length ?? 0);
  const body = new Uint8Array(size);
  const dv = view(body);
  dv.setUint32(0, records.length, true);
  let off = 8;
  for (const r of records) {
    const blobLen = r.blob?.length ?? 0;
    if (blobLen > 0xffff) throw new RangeError(`blob of ${blobLen} bytes does not fit the u16 length field`);
    dv.setUint16(off, r.kind, true);
    body[off + 2] = r.phase;
    body[off + 3] = r.args.length;
    dv.setUint16(off + 4, blobLen, true);
    dv.setUint16(off + 6, r.flags, true);
    dv.setUint32(off + 8, r.tid, true);
    dv.setInt32(off + 12, r.err, true);
    dv.setBigUint64(off + 16, r.ts, true);
    dv.setBigInt64(off + 24, BigInt.asIntN(64, r.result), true);
    dv.setBigUint64(off + 32, BigInt.asUintN(64, r.caller), true);
    r.args.forEach((a, i) => dv.setBigUint64(off + 40 + 8 * i, BigInt.asUintN(64, a), true));
    if (r.blob) body.set(r.blob, off + 40 + 8 * r.args.length);
    off += recordSize(r.args.length, blobLen);
  }
  return body;
}

export function encodeEvents(seq: number, records: readonly EventRecord[], encoding = EventsEncoding.Fixed): Uint8Array {
  return encodeMessage(MessageType.Events, seq, encoding === EventsEncoding.Compact ? encodeEventsBodyCompact(records) : encodeEventsBody(records));
}

/** Decodes the records of an EVENTS body (fixed ones already validated; compact ones are checked here). */
export function decodeEventsBody(body: Uint8Array): EventRecord[] {
  if (eventsEncoding(body, 0) === EventsEncoding.Compact) {
    const out: EventRecord[] = [];
    decodeCompact(body, 0, out);
    return out;
  }
  const dv = view(body);
  const count = dv.getUint32(0, true);
  const out: EventRecord[] = [];
  let off = 8;
  for (let r = 0; r < count; r++) {
    const nargs = body[off + 3];
    const blobLen = dv.getUint16(off + 4, true);
    const args: bigint[] = [];
    for (let i = 0; i < nargs; i++) args.push(dv.getBigUint64(off + 40 + 8 * i, true));
    const rec: EventRecord = {
      kind: dv.getUint16(off, true), phase: body[off + 2], flags: dv.getUint16(off + 6, true), tid: dv.getUint32(off + 8, true),
      err: dv.getInt32(off + 12, true), ts: dv.getBigUint64(off + 16, true), result: dv.getBigInt64(off + 24, true),
      caller: dv.getBigUint64(off + 32, true), args,
    };
    if (blobLen) rec.blob = body.slice(off + 40 + 8 * nargs, off + 40 + 8 * nargs + blobLen);
    out.push(rec);
    off += recordSize(nargs, blobLen);
  }
  return out;
}

/**
 * A compact EVENTS body (encoding 1) from decoded records: the reference encoder (the shim's sender has its own, in
 * C), for tests and converters. Records must fit the doc's ranges (16-bit kinds and flags, 32-bit tids and errnos,
 * 64-bit values, steps between timestamps below 2^53).
 */
export function encodeEventsBodyCompact(records: readonly EventRecord[]): Uint8Array {
  const bytes: number[] = [];
  const uv = (v: bigint) => {
    v = BigInt.asUintN(64, v);
    for (;;) { const b = Number(v & 0x7fn); v >>= 7n; if (v === 0n) { bytes.push(b); return; } bytes.push(b | 0x80); }
  };
  const sv = (v: bigint) => uv(BigInt.asUintN(64, (v << 1n) ^ (v < 0n ? -1n : 0n)));
  const base = records.length ? records[0].ts : 0n;
  let prevTs = base, prevKind = -1, prevTid = -1;
  const prevCaller = new Map<number, bigint>(), prevArgs = new Map<number, bigint[]>(), prevBlob = new Map<number, Uint8Array>();
  for (const r of records) {
    const blobLen = r.blob?.length ?? 0;
    if (blobLen > 0xffff) throw new RangeError(`blob of ${blobLen} bytes does not fit a compact record (at most 65535)`);
    if (r.ts - prevTs >= TS_DELTA_LIMIT || prevTs - r.ts >= TS_DELTA_LIMIT) throw new RangeError(`timestamp step ${r.ts - prevTs} is not below 2^53: start another message`);
    const result = BigInt.asIntN(64, r.result);
    let head = r.phase & 3;
    if (r.kind === prevKind) head |= CompactHead.SameKind;
    if (r.tid !== prevTid) head |= CompactHead.Tid;
    if (r.flags) head |= CompactHead.Flags;
    if (r.err) head |= CompactHead.Err;
    if (result) head |= CompactHead.Result;
    if (blobLen) head |= CompactHead.Blob;
    bytes.push(head);
    if (!(head & CompactHead.SameKind)) uv(BigInt(r.kind));
    if (head & CompactHead.Tid) uv(BigInt(r.tid));
    sv(r.ts - prevTs);
    if (r.flags) uv(BigInt(r.flags));
    if (r.err) sv(BigInt(r.err));
    if (result) sv(result);
    const caller = BigInt.asUintN(64, r.caller);
    uv(caller ^ (prevCaller.get(r.kind) ?? 0n));
    prevCaller.set(r.kind, caller);
    let prev = prevArgs.get(r.kind);
    if (!prev) prevArgs.set(r.kind, prev = new Array<bigint>(r.args.length).fill(0n));
    r.args.forEach((a, i) => { const v = BigInt.asUintN(64, a); uv(v ^ (prev![i] ?? 0n)); prev![i] = v; });
    if (blobLen) {
      const last = prevBlob.get(r.kind);
      if (last && last.length === blobLen && last.every((b, i) => b === r.blob![i])) bytes.push(0); // a repeat: length 0
      else { uv(BigInt(blobLen)); for (const b of r.blob!) bytes.push(b); prevBlob.set(r.kind, r.blob!); }
    }
    prevTs = r.ts; prevKind = r.kind; prevTid = r.tid;
  }
  const body = new Uint8Array(COMPACT_BODY_HEADER + bytes.length);
  const dv = view(body);
  dv.setUint32(0, records.length, true);
  dv.setUint32(4, EventsEncoding.Compact, true);
  dv.setBigUint64(8, base, true);
  body.set(bytes, COMPACT_BODY_HEADER);
  return body;
}
