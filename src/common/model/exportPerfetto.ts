// Perfetto export: the model as Perfetto's protobuf TrackEvent format (proto/perfetto_trace.proto, encoded with
// protobufjs), a track per process and per thread, a slice per blocking call, an instant per other event, and the
// model's flows as real flow ids (Perfetto's JSON importer ignores flow ids, so only protobuf carries the arrows).
// Also the shared slice/flow layout the Chrome JSON export uses.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import Long from 'long';
import { kindById, PHASE } from '../vocabulary';
import type { TraceModel } from './model';

protobuf.util.Long = Long;
protobuf.configure();

/** proto/perfetto_trace.proto, found from the running bundle (out/…) or the sources (src/…). */
export function perfettoProtoPath(): string {
  let d = __dirname;
  for (;;) {
    const p = join(d, 'proto', 'perfetto_trace.proto');
    if (existsSync(p)) return p;
    const up = resolve(d, '..');
    if (up === d) throw new Error(`proto/perfetto_trace.proto not found above ${__dirname}`);
    d = up;
  }
}
let root: protobuf.Root | undefined;
export function perfettoRoot(): protobuf.Root { return (root ??= protobuf.loadSync(perfettoProtoPath())); }

export interface LayoutTrack { uuid: number; parent?: number; pid: number; tid?: number; name: string; cmdline?: string[] }
export interface LayoutEvent {
  ts: bigint; track: number; pid: number; tid: number;
  type: 'B' | 'E' | 'i';
  name: string; cat: string; index: number;
  args?: Record<string, string | number>;
  flowOut: number[]; flowIn: number[];
}

/** Tracks, time-ordered slice/instant events (properly nested per thread) and flow ids on the events they join. */
export function layout(m: TraceModel): { tracks: LayoutTrack[]; events: LayoutEvent[]; flows: number } {
  const tracks: LayoutTrack[] = [];
  const trackOf = new Map<string, number>();
  let uuid = 1;
  const procs = [...m.processes.values()].sort((a, b) => a.pid - b.pid);
  for (const p of procs) {
    const pu = uuid++;
    const pname = (p.argv[0] ?? p.exe ?? '').split('/').pop() || `pid ${p.pid}`;
    tracks.push({ uuid: pu, pid: p.pid, name: pname, cmdline: p.argv });
    for (const t of [...p.threads.values()].sort((a, b) => a.tid - b.tid)) {
      const tu = uuid++;
      trackOf.set(`${p.pid}/${t.tid}`, tu);
      tracks.push({ uuid: tu, parent: pu, pid: p.pid, tid: t.tid, name: t.tid === p.pid ? pname : `${pname} [${t.tid}]` });
    }
  }
  const events: LayoutEvent[] = [];
  const joinOf = new Map<number, LayoutEvent>();
  const endNs = m.lastNs ?? 0n;
  for (const lane of m.laneList()) {
    const track = trackOf.get(`${lane.pid}/${lane.tid}`);
    if (track === undefined) continue;
    const stack: LayoutEvent[] = [];
    for (let i = 0; i < lane.count; i++) {
      const { index } = lane.at(i);
      const e = m.source.get(index);
      const info = kindById(e.kind);
      const name = info?.name ?? `kind ${e.kind}`, cat = info?.cls ?? 'other';
      const base = { ts: e.ts, track, pid: e.pid, tid: e.tid, name, cat, index, flowOut: [] as number[], flowIn: [] as number[] };
      if (e.phase === PHASE.begin) {
        const ev: LayoutEvent = { ...base, type: 'B', args: args(e) };
        events.push(ev); stack.push(ev); joinOf.set(index, ev);
      } else if (e.phase === PHASE.end) {
        const at = stack.map((s) => s.name).lastIndexOf(name);
        if (at < 0) { const ev: LayoutEvent = { ...base, type: 'i', args: args(e) }; events.push(ev); joinOf.set(index, ev); continue; }
        // Close anything opened inside it that never ended (keeps slices nested).
        while (stack.length > at + 1) events.push({ ...stack.pop()!, type: 'E', ts: e.ts, args: undefined, flowIn: [], flowOut: [] });
        const b = stack.pop()!;
        b.args = { ...b.args, ...args(e) };
        events.push({ ...base, type: 'E' });
        joinOf.set(index, b);
      } else {
        const ev: LayoutEvent = { ...base, type: 'i', args: args(e) };
        events.push(ev); joinOf.set(index, ev);
      }
    }
    // Calls still blocked when the trace ends (or the process died in them) end with the process or the trace.
    const pEnd = m.processes.get(lane.pid)?.endNs;
    while (stack.length) { const b = stack.pop()!; events.push({ ...b, type: 'E', ts: pEnd !== undefined && pEnd >= b.ts ? pEnd : endNs, args: undefined, flowIn: [], flowOut: [] }); }
  }
  let flows = 0;
  for (const f of m.flows) {
    const a = joinOf.get(f.from.index), b = joinOf.get(f.to.index);
    if (!a || !b || a === b) continue;
    a.flowOut.push(f.id); b.flowIn.push(f.id);
    flows++;
  }
  // Stable time order; at equal times ends before begins so zero-length neighbours do not nest.
  const rank = (t: LayoutEvent['type']) => (t === 'E' ? 0 : t === 'B' ? 1 : 2);
  events.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : x.track !== y.track ? x.track - y.track : rank(x.type) - rank(y.type)));
  return { tracks, events, flows };
}

