// Lock-contention panel data from the trace model: per lock what mutrace prints at exit (the model's lockStats:
// acquisitions, contention, waits, holds, top waiters and holders; call sites through the caller's resolver), each
// lock's own timeline (the model's waits, holds and lock hand-off flows), the wait-for graph at a time
// (waitForGraph) with its deadlock cycles, and lock-order inversions (the model's lock-order graph, plus the
// attempts of threads still waiting, which a deadlock never completes).
import { K } from '../model/kinds';
import { waitForGraph } from '../model/analysis';
import type { TraceModel } from '../model/model';
import type { LockHold, LockStats as ModelLockStats, Wait as ModelWait } from '../model/types';
import { hex, nsString } from './trace';

export type LockType = 'mutex' | 'rwlock' | 'spin' | 'semaphore' | 'file';
/** A begin/end pair on a file lock counts as contended when it took longer than a plain system call does. */
export const FILE_LOCK_CONTENDED_NS = 50_000n;

export interface SourceLine { func?: string; file?: string; line?: number }
export interface ResolveOptions {
  /** Function and file:line of a return address of a process (the resolver handles the -1). */
  resolveCode?: (pid: number, addr: bigint) => SourceLine | undefined;
  /** A data symbol name for an address of a process (a global mutex's variable name). */
  resolveData?: (pid: number, addr: bigint) => string | undefined;
}

