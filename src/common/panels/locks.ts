// Lock-contention panel data: per lock what mutrace prints at exit (acquisitions, contention, waits, holds, top
// waiters and holders, call sites), each lock's own holder/waiter timeline, the wait-for graph at a time with its
// deadlock cycles, and lock-order inversions. Built from the raw lock/wait events of any EventSource.
import type { EventSource, TraceEvent } from '../traceEvent';
import { argIndex, kindId, PHASE } from '../vocabulary';
import { blobText, eventsOfKinds, hex, nsString, processImages } from './trace';

export type LockType = 'mutex' | 'rwlock' | 'spin' | 'semaphore' | 'file';
/** A begin/end pair on a file lock counts as contended when it took longer than a plain system call does. */
export const FILE_LOCK_CONTENDED_NS = 50_000n;

export interface SourceLine { func?: string; file?: string; line?: number }
export interface ResolveOptions {
  /** "function file:line" for a code address of an image (return addresses: the resolver handles the -1). */
  resolveCode?: (conn: number, addr: bigint) => SourceLine | undefined;
  /** A data symbol name for an address (a global mutex's variable name). */
  resolveData?: (conn: number, addr: bigint) => string | undefined;
}

export interface LockSite {
  readonly caller: string;
  readonly conn: number;
  readonly label: string;
  readonly func?: string;
  readonly file?: string;
  readonly line?: number;
  readonly acquisitions: number;
  readonly contended: number;
  readonly totalWaitNs: string;
  readonly maxWaitNs: string;
}
export interface ThreadAmount { readonly thread: string; readonly label: string; readonly ns: string; readonly count: number }
export interface LockStats {
  readonly key: string;
  readonly type: LockType;
  readonly name: string;
  readonly pids: readonly number[];
  readonly acquisitions: number;
  readonly contended: number;
  /** 0–100. */
  readonly contendedPct: number;
  readonly totalWaitNs: string;
  readonly maxWaitNs: string;
  readonly totalHoldNs: string;
  readonly maxHoldNs: string;
  readonly topWaiters: readonly ThreadAmount[];
  readonly topHolders: readonly ThreadAmount[];
  readonly sites: readonly LockSite[];
}

/** One lock's timeline: a row per thread, wait and hold spans, and hand-offs (release → the waiter's acquire). */
export interface LockTimelinePacked {
  readonly key: string;
  readonly rows: readonly string[];
  readonly spanRow: Int32Array;
  /** 0 wait, 1 hold. */
  readonly spanKind: Uint8Array;
  readonly spanStart: BigInt64Array;
  /** -1 when still open at the end of the trace. */
  readonly spanEnd: BigInt64Array;
  readonly handoffFromRow: Int32Array;
  readonly handoffToRow: Int32Array;
  readonly handoffFromTs: BigInt64Array;
  readonly handoffToTs: BigInt64Array;
}

export type WaitReason = 'lock' | 'semaphore' | 'pipe' | 'socket' | 'mqueue' | 'child' | 'cond';
export interface WaitForNode { readonly id: string; readonly pid: number; readonly tid: number; readonly label: string; readonly blocked: boolean }
export interface WaitForEdge { readonly from: string; readonly to: string; readonly reason: WaitReason; readonly object: string; readonly since: string }
/** A deadlock: the edges of one cycle, in order, so a view can say it in words in any language. */
export interface WaitCycle { readonly nodes: readonly string[]; readonly edges: readonly WaitForEdge[]; readonly explanation: string }
export interface WaitForGraph { readonly ts: string; readonly nodes: readonly WaitForNode[]; readonly edges: readonly WaitForEdge[]; readonly cycles: readonly WaitCycle[] }

export interface LockOrderInversion {
  readonly first: string; readonly second: string;
  readonly firstName: string; readonly secondName: string;
  /** Thread and site that took first then second, and the one that took second then first. */
  readonly forward: { thread: string; label: string; site: string; ts: string };
  readonly backward: { thread: string; label: string; site: string; ts: string };
  readonly explanation: string;
}

interface Acq { lock: string; conn: number; pid: number; tid: number; waitStart: bigint; acquired: bigint; released: bigint; caller: bigint; contended: boolean; counted: boolean; rw?: number }
interface Wait { conn: number; pid: number; tid: number; reason: WaitReason; object: string; begin: bigint; end: bigint; fd?: number }
interface LockInfo { key: string; type: LockType; name: string; pids: Set<number>; failedWaits: { tid: string; ns: bigint }[]; tryFails: number }
const NONE = -1n; // open-ended (never released / never ended)

