// The trace model: turns the event stream of a recording (live or from a .ipctrace file) into processes, fds, IPC
// objects, exactly matched flows, waits, lock statistics, page states and findings. Incremental: update() consumes
// only events it has not seen. Events from different processes arrive interleaved and not in time order; each
// batch is merged by timestamp (live sources hold back the newest `lagNs` so late connections can catch up), and
// every matcher keeps per-object state that tolerates the rest.
import type { EventSource, TraceEvent } from '../traceEvent';
import { kindById, PHASE, EVENT_FLAG, MAX_KIND_ID } from '../vocabulary';
import {
  K, OTYPE, EXIT_HOW_FATAL, ORIGIN_EXEC, FD_PASS_SEND, RW_WRITE, DUP_CLOEXEC, O_ACCMODE, O_WRONLY, O_RDWR, O_CLOEXEC,
  SOCK_TYPE_MASK, SOCK_DGRAM, F_SETFD, FD_CLOEXEC, MAP_SHARED, EINTR, LOCK_UN, LOCK_SH, F_GETLK, F_OFD_GETLK, F_UNLCK, F_RDLCK,
  F_ULOCK, isSocketOtype, F_SETLKW, F_OFD_SETLKW,
} from './kinds';
import { ByteStreamMatcher, MessageMatcher, PriorityQueueMatcher, type Endpoint } from './matchers';
import { LaneIndex } from './lanes';
import { KeptKeyMap } from './keptKeyMap';
import { PageModel, PAGE_KIND } from './pages';
import type {
  Flow, FlowKind, ProcessInfo, ThreadInfo, FdInterval, FdEnd, ObjectType, Wait, LockStats, SignalStats, WatchedFd,
} from './types';
import { FlowTable, WaitTable, LockHoldTable, IntList, ObjectRecord, WaitRow } from './tables';

export interface TraceModelOptions {
  /** Live source: hold back events newer than the newest timestamp minus lagNs until later updates (default false). */
  live?: boolean;
  /** How far behind the newest event a live model processes (default 100 ms). */
  lagNs?: bigint;
  /** Follow source.onAppend and update automatically (default false: call update()). */
  follow?: boolean;
}

interface LockState {
  stats: LockStats;
  /** Current holders: thread key (pid/tid; pid for file locks) → since. */
  holders: KeptKeyMap<string, Since>;
  lastRelease?: Endpoint;
  /** Acquisitions stamped before the release that allowed them (the unlock's event is taken after it returns). */
  pendingAcq: { ep: Endpoint; wait?: Wait }[];
  /** Exclusive holds: the latest in acquisition order, and each holder's open one. */
  lastHold?: Hold;
  open: KeptKeyMap<string, Hold>;
  /** When each current hold began (for hold times; kept even when a later owner's event came first). */
  since: KeptKeyMap<string, Since>;
}
/** A hold's start, and the hold it records (a field, not a WeakMap: one entry per acquisition weighed on every GC). */
interface Since { pid: number; tid: number; since: bigint; index: number; hold?: number }
interface Hold { key: string; pid: number; tid: number; release?: Endpoint; handoff?: { ep: Endpoint; wait?: Wait } }
/** An acquisition: its endpoint, the start of its hold (`since`) and, exclusive, its hold. One object, not three per
 *  lock call (the live model's young garbage). */
interface Acquisition extends Since, Hold { ts: bigint }

/** A readiness wait that ended with objects ready before the event that made them ready was seen (a write is
 *  stamped after it returns, sometimes after the woken poll's end). */
interface LateReady { wait: Wait; ready: Map<string, WatchedFd['dir']> }
/** What can make an object ready, most recent last (a few per object): writes (`in`) and reads (`out`). */
interface ReadyLog { in: Endpoint[]; out: Endpoint[] }
const READY_LOG = 8;
type EpollEntry = WatchedFd & { readonly events: number };

interface MappingRange { start: bigint; end: bigint; key: string; offset: bigint }
/** A Python target's source position (python_location). */
export interface PythonLocation { readonly file: string; readonly line: number }
export interface ImageMapping { start: bigint; end: bigint; offset: bigint; path: string; dev: bigint; ino: bigint }

interface ProcState {
  fds: Map<number, FdInterval>;
  shared: MappingRange[];
  sems: Map<bigint, string>;
  /** Executable mappings of the current image (for call sites). */
  maps: ImageMapping[];
  pendingExec?: { index: number; argv: string[] };
  fdsCopied: boolean;
}

export const threadKey = (pid: number, tid: number): string => `${pid}/${tid}`;
const hex = (a: bigint): string => '0x' + a.toString(16);
// Same as Number(BigInt.asIntN(64, v)) for u64/i64 values, without allocating a BigInt per call (hot: every result).
const TWO_63 = 1n << 63n, TWO_64 = 1n << 64n;
const s64 = (v: bigint): number => (v >= 0n && v < TWO_63 ? Number(v) : Number(BigInt.asIntN(64, v)));
const decoder = new TextDecoder();
const blobStrings = (b?: Uint8Array): string[] => (b && b.length ? decoder.decode(b).split('\0').filter((_, i, a) => i < a.length - 1 || a[i] !== '') : []);
const blobText = (b?: Uint8Array): string => (b ? decoder.decode(b).replace(/\0+$/, '') : '');
const NO_FD = 0xffffffffffffffffn;
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
/** How much earlier than its kill/unlock event a delivery/acquisition may be stamped and still be matched to it. */
const SIGNAL_SKEW_NS = 5_000_000n;
/** Flows shorter than this are found by binary search in flowsInRange; longer ones are few and checked one by one. */
const SHORT_FLOW_NS = 1_000_000n;
const SHORT_FLOW_NUM = Number(SHORT_FLOW_NS);

export class TraceModel {
  readonly processes = new Map<number, ProcessInfo>();
  readonly objects = new Map<string, ObjectRecord>();
  /** Columns, rows materialized on demand (tables.ts): no object per flow or wait for the GC to mark. */
  readonly flows = new FlowTable();
  readonly waits = new WaitTable();
  readonly locks = new Map<string, LockState>();
  readonly pages = new PageModel();
  readonly bytesByKind = new Map<FlowKind, number>();
  readonly signals = new Map<number, SignalStats>();
  /** Lock-order graph: lock key → lock key acquired while holding it → first evidence. */
  readonly lockOrder = new Map<string, Map<string, { pid: number; tid: number; held: number; acquired: number }>>();
  /** Every kill/sigqueue/tgkill/raise to a pid, delivered or not (a default action leaves no delivery to match). */
  readonly signalsSent: { readonly from: Endpoint; readonly pid: number; readonly sig: number }[] = [];
  /** Every hold of each lock, in acquisition order (t1 undefined while still held). */
  readonly lockHolds = new Map<string, LockHoldTable>();
  /** Evidence the findings pass reads (kept small: only suspicious events). */
  readonly evidence = {
    leakedExec: [] as { pid: number; fd: number; object: string; exec: number; start: number; opened: number }[],
    unsafeInHandler: [] as number[],
    eintr: [] as { index: number; retried: boolean }[],
    condNoMutex: [] as { index: number; cond: string; mutex: string }[],
    lostWakeups: [] as { signal: number; wait: number }[],
    largePipeWrites: new Map<string, number[]>(),
    pipeWriters: new Map<string, Set<number>>(),
    mqOrderViolations: 0,
  };
  /** When each forked child was forked (the parent's fork event; the child's own start is stamped later): what it
   *  inherited from its parent's memory then, e.g. System V ids, for the wait-for graph. */
  readonly forkedAt = new Map<number, bigint>();
  dropped = 0;
  eventsProcessed = 0;
  firstNs?: bigint;
  lastNs?: bigint;

  /** Events already due (older than the lag) that the last update left for the next one (its deadline passed). */
  due = 0;
  private seen = 0;
  /** Events seen but held back (live lag), sorted by (ts, index). */
  private ord = new OrderedWindow();
  private kindCounts = new Float64Array(MAX_KIND_ID + 1);
  private laneByThread = new Map<number, Map<number, LaneIndex>>();
  private lastLane?: LaneIndex;
  /** The current lane's thread and its `pid/tid` key (no string built per event). */
  private lastThread?: ThreadInfo;
  private lastLaneKey = '';
  private laneKeys = new Map<LaneIndex, string>();
  /** `${pid}:0x…` lock keys of addresses outside shared mappings, per pid (built once, not per lock event). */
  private privateLockKeys = new Map<number, Map<bigint, string>>();
  private pairKeys = new Map<number, Map<number, string>>();
  private state = new Map<number, ProcState>();
  private lanes = new Map<string, LaneIndex>();
  /** Blocking calls begun and not yet ended, per lane: their kind and wait. */
  private openBegins = new Map<LaneIndex, WaitRow[]>();
  /** Event index of a blocking call's end → 1 + its wait's position in `waits` (0: none). A typed array, not a Map:
   *  one entry per wait was the single costliest line of the build. */
  private waitAtEnd = new Int32Array(1024);
  private byteStreams = new Map<string, ByteStreamMatcher>();
  private msgStreams = new Map<string, MessageMatcher>();
  private mqs = new Map<string, PriorityQueueMatcher>();
  private pendingSignals = new Map<string, Endpoint[]>();
  private fdPasses = new Map<string, MessageMatcher>();
  private mergedSignals = new Map<string, Endpoint[]>();
  private earlyDeliveries = new Map<string, { to: Endpoint; sender: number; wait?: Wait }[]>();
  private heldLocks = new Map<string, KeptKeyMap<string, number>>();
  private condMutex = new Map<string, string>();
  private condWaiters = new Map<string, number>();
  private lastCondSignal = new Map<string, { index: number; ts: bigint; waiters: number; tid: number }>();
  private lastReadOn = new Map<string, Endpoint>();
  /** The last read of each pipe or FIFO (its write that blocked was waiting for room). */
  private lastPipeRead = new Map<string, { index: number; pid: number; tid: number; ts: bigint }>();
  private readonly rwEp = { index: 0, pid: 0, tid: 0, ts: 0n };
  private lastEintr = new Map<LaneIndex, TraceEvent>();
  /** Per thread, the python_location events so far: event index where each starts, and its location (null: line 0). */
  private pyMarks = new Map<LaneIndex, { at: number[]; loc: (PythonLocation | null)[] }>();
  private boundAddr = new Map<string, string>();
  private socketByAddrs = new Map<string, string>();
  private knownConns = 0;
  private flowsSorted = true;
  /** Positions in `flows` of the short flows, by their start once sorted (flowsInRange). */
  private byFrom = new IntList();
  /** The start of the last flow in byFrom (the latest start while sorted). */
  private lastShortFrom?: bigint;
  private lastHandledNs?: bigint;
  private outOfOrder = false;
  /** Positions in `waits`, per pid and tid, in the order begun. */
  private waitsByThread = new Map<number, Map<number, IntList>>();
  /** Interest list of each epoll instance (instance → fd → entry), as epoll_ctl built it so far. Instances are
   *  named by their epoll_create event (every epoll fd has the same anonymous inode); `${pid}:${fd}` → instance. */
  private epollInterest = new Map<string, Map<number, EpollEntry>>();
  private epollInstances = new Map<string, { id: string; fd: FdInterval }>();
  /** Objects some readiness wait watched (or an epoll instance has in its interest list): their writes and reads
   *  are logged, to name who made a wait's fd ready. */
  private readyLogs = new Map<string, ReadyLog>();
  private lateReady = new Map<string, Set<LateReady>>();
  private epollSnapshots = new Map<string, { watches: WatchedFd[]; incomplete: boolean; byData: Map<number | bigint, WatchedFd> }>();
  /** The watches array of each epoll_wait → its entries by data word (ready events name the fd by its data). */
  private watchesByData = new WeakMap<WatchedFd[], Map<number | bigint, WatchedFd>>();
  private lastSemopPost = new Map<string, Endpoint>();
  /** Connects not yet matched to an accept (by connecting socket), and accepts not yet to a connect (by accepted socket). */
  private connects = new Map<string, Endpoint>();
  private acceptWaits = new Map<string, Wait>();
  private fdsByPid = new Map<number, FdInterval[]>();
  private streamPids = new Map<string, Set<number>>();
  private brokenStreams = new Set<string>();
  private drops = new Map<number, { count: number; index: number; ts: bigint }>();
  private longFlows = new IntList();
  private unsubscribe?: () => void;
  private rwInfo: { t0?: bigint; preview?: Uint8Array } = {};

