// The exact flow matchers: pure algorithms over "a side put something in" / "a side took something out",
// independent of how events arrive. Each side is appended in its own order (writes in completion order, reads in
// completion order); a flow is emitted as soon as both of its endpoints are known, so interleaved arrival from
// several connections does not matter.

/** One endpoint of a flow: the event that wrote/sent/released and the one that read/received/acquired. */
export interface Endpoint { readonly index: number; readonly pid: number; readonly tid: number; readonly ts: bigint }

/** How many later writes a contradicted write is compared with. */
const REORDER_WINDOW = 512;
/** Consumed spans a stream drops at once. */
const SPLICE_AFTER = 64;
/** Full-window searches in a row that find nothing before a stream stops searching (see ByteStreamMatcher.misfits). */
const MISFITS_BEFORE_GIVING_UP = 16;

/** A side's byte range; it is its own endpoint (a copy of the one given: callers may reuse theirs). */
interface Span extends Endpoint { start: number; end: number; t0: bigint; preview?: Uint8Array }

/** What a side knows beyond its size: when the call began (writes) and the first bytes it moved (payload preview). */
export interface SpanInfo { t0?: bigint; preview?: Uint8Array }

/**
 * Byte-stream matching (pipes, FIFOs, stream sockets): every write occupies the next byte range of the stream,
 * every read consumes the next range; a flow is the overlap of a write's range and a read's range. One write split
 * across two reads gives two flows; two writes merged into one read give two flows.
 * Writes are ordered by completion; when two writers' calls overlap in time the kernel's order is not known from
 * timestamps, so the payload previews decide: a write whose first bytes are not what the read saw at that offset
 * is swapped with an overlapping later write whose bytes are.
 */
export class ByteStreamMatcher {
  private writes: Span[] = [];
  private reads: Span[] = [];
  private wi = 0;
  private ri = 0;
  private written = 0;
  private consumed = 0;
  /** Writes reordered because the read previews showed the kernel took them in the other order. */
  reordered = 0;
  /** Writes the reorder searches have compared with a read (bounded: each write once per contradicted pair). */
  searched = 0;
  /** The last search that found nothing: for this write at wi and this read, writes up to wi + `upto` were tried.
   *  While the read waits for a write that agrees, match() runs again on every new write; the search then goes on
   *  from there instead of comparing the whole window again (a pipe with several writers whose previews disagree
   *  made every write, and every read, search 512 writes). */
  private failed?: { w: Span; r: Span; upto: number };
  /** Reads in a row that no write in the window agreed with: past MISFITS_BEFORE_GIVING_UP the previews of this
   *  stream say nothing about its order (bytes that differ per copy, say), and reads are matched in completion order
   *  without a search until one agrees again. */
  private misfits = 0;
  /** `emit` gets the matcher's own copies of the endpoints (spans): what it keeps, it copies. */
  constructor(private readonly emit: (from: Endpoint, to: Endpoint, bytes: number, streamOffset: number) => void) {}

  /** A write of `bytes` at `ep` (copied: the caller may reuse the object). */
  write(ep: Endpoint, bytes: number, info: SpanInfo = {}): void {
    if (bytes <= 0) return;
    this.writes.push({ index: ep.index, pid: ep.pid, tid: ep.tid, ts: ep.ts, start: this.written, end: this.written + bytes, t0: info.t0 ?? ep.ts, preview: info.preview });
    this.written += bytes;
    this.match();
  }
  read(ep: Endpoint, bytes: number, info: SpanInfo = {}): void {
    if (bytes <= 0) return;
    // a read's t0 is never compared (only writes are reordered)
    this.reads.push({ index: ep.index, pid: ep.pid, tid: ep.tid, ts: ep.ts, start: this.consumed, end: this.consumed + bytes, t0: ep.ts, preview: info.preview });
    this.consumed += bytes;
    this.match();
  }
  private forcing = false;
  /** Match what is held back waiting for a write that agrees with a read's preview (end of the trace). */
  flush(): void { this.forcing = true; try { this.match(); } finally { this.forcing = false; } }
  /** Bytes written that no read has consumed (yet). */
  get unread(): number { return Math.max(0, this.written - this.consumed); }
  get totalWritten(): number { return this.written; }
  get totalRead(): number { return this.consumed; }