function args(e: { kind: number; args: readonly bigint[]; result: bigint; err: number }): Record<string, string | number> {
  const info = kindById(e.kind);
  const out: Record<string, string | number> = {};
  info?.args.forEach((n, j) => { const v = e.args[j]; out[n] = v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : '0x' + v.toString(16); });
  out.result = Number(BigInt.asIntN(64, e.result));
  if (e.err) out.errno = e.err;
  return out;
}

const SEQ = 1, SEQ_INCREMENTAL_STATE_CLEARED = 1, SEQ_NEEDS_INCREMENTAL_STATE = 2;
const TYPE = { B: 1, E: 2, i: 3 } as const;

/** The model as a Perfetto protobuf trace (bytes of a `Trace` message). */
export function encodePerfetto(m: TraceModel): { bytes: Uint8Array; tracks: number; slices: number; flows: number } {
  const r = perfettoRoot();
  const Trace = r.lookupType('perfetto.protos.Trace');
  const { tracks, events, flows } = layout(m);
  const packet: Record<string, unknown>[] = [];
  const u64 = (v: bigint | number) => Long.fromString(String(v), true);
  for (const t of tracks) {
    const td: Record<string, unknown> = { uuid: u64(t.uuid), name: t.name };
    if (t.tid === undefined) td.process = { pid: t.pid, processName: t.name, cmdline: t.cmdline ?? [] };
    else { td.parentUuid = u64(t.parent!); td.thread = { pid: t.pid, tid: t.tid, threadName: t.name }; }
    packet.push({ trustedPacketSequenceId: SEQ, trackDescriptor: td, ...(packet.length === 0 ? { sequenceFlags: SEQ_INCREMENTAL_STATE_CLEARED } : {}) });
  }
  let slices = 0;
  for (const e of events) {
    const te: Record<string, unknown> = { type: TYPE[e.type], trackUuid: u64(e.track) };
    if (e.type !== 'E') { te.name = e.name; te.categories = [e.cat]; }
    if (e.type === 'B') slices++;
    if (e.args && e.type !== 'E') te.debugAnnotations = Object.entries(e.args).map(([name, v]) => (typeof v === 'number' ? { name, intValue: Long.fromNumber(v) } : { name, stringValue: v }));
    if (e.flowOut.length) te.flowIds = e.flowOut.map((id) => u64(id));
    if (e.flowIn.length) te.terminatingFlowIds = e.flowIn.map((id) => u64(id));
    packet.push({ timestamp: u64(e.ts), trustedPacketSequenceId: SEQ, sequenceFlags: SEQ_NEEDS_INCREMENTAL_STATE, trackEvent: te });
  }
  const msg = Trace.fromObject({ packet });
  return { bytes: Trace.encode(msg).finish(), tracks: tracks.length, slices, flows };
}

/** Decodes Perfetto trace bytes with the same .proto (tests and `--check`). Longs become decimal strings. */
export function decodePerfetto(bytes: Uint8Array): { packet: Record<string, any>[] } {
  const Trace = perfettoRoot().lookupType('perfetto.protos.Trace');
  return Trace.toObject(Trace.decode(bytes), { longs: String, enums: String, defaults: false }) as { packet: Record<string, any>[] };
}

