// Page-table panel data: per process image its mappings, and per mapping a page grid over time, packed from the
// trace model's PageModel (which follows page_snapshot chunks, page_fault samples, fork and the mapping events as the
// model handles them). Packed as typed arrays so a 25,600-page grid crosses to the webview as a few ArrayBuffers, and
// replayed incrementally there (PageGridReplay) so scrubbing the time cursor costs only the changes crossed.
import type { TraceModel } from '../model/model';
import { CellState, CELL_STATE_NAMES, PAGE_SIZE, PageFlag } from '../model/pages';
import { hex, nsString, processImages } from './trace';

export { PAGE_SIZE, PageFlag, classifyPagemapEntry } from '../model/pages';
/** Page states, in drawing order (the model's grid cell states). Values are stored in Uint8Arrays. */
export const PageState = CellState;
export type { CellStateValue as PageStateValue } from '../model/pages';
export const PAGE_STATE_NAMES = CELL_STATE_NAMES;
export const PAGE_STATE_COUNT = PAGE_STATE_NAMES.length;

export interface MappingInfo {
  /** `${conn}:${start hex}`: unique within a trace. */
  readonly id: string;
  readonly conn: number;
  readonly pid: number;
  readonly start: string;
  readonly end: string;
  readonly pageCount: number;
  /** rwxp/rwxs as in /proc/PID/maps. */
  readonly perms: string;
  readonly shared: boolean;
  readonly fileBacked: boolean;
  /** Backing file, [heap], [stack], the shm object name, or '' for anonymous memory. */
  readonly path: string;
  readonly firstNs: string;
  /** Whether the grid for this mapping has any page data (snapshots or faults). */
  readonly hasPages: boolean;
}

export interface ProcessPages {
  readonly conn: number;
  readonly pid: number;
  readonly ppid: number;
  readonly exe: string;
  readonly origin: string;
  /** The image it was forked from / the images forked from it: the side-by-side partners. */
  readonly forkParent?: number;
  readonly forkChildren: readonly number[];
  readonly mappings: readonly MappingInfo[];
  readonly hasPfn: boolean;
  /** Why frame numbers or faults are missing, from the shim (shim_info) or our own explanation. */
  readonly notes: readonly string[];
}

/** One mapping's page grid over time. Times are absolute CLOCK_MONOTONIC ns in BigInt64Arrays. */
export interface PageGridPacked {
  readonly mappingId: string;
  readonly conn: number;
  readonly pid: number;
  readonly start: string;
  readonly pageCount: number;
  readonly hasPfn: boolean;
  /** State changes in time order: at changeTs[i] page changePage[i] became changeState[i]. */
  readonly changeTs: BigInt64Array;
  readonly changePage: Int32Array;
  readonly changeState: Uint8Array;
  /** Index into fault* of the fault that caused the change, -1 for a snapshot, fork or unmap. */
  readonly changeFault: Int32Array;
  readonly faultTs: BigInt64Array;
  readonly faultPage: Int32Array;
  readonly faultIp: BigUint64Array;
  readonly faultMajor: Uint8Array;
  /** Index into sites: where the faulting instruction is (module+offset, or function file:line when resolved). */
  readonly faultSite: Int32Array;
  readonly sites: readonly string[];
  /** Snapshots of this mapping: per snapshot pageCount flags (PageFlag), frame numbers when readable, map counts. */
  readonly snapTs: BigInt64Array;
  readonly snapFlags: Uint8Array;
  readonly snapPfn: BigUint64Array;
  readonly snapMapcount: Uint8Array;
}

/** Counters over time for one image: as `ps`/`free` would print them during the CoW experiment. */
export interface PageCountersPacked {
  readonly conn: number;
  readonly ts: BigInt64Array;
  readonly resident: Int32Array;
  readonly shared: Int32Array;
  readonly private: Int32Array;
  /** Proportional set size in pages at snapshots (NaN where map counts were not readable). */
  readonly pss: Float64Array;
  readonly minorFaults: Int32Array;
  readonly majorFaults: Int32Array;
}

export interface PagesData {
  readonly processes: readonly ProcessPages[];
  readonly grids: ReadonlyMap<string, PageGridPacked>;
  readonly counters: ReadonlyMap<number, PageCountersPacked>;
}


export interface PagesOptions {
  /** Resolves a code address of an image to "function file:line" (e.g. through addr2line); sync, may be absent. */
  resolve?: (conn: number, addr: bigint) => string | undefined;
}

/** The page tables as the model holds them now (the webview bundle imports this file: the model is a type here). */
export function buildPagesData(model: TraceModel, opts: PagesOptions = {}): PagesData {
  const g = packPages(model, opts);
  for (;;) { const r = g.next(); if (r.done) return r.value; }
}