  /** The source, when it can fill an event in place (eventAt). */
  private readonly reader: (EventSource & InPlaceReader) | undefined;
  constructor(readonly source: EventSource, private readonly opts: TraceModelOptions = {}) {
    this.reader = isInPlaceReader(source) ? source : undefined;
    if (opts.follow && source.onAppend) this.unsubscribe = source.onAppend(() => this.update());
  }
  /**
   * The Python file:line an event was made from (Python targets): the last python_location before it on its thread,
   * which applies to the thread's events until the next one (line 0: none).
   */
  pythonLocation(index: number): PythonLocation | undefined {
    if (!this.pyMarks.size) return undefined;
    const e = this.source.get(index);
    const lane = this.laneByThread.get(e.pid)?.get(e.tid);
    const m = lane && this.pyMarks.get(lane);
    if (!m) return undefined;
    let lo = 0, hi = m.at.length; // first mark at or after index
    while (lo < hi) { const mid = (lo + hi) >> 1; if (m.at[mid] < index) lo = mid + 1; else hi = mid; }
    return lo > 0 ? m.loc[lo - 1] ?? undefined : undefined;
  }

  private notePythonLocation(lane: LaneIndex, e: TraceEvent): void {
    let m = this.pyMarks.get(lane);
    if (!m) this.pyMarks.set(lane, (m = { at: [], loc: [] }));
    const line = e.kind === K.pythonLocation ? Number(e.args[0] ?? 0n) : 0;
    const loc = line > 0 ? { file: blobText(e.blob), line } : null;
    // Events arrive per thread in order; a late one (live lag) goes to its place.
    let k = m.at.length;
    while (k > 0 && m.at[k - 1] > e.index) k--;
    m.at.splice(k, 0, e.index); m.loc.splice(k, 0, loc);
  }

  dispose(): void { this.unsubscribe?.(); }

