// IPC-map panel data: processes (grouped by parent) and the IPC objects they use, with an edge per direction of use
// (writer → pipe → reader) weighted by bytes and messages. Nodes are listed in order of first appearance so a layered
// layout that respects model order stays stable as a live session grows.
import type { EventSource, TraceEvent } from '../traceEvent';
import { argIndex, kindId, PHASE } from '../vocabulary';
import { blobText, eventsOfKinds, nsString, processImages } from './trace';

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

const OTYPE_KIND: Record<number, MapObjectKind | undefined> = { 1: 'pipe', 2: 'fifo', 3: 'socket', 4: 'socket', 5: 'socket', 6: 'socket', 10: 'mqueue', 11: 'eventfd', 13: 'shm' };
const K = Object.fromEntries(['pipe', 'mkfifo', 'open', 'read', 'write', 'socketpair', 'accept', 'connect', 'bind', 'mq_open', 'mq_send', 'mq_receive',
  'shm_open', 'mmap', 'msgget', 'msgsnd', 'msgrcv', 'shmget', 'shmat', 'sem_open', 'sem_post', 'sem_wait', 'kill', 'sigqueue', 'eventfd'].map((n) => [n, kindId(n)])) as Record<string, number>;
const a = argIndex;
const A = {
  pipeDev: a('pipe', 'dev'), pipeIno: a('pipe', 'ino'), openOtype: a('open', 'otype'), openDev: a('open', 'dev'), openIno: a('open', 'ino'),
  rdOtype: a('read', 'otype'), rdDev: a('read', 'dev'), rdIno: a('read', 'ino'), wrOtype: a('write', 'otype'), wrDev: a('write', 'dev'), wrIno: a('write', 'ino'),
  spIno0: a('socketpair', 'ino0'), spIno1: a('socketpair', 'ino1'), accIno: a('accept', 'ino'), accPeer: a('accept', 'peerIno'),
  conIno: a('connect', 'ino'), conPeer: a('connect', 'peerIno'), bindIno: a('bind', 'ino'),
  mqoDev: a('mq_open', 'dev'), mqoIno: a('mq_open', 'ino'), mqsDev: a('mq_send', 'dev'), mqsIno: a('mq_send', 'ino'), mqsLen: a('mq_send', 'len'),
  mqrDev: a('mq_receive', 'dev'), mqrIno: a('mq_receive', 'ino'),
  shmoDev: a('shm_open', 'dev'), shmoIno: a('shm_open', 'ino'), mmapFlags: a('mmap', 'flags'), mmapOtype: a('mmap', 'otype'), mmapDev: a('mmap', 'dev'), mmapIno: a('mmap', 'ino'),
  msgsId: a('msgsnd', 'msqid'), msgsSize: a('msgsnd', 'size'), msgrId: a('msgrcv', 'msqid'), shmatId: a('shmat', 'shmid'),
  semPost: a('sem_post', 'sem'), semWait: a('sem_wait', 'sem'), killPid: a('kill', 'pid'), sqPid: a('sigqueue', 'pid'),
  efDev: a('eventfd', 'dev'), efIno: a('eventfd', 'ino'),
};

/** Union-find over socket inodes: the two ends of one connection are one object on the map. */
class SocketUnion {
  private parent = new Map<string, string>();
  find(x: string): string { let p = this.parent.get(x) ?? x; if (p !== x) { p = this.find(p); this.parent.set(x, p); } return p; }
  union(x: string, y: string) { const a = this.find(x), b = this.find(y); if (a !== b) (a < b ? this.parent.set(b, a) : this.parent.set(a, b)); }
}

