// The trace model's page tables, in two views fed by TraceModel.handle() in time order:
// - PageModel's tracks (per pid and snapshotted range): page states from page-table snapshots (raw /proc/PID/pagemap
//   entries) and the faults sampled in between. A page is absent, present and private, present and shared with another
//   process, copied (a fault hit a page that was shared: a copy-on-write break), or swapped. The debugger's
//   copy-on-write stop and the summary read these.
// - PageModel.mappings (PageMappings, per process image): the mapping list with permissions and backing, and per
//   mapping a grid of cell states over time that also tells file pages clean from written and follows fork without a
//   snapshot, with per-snapshot page flags, frames and map counts and RSS/PSS counters. The page-table panel packs these.
import type { PageCounts, PageState, SharingMethod } from './types';
import type { ConnectionInfo, EventSource, TraceEvent } from '../traceEvent';
import { argIndex, kindId } from '../vocabulary';

const PFN_MASK = (1n << 55n) - 1n;
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
  private pfnOwners = new Map<number, Set<number>>();
  private latestByTrack = new Map<PageTrack, Snapshot>();
  private version = 0;
  readonly faultCounts = new Map<number, { minor: number; major: number }>();
  /** Per image: its mappings and their page grids over time (the page-table panel reads these). */
  readonly mappings = new PageMappings();

  /** One event of a page-related kind (PAGE_EVENT_KINDS), in time order. */
  event(e: TraceEvent, source: EventSource): void {
    const a = e.args;
    if (e.kind === PAGE_KIND.pageFault) this.fault(e.pid, e.ts, e.index, a[0], a[2] !== 0n);
    else if (e.kind === PAGE_KIND.pageSnapshot) this.chunk(e.pid, e.ts, e.index, a, e.blob);
    else if (e.kind === PAGE_KIND.snapshotDone) this.done(e.pid, a[0]);
    this.mappings.event(e, source);
  }

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
    const w = words(s.entries);
    for (let p = 0; p < s.entries.length; p++) {
      const pfn = pfnOf(w, p);
      if (pfn === 0) continue;
      let set = this.pfnOwners.get(pfn);
      if (add) { if (!set) this.pfnOwners.set(pfn, (set = new Set())); set.add(pid); }
      else if (set) { set.delete(pid); if (!set.size) this.pfnOwners.delete(pfn); }
    }
  }

  /** Classify a snapshot's raw entries (cached until another snapshot changes the PFN index). */
  private classify(track: PageTrack, s: Snapshot): Uint8Array {
    if (s.states && (s.method !== 'pfn' || s.version === this.version)) return s.states;
    const st = new Uint8Array(s.entries.length);
    const w = words(s.entries);
    let method: SharingMethod = 'exclusive-bit';
    for (let p = 0; p < st.length; p++) {
      const hi = w[2 * p + 1];
      if (!(hi & HI_PRESENT)) { st[p] = hi & HI_SWAPPED ? 4 : 0; continue; }
      const pfn = pfnOf(w, p);
      let shared: boolean;
      if (s.mapcount) { method = 'mapcount'; shared = s.mapcount[p] > 1; }
      else if (s.hasPfn && pfn !== 0) {
        method = 'pfn';
        const owners = this.pfnOwners.get(pfn);
        shared = false;
        if (owners) for (const o of owners) if (o !== track.pid) { shared = true; break; }
      } else shared = (hi & HI_EXCLUSIVE) === 0;
      st[p] = shared ? 2 : 1;
    }
    s.states = st; s.method = method; s.version = this.version;
    return st;
  }
}

