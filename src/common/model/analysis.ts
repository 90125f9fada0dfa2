// Derived answers: the wait-for graph with deadlocks, lock-order cycles (potential deadlocks) and the findings.
// Computed on demand from the model's state (cost proportional to waits, locks and evidence, not to events).
import { A, K } from './kinds';
import { enumValue, kindById, PHASE } from '../vocabulary';
import type { TraceEvent } from '../traceEvent';
import { cycleThrough, stronglyConnected } from './matchers';
import { semopRaises, threadKey, type TraceModel } from './model';
import type { FdEnd, FdInterval, Finding, Wait } from './types';

export interface WaitEdge { readonly from: string; readonly to: string; readonly wait: Wait; readonly reason: string }
export interface WaitForGraph {
  /** Threads ("pid/tid") blocked at the moment analysed, with what they wait on. */
  readonly blocked: Map<string, Wait>;
  readonly edges: WaitEdge[];
  /** Blocked threads whose wait something outside the trace could end (a connection, a signal, a timeout, an fd the
   * trace does not know), with why: never part of a deadlock, whatever their edges. */
  readonly open: Map<string, string>;
  /** Each deadlock: the threads of one cycle, in order, with the waits that form it. */
  readonly deadlocks: { threads: string[]; waits: Wait[] }[];
  readonly atNs: bigint;
}

const kindName = (k: number): string => kindById(k)?.name ?? String(k);
const NO_TIMEOUT = 0xffffffffffffffffn;
const TIMED_LOCK = new Set([enumValue('lockHow', 'timedlock'), enumValue('lockHow', 'clocklock')]);
const TIMED_SEM = new Set([enumValue('semWaitHow', 'timedwait'), enumValue('semWaitHow', 'clockwait')]);
const SIGTIMEDWAIT = enumValue('sigwaitHow', 'sigtimedwait');
const SEMCTL_SETVAL = 16, SEMCTL_SETALL = 17, WNOHANG = 1;

/** A wait that ends by itself (a timeout) or does not block at all: it cannot be part of a deadlock. */
function selfEnding(m: TraceModel, w: Wait): string | undefined {
  const e = m.source.get(w.begin);
  const arg = (kind: string, name: string) => e.args[A(kind, name)];
  switch (w.kind) {
    case K.poll: return arg('poll', 'timeoutNs') !== NO_TIMEOUT ? 'poll with a timeout' : undefined;
    case K.select: return arg('select', 'timeoutNs') !== NO_TIMEOUT ? 'select with a timeout' : undefined;
    case K.epollWait: return arg('epoll_wait', 'timeoutNs') !== NO_TIMEOUT ? 'epoll_wait with a timeout' : undefined;
    case K.condWait: return arg('cond_wait', 'timed') ? 'pthread_cond_timedwait' : undefined;
    case K.mqSend: return arg('mq_send', 'timed') ? 'mq_timedsend' : undefined;
    case K.mqReceive: return arg('mq_receive', 'timed') ? 'mq_timedreceive' : undefined;
    case K.semop: return arg('semop', 'timed') ? 'semtimedop' : undefined;
    case K.semWait: return TIMED_SEM.has(Number(arg('sem_wait', 'how'))) ? 'sem_timedwait' : undefined;
    case K.mutexLock: return TIMED_LOCK.has(Number(arg('mutex_lock', 'how'))) ? 'timed mutex lock' : undefined;
    case K.rwlockLock: return TIMED_LOCK.has(Number(arg('rwlock_lock', 'how'))) ? 'timed rwlock lock' : undefined;
    case K.sigwait: return Number(arg('sigwait', 'how')) === SIGTIMEDWAIT ? 'sigtimedwait' : undefined;
    case K.wait: return Number(arg('wait', 'options')) & WNOHANG ? 'WNOHANG' : undefined;
    default: return undefined;
  }
}