  /**
   * Consume new events. `flush` processes everything held back (end of a live session). `deadline` (a
   * performance.now() time, live models) stops handling once passed: what is left stays first in line for the next
   * update (`due` says how many), so a caller can bound how long one call blocks however costly the events are.
   */
  update(opts: { flush?: boolean; deadline?: number } = {}): void {
    // A live model handles events that arrive later than its lag behind newer ones out of order (a busy process's
    // buffer can arrive a second late); its answers are provisional until the flush, which then starts over in
    // time order so the final model equals one built from the finished trace.
    if (opts.flush && this.opts.live && this.outOfOrder) this.restart();
    this.readConnections();
    const count = this.source.count;
    if (count > this.seen) this.mergeNew(this.seen, count);
    this.seen = count;
    const o = this.ord;
    if (!o.len) { if (opts.flush) for (const m of this.byteStreams.values()) m.flush(); return; }
    // Handle everything at or below the watermark: a binary search on the sorted held-back window.
    let upto = o.len;
    if (this.opts.live && !opts.flush) {
      const watermark = o.ts[o.len - 1] - Number(this.opts.lagNs ?? 100_000_000n);
      let lo = 0, hi = o.len;
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (o.ts[mid] <= watermark) lo = mid + 1; else hi = mid; }
      upto = lo;
    }
    const deadline = opts.flush ? undefined : opts.deadline;
    let k = 0;
    try {
      while (k < upto) {
        // the clock is read every 64 events (a few µs each), not per event
        const stop = deadline === undefined ? upto : Math.min(upto, k + 64);
        // k counts an event that throws as handled. A page-table snapshot chunk (up to thousands of pages) or its
        // end (the classification of the whole snapshot) costs as much as hundreds of events: check the clock after it.
        while (k < stop) { const e = this.eventAt(o.idx[k++]); this.handle(e); if (HEAVY_KIND[e.kind]) break; }
        if (deadline !== undefined && performance.now() >= deadline) break;
      }
    } finally {
      // Handled events leave the window (a throw in one does not make the next update repeat it).
      o.idx.copyWithin(0, k, o.len); o.ts.copyWithin(0, k, o.len); o.len -= k;
      this.due = upto - k;
      if (k > KEEP_BUFFER) this.shrinkBuffers();
    }
    if (!this.opts.live || opts.flush) for (const m of this.byteStreams.values()) m.flush();
  }

  /**
   * The event at store index i. The most frequent kinds of a live trace (reads, writes, lock calls), from a source
   * that can fill an event in place (EventStore.readInto), come in one reused object with reused argument arrays, not
   * a new TraceEvent and bigint array each (a third of what the live model allocated, and so of its young-generation
   * GCs); handling them keeps no reference to the event (what it keeps is copied: endpoints, indices, the blob view).
   */
  private eventAt(i: number): TraceEvent {
    const r = this.reader;
    if (r === undefined || !HOT_KIND[r.kindAt(i)]) return this.source.get(i);
    r.readInto(i, this.reused, this.reusedArgs[r.kindAt(i)]);
    return this.reused;
  }
  private readonly reused: MutableEvent = { index: 0, kind: 0, phase: PHASE.instant, flags: 0, pid: 0, tid: 0, err: 0, ts: 0n, result: 0n, caller: 0n, args: [], blob: undefined, conn: 0 };
  private readonly reusedArgs: bigint[][] = Array.from({ length: MAX_KIND_ID + 1 }, (_, k) => new Array<bigint>(kindById(k)?.args.length ?? 0).fill(0n));

  /**
   * Adds store events [from, to) to the held-back window `ord`, keeping it sorted by (ts as a double, index): a total
   * order, so the result is what sorting the whole window would give. Only the new events are sorted (a natural merge
   * sort: they come as a few already sorted runs, one per connection's batch), then merged into the window in one
   * linear pass. Buffers are reused across calls.
   */
  private mergeNew(from: number, to: number): void {
    const n = to - from, o = this.ord;
    const src = this.source as EventSource & { tsNumberAt?(i: number): number };
    this.growScratch(n);
    const aIdx = this.sIdx, aTs = this.sTs, bIdx = this.sIdx2, bTs = this.sTs2;
    for (let i = from, k = 0; i < to; i++, k++) { aIdx[k] = i; aTs[k] = src.tsNumberAt ? src.tsNumberAt(i) : Number(this.source.get(i).ts); }
    // Run boundaries (indices increase within the batch, so ties are in order within a run).
    const runs = this.sRuns;
    let nr = 0;
    runs[nr++] = 0;
    for (let k = 1; k < n; k++) if (aTs[k] < aTs[k - 1]) runs[nr++] = k;
    runs[nr] = n;
    // Bottom-up merging of adjacent runs, ping-ponging between the two scratch buffers.
    let inIdx = aIdx, inTs = aTs, outIdx = bIdx, outTs = bTs;
    while (nr > 1) {
      let w = 0;
      for (let r = 0; r < nr; r += 2) {
        const lo = runs[r], mid = runs[r + 1];
        if (r + 1 === nr) { outIdx.set(inIdx.subarray(lo, mid), lo); outTs.set(inTs.subarray(lo, mid), lo); }
        else mergeRuns(inIdx, inTs, lo, mid, inIdx, inTs, mid, runs[r + 2], outIdx, outTs, lo);
        runs[w++] = lo; // w <= r: run starts not read yet are not overwritten
      }
      runs[w] = n;
      nr = w;
      const ti = inIdx, tt = inTs;
      inIdx = outIdx; inTs = outTs; outIdx = ti; outTs = tt;
    }
    // Merge into the window: the common case (new events all later) is an append.
    o.reserve(o.len + n);
    if (o.len === 0 || inTs[0] > o.ts[o.len - 1] || (inTs[0] === o.ts[o.len - 1] && inIdx[0] > o.idx[o.len - 1])) {
      o.idx.set(inIdx.subarray(0, n), o.len); o.ts.set(inTs.subarray(0, n), o.len); o.len += n;
      return;
    }
    // Merge from the back, in place: the window has room for n more, and writing at k = i + j + 1 never overtakes
    // the window's unread i. Only the window's tail later than the batch's first event moves.
    let i = o.len - 1, j = n - 1, k = o.len + n - 1;
    const wIdx = o.idx, wTs = o.ts;
    while (j >= 0) {
      if (i >= 0 && (wTs[i] > inTs[j] || (wTs[i] === inTs[j] && wIdx[i] > inIdx[j]))) { wIdx[k] = wIdx[i]; wTs[k--] = wTs[i--]; }
      else { wIdx[k] = inIdx[j]; wTs[k--] = inTs[j--]; }
    }
    o.len += n;
  }

  /** Scratch for mergeNew, kept between calls (a live model merges a batch every few ms); dropped when large. */
  private sIdx = new Uint32Array(0);
  private sTs = new Float64Array(0);
  private sIdx2 = new Uint32Array(0);
  private sTs2 = new Float64Array(0);
  private sRuns = new Uint32Array(0);
  private growScratch(n: number): void {
    if (this.sIdx.length >= n) return;
    const cap = Math.max(n, 2 * this.sIdx.length, 1024);
    this.sIdx = new Uint32Array(cap); this.sTs = new Float64Array(cap); this.sIdx2 = new Uint32Array(cap); this.sTs2 = new Float64Array(cap);
    this.sRuns = new Uint32Array(cap + 1);
  }
  /** Buffers a whole-file build grew to the size of the trace are not kept for the model's lifetime. */
  private shrinkBuffers(): void {
    if (this.sIdx.length > KEEP_BUFFER) { this.sIdx = this.sIdx2 = this.sRuns = new Uint32Array(0); this.sTs = this.sTs2 = new Float64Array(0); }
    this.ord.shrink();
  }

  private restart(): void {
    const { opts, unsubscribe } = this;
    Object.assign(this, new TraceModel(this.source, { ...opts, follow: false }));
    this.unsubscribe = unsubscribe;
  }

  /** Event count per kind id. */
  get byKind(): Map<number, number> {
    const m = new Map<number, number>();
    this.kindCounts.forEach((n, k) => { if (n) m.set(k, n); });
    return m;
  }

  // ---------------------------------------------------------------- queries

  process(pid: number): ProcessInfo | undefined { return this.processes.get(pid); }
  lane(pid: number, tid: number): LaneIndex | undefined { return this.lanes.get(threadKey(pid, tid)); }
  laneList(): LaneIndex[] { return [...this.lanes.values()]; }
  /** The executable mappings of a process's current image (call-site resolution). */
  imageMappings(pid: number): readonly ImageMapping[] { return this.state.get(pid)?.maps ?? []; }

  /** Flows with an endpoint in [t0, t1). */
  flowsInRange(t0: bigint, t1: bigint): Flow[] {
    const fl = this.flows, by = this.byFrom;
    if (!this.flowsSorted) {
      // positions by (start, id): ids grow with positions
      const order = Array.from(by.view()).sort((a, b) => { const x = fl.fromTs(a), y = fl.fromTs(b); return x < y ? -1 : x > y ? 1 : a - b; });
      by.view().set(order);
      this.flowsSorted = true;
      this.lastShortFrom = by.length ? fl.fromTs(by.get(by.length - 1)) : undefined;
    }
    const hit = (p: number) => {
      const f = fl.fromTs(p), t = fl.toTs(p);
      return (f >= t0 && f < t1) || (t >= t0 && t < t1) || (f < t0 && t >= t1) || (t < t0 && f >= t1);
    };
    // Short flows (both ends within SHORT_FLOW_NS) by binary search on their start; the few long ones all checked.
    let lo = 0, hi = by.length;
    const start = t0 - SHORT_FLOW_NS, stop = t1 + SHORT_FLOW_NS;
    while (lo < hi) { const m = (lo + hi) >> 1; if (fl.fromTs(by.get(m)) < start) lo = m + 1; else hi = m; }
    const out: Flow[] = [];
    for (let i = lo; i < by.length && fl.fromTs(by.get(i)) < stop; i++) if (hit(by.get(i))) out.push(fl.at(by.get(i))!);
    for (let i = 0; i < this.longFlows.length; i++) { const p = this.longFlows.get(i); if (hit(p)) out.push(fl.at(p)!); }
    return out;
  }

  /** A process at time `ts`: alive, its open fds, and what each thread was blocked on. */
  processAt(pid: number, ts: bigint): { alive: boolean; fds: FdInterval[]; blocked: Wait[] } | undefined {
    const p = this.processes.get(pid);
    if (!p) return undefined;
    const alive = p.startNs <= ts && (p.endNs === undefined || ts < p.endNs);
    const fds = (this.fdsByPid.get(pid) ?? []).filter((f) => f.from <= ts && (f.to === undefined || ts < f.to));
    // Per thread, waits do not overlap (but for a handler's call nested in one): the last one begun by ts.
    const blocked: Wait[] = [];
    const wt = this.waits;
    for (const ws of this.waitsByThread.get(pid)?.values() ?? []) {
      let lo = 0, hi = ws.length;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (wt.t0At(ws.get(mid)) <= ts) lo = mid + 1; else hi = mid; }
      for (let i = lo - 1; i >= 0 && i >= lo - 4; i--) {
        const p = ws.get(i), t1 = wt.t1At(p);
        if (t1 === undefined || ts < t1) { blocked.push(wt.at(p)!); break; }
      }
    }
    return { alive, fds: fds.sort((a, b) => a.fd - b.fd), blocked };
  }
  /** Fd intervals of an object open at `ts`. */
  holdersAt(object: string, ts: bigint): FdInterval[] {
    const o = this.objects.get(object);
    return o ? o.fds.filter((f) => f.from <= ts && (f.to === undefined || ts < f.to)) : [];
  }

  lockStats(): LockStats[] { return [...this.locks.values()].map((l) => l.stats); }
  lockHolders(key: string): { pid: number; tid: number; since: bigint }[] { return [...(this.locks.get(key)?.holders.values() ?? [])].map((h) => ({ pid: h.pid, tid: h.tid, since: h.since, index: h.index })); }
  /** Who held a lock at `ts` (from its holds; before its first recorded hold nobody): for a graph at a past moment. */
  lockHoldersAt(key: string, ts: bigint): { pid: number; tid: number; since: bigint }[] {
    const out: { pid: number; tid: number; since: bigint }[] = [];
    for (const h of this.lockHolds.get(key) ?? []) if (h.t0 <= ts && (h.t1 === undefined || h.t1 > ts)) out.push({ pid: h.pid, tid: h.tid, since: h.t0 });
    return out;
  }
  signalStats(): SignalStats[] { return [...this.signals.values()].sort((a, b) => a.sig - b.sig); }
  threads(): ThreadInfo[] { return [...this.processes.values()].flatMap((p) => [...p.threads.values()]); }

  // ---------------------------------------------------------------- ingestion

  private readConnections(): void {
    const conns = this.source.connections();
    for (let i = this.knownConns; i < conns.length; i++) {
      const c = conns[i];
      const p = this.proc(c.pid, c.startNs);
      if (c.origin !== 'exec' || p.ppid === 0) p.ppid = c.ppid;
      if (!p.images.some((im) => im.conn === c.conn)) {
        p.images.push({ conn: c.conn, exe: c.exe, cwd: c.cwd, argv: [...c.argv], startNs: c.startNs });
        p.images.sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
        const last = p.images[p.images.length - 1];
        p.argv = [...last.argv]; p.exe = last.exe;
      }
      if (c.startNs < p.startNs) p.startNs = c.startNs;
      this.linkChild(c.ppid, c.pid);
    }
    this.knownConns = conns.length;
  }

  private proc(pid: number, ts: bigint): ProcessInfo {
    let p = this.processes.get(pid);
    if (!p) {
      p = { pid, ppid: 0, argv: [], exe: '', images: [], startNs: ts, children: [], threads: new Map() };
      this.processes.set(pid, p);
      this.state.set(pid, { fds: new Map(), shared: [], sems: new Map(), maps: [], fdsCopied: false });
    }
    return p;
  }
  private ps(pid: number): ProcState { this.proc(pid, 0n); return this.state.get(pid)!; }
  private linkChild(ppid: number, pid: number): void {
    const pp = this.processes.get(ppid);
    if (pp && !pp.children.includes(pid)) pp.children.push(pid);
  }
  private thread(pid: number, tid: number, ts: bigint): ThreadInfo {
    const p = this.proc(pid, ts);
    let t = p.threads.get(tid);
    if (!t) p.threads.set(tid, (t = { pid, tid, startNs: ts }));
    return t;
  }
  private obj(key: string, type: ObjectType, ts: bigint, name = ''): ObjectRecord {
    let o = this.objects.get(key);
    if (!o) this.objects.set(key, (o = new ObjectRecord(key, type, name, ts)));
    else if (o.type === 'other' || o.type === 'file') { if (type !== 'other') o.type = type; }
    if (name && !o.name) o.name = name;
    return o;
  }
  private touch(o: ObjectRecord, e: TraceEvent): void {
    o.pids.add(e.pid);
    if (e.ts > o.lastNs) o.lastNs = e.ts;
    if (e.ts < o.firstNs) o.firstNs = e.ts;
    o.addEvent(e.index);
  }

  private handle(e: TraceEvent): void {
    this.eventsProcessed++;
    if (this.lastHandledNs !== undefined && e.ts < this.lastHandledNs) this.outOfOrder = true;
    else this.lastHandledNs = e.ts;
    if (e.kind <= MAX_KIND_ID) this.kindCounts[e.kind]++;
    if (this.firstNs === undefined || e.ts < this.firstNs) this.firstNs = e.ts;
    if (this.lastNs === undefined || e.ts > this.lastNs) this.lastNs = e.ts;
    // The lane (thread) is also the per-thread key of the matchers' maps: no string keys on the hot path.
    let lane = this.lastLane;
    if (!lane || lane.pid !== e.pid || lane.tid !== e.tid) {
      let byTid = this.laneByThread.get(e.pid);
      if (!byTid) this.laneByThread.set(e.pid, (byTid = new Map()));
      lane = byTid.get(e.tid);
      if (!lane) {
        byTid.set(e.tid, (lane = new LaneIndex(e.pid, e.tid)));
        const key = threadKey(e.pid, e.tid);
        this.lanes.set(key, lane);
        this.laneKeys.set(lane, key);
        this.thread(e.pid, e.tid, e.ts);
      }
      this.lastLane = lane;
      // merged threads switch lanes on almost every event: the key string is made once per lane
      this.lastLaneKey = this.laneKeys.get(lane)!;
      // Threads are never removed, so the lane's ThreadInfo stays valid while the lane does.
      this.lastThread = this.processes.get(e.pid)!.threads.get(e.tid)!;
    }
    const th = this.lastThread!;
    if (e.ts < th.startNs) th.startNs = e.ts;
    lane.add(e.ts, e.index);
    const lk = lane;

    if (e.kind === K.pythonLocation) { this.notePythonLocation(lk, e); return; }
    // A new image (exec) is not the Python code that ran before it in this thread.
    if (e.kind === K.procStart && this.pyMarks.has(lk)) this.notePythonLocation(lk, e);

    if ((e.flags & EVENT_FLAG.inSignalHandler) && e.phase !== PHASE.end && isSignalUnsafe(e)) this.evidence.unsafeInHandler.push(e.index);
    this.checkEintr(e, lk);

    // Blocking calls: begin opens a wait, end closes it (signal handler spans and exec are not waits).
    let wait: WaitRow | undefined;
    const info = kindById(e.kind);
    if (info?.blocking && e.kind !== K.signalHandler && e.kind !== K.exec) {
      let stack = this.openBegins.get(lk);
      if (e.phase === PHASE.begin) {
        wait = this.waits.add(e.pid, e.tid, e.kind, this.waitObject(e), e.index, e.ts);
        let byTid = this.waitsByThread.get(e.pid);
        if (!byTid) this.waitsByThread.set(e.pid, (byTid = new Map()));
        let tw = byTid.get(e.tid);
        if (!tw) byTid.set(e.tid, (tw = new IntList()));
        tw.push(wait.pos);
        if (!stack) this.openBegins.set(lk, (stack = []));
        stack.push(wait); // the row is the entry: its kind and position are in the table
      } else if (e.phase === PHASE.end && stack) {
        for (let i = stack.length - 1; i >= 0; i--) if (stack[i].kind === e.kind) {
          wait = stack[i];
          const pos = wait.pos;
          if (i === stack.length - 1) stack.pop(); else stack.splice(i, 1);
          this.waits.setEnd(pos, e.index, e.ts); this.setWaitAtEnd(e.index, pos);
          break;
        }
      }
    }
    this.dispatch(e, wait);
  }

  private setWaitAtEnd(index: number, pos: number): void {
    if (index >= this.waitAtEnd.length) {
      const grown = new Int32Array(Math.max(index + 1, this.waitAtEnd.length * 2));
      grown.set(this.waitAtEnd);
      this.waitAtEnd = grown;
    }
    this.waitAtEnd[index] = pos + 1;
  }

  private waitObject(e: TraceEvent): string | undefined {
    const a = e.args;
    switch (e.kind) {
      case K.read: case K.write: return a[4] ? this.ik(a[3], a[4]) : undefined;
      case K.accept: return a[2] ? this.ik(a[5], a[2]) : undefined;
      case K.mqSend: case K.mqReceive: return this.ik(a[3], a[4]);
      case K.msgsnd: case K.msgrcv: return this.sysvKey('sysvmsg', a[0]);
      case K.mutexLock: case K.rwlockLock: case K.spinLock: return this.lockKey(e.pid, a[0]);
      case K.condWait: return 'cond:' + this.lockKey(e.pid, a[0]);
      case K.semWait: return this.semKey(e.pid, a[0]);
      case K.semop: return this.sysvKey('sysvsem', a[0]);
      case K.flock: return this.ik(a[2], a[3]);
      case K.fcntlLock: return this.ik(a[6], a[7]);
      case K.lockf: return this.ik(a[3], a[4]);
      case K.wait: return s64(a[0]) > 0 ? `pid:${s64(a[0])}` : undefined;
      default: return undefined;
    }
  }

  private dispatch(e: TraceEvent, wait: Wait | undefined): void {
    const a = e.args;
    const ok = e.err === 0 && s64(e.result) >= 0;
    const isEnd = e.phase === PHASE.end, isInstant = e.phase === PHASE.instant;
    const done = isEnd || isInstant;
    switch (e.kind) {
      case K.dropped: this.onDropped(e, Number(a[0])); return;
      case K.procStart: return this.onProcStart(e);
      case K.procExit: return this.onProcExit(e, Number(a[0]), Number(a[1]));
      case K.fatalSignal: { const p = this.proc(e.pid, e.ts); p.signal = Number(a[0]); return; }
      case K.threadStart: return;
      case K.threadExit: { const t = this.thread(e.pid, e.tid, e.ts); t.endNs = e.ts; return; }
      case K.fork: this.pages.event(e, this.source); if (ok && s64(e.result) > 0) this.onFork(e, s64(e.result)); return;
      case K.spawn: if (ok) { const c = this.proc(Number(a[0]), e.ts); c.ppid = e.pid; this.linkChild(e.pid, c.pid); } return;
      case K.exec: if (e.phase === PHASE.begin) this.ps(e.pid).pendingExec = { index: e.index, argv: blobStrings(e.blob).slice(1) }; else this.ps(e.pid).pendingExec = undefined; return;
      case K.wait: if (isEnd && ok && s64(e.result) > 0) this.onReaped(s64(e.result), Number(a[2]), e); if (wait && isEnd && s64(e.result) > 0) wait.by = this.procEndpoint(s64(e.result), e.ts); return;
      case K.mapping: this.pages.event(e, this.source); return this.onMapping(e);
      case K.open: if (ok) this.addFd(e, s64(e.result), this.inodeObj(e, Number(a[3]), a[4], a[5], blobText(e.blob)), accEnd(Number(a[1])), (Number(a[1]) & O_CLOEXEC) !== 0, 'open'); return;
      case K.close: if (ok) this.closeFd(e.pid, Number(a[0]), e); return;
      case K.dup: if (ok) this.onDup(e); return;
      case K.fcntl: if (ok && Number(a[1]) === F_SETFD) { const f = this.ps(e.pid).fds.get(Number(a[0])); if (f) f.cloexec = (Number(a[2]) & FD_CLOEXEC) !== 0; } return;
      case K.pipe: if (ok) {
        const o = this.inodeObj(e, OTYPE.pipe, a[3], a[4], '');
        const cl = (Number(a[2]) & O_CLOEXEC) !== 0;
        this.addFd(e, Number(a[0]), o, 'r', cl, 'pipe'); this.addFd(e, Number(a[1]), o, 'w', cl, 'pipe');
      } return;
      case K.read: case K.write: if (done) this.onReadWrite(e, ok, wait); return;
      case K.socket: if (ok) { const o = this.sockObj(e, a[3], a[4], Number(a[1])); this.addFd(e, s64(e.result), o, 'rw', (Number(a[1]) & O_CLOEXEC) !== 0, 'socket'); } return;
      case K.socketpair: if (ok) {
        const o0 = this.sockObj(e, a[7], a[5], Number(a[1])), o1 = this.sockObj(e, a[7], a[6], Number(a[1]));
        o0.peer = o1.key; o1.peer = o0.key;
        const cl = (Number(a[1]) & O_CLOEXEC) !== 0;
        this.addFd(e, Number(a[3]), o0, 'rw', cl, 'socketpair'); this.addFd(e, Number(a[4]), o1, 'rw', cl, 'socketpair');
      } return;
      case K.bind: if (ok) { const key = this.fdObjKey(e.pid, Number(a[0])); const text = blobText(e.blob); if (key) { this.boundAddr.set(key, a[2] ? `a${a[2]}` : text); if (text) this.objects.get(key)!.name ||= text; if (a[2]) this.boundAddr.set(`a${a[2]}`, key); } } return;
      case K.listen: return;
      case K.accept: if (isEnd && ok) {
        const lst = this.fdObjKey(e.pid, Number(a[0]));
        const o = this.sockObj(e, a[5], a[3], this.objects.get(lst ?? '')?.sockType ?? 1);
        this.addFd(e, s64(e.result), o, 'rw', (Number(a[1]) & O_CLOEXEC) !== 0, 'accept');
        this.linkPeer(o.key, a[4] ? this.ik(a[5], a[4]) : undefined, blobText(e.blob));
        if (wait) this.acceptedBy(o.key, wait);
      } return;
      case K.connect: if (isEnd || isInstant) if (ok) {
        const k = this.fdObjKey(e.pid, Number(a[0])) ?? this.ik(a[3], a[1]);
        this.linkPeer(k, a[2] ? this.ik(a[3], a[2]) : undefined, blobText(e.blob));
        this.onConnected(k, { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts });
      } return;
      case K.fdPass: if (ok) this.onFdPass(e); return;
      case K.mqOpen: if (ok) this.addFd(e, s64(e.result), this.obj(this.ik(a[2], a[3]), 'mq', e.ts, blobText(e.blob)), accEnd(Number(a[0])), true, 'mq_open'); return;
      case K.mqClose: if (ok) this.closeFd(e.pid, Number(a[0]), e); return;
      case K.mqSend: case K.mqReceive: if (done && ok) this.onMq(e, wait); return;
      case K.msgsnd: case K.msgrcv:
        if (done && ok) this.onSysvMsg(e, wait);
        else this.touch(this.sysvObj('sysvmsg', a[0], e.ts), e); // who used the queue by when: the wait-for graph asks
        return;
      case K.msgget: if (ok) this.touch(this.sysvObj('sysvmsg', BigInt(s64(e.result)), e.ts), e); return;
      case K.semget: if (ok) this.touch(this.sysvObj('sysvsem', BigInt(s64(e.result)), e.ts), e); return;
      case K.semctl: this.touch(this.sysvObj('sysvsem', a[0], e.ts), e); return;
      case K.semop: return this.onSemop(e, ok, wait);
      case K.shmOpen: if (ok) this.addFd(e, s64(e.result), this.obj(this.ik(a[2], a[3]), 'shm', e.ts, blobText(e.blob)), accEnd(Number(a[0])), true, 'shm_open'); return;
      case K.mmap: this.pages.event(e, this.source); if (ok) this.onMmap(e); return;
      case K.munmap: this.pages.event(e, this.source); if (ok) { const ps = this.ps(e.pid); const lo = a[0], hi = a[0] + a[1]; ps.shared = ps.shared.filter((m) => m.end <= lo || m.start >= hi); } return;
      case K.epollCtl: if (ok) this.onEpollCtl(e); return;
      case K.select: case K.poll: case K.epollWait: return this.onReadinessWait(e, wait);
      case K.epollCreate: if (ok) {
        this.addFd(e, s64(e.result), this.obj(this.ik(a[1], a[2]), 'epoll', e.ts), 'rw', (Number(a[0]) & O_CLOEXEC) !== 0, 'epoll_create');
        this.setEpollInstance(e.pid, s64(e.result), `epoll#${e.index}`);
      } return;
      case K.eventfd: if (ok) this.addFd(e, s64(e.result), this.obj(this.ik(a[2], a[3]), 'eventfd', e.ts), 'rw', (Number(a[1]) & O_CLOEXEC) !== 0, 'eventfd'); return;
      case K.kill: case K.sigqueue: if (ok) this.onSignalSent(e, s64(a[0]), 0, Number(a[1])); return;
      case K.tgkill: if (ok) this.onSignalSent(e, s64(a[0]), Number(a[1]), Number(a[2])); return;
      case K.raise: if (ok) this.onSignalSent(e, e.pid, e.tid, Number(a[0])); return;
      case K.signalHandler: if (e.phase === PHASE.begin) this.onSignalDelivered(e, Number(a[0]), s64(a[1])); return;
      case K.sigwait: if (isEnd && ok) this.onSignalDelivered(e, Number(a[1]), 0, wait); return;
      case K.mutexLock: case K.spinLock: case K.rwlockLock:
        if (done && ok && e.result === 0n) this.acquire(this.lockFor(e, a[0]), e, wait, e.kind === K.rwlockLock && Number(a[1]) !== RW_WRITE);
        else if (done) this.lockFailed(this.lockFor(e, a[0]));
        else if (e.phase === PHASE.begin && wait) wait.holders = this.holdersOf(this.lockFor(e, a[0]));
        return;
      case K.mutexUnlock: case K.spinUnlock: case K.rwlockUnlock: if (e.result === 0n) this.release(this.lockFor(e, a[0]), e); return;
      case K.mutexInit: if (a[2] !== NO_FD) this.lockFor(e, a[0]); return;
      case K.condWait: return this.onCondWait(e, wait);
      case K.condSignal: return this.onCondSignal(e);
      case K.semOpen: if (ok) { const name = blobText(e.blob); this.ps(e.pid).sems.set(e.result, `sem:${name}`); this.lockFor(e, e.result, 'semaphore').stats.name = `sem ${name}`; } return;
      case K.semInit: this.lockFor(e, a[0], 'semaphore'); return;
      case K.semWait:
        if (done && ok) this.acquire(this.lockFor(e, a[0], 'semaphore'), e, wait, false);
        else if (done) this.lockFailed(this.lockFor(e, a[0], 'semaphore'));
        else if (e.phase === PHASE.begin && wait) wait.holders = this.holdersOf(this.lockFor(e, a[0], 'semaphore'));
        return;
      case K.semPost: if (ok) this.release(this.lockFor(e, a[0], 'semaphore'), e, true); return;
      case K.flock: case K.fcntlLock: case K.lockf: return this.onFileLock(e, wait);
      case K.pageFault: case K.pageSnapshot: case K.snapshotDone: case K.shmat: case PAGE_KIND.shmdt: case PAGE_KIND.mprotect: case PAGE_KIND.shimInfo:
        this.pages.event(e, this.source); return;
      default: return;
    }
  }

  // ---------------------------------------------------------------- processes and fds

  private onProcStart(e: TraceEvent): void {
    const p = this.proc(e.pid, e.ts);
    const origin = Number(e.args[1]);
    const strs = blobStrings(e.blob);
    if (strs.length >= 3) {
      const argv = strs.slice(2);
      if (!p.images.some((im) => im.startNs === e.ts)) {
        p.images.push({ conn: e.conn, exe: strs[0], cwd: strs[1], argv, startNs: e.ts });
        p.images.sort((x, y) => (x.startNs < y.startNs ? -1 : 1));
      }
      const last = p.images[p.images.length - 1];
      p.argv = [...last.argv]; p.exe = last.exe;
    }
    if (origin !== ORIGIN_EXEC) { p.ppid = Number(e.args[0]); this.linkChild(p.ppid, p.pid); }
    const ps = this.ps(e.pid);
    if (origin === ORIGIN_EXEC) this.onExecDone(e, ps);
    else if (!ps.fdsCopied && p.ppid) this.inherit(p.ppid, e.pid, e);
  }

  private onFork(e: TraceEvent, child: number): void {
    const c = this.proc(child, e.ts);
    this.forkedAt.set(child, e.ts);
    c.ppid = e.pid;
    this.linkChild(e.pid, child);
    if (!this.ps(child).fdsCopied) this.inherit(e.pid, child, e);
  }

  /** A forked child starts with its parent's fds, shared mappings and named semaphores. */
  private inherit(ppid: number, pid: number, e: TraceEvent): void {
    const from = this.state.get(ppid), to = this.ps(pid);
    to.fdsCopied = true;
    if (!from) return;
    for (const f of from.fds.values()) {
      const o = this.objects.get(f.object);
      if (o) this.addFdTo(pid, f.fd, o, f.end, f.cloexec, 'fork', e.ts, e.index);
      if (o?.type === 'epoll') this.setEpollInstance(pid, f.fd, this.epollInstance(ppid, f.fd));
    }
    to.shared = from.shared.map((m) => ({ ...m }));
    for (const [k, v] of from.sems) to.sems.set(k, v);
    to.maps = from.maps.map((m) => ({ ...m }));
  }

  /** A new image: close-on-exec fds close; IPC fds that stay open without O_CLOEXEC are candidate leaks. */
  private onExecDone(e: TraceEvent, ps: ProcState): void {
    const exec = ps.pendingExec?.index ?? e.index;
    ps.pendingExec = undefined;
    ps.shared = []; ps.sems = new Map(); ps.maps = [];
    for (const f of [...ps.fds.values()]) {
      if (f.cloexec) { this.closeFd(e.pid, f.fd, e); continue; }
      const o = this.objects.get(f.object);
      if (f.fd > 2 && o && isIpcType(o.type)) this.evidence.leakedExec.push({ pid: e.pid, fd: f.fd, object: f.object, exec, start: e.index, opened: f.fromIndex });
    }
  }

  private onProcExit(e: TraceEvent, status: number, how: number): void {
    const p = this.proc(e.pid, e.ts);
    p.endNs = e.ts;
    if (how === EXIT_HOW_FATAL) { p.signal = status; p.endHow = 'fatal_signal'; }
    else { p.exitCode = status; p.endHow = 'exit'; }
    for (const t of p.threads.values()) if (t.endNs === undefined) t.endNs = e.ts;
    for (const f of [...this.ps(e.pid).fds.values()]) this.closeFd(e.pid, f.fd, e);
    for (const l of this.locks.values()) if (l.stats.kind === 'filelock' && l.open.has(String(e.pid))) this.release(l, e, false, String(e.pid));
  }

  private onReaped(pid: number, status: number, e: TraceEvent): void {
    const c = this.proc(pid, e.ts);
    if ((status & 0x7f) === 0) { if (c.exitCode === undefined && c.signal === undefined) c.exitCode = (status >> 8) & 0xff; }
    else if (c.signal === undefined) { c.signal = status & 0x7f; c.endHow ??= 'killed'; }
    if (c.endNs === undefined) c.endNs = e.ts;
  }
  private procEndpoint(pid: number, ts: bigint): Endpoint { return { index: -1, pid, tid: pid, ts: this.processes.get(pid)?.endNs ?? ts }; }

  private onMapping(e: TraceEvent): void {
    const [start, end, offset, prot, shared, dev, ino] = e.args;
    const path = blobText(e.blob);
    const ps = this.ps(e.pid);
    if ((prot & 4n) && path && !path.startsWith('[')) {
      const i = ps.maps.findIndex((m) => m.start === start);
      const m = { start, end, offset, path, dev, ino };
      if (i >= 0) ps.maps[i] = m; else ps.maps.push(m);
    }
    if (shared && ino) {
      const key = this.ik(dev, ino);
      if (!ps.shared.some((m) => m.start === start)) ps.shared.push({ start, end, key, offset });
      const o = this.obj(key, path.startsWith('/dev/shm/sem.') ? 'semaphore' : 'shared-mapping', e.ts, path);
      this.touch(o, e);
    }
  }

  private onMmap(e: TraceEvent): void {
    const [, length, , flags, fd, offset, , dev, ino] = e.args;
    if (!(Number(flags) & MAP_SHARED)) return;
    const addr = e.result;
    const key = fd !== NO_FD && ino ? this.ik(dev, ino) : `anon:${e.pid}:${hex(addr)}`;
    const o = this.obj(key, fd !== NO_FD && ino ? 'shm' : 'shared-mapping', e.ts, fd !== NO_FD ? '' : `shared anonymous ${hex(addr)} (pid ${e.pid})`);
    this.touch(o, e);
    const ps = this.ps(e.pid);
    ps.shared = ps.shared.filter((m) => m.end <= addr || m.start >= addr + length);
    ps.shared.push({ start: addr, end: addr + length, key, offset: fd !== NO_FD ? offset : 0n });
  }

  private inodeObj(e: TraceEvent, otype: number, dev: bigint, ino: bigint, name: string): ObjectRecord {
    const type: ObjectType = otype === OTYPE.pipe ? 'pipe' : otype === OTYPE.fifo ? 'fifo' : isSocketOtype(otype) ? 'socket'
      : otype === OTYPE.mqueue ? 'mq' : otype === OTYPE.shm ? 'shm' : otype === OTYPE.eventfd ? 'eventfd' : otype === OTYPE.epoll ? 'epoll'
      : otype === OTYPE.file ? 'file' : 'other';
    return this.obj(ino ? this.ik(dev, ino) : `fd:${e.pid}:${e.index}`, type, e.ts, name);
  }
  private sockObj(e: TraceEvent, dev: bigint, ino: bigint, type: number): ObjectRecord {
    const o = this.obj(ino ? this.ik(dev, ino) : `sock:${e.pid}:${e.index}`, 'socket', e.ts);
    if (o.sockType === undefined) o.sockType = type & SOCK_TYPE_MASK;
    return o;
  }
  private fdObjKey(pid: number, fd: number): string | undefined { return this.state.get(pid)?.fds.get(fd)?.object; }

  private addFd(e: TraceEvent, fd: number, o: ObjectRecord, end: FdEnd, cloexec: boolean, how: string): void {
    this.touch(o, e);
    this.addFdTo(e.pid, fd, o, end, cloexec, how, e.ts, e.index);
  }
  private addFdTo(pid: number, fd: number, o: ObjectRecord, end: FdEnd, cloexec: boolean, how: string, ts: bigint, index: number): void {
    const ps = this.ps(pid);
    const old = ps.fds.get(fd);
    if (old && old.to === undefined) { old.to = ts; old.toIndex = index; }
    const f: FdInterval = { pid, fd, object: o.key, end, cloexec, from: ts, fromIndex: index, how };
    ps.fds.set(fd, f);
    o.fds.push(f);
    let pf = this.fdsByPid.get(pid);
    if (!pf) this.fdsByPid.set(pid, (pf = []));
    pf.push(f);
    o.pids.add(pid);
  }
  private closeFd(pid: number, fd: number, e: TraceEvent): void {
    const ps = this.state.get(pid);
    const f = ps?.fds.get(fd);
    if (!f) return;
    f.to = e.ts; f.toIndex = e.index;
    ps!.fds.delete(fd);
    const o = this.objects.get(f.object);
    if (o && e.kind === K.close) this.touch(o, e);
  }
  private onDup(e: TraceEvent): void {
    const [oldfd, , flags, how, otype, dev, ino] = e.args;
    const ps = this.ps(e.pid);
    const src = ps.fds.get(Number(oldfd));
    const o = src ? this.objects.get(src.object)! : this.inodeObj(e, Number(otype), dev, ino, '');
    const cloexec = Number(how) === DUP_CLOEXEC || (Number(flags) & O_CLOEXEC) !== 0;
    this.addFd(e, s64(e.result), o, src?.end ?? 'rw', cloexec, 'dup');
    if (o.type === 'epoll') this.setEpollInstance(e.pid, s64(e.result), this.epollInstance(e.pid, Number(oldfd)));
  }

  // ---------------------------------------------------------------- flows

  private addFlow(kind: FlowKind, object: string, from: Endpoint, to: Endpoint, bytes: number, detail?: number): void {
    const f = this.flows.add(kind, object, from, to, bytes, detail);
    // (bigint sums and table reads each make a new bigint: doubles where exact, the last start kept)
    const long = from.ts <= MAX_EXACT && to.ts <= MAX_EXACT ? Math.abs(Number(to.ts) - Number(from.ts)) > SHORT_FLOW_NUM
      : to.ts > from.ts + SHORT_FLOW_NS || from.ts > to.ts + SHORT_FLOW_NS;
    if (long) this.longFlows.push(f);
    else {
      if (this.lastShortFrom !== undefined && from.ts < this.lastShortFrom) this.flowsSorted = false;
      else this.lastShortFrom = from.ts;
      this.byFrom.push(f);
    }
    this.bytesByKind.set(kind, (this.bytesByKind.get(kind) ?? 0) + bytes);
    // The reader waited for this writer: the first bytes it got name whom it waited for.
    const wi = to.index >= 0 && to.index < this.waitAtEnd.length ? this.waitAtEnd[to.index] : 0;
    if (wi && !this.waits.hasBy(wi - 1)) this.waits.setBy(wi - 1, from);
  }

  private onReadWrite(e: TraceEvent, ok: boolean, wait: Wait | undefined): void {
    const a = e.args;
    const isWrite = e.kind === K.write;
    const otype = Number(a[2]);
    const fdKey = this.fdObjKey(e.pid, Number(a[0]));
    const key = a[4] ? this.ik(a[3], a[4]) : fdKey;
    if (!key) return;
    const o = this.objects.get(key) ?? this.inodeObj(e, otype, a[3], a[4], '');
    this.touch(o, e);
    const n = ok ? s64(e.result) : 0;
    // Reused: the byte-stream matchers copy what they keep; whatever else keeps an endpoint gets its own.
    const ep = this.rwEp;
    ep.index = e.index; ep.pid = e.pid; ep.tid = e.tid; ep.ts = e.ts;
    // Bytes written make the reading side readable; bytes read make room on the writing side.
    if (n > 0 && this.readyLogs.size) { const side = o.type === 'socket' ? o.peer : key; if (side) this.readyEvent(side, isWrite ? 'in' : 'out', { ...ep }); }
    if (o.type === 'pipe' || o.type === 'fifo') {
      const kind: FlowKind = o.type;
      if (isWrite) {
        let ws = this.evidence.pipeWriters.get(key);
        if (!ws) this.evidence.pipeWriters.set(key, (ws = new Set()));
        ws.add(e.pid);
        if (n > 4096) { let l = this.evidence.largePipeWrites.get(key); if (!l) this.evidence.largePipeWrites.set(key, (l = [])); if (l.length < 16) l.push(e.index); }
        const r = this.lastPipeRead.get(key);
        // (the cheap tests first: a wait's t0 and t1 are new bigints each time they are read)
        if (wait && r && r.pid !== e.pid && ended(wait) && r.ts >= wait.t0) wait.by = r; // copied (WaitTable)
      } else {
        // one endpoint per pipe, overwritten by each read
        const r = this.lastPipeRead.get(key);
        if (r) { r.index = e.index; r.pid = e.pid; r.tid = e.tid; r.ts = e.ts; } else this.lastPipeRead.set(key, { ...ep });
      }
      if (n > 0 && this.participate(key, e.pid)) {
        let m = this.byteStreams.get(key);
        if (!m) this.byteStreams.set(key, (m = new ByteStreamMatcher((f, t, b) => this.addFlow(kind, key, f, t, b))));
        const info = this.rwInfo; // the matcher copies what it keeps: one object for every read and write
        // a read's t0 is not used (and a wait's t0 is a new bigint each time it is read)
        info.t0 = isWrite && wait ? wait.t0 : e.ts; info.preview = e.blob;
        if (isWrite) m.write(ep, n, info); else m.read(ep, n, info);
      }
      return;
    }
    if (o.type !== 'socket' || n <= 0) return;
    if (o.sockType === SOCK_DGRAM || otype === OTYPE.socketUdp) {
      // Datagrams: queue per receiver (its bound address, else its inode); one send is one receive.
      const peerArg = a[7];
      let rk: string;
      if (isWrite) {
        if (peerArg && peerArg !== NO_FD && (peerArg >> 48n) & 1n) rk = this.boundAddr.get(`a${peerArg}`) ?? `a${peerArg}`;
        else rk = o.peer ?? `${key}>?`;
      } else rk = key;
      if (!this.participate(rk, e.pid)) return;
      let m = this.msgStreams.get(rk);
      if (!m) this.msgStreams.set(rk, (m = new MessageMatcher((f, t, b) => this.addFlow('socket', rk, f, t, b))));
      if (isWrite) m.send({ ...ep }, n); else m.receive({ ...ep }, n); // kept by the matcher
      return;
    }
    // Stream sockets: one byte stream per direction, named by the sending end alone (a client may write before
    // the server's accept links the two ends; the reader looks its peer up when it reads).
    const sender = isWrite ? key : o.peer ?? (a[7] && a[7] !== NO_FD ? this.ik(a[3], a[7]) : `?${key}`);
    const sk = this.derivedKey(sender, '>');
    if (!this.participate(sk, e.pid)) return;
    let m = this.byteStreams.get(sk);
    if (!m) this.byteStreams.set(sk, (m = new ByteStreamMatcher((f, t, b) => this.addFlow('socket', sender, f, t, b))));
    const info = { t0: wait?.t0 ?? e.ts, preview: e.blob };
    if (isWrite) m.write(ep, n, info); else m.read(ep, n, info);
  }

  /**
   * Records that pid uses a stream; false once the stream cannot be matched any more: a process that uses it lost
   * events (the shim's back-pressure drops), after which byte offsets and message order are unknown.
   */
  private participate(stream: string, pid: number): boolean {
    if (this.brokenStreams.has(stream)) return false;
    let s = this.streamPids.get(stream);
    if (!s) this.streamPids.set(stream, (s = new Set()));
    s.add(pid);
    if (this.drops.has(pid)) { this.brokenStreams.add(stream); return false; }
    return true;
  }
  private onDropped(e: TraceEvent, count: number): void {
    this.dropped += count;
    const d = this.drops.get(e.pid);
    if (d) d.count += count; else this.drops.set(e.pid, { count, index: e.index, ts: e.ts });
    for (const [stream, pids] of this.streamPids) if (pids.has(e.pid)) this.brokenStreams.add(stream);
  }
  /** Processes that lost events (first `dropped` event, total count) and the streams that stopped matching. */
  dropInfo(): { pid: number; count: number; index: number; streams: number }[] {
    return [...this.drops].map(([pid, d]) => ({ pid, count: d.count, index: d.index, streams: [...this.brokenStreams].filter((k) => this.streamPids.get(k)?.has(pid)).length }));
  }

  /** Links two socket ends: by the peer inode when the shim knew it, else by the connection's address pair
   * (an end whose local|remote is the other's remote|local — several accepted sockets share one local address). */
  private linkPeer(key: string, peerKey: string | undefined, addrs: string): void {
    const [local, remote] = addrs.split('|');
    if (!peerKey && local && remote) {
      peerKey = this.socketByAddrs.get(`${remote}|${local}`);
      if (peerKey === key) peerKey = undefined;
      if (!peerKey) this.socketByAddrs.set(`${local}|${remote}`, key);
    }
    if (!peerKey) return;
    const o = this.objects.get(key), p = this.objects.get(peerKey);
    if (o) o.peer = peerKey;
    if (p) p.peer = key;
  }

  private onMq(e: TraceEvent, wait: Wait | undefined): void {
    const a = e.args;
    const key = this.ik(a[3], a[4]);
    const o = this.obj(key, 'mq', e.ts);
    this.touch(o, e);
    let m = this.mqs.get(key);
    if (!m) this.mqs.set(key, (m = new PriorityQueueMatcher((f, t, b, prio) => this.addFlow('mq', key, f, t, b, prio))));
    const ep: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    const before = m.orderViolations;
    if (this.readyLogs.size) this.readyEvent(key, e.kind === K.mqSend ? 'in' : 'out', ep);
    if (e.kind === K.mqSend) {
      m.send(ep, Number(a[1]), Number(a[2]));
      const r = this.lastReadOn.get(key);
      if (wait && r && r.ts >= wait.t0) wait.by = r;
    } else { m.receive(ep, s64(e.result), Number(a[2])); this.lastReadOn.set(key, ep); }
    this.evidence.mqOrderViolations += m.orderViolations - before;
  }

  /** `sysvmsg:${id}` / `sysvsem:${id}`, made once per id (System V calls name their object on every event). */
  private sysvKey(prefix: 'sysvmsg' | 'sysvsem', id: bigint): string {
    const m = prefix === 'sysvmsg' ? this.sysvMsgKeys : this.sysvSemKeys;
    let k = m.get(id);
    if (k === undefined) m.set(id, (k = `${prefix}:${id}`));
    return k;
  }
  private sysvMsgKeys = new Map<bigint, string>();
  private sysvSemKeys = new Map<bigint, string>();
  /** `${base}${suffix}` (a stream's key, a queue's per-type stream), made once per pair. */
  private derivedKey(base: string, suffix: string): string {
    let m = this.derivedKeys.get(suffix);
    if (!m) this.derivedKeys.set(suffix, (m = new Map()));
    let k = m.get(base);
    if (k === undefined) m.set(base, (k = base + suffix));
    return k;
  }
  private derivedKeys = new Map<string, Map<string, string>>();
  private queueTypeKeys = new Map<string, Map<bigint, string>>();

  private sysvObj(prefix: 'sysvmsg' | 'sysvsem', id: bigint, ts: bigint): ObjectRecord {
    // known, named and typed: what obj() would return, without building the name again
    const known = this.objects.get(this.sysvKey(prefix, id));
    if (known && known.name && known.type !== 'other' && known.type !== 'file') return known;
    return prefix === 'sysvmsg' ? this.obj(`sysvmsg:${id}`, 'sysv-mq', ts, `System V queue ${id}`) : this.obj(`sysvsem:${id}`, 'semaphore', ts, `System V semaphore set ${id}`);
  }
  private onSysvMsg(e: TraceEvent, wait: Wait | undefined): void {
    const a = e.args;
    const send = e.kind === K.msgsnd;
    const key = this.sysvKey('sysvmsg', a[0]);
    const o = this.sysvObj('sysvmsg', a[0], e.ts);
    this.touch(o, e);
    // A send that waited on a full queue was let in by the receive that made room.
    const ep0: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    if (send) { const r = this.lastReadOn.get(key); if (wait && wait.t1 !== undefined && r && r.ts >= wait.t0 && r.pid !== e.pid) wait.by = r; }
    else this.lastReadOn.set(key, ep0);
    const mtype = send ? a[2] : a[3];
    let byType = this.queueTypeKeys.get(key);
    if (!byType) this.queueTypeKeys.set(key, (byType = new Map()));
    let mk = byType.get(mtype);
    if (mk === undefined) byType.set(mtype, (mk = `${key}/${mtype}`)); // one stream per message type, its key made once
    let m = this.msgStreams.get(mk);
    if (!m) this.msgStreams.set(mk, (m = new MessageMatcher((f, t, b) => this.addFlow('mq', key, f, t, b, Number(mtype)))));
    const ep: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    if (send) m.send(ep, Number(a[1])); else m.receive(ep, s64(e.result));
  }

  private onFdPass(e: TraceEvent): void {
    const [direction, fd, otype, dev, ino] = e.args;
    const key = ino ? this.ik(dev, ino) : `fd:${e.pid}:${fd}`;
    const ep: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    const o = this.objects.get(key) ?? this.inodeObj(e, Number(otype), dev, ino, '');
    // One send to one receive per passed object; either side may be stamped first (sendmsg's events are taken
    // after it returns, when the receiver may already have run).
    let m = this.fdPasses.get(key);
    if (!m) this.fdPasses.set(key, (m = new MessageMatcher((f, t) => { this.addFlow('fd', key, f, t, 0); this.passedEnd(key, f, t); })));
    if (Number(direction) === FD_PASS_SEND) { this.touch(o, e); m.send(ep, 0); return; }
    this.addFd(e, Number(fd), o, 'rw', false, 'scm_rights');
    m.receive(ep, 0);
  }
  /** The received fd refers to the sender's open file: same access mode (pipe read or write end). */
  private passedEnd(key: string, from: Endpoint, to: Endpoint): void {
    const o = this.objects.get(key);
    if (!o) return;
    const sentFd = Number(this.source.get(from.index).args[1]);
    const src = o.fds.find((f) => f.pid === from.pid && f.fd === sentFd && f.from <= from.ts && (f.to === undefined || f.to >= from.ts));
    const dst = o.fds.find((f) => f.pid === to.pid && f.fromIndex === to.index);
    if (src && dst) dst.end = src.end;
  }

  // ---------------------------------------------------------------- who ended an accept

  /** An accept ended by the connect of its peer: named by that connect when seen (either may be handled first: a
   *  Unix connect returns once queued, a TCP one when the handshake is done), else by the peer socket's owner. */
  private acceptedBy(accepted: string, wait: Wait): void {
    const peer = this.objects.get(accepted)?.peer;
    const c = peer ? this.connects.get(peer) : undefined;
    if (c) { wait.by = c; this.connects.delete(peer!); return; }
    const owner = peer ? this.objects.get(peer)?.fds[0] : undefined;
    if (owner) wait.by = { index: owner.fromIndex, pid: owner.pid, tid: owner.pid, ts: owner.from };
    this.acceptWaits.set(accepted, wait);
  }
  private onConnected(sock: string, ep: Endpoint): void {
    const peer = this.objects.get(sock)?.peer;
    const w = peer ? this.acceptWaits.get(peer) : undefined;
    if (w) { w.by = ep; this.acceptWaits.delete(peer!); return; }
    this.connects.set(sock, ep);
  }

  // ---------------------------------------------------------------- readiness waits and System V semaphores

  /** The mutex a condition variable was last waited on with (its lock key), for the wait-for graph. */
  condMutexKey(condKey: string): string | undefined { return this.condMutex.get(condKey); }

  private onSemop(e: TraceEvent, ok: boolean, wait: Wait | undefined): void {
    const key = this.sysvKey('sysvsem', e.args[0]);
    this.touch(this.sysvObj('sysvsem', e.args[0], e.ts), e);
    if (e.phase === PHASE.begin || !ok) return;
    const ep: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    // A blocked semop was let through by the last operation that raised a value since it began.
    const p = this.lastSemopPost.get(key);
    if (wait && wait.t1 !== undefined && p && p.ts >= wait.t0 && (p.pid !== e.pid || p.tid !== e.tid)) wait.by = p;
    if (semopRaises(e)) this.lastSemopPost.set(key, ep);
  }

  private onEpollCtl(e: TraceEvent): void {
    const [epfd, op, fd, events, data, , dev, ino] = e.args;
    const epKey = this.fdObjKey(e.pid, s64(epfd));
    const o = epKey ? this.objects.get(epKey) : undefined;
    if (o) this.touch(o, e);
    const ep = this.epollInstance(e.pid, s64(epfd));
    if (!ep) return;
    let list = this.epollInterest.get(ep);
    if (!list) this.epollInterest.set(ep, (list = new Map()));
    const n = s64(fd);
    this.epollSnapshots.delete(ep);
    if (Number(op) === EPOLL_CTL_DEL) { list.delete(n); return; }
    const object = ino ? this.ik(dev, ino) : this.fdObjKey(e.pid, n);
    list.set(n, { fd: n, object, dir: readyDir(Number(events)), data, events: Number(events) });
    if (object && !this.readyLogs.has(object)) this.readyLogs.set(object, { in: [], out: [] });
  }

  /** poll/select/epoll_wait: the watched fds at the begin; at the end, who made the reported fds ready. */
  private onReadinessWait(e: TraceEvent, wait: Wait | undefined): void {
    if (!wait) return;
    if (e.phase === PHASE.begin) {
      const { watches, incomplete } = this.watchedFds(e);
      wait.watches = watches;
      if (incomplete) wait.watchesIncomplete = true;
      // (epoll's watched objects got their logs at epoll_ctl)
      if (e.kind !== K.epollWait) for (const w of watches) if (w.object && !this.readyLogs.has(w.object)) this.readyLogs.set(w.object, { in: [], out: [] });
      return;
    }
    const ready = new Map<string, WatchedFd['dir']>();
    if (e.err === 0 && s64(e.result) > 0 && wait.watches) {
      const byData = e.kind === K.epollWait ? this.watchesByData.get(wait.watches) : undefined;
      for (const fdOrData of readyEntries(e)) {
        const w = byData ? byData.get(fdOrData) : wait.watches.find((x) => x.fd === fdOrData);
        if (w?.object) ready.set(w.object, w.dir);
      }
    }
    // The earliest write (read, for a write-interest) by another thread since the wait began on a ready object.
    let by: Endpoint | undefined;
    const other = (x: Endpoint) => (x.pid !== wait.pid || x.tid !== wait.tid) && x.ts >= wait.t0;
    for (const [k, dir] of ready) {
      const log = this.readyLogs.get(k);
      if (!log) continue;
      for (const d of ['in', 'out'] as const) {
        if (dir !== 'inout' && dir !== d) continue;
        const f = log[d].find(other);
        if (f && (!by || f.ts < by.ts)) by = f;
      }
    }
    if (by) { wait.by = by; return; }
    if (!ready.size) return;
    const late: LateReady = { wait, ready };
    for (const k of ready.keys()) {
      let set = this.lateReady.get(k);
      if (!set) this.lateReady.set(k, (set = new Set()));
      // Ready with nothing to show for it (a hang-up): drop those that waited past the skew, or a loop polling a
      // closed pipe would pile them up.
      for (const x of set) if (x.wait.t1! + SIGNAL_SKEW_NS < e.ts) set.delete(x);
      set.add(late);
    }
  }

  private watchedFds(e: TraceEvent): { watches: WatchedFd[]; incomplete: boolean } {
    const fds = this.state.get(e.pid)?.fds;
    const watches: WatchedFd[] = [];
    let incomplete = false;
    if (e.kind === K.epollWait) {
      const ep = this.epollInstance(e.pid, s64(e.args[0]));
      const list = ep ? this.epollInterest.get(ep) : undefined;
      if (!list) return { watches, incomplete: true };
      // One array per version of the interest list, shared by the waits that saw it (a loop waits many times).
      let snap = this.epollSnapshots.get(ep!);
      if (!snap) {
        const ws = [...list.values()].map((x): WatchedFd => ({ fd: x.fd, object: x.object, dir: x.dir, data: x.data }));
        snap = { watches: ws, incomplete: ws.some((x) => !x.object || !this.objects.has(x.object)), byData: new Map(ws.map((x) => [dataKey(x.data!), x])) };
        this.epollSnapshots.set(ep!, snap);
        this.watchesByData.set(ws, snap.byData);
      }
      return { watches: snap.watches, incomplete: snap.incomplete };
    }
    const b = e.blob;
    const dv = b ? new DataView(b.buffer, b.byteOffset, b.byteLength) : undefined;
    const n = dv ? Math.floor(dv.byteLength / 8) : 0;
    for (let i = 0; i < n; i++) {
      const fd = e.kind === K.poll ? dv!.getInt32(8 * i, true) : dv!.getUint32(8 * i, true);
      if (fd < 0) continue; // poll ignores negative fds
      const mask = e.kind === K.poll ? dv!.getUint16(8 * i + 4, true) : dv!.getUint32(8 * i + 4, true);
      const dir: WatchedFd['dir'] = e.kind === K.poll ? readyDir(mask) : (mask & 2) && (mask & 5) ? 'inout' : mask & 2 ? 'out' : 'in';
      const object = fds?.get(fd)?.object;
      if (!object) incomplete = true;
      watches.push({ fd, object, dir });
    }
    // The shim keeps 512 entries; poll's nfds counts them all.
    if (e.kind === K.poll ? n < Number(e.args[0]) : n >= READY_BLOB_MAX) incomplete = true;
    return { watches, incomplete };
  }

  /** The epoll instance behind a process's fd (every epoll fd has the same inode, so the fd table cannot tell). */
  private epollInstance(pid: number, fd: number): string | undefined {
    const x = this.epollInstances.get(`${pid}:${fd}`);
    return x && this.state.get(pid)?.fds.get(fd) === x.fd ? x.id : undefined;
  }
  /** Names the epoll instance behind the fd the process holds now (created, inherited or dup'ed). */
  private setEpollInstance(pid: number, fd: number, id: string | undefined): void {
    const f = this.state.get(pid)?.fds.get(fd);
    if (id && f) this.epollInstances.set(`${pid}:${fd}`, { id, fd: f });
  }

  private readyEvent(key: string, dir: 'in' | 'out', ep: Endpoint): void {
    const log = this.readyLogs.get(key);
    if (!log) return;
    const l = log[dir];
    l.push(ep);
    if (l.length > READY_LOG) l.shift();
    const late = this.lateReady.get(key);
    if (!late) return;
    for (const x of [...late]) {
      const w = x.wait, d = x.ready.get(key)!;
      const gone = ep.ts > w.t1! + SIGNAL_SKEW_NS;
      if (!gone && (d === 'inout' || d === dir) && (ep.pid !== w.pid || ep.tid !== w.tid) && ep.ts >= w.t0) w.by = ep;
      else if (!gone) continue;
      for (const k of x.ready.keys()) { const set = this.lateReady.get(k); set?.delete(x); if (set && !set.size) this.lateReady.delete(k); }
    }
  }

  // ---------------------------------------------------------------- signals

  private onSignalSent(e: TraceEvent, pid: number, tid: number, sig: number): void {
    if (pid <= 0 || sig === 0) return;
    void tid;
    this.sigStats(sig).sent++;
    const ep: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    this.signalsSent.push({ from: ep, pid, sig });
    const k = `${pid}/${sig}`;
    // A delivery can be stamped before the kill that caused it (kill's event is taken after the call returns).
    const early = this.earlyDeliveries.get(k);
    if (early?.length) {
      const j = early.findIndex((d) => (d.sender <= 0 || d.sender === e.pid) && e.ts - d.to.ts <= SIGNAL_SKEW_NS);
      if (j >= 0) { const d = early.splice(j, 1)[0]; this.signalFlow(ep, d.to, sig, d.wait); return; }
    }
    let q = this.pendingSignals.get(k);
    if (!q) this.pendingSignals.set(k, (q = []));
    q.push(ep);
  }
  private sigStats(sig: number): SignalStats {
    let s = this.signals.get(sig);
    if (!s) this.signals.set(sig, (s = { sig, sent: 0, delivered: 0 }));
    return s;
  }
  /**
   * Delivery: matched to the earliest pending send from that sender (any sender when unknown) stamped before it —
   * the one that made the signal pending. Standard signals do not queue, so the later pending sends were merged
   * into it; they are kept aside, because one stamped before this delivery may really have been sent after the
   * kernel took the signal (sends are stamped after kill returns) and be the cause of the next delivery, which
   * then finds nothing pending. Real-time signals (>= 32) queue: oldest first.
   */
  private onSignalDelivered(e: TraceEvent, sig: number, sender: number, wait?: Wait): void {
    this.sigStats(sig).delivered++;
    const k = `${e.pid}/${sig}`;
    const q = this.pendingSignals.get(k) ?? [];
    const to: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    const fromSender = (s: Endpoint) => sender <= 0 || s.pid === sender;
    const i = q.findIndex((s) => fromSender(s) && s.ts <= e.ts);
    if (i >= 0) {
      const from = q[i];
      if (sig >= 32) q.splice(i, 1);
      else {
        const merged = q.filter((s, j) => j > i && fromSender(s) && s.ts <= e.ts);
        this.pendingSignals.set(k, q.filter((s, j) => j !== i && !merged.includes(s)));
        this.mergedSignals.set(k, merged);
      }
      this.signalFlow(from, to, sig, wait);
      return;
    }
    const merged = this.mergedSignals.get(k);
    if (merged?.length) { this.signalFlow(merged.pop()!, to, sig, wait); return; }
    let early = this.earlyDeliveries.get(k);
    if (!early) this.earlyDeliveries.set(k, (early = []));
    early.push({ to, sender, wait });
  }
  private signalFlow(from: Endpoint, to: Endpoint, sig: number, wait?: Wait): void {
    this.addFlow('signal', `pid:${to.pid}`, from, to, 0, sig);
    if (wait) wait.by = from;
  }

  // ---------------------------------------------------------------- locks

  /** A lock's identity: its address inside a shared mapping (process-shared) or inside its process. */
  lockKey(pid: number, addr: bigint): string {
    const ps = this.state.get(pid);
    if (ps) {
      for (const m of ps.shared) if (addr >= m.start && addr < m.end) return `${m.key}+${hex(addr - m.start + m.offset)}`;
    }
    let byAddr = this.privateLockKeys.get(pid);
    if (!byAddr) this.privateLockKeys.set(pid, (byAddr = new Map()));
    let k = byAddr.get(addr);
    if (k === undefined) byAddr.set(addr, (k = `${pid}:${hex(addr)}`));
    return k;
  }
  private semKey(pid: number, addr: bigint): string { return this.state.get(pid)?.sems.get(addr) ?? this.lockKey(pid, addr); }

  private lockFor(e: TraceEvent, addr: bigint, kindOverride?: LockStats['kind']): LockState {
    const kind: LockStats['kind'] = kindOverride ?? (e.kind === K.rwlockLock || e.kind === K.rwlockUnlock ? 'rwlock'
      : e.kind === K.spinLock || e.kind === K.spinUnlock ? 'spinlock' : 'mutex');
    const key = kind === 'semaphore' ? this.semKey(e.pid, addr) : this.lockKey(e.pid, addr);
    const l = this.locks.get(key);
    if (l) { this.touch(this.objects.get(key)!, e); return l; } // the hot path: no name closure per lock event
    return this.lockByKey(key, kind, `${kind} ${hex(addr)} (pid ${e.pid})`, e);
  }
  private lockByKey(key: string, kind: LockStats['kind'], nameOf: string | (() => string), e: TraceEvent): LockState {
    let l = this.locks.get(key);
    if (!l) {
      const name = typeof nameOf === 'string' ? nameOf : nameOf();
      l = { holders: new KeptKeyMap(), pendingAcq: [], open: new KeptKeyMap(), since: new KeptKeyMap(), stats: { key, kind, name, acquisitions: 0, contended: 0, waitNs: 0n, maxWaitNs: 0n, holdNs: 0n, maxHoldNs: 0n, waiters: new Map(), holders: new Map(), callers: new Map() } };
      this.locks.set(key, l);
      const o = this.obj(key, kind === 'spinlock' ? 'spinlock' : kind === 'filelock' ? 'filelock' : kind, e.ts, name);
      void o;
    }
    this.touch(this.objects.get(key)!, e);
    return l;
  }
  private holdersOf(l: LockState): { pid: number; tid: number }[] { return l.holders.mapValues((h) => ({ pid: h.pid, tid: h.tid })); }

  /** `${dev}:${ino}` (and other `${x}:${y}` pairs of u64 arguments): built once per pair, not per event. */
  private ik(x: bigint, y: bigint): string {
    if (x > MAX_EXACT || y > MAX_EXACT) return `${x}:${y}`;
    const nx = Number(x), ny = Number(y);
    let byY = this.pairKeys.get(nx);
    if (!byY) this.pairKeys.set(nx, (byY = new Map()));
    let k = byY.get(ny);
    if (k === undefined) byY.set(ny, (k = `${x}:${y}`));
    return k;
  }

  /** threadKey, reusing the current lane's string (locks look it up several times per event). */
  private tk(pid: number, tid: number): string {
    const l = this.lastLane;
    return l && l.pid === pid && l.tid === tid ? this.lastLaneKey : threadKey(pid, tid);
  }

  private acquire(l: LockState, e: TraceEvent, wait: Wait | undefined, shared: boolean, holderKey = this.tk(e.pid, e.tid)): void {
    const s = l.stats;
    s.acquisitions++;
    const c = s.callers.get(e.caller);
    if (c) c.count++; else s.callers.set(e.caller, { pid: e.pid, count: 1, index: e.index });
    if (wait && ended(wait)) {
      const w = wait.t1! - wait.t0;
      s.contended++; s.waitNs += w; if (w > s.maxWaitNs) s.maxWaitNs = w;
      const tk = this.tk(e.pid, e.tid);
      const ws = s.waiters.get(tk);
      if (ws) { ws.count++; ws.waitNs += w; } else s.waiters.set(tk, { pid: e.pid, tid: e.tid, count: 1, waitNs: w });
    }
    const ep: Acquisition = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts, since: e.ts, hold: undefined, key: holderKey, release: undefined, handoff: undefined };
    const key = holderKey + (shared ? `#${e.index}` : '');
    if (!shared && s.kind !== 'semaphore') {
      // Exclusive: holds are disjoint, so in acquisition order each hold is handed over by the one before it.
      // Unlock events are stamped after unlock returns (sometimes after the next owner's lock returned), so the
      // hand-off pairs holds, not timestamps.
      const prev = l.lastHold;
      if (prev && prev.key !== holderKey) {
        if (prev.release) { this.addFlow('lock', s.key, prev.release, ep, 0); if (wait && !wait.by) wait.by = prev.release; }
        else prev.handoff = { ep, wait };
        if (wait && !(wait.holders ?? []).some((h) => h.pid !== e.pid || h.tid !== e.tid)) wait.holders = [{ pid: prev.pid, tid: prev.tid }];
        if (!prev.release) l.holders.delete(prev.key);
      }
      l.lastHold = ep;
      l.open.set(holderKey, ep);
    } else {
      // Semaphores and shared (read) holds: the last release by another thread lets this one in.
      if (l.lastRelease && (l.lastRelease.pid !== e.pid || l.lastRelease.tid !== e.tid)) {
        this.addFlow('lock', s.key, l.lastRelease, ep, 0);
        if (wait && !wait.by) wait.by = l.lastRelease;
      } else if (wait && wait.t1 !== undefined) l.pendingAcq.push({ ep, wait });
      l.lastRelease = undefined;
    }
    if (s.kind !== 'semaphore') {
      // Lock order: every lock this thread holds now precedes this one.
      const tk = this.tk(e.pid, e.tid);
      let held = this.heldLocks.get(tk);
      if (!held) this.heldLocks.set(tk, (held = new KeptKeyMap()));
      if (held.size) for (const [h, idx] of held) {
        if (h === s.key) continue;
        let m = this.lockOrder.get(h);
        if (!m) this.lockOrder.set(h, (m = new Map()));
        if (!m.has(s.key)) m.set(s.key, { pid: e.pid, tid: e.tid, held: idx, acquired: e.index });
      }
      held.set(s.key, e.index);
    }
    l.holders.set(key, ep);
    l.since.set(key, ep);
    this.recordHold(s.key, ep);
  }

  /** A trylock that found the lock taken, or a timed wait that gave up: contention without an acquisition. */
  private lockFailed(l: LockState): void { l.stats.failed = (l.stats.failed ?? 0) + 1; }

  private recordHold(lock: string, since: Since): void {
    let list = this.lockHolds.get(lock);
    if (!list) this.lockHolds.set(lock, (list = new LockHoldTable(lock)));
    since.hold = list.add(since.pid, since.tid, since.since, since.index);
  }

  private release(l: LockState, e: TraceEvent, semaphore = false, holderKey = this.tk(e.pid, e.tid)): void {
    const s = l.stats;
    let hk: string | undefined = l.since.has(holderKey) ? holderKey : undefined;
    if (!hk && l.since.size) for (const k of l.since.keys()) if (k.startsWith(holderKey + '#')) { hk = k; break; }
    if (!hk && semaphore) hk = l.since.firstKey();
    const h = hk ? l.since.get(hk) : undefined;
    if (h && hk && (!semaphore || (h.pid === e.pid && h.tid === e.tid))) {
      const d = e.ts - h.since;
      s.holdNs += d; if (d > s.maxHoldNs) s.maxHoldNs = d;
      const hs = s.holders.get(this.tk(h.pid, h.tid));
      if (hs) { hs.count++; hs.holdNs += d; } else s.holders.set(this.tk(h.pid, h.tid), { pid: h.pid, tid: h.tid, count: 1, holdNs: d });
    }
    if (h && h.hold !== undefined) { const holds = this.lockHolds.get(s.key)!; if (!holds.ended(h.hold)) holds.end(h.hold, e.ts, e.index); }
    if (hk) { l.holders.delete(hk); l.since.delete(hk); }
    this.heldLocks.get(this.tk(e.pid, e.tid))?.delete(s.key);
    const rel: Endpoint = { index: e.index, pid: e.pid, tid: e.tid, ts: e.ts };
    const hold = l.open.get(holderKey);
    if (hold && !semaphore) {
      l.open.delete(holderKey);
      hold.release = rel;
      if (hold.handoff) { this.addFlow('lock', s.key, rel, hold.handoff.ep, 0); if (hold.handoff.wait) hold.handoff.wait.by = rel; hold.handoff = undefined; }
      return;
    }
    while (l.pendingAcq.length && rel.ts - l.pendingAcq[0].ep.ts > SIGNAL_SKEW_NS) l.pendingAcq.shift();
    const p = l.pendingAcq.findIndex((a) => a.ep.pid !== e.pid || a.ep.tid !== e.tid);
    if (p >= 0) {
      const a = l.pendingAcq.splice(p, 1)[0];
      this.addFlow('lock', s.key, rel, a.ep, 0);
      if (a.wait) a.wait.by = rel;
      l.lastRelease = undefined;
      return;
    }
    l.lastRelease = rel;
  }

  private onCondWait(e: TraceEvent, wait: Wait | undefined): void {
    const [cond, mutex] = e.args;
    const ck = 'cond:' + this.lockKey(e.pid, cond);
    const o = this.obj(ck, 'condvar', e.ts, `condvar ${hex(cond)} (pid ${e.pid})`);
    this.touch(o, e);
    const ml = this.lockFor({ ...e, kind: K.mutexLock }, mutex);
    this.condMutex.set(ck, ml.stats.key);
    if (e.phase === PHASE.begin) {
      this.condWaiters.set(ck, (this.condWaiters.get(ck) ?? 0) + 1);
      // A signal that found no waiter, followed by this wait: the wakeup may have been lost.
      const sig = this.lastCondSignal.get(ck);
      if (sig && sig.waiters === 0 && sig.tid !== e.tid) { this.evidence.lostWakeups.push({ signal: sig.index, wait: e.index }); this.lastCondSignal.delete(ck); }
      this.release(ml, e);
    } else {
      this.condWaiters.set(ck, Math.max(0, (this.condWaiters.get(ck) ?? 1) - 1));
      const sig = this.lastCondSignal.get(ck);
      if (wait && sig && sig.ts >= wait.t0) wait.by = { index: sig.index, pid: e.pid, tid: sig.tid, ts: sig.ts };
      this.acquire(ml, e, undefined, false);
    }
  }
  private onCondSignal(e: TraceEvent): void {
    const ck = 'cond:' + this.lockKey(e.pid, e.args[0]);
    const o = this.obj(ck, 'condvar', e.ts, `condvar ${hex(e.args[0])} (pid ${e.pid})`);
    this.touch(o, e);
    const mk = this.condMutex.get(ck);
    if (mk && !this.heldLocks.get(this.tk(e.pid, e.tid))?.has(mk)) this.evidence.condNoMutex.push({ index: e.index, cond: ck, mutex: mk });
    this.lastCondSignal.set(ck, { index: e.index, ts: e.ts, waiters: this.condWaiters.get(ck) ?? 0, tid: e.tid });
  }

  /** flock/fcntl/lockf: a file lock held by a process (its holder key is the pid). */
  private onFileLock(e: TraceEvent, wait: Wait | undefined): void {
    const a = e.args;
    let dev: bigint, ino: bigint, unlock = false, shared = false, query = false;
    if (e.kind === K.flock) { dev = a[2]; ino = a[3]; const op = Number(a[1]); unlock = (op & LOCK_UN) !== 0; shared = (op & 3) === LOCK_SH; }
    else if (e.kind === K.fcntlLock) {
      dev = a[6]; ino = a[7]; const cmd = Number(a[1]); query = cmd === F_GETLK || cmd === F_OFD_GETLK;
      unlock = Number(a[2]) === F_UNLCK; shared = Number(a[2]) === F_RDLCK; void F_SETLKW; void F_OFD_SETLKW;
    } else { dev = a[3]; ino = a[4]; const cmd = Number(a[1]); unlock = cmd === F_ULOCK; query = cmd === 3; }
    if (query || !ino) return;
    const key = this.ik(dev, ino);
    const o = this.objects.get(key);
    const l = this.lockByKey(key, 'filelock', `file lock ${o?.name || key}`, e);
    if (o && o.type === 'file') o.type = 'filelock';
    if (unlock) { if (e.phase !== PHASE.begin && e.err === 0) this.release(l, e, false, String(e.pid)); return; }
    if (e.phase === PHASE.begin) { if (wait) wait.holders = this.holdersOf(l); return; }
    if (e.err === 0 && s64(e.result) >= 0) this.acquire(l, e, wait, shared, String(e.pid));
  }

  private checkEintr(e: TraceEvent, lk: LaneIndex): void {
    if (e.flags & EVENT_FLAG.inSignalHandler || e.kind === K.signalHandler) return;
    const prev = this.lastEintr.size ? this.lastEintr.get(lk) : undefined;
    if (prev) {
      this.lastEintr.delete(lk);
      const retried = e.kind === prev.kind && (e.args.length === 0 || e.args[0] === prev.args[0]);
      this.evidence.eintr.push({ index: prev.index, retried });
    }
    // kept past this event: never the reused object
    if (e.phase === PHASE.end && e.err === EINTR && e.kind !== K.sigwait) this.lastEintr.set(lk, e === this.reused ? this.source.get(e.index) : e);
  }
}