/** Index of the first mapping of a sorted, disjoint list that ends after `addr`. */
function firstEndingAfter(list: readonly PageMapping[], addr: bigint): number {
  let lo = 0, hi = list.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (list[mid].end <= addr) lo = mid + 1; else hi = mid; }
  return lo;
}
// Pagemap entries read as 32-bit halves (little-endian words): no BigInt per page where a whole snapshot is walked.
const HI_PRESENT = 0x80000000, HI_SWAPPED = 0x40000000, HI_EXCLUSIVE = 0x01000000;
const words = (entries: BigUint64Array): Uint32Array => new Uint32Array(entries.buffer, entries.byteOffset, entries.length * 2);
/** The frame number of a present entry (bits 0-54; exact as a number below 2^53 frames), 0 when not present. */
function pfnOf(w: Uint32Array, p: number): number {
  const hi = w[2 * p + 1];
  return hi & HI_PRESENT ? (hi & 0x7fffff) * 0x100000000 + w[2 * p] : 0;
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

// ---------------------------------------------------------------- mappings and page grids (the page-table panel)
//
// Per process image (connection): its mappings as /proc/PID/maps would list them (from the shim's mapping events,
// mmap/munmap/mprotect and System V shm), and per mapping a grid of page states over time, kept as it changes (from
// snapshots, faults and fork) with per-snapshot page flags for the hover read-out and RSS/PSS counters over time.
// Fed by TraceModel.handle() in time order, one event at a time, so a live model keeps it up to date as it goes.

/** A grid cell's state, in drawing order (stored in Uint8Arrays). Unlike PageState (the debugger's view of anonymous
 *  memory) file-backed pages are told apart, clean or written. */
export const CellState = { NotPresent: 0, Private: 1, Shared: 2, Copied: 3, FileClean: 4, FileDirty: 5 } as const;
export type CellStateValue = (typeof CellState)[keyof typeof CellState];
export const CELL_STATE_NAMES = ['notPresent', 'private', 'shared', 'copied', 'fileClean', 'fileDirty'] as const;

/** Per-page flags kept from a snapshot (for the hover read-out). */
export const PageFlag = { Present: 1, Exclusive: 2, FileOrSharedAnon: 4, Swapped: 8, SoftDirty: 16 } as const;

// mmap flags (asm-generic/mman-common.h)
const MAP_SHARED = 0x01n, MAP_ANONYMOUS = 0x20n;

/** The state a pagemap entry shows, given what backs the mapping. */
export function classifyPagemapEntry(entry: bigint, mapcount: number | undefined, m: { fileBacked: boolean; shared: boolean }): CellStateValue {
  return classifyFlags(pageFlags(entry), mapcount, m);
}
function classifyFlags(flags: number, mapcount: number | undefined, m: { fileBacked: boolean; shared: boolean }): CellStateValue {
  if (!(flags & PageFlag.Present)) return CellState.NotPresent;
  const filePage = (flags & PageFlag.FileOrSharedAnon) !== 0;
  // A present page without the file bit in a file mapping is an anonymous copy: the mapping was written (dirty).
  if (m.fileBacked) return filePage ? CellState.FileClean : CellState.FileDirty;
  if (filePage) return CellState.Shared; // shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, shm)
  if (mapcount !== undefined) return mapcount > 1 ? CellState.Shared : CellState.Private;
  return flags & PageFlag.Exclusive ? CellState.Private : CellState.Shared;
}

function pageFlags(entry: bigint): number {
  return flagsOfHigh(Number(entry >> 32n));
}
/** PageFlag bits from the high 32 bits of a pagemap entry: bits 63, 56, 61, 62, 55 (numbers, no BigInt per page). */
function flagsOfHigh(hi: number): number {
  return (hi & 0x80000000 ? PageFlag.Present : 0) | (hi & 0x01000000 ? PageFlag.Exclusive : 0)
    | (hi & 0x20000000 ? PageFlag.FileOrSharedAnon : 0) | (hi & 0x40000000 ? PageFlag.Swapped : 0)
    | (hi & 0x00800000 ? PageFlag.SoftDirty : 0);
}

const isResident = (s: number) => s !== CellState.NotPresent;
const isPrivate = (s: number) => s === CellState.Private || s === CellState.Copied || s === CellState.FileDirty;
const hex = (v: bigint): string => `0x${v.toString(16)}`;
const permString = (prot: bigint, shared: boolean): string =>
  `${prot & 1n ? 'r' : '-'}${prot & 2n ? 'w' : '-'}${prot & 4n ? 'x' : '-'}${shared ? 's' : 'p'}`;

type Typed = Int32Array | Uint8Array | Float64Array | BigInt64Array | BigUint64Array;
/** An append-only typed column: a grid's history costs bytes per change, not a JS value each (the model lives as long
 *  as the session), and packing it for the webview is one copy. */
export interface Column<A extends Typed> {
  readonly length: number;
  push(v: A[number]): void;
  at(i: number): A[number];
  set(i: number, v: A[number]): void;
  /** A copy of the values so far. */
  packed(): A;
}
// Empty until the first push: most mappings never fault, and a Python run has thousands of them.
// One class per array type, each with its own push: a shared one (even made per type by a factory, whose closures
// share their feedback) made the store in push() megamorphic, half the page model's time on a copy-on-write trace.
class I32Column implements Column<Int32Array> {
  private data = new Int32Array(0); length = 0;
  push(v: number): void { if (this.length === this.data.length) this.data = grown(this.data, new Int32Array(Math.max(16, this.length * 2))); this.data[this.length++] = v; }
  at(i: number): number { return this.data[i]; }
  set(i: number, v: number): void { this.data[i] = v; }
  packed(): Int32Array { return this.data.slice(0, this.length); }
}
class U8Column implements Column<Uint8Array> {
  private data = new Uint8Array(0); length = 0;
  push(v: number): void { if (this.length === this.data.length) this.data = grown(this.data, new Uint8Array(Math.max(16, this.length * 2))); this.data[this.length++] = v; }
  at(i: number): number { return this.data[i]; }
  set(i: number, v: number): void { this.data[i] = v; }
  packed(): Uint8Array { return this.data.slice(0, this.length); }
}
class F64Column implements Column<Float64Array> {
  private data = new Float64Array(0); length = 0;
  push(v: number): void { if (this.length === this.data.length) this.data = grown(this.data, new Float64Array(Math.max(16, this.length * 2))); this.data[this.length++] = v; }
  at(i: number): number { return this.data[i]; }
  set(i: number, v: number): void { this.data[i] = v; }
  packed(): Float64Array { return this.data.slice(0, this.length); }
}
class I64Column implements Column<BigInt64Array> {
  private data = new BigInt64Array(0); length = 0;
  push(v: bigint): void { if (this.length === this.data.length) this.data = grown(this.data, new BigInt64Array(Math.max(16, this.length * 2))); this.data[this.length++] = v; }
  at(i: number): bigint { return this.data[i]; }
  set(i: number, v: bigint): void { this.data[i] = v; }
  packed(): BigInt64Array { return this.data.slice(0, this.length); }
}
class U64Column implements Column<BigUint64Array> {
  private data = new BigUint64Array(0); length = 0;
  push(v: bigint): void { if (this.length === this.data.length) this.data = grown(this.data, new BigUint64Array(Math.max(16, this.length * 2))); this.data[this.length++] = v; }
  at(i: number): bigint { return this.data[i]; }
  set(i: number, v: bigint): void { this.data[i] = v; }
  packed(): BigUint64Array { return this.data.slice(0, this.length); }
}
function grown<A extends Typed>(from: A, to: A): A { (to as unknown as { set(a: A): void }).set(from); return to; }

/** One mapping's page grid over time. */
export class PageGrid {
  /** State changes in time order: at changeTs[i] page changePage[i] became changeState[i] (changeFault[i]: index into
   *  the fault columns of the fault that caused it, -1 for a snapshot, fork or unmap). */
  readonly changeTs = new I64Column(); readonly changePage = new I32Column();
  readonly changeState = new U8Column(); readonly changeFault = new I32Column();
  readonly faultTs = new I64Column(); readonly faultPage = new I32Column();
  readonly faultIp = new U64Column(); readonly faultMajor = new U8Column();
  /** Per snapshot: its time, and per page its flags (PageFlag), frame number (when readable) and map count (when
   *  readable; empty arrays otherwise). */
  readonly snapTs: bigint[] = [];
  readonly snapFlags: Uint8Array[] = [];
  readonly snapPfn: BigUint64Array[] = [];
  readonly snapMapcount: Uint8Array[] = [];
  hasPfn = false;
  lastSeq?: bigint;
  constructor(readonly pageCount: number) {}
  change(ts: bigint, page: number, state: number, fault: number): void {
    this.changeTs.push(ts); this.changePage.push(page); this.changeState.push(state); this.changeFault.push(fault);
  }
  /** Every page's state (CellState) at `ts`: the changes stamped at or before it, in list order. */
  statesAt(ts: bigint): Uint8Array {
    const out = new Uint8Array(this.pageCount);
    for (let i = 0; i < this.changeTs.length; i++) if (this.changeTs.at(i) <= ts) out[this.changePage.at(i)] = this.changeState.at(i);
    return out;
  }
}

/** A mapping of one process image as the panel lists it. */
export interface PageMapping {
  readonly conn: number;
  readonly pid: number;
  readonly start: bigint;
  readonly end: bigint;
  /** rwxp/rwxs as in /proc/PID/maps. */
  perms: string;
  shared: boolean;
  fileBacked: boolean;
  /** Backing file, [heap], [stack], /SYSV for System V shm, or '' for anonymous memory. */
  path: string;
  firstNs: bigint;
  /** Every page's state after the last event handled (empty when the mapping is too large to follow). */
  readonly cur: Uint8Array;
  /** Absent for a mapping larger than maxGridPages (reserved address space): listed, not followed. */
  grid?: PageGrid;
}

/** Counters of one image over time, as `ps`/`free` would print them. */
export class PageCounters {
  resident = 0; shared = 0; priv = 0; minor = 0; major = 0;
  /** Proportional set size in pages at the latest snapshot (NaN where map counts were not readable). */
  pss = NaN;
  readonly ts = new I64Column(); readonly residentAt = new I32Column(); readonly sharedAt = new I32Column();
  readonly privateAt = new I32Column(); readonly pssAt = new F64Column(); readonly minorAt = new I32Column(); readonly majorAt = new I32Column();
  /** Records the current values at `ts` (a second point at the same time overwrites the first). */
  private lastTs?: bigint;
  point(ts: bigint): void {
    const n = this.ts.length;
    if (n && this.lastTs === ts) {
      this.residentAt.set(n - 1, this.resident); this.sharedAt.set(n - 1, this.shared); this.privateAt.set(n - 1, this.priv);
      this.pssAt.set(n - 1, this.pss); this.minorAt.set(n - 1, this.minor); this.majorAt.set(n - 1, this.major);
      return;
    }
    this.lastTs = ts;
    this.ts.push(ts); this.residentAt.push(this.resident); this.sharedAt.push(this.shared); this.privateAt.push(this.priv);
    this.pssAt.push(this.pss); this.minorAt.push(this.minor); this.majorAt.push(this.major);
  }
}

/** The kinds PageModel.event() reads (TraceModel forwards these). */
export const PAGE_KIND = {
  mapping: kindId('mapping'), mmap: kindId('mmap'), munmap: kindId('munmap'), mprotect: kindId('mprotect'), fork: kindId('fork'),
  pageFault: kindId('page_fault'), pageSnapshot: kindId('page_snapshot'), snapshotDone: kindId('snapshot_done'), shimInfo: kindId('shim_info'),
  shmat: kindId('shmat'), shmdt: kindId('shmdt'),
};
const A = {
  mapStart: argIndex('mapping', 'start'), mapEnd: argIndex('mapping', 'end'), mapProt: argIndex('mapping', 'prot'),
  mapShared: argIndex('mapping', 'shared'), mapIno: argIndex('mapping', 'ino'),
  mmapLen: argIndex('mmap', 'length'), mmapProt: argIndex('mmap', 'prot'), mmapFlags: argIndex('mmap', 'flags'), mmapIno: argIndex('mmap', 'ino'),
  munmapAddr: argIndex('munmap', 'addr'), munmapLen: argIndex('munmap', 'length'),
  mprotectAddr: argIndex('mprotect', 'addr'), mprotectLen: argIndex('mprotect', 'length'), mprotectProt: argIndex('mprotect', 'prot'),
  pfAddr: argIndex('page_fault', 'addr'), pfIp: argIndex('page_fault', 'ip'), pfMajor: argIndex('page_fault', 'major'),
  psStart: argIndex('page_snapshot', 'mapStart'), psEnd: argIndex('page_snapshot', 'mapEnd'), psFirst: argIndex('page_snapshot', 'firstPage'),
  psCount: argIndex('page_snapshot', 'pageCount'), psHasPfn: argIndex('page_snapshot', 'hasPfn'), psSeq: argIndex('page_snapshot', 'seq'),
  psHasMapcount: argIndex('page_snapshot', 'hasMapcount'),
  shmatSize: argIndex('shmat', 'size'), shmdtAddr: argIndex('shmdt', 'addr'),
  infoPfn: argIndex('shim_info', 'pfnReadable'),
};
const textDecoder = new TextDecoder();
/** Mappings larger than this many pages are listed but not followed (reserved address space). */
const MAX_GRID_PAGES = 1 << 20;
const blobText = (e: TraceEvent): string => (e.blob ? textDecoder.decode(e.blob) : '');

/**
 * The mappings and page grids of every image. Connections (images) come from the event source: a forked child
 * image belongs to the latest image of its parent pid started before it, and the two are side-by-side partners.
 */
export class PageMappings {
  /** Current mappings per image, sorted by start. */
  private live = new Map<number, PageMapping[]>();
  /** Every mapping by id (`${conn}:${start hex}`), unmapped ones too: their history stays on the timeline. */
  readonly all = new Map<string, PageMapping>();
  /** Mappings whose history continues in a larger one the kernel merged them into. */
  readonly merged = new Set<string>();
  readonly counters = new Map<number, PageCounters>();
  /** Why frame numbers, faults or snapshots are missing, per image (the shim's shim_info notes and our own). */
  readonly notes = new Map<number, string[]>();
  readonly hasPfn = new Map<number, boolean>();
  /** Images that sent at least one page_snapshot. */
  readonly snapshotted = new Set<number>();
  /** Code mappings per image, kept after unmapping, for module+offset labels of fault sites. */
  readonly code = new Map<number, { start: bigint; end: bigint; path: string }[]>();
  private source?: EventSource;
  private knownConns = -1;
  private pidOf = new Map<number, number>();
  private parentOf = new Map<number, number>();
  private childrenOf = new Map<number, number[]>();
  /** Forks whose child image had not connected yet when the fork was handled (a live model can get there first):
   *  what the child inherits, kept until its connection is known. */
  private pendingForks: { parentConn: number; childPid: number; ts: bigint; maps: { m: PageMapping; states: Uint8Array }[] }[] = [];
  private adoptedAt = -1;

  /** The mappings to list per image, by start: current and unmapped ones (their history stays on the timeline), not
   *  those merged into a larger one (their history continues there). */
  listed(): Map<number, PageMapping[]> {
    const out = new Map<number, PageMapping[]>();
    for (const [id, m] of this.all) if (!this.merged.has(id)) (out.get(m.conn) ?? out.set(m.conn, []).get(m.conn)!).push(m);
    for (const list of out.values()) list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return out;
  }
  forkParent(conn: number): number | undefined { this.refreshImages(); return this.parentOf.get(conn); }
  forkChildren(conn: number): readonly number[] { this.refreshImages(); return this.childrenOf.get(conn) ?? []; }
  /** The image's current mapping holding `addr`. */
  mappingAt(conn: number, addr: bigint): PageMapping | undefined {
    const list = this.live.get(conn);
    if (!list) return undefined;
    let lo = 0, hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, m = list[mid];
      if (addr < m.start) hi = mid - 1; else if (addr >= m.end) lo = mid + 1; else return m;
    }
    return undefined;
  }
  /** "libfoo.so+0x1234" for a code address of an image (the binary's name and the offset into its mapping). */
  moduleOffset(conn: number, ip: bigint): string {
    for (const m of this.code.get(conn) ?? []) if (ip >= m.start && ip < m.end) return `${m.path.split('/').pop() || '?'}+${hex(ip - m.start)}`;
    return hex(ip);
  }

  event(e: TraceEvent, source: EventSource): void {
    this.source = source;
    // A child's events come with its connection: forks waiting for it are settled before its first event.
    if (this.pendingForks.length && source.connections().length !== this.adoptedAt) this.adoptForks();
    const conn = e.conn;
    switch (e.kind) {
      case PAGE_KIND.shimInfo: {
        const text = blobText(e).trim();
        if (text) this.note(conn, text);
        this.hasPfn.set(conn, (this.hasPfn.get(conn) ?? false) || e.args[A.infoPfn] !== 0n);
        return;
      }
      case PAGE_KIND.mapping: {
        const start = e.args[A.mapStart], end = e.args[A.mapEnd], shared = e.args[A.mapShared] !== 0n;
        const path = blobText(e);
        const fileBacked = e.args[A.mapIno] !== 0n && !path.startsWith('[') && !path.startsWith('/dev/zero') && !path.startsWith('/SYSV');
        this.add(conn, e.pid, start, end, permString(e.args[A.mapProt], shared), shared, fileBacked && !path.startsWith('/dev/shm/'), path, e.ts);
        return;
      }
      case PAGE_KIND.mmap: {
        if (e.err || e.result === -1n) return;
        const start = BigInt.asUintN(64, e.result), len = (e.args[A.mmapLen] + PAGE_SIZE - 1n) / PAGE_SIZE * PAGE_SIZE;
        const flags = e.args[A.mmapFlags], shared = (flags & MAP_SHARED) !== 0n, anon = (flags & MAP_ANONYMOUS) !== 0n;
        this.add(conn, e.pid, start, start + len, permString(e.args[A.mmapProt], shared), shared, !anon && e.args[A.mmapIno] !== 0n, '', e.ts, true);
        return;
      }
      case PAGE_KIND.shmat: {
        if (e.err) return;
        const start = BigInt.asUintN(64, e.result), len = (e.args[A.shmatSize] + PAGE_SIZE - 1n) / PAGE_SIZE * PAGE_SIZE;
        if (len > 0n) this.add(conn, e.pid, start, start + len, 'rw-s', true, false, '/SYSV', e.ts, true);
        return;
      }
      case PAGE_KIND.munmap: case PAGE_KIND.shmdt: {
        if (e.err) return;
        const addr = e.kind === PAGE_KIND.munmap ? e.args[A.munmapAddr] : e.args[A.shmdtAddr];
        const m = this.mappingAt(conn, addr);
        if (!m) return;
        const len = e.kind === PAGE_KIND.munmap ? e.args[A.munmapLen] : m.end - m.start;
        if (e.kind === PAGE_KIND.shmdt || (m.start === addr && addr + len >= m.end)) this.remove(m, e.ts);
        else if (m.grid) {
          // Part of it: those pages are gone; the rest stays mapped (the next mapping list shows the pieces).
          const from = Number((addr - m.start) / PAGE_SIZE), to = Math.min(m.cur.length, Number((addr + len - m.start + PAGE_SIZE - 1n) / PAGE_SIZE));
          for (let p = from; p < to; p++) this.setState(m, p, CellState.NotPresent, e.ts, -1);
          this.counter(conn).point(e.ts);
        }
        return;
      }
      case PAGE_KIND.mprotect: {
        // A whole mapping changes its permissions; part of one splits it, which the next mapping list shows.
        if (e.err) return;
        const addr = e.args[A.mprotectAddr], m = this.mappingAt(conn, addr);
        if (m && m.start === addr && addr + e.args[A.mprotectLen] >= m.end) m.perms = permString(e.args[A.mprotectProt], m.shared);
        return;
      }
      case PAGE_KIND.fork: return this.fork(conn, e);
      case PAGE_KIND.pageFault: return this.fault(conn, e);
      case PAGE_KIND.pageSnapshot: return this.snapshot(conn, e);
      case PAGE_KIND.snapshotDone: {
        // PSS needs map counts: the sum of 1/mapcount over the present pages of the image's latest snapshot rows.
        let pss = 0, known = false;
        for (const m of this.live.get(conn) ?? []) {
          const g = m.grid;
          if (!g || !g.snapTs.length) continue;
          const mc = g.snapMapcount[g.snapTs.length - 1], fl = g.snapFlags[g.snapTs.length - 1];
          if (!mc.length) continue;
          known = true;
          for (let p = 0; p < mc.length; p++) if (fl[p] & PageFlag.Present) pss += 1 / Math.max(1, mc[p]);
        }
        const c = this.counter(conn);
        c.pss = known ? pss : NaN;
        c.point(e.ts);
        return;
      }
    }
  }

  counter(conn: number): PageCounters {
    let c = this.counters.get(conn);
    if (!c) this.counters.set(conn, (c = new PageCounters()));
    return c;
  }

  private note(conn: number, text: string): void {
    (this.notes.get(conn) ?? this.notes.set(conn, []).get(conn)!).push(text);
  }

  private refreshImages(): void {
    const conns = this.source?.connections() ?? [];
    if (conns.length === this.knownConns) return;
    this.knownConns = conns.length;
    this.parentOf.clear(); this.childrenOf.clear(); this.pidOf.clear();
    for (const c of conns) this.pidOf.set(c.conn, c.pid);
    for (const c of conns) {
      if (c.origin !== 'fork' && c.origin !== 'vfork' && c.origin !== 'clone') continue;
      let best: ConnectionInfo | undefined;
      for (const p of conns) if (p.pid === c.ppid && p.startNs <= c.startNs && (!best || p.startNs > best.startNs)) best = p;
      if (best) { this.parentOf.set(c.conn, best.conn); (this.childrenOf.get(best.conn) ?? this.childrenOf.set(best.conn, []).get(best.conn)!).push(c.conn); }
    }
  }

  private setState(m: PageMapping, page: number, state: number, ts: bigint, fault: number): void {
    const old = m.cur[page];
    if (old === state) return;
    m.cur[page] = state;
    const c = this.counter(m.conn);
    c.resident += (isResident(state) ? 1 : 0) - (isResident(old) ? 1 : 0);
    c.shared += (state === CellState.Shared ? 1 : 0) - (old === CellState.Shared ? 1 : 0);
    c.priv += (isPrivate(state) ? 1 : 0) - (isPrivate(old) ? 1 : 0);
    m.grid!.change(ts, page, state, fault);
  }

  /** After a copy-on-write break, the one other image that shared the page now maps the original alone. The partner's
   *  page is the one at the same address: the kernel merges a VMA with whatever neighbour each process has, so the
   *  two sides' mappings around it often differ in start and length (the parent's 4 MiB buffer merged with a 257-page
   *  neighbour the child does not have left the parent's pages shared for ever). */
  private partnerKeepsPage(conn: number, m: PageMapping, page: number, ts: bigint): void {
    this.refreshImages();
    const addr = m.start + BigInt(page) * PAGE_SIZE;
    let only: PageMapping | undefined, onlyPage = 0, n = 0;
    const consider = (r: number) => {
      const o = this.mappingAt(r, addr);
      if (!o?.grid || o.shared || o.fileBacked) return;
      const p = Number((addr - o.start) / PAGE_SIZE);
      if (o.cur[p] === CellState.Shared) { only = o; onlyPage = p; n++; }
    };
    const parent = this.parentOf.get(conn);
    if (parent !== undefined) consider(parent);
    for (const c of this.childrenOf.get(conn) ?? []) consider(c);
    if (n === 1) { this.setState(only!, onlyPage, CellState.Private, ts, -1); this.counter(only!.conn).point(ts); }
  }

  /** `fresh`: new memory (mmap, shmat), whose pages start not present, rather than a line of the mapping list. */
  private add(conn: number, pid: number, start: bigint, end: bigint, perms: string, shared: boolean, fileBacked: boolean, path: string, ts: bigint, fresh = false): PageMapping {
    const list = this.live.get(conn) ?? this.live.set(conn, []).get(conn)!;
    const outer = this.mappingAt(conn, start);
    if (outer && outer.start === start && outer.end === end) {
      // Same range seen again (e.g. the mapping list sent before each snapshot): refresh what backs it.
      outer.perms = perms; outer.shared = shared; outer.fileBacked = fileBacked; outer.path = path || outer.path;
      return outer;
    }
    // Part of an anonymous mapping we follow as one (the kernel merged neighbours, then split them again, or reuses a
    // freed piece): the pages go on in that mapping's grid, where replacing it would drop the history of all of it.
    if (outer && end <= outer.end && outer.grid && !outer.fileBacked && !fileBacked && outer.shared === shared && outer.perms === perms) {
      if (fresh) for (let p = Number((start - outer.start) / PAGE_SIZE); p < Number((end - outer.start) / PAGE_SIZE); p++) this.setState(outer, p, CellState.NotPresent, ts, -1);
      return outer;
    }
    // The kernel merges an anonymous mapping with a compatible neighbour (one line in /proc/PID/maps): a range that
    // contains known mappings of the same kind continues their history. Anything else overlapped was replaced
    // (mmap MAP_FIXED, mremap, munmap + mmap).
    const merged: PageMapping[] = [];
    const overlapped: PageMapping[] = [];
    for (let i = firstEndingAfter(list, start); i < list.length && list[i].start < end; i++) overlapped.push(list[i]);
    for (const m of overlapped) {
      if (m.start >= start && m.end <= end && !m.fileBacked && !fileBacked && m.shared === shared && m.grid) {
        list.splice(list.indexOf(m), 1); merged.push(m); this.merged.add(`${conn}:${hex(m.start)}`);
      } else this.remove(m, ts);
    }
    const pages = Number((end - start) / PAGE_SIZE);
    const id = `${conn}:${hex(start)}`;
    const prior = this.all.get(id);
    const follow = pages <= MAX_GRID_PAGES;
    const m: PageMapping = { conn, pid, start, end, perms, shared, fileBacked, path, firstNs: prior?.firstNs ?? ts, cur: new Uint8Array(follow ? pages : 0) };
    // A range reused at the same address continues the old grid (its changes stay in one time-ordered list).
    if (follow) m.grid = prior?.grid && prior.grid.pageCount === pages ? prior.grid : new PageGrid(pages);
    if (m.grid && merged.length) {
      const g = m.grid;
      const rows: { ts: bigint; page: number; state: number; fault: number }[] = [];
      for (const o of merged) {
        const og = o.grid!, off = Number((o.start - start) / PAGE_SIZE), base = g.faultTs.length;
        for (let i = 0; i < og.faultTs.length; i++) {
          g.faultTs.push(og.faultTs.at(i)); g.faultPage.push(og.faultPage.at(i) + off); g.faultIp.push(og.faultIp.at(i)); g.faultMajor.push(og.faultMajor.at(i));
        }
        for (let i = 0; i < og.changeTs.length; i++) {
          const f = og.changeFault.at(i);
          rows.push({ ts: og.changeTs.at(i), page: og.changePage.at(i) + off, state: og.changeState.at(i), fault: f >= 0 ? f + base : -1 });
        }
        m.cur.set(o.cur.subarray(0, Math.min(o.cur.length, m.cur.length - off)), off);
        if (o.firstNs < m.firstNs) m.firstNs = o.firstNs;
      }
      rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      for (const r of rows) g.change(r.ts, r.page, r.state, r.fault);
    }
    this.all.set(id, m);
    this.merged.delete(id);
    list.splice(firstEndingAfter(list, start), 0, m);
    if (/\.so(\.|$)|\/[^/[]+$/.test(path) && perms.includes('x')) (this.code.get(conn) ?? this.code.set(conn, []).get(conn)!).push({ start, end, path });
    return m;
  }

  private remove(m: PageMapping, ts: bigint): void {
    const list = this.live.get(m.conn)!;
    const i = list.indexOf(m);
    if (i >= 0) list.splice(i, 1);
    if (!m.grid) return;
    const before = this.counter(m.conn).resident;
    for (let p = 0; p < m.cur.length; p++) this.setState(m, p, CellState.NotPresent, ts, -1);
    if (this.counter(m.conn).resident !== before) this.counter(m.conn).point(ts); // RSS drops at the unmap
  }

  /**
   * Without snapshots the kernel's behaviour is known anyway: every present private anonymous page becomes shared and
   * write-protected in both parent and child; the child starts with the parent's mappings.
   */
  private fork(conn: number, e: TraceEvent): void {
    if (e.result <= 0n) return;
    const childPid = Number(e.result);
    const childConn = this.forkChildren(conn).find((c) => this.pidOf.get(c) === childPid);
    const pending = childConn === undefined ? { parentConn: conn, childPid, ts: e.ts, maps: [] as { m: PageMapping; states: Uint8Array }[] } : undefined;
    for (const m of [...(this.live.get(conn) ?? [])]) {
      if (!m.grid) continue;
      for (let p = 0; p < m.cur.length; p++) {
        const s = m.cur[p];
        if (s === CellState.Private || s === CellState.Copied) this.setState(m, p, CellState.Shared, e.ts, -1);
      }
      if (childConn !== undefined) this.inherit(childConn, childPid, m, m.cur, e.ts);
      else pending!.maps.push({ m, states: m.cur.slice() });
    }
    this.counter(conn).point(e.ts);
    if (childConn !== undefined) this.counter(childConn).point(e.ts);
    else this.pendingForks.push(pending!);
  }

  /** The child's copy of a parent mapping at fork: its pages as the parent's were then, where it has none of its own. */
  private inherit(childConn: number, childPid: number, m: PageMapping, states: Uint8Array, ts: bigint): void {
    const cm = this.mappingAt(childConn, m.start) ?? this.add(childConn, childPid, m.start, m.end, m.perms, m.shared, m.fileBacked, m.path, ts);
    if (!cm.grid || cm.cur.length !== states.length) return;
    for (let p = 0; p < states.length; p++) if (cm.cur[p] === CellState.NotPresent && states[p] !== CellState.NotPresent) this.setState(cm, p, states[p], ts, -1);
  }

  private adoptForks(): void {
    this.adoptedAt = this.source!.connections().length;
    this.refreshImages();
    this.pendingForks = this.pendingForks.filter((f) => {
      const childConn = this.forkChildren(f.parentConn).find((c) => this.pidOf.get(c) === f.childPid);
      if (childConn === undefined) return true;
      for (const { m, states } of f.maps) this.inherit(childConn, f.childPid, m, states, f.ts);
      this.counter(childConn).point(f.ts);
      return false;
    });
  }

  private fault(conn: number, e: TraceEvent): void {
    const major = e.args[A.pfMajor] !== 0n;
    const c = this.counter(conn);
    if (major) c.major++; else c.minor++;
    const addr = e.args[A.pfAddr];
    const m = this.mappingAt(conn, addr);
    if (m?.grid) {
      const page = Math.floor(Number(addr - m.start) / 4096); // one BigInt operation per fault, not two
      const g = m.grid;
      const fault = g.faultTs.length;
      g.faultTs.push(e.ts); g.faultPage.push(page); g.faultIp.push(e.args[A.pfIp]); g.faultMajor.push(major ? 1 : 0);
      const before = m.cur[page];
      let after: number = before;
      if (before === CellState.NotPresent) after = m.fileBacked ? CellState.FileClean : m.shared ? CellState.Shared : CellState.Private;
      else if (before === CellState.Shared && !m.shared) after = CellState.Copied; // a write to a write-protected page: CoW
      else if (before === CellState.FileClean && m.fileBacked && !m.shared && m.perms[1] === 'w') after = CellState.FileDirty;
      // A fault that changes nothing is still a change row: the hover read-out names the latest fault on the page.
      if (after !== before) this.setState(m, page, after, e.ts, fault);
      else g.change(e.ts, page, after, fault);
      if (before === CellState.Shared && after === CellState.Copied) this.partnerKeepsPage(conn, m, page, e.ts);
    }
    c.point(e.ts);
  }

  private snapshot(conn: number, e: TraceEvent): void {
    const start = e.args[A.psStart], end = e.args[A.psEnd];
    let m = this.mappingAt(conn, start);
    if (!m || m.start !== start) m = this.add(conn, e.pid, start, end, 'rw-p', false, false, '', e.ts);
    if (!m.grid) return;
    const g = m.grid;
    // The snapshot's range may be part of a mapping followed as one (see add): its pages from `base` on.
    const base = Number((start - m.start) / PAGE_SIZE);
    const first = base + Number(e.args[A.psFirst]), count = Number(e.args[A.psCount]);
    const withPfn = e.args[A.psHasPfn] !== 0n, withCount = e.args[A.psHasMapcount] !== 0n;
    const blob = e.blob ?? new Uint8Array(0);
    if (blob.length < count * 8 + (withCount ? count : 0) || first + count > g.pageCount) {
      this.note(conn, `page_snapshot at ${hex(start)} is malformed (blob ${blob.length} bytes for ${count} pages); skipped`);
      return;
    }
    if (withPfn) { g.hasPfn = true; this.hasPfn.set(conn, true); }
    // Chunks of one snapshot (same seq) share one row of the per-snapshot arrays; a new seq starts a row.
    const seq = e.args[A.psSeq];
    let row = g.snapTs.length - 1;
    if (row < 0 || g.lastSeq !== seq) {
      g.snapTs.push(e.ts); g.snapFlags.push(new Uint8Array(g.pageCount)); g.snapPfn.push(new BigUint64Array(withPfn ? g.pageCount : 0));
      g.snapMapcount.push(new Uint8Array(withCount ? g.pageCount : 0));
      g.lastSeq = seq;
      row = g.snapTs.length - 1;
    }
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const flags = g.snapFlags[row], pfn = g.snapPfn[row], mc = g.snapMapcount[row];
    const forked = this.forkParent(conn) !== undefined;
    for (let i = 0; i < count; i++) {
      const page = first + i;
      const mapcount = withCount ? blob[count * 8 + i] : undefined;
      const fl = flagsOfHigh(dv.getUint32(i * 8 + 4, true));
      flags[page] = fl;
      if (pfn.length && fl & PageFlag.Present) pfn[page] = dv.getBigUint64(i * 8, true) & PFN_MASK;
      if (mc.length && mapcount !== undefined) mc[page] = mapcount;
      let st: number = classifyFlags(fl, mapcount, m);
      if (st === CellState.Private && !m.shared && !m.fileBacked) {
        const before = m.cur[page];
        if (before === CellState.Copied) st = CellState.Copied; // a copy stays a copy
        else if (before === CellState.Shared) {
          // Shared at the last look, private now: a copy-on-write break happened in between (faults unseen). The side
          // that got a new frame made the copy; without frames, the forked child is the one that copies.
          const prev = row > 0 && g.snapPfn[row - 1].length ? g.snapPfn[row - 1][page] : undefined;
          const copied = prev !== undefined && pfn.length ? prev !== pfn[page] : forked;
          if (copied) { st = CellState.Copied; this.setState(m, page, st, e.ts, -1); this.partnerKeepsPage(conn, m, page, e.ts); }
        }
      }
      this.setState(m, page, st, e.ts, -1);
    }
    this.snapshotted.add(conn);
    this.counter(conn).point(e.ts);
  }
}
