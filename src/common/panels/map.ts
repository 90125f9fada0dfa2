// IPC-map panel data from the trace model: processes (grouped by parent) and the IPC objects they use, with an edge
// per direction of use (writer → pipe → reader) weighted by bytes and calls, and signal edges from the model's signals sent.
// MapBuilder is incremental: each update reads only the object events and signals the model added since the last one,
// so a live session's map costs its growth, not its size. Nodes are listed in order of first appearance, so a
// layered layout that respects model order stays stable as the session grows.
import { K } from '../model/kinds';
import type { TraceModel } from '../model/model';
import type { IpcObject, ObjectType } from '../model/types';
import { argIndex, PHASE } from '../vocabulary';
import { nsString } from './trace';

export type MapObjectKind = 'pipe' | 'fifo' | 'socket' | 'mqueue' | 'shm' | 'sysvmsg' | 'sysvshm' | 'semaphore' | 'eventfd';
export interface MapNode {
  readonly id: string;
  readonly kind: 'process' | MapObjectKind;
  readonly label: string;
  /** For processes: the parent's node id when the parent is traced (the group it is drawn in). */
  readonly parent?: string;
  readonly pid?: number;
  readonly firstNs: string;
}
export interface MapEdge {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  /** write/send/post = process → object; read/receive/wait = object → process; signal = process → process; map = shared mapping. */
  readonly use: 'write' | 'read' | 'signal' | 'map' | 'open';
  readonly bytes: string;
  readonly messages: number;
  readonly firstNs: string;
  readonly lastNs: string;
}
export interface MapData { readonly nodes: readonly MapNode[]; readonly edges: readonly MapEdge[] }

const KIND_OF: Partial<Record<ObjectType, MapObjectKind>> = {
  pipe: 'pipe', fifo: 'fifo', socket: 'socket', mq: 'mqueue', 'sysv-mq': 'sysvmsg', shm: 'shm', 'shared-mapping': 'shm', semaphore: 'semaphore', eventfd: 'eventfd',
};
/** A semaphore in one process's private memory is not between processes; an anon_inode mapping (the shim's own
 * perf_event ring) is not IPC. */
const PRIVATE_KEY = /^\d+:0x/;
const MQ_LEN = argIndex('mq_send', 'len'), MSG_SIZE = argIndex('msgsnd', 'size');
const WRITES = new Set<number>([K.write, K.mqSend, K.msgsnd, K.semPost]);
const READS = new Set<number>([K.read, K.mqReceive, K.msgrcv, K.semWait]);
const MAPS = new Set<number>([K.mmap, K.shmat, K.mapping]);
const s64 = (v: bigint) => BigInt.asIntN(64, v);

interface EdgeAcc { from: string; to: string; use: MapEdge['use']; bytes: bigint; messages: number; first: bigint; last: bigint }

/** The map of a model, kept up to date by update() (call it after model.update()). */
export class MapBuilder {
  private objects?: Map<string, IpcObject>;
  private seenEvents = new Map<string, number>();
  private seenSignals = 0;
  /** Raw edges: endpoints are `proc:PID` or `o:MODELKEY` (sockets are merged with their peer when the map is made). */
  private edges = new Map<string, EdgeAcc>();
  private data: MapData = { nodes: [], edges: [] };
  private procs = '';
  /** Bumped when the map changed (live sessions post only then). */
  generation = 0;

  constructor(private readonly m: TraceModel) {}

  get current(): MapData { return this.data; }

  /** Reads what the model added since the last call; returns whether the map changed. */
  update(): boolean {
    const m = this.m;
    // A live model that restarts (out-of-order flush) replaces its maps: start over with it.
    if (this.objects !== m.objects) { this.objects = m.objects; this.seenEvents.clear(); this.seenSignals = 0; this.edges.clear(); }
    let changed = false;
    for (const o of m.objects.values()) {
      const kind = KIND_OF[o.type];
      if (!kind || (o.type === 'semaphore' && PRIVATE_KEY.test(o.key)) || (o.type === 'shared-mapping' && o.name.startsWith('anon_inode:'))) continue;
      const from = this.seenEvents.get(o.key) ?? 0;
      if (from === o.events.length) continue;
      for (let i = from; i < o.events.length; i++) this.use(o, o.events[i]);
      this.seenEvents.set(o.key, o.events.length);
      changed = true;
    }
    for (; this.seenSignals < m.signalsSent.length; this.seenSignals++) {
      const x = m.signalsSent[this.seenSignals];
      if (x.pid === x.from.pid) continue; // an untraced target has no node: make() leaves its edge out
      this.add(`proc:${x.from.pid}`, `proc:${x.pid}`, 'signal', 0n, 1, x.from.ts);
      changed = true;
    }
    // New processes, and a process that exec'd (its label), change the map too.
    let procs = '';
    for (const p of m.processes.values()) procs += `${p.pid}:${p.exe}:${p.ppid};`;
    if (procs !== this.procs) { this.procs = procs; changed = true; }
    if (changed) { this.data = this.make(); this.generation++; }
    return changed;
  }