export function buildMapData(source: EventSource): MapData {
  const images = processImages(source);
  const tracedPids = new Set(images.map((p) => p.pid));
  const nodes = new Map<string, { id: string; kind: MapNode['kind']; label: string; parent?: string; pid?: number; first: bigint }>();
  const edges = new Map<string, { id: string; from: string; to: string; use: MapEdge['use']; bytes: bigint; messages: number; first: bigint; last: bigint }>();
  const labels = new Map<string, string>();
  const socks = new SocketUnion();
  const semName = new Map<string, string>();

  for (const p of [...images].sort((x, y) => (x.startNs < y.startNs ? -1 : x.startNs > y.startNs ? 1 : x.conn - y.conn))) {
    const id = `proc:${p.pid}`;
    const exe = p.exe.split('/').pop() || '?';
    const existing = nodes.get(id);
    if (existing) { existing.label = `${exe} ${p.pid}`; continue; } // exec: same process, new image
    nodes.set(id, { id, kind: 'process', label: `${exe} ${p.pid}`, parent: tracedPids.has(p.ppid) ? `proc:${p.ppid}` : undefined, pid: p.pid, first: p.startNs });
  }
  const proc = (e: TraceEvent) => {
    const id = `proc:${e.pid}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind: 'process', label: `? ${e.pid}`, pid: e.pid, first: e.ts });
    return id;
  };

  // First pass: socket peers and names, so both ends land on one node whatever order events come in.
  const all = eventsOfKinds(source, Object.keys(K));
  for (const e of all) {
    if (e.err) continue;
    if (e.kind === K.socketpair) socks.union(`sock:${e.args[A.spIno0]}`, `sock:${e.args[A.spIno1]}`);
    else if ((e.kind === K.accept || e.kind === K.connect) && e.phase !== PHASE.begin) {
      const own = e.args[e.kind === K.accept ? A.accIno : A.conIno], peer = e.args[e.kind === K.accept ? A.accPeer : A.conPeer];
      if (own && peer) socks.union(`sock:${own}`, `sock:${peer}`);
      const txt = blobText(e); if (txt) labels.set(socks.find(`sock:${own}`), txt.split('|')[e.kind === K.accept ? 0 : 1] ?? txt);
    } else if (e.kind === K.bind && e.blob) labels.set(`sock:${e.args[A.bindIno]}`, blobText(e));
  }
  const objectId = (kind: MapObjectKind, key: string) => (kind === 'socket' ? `obj:socket:${socks.find(`sock:${key}`)}` : `obj:${kind}:${key}`);
  const object = (kind: MapObjectKind, key: string, ts: bigint, label?: string) => {
    const id = objectId(kind, key);
    const n = nodes.get(id);
    if (!n) nodes.set(id, { id, kind, label: label ?? labels.get(kind === 'socket' ? socks.find(`sock:${key}`) : id) ?? defaultLabel(kind, key), first: ts });
    else if (label && n.label === defaultLabel(kind, key)) n.label = label;
    return id;
  };
  const use = (from: string, to: string, kind: MapEdge['use'], bytes: bigint, messages: number, ts: bigint) => {
    const id = `${from}->${to}`;
    const x = edges.get(id) ?? edges.set(id, { id, from, to, use: kind, bytes: 0n, messages: 0, first: ts, last: ts }).get(id)!;
    if (x.use === 'open' && kind !== 'open') { x.use = kind; x.first = ts; }
    x.bytes += bytes; x.messages += messages; if (ts > x.last) x.last = ts;
  };
  const fifoPath = new Map<string, string>();

  for (const e of all) {
    if (e.err) continue;
    const p = proc(e);
    switch (e.kind) {
      case K.pipe: use(p, object('pipe', `${e.args[A.pipeDev]}:${e.args[A.pipeIno]}`, e.ts), 'open', 0n, 0, e.ts); break;
      case K.open: {
        const kind = OTYPE_KIND[Number(e.args[A.openOtype])];
        if (kind === 'fifo') { const key = `${e.args[A.openDev]}:${e.args[A.openIno]}`; fifoPath.set(key, blobText(e)); use(p, object('fifo', key, e.ts, blobText(e) || undefined), 'open', 0n, 0, e.ts); }
        break;
      }
      case K.read: case K.write: {
        if (e.phase === PHASE.begin || e.result <= 0n) break;
        const isRead = e.kind === K.read;
        const kind = OTYPE_KIND[Number(e.args[isRead ? A.rdOtype : A.wrOtype])];
        if (!kind || kind === 'shm') break;
        const dev = e.args[isRead ? A.rdDev : A.wrDev], ino = e.args[isRead ? A.rdIno : A.wrIno];
        const key = kind === 'socket' ? `${ino}` : `${dev}:${ino}`;
        const o = object(kind, key, e.ts, kind === 'fifo' ? fifoPath.get(key) : undefined);
        if (isRead) use(o, p, 'read', e.result, 1, e.ts); else use(p, o, 'write', e.result, 1, e.ts);
        break;
      }
      case K.mq_open: use(p, object('mqueue', `${e.args[A.mqoDev]}:${e.args[A.mqoIno]}`, e.ts, blobText(e) || undefined), 'open', 0n, 0, e.ts); break;
      case K.mq_send: if (e.phase !== PHASE.begin) use(p, object('mqueue', `${e.args[A.mqsDev]}:${e.args[A.mqsIno]}`, e.ts), 'write', e.args[A.mqsLen], 1, e.ts); break;
      case K.mq_receive: if (e.phase !== PHASE.begin && e.result >= 0n) use(object('mqueue', `${e.args[A.mqrDev]}:${e.args[A.mqrIno]}`, e.ts), p, 'read', e.result, 1, e.ts); break;
      case K.shm_open: use(p, object('shm', `${e.args[A.shmoDev]}:${e.args[A.shmoIno]}`, e.ts, blobText(e) || undefined), 'open', 0n, 0, e.ts); break;
      case K.mmap: {
        if ((e.args[A.mmapFlags] & 1n) === 0n || Number(e.args[A.mmapOtype]) !== 13) break; // MAP_SHARED of a shm object
        use(p, object('shm', `${e.args[A.mmapDev]}:${e.args[A.mmapIno]}`, e.ts), 'map', 0n, 0, e.ts);
        break;
      }
      case K.msgget: use(p, object('sysvmsg', `${e.result}`, e.ts, `msq ${e.result}`), 'open', 0n, 0, e.ts); break;
      case K.msgsnd: if (e.phase !== PHASE.begin) use(p, object('sysvmsg', `${e.args[A.msgsId]}`, e.ts, `msq ${e.args[A.msgsId]}`), 'write', e.args[A.msgsSize], 1, e.ts); break;
      case K.msgrcv: if (e.phase !== PHASE.begin && e.result >= 0n) use(object('sysvmsg', `${e.args[A.msgrId]}`, e.ts, `msq ${e.args[A.msgrId]}`), p, 'read', e.result, 1, e.ts); break;
      case K.shmat: use(p, object('sysvshm', `${e.args[A.shmatId]}`, e.ts, `shm ${e.args[A.shmatId]}`), 'map', 0n, 0, e.ts); break;
      case K.sem_open: if (e.result !== 0n) { semName.set(`${e.pid}:${e.result}`, blobText(e)); object('semaphore', blobText(e), e.ts, `sem ${blobText(e)}`); } break;
      case K.sem_post: { const n = semName.get(`${e.pid}:${e.args[A.semPost]}`); if (n !== undefined) use(p, object('semaphore', n, e.ts), 'write', 0n, 1, e.ts); break; }
      case K.sem_wait: { const n = semName.get(`${e.pid}:${e.args[A.semWait]}`); if (n !== undefined && e.phase !== PHASE.begin) use(object('semaphore', n, e.ts), p, 'read', 0n, 1, e.ts); break; }
      case K.kill: case K.sigqueue: {
        const target = Number(BigInt.asIntN(64, e.args[e.kind === K.kill ? A.killPid : A.sqPid]));
        if (target > 0 && tracedPids.has(target)) use(p, `proc:${target}`, 'signal', 0n, 1, e.ts);
        break;
      }
      case K.eventfd: object('eventfd', `${e.args[A.efDev]}:${e.args[A.efIno]}`, e.ts); use(p, objectId('eventfd', `${e.args[A.efDev]}:${e.args[A.efIno]}`), 'open', 0n, 0, e.ts); break;
    }
  }
  // An 'open' edge adds nothing once the same process has a real use of that object.
  for (const [id, x] of edges) if (x.use === 'open' && (edges.has(`${x.to}->${x.from}`) && edges.get(`${x.to}->${x.from}`)!.use !== 'open')) edges.delete(id);

  const outNodes = [...nodes.values()].sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : x.id < y.id ? -1 : 1))
    .map((n): MapNode => ({ id: n.id, kind: n.kind, label: n.label, parent: n.parent, pid: n.pid, firstNs: nsString(n.first) }));
  const outEdges = [...edges.values()].sort((x, y) => (x.first < y.first ? -1 : x.first > y.first ? 1 : x.id < y.id ? -1 : 1))
    .map((x): MapEdge => ({ id: x.id, from: x.from, to: x.to, use: x.use, bytes: nsString(x.bytes), messages: x.messages, firstNs: nsString(x.first), lastNs: nsString(x.last) }));
  return { nodes: outNodes, edges: outEdges };
}

function defaultLabel(kind: MapObjectKind, key: string): string {
  switch (kind) {
    case 'pipe': return `pipe ${key.split(':')[1] ?? key}`;
    case 'socket': return `socket ${key.replace('sock:', '')}`;
    default: return `${kind} ${key}`;
  }
}