/**
 * The wait-for graph at `atNs` (default: the moment the last still-open wait began, i.e. when the stuck threads
 * were all blocked). A thread waits for the threads that could end its wait (docs/model.md, "Waits": the rule for
 * each kind). A set of blocked threads none of which waits for a thread outside the set is deadlocked (OR semantics:
 * one runnable candidate is enough to break it); a wait something outside the trace could end is `open` and never
 * part of a deadlock.
 */
export function waitForGraph(m: TraceModel, atNs?: bigint): WaitForGraph {
  let at = atNs;
  // Over the wait table's columns: a row is made only for the waits in progress at the moment.
  const W = m.waits;
  if (at === undefined) { at = m.firstNs ?? 0n; for (let i = 0; i < W.length; i++) if (!W.ended(i)) { const t0 = W.t0At(i); if (t0 > at) at = t0; } }
  const t = at;
  const blocked = new Map<string, Wait>();
  for (let i = 0; i < W.length; i++) {
    if (W.t0At(i) > t) continue;
    const t1 = W.t1At(i);
    if (t1 !== undefined && t1 <= t) continue;
    const pid = W.pidAt(i), p = m.processes.get(pid);
    // A thread of a process that ended normally is not blocked any more (exit ended the wait).
    if (p?.endHow === 'exit' && p.endNs !== undefined && p.endNs <= t) continue;
    blocked.set(threadKey(pid, W.tidAt(i)), W.at(i)!);
  }
  const alive = (pid: number, tid: number): boolean => {
    const p = m.processes.get(pid);
    if (!p || (p.endNs !== undefined && p.endNs <= t && p.endHow === 'exit')) return false;
    const th = p.threads.get(tid);
    return !!th && th.startNs <= t && (th.endNs === undefined || th.endNs > t || blocked.has(threadKey(pid, tid)));
  };
  const liveThreads = (pid: number): string[] => {
    const p = m.processes.get(pid);
    if (!p || (p.endNs !== undefined && p.endNs <= t && !(p.endHow !== 'exit'))) return [];
    return [...p.threads.values()].filter((th) => alive(pid, th.tid)).map((th) => threadKey(pid, th.tid));
  };
  /** Live threads of the processes holding `object` through an fd of one of `ends` at the moment analysed. */
  const holders = (object: string | undefined, ends: readonly FdEnd[]): { fd: FdInterval; threads: string[] }[] =>
    object ? m.holdersAt(object, t).filter((f) => ends.includes(f.end)).map((f) => ({ fd: f, threads: liveThreads(f.pid) })) : [];
  const upTo = new Map<string, TraceEvent[]>(); // an object's events by then, read once per graph
  const eventsBy = (object: string): TraceEvent[] => {
    let l = upTo.get(object);
    if (!l) {
      l = [];
      for (const i of m.objects.get(object)?.events ?? []) { const e = m.source.get(i); if (e.ts > t) break; l.push(e); }
      upTo.set(object, l);
    }
    return l;
  };
  /** The threads (pid/tid) whose events on `object` up to the moment analysed match `pick`. */
  const usersOf = (object: string | undefined, pick: (kind: number, e: TraceEvent) => boolean): { pid: number; tid: number }[] => {
    const seen = new Map<string, { pid: number; tid: number }>();
    for (const e of object ? eventsBy(object) : []) if (pick(e.kind, e)) seen.set(threadKey(e.pid, e.tid), { pid: e.pid, tid: e.tid });
    return [...seen.values()];
  };
  const objName = (key: string | undefined) => describe(m, key);
  /** System V ids are not held through descriptors: the processes that used the id by then, and the processes forked
   *  from one of them after it did (they have the id in memory). */
  const sysvUsers = (object: string | undefined): number[] => {
    const first = new Map<number, bigint>();
    for (const e of object ? eventsBy(object) : []) if (!first.has(e.pid)) first.set(e.pid, e.ts);
    const users = new Set(first.keys());
    for (const p of m.processes.values()) {
      // Up the fork chain: a child has what its parent had when it was forked.
      let since = m.forkedAt.get(p.pid);
      for (let a = m.processes.get(p.ppid), hops = 0; a && since !== undefined && since <= t && hops < 64; a = m.processes.get(a.ppid), hops++) {
        const f = first.get(a.pid);
        if (f !== undefined && f <= since) { users.add(p.pid); break; }
        since = m.forkedAt.get(a.pid);
      }
    }
    return [...users];
  };

  const edges: WaitEdge[] = [];
  const candidates = new Map<string, Set<string>>();
  const openWhy = new Map<string, string>();
  for (const [tk, w] of blocked) {
    const c = new Set<string>();
    const add = (to: string[], reason: string) => { for (const x of to) { if (!c.has(x)) { c.add(x); edges.push({ from: tk, to: x, wait: w, reason }); } } };
    const opened = (why: string) => { if (!openWhy.has(tk)) openWhy.set(tk, why); };
    const self = selfEnding(m, w);
    if (self) opened(`${self}: it ends by itself`);
    const obj = w.object ? m.objects.get(w.object) : undefined;
    const kn = kindName(w.kind);
    switch (w.kind) {
      case K.mutexLock: case K.rwlockLock: case K.spinLock: case K.flock: case K.fcntlLock: case K.lockf: {
        const hs = w.object ? m.lockHoldersAt(w.object, t) : []; // at that moment, not at the end of the trace
        const file = w.kind === K.flock || w.kind === K.fcntlLock || w.kind === K.lockf;
        for (const h of hs) add(file ? liveThreads(h.pid) : [threadKey(h.pid, h.tid)], `${kn}: held by ${h.pid}/${h.tid}`);
        break;
      }
      case K.semWait: {
        // A semaphore is raised by whoever posts it: its holders (used as a lock) and the threads that posted it
        // before; when the trace shows neither, any thread of the processes that used it.
        for (const h of w.object ? m.lockHolders(w.object) : []) if (alive(h.pid, h.tid)) add([threadKey(h.pid, h.tid)], `sem_wait on ${objName(w.object)}: taken by ${h.pid}/${h.tid}, which should post it`);
        for (const u of usersOf(w.object, (k) => k === K.semPost)) if (alive(u.pid, u.tid)) add([threadKey(u.pid, u.tid)], `sem_wait on ${objName(w.object)}: ${u.pid}/${u.tid} posted it before`);
        if (!c.size) for (const pid of uniq(usersOf(w.object, () => true).map((u) => u.pid))) add(liveThreads(pid), `sem_wait on ${objName(w.object)}: process ${pid} uses it`);
        break;
      }
      case K.semop: {
        const raisers = usersOf(w.object, (k, e) => (k === K.semop && e.phase !== PHASE.begin && e.err === 0 && semopRaises(e))
          || (k === K.semctl && (Number(e.args[A('semctl', 'cmd')]) === SEMCTL_SETVAL || Number(e.args[A('semctl', 'cmd')]) === SEMCTL_SETALL)));
        for (const u of raisers) if (alive(u.pid, u.tid)) add([threadKey(u.pid, u.tid)], `semop on ${objName(w.object)}: ${u.pid}/${u.tid} raised it before`);
        if (!c.size) for (const pid of sysvUsers(w.object)) add(liveThreads(pid), `semop on ${objName(w.object)}: process ${pid} has the set's id`);
        break;
      }
      case K.condWait: {
        // Signalled by the threads that signalled it before and those that use its mutex (the predicate changes
        // under the mutex); when none other is known, by any other thread of the processes that used it.
        const me = (u: { pid: number; tid: number }) => u.pid === w.pid && u.tid === w.tid;
        for (const u of usersOf(w.object, (k) => k === K.condSignal)) if (!me(u) && alive(u.pid, u.tid)) add([threadKey(u.pid, u.tid)], `cond_wait on ${objName(w.object)}: ${u.pid}/${u.tid} signalled it before`);
        const mutex = w.object ? m.condMutexKey(w.object) : undefined;
        for (const u of usersOf(mutex, () => true)) if (!me(u) && alive(u.pid, u.tid)) add([threadKey(u.pid, u.tid)], `cond_wait on ${objName(w.object)}: ${u.pid}/${u.tid} uses its mutex ${objName(mutex)}`);
        if (!c.size) for (const pid of uniq([w.pid, ...usersOf(w.object, () => true).map((u) => u.pid)])) add(liveThreads(pid).filter((x) => x !== tk), `cond_wait on ${objName(w.object)}: any other thread of ${pid} could signal it`);
        if (!c.size) add([tk], `cond_wait on ${objName(w.object)}: no other thread could signal it`);
        break;
      }
      case K.read: case K.write: {
        if (!obj) break;
        const isWrite = w.kind === K.write;
        if (obj.type === 'pipe' || obj.type === 'fifo') {
          // Reading waits for any holder of a write end; writing (pipe full) waits for any holder of a read end.
          for (const h of holders(obj.key, isWrite ? ['r', 'rw'] : ['w', 'rw'])) add(h.threads, `${isWrite ? 'write to full' : 'read from empty'} ${obj.type} ${obj.name || obj.key}: fd ${h.fd.fd} of ${h.fd.pid}`);
        } else if (obj.type === 'socket' && obj.peer) {
          for (const h of holders(obj.peer, ['r', 'w', 'rw'])) add(h.threads, `${isWrite ? 'send' : 'receive'} on socket: peer held by ${h.fd.pid}`);
        } else if (obj.type === 'eventfd') {
          for (const h of holders(obj.key, ['r', 'w', 'rw'])) add(h.threads, `${isWrite ? 'write to full' : 'read from zero'} eventfd: fd ${h.fd.fd} of ${h.fd.pid}`);
        } else opened(`${kn} on ${objName(obj.key)}: its other side is outside what the trace knows`);
        break;
      }
      case K.mqReceive: case K.mqSend: {
        // Like a FIFO: the processes that have the queue open for the other direction (a process outside the
        // trace could open it by name too, as it could a FIFO by path).
        const recv = w.kind === K.mqReceive;
        for (const h of holders(w.object, recv ? ['w', 'rw'] : ['r', 'rw'])) add(h.threads, `${recv ? 'mq_receive on empty' : 'mq_send to full'} ${objName(w.object)}: mqd ${h.fd.fd} of ${h.fd.pid} opened for ${recv ? 'writing' : 'reading'}`);
        break;
      }
      case K.msgrcv: case K.msgsnd: {
        const recv = w.kind === K.msgrcv;
        for (const pid of sysvUsers(w.object)) add(liveThreads(pid), `${recv ? 'msgrcv on empty' : 'msgsnd to full'} ${objName(w.object)}: process ${pid} has the queue's id`);
        break;
      }
      case K.poll: case K.select: case K.epollWait: {
        readinessEdges(m, w, holders, add, opened, kn);
        break;
      }
      case K.accept: {
        // A connection can come from any process, traced or not: never part of a deadlock. The process that did
        // connect, once known, is shown.
        opened(`accept on ${objName(w.object)}: a connection can come from outside the trace`);
        if (w.by) add([threadKey(w.by.pid, w.by.tid)], `accept on ${objName(w.object)}: ${w.by.pid}/${w.by.tid} connected`);
        break;
      }
      case K.sigwait: {
        // Any process (and the kernel) can send a signal. The traced senders so far are shown.
        opened(`${kn}: a signal can come from any process or the kernel`);
        const senders = uniq(m.flows.filter((f) => f.kind === 'signal' && f.to.pid === w.pid && f.from.ts <= t).map((f) => f.from.pid));
        for (const pid of senders) add(liveThreads(pid), `${kn}: ${pid} signalled this process before`);
        break;
      }
      case K.wait: {
        const pid = w.object?.startsWith('pid:') ? Number(w.object.slice(4)) : 0;
        const kids = pid > 0 ? [pid] : (m.processes.get(w.pid)?.children ?? []);
        for (const k of kids) add(liveThreads(k), `wait for child ${k}`);
        break;
      }
      default: opened(`${kn}: who could end it is not known`); break;
    }
    candidates.set(tk, c);
  }
  // Greatest fixpoint: drop blocked threads that wait for anything runnable (or that something outside could wake).
  const stuck = new Set([...blocked.keys()].filter((x) => (candidates.get(x)?.size ?? 0) > 0 && !openWhy.has(x)));
  for (let changed = true; changed;) {
    changed = false;
    for (const x of [...stuck]) for (const c of candidates.get(x)!) if (!stuck.has(c)) { stuck.delete(x); changed = true; break; }
  }
  const deadlocks: { threads: string[]; waits: Wait[] }[] = [];
  const covered = new Set<string>();
  const next = (n: string) => candidates.get(n) ?? [];
  for (const comp of stronglyConnected(stuck, (n) => [...next(n)].filter((x) => stuck.has(x)))) {
    const start = comp[0];
    const within = new Set(comp);
    // A thread that could end its own wait (it holds the other end too) is a self-loop: name the cycle through
    // the others when there are others.
    const cyc = cycleThrough(start, within, comp.length > 1 ? (n) => [...next(n)].filter((x) => x !== n) : next);
    if (!cyc || cyc.some((x) => covered.has(x))) continue;
    cyc.forEach((x) => covered.add(x));
    deadlocks.push({ threads: cyc, waits: cyc.map((x) => blocked.get(x)!) });
  }
  return { blocked, edges, open: openWhy, deadlocks, atNs: t };
}