const K = Object.fromEntries(['mutex_lock', 'mutex_unlock', 'rwlock_lock', 'rwlock_unlock', 'spin_lock', 'spin_unlock', 'sem_wait', 'sem_post',
  'sem_open', 'cond_wait', 'cond_signal', 'flock', 'fcntl_lock', 'lockf', 'close', 'open', 'proc_exit', 'thread_exit', 'read', 'write',
  'mq_send', 'mq_receive', 'wait', 'socketpair', 'accept', 'connect', 'pipe'].map((n) => [n, kindId(n)])) as Record<string, number>;
const arg = (kind: string, name: string) => argIndex(kind, name);
const A = {
  mutex: arg('mutex_lock', 'mutex'), unlockMutex: arg('mutex_unlock', 'mutex'), rw: arg('rwlock_lock', 'rwlock'), rwMode: arg('rwlock_lock', 'mode'),
  rwUnlock: arg('rwlock_unlock', 'rwlock'), spin: arg('spin_lock', 'lock'), spinUnlock: arg('spin_unlock', 'lock'), sem: arg('sem_wait', 'sem'),
  semPost: arg('sem_post', 'sem'), condMutex: arg('cond_wait', 'mutex'), cond: arg('cond_wait', 'cond'), condSignal: arg('cond_signal', 'cond'),
  flockOp: arg('flock', 'op'), flockDev: arg('flock', 'dev'), flockIno: arg('flock', 'ino'),
  fcCmd: arg('fcntl_lock', 'cmd'), fcType: arg('fcntl_lock', 'type'), fcDev: arg('fcntl_lock', 'dev'), fcIno: arg('fcntl_lock', 'ino'),
  lfCmd: arg('lockf', 'cmd'), lfDev: arg('lockf', 'dev'), lfIno: arg('lockf', 'ino'),
  closeDev: arg('close', 'dev'), closeIno: arg('close', 'ino'), openDev: arg('open', 'dev'), openIno: arg('open', 'ino'),
  rdFd: arg('read', 'fd'), rdOtype: arg('read', 'otype'), rdDev: arg('read', 'dev'), rdIno: arg('read', 'ino'), rdPeer: arg('read', 'peer'),
  wrOtype: arg('write', 'otype'), wrDev: arg('write', 'dev'), wrIno: arg('write', 'ino'), wrPeer: arg('write', 'peer'),
  mqsDev: arg('mq_send', 'dev'), mqsIno: arg('mq_send', 'ino'), mqrDev: arg('mq_receive', 'dev'), mqrIno: arg('mq_receive', 'ino'),
  waitPid: arg('wait', 'pid'),
  spIno0: arg('socketpair', 'ino0'), spIno1: arg('socketpair', 'ino1'), accIno: arg('accept', 'ino'), accPeer: arg('accept', 'peerIno'),
  conIno: arg('connect', 'ino'), conPeer: arg('connect', 'peerIno'),
};
// otype enumeration values (events.json): pipe 1, fifo 2, socket_unix 3, socket_tcp 4, socket_udp 5.
const OT_PIPE = 1n, OT_FIFO = 2n, OT_SOCKET_UNIX = 3n, OT_SOCKET_TCP = 4n;

export interface LocksData {
  readonly locks: readonly LockStats[];
  readonly inversions: readonly LockOrderInversion[];
  /** All call sites over all locks (for CodeLens): per resolved file:line. */
  readonly sites: readonly LockSite[];
  timeline(key: string): LockTimelinePacked | undefined;
  waitForAt(ts: bigint): WaitForGraph;
  /** Times when a deadlock cycle exists (first such time), for "jump to deadlock". */
  readonly firstDeadlockNs?: string;
  readonly endNs: string;
}

/** Sort order of the contention table; total wait is the default ranking. */
export type LockSortKey = 'totalWait' | 'maxWait' | 'contended' | 'contendedPct' | 'acquisitions' | 'totalHold' | 'maxHold' | 'name';
export function sortLocks(locks: readonly LockStats[], by: LockSortKey = 'totalWait', descending = true): LockStats[] {
  const v = (l: LockStats): bigint | number | string => {
    switch (by) {
      case 'totalWait': return BigInt(l.totalWaitNs);
      case 'maxWait': return BigInt(l.maxWaitNs);
      case 'totalHold': return BigInt(l.totalHoldNs);
      case 'maxHold': return BigInt(l.maxHoldNs);
      case 'contended': return l.contended;
      case 'contendedPct': return l.contendedPct;
      case 'acquisitions': return l.acquisitions;
      case 'name': return l.name;
    }
  };
  return [...locks].sort((a, b) => {
    const x = v(a), y = v(b);
    const c = x < y ? -1 : x > y ? 1 : a.key < b.key ? -1 : 1;
    return descending ? -c : c;
  });
}