  private match(): void {
    while (this.wi < this.writes.length && this.ri < this.reads.length) {
      let w = this.writes[this.wi];
      const r = this.reads[this.ri];
      const d = w.start >= r.start ? disagrees(w, r, w.start) : undefined;
      if (d === true) {
        const c = this.misfits < MISFITS_BEFORE_GIVING_UP ? this.settleOrder(r) : undefined;
        // The write the read saw may not be known yet (it completed later): wait for it, within a window.
        if (!c && !this.forcing && this.misfits < MISFITS_BEFORE_GIVING_UP && this.writes.length - this.wi <= REORDER_WINDOW) break;
        if (!c && !this.forcing) this.misfits++;
        w = c ?? w;
      } else if (d === false) this.misfits = 0;
      const lo = Math.max(w.start, r.start), hi = Math.min(w.end, r.end);
      if (hi > lo) this.emit(w, r, hi - lo, lo);
      // A consumed span is never compared again: its preview (a view on the store's blob pool) need not stay alive
      // until the next splice.
      if (w.end <= r.end) { w.preview = undefined; this.wi++; }
      if (r.end <= w.end) { r.preview = undefined; this.ri++; }
    }
    // Drop consumed spans now and then so a long stream does not keep every span alive.
    // (every 64: a live model keeps every stream's consumed spans on the heap until then, 1024 made 31k of them on a
    // 300k-event trace; what is moved is the unmatched rest, usually a few spans)
    // (in place: splice would return the removed spans in a new array)
    if (this.wi > SPLICE_AFTER) { dropFront(this.writes, this.wi); this.wi = 0; }
    if (this.ri > SPLICE_AFTER) { dropFront(this.reads, this.ri); this.ri = 0; }
  }

  /**
   * The write at wi starts inside read r but its preview contradicts r's: find a later write that began before
   * this one completed (so the kernel may have taken it first) and whose preview agrees, and move it to wi.
   */
  private settleOrder(r: Span): Span | undefined {
    const w = this.writes[this.wi];
    // Nothing but a successful search reorders or rewrites the spans after wi, so a failed search's verdicts hold.
    const f = this.failed, same = f !== undefined && f.w === w && f.r === r;
    const from = same ? this.wi + f.upto + 1 : this.wi + 1;
    const last = Math.min(this.writes.length - 1, this.wi + REORDER_WINDOW);
    for (let j = from; j <= last; j++) {
      this.searched++;
      const c = this.writes[j];
      if (c.t0 >= w.ts) continue; // began after w completed: the kernel cannot have taken it before w
      if (disagrees(c, r, w.start) !== false) continue; // c as if it had been written at w's place
      // Move c in front and shift the ones it jumped over.
      this.writes.splice(j, 1);
      this.writes.splice(this.wi, 0, c);
      let off = w.start;
      for (let k = this.wi; k <= j; k++) { const s = this.writes[k]; const n = s.end - s.start; s.start = off; s.end = off + n; off += n; }
      this.reordered++;
      this.failed = undefined;
      return this.writes[this.wi];
    }
    if (!same) this.failed = { w, r, upto: Math.max(0, last - this.wi) };
    else if (last - this.wi > f.upto) f.upto = last - this.wi;
    return undefined;
  }
}

function dropFront<T>(a: T[], n: number): void { a.copyWithin(0, n); a.length -= n; }

/**
 * Whether a write's preview, the write placed at stream offset `start`, contradicts a read's preview where both cover
 * the same stream bytes (undefined: cannot tell). No moved copy of the span: the search calls this per candidate.
 */
function disagrees(w: Span, r: Span, start: number): boolean | undefined {
  if (!w.preview || !r.preview) return undefined;
  const end = start + (w.end - w.start);
  const lo = Math.max(start, r.start);
  const n = Math.min(start + w.preview.length, r.start + r.preview.length, end, r.end) - lo;
  if (n <= 0) return undefined;
  for (let k = 0; k < n; k++) if (w.preview[lo - start + k] !== r.preview[lo - r.start + k]) return true;
  return false;
}

/** Message matching (datagrams, System V queues): the n-th message sent is the n-th received, one to one. */
export class MessageMatcher {
  private sends: { ep: Endpoint; bytes: number }[] = [];
  private recvs: { ep: Endpoint; bytes: number }[] = [];
  private si = 0;
  private rj = 0;
  constructor(private readonly emit: (from: Endpoint, to: Endpoint, bytes: number) => void) {}
  send(ep: Endpoint, bytes: number): void { this.sends.push({ ep, bytes }); this.match(); }
  receive(ep: Endpoint, bytes: number): void { this.recvs.push({ ep, bytes }); this.match(); }
  get pending(): number { return this.sends.length - this.si; }
  private match(): void {
    while (this.si < this.sends.length && this.rj < this.recvs.length) {
      const r = this.recvs[this.rj++];
      this.emit(this.sends[this.si++].ep, r.ep, r.bytes);
    }
    if (this.si > 1024) { this.sends.splice(0, this.si); this.si = 0; }
    if (this.rj > 1024) { this.recvs.splice(0, this.rj); this.rj = 0; }
  }
}

