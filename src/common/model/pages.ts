// Page states per mapping over time, from page-table snapshots (raw /proc/PID/pagemap entries) and the faults
// sampled in between. A page is absent, present and private, present and shared with another process, copied (a
// fault hit a page that was shared: a copy-on-write break), or swapped.
import type { PageCounts, PageState, SharingMethod } from './types';

const PRESENT = 1n << 63n, SWAPPED = 1n << 62n, EXCLUSIVE = 1n << 56n, PFN_MASK = (1n << 55n) - 1n;
export const PAGE_SIZE = 4096n;

interface Snapshot {
  ts: bigint; seq: number; reason: number; index: number;
  entries: BigUint64Array; mapcount?: Uint8Array; hasPfn: boolean;
  states?: Uint8Array; method?: SharingMethod; version: number;
}
interface Fault { ts: bigint; page: number; major: boolean; index: number }

export class PageTrack {
  readonly snapshots: Snapshot[] = [];
  readonly faults: Fault[] = [];
  constructor(readonly pid: number, readonly start: bigint, readonly end: bigint) {}
  get pages(): number { return Number((this.end - this.start) / PAGE_SIZE); }
}

// `private` counts copied pages too (a copied page is private); `copied` says how many of them a fault turned private.
export interface PageTimelineChange { ts: bigint; page: number; state: PageState; index: number }

export class PageModel {
  private tracks = new Map<number, Map<bigint, PageTrack>>();
  /** Snapshots being assembled: pid → seq → start → snapshot (chunks arrive before snapshot_done). */
  private partial = new Map<string, Snapshot & { track: PageTrack }>();
  /** PFN → pids that had it present in their latest snapshot (for the PFN sharing method). */
  private pfnOwners = new Map<bigint, Set<number>>();
  private latestByTrack = new Map<PageTrack, Snapshot>();
  private version = 0;
  readonly faultCounts = new Map<number, { minor: number; major: number }>();

  trackList(pid?: number): PageTrack[] {
    if (pid !== undefined) return [...(this.tracks.get(pid)?.values() ?? [])];
    return [...this.tracks.values()].flatMap((m) => [...m.values()]);
  }

  chunk(pid: number, ts: bigint, index: number, a: readonly bigint[], blob: Uint8Array | undefined): void {
    const [mapStart, mapEnd, firstPage, pageCount, hasPfn, reason, seq, hasMapcount] = a;
    const n = Number(pageCount);
    if (!blob || blob.length < n * 8) return;
    const key = `${pid}/${seq}/${mapStart}`;
    let s = this.partial.get(key);
    if (!s) {
      const track = this.track(pid, mapStart, mapEnd);
      s = { track, ts, seq: Number(seq), reason: Number(reason), index, entries: new BigUint64Array(track.pages), hasPfn: hasPfn !== 0n, version: -1 };
      if (hasMapcount) s.mapcount = new Uint8Array(track.pages);
      this.partial.set(key, s);
    }
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const first = Number(firstPage);
    for (let i = 0; i < n && first + i < s.entries.length; i++) {
      s.entries[first + i] = dv.getBigUint64(i * 8, true);
      if (s.mapcount && blob.length >= n * 9) s.mapcount[first + i] = blob[n * 8 + i];
    }
  }

  done(pid: number, seq: bigint): void {
    const prefix = `${pid}/${seq}/`;
    for (const [key, s] of this.partial) {
      if (!key.startsWith(prefix)) continue;
      this.partial.delete(key);
      const { track } = s;
      track.snapshots.push(s);
      const old = this.latestByTrack.get(track);
      if (old && old.hasPfn) this.indexPfns(old, pid, false);
      if (s.hasPfn) this.indexPfns(s, pid, true);
      this.latestByTrack.set(track, s);
      this.version++;
    }
  }

  fault(pid: number, ts: bigint, index: number, addr: bigint, major: boolean): void {
    let c = this.faultCounts.get(pid);
    if (!c) this.faultCounts.set(pid, (c = { minor: 0, major: 0 }));
    if (major) c.major++; else c.minor++;
    const tr = this.find(pid, addr);
    if (tr) tr.faults.push({ ts, page: Number((addr - tr.start) / PAGE_SIZE), major, index });
  }

  /** A forked child starts with its parent's page tracks' shape (contents come from its own snapshots). */
  find(pid: number, addr: bigint): PageTrack | undefined {
    const m = this.tracks.get(pid);
    if (!m) return undefined;
    for (const t of m.values()) if (addr >= t.start && addr < t.end) return t;
    return undefined;
  }

  /** State of every page of a track at time `ts`: the latest snapshot at or before it, then the faults since. */
  statesAt(track: PageTrack, ts: bigint): { states: Uint8Array; method?: SharingMethod; snapshotNs?: bigint } {
    const snap = latestBefore(track.snapshots, ts);
    const states = new Uint8Array(track.pages);
    let from = 0;
    if (snap) { states.set(this.classify(track, snap)); from = firstAfter(track.faults, snap.ts); }
    for (let i = from; i < track.faults.length && track.faults[i].ts <= ts; i++) applyFault(states, track.faults[i].page);
    return { states, method: snap?.method, snapshotNs: snap?.ts };
  }