/** Merges two (ts, index)-sorted runs into out[at…]. The output may be the storage of neither input. */
function mergeRuns(
  aIdx: Uint32Array, aTs: Float64Array, a0: number, a1: number,
  bIdx: Uint32Array, bTs: Float64Array, b0: number, b1: number,
  outIdx: Uint32Array, outTs: Float64Array, at: number,
): void {
  let i = a0, j = b0, k = at;
  while (i < a1 && j < b1) {
    const ta = aTs[i], tb = bTs[j];
    if (ta < tb || (ta === tb && aIdx[i] < bIdx[j])) { outIdx[k] = aIdx[i]; outTs[k++] = ta; i++; }
    else { outIdx[k] = bIdx[j]; outTs[k++] = tb; j++; }
  }
  while (i < a1) { outIdx[k] = aIdx[i]; outTs[k++] = aTs[i++]; }
  while (j < b1) { outIdx[k] = bIdx[j]; outTs[k++] = bTs[j++]; }
}

/** Events a buffer of the ordering may keep between updates (a live window at 200k events/s is about 20k). */
const KEEP_BUFFER = 1 << 18;

/** The held-back events: store indices and their timestamps (as doubles), sorted, in reused buffers. */
class OrderedWindow {
  idx = new Uint32Array(1024);
  ts = new Float64Array(1024);
  len = 0;
  reserve(n: number): void {
    if (n <= this.idx.length) return;
    const cap = Math.max(n, 2 * this.idx.length);
    const idx = new Uint32Array(cap), ts = new Float64Array(cap);
    idx.set(this.idx.subarray(0, this.len)); ts.set(this.ts.subarray(0, this.len));
    this.idx = idx; this.ts = ts;
  }
  shrink(): void {
    if (this.idx.length <= KEEP_BUFFER || this.len > KEEP_BUFFER / 2) return;
    const idx = new Uint32Array(KEEP_BUFFER), ts = new Float64Array(KEEP_BUFFER);
    idx.set(this.idx.subarray(0, this.len)); ts.set(this.ts.subarray(0, this.len));
    this.idx = idx; this.ts = ts;
  }
}