/**
 * POSIX message queue matching: a receive takes the oldest message of the highest priority present. The receive
 * reports the priority it got, so the matcher takes the oldest queued message of exactly that priority; a receive
 * whose message is not known yet (events arrived out of order) waits for the next send of that priority.
 * Call in time order (the model feeds events merged by timestamp).
 */
export class PriorityQueueMatcher {
  private queued = new Map<number, { ep: Endpoint; bytes: number }[]>();
  private waiting = new Map<number, Endpoint[]>();
  private count = 0;
  /** Receives that took a message while a higher-priority one was queued (impossible for a POSIX queue: a sign of lost events). */
  orderViolations = 0;
  constructor(private readonly emit: (from: Endpoint, to: Endpoint, bytes: number, prio: number) => void) {}
  send(ep: Endpoint, bytes: number, prio: number): void {
    const w = this.waiting.get(prio);
    if (w && w.length) { this.emit(ep, w.shift()!, bytes, prio); return; }
    let q = this.queued.get(prio);
    if (!q) this.queued.set(prio, (q = []));
    q.push({ ep, bytes });
    this.count++;
  }
  receive(ep: Endpoint, bytes: number, prio: number): void {
    const q = this.queued.get(prio);
    if (q && q.length) {
      for (const [p, other] of this.queued) if (p > prio && other.length) { this.orderViolations++; break; }
      const m = q.shift()!;
      this.count--;
      this.emit(m.ep, ep, bytes, prio);
      return;
    }
    let w = this.waiting.get(prio);
    if (!w) this.waiting.set(prio, (w = []));
    w.push(ep);
  }
  get pending(): number { return this.count; }
  /** Priorities of queued messages in the order a receiver would get them (highest priority first, FIFO within). */
  order(): { prio: number; from: Endpoint }[] {
    return [...this.queued.entries()].sort((a, b) => b[0] - a[0]).flatMap(([prio, q]) => q.map((m) => ({ prio, from: m.ep })));
  }
}

/** Strongly connected components (Tarjan, iterative) of a directed graph given as adjacency lists. */
export function stronglyConnected<N>(nodes: Iterable<N>, next: (n: N) => Iterable<N>): N[][] {
  const index = new Map<N, number>(), low = new Map<N, number>(), onStack = new Set<N>();
  const stack: N[] = [], out: N[][] = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { n: N; it: Iterator<N> }[] = [{ n: root, it: next(root)[Symbol.iterator]() }];
    index.set(root, counter); low.set(root, counter); counter++; stack.push(root); onStack.add(root);
    while (work.length) {
      const top = work[work.length - 1];
      const step = top.it.next();
      if (!step.done) {
        const m = step.value;
        if (!index.has(m)) {
          index.set(m, counter); low.set(m, counter); counter++; stack.push(m); onStack.add(m);
          work.push({ n: m, it: next(m)[Symbol.iterator]() });
        } else if (onStack.has(m)) low.set(top.n, Math.min(low.get(top.n)!, index.get(m)!));
        continue;
      }
      work.pop();
      if (work.length) { const p = work[work.length - 1].n; low.set(p, Math.min(low.get(p)!, low.get(top.n)!)); }
      if (low.get(top.n) === index.get(top.n)) {
        const comp: N[] = [];
        let m: N;
        do { m = stack.pop()!; onStack.delete(m); comp.push(m); } while (m !== top.n);
        out.push(comp);
      }
    }
  }
  return out;
}

/** One cycle through `start` inside the node set `within` (BFS back to start), or undefined. */
export function cycleThrough<N>(start: N, within: Set<N>, next: (n: N) => Iterable<N>): N[] | undefined {
  const prev = new Map<N, N>();
  const queue: N[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const n = queue[i];
    for (const m of next(n)) {
      if (!within.has(m)) continue;
      if (m === start) {
        const path = [n];
        let c = n;
        while (c !== start) { c = prev.get(c)!; path.push(c); }
        return path.reverse();
      }
      if (!prev.has(m)) { prev.set(m, n); queue.push(m); }
    }
  }
  return undefined;
}
