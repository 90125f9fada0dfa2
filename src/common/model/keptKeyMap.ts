// A Map for the small per-lock and per-thread sets that a lock event adds to and the next one empties again (the
// lock's holders, the thread's held locks). V8 gives a Map a new, smaller table whenever a delete leaves it under a
// quarter full (OrderedHashTable::Shrink), so emptying a 1-entry Map allocated a table per release: four per mutex
// release, the largest single source of the live model's young garbage. Here a deleted key stays with no value and
// comes back in place; iteration skips such keys and yields the live ones in the order a plain Map would.

/** Kept deleted keys past which they are deleted for real (the keys of shared holds are one per acquisition). */
const KEPT_MAX = 16;

export class KeptKeyMap<K, V> {
  private readonly m = new Map<K, V | undefined>();
  private live = 0;
  private kept = 0;

  get size(): number { return this.live; }
  get(k: K): V | undefined { return this.m.get(k); }
  has(k: K): boolean { return this.m.get(k) !== undefined; }

  set(k: K, v: V): this {
    if (v === undefined) throw new TypeError('KeptKeyMap values cannot be undefined');
    if (this.m.get(k) === undefined) {
      if (this.m.has(k)) {
        this.kept--;
        // A plain Map would put the key back at the end: in place is the same order only when no live key follows it.
        if (this.live > 0) this.m.delete(k);
      }
      this.live++;
    }
    this.m.set(k, v);
    return this;
  }

  delete(k: K): boolean {
    if (this.m.get(k) === undefined) return false;
    this.live--;
    if (this.kept >= KEPT_MAX) this.compact();
    this.m.set(k, undefined);
    this.kept++;
    return true;
  }

  private compact(): void {
    for (const [k, v] of this.m) if (v === undefined) this.m.delete(k);
    this.kept = 0;
  }

  /** The first live key in insertion order. */
  firstKey(): K | undefined {
    if (this.live === 0) return undefined;
    for (const [k, v] of this.m) if (v !== undefined) return k;
    return undefined;
  }

  /** f of each live value, in an array (no iterator objects: called per lock wait). */
  mapValues<T>(f: (v: V) => T): T[] {
    const out: T[] = [];
    if (this.live) for (const v of this.m.values()) if (v !== undefined) out.push(f(v));
    return out;
  }

  *keys(): IterableIterator<K> { if (this.live) for (const [k, v] of this.m) if (v !== undefined) yield k; }
  *values(): IterableIterator<V> { if (this.live) for (const v of this.m.values()) if (v !== undefined) yield v; }
  *entries(): IterableIterator<[K, V]> { if (this.live) for (const [k, v] of this.m) if (v !== undefined) yield [k, v]; }
  [Symbol.iterator](): IterableIterator<[K, V]> { return this.entries(); }
}