export interface LockSite {
  readonly caller: string;
  readonly pid: number;
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


const TYPE_OF: Record<ModelLockStats['kind'], LockType> = { mutex: 'mutex', rwlock: 'rwlock', spinlock: 'spin', semaphore: 'semaphore', filelock: 'file' };
const TYPE_WORD: Record<LockType, string> = { mutex: 'mutex', rwlock: 'rwlock', spin: 'spin lock', semaphore: 'semaphore', file: 'file' };
const LOCK_WAITS = new Set<number>([K.mutexLock, K.rwlockLock, K.spinLock, K.semWait, K.flock, K.fcntlLock, K.lockf]);
const PRIVATE_KEY = /^(\d+):0x([0-9a-f]+)$/;
const byNsDesc = <T extends { ns: bigint }>(a: T, b: T) => (a.ns < b.ns ? 1 : a.ns > b.ns ? -1 : 0);

/** What a wait waited on, in the panel's words. */
function waitReason(m: TraceModel, w: ModelWait): WaitReason {
  if (w.kind === K.semWait) return 'semaphore';
  if (LOCK_WAITS.has(w.kind)) return 'lock';
  if (w.kind === K.condWait) return 'cond';
  if (w.kind === K.wait) return 'child';
  if (w.kind === K.mqSend || w.kind === K.mqReceive) return 'mqueue';
  return w.object && m.objects.get(w.object)?.type === 'socket' ? 'socket' : 'pipe';
}

export function buildLocksData(m: TraceModel, opts: ResolveOptions = {}): LocksData {
  const labelOf = (pid: number, tid: number) => {
    const p = m.processes.get(pid);
    const exe = (p?.exe || p?.argv[0] || '?').split('/').pop() || '?';
    return `${exe} ${pid}${tid !== pid ? `/${tid}` : ''}`;
  };
  const threadId = (pid: number, tid: number) => `${pid}/${tid}`;
  const names = new Map<string, string>();
  const nameOf = (key: string): string => {
    let n = names.get(key);
    if (n !== undefined) return n;
    const l = m.locks.get(key)?.stats;
    const priv = PRIVATE_KEY.exec(key);
    if (l && priv) {
      const addr = BigInt(`0x${priv[2]}`);
      n = opts.resolveData?.(Number(priv[1]), addr) ?? `${TYPE_WORD[TYPE_OF[l.kind]]} ${hex(addr)}`;
    } else n = l?.name ?? m.objects.get(key)?.name ?? key;
    names.set(key, n);
    return n;
  };
  const siteInfo = (pid: number, caller: bigint): { label: string; func?: string; file?: string; line?: number } => {
    const r = opts.resolveCode?.(pid, caller);
    if (r?.file) return { label: `${r.func ?? '?'} ${r.file.split('/').pop()}:${r.line ?? '?'}`, ...r };
    return { label: r?.func ? `${r.func} (${hex(caller)})` : hex(caller), ...r };
  };
  const endNs = m.lastNs ?? 0n;

  // The model's waits by lock (one pass), and the holds of each thread (for the attempts of blocked threads).
  const waitsOf = new Map<string, ModelWait[]>();
  for (const w of m.waits) if (w.object && m.locks.has(w.object)) (waitsOf.get(w.object) ?? waitsOf.set(w.object, []).get(w.object)!).push(w);

  // ---- statistics ----
  const stats: LockStats[] = [];
  const allSites = new Map<string, { pid: number; caller: bigint; acq: number; cont: number; wait: bigint; max: bigint }>();
  for (const [key, state] of m.locks) {
    const s = state.stats;
    const type = TYPE_OF[s.kind];
    // A failed trylock (or a timed wait that gave up) is contention the acquisitions do not count.
    const fails = s.failed ?? 0;
    const holds = m.lockHolds.get(key) ?? [];
    let hold = s.holdNs, maxHold = s.maxHoldNs;
    const holders = new Map<string, { pid: number; tid: number; ns: bigint; n: number }>();
    for (const h of s.holders.values()) holders.set(threadId(h.pid, h.tid), { pid: h.pid, tid: h.tid, ns: h.holdNs, n: h.count });
    if (type !== 'semaphore') for (const h of holds) {
      if (h.t1 !== undefined) continue; // still held at the end of the trace: held until then
      const d = endNs - h.t0;
      hold += d; if (d > maxHold) maxHold = d;
      const x = holders.get(threadId(h.pid, h.tid)) ?? holders.set(threadId(h.pid, h.tid), { pid: h.pid, tid: h.tid, ns: 0n, n: 0 }).get(threadId(h.pid, h.tid))!;
      x.ns += d; x.n++;
    }
    const top = (list: { pid: number; tid: number; ns: bigint; n: number }[]): ThreadAmount[] => list.sort(byNsDesc).slice(0, 5)
      .map((v) => ({ thread: threadId(v.pid, v.tid), label: labelOf(v.pid, v.tid), ns: nsString(v.ns), count: v.n }));
    // Call sites: acquisitions by caller (the model's), contention and wait by the caller of each wait's end.
    const siteAgg = new Map<bigint, { pid: number; acq: number; cont: number; wait: bigint; max: bigint }>();
    for (const [caller, c] of s.callers) siteAgg.set(caller, { pid: c.pid, acq: c.count, cont: 0, wait: 0n, max: 0n });
    for (const w of waitsOf.get(key) ?? []) {
      if (w.t1 === undefined || w.end < 0) continue;
      const e = m.source.get(w.end);
      const x = siteAgg.get(e.caller) ?? siteAgg.set(e.caller, { pid: e.pid, acq: 0, cont: 0, wait: 0n, max: 0n }).get(e.caller)!;
      const d = w.t1 - w.t0;
      x.cont++; x.wait += d; if (d > x.max) x.max = d;
    }
    const sites = [...siteAgg].sort((a, b) => (a[1].wait < b[1].wait ? 1 : a[1].wait > b[1].wait ? -1 : b[1].acq - a[1].acq)).map(([caller, x]): LockSite => {
      const info = siteInfo(x.pid, caller);
      const k = info.file ? `${info.file}:${info.line}` : `${x.pid}:${caller}`;
      const g = allSites.get(k) ?? allSites.set(k, { pid: x.pid, caller, acq: 0, cont: 0, wait: 0n, max: 0n }).get(k)!;
      g.acq += x.acq; g.cont += x.cont; g.wait += x.wait; if (x.max > g.max) g.max = x.max;
      return { caller: hex(caller), pid: x.pid, ...info, acquisitions: x.acq, contended: x.cont, totalWaitNs: nsString(x.wait), maxWaitNs: nsString(x.max) };
    });
    const attempts = s.acquisitions + fails, contended = s.contended + fails;
    stats.push({ key, type, name: nameOf(key), pids: [...(m.objects.get(key)?.pids ?? [])], acquisitions: s.acquisitions, contended,
      contendedPct: attempts ? Math.round((contended / attempts) * 1000) / 10 : 0, totalWaitNs: nsString(s.waitNs), maxWaitNs: nsString(s.maxWaitNs),
      totalHoldNs: nsString(hold), maxHoldNs: nsString(maxHold),
      topWaiters: top([...s.waiters.values()].map((w) => ({ pid: w.pid, tid: w.tid, ns: w.waitNs, n: w.count }))),
      topHolders: top([...holders.values()]), sites });
  }
  const siteList: LockSite[] = [...allSites.values()].map((x) => ({ caller: hex(x.caller), pid: x.pid, ...siteInfo(x.pid, x.caller),
    acquisitions: x.acq, contended: x.cont, totalWaitNs: nsString(x.wait), maxWaitNs: nsString(x.max) }));

  // ---- lock-order inversions: the model's lock-order graph, plus what each still-blocked thread held when it began
  // waiting (a deadlocked attempt never completes, so the model's acquisitions never record it) ----
  const order = new Map<string, { pid: number; tid: number; held: number; acquired: number }>();
  for (const [a, next] of m.lockOrder) for (const [b, ev] of next) order.set(`${a}\n${b}`, ev);
  const holdsOfThread = new Map<string, LockHold[]>();
  for (const list of m.lockHolds.values()) for (const h of list) (holdsOfThread.get(threadId(h.pid, h.tid)) ?? holdsOfThread.set(threadId(h.pid, h.tid), []).get(threadId(h.pid, h.tid))!).push(h);
  for (const [key, ws] of waitsOf) {
    if (m.locks.get(key)!.stats.kind === 'semaphore') continue;
    for (const w of ws) {
      if (w.t1 !== undefined) continue;
      for (const h of holdsOfThread.get(threadId(w.pid, w.tid)) ?? []) {
        if (h.lock === key || h.t0 > w.t0 || (h.t1 !== undefined && h.t1 <= w.t0) || m.locks.get(h.lock)?.stats.kind === 'semaphore') continue;
        const k = `${h.lock}\n${key}`;
        if (!order.has(k)) order.set(k, { pid: w.pid, tid: w.tid, held: h.index, acquired: w.begin });
      }
    }
  }
  const inversions: LockOrderInversion[] = [];
  for (const [k, fwd] of order) {
    const [a, b] = k.split('\n');
    if (a > b) continue;
    const bwd = order.get(`${b}\n${a}`);
    if (!bwd || (bwd.pid === fwd.pid && bwd.tid === fwd.tid)) continue;
    const at = (ev: { pid: number; tid: number; acquired: number }) => {
      const e = m.source.get(ev.acquired);
      return { thread: threadId(ev.pid, ev.tid), label: labelOf(ev.pid, ev.tid), site: siteInfo(e.pid, e.caller).label, ts: nsString(e.ts) };
    };
    const f = at(fwd), g = at(bwd);
    inversions.push({ first: a, second: b, firstName: nameOf(a), secondName: nameOf(b), forward: f, backward: g,
      explanation: `${f.label} took ${nameOf(a)} then ${nameOf(b)} (at ${f.site}); ${g.label} took ${nameOf(b)} then ${nameOf(a)} (at ${g.site}). ` +
        `If both run at once each can hold one lock and wait forever for the other: always take them in one order.` });
  }

  // ---- per-lock timelines (built on demand) ----
  const timeline = (key: string): LockTimelinePacked | undefined => {
    const state = m.locks.get(key);
    if (!state) return undefined;
    const rows: string[] = [], rowOf = new Map<string, number>();
    const row = (pid: number, tid: number) => { const id = threadId(pid, tid); let r = rowOf.get(id); if (r === undefined) { r = rows.length; rows.push(labelOf(pid, tid)); rowOf.set(id, r); } return r; };
    const sr: number[] = [], sk: number[] = [], ss: bigint[] = [], se: bigint[] = [];
    const waitEnds = new Set<number>();
    for (const w of waitsOf.get(key) ?? []) { sr.push(row(w.pid, w.tid)); sk.push(0); ss.push(w.t0); se.push(w.t1 ?? -1n); if (w.t1 !== undefined) waitEnds.add(w.end); }
    if (state.stats.kind !== 'semaphore') for (const h of m.lockHolds.get(key) ?? []) { sr.push(row(h.pid, h.tid)); sk.push(1); ss.push(h.t0); se.push(h.t1 ?? -1n); }
    // Hand-offs: the model's lock flows (release → the next owner's acquisition) that ended a wait.
    const hf: number[] = [], ht: number[] = [], hfs: bigint[] = [], hts: bigint[] = [];
    for (const f of m.flows) {
      if (f.kind !== 'lock' || f.object !== key || !waitEnds.has(f.to.index)) continue;
      hf.push(row(f.from.pid, f.from.tid)); ht.push(row(f.to.pid, f.to.tid)); hfs.push(f.from.ts); hts.push(f.to.ts);
    }
    return { key, rows, spanRow: Int32Array.from(sr), spanKind: Uint8Array.from(sk), spanStart: BigInt64Array.from(ss), spanEnd: BigInt64Array.from(se),
      handoffFromRow: Int32Array.from(hf), handoffToRow: Int32Array.from(ht), handoffFromTs: BigInt64Array.from(hfs), handoffToTs: BigInt64Array.from(hts) };
  };

  // ---- wait-for graph at a time: the model's ----
  const waitForAt = (ts: bigint): WaitForGraph => {
    const g = waitForGraph(m, ts);
    const nodes = new Map<string, WaitForNode>();
    const node = (id: string, blocked: boolean) => {
      const [pid, tid] = id.split('/').map(Number);
      const n = nodes.get(id);
      if (!n || (blocked && !n.blocked)) nodes.set(id, { id, pid, tid, label: labelOf(pid, tid), blocked: blocked || !!n?.blocked });
    };
    for (const id of g.blocked.keys()) node(id, true);
    const edges: WaitForEdge[] = [];
    const seen = new Set<string>();
    for (const e of g.edges) {
      if (e.from === e.to || seen.has(`${e.from}>${e.to}`)) continue;
      seen.add(`${e.from}>${e.to}`);
      node(e.to, false);
      edges.push({ from: e.from, to: e.to, reason: waitReason(m, e.wait), object: e.wait.object ?? '', since: nsString(e.wait.t0) });
    }
    const cycles = g.deadlocks.map((d): WaitCycle => {
      // from the smallest thread id, for a stable answer
      const k = d.threads.indexOf([...d.threads].sort()[0]);
      const ring = [...d.threads.slice(k), ...d.threads.slice(0, k)];
      const es = ring.map((id, i) => edges.find((e) => e.from === id && e.to === ring[(i + 1) % ring.length])!).filter((e) => !!e);
      const words = es.map((e) => `${nodes.get(e.from)!.label} waits for ${nodes.get(e.to)!.label} (${describe(e, nameOf)})`);
      return { nodes: ring, edges: es, explanation: `Deadlock: ${words.join('; ')}. None of them can go on until one is interrupted.` };
    });
    return { ts: nsString(ts), nodes: [...nodes.values()], edges, cycles };
  };

  // First moment a deadlock exists: a deadlocked wait never ends, so every deadlock is in the graph at the end, and
  // it formed when the last of its waits began (checked there). One graph per deadlock, not one per open wait.
  let firstDeadlockNs: string | undefined;
  const formed = waitForGraph(m).deadlocks.map((d) => d.waits.reduce((x, w) => (w.t0 > x ? w.t0 : x), 0n)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const t of formed) if (waitForGraph(m, t).deadlocks.length) { firstDeadlockNs = nsString(t); break; }

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