type MutableEvent = { -readonly [P in keyof TraceEvent]: TraceEvent[P] };
/** A source that fills an event object in place (EventStore). */
interface InPlaceReader { kindAt(i: number): number; readInto(i: number, ev: MutableEvent, args: bigint[]): void }
function isInPlaceReader(s: EventSource): s is EventSource & InPlaceReader {
  const x = s as unknown as Partial<InPlaceReader>;
  return typeof x.kindAt === 'function' && typeof x.readInto === 'function';
}
/** Kinds read in place (eventAt): frequent, and handled without keeping the event. */
const HOT_KIND = new Uint8Array(MAX_KIND_ID + 1);
// (and the next most frequent of a live mix, whose handlers keep no reference to the event either: signals sent and
// handled, readiness waits, open and close; each read through get() was a new event, argument array and bigints)
for (const k of [K.read, K.write, K.mutexLock, K.mutexUnlock, K.spinLock, K.spinUnlock, K.rwlockLock, K.rwlockUnlock,
  K.kill, K.sigqueue, K.signalHandler, K.poll, K.select, K.open, K.close]) HOT_KIND[k] = 1;
const HEAVY_KIND = new Uint8Array(MAX_KIND_ID + 1);
for (const k of [K.pageSnapshot, K.snapshotDone]) HEAVY_KIND[k] = 1;