export function buildLocksData(source: EventSource, opts: ResolveOptions = {}): LocksData {
  const images = processImages(source);
  const exeOf = new Map(images.map((p) => [p.pid, p.exe.split('/').pop() || '?']));
  const threadLabel = (pid: number, tid: number) => `${exeOf.get(pid) ?? '?'} ${pid}${tid !== pid ? `/${tid}` : ''}`;
  const threadId = (pid: number, tid: number) => `${pid}:${tid}`;

  const locks = new Map<string, LockInfo>();
  const acqs: Acq[] = [];
  const waits: Wait[] = [];
  const held = new Map<string, Acq[]>(); // thread id -> held acquisitions (most recent last)
  const pendingLock = new Map<string, { lock: string; ts: bigint; caller: bigint; rw?: number }>(); // thread -> contended wait in progress
  const pendingWait = new Map<string, Wait>(); // `${thread}:${kind}` -> blocking IPC wait in progress
  const semByAddr = new Map<string, string>(); // `${pid}:${addr}` -> named semaphore key
  const filePath = new Map<string, string>();
  const posters = new Map<string, Map<string, bigint>>(); // sem/cond key -> thread -> last post ts
  const writers = new Map<string, Map<string, bigint>>(); // object -> thread -> first write ts
  const readers = new Map<string, Map<string, bigint>>();
  const socketPeer = new Map<string, string>();
  const exitTs = new Map<string, bigint>(); // thread id or `p:${pid}` -> exit
  const children = new Map<number, number[]>();
  for (const p of images) if (p.origin === 'fork' || p.origin === 'spawn' || p.origin === 'vfork') (children.get(p.ppid) ?? children.set(p.ppid, []).get(p.ppid)!).push(p.pid);
  const order = new Map<string, { tid: string; pid: number; site: bigint; conn: number; ts: bigint }>(); // `${a}\n${b}` first a-then-b
  let endNs = 0n;

  const lockOf = (key: string, type: LockType, name: () => string, pid: number): LockInfo => {
    let l = locks.get(key);
    if (!l) { l = { key, type, name: name(), pids: new Set(), failedWaits: [], tryFails: 0 }; locks.set(key, l); }
    l.pids.add(pid);
    return l;
  };
  const pthreadName = (type: string, conn: number, addr: bigint) => opts.resolveData?.(conn, addr) ?? `${type} ${hex(addr)}`;
  const fileKey = (dev: bigint, ino: bigint) => `file:${dev}:${ino}`;

  // Lock order: taking (or starting to wait for) `lock` while holding others; a deadlocked wait never ends, so the
  // attempt counts.
  const noteOrder = (e: TraceEvent, lock: string, caller: bigint) => {
    if (locks.get(lock)?.type === 'semaphore') return;
    const t = threadId(e.pid, e.tid);
    for (const h of held.get(t) ?? []) if (h.lock !== lock && locks.get(h.lock)?.type !== 'semaphore') {
      const k = `${h.lock}\n${lock}`;
      if (!order.has(k)) order.set(k, { tid: t, pid: e.pid, site: caller, conn: e.conn, ts: e.ts });
    }
  };
  const acquire = (e: TraceEvent, lock: string, waitStart: bigint, contended: boolean, caller: bigint, counted = true, rw?: number) => {
    const t = threadId(e.pid, e.tid);
    const a: Acq = { lock, conn: e.conn, pid: e.pid, tid: e.tid, waitStart, acquired: e.ts, released: NONE, caller, contended, counted, rw };
    noteOrder(e, lock, caller);
    acqs.push(a);
    if (locks.get(lock)?.type !== 'semaphore') (held.get(t) ?? held.set(t, []).get(t)!).push(a);
  };
  const release = (pid: number, tid: number, lock: string, ts: bigint) => {
    const list = held.get(threadId(pid, tid));
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) if (list[i].lock === lock) { list[i].released = ts; list.splice(i, 1); return; }
  };
  const releaseFileLocks = (pid: number, key: string | undefined, ts: bigint) => {
    for (const [t, list] of held) {
      if (!t.startsWith(`${pid}:`)) continue;
      for (let i = list.length - 1; i >= 0; i--) if (list[i].lock.startsWith('file:') && (!key || list[i].lock === key)) { list[i].released = ts; list.splice(i, 1); }
    }
  };

  // Generic handling of a lock-like call: instant = acquired without waiting (or a failed try), begin = waiting,
  // end = acquired after waiting (or gave up).
  const lockCall = (e: TraceEvent, lock: string, ok: boolean, fileLock: boolean, rw?: number) => {
    const t = threadId(e.pid, e.tid);
    const info = locks.get(lock)!;
    if (e.phase === PHASE.begin) { pendingLock.set(t, { lock, ts: e.ts, caller: e.caller, rw }); noteOrder(e, lock, e.caller); return; }
    if (e.phase === PHASE.instant) {
      if (ok) acquire(e, lock, e.ts, false, e.caller, true, rw); else info.tryFails++;
      return;
    }
    const p = pendingLock.get(t);
    pendingLock.delete(t);
    const start = p && p.lock === lock ? p.ts : e.ts;
    if (start !== e.ts || p) waits.push({ conn: e.conn, pid: e.pid, tid: e.tid, reason: info.type === 'semaphore' ? 'semaphore' : 'lock', object: lock, begin: start, end: e.ts });
    const contended = fileLock ? e.ts - start >= FILE_LOCK_CONTENDED_NS : true;
    if (ok) acquire(e, lock, start, contended, e.caller, true, rw);
    else if (!fileLock || contended) { info.failedWaits.push({ tid: t, ns: e.ts - start }); info.tryFails++; }
  };

  const kinds = Object.keys(K);
  for (const e of eventsOfKinds(source, kinds)) {
    if (e.ts > endNs) endNs = e.ts;
    const t = threadId(e.pid, e.tid);
    const ok = e.result === 0n && e.err === 0;
    switch (e.kind) {
      case K.mutex_lock: {
        const key = `mutex:${e.pid}:${hex(e.args[A.mutex])}`;
        lockOf(key, 'mutex', () => pthreadName('mutex', e.conn, e.args[A.mutex]), e.pid);
        lockCall(e, key, ok, false);
        break;
      }
      case K.mutex_unlock: release(e.pid, e.tid, `mutex:${e.pid}:${hex(e.args[A.unlockMutex])}`, e.ts); break;
      case K.rwlock_lock: {
        const key = `rwlock:${e.pid}:${hex(e.args[A.rw])}`;
        lockOf(key, 'rwlock', () => pthreadName('rwlock', e.conn, e.args[A.rw]), e.pid);
        lockCall(e, key, ok, false, Number(e.args[A.rwMode]));
        break;
      }
      case K.rwlock_unlock: release(e.pid, e.tid, `rwlock:${e.pid}:${hex(e.args[A.rwUnlock])}`, e.ts); break;
      case K.spin_lock: {
        const key = `spin:${e.pid}:${hex(e.args[A.spin])}`;
        lockOf(key, 'spin', () => pthreadName('spin lock', e.conn, e.args[A.spin]), e.pid);
        lockCall(e, key, ok, false);
        break;
      }
      case K.spin_unlock: release(e.pid, e.tid, `spin:${e.pid}:${hex(e.args[A.spinUnlock])}`, e.ts); break;
      case K.sem_open: if (e.err === 0 && e.result !== 0n) semByAddr.set(`${e.pid}:${hex(BigInt.asUintN(64, e.result))}`, `sem:${blobText(e)}`); break;
      case K.sem_wait: {
        const addr = hex(e.args[A.sem]);
        const key = semByAddr.get(`${e.pid}:${addr}`) ?? `sem:${e.pid}:${addr}`;
        lockOf(key, 'semaphore', () => (key.startsWith('sem:/') ? `semaphore ${key.slice(4)}` : opts.resolveData?.(e.conn, e.args[A.sem]) ?? `semaphore ${addr}`), e.pid);
        lockCall(e, key, ok, false);
        break;
      }
      case K.sem_post: {
        const addr = hex(e.args[A.semPost]);
        const key = semByAddr.get(`${e.pid}:${addr}`) ?? `sem:${e.pid}:${addr}`;
        (posters.get(key) ?? posters.set(key, new Map()).get(key)!).set(t, e.ts);
        break;
      }
      case K.cond_wait: {
        // The mutex is released for the wait and held again after it: end the hold, start a new one (not a new acquisition).
        const mkey = `mutex:${e.pid}:${hex(e.args[A.condMutex])}`;
        const ckey = `cond:${e.pid}:${hex(e.args[A.cond])}`;
        if (e.phase === PHASE.begin) {
          release(e.pid, e.tid, mkey, e.ts);
          pendingWait.set(`${t}:cond`, { conn: e.conn, pid: e.pid, tid: e.tid, reason: 'cond', object: ckey, begin: e.ts, end: NONE });
        } else {
          const w = pendingWait.get(`${t}:cond`);
          if (w) { w.end = e.ts; waits.push(w); pendingWait.delete(`${t}:cond`); }
          if (locks.has(mkey)) acquire(e, mkey, e.ts, false, e.caller, false);
        }
        break;
      }
      case K.cond_signal: {
        const ckey = `cond:${e.pid}:${hex(e.args[A.condSignal])}`;
        (posters.get(ckey) ?? posters.set(ckey, new Map()).get(ckey)!).set(t, e.ts);
        break;
      }
      case K.open: if (e.err === 0 && e.blob) filePath.set(fileKey(e.args[A.openDev], e.args[A.openIno]), blobText(e)); break;
      case K.flock: {
        const key = fileKey(e.args[A.flockDev], e.args[A.flockIno]);
        const op = e.args[A.flockOp];
        if (op & 8n) { if (e.phase !== PHASE.begin) releaseFileLocks(e.pid, key, e.ts); break; }
        lockOf(key, 'file', () => `file ${filePath.get(key) ?? key.slice(5)}`, e.pid);
        lockCall(e, key, ok, true, op & 1n ? 0 : 1);
        break;
      }
      case K.fcntl_lock: {
        const cmd = e.args[A.fcCmd];
        if (cmd !== 6n && cmd !== 7n && cmd !== 37n && cmd !== 38n) break; // F_SETLK(W), F_OFD_SETLK(W); not F_GETLK
        const key = fileKey(e.args[A.fcDev], e.args[A.fcIno]);
        if (e.args[A.fcType] === 2n) { if (e.phase !== PHASE.begin) releaseFileLocks(e.pid, key, e.ts); break; }
        lockOf(key, 'file', () => `file ${filePath.get(key) ?? key.slice(5)}`, e.pid);
        lockCall(e, key, ok, true, Number(e.args[A.fcType]) === 0 ? 0 : 1);
        break;
      }
      case K.lockf: {
        const cmd = e.args[A.lfCmd];
        const key = fileKey(e.args[A.lfDev], e.args[A.lfIno]);
        if (cmd === 0n) { if (e.phase !== PHASE.begin) releaseFileLocks(e.pid, key, e.ts); break; }
        if (cmd === 3n) break; // F_TEST
        lockOf(key, 'file', () => `file ${filePath.get(key) ?? key.slice(5)}`, e.pid);
        lockCall(e, key, ok, true);
        break;
      }
      case K.close: if (e.err === 0) releaseFileLocks(e.pid, fileKey(e.args[A.closeDev], e.args[A.closeIno]), e.ts); break;
      case K.thread_exit: exitTs.set(t, e.ts); break;
      case K.proc_exit: {
        exitTs.set(`p:${e.pid}`, e.ts);
        for (const [th, list] of held) if (th.startsWith(`${e.pid}:`)) { for (const a of list) a.released = e.ts; list.length = 0; }
        break;
      }
      case K.socketpair: if (ok) { const a = `sock:${e.args[A.spIno0]}`, b = `sock:${e.args[A.spIno1]}`; socketPeer.set(a, b); socketPeer.set(b, a); } break;
      case K.accept: case K.connect: {
        if (e.phase === PHASE.begin || e.err) break;
        const own = e.kind === K.accept ? e.args[A.accIno] : e.args[A.conIno], peer = e.kind === K.accept ? e.args[A.accPeer] : e.args[A.conPeer];
        if (own && peer) { socketPeer.set(`sock:${own}`, `sock:${peer}`); socketPeer.set(`sock:${peer}`, `sock:${own}`); }
        break;
      }
      case K.read: case K.write: case K.mq_send: case K.mq_receive: {
        const isRead = e.kind === K.read || e.kind === K.mq_receive;
        let object: string | undefined, reason: WaitReason = 'pipe';
        if (e.kind === K.read || e.kind === K.write) {
          const ot = e.args[e.kind === K.read ? A.rdOtype : A.wrOtype];
          const dev = e.args[e.kind === K.read ? A.rdDev : A.wrDev], ino = e.args[e.kind === K.read ? A.rdIno : A.wrIno];
          if (ot === OT_PIPE || ot === OT_FIFO) object = `pipe:${dev}:${ino}`;
          else if (ot === OT_SOCKET_UNIX || ot === OT_SOCKET_TCP) { object = `sock:${ino}`; reason = 'socket'; }
        } else {
          object = `mq:${e.args[e.kind === K.mq_send ? A.mqsDev : A.mqrDev]}:${e.args[e.kind === K.mq_send ? A.mqsIno : A.mqrIno]}`;
          reason = 'mqueue';
        }
        if (!object) break;
        const pk = `${t}:io`;
        if (e.phase === PHASE.begin) { pendingWait.set(pk, { conn: e.conn, pid: e.pid, tid: e.tid, reason, object, begin: e.ts, end: NONE }); break; }
        const w = pendingWait.get(pk);
        if (w) { w.end = e.ts; waits.push(w); pendingWait.delete(pk); }
        if (e.result > 0n || (e.kind === K.mq_send && ok)) {
          const m = isRead ? readers : writers;
          const per = m.get(object) ?? m.set(object, new Map()).get(object)!;
          if (!per.has(t)) per.set(t, e.ts);
        }
        break;
      }
      case K.wait: {
        const pk = `${t}:wait`;
        if (e.phase === PHASE.begin) pendingWait.set(pk, { conn: e.conn, pid: e.pid, tid: e.tid, reason: 'child', object: String(BigInt.asIntN(64, e.args[A.waitPid])), begin: e.ts, end: NONE });
        else { const w = pendingWait.get(pk); if (w) { w.end = e.ts; waits.push(w); pendingWait.delete(pk); } }
        break;
      }
    }
  }
  // Waits still open at the end of the trace (a deadlocked or killed program) stay open-ended.
  for (const [t, p] of pendingLock) {
    const [pid, tid] = t.split(':').map(Number);
    waits.push({ conn: -1, pid, tid, reason: locks.get(p.lock)?.type === 'semaphore' ? 'semaphore' : 'lock', object: p.lock, begin: p.ts, end: NONE });
  }
  for (const w of pendingWait.values()) waits.push(w);

  // ---- statistics ----
  const stats: LockStats[] = [];
  const siteAgg = new Map<string, { caller: bigint; conn: number; acq: number; cont: number; wait: bigint; max: bigint }>();
  const siteInfo = (conn: number, caller: bigint): { label: string; func?: string; file?: string; line?: number } => {
    const r = opts.resolveCode?.(conn, caller);
    if (r?.file) return { label: `${r.func ?? '?'} ${r.file.split('/').pop()}:${r.line ?? '?'}`, ...r };
    return { label: r?.func ? `${r.func} (${hex(caller)})` : hex(caller), ...r };
  };
  const allSites = new Map<string, { conn: number; caller: bigint; acq: number; cont: number; wait: bigint; max: bigint }>();
  const byLock = new Map<string, Acq[]>();
  for (const a of acqs) (byLock.get(a.lock) ?? byLock.set(a.lock, []).get(a.lock)!).push(a);
  for (const l of locks.values()) {
    const list = byLock.get(l.key) ?? [];
    let acq = 0, cont = l.tryFails, wait = 0n, maxWait = 0n, hold = 0n, maxHold = 0n;
    const waiters = new Map<string, { ns: bigint; n: number }>(), holders = new Map<string, { ns: bigint; n: number }>();
    siteAgg.clear();
    for (const f of l.failedWaits) { wait += f.ns; if (f.ns > maxWait) maxWait = f.ns; const w = waiters.get(f.tid) ?? { ns: 0n, n: 0 }; w.ns += f.ns; w.n++; waiters.set(f.tid, w); }
    for (const a of list) {
      const t = threadId(a.pid, a.tid);
      if (a.counted) {
        acq++;
        const w = a.acquired - a.waitStart;
        if (a.contended) {
          cont++; wait += w; if (w > maxWait) maxWait = w;
          const x = waiters.get(t) ?? { ns: 0n, n: 0 }; x.ns += w; x.n++; waiters.set(t, x);
        }
        const sk = `${a.conn}:${a.caller}`;
        const s = siteAgg.get(sk) ?? { caller: a.caller, conn: a.conn, acq: 0, cont: 0, wait: 0n, max: 0n };
        s.acq++; if (a.contended) { s.cont++; s.wait += w; if (w > s.max) s.max = w; }
        siteAgg.set(sk, s);
      }
      if (l.type !== 'semaphore') {
        const h = (a.released === NONE ? endNs : a.released) - a.acquired;
        hold += h; if (h > maxHold) maxHold = h;
        const x = holders.get(t) ?? { ns: 0n, n: 0 }; x.ns += h; x.n++; holders.set(t, x);
      }
    }
    const top = (m: Map<string, { ns: bigint; n: number }>) => [...m].sort((a, b) => (a[1].ns < b[1].ns ? 1 : a[1].ns > b[1].ns ? -1 : 0)).slice(0, 5)
      .map(([thread, v]) => { const [pid, tid] = thread.split(':').map(Number); return { thread, label: threadLabel(pid, tid), ns: nsString(v.ns), count: v.n }; });
    const sites = [...siteAgg.values()].sort((a, b) => (a.wait < b.wait ? 1 : a.wait > b.wait ? -1 : b.acq - a.acq)).map((s): LockSite => {
      const info = siteInfo(s.conn, s.caller);
      const key = info.file ? `${info.file}:${info.line}` : `${s.conn}:${s.caller}`;
      const g = allSites.get(key) ?? { conn: s.conn, caller: s.caller, acq: 0, cont: 0, wait: 0n, max: 0n };
      g.acq += s.acq; g.cont += s.cont; g.wait += s.wait; if (s.max > g.max) g.max = s.max; allSites.set(key, g);
      return { caller: hex(s.caller), conn: s.conn, ...info, acquisitions: s.acq, contended: s.cont, totalWaitNs: nsString(s.wait), maxWaitNs: nsString(s.max) };
    });
    const attempts = acq + l.tryFails;
    stats.push({ key: l.key, type: l.type, name: l.name, pids: [...l.pids], acquisitions: acq, contended: cont,
      contendedPct: attempts ? Math.round((cont / attempts) * 1000) / 10 : 0, totalWaitNs: nsString(wait), maxWaitNs: nsString(maxWait),
      totalHoldNs: nsString(hold), maxHoldNs: nsString(maxHold), topWaiters: top(waiters), topHolders: top(holders), sites });
  }
  const siteList: LockSite[] = [...allSites.values()].map((s) => {
    const info = siteInfo(s.conn, s.caller);
    return { caller: hex(s.caller), conn: s.conn, ...info, acquisitions: s.acq, contended: s.cont, totalWaitNs: nsString(s.wait), maxWaitNs: nsString(s.max) };
  });

  // ---- lock-order inversions ----
  const inversions: LockOrderInversion[] = [];
  const nameOf = (k: string) => locks.get(k)?.name ?? k;
  for (const [k, fwd] of order) {
    const [a, b] = k.split('\n');
    if (a > b) continue;
    const bwd = order.get(`${b}\n${a}`);
    if (!bwd) continue;
    const [fp, ft] = fwd.tid.split(':').map(Number), [bp, bt] = bwd.tid.split(':').map(Number);
    const fs = siteInfo(fwd.conn, fwd.site).label, bs = siteInfo(bwd.conn, bwd.site).label;
    inversions.push({ first: a, second: b, firstName: nameOf(a), secondName: nameOf(b),
      forward: { thread: fwd.tid, label: threadLabel(fp, ft), site: fs, ts: nsString(fwd.ts) },
      backward: { thread: bwd.tid, label: threadLabel(bp, bt), site: bs, ts: nsString(bwd.ts) },
      explanation: `${threadLabel(fp, ft)} took ${nameOf(a)} then ${nameOf(b)} (at ${fs}); ${threadLabel(bp, bt)} took ${nameOf(b)} then ${nameOf(a)} (at ${bs}). ` +
        `If both run at once each can hold one lock and wait forever for the other: always take them in one order.` });
  }

  // ---- per-lock timelines (built on demand) ----
  const timeline = (key: string): LockTimelinePacked | undefined => {
    if (!locks.has(key)) return undefined;
    const rows: string[] = [], rowOf = new Map<string, number>();
    const row = (pid: number, tid: number) => { const id = threadId(pid, tid); let r = rowOf.get(id); if (r === undefined) { r = rows.length; rows.push(threadLabel(pid, tid)); rowOf.set(id, r); } return r; };
    const sr: number[] = [], sk: number[] = [], ss: bigint[] = [], se: bigint[] = [];
    for (const w of waits) if (w.object === key) { sr.push(row(w.pid, w.tid)); sk.push(0); ss.push(w.begin); se.push(w.end); }
    const list = (byLock.get(key) ?? []).slice().sort((a, b) => (a.acquired < b.acquired ? -1 : 1));
    for (const a of list) if (locks.get(key)!.type !== 'semaphore') { sr.push(row(a.pid, a.tid)); sk.push(1); ss.push(a.acquired); se.push(a.released); }
    // Hand-off: a contended acquisition right after another thread's release (the releaser woke the waiter).
    const hf: number[] = [], ht: number[] = [], hfs: bigint[] = [], hts: bigint[] = [];
    for (const a of list) {
      if (!a.contended) continue;
      let prev: Acq | undefined;
      for (const b of list) if (b !== a && b.released !== NONE && b.released <= a.acquired && b.released >= a.waitStart && (!prev || b.released > prev.released)) prev = b;
      if (prev) { hf.push(row(prev.pid, prev.tid)); ht.push(row(a.pid, a.tid)); hfs.push(prev.released); hts.push(a.acquired); }
    }
    return { key, rows, spanRow: Int32Array.from(sr), spanKind: Uint8Array.from(sk), spanStart: BigInt64Array.from(ss), spanEnd: BigInt64Array.from(se),
      handoffFromRow: Int32Array.from(hf), handoffToRow: Int32Array.from(ht), handoffFromTs: BigInt64Array.from(hfs), handoffToTs: BigInt64Array.from(hts) };
  };

  // ---- wait-for graph at a time ----
  const alive = (thread: string, pid: number, ts: bigint) => { const a = exitTs.get(thread), b = exitTs.get(`p:${pid}`); return (a === undefined || a > ts) && (b === undefined || b > ts); };
  const waitForAt = (ts: bigint): WaitForGraph => {
    const nodes = new Map<string, WaitForNode>();
    const node = (pid: number, tid: number, blocked: boolean) => {
      const id = threadId(pid, tid); const n = nodes.get(id);
      if (!n || (blocked && !n.blocked)) nodes.set(id, { id, pid, tid, label: threadLabel(pid, tid), blocked: blocked || !!n?.blocked });
      return id;
    };
    const edges: WaitForEdge[] = [];
    const seen = new Set<string>();
    const edge = (from: string, to: string, reason: WaitReason, object: string, since: bigint) => {
      const k = `${from}>${to}>${object}`; if (from === to || seen.has(k)) return; seen.add(k);
      edges.push({ from, to, reason, object, since: nsString(since) });
    };
    for (const w of waits) {
      if (!(w.begin <= ts && (w.end === NONE || w.end > ts))) continue;
      const from = node(w.pid, w.tid, true);
      const targets: string[] = [];
      if (w.reason === 'lock') {
        for (const a of byLock.get(w.object) ?? []) if (a.acquired <= ts && (a.released === NONE || a.released > ts) && threadId(a.pid, a.tid) !== from) targets.push(threadId(a.pid, a.tid));
      } else if (w.reason === 'semaphore' || w.reason === 'cond') {
        for (const th of posters.get(w.object)?.keys() ?? []) targets.push(th);
      } else if (w.reason === 'child') {
        const want = Number(w.object);
        for (const c of children.get(w.pid) ?? []) if (want <= 0 || c === want) targets.push(threadId(c, c));
      } else {
        // Blocked reading: the threads that write the other end; blocked writing: those that read it.
        const reading = isReadWait(w);
        const other = w.reason === 'socket' ? socketPeer.get(w.object) ?? w.object : w.object;
        const m = reading ? writers.get(other) : readers.get(w.reason === 'socket' ? other : w.object);
        for (const th of m?.keys() ?? []) if (!th.startsWith(`${w.pid}:`)) targets.push(th);
      }
      for (const th of targets) {
        const [pid, tid] = th.split(':').map(Number);
        if (!alive(th, pid, ts)) continue;
        node(pid, tid, false);
        edge(from, th, w.reason, w.object, w.begin);
      }
    }
    const cycles = findCycles([...nodes.keys()], edges).map((cyc) => {
      const es = cyc.map((id, i) => edges.find((e) => e.from === id && e.to === cyc[(i + 1) % cyc.length])!);
      const words = es.map((e) => `${nodes.get(e.from)!.label} waits for ${nodes.get(e.to)!.label} (${describe(e, nameOf)})`);
      return { nodes: cyc, edges: es, explanation: `Deadlock: ${words.join('; ')}. None of them can go on until one is interrupted.` };
    });
    return { ts: nsString(ts), nodes: [...nodes.values()], edges, cycles };
  };
  const isReadWait = (w: Wait) => readWaits.has(w);
  const readWaits = new Set<Wait>();
  // Mark which IO waits were reads (kept aside so the Wait record stays small).
  {
    const rd = new Set([K.read, K.mq_receive]);
    const begins = new Map<string, number>();
    for (const e of eventsOfKinds(source, ['read', 'write', 'mq_send', 'mq_receive'])) if (e.phase === PHASE.begin) begins.set(`${e.pid}:${e.tid}:${e.ts}`, e.kind);
    for (const w of waits) if (w.reason === 'pipe' || w.reason === 'socket' || w.reason === 'mqueue') { const kd = begins.get(`${w.pid}:${w.tid}:${w.begin}`); if (kd !== undefined && rd.has(kd)) readWaits.add(w); }
  }

  // First moment a deadlock exists: check at each wait's start (a cycle can only appear when a wait begins).
  let firstDeadlockNs: string | undefined;
  const starts = [...new Set(waits.map((w) => w.begin))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const s of starts) if (waitForAt(s).cycles.length) { firstDeadlockNs = nsString(s); break; }

  return { locks: sortLocks(stats), inversions, sites: siteList, timeline, waitForAt, firstDeadlockNs, endNs: nsString(endNs) };
}