/**
 * poll/select/epoll_wait: the thread waits for whoever can make one of its watched fds ready: the holders of a
 * pipe's or FIFO's other end, a connected socket's peer, an eventfd, a message queue. A watched fd whose other side
 * the trace cannot name (a listening or unconnected socket, a terminal, a file, an fd it never saw opened) could
 * be made ready from outside: the wait is open.
 */
function readinessEdges(m: TraceModel, w: Wait,
  holders: (object: string | undefined, ends: readonly FdEnd[]) => { fd: FdInterval; threads: string[] }[],
  add: (to: string[], reason: string) => void, opened: (why: string) => void, kn: string): void {
  if (w.watchesIncomplete) opened(`${kn} watches fds the trace does not know (inherited from outside, an epoll fd received over a socket, or more than the shim records)`);
  if (!w.watches?.length) opened(`${kn} watches no fd the trace knows`);
  for (const x of w.watches ?? []) {
    const o = x.object ? m.objects.get(x.object) : undefined;
    const what = `${kn}: fd ${x.fd} (${describe(m, x.object)})`;
    if (!o) { opened(`${what} is not known to the trace`); continue; }
    const wantIn = x.dir !== 'out', wantOut = x.dir !== 'in';
    if (o.type === 'pipe' || o.type === 'fifo' || o.type === 'mq') {
      const ends: FdEnd[] = [];
      if (wantIn) ends.push('w');
      if (wantOut) ends.push('r');
      ends.push('rw');
      for (const h of holders(o.key, ends)) add(h.threads, `${what} ${wantIn ? 'readable' : 'writable'} when ${h.fd.pid} ${wantIn ? 'writes' : 'reads'} (fd ${h.fd.fd}, ${h.fd.end})`);
    } else if (o.type === 'socket' && o.peer) {
      for (const h of holders(o.peer, ['r', 'w', 'rw'])) add(h.threads, `${what} ready when the peer's holder ${h.fd.pid} ${wantIn ? 'sends' : 'receives'} (fd ${h.fd.fd})`);
    } else if (o.type === 'eventfd') {
      for (const h of holders(o.key, ['r', 'w', 'rw'])) add(h.threads, `${what} ready when ${h.fd.pid} writes it (fd ${h.fd.fd})`);
    } else {
      opened(`${what}: ${o.type === 'socket' ? 'a connection or datagram can come from outside the trace' : 'its other side is outside what the trace knows'}`);
    }
  }
}