/** Whether a wait has ended, without reading its t1 (a table read makes a new bigint). */
const ended = (w: Wait): boolean => (w instanceof WaitRow ? w.ended : w.t1 !== undefined);

function accEnd(flags: number): FdEnd {
  const acc = flags & O_ACCMODE;
  return acc === O_WRONLY ? 'w' : acc === O_RDWR ? 'rw' : 'r';
}
function isIpcType(t: ObjectType): boolean {
  return t === 'pipe' || t === 'fifo' || t === 'socket' || t === 'mq' || t === 'shm' || t === 'eventfd';
}
/** Calls POSIX does not list as async-signal-safe (signal-safety(7)) among those the shim records. */
const UNSAFE_IN_HANDLER = new Set<number>([
  K.mutexLock, K.mutexUnlock, K.mutexInit, K.rwlockLock, K.rwlockUnlock, K.condWait, K.condSignal, K.spinLock, K.spinUnlock,
  K.semWait, K.semOpen, K.semInit, K.semClose, K.mqOpen, K.mqSend, K.mqReceive, K.mqClose, K.mqUnlink, K.msgsnd, K.msgrcv,
  K.shmOpen, K.mmap, K.munmap, K.epollWait, K.epollCreate, K.flock, K.lockf, K.threadStart,
]);
function isSignalUnsafe(e: TraceEvent): boolean {
  if (e.kind === K.exit) return Number(e.args[1]) === 0 || Number(e.args[1]) === 3; // exit() and quick_exit() run handlers; _exit is safe
  return UNSAFE_IN_HANDLER.has(e.kind);
}