  private use(o: IpcObject, index: number): void {
    const e = this.m.source.get(index);
    if (e.err || e.phase === PHASE.begin) return;
    const p = `proc:${e.pid}`, obj = `o:${o.key}`;
    if (WRITES.has(e.kind)) {
      const bytes = e.kind === K.write ? s64(e.result) : e.kind === K.mqSend ? e.args[MQ_LEN] : e.kind === K.msgsnd ? e.args[MSG_SIZE] : 0n;
      if (e.kind === K.write && bytes <= 0n) return;
      this.add(p, obj, 'write', bytes, 1, e.ts);
    } else if (READS.has(e.kind)) {
      const n = s64(e.result);
      if (e.kind === K.read ? n <= 0n : n < 0n) return; // EOF carries nothing
      this.add(obj, p, 'read', e.kind === K.semWait ? 0n : n, 1, e.ts);
    } else if (MAPS.has(e.kind)) this.add(p, obj, 'map', 0n, 0, e.ts);
    else this.add(p, obj, 'open', 0n, 0, e.ts);
  }

  private add(from: string, to: string, use: MapEdge['use'], bytes: bigint, messages: number, ts: bigint): void {
    const id = `${from}->${to}`;
    let x = this.edges.get(id);
    if (!x) this.edges.set(id, (x = { from, to, use, bytes: 0n, messages: 0, first: ts, last: ts }));
    // a real use outranks opening (and mapping is what a shared memory user does)
    if (x.use === 'open' && use !== 'open') { x.use = use; x.first = ts; }
    x.bytes += bytes; x.messages += messages;
    if (ts > x.last) x.last = ts;
    if (ts < x.first && x.use === use) x.first = ts;
  }

  private make(): MapData {
    const m = this.m;
    const nodes = new Map<string, { id: string; kind: MapNode['kind']; label: string; parent?: string; pid?: number; first: bigint }>();
    for (const p of m.processes.values()) {
      const exe = (p.exe || p.argv[0] || '?').split('/').pop() || '?';
      nodes.set(`proc:${p.pid}`, { id: `proc:${p.pid}`, kind: 'process', label: `${exe} ${p.pid}`, parent: p.ppid !== p.pid && m.processes.has(p.ppid) ? `proc:${p.ppid}` : undefined, pid: p.pid, first: p.startNs });
    }
    // The two ends of a socket connection are one object on the map: named after the smaller key of the pair.
    const nodeOf = (raw: string): string => {
      if (!raw.startsWith('o:')) return raw;
      const o = m.objects.get(raw.slice(2))!;
      const key = o.type === 'socket' && o.peer && o.peer < o.key ? o.peer : o.key;
      const kind = KIND_OF[o.type]!;
      const id = `obj:${kind}:${key}`;
      const n = nodes.get(id);
      const name = o.name || m.objects.get(key)?.name || '';
      if (!n) nodes.set(id, { id, kind, label: name || defaultLabel(kind, key), first: o.firstNs });
      else { if (o.firstNs < n.first) n.first = o.firstNs; if (name && n.label === defaultLabel(kind, key)) n.label = name; }
      return id;
    };
    const merged = new Map<string, EdgeAcc>();
    for (const x of this.edges.values()) {
      const from = nodeOf(x.from), to = nodeOf(x.to);
      if (!nodes.has(from) || !nodes.has(to)) continue;
      const id = `${from}->${to}`;
      const y = merged.get(id);
      if (!y) { merged.set(id, { ...x, from, to }); continue; }
      if (y.use === 'open' && x.use !== 'open') { y.use = x.use; y.first = x.first; } else if (x.use === y.use && x.first < y.first) y.first = x.first;
      y.bytes += x.bytes; y.messages += x.messages; if (x.last > y.last) y.last = x.last;
    }
    // An 'open' edge adds nothing once the same process has a real use of that object the other way.
    for (const [id, x] of merged) { const back = merged.get(`${x.to}->${x.from}`); if (x.use === 'open' && back && back.use !== 'open') merged.delete(id); }
    const byFirst = <T extends { first: bigint }>(a: T & { id: string }, b: T & { id: string }) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.id < b.id ? -1 : 1);
    return {
      nodes: [...nodes.values()].sort(byFirst).map((n): MapNode => ({ id: n.id, kind: n.kind, label: n.label, parent: n.parent, pid: n.pid, firstNs: nsString(n.first) })),
      edges: [...merged.entries()].map(([id, x]) => ({ id, ...x })).sort(byFirst)
        .map((x): MapEdge => ({ id: x.id, from: x.from, to: x.to, use: x.use, bytes: nsString(x.bytes), messages: x.messages, firstNs: nsString(x.first), lastNs: nsString(x.last) })),
    };
  }
}

/** The whole map of a model at once (the model brought up to date by the caller). */
export function buildMapData(m: TraceModel): MapData {
  const b = new MapBuilder(m);
  b.update();
  return b.current;
}

function defaultLabel(kind: MapObjectKind, key: string): string {
  switch (kind) {
    case 'pipe': return `pipe ${key.split(':')[1] ?? key}`;
    case 'socket': return `socket ${key.split(':')[1] ?? key}`;
    default: return `${kind} ${key}`;
  }
}
