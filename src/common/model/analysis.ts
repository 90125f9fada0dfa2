// Derived answers: the wait-for graph with deadlocks, lock-order cycles (potential deadlocks) and the findings.
// Computed on demand from the model's state (cost proportional to waits, locks and evidence, not to events).
import { K } from './kinds';
import { kindById } from '../vocabulary';
import { cycleThrough, stronglyConnected } from './matchers';
import { threadKey, type TraceModel } from './model';
import type { Finding, Wait } from './types';

export interface WaitEdge { readonly from: string; readonly to: string; readonly wait: Wait; readonly reason: string }
export interface WaitForGraph {
  /** Threads ("pid/tid") blocked at the moment analysed, with what they wait on. */
  readonly blocked: Map<string, Wait>;
  readonly edges: WaitEdge[];
  /** Each deadlock: the threads of one cycle, in order, with the waits that form it. */
  readonly deadlocks: { threads: string[]; waits: Wait[] }[];
  readonly atNs: bigint;
}

const kindName = (k: number): string => kindById(k)?.name ?? String(k);

/**
 * The wait-for graph at `atNs` (default: the moment the last still-open wait began, i.e. when the stuck threads
 * were all blocked). A thread waits for the threads that could end its wait: a lock's holders, the processes that
 * hold the other end of the pipe or socket, a child it waits for. A set of blocked threads none of which waits for
 * a thread outside the set is deadlocked (OR semantics: one runnable candidate is enough to break it).
 */
export function waitForGraph(m: TraceModel, atNs?: bigint): WaitForGraph {
  let at = atNs;
  const open = m.waits.filter((w) => w.t1 === undefined);
  if (at === undefined) at = open.reduce((x, w) => (w.t0 > x ? w.t0 : x), m.firstNs ?? 0n);
  const blocked = new Map<string, Wait>();
  for (const w of m.waits) {
    if (w.t0 > at || (w.t1 !== undefined && w.t1 <= at)) continue;
    const p = m.processes.get(w.pid);
    // A thread of a process that ended normally is not blocked any more (exit ended the wait).
    if (p?.endHow === 'exit' && p.endNs !== undefined && p.endNs <= at) continue;
    blocked.set(threadKey(w.pid, w.tid), w);
  }
  const liveThreads = (pid: number): string[] => {
    const p = m.processes.get(pid);
    if (!p || (p.endNs !== undefined && p.endNs <= at! && !(p.endHow !== 'exit'))) return [];
    return [...p.threads.values()].filter((t) => t.startNs <= at! && (t.endNs === undefined || t.endNs > at! || blocked.has(threadKey(pid, t.tid)))).map((t) => threadKey(pid, t.tid));
  };
  const edges: WaitEdge[] = [];
  const candidates = new Map<string, Set<string>>();
  for (const [tk, w] of blocked) {
    const c = new Set<string>();
    const add = (to: string[], reason: string) => { for (const t of to) { if (!c.has(t)) { c.add(t); edges.push({ from: tk, to: t, wait: w, reason }); } } };
    const obj = w.object ? m.objects.get(w.object) : undefined;
    switch (w.kind) {
      case K.mutexLock: case K.rwlockLock: case K.spinLock: case K.semWait: case K.flock: case K.fcntlLock: case K.lockf: {
        const holders = w.object ? m.lockHolders(w.object) : [];
        const file = w.kind === K.flock || w.kind === K.fcntlLock || w.kind === K.lockf;
        for (const h of holders) add(file ? liveThreads(h.pid) : [threadKey(h.pid, h.tid)], `${kindName(w.kind)}: held by ${h.pid}/${h.tid}`);
        break;
      }
      case K.read: case K.write: {
        if (!obj) break;
        const isWrite = w.kind === K.write;
        if (obj.type === 'pipe' || obj.type === 'fifo') {
          // Reading waits for any holder of a write end; writing (pipe full) waits for any holder of a read end.
          for (const f of m.holdersAt(obj.key, at)) if (f.end === 'rw' || f.end === (isWrite ? 'r' : 'w')) add(liveThreads(f.pid), `${isWrite ? 'write to full' : 'read from empty'} ${obj.type} ${obj.name || obj.key}: fd ${f.fd} of ${f.pid}`);
        } else if (obj.type === 'socket' && obj.peer) {
          for (const f of m.holdersAt(obj.peer, at)) add(liveThreads(f.pid), `${isWrite ? 'send' : 'receive'} on socket: peer held by ${f.pid}`);
        }
        break;
      }
      case K.wait: {
        const pid = w.object?.startsWith('pid:') ? Number(w.object.slice(4)) : 0;
        const kids = pid > 0 ? [pid] : (m.processes.get(w.pid)?.children ?? []);
        for (const k of kids) add(liveThreads(k), `wait for child ${k}`);
        break;
      }
      default: break; // accept, poll, epoll, cond_wait, sigwait: the waker cannot be named, so no edge
    }
    candidates.set(tk, c);
  }
  // Greatest fixpoint: drop blocked threads that wait for anything runnable.
  const stuck = new Set([...blocked.keys()].filter((t) => (candidates.get(t)?.size ?? 0) > 0));
  for (let changed = true; changed;) {
    changed = false;
    for (const t of [...stuck]) for (const c of candidates.get(t)!) if (!stuck.has(c)) { stuck.delete(t); changed = true; break; }
  }
  const deadlocks: { threads: string[]; waits: Wait[] }[] = [];
  const covered = new Set<string>();
  const next = (n: string) => candidates.get(n) ?? [];
  for (const comp of stronglyConnected(stuck, (n) => [...next(n)].filter((x) => stuck.has(x)))) {
    const start = comp[0];
    const within = new Set(comp);
    const cyc = cycleThrough(start, within, next);
    if (!cyc || cyc.some((t) => covered.has(t))) continue;
    cyc.forEach((t) => covered.add(t));
    deadlocks.push({ threads: cyc, waits: cyc.map((t) => blocked.get(t)!) });
  }
  return { blocked, edges, deadlocks, atNs: at };
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
    const parts = d.waits.map((w) => `${w.pid}/${w.tid} blocked in ${kindName(w.kind)} on ${describe(m, w.object)}`);
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