/**
 * The same packing in slices of at most about `sliceMs` of work, giving the event loop back between them: a live
 * session's extension host keeps answering while a 25,600-page grid is packed.
 */
export async function buildPagesDataSliced(model: TraceModel, opts: PagesOptions = {}, sliceMs = 15): Promise<PagesData> {
  return runSliced(packPages(model, opts), sliceMs);
}

/** Runs a generator in slices of about `sliceMs` of work, giving the event loop back between them. */
export async function runSliced<T>(g: Generator<void, T, void>, sliceMs = 15): Promise<T> {
  for (;;) {
    const t0 = performance.now();
    try {
      for (;;) { const r = g.next(); if (r.done) return r.value; if (performance.now() - t0 > sliceMs) break; }
    } finally { const ms = performance.now() - t0; if (ms > pageReplayStats.maxSliceMs) { pageReplayStats.maxSliceMs = ms; pageReplayStats.maxSliceAt = pageReplayStats.at; } }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
/** The longest slice of page packing so far and the step it ended in (the bench reports it). */
export const pageReplayStats = { maxSliceMs: 0, maxSliceAt: '', at: '' };

/**
 * Packs what the model's PageModel holds now: per image its mappings (as listed, merged ones left out: their history
 * is in the mapping they were merged into) and fork partners, per followed mapping its grid, per image its counters.
 * Fault sites are labelled here (function file:line through `resolve`, else module+offset), once per image and ip.
 * Yields between grids so a caller can slice it.
 */
export function* packPages(model: TraceModel, opts: PagesOptions = {}): Generator<void, PagesData, void> {
  const pm = model.pages.mappings;
  const sites: string[] = [];
  const siteIndex = new Map<string, number>();
  const siteOf = (conn: number, ip: bigint): number => {
    const label = opts.resolve?.(conn, ip) ?? pm.moduleOffset(conn, ip);
    let i = siteIndex.get(label);
    if (i === undefined) { i = sites.length; sites.push(label); siteIndex.set(label, i); }
    return i;
  };
  const grids = new Map<string, PageGridPacked>();
  for (const [id, m] of pm.all) {
    const g = m.grid;
    if (!g) continue;
    yield;
    pageReplayStats.at = `packing ${g.pageCount} pages, ${g.changeTs.length} changes`;
    const n = g.snapTs.length;
    const flat8 = (rows: Uint8Array[]) => { const out = new Uint8Array(rows.reduce((s, r) => s + r.length, 0)); let o = 0; for (const r of rows) { out.set(r, o); o += r.length; } return out; };
    const pfn = new BigUint64Array(g.hasPfn ? n * g.pageCount : 0);
    if (g.hasPfn) g.snapPfn.forEach((r, i) => { if (r.length) pfn.set(r, i * g.pageCount); });
    const mcRows = g.snapMapcount.some((r) => r.length) ? g.snapMapcount.map((r) => (r.length ? r : new Uint8Array(g.pageCount))) : [];
    const faultIp = g.faultIp.packed();
    // Sites by ip: a grid's faults come from few instructions (a loop writing the buffer).
    const siteByIp = new Map<bigint, number>();
    const faultSite = Int32Array.from(faultIp, (ip) => siteByIp.get(ip) ?? siteByIp.set(ip, siteOf(m.conn, ip)).get(ip)!);
    grids.set(id, {
      mappingId: id, conn: m.conn, pid: m.pid, start: hex(m.start), pageCount: g.pageCount, hasPfn: g.hasPfn,
      ...inTimeOrder(g.changeTs.packed(), g.changePage.packed(), g.changeState.packed(), g.changeFault.packed()),
      faultTs: g.faultTs.packed(), faultPage: g.faultPage.packed(), faultIp, faultMajor: g.faultMajor.packed(), faultSite, sites,
      snapTs: BigInt64Array.from(g.snapTs), snapFlags: flat8(g.snapFlags), snapPfn: pfn, snapMapcount: flat8(mcRows),
    });
  }

  yield;
  pageReplayStats.at = 'process list';
  const byImage = pm.listed();
  const processes: ProcessPages[] = [];
  for (const p of processImages(model.source)) {
    yield; // an image can have hundreds of mappings (a Python run: 92 images, 4,779 mappings)
    const maps = (byImage.get(p.conn) ?? []).map((m): MappingInfo => ({
        id: `${m.conn}:${hex(m.start)}`, conn: m.conn, pid: m.pid, start: hex(m.start), end: hex(m.end),
        pageCount: Number((m.end - m.start) / PAGE_SIZE), perms: m.perms, shared: m.shared, fileBacked: m.fileBacked,
        path: m.path, firstNs: nsString(m.firstNs), hasPages: !!m.grid && m.grid.changeTs.length > 0,
      }));
    const notes = [...(pm.notes.get(p.conn) ?? [])];
    const pfn = pm.hasPfn.get(p.conn) ?? false;
    if (!pfn) notes.push('Frame numbers are hidden: /proc/PID/pagemap shows them only to root (CAP_SYS_ADMIN). The exclusively-mapped bit is shown instead.');
    if (!pm.snapshotted.has(p.conn)) notes.push('No page-table snapshot from this process: states come from fork and page faults only.');
    processes.push({ conn: p.conn, pid: p.pid, ppid: p.ppid, exe: p.exe, origin: p.origin, forkParent: pm.forkParent(p.conn),
      forkChildren: [...pm.forkChildren(p.conn)], mappings: maps, hasPfn: pfn, notes });
  }

  const counters = new Map<number, PageCountersPacked>();
  yield;
  pageReplayStats.at = 'counters';
  for (const [conn, c] of pm.counters) {
    yield;
    counters.set(conn, {
      conn, ts: c.ts.packed(), resident: c.residentAt.packed(), shared: c.sharedAt.packed(), private: c.privateAt.packed(),
      pss: c.pssAt.packed(), minorFaults: c.minorAt.packed(), majorFaults: c.majorAt.packed(),
    });
  }
  return { processes, grids, counters };
}

/**
 * A grid's changes in time order (stable), each kept with its page, state and fault. They are in order but where a
 * live model handled a late event out of order, or merged mappings' histories were joined; PageGridReplay scrubs
 * by walking them in order.
 */
function inTimeOrder(changeTs: BigInt64Array, changePage: Int32Array, changeState: Uint8Array, changeFault: Int32Array) {
  let sorted = true;
  for (let i = 1; i < changeTs.length && sorted; i++) sorted = changeTs[i - 1] <= changeTs[i];
  if (sorted) return { changeTs, changePage, changeState, changeFault };
  const order = Array.from(changeTs, (_, i) => i).sort((x, y) => (changeTs[x] < changeTs[y] ? -1 : changeTs[x] > changeTs[y] ? 1 : x - y));
  return {
    changeTs: BigInt64Array.from(order, (i) => changeTs[i]), changePage: Int32Array.from(order, (i) => changePage[i]),
    changeState: Uint8Array.from(order, (i) => changeState[i]), changeFault: Int32Array.from(order, (i) => changeFault[i]),
  };
}

/** What the grid shows for one page at the current cursor. */
export interface PageDetail {
  page: number;
  address: bigint;
  state: number;
  /** Frame number at the latest snapshot ≤ cursor (when frames are readable). */
  pfn?: bigint;
  /** Exclusively-mapped bit at the latest snapshot ≤ cursor (when frames are not readable). */
  exclusive?: boolean;
  mapcount?: number;
  faultTs?: bigint;
  faultIp?: bigint;
  faultSite?: string;
  major?: boolean;
}

/**
 * Incremental replay of one grid: seek(ts) applies or undoes only the changes between the old and new cursor, so
 * scrubbing a 25,600-page grid costs the changes crossed, not the grid. Used by the webview and by tests.
 */
export class PageGridReplay {
  readonly states: Uint8Array;
  /** Count of pages per state at the cursor. */
  readonly counts = new Int32Array(PAGE_STATE_COUNT);
  /** Pages changed by the last seek (for partial redraws). */
  readonly dirty: number[] = [];
  private applied = 0; // changes [0, applied) are in effect
  private readonly prevState: Uint8Array;
  private readonly prevFault: Int32Array;
  private readonly lastFault: Int32Array;
  private cursor = -(1n << 62n);

  constructor(readonly grid: PageGridPacked) {
    this.states = new Uint8Array(grid.pageCount);
    this.lastFault = new Int32Array(grid.pageCount).fill(-1);
    this.prevState = new Uint8Array(grid.changeTs.length);
    this.prevFault = new Int32Array(grid.changeTs.length);
    this.counts[PageState.NotPresent] = grid.pageCount;
  }

  get time(): bigint { return this.cursor; }

  /** Moves the cursor; returns the number of changes applied or undone. */
  seek(ts: bigint): number {
    const g = this.grid;
    this.dirty.length = 0;
    let n = 0;
    while (this.applied < g.changeTs.length && g.changeTs[this.applied] <= ts) {
      const i = this.applied++, p = g.changePage[i];
      this.prevState[i] = this.states[p]; this.prevFault[i] = this.lastFault[p];
      this.counts[this.states[p]]--; this.states[p] = g.changeState[i]; this.counts[this.states[p]]++;
      if (g.changeFault[i] >= 0) this.lastFault[p] = g.changeFault[i];
      this.dirty.push(p); n++;
    }
    while (this.applied > 0 && g.changeTs[this.applied - 1] > ts) {
      const i = --this.applied, p = g.changePage[i];
      this.counts[this.states[p]]--; this.states[p] = this.prevState[i]; this.counts[this.states[p]]++;
      this.lastFault[p] = this.prevFault[i];
      this.dirty.push(p); n++;
    }
    this.cursor = ts;
    return n;
  }

  detail(page: number): PageDetail {
    const g = this.grid;
    const d: PageDetail = { page, address: BigInt(g.start) + BigInt(page) * PAGE_SIZE, state: this.states[page] };
    // Latest snapshot at or before the cursor.
    let lo = 0, hi = g.snapTs.length - 1, row = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (g.snapTs[mid] <= this.cursor) { row = mid; lo = mid + 1; } else hi = mid - 1; }
    if (row >= 0) {
      const at = row * g.pageCount + page;
      if (g.snapPfn.length) { if (g.snapFlags[at] & PageFlag.Present) d.pfn = g.snapPfn[at]; }
      else d.exclusive = (g.snapFlags[at] & PageFlag.Exclusive) !== 0;
      if (g.snapMapcount.length) d.mapcount = g.snapMapcount[at];
    }
    const f = this.lastFault[page];
    if (f >= 0) { d.faultTs = g.faultTs[f]; d.faultIp = g.faultIp[f]; d.faultSite = g.sites[g.faultSite[f]]; d.major = g.faultMajor[f] !== 0; }
    return d;
  }
}

/** Counter values at a time (the latest point at or before ts). */
export function countersAt(c: PageCountersPacked, ts: bigint): { resident: number; shared: number; private: number; pss: number; minorFaults: number; majorFaults: number } | undefined {
  let lo = 0, hi = c.ts.length - 1, i = -1;
  while (lo <= hi) { const mid = (lo + hi) >> 1; if (c.ts[mid] <= ts) { i = mid; lo = mid + 1; } else hi = mid - 1; }
  if (i < 0) return undefined;
  let pss = NaN;
  for (let j = i; j >= 0; j--) if (!Number.isNaN(c.pss[j])) { pss = c.pss[j]; break; }
  return { resident: c.resident[i], shared: c.shared[i], private: c.private[i], pss, minorFaults: c.minorFaults[i], majorFaults: c.majorFaults[i] };
}

/**
 * The part of `g` that covers `pageCount` pages from virtual address `start` (which may begin before or after g's own
 * start), re-indexed from 0: so a fork partner's grid lines up page for page even when the kernel merged its
 * mapping with a neighbour. Pages outside g stay not present.
 */
export function windowGrid(g: PageGridPacked, start: bigint, pageCount: number, mappingId = g.mappingId): PageGridPacked {
  const offset = Number((start - BigInt(g.start)) / PAGE_SIZE); // g's page index of window page 0 (may be negative)
  if (offset === 0 && pageCount === g.pageCount) return g;
  const inWin = (p: number) => p - offset >= 0 && p - offset < pageCount;
  const ci: number[] = [];
  for (let i = 0; i < g.changeTs.length; i++) if (inWin(g.changePage[i])) ci.push(i);
  const fi: number[] = [], fmap = new Map<number, number>();
  for (let i = 0; i < g.faultTs.length; i++) if (inWin(g.faultPage[i])) { fmap.set(i, fi.length); fi.push(i); }
  const rows = g.snapTs.length;
  const sub = <T extends Uint8Array | BigUint64Array>(src: T, make: (n: number) => T): T => {
    if (!src.length) return make(0);
    const out = make(rows * pageCount);
    for (let r = 0; r < rows; r++) for (let p = 0; p < pageCount; p++) {
      const q = p + offset;
      if (q >= 0 && q < g.pageCount) out[r * pageCount + p] = src[r * g.pageCount + q];
    }
    return out;
  };
  return {
    ...g, mappingId, start: hex(start), pageCount,
    changeTs: BigInt64Array.from(ci, (i) => g.changeTs[i]), changePage: Int32Array.from(ci, (i) => g.changePage[i] - offset),
    changeState: Uint8Array.from(ci, (i) => g.changeState[i]), changeFault: Int32Array.from(ci, (i) => (g.changeFault[i] >= 0 ? fmap.get(g.changeFault[i]) ?? -1 : -1)),
    faultTs: BigInt64Array.from(fi, (i) => g.faultTs[i]), faultPage: Int32Array.from(fi, (i) => g.faultPage[i] - offset),
    faultIp: BigUint64Array.from(fi, (i) => g.faultIp[i]), faultMajor: Uint8Array.from(fi, (i) => g.faultMajor[i]), faultSite: Int32Array.from(fi, (i) => g.faultSite[i]),
    snapFlags: sub(g.snapFlags, (n) => new Uint8Array(n)), snapPfn: sub(g.snapPfn, (n) => new BigUint64Array(n)), snapMapcount: sub(g.snapMapcount, (n) => new Uint8Array(n)),
  };
}