  /** The state of the page at `addr` just before `ts` (a fault at `ts` not applied yet), or undefined when no snapshot
   * of its mapping precedes `ts`. Cost: one snapshot classification (cached) and the track's faults since it. */
  stateBefore(pid: number, addr: bigint, ts: bigint): PageState | undefined {
    const track = this.find(pid, addr);
    const snap = track && latestBefore(track.snapshots, ts - 1n);
    if (!track || !snap) return undefined;
    const page = Number((addr - track.start) / PAGE_SIZE);
    const one = Uint8Array.of(this.classify(track, snap)[page]);
    for (let i = firstAfter(track.faults, snap.ts); i < track.faults.length && track.faults[i].ts < ts; i++)
      if (track.faults[i].page === page) applyFault(one, 0);
    return one[0] as PageState;
  }

  /** Counts of page states of one process at time `ts`, over all its tracked mappings. */
  countsAt(pid: number, ts: bigint): PageCounts & { method?: SharingMethod } {
    const c: PageCounts & { method?: SharingMethod } = { present: 0, private: 0, shared: 0, copied: 0, absent: 0, swapped: 0 };
    for (const t of this.trackList(pid)) {
      const { states, method } = this.statesAt(t, ts);
      if (method) c.method = method;
      for (const s of states) {
        if (s === 0) c.absent++;
        else if (s === 4) c.swapped++;
        else { c.present++; if (s === 2) c.shared++; else { c.private++; if (s === 3) c.copied++; } }
      }
    }
    return c;
  }

  /** Every change of page state of a track: each snapshot's differences and each fault, in time order. */
  timeline(track: PageTrack): PageTimelineChange[] {
    const out: PageTimelineChange[] = [];
    const cur = new Uint8Array(track.pages);
    let fi = 0;
    const faultsUpTo = (ts: bigint) => {
      for (; fi < track.faults.length && track.faults[fi].ts < ts; fi++) {
        const f = track.faults[fi];
        const before = cur[f.page];
        applyFault(cur, f.page);
        if (cur[f.page] !== before) out.push({ ts: f.ts, page: f.page, state: cur[f.page] as PageState, index: f.index });
      }
    };
    for (const s of track.snapshots) {
      faultsUpTo(s.ts);
      const st = this.classify(track, s);
      for (let p = 0; p < st.length; p++) if (st[p] !== cur[p]) { cur[p] = st[p]; out.push({ ts: s.ts, page: p, state: st[p] as PageState, index: s.index }); }
    }
    faultsUpTo(1n << 63n);
    return out;
  }

  private track(pid: number, start: bigint, end: bigint): PageTrack {
    let m = this.tracks.get(pid);
    if (!m) this.tracks.set(pid, (m = new Map()));
    let t = m.get(start);
    if (!t || t.end !== end) m.set(start, (t = new PageTrack(pid, start, end)));
    return t;
  }

  private indexPfns(s: Snapshot, pid: number, add: boolean): void {
    for (const e of s.entries) {
      if (!(e & PRESENT)) continue;
      const pfn = e & PFN_MASK;
      if (pfn === 0n) continue;
      let set = this.pfnOwners.get(pfn);
      if (add) { if (!set) this.pfnOwners.set(pfn, (set = new Set())); set.add(pid); }
      else if (set) { set.delete(pid); if (!set.size) this.pfnOwners.delete(pfn); }
    }
  }

  /** Classify a snapshot's raw entries (cached until another snapshot changes the PFN index). */
  private classify(track: PageTrack, s: Snapshot): Uint8Array {
    if (s.states && (s.method !== 'pfn' || s.version === this.version)) return s.states;
    const st = new Uint8Array(s.entries.length);
    let method: SharingMethod = 'exclusive-bit';
    for (let p = 0; p < st.length; p++) {
      const e = s.entries[p];
      if (!(e & PRESENT)) { st[p] = e & SWAPPED ? 4 : 0; continue; }
      const pfn = e & PFN_MASK;
      let shared: boolean;
      if (s.mapcount) { method = 'mapcount'; shared = s.mapcount[p] > 1; }
      else if (s.hasPfn && pfn !== 0n) {
        method = 'pfn';
        const owners = this.pfnOwners.get(pfn);
        shared = !!owners && [...owners].some((o) => o !== track.pid);
      } else shared = (e & EXCLUSIVE) === 0n;
      st[p] = shared ? 2 : 1;
    }
    s.states = st; s.method = method; s.version = this.version;
    return st;
  }
}

function applyFault(states: Uint8Array, page: number): void {
  if (page < 0 || page >= states.length) return;
  // A fault on a shared page is a copy-on-write break; on an absent page it maps a private one.
  if (states[page] === 2) states[page] = 3;
  else if (states[page] === 0 || states[page] === 4) states[page] = 1;
}
function latestBefore<T extends { ts: bigint }>(a: T[], ts: bigint): T | undefined {
  let lo = 0, hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid].ts <= ts) lo = mid + 1; else hi = mid; }
  return lo ? a[lo - 1] : undefined;
}
function firstAfter<T extends { ts: bigint }>(a: T[], ts: bigint): number {
  let lo = 0, hi = a.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (a[mid].ts <= ts) lo = mid + 1; else hi = mid; }
  return lo;
}