function describe(e: WaitForEdge, nameOf: (k: string) => string): string {
  switch (e.reason) {
    case 'lock': return `held ${nameOf(e.object)}`;
    case 'semaphore': return `posts ${nameOf(e.object)}`;
    case 'cond': return 'signals the condition variable';
    case 'child': return 'child to exit';
    case 'pipe': return 'other end of the pipe';
    case 'socket': return 'other end of the socket';
    case 'mqueue': return 'other side of the message queue';
  }
}

/** Elementary cycles through strongly connected components (Tarjan), one representative cycle per component. */
export function findCycles(nodes: readonly string[], edges: readonly { from: string; to: string }[]): string[][] {
  const adj = new Map<string, string[]>();
  for (const n of nodes) adj.set(n, []);
  for (const e of edges) adj.get(e.from)?.push(e.to);
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>(), stack: string[] = [];
  const comps: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const c: string[] = []; let w: string;
      do { w = stack.pop()!; on.delete(w); c.push(w); } while (w !== v);
      if (c.length > 1) comps.push(c);
    }
  };
  for (const n of nodes) if (!idx.has(n)) strong(n);
  // Walk one cycle inside each component, starting from its smallest id for a stable answer.
  return comps.map((c) => {
    const inC = new Set(c), start = [...c].sort()[0];
    const path = [start], pos = new Map([[start, 0]]);
    let v = start;
    for (;;) {
      const next = (adj.get(v) ?? []).filter((w) => inC.has(w)).sort()[0];
      if (pos.has(next)) return path.slice(pos.get(next)!);
      pos.set(next, path.length); path.push(next); v = next;
    }
  });
}
