// Per-lane (thread) time index: event indices sorted by timestamp in growing typed arrays, so range and
// aggregated queries are binary searches, never scans of the trace.

export class LaneIndex {
  private ts = new BigInt64Array(64);
  private idx = new Int32Array(64);
  private n = 0;
  private sorted = true;
  /** ts[n - 1], kept: reading a BigInt64Array element makes a new bigint (one per event added). */
  private lastTs = 0n;
  constructor(readonly pid: number, readonly tid: number) {}
  get count(): number { return this.n; }

  add(ts: bigint, index: number): void {
    if (this.n === this.ts.length) {
      const t2 = new BigInt64Array(this.n * 2); t2.set(this.ts); this.ts = t2;
      const i2 = new Int32Array(this.n * 2); i2.set(this.idx); this.idx = i2;
    }
    if (this.n && ts < this.lastTs) this.sorted = false;
    this.lastTs = ts;
    this.ts[this.n] = ts; this.idx[this.n] = index; this.n++;
  }

  private ensureSorted(): void {
    if (this.sorted) return;
    const order = Array.from({ length: this.n }, (_, i) => i)
      .sort((a, b) => (this.ts[a] < this.ts[b] ? -1 : this.ts[a] > this.ts[b] ? 1 : this.idx[a] - this.idx[b]));
    const t2 = new BigInt64Array(this.ts.length), i2 = new Int32Array(this.idx.length);
    order.forEach((o, k) => { t2[k] = this.ts[o]; i2[k] = this.idx[o]; });
    this.ts = t2; this.idx = i2; this.sorted = true;
    if (this.n) this.lastTs = this.ts[this.n - 1];
  }

  /** Position of the first event with ts >= t. */
  lowerBound(t: bigint): number {
    this.ensureSorted();
    let lo = 0, hi = this.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.ts[m] < t) lo = m + 1; else hi = m; }
    return lo;
  }

  /** Event indices with t0 <= ts < t1, at most `limit`. */
  range(t0: bigint, t1: bigint, limit = Infinity): number[] {
    const out: number[] = [];
    for (let i = this.lowerBound(t0); i < this.n && this.ts[i] < t1 && out.length < limit; i++) out.push(this.idx[i]);
    return out;
  }

  /**
   * Events in [t0, t1) at a resolution of `nsPerPixel`: buckets of a power-of-two size ≥ nsPerPixel (aligned, so
   * a view that pans keeps hitting the same buckets), each with its count and first event; empty buckets omitted.
   * Cost: one binary search per non-empty bucket.
   */
  buckets(t0: bigint, t1: bigint, nsPerPixel: bigint): { bucketNs: bigint; buckets: { start: bigint; count: number; first: number }[] } {
    let size = 1n;
    while (size < nsPerPixel) size <<= 1n;
    const out: { start: bigint; count: number; first: number }[] = [];
    let i = this.lowerBound(t0);
    while (i < this.n && this.ts[i] < t1) {
      const start = (this.ts[i] / size) * size;
      const j = this.lowerBound(start + size);
      out.push({ start, count: j - i, first: this.idx[i] });
      i = j;
    }
    return { bucketNs: size, buckets: out };
  }
  at(i: number): { ts: bigint; index: number } { this.ensureSorted(); return { ts: this.ts[i], index: this.idx[i] }; }
}