const EPOLL_CTL_DEL = 2;
/** Entries of a select blob the shim keeps (IPS_PREVIEW_MAX / 8). */
const READY_BLOB_MAX = 512;
/** poll/epoll event bits: POLLIN|POLLPRI|POLLRDNORM|POLLRDBAND read, POLLOUT|POLLWRNORM|POLLWRBAND write. */
function readyDir(events: number): WatchedFd['dir'] {
  const rd = (events & 0xc3) !== 0, wr = (events & 0x304) !== 0;
  return rd && wr ? 'inout' : wr ? 'out' : 'in'; // neither: only hang-up/error, which the other end causes, like input
}
/** An epoll data word as a Map key: a number where exact (fds, indices, most pointers), no BigInt per event. */
function dataKey(v: bigint): number | bigint { return v <= MAX_EXACT ? Number(v) : v; }
/** The fds (poll, select) or epoll data words (dataKey) a readiness call's end reported ready. */
function readyEntries(e: TraceEvent): (number | bigint)[] {
  const b = e.blob;
  if (!b) return [];
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: (number | bigint)[] = [];
  if (e.kind === K.epollWait) {
    for (let i = 0; i + 16 <= b.byteLength; i += 16) {
      const lo = dv.getUint32(i + 8, true), hi = dv.getUint32(i + 12, true);
      out.push(hi < 0x200000 ? hi * 0x100000000 + lo : dv.getBigUint64(i + 8, true));
    }
    return out;
  }
  for (let i = 0; i + 8 <= b.byteLength; i += 8) {
    if (e.kind === K.poll) { if (dv.getUint16(i + 6, true) !== 0) out.push(dv.getInt32(i, true)); }
    else out.push(dv.getUint32(i, true));
  }
  return out;
}
/** A semop whose operations raise a semaphore value (can let a waiter through). */
export function semopRaises(e: TraceEvent): boolean {
  const b = e.blob;
  if (b && b.byteLength >= 6) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i + 6 <= b.byteLength; i += 6) if (dv.getInt16(i + 2, true) > 0) return true;
    return false;
  }
  return s64(e.args[3]) > 0;
}