/** Cycles in the lock-order graph whose edges come from at least two threads: potential deadlocks (ABBA). */
export function lockOrderCycles(m: TraceModel): { locks: string[]; evidence: { pid: number; tid: number; held: number; acquired: number }[] }[] {
  const next = (k: string) => [...(m.lockOrder.get(k)?.keys() ?? [])];
  const nodes = new Set<string>([...m.lockOrder.keys()]);
  const out: { locks: string[]; evidence: { pid: number; tid: number; held: number; acquired: number }[] }[] = [];
  for (const comp of stronglyConnected(nodes, next)) {
    if (comp.length < 2) continue;
    const cyc = cycleThrough(comp[0], new Set(comp), next);
    if (!cyc) continue;
    const evidence = cyc.map((k, i) => m.lockOrder.get(k)!.get(cyc[(i + 1) % cyc.length])!);
    if (new Set(evidence.map((e) => threadKey(e.pid, e.tid))).size < 2) continue;
    out.push({ locks: cyc, evidence });
  }
  return out;
}

/** Every finding, each with the events that prove it. */
export function findings(m: TraceModel): Finding[] {
  const out: Finding[] = [];
  const lockName = (k: string) => m.locks.get(k)?.stats.name ?? m.objects.get(k)?.name ?? k;
  const g = waitForGraph(m);
  for (const d of g.deadlocks) {
    const on = (w: Wait) => (w.watches ? w.watches.map((x) => `fd ${x.fd} (${describe(m, x.object)})`).join(', ') || 'no fd' : describe(m, w.object));
    const parts = d.waits.map((w) => `${w.pid}/${w.tid} blocked in ${kindName(w.kind)} on ${on(w)}`);
    out.push({ kind: 'deadlock', severity: 'error', message: `deadlock: ${parts.join(' → ')} → (back to ${d.threads[0]})`, events: d.waits.map((w) => w.begin), pids: uniq(d.waits.map((w) => w.pid)) });
  }
  for (const c of lockOrderCycles(m)) {
    const steps = c.evidence.map((e, i) => `${e.pid}/${e.tid} took ${lockName(c.locks[(i + 1) % c.locks.length])} while holding ${lockName(c.locks[i])}`);
    out.push({ kind: 'lock-order-inversion', severity: 'warning', message: `potential deadlock (lock order cycle): ${steps.join('; ')}`, events: c.evidence.flatMap((e) => [e.held, e.acquired]), pids: uniq(c.evidence.map((e) => e.pid)) });
  }
  for (const l of m.evidence.leakedExec) {
    // An fd the new image then uses was passed on purpose; one it never touches leaked.
    const o = m.objects.get(l.object);
    const used = o?.events.some((i) => i > l.start && m.source.get(i).pid === l.pid && m.source.get(i).args[0] === BigInt(l.fd));
    if (used) continue;
    out.push({ kind: 'leaked-fd-exec', severity: 'warning', message: `fd ${l.fd} (${describe(m, l.object)}) of pid ${l.pid} stayed open across exec without O_CLOEXEC`, events: [l.opened, l.exec, l.start], pids: [l.pid] });
  }
  // A read from a pipe that never returned while the reader itself held a write end: it can never see EOF.
  for (const w of m.waits) {
    if (w.t1 !== undefined || w.kind !== K.read || !w.object || m.objects.get(w.object)?.type !== 'pipe') continue;
    const own = m.holdersAt(w.object, w.t0).filter((f) => f.pid === w.pid && f.end === 'w');
    if (!own.length) continue;
    out.push({ kind: 'pipe-write-end-in-reader', severity: 'warning', message: `pid ${w.pid} blocked reading ${describe(m, w.object)} while it still holds its write end (fd ${own.map((f) => f.fd).join(', ')}), so it can never see EOF`, events: [w.begin, ...own.map((f) => f.fromIndex)], pids: [w.pid] });
  }
  for (const [obj, evs] of m.evidence.largePipeWrites) {
    const writers = m.evidence.pipeWriters.get(obj);
    if (!writers || writers.size < 2) continue;
    out.push({ kind: 'non-atomic-pipe-write', severity: 'warning', message: `writes larger than PIPE_BUF (4096) to ${describe(m, obj)} which has ${writers.size} writers (${[...writers].join(', ')}): they can interleave`, events: evs, pids: [...writers] });
  }
  for (const i of m.evidence.unsafeInHandler) {
    const e = m.source.get(i);
    out.push({ kind: 'signal-unsafe-call', severity: 'warning', message: `${kindName(e.kind)} called inside a signal handler (pid ${e.pid}, tid ${e.tid}) is not async-signal-safe`, events: [i], pids: [e.pid] });
  }
  for (const c of m.evidence.condNoMutex) {
    const e = m.source.get(c.index);
    out.push({ kind: 'cond-signal-without-mutex', severity: 'warning', message: `${describe(m, c.cond)} signalled by ${e.pid}/${e.tid} without holding ${lockName(c.mutex)}`, events: [c.index], pids: [e.pid] });
  }
  for (const x of m.evidence.eintr) {
    if (x.retried) continue;
    const e = m.source.get(x.index);
    out.push({ kind: 'eintr-not-retried', severity: 'warning', message: `${kindName(e.kind)} in ${e.pid}/${e.tid} failed with EINTR and was not retried`, events: [x.index], pids: [e.pid] });
  }
  for (const l of m.evidence.lostWakeups) {
    const w = m.waits.find((x) => x.begin === l.wait);
    const end = w && w.t1 !== undefined ? m.source.get(w.end) : undefined;
    if (end && end.err === 0 && end.result === 0n) continue; // it was woken after all (pthread errors come as the result)
    const e = m.source.get(l.signal);
    out.push({ kind: 'lost-wakeup', severity: 'warning', message: `condition variable signalled by ${e.pid}/${e.tid} with no waiter; the waiter blocked afterwards${w?.t1 === undefined ? ' and never woke' : ' and timed out'}`, events: [l.signal, l.wait], pids: uniq([e.pid, m.source.get(l.wait).pid]) });
  }
  for (const s of m.signalStats()) {
    if (s.sent > s.delivered) out.push({ kind: 'signals-coalesced', severity: 'info', message: `signal ${s.sig}: ${s.sent} sent, ${s.delivered} delivered — ${s.sent - s.delivered} merged into pending ones (standard signals do not queue) or not delivered`, events: [], pids: [] });
  }
  for (const d of m.dropInfo()) {
    out.push({ kind: 'events-dropped', severity: 'warning', message: `pid ${d.pid} dropped ${d.count} events under back-pressure; ${d.streams} stream(s) it used are not matched from then on (their byte offsets are unknown)`, events: [d.index], pids: [d.pid] });
  }
  if (m.evidence.mqOrderViolations) out.push({ kind: 'mq-order', severity: 'info', message: `${m.evidence.mqOrderViolations} message-queue receives did not take the highest-priority message known: events were lost or reordered`, events: [], pids: [] });
  return out;
}

export function describe(m: TraceModel, key: string | undefined): string {
  if (!key) return 'unknown object';
  const o = m.objects.get(key);
  if (!o) return key;
  return `${o.type} ${o.name || key}`;
}
const uniq = <T>(a: T[]): T[] => [...new Set(a)];
