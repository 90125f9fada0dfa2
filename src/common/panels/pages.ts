// Page-table panel data: per process image its mappings, and per mapping a page grid replayed over time from
// page_snapshot chunks (/proc/PID/pagemap), page_fault samples (perf) and fork. Packed as typed arrays so a
// 25,600-page grid crosses to the webview as a few ArrayBuffers, and replayed incrementally (PageGridReplay) so
// scrubbing the time cursor costs only the changes between the old and the new cursor.
import type { EventSource, TraceEvent } from '../traceEvent';
import { argIndex, kindId } from '../vocabulary';
import { hex, nsString, processImages, type ProcessImage, blobText } from './trace';

export const PAGE_SIZE = 4096n;
/** Page states, in drawing order. Values are stored in Uint8Arrays. */
export const PageState = { NotPresent: 0, Private: 1, Shared: 2, Copied: 3, FileClean: 4, FileDirty: 5 } as const;
export type PageStateValue = (typeof PageState)[keyof typeof PageState];
export const PAGE_STATE_NAMES = ['notPresent', 'private', 'shared', 'copied', 'fileClean', 'fileDirty'] as const;
export const PAGE_STATE_COUNT = PAGE_STATE_NAMES.length;

/** Per-page flags kept from a snapshot (for the hover read-out). */
export const PageFlag = { Present: 1, Exclusive: 2, FileOrSharedAnon: 4, Swapped: 8, SoftDirty: 16 } as const;

// /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
const PM_PRESENT = 1n << 63n, PM_SWAPPED = 1n << 62n, PM_FILE = 1n << 61n, PM_EXCLUSIVE = 1n << 56n, PM_SOFT_DIRTY = 1n << 55n;
const PM_PFN_MASK = (1n << 55n) - 1n;
// mmap flags (asm-generic/mman-common.h)
const MAP_SHARED = 0x01n, MAP_ANONYMOUS = 0x20n;

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
  /** Grids larger than this many pages are listed but not replayed (e.g. reserved address space). */
  maxGridPages?: number;
}

interface LiveMapping {
  info: { conn: number; pid: number; start: bigint; end: bigint; perms: string; shared: boolean; fileBacked: boolean; path: string; firstNs: bigint };
  cur: Uint8Array;
  grid?: GridBuilder;
}

class GridBuilder {
  changeTs: bigint[] = []; changePage: number[] = []; changeState: number[] = []; changeFault: number[] = [];
  faultTs: bigint[] = []; faultPage: number[] = []; faultIp: bigint[] = []; faultMajor: number[] = []; faultSite: number[] = [];
  snapTs: bigint[] = []; snapFlags: Uint8Array[] = []; snapPfn: BigUint64Array[] = []; snapMapcount: Uint8Array[] = [];
  hasPfn = false;
  lastSeq?: bigint;
  constructor(readonly pageCount: number) {}
}

const k = {
  mapping: kindId('mapping'), mmap: kindId('mmap'), munmap: kindId('munmap'), fork: kindId('fork'),
  pageFault: kindId('page_fault'), pageSnapshot: kindId('page_snapshot'), snapshotDone: kindId('snapshot_done'), shimInfo: kindId('shim_info'),
  shmat: kindId('shmat'), shmdt: kindId('shmdt'),
};
const A = {
  mapStart: argIndex('mapping', 'start'), mapEnd: argIndex('mapping', 'end'), mapProt: argIndex('mapping', 'prot'),
  mapShared: argIndex('mapping', 'shared'), mapIno: argIndex('mapping', 'ino'),
  mmapLen: argIndex('mmap', 'length'), mmapProt: argIndex('mmap', 'prot'), mmapFlags: argIndex('mmap', 'flags'), mmapIno: argIndex('mmap', 'ino'),
  munmapAddr: argIndex('munmap', 'addr'), munmapLen: argIndex('munmap', 'length'),
  pfAddr: argIndex('page_fault', 'addr'), pfIp: argIndex('page_fault', 'ip'), pfMajor: argIndex('page_fault', 'major'),
  psStart: argIndex('page_snapshot', 'mapStart'), psEnd: argIndex('page_snapshot', 'mapEnd'), psFirst: argIndex('page_snapshot', 'firstPage'),
  psCount: argIndex('page_snapshot', 'pageCount'), psHasPfn: argIndex('page_snapshot', 'hasPfn'), psSeq: argIndex('page_snapshot', 'seq'),
  psHasMapcount: argIndex('page_snapshot', 'hasMapcount'),
  shmatSize: argIndex('shmat', 'size'), shmdtAddr: argIndex('shmdt', 'addr'),
  infoPfn: argIndex('shim_info', 'pfnReadable'), infoFaults: argIndex('shim_info', 'pageFaults'),
};

function permString(prot: bigint, shared: boolean): string {
  return `${prot & 1n ? 'r' : '-'}${prot & 2n ? 'w' : '-'}${prot & 4n ? 'x' : '-'}${shared ? 's' : 'p'}`;
}

/** The state a pagemap entry shows, given what backs the mapping. */
export function classifyPagemapEntry(entry: bigint, mapcount: number | undefined, m: { fileBacked: boolean; shared: boolean }): PageStateValue {
  if (!(entry & PM_PRESENT)) return PageState.NotPresent;
  const filePage = (entry & PM_FILE) !== 0n;
  if (m.fileBacked) {
    // A present page without the file bit in a file mapping is an anonymous copy: the mapping was written (dirty).
    return filePage ? PageState.FileClean : PageState.FileDirty;
  }
  if (filePage) return PageState.Shared; // shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS, shm)
  if (mapcount !== undefined) return mapcount > 1 ? PageState.Shared : PageState.Private;
  return entry & PM_EXCLUSIVE ? PageState.Private : PageState.Shared;
}

function pageFlags(entry: bigint): number {
  return (entry & PM_PRESENT ? PageFlag.Present : 0) | (entry & PM_EXCLUSIVE ? PageFlag.Exclusive : 0)
    | (entry & PM_FILE ? PageFlag.FileOrSharedAnon : 0) | (entry & PM_SWAPPED ? PageFlag.Swapped : 0)
    | (entry & PM_SOFT_DIRTY ? PageFlag.SoftDirty : 0);
}

const isResident = (s: number) => s !== PageState.NotPresent;
const isPrivate = (s: number) => s === PageState.Private || s === PageState.Copied || s === PageState.FileDirty;

/** Replays every image's page tables over the whole trace. */
export function buildPagesData(source: EventSource, opts: PagesOptions = {}): PagesData {
  const replay = createPageReplay(source, opts);
  for (const _ of replay.feed(true)) { /* run to the end */ }
  const g = replay.pack();
  for (;;) { const r = g.next(); if (r.done) return r.value; }
}

/**
 * The same replay in slices of at most about `sliceMs` of work, giving the event loop back between them: a live
 * session's extension host keeps answering while a 25,600-page grid is replayed.
 */
export async function buildPagesDataSliced(source: EventSource, opts: PagesOptions = {}, sliceMs = 15): Promise<PagesData> {
  const replay = createPageReplay(source, opts);
  await runSliced(replay.feed(true), sliceMs);
  return runSliced(replay.pack(), sliceMs);
}

/** Runs a generator in slices of about `sliceMs` of work, giving the event loop back between them. */
export async function runSliced<T>(g: Generator<void, T, void>, sliceMs = 15): Promise<T> {
  for (;;) {
    const t0 = performance.now();
    try {
      for (;;) { const r = g.next(); if (r.done) return r.value; if (performance.now() - t0 > sliceMs) break; }
    } finally { const ms = performance.now() - t0; if (ms > pageReplayStats.maxSliceMs) { pageReplayStats.maxSliceMs = ms; pageReplayStats.maxSliceAt = typeof pageReplayStats.at === 'number' ? `event kind ${pageReplayStats.at}` : pageReplayStats.at; } }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
/** The longest slice of page replay so far and the step it ended in (the bench reports it; a kind id per event,
 * not a string). */
export const pageReplayStats = { maxSliceMs: 0, maxSliceAt: '', at: '' as string | number };

/**
 * The page replay of one trace, kept between calls: `feed` reads the page events the source gained since the last
 * call and replays them in time order (a live session's newest 100 ms wait for stragglers from other processes, as
 * in the trace model; `all` takes everything), `pack` gives the picture so far. Both pause (yield) so a caller can
 * slice them. A live replay is provisional where events came later than the lag; a finished trace is replayed anew.
 */
export interface PageReplay {
  feed(all?: boolean): Generator<void, void, void>;
  pack(): Generator<void, PagesData, void>;
}
const LIVE_LAG_NS = 100_000_000;

export function createPageReplay(source: EventSource, opts: PagesOptions = {}): PageReplay {
  const maxGridPages = opts.maxGridPages ?? 1 << 20;
  let images: ProcessImage[] = [];
  let byConn = new Map<number, ProcessImage>();
  // Fork relations: a child image (origin fork) belongs to the latest image of its ppid started before it.
  const forkParent = new Map<number, number>();
  const forkChildren = new Map<number, number[]>();
  const refreshImages = () => {
    images = processImages(source);
    byConn = new Map<number, ProcessImage>(images.map((p) => [p.conn, p]));
    forkParent.clear(); forkChildren.clear();
    for (const c of images) {
      if (c.origin !== 'fork' && c.origin !== 'vfork' && c.origin !== 'clone') continue;
      let best: ProcessImage | undefined;
      for (const p of images) if (p.pid === c.ppid && p.startNs <= c.startNs && (!best || p.startNs > best.startNs)) best = p;
      if (best) { forkParent.set(c.conn, best.conn); (forkChildren.get(best.conn) ?? forkChildren.set(best.conn, []).get(best.conn)!).push(c.conn); }
    }
  };

  const live = new Map<number, LiveMapping[]>(); // per conn, sorted by start
  const mergedIds = new Set<string>(); // mappings whose history continues in a larger (merged) one
  const all = new Map<string, LiveMapping>();
  const notes = new Map<number, string[]>();
  const hasPfn = new Map<number, boolean>();
  const sites: string[] = []; const siteIndex = new Map<string, number>();
  const siteOf = (conn: number, ip: bigint): number => {
    const label = opts.resolve?.(conn, ip) ?? moduleOffset(conn, ip);
    let i = siteIndex.get(label);
    if (i === undefined) { i = sites.length; sites.push(label); siteIndex.set(label, i); }
    return i;
  };
  // Code mappings by conn for module+offset labels (kept even after the page grid mapping list changes).
  const code = new Map<number, { start: bigint; end: bigint; path: string }[]>();
  const moduleOffset = (conn: number, ip: bigint): string => {
    for (const m of code.get(conn) ?? []) if (ip >= m.start && ip < m.end) return `${m.path.split('/').pop() || '?'}+${hex(ip - m.start)}`;
    return hex(ip);
  };

  // Counters per conn.
  interface Counter { resident: number; shared: number; priv: number; minor: number; major: number; pss: number;
    ts: bigint[]; r: number[]; s: number[]; p: number[]; pssS: number[]; mi: number[]; ma: number[] }
  const counters = new Map<number, Counter>();
  const counter = (conn: number): Counter => {
    let c = counters.get(conn);
    if (!c) { c = { resident: 0, shared: 0, priv: 0, minor: 0, major: 0, pss: NaN, ts: [], r: [], s: [], p: [], pssS: [], mi: [], ma: [] }; counters.set(conn, c); }
    return c;
  };
  const point = (conn: number, ts: bigint) => {
    const c = counter(conn); const n = c.ts.length;
    if (n && c.ts[n - 1] === ts) { c.r[n - 1] = c.resident; c.s[n - 1] = c.shared; c.p[n - 1] = c.priv; c.pssS[n - 1] = c.pss; c.mi[n - 1] = c.minor; c.ma[n - 1] = c.major; return; }
    c.ts.push(ts); c.r.push(c.resident); c.s.push(c.shared); c.p.push(c.priv); c.pssS.push(c.pss); c.mi.push(c.minor); c.ma.push(c.major);
  };

  const setState = (m: LiveMapping, page: number, state: number, ts: bigint, fault: number) => {
    const old = m.cur[page];
    if (old === state) return;
    m.cur[page] = state;
    const c = counter(m.info.conn);
    c.resident += (isResident(state) ? 1 : 0) - (isResident(old) ? 1 : 0);
    c.shared += (state === PageState.Shared ? 1 : 0) - (old === PageState.Shared ? 1 : 0);
    c.priv += (isPrivate(state) ? 1 : 0) - (isPrivate(old) ? 1 : 0);
    const g = m.grid!;
    g.changeTs.push(ts); g.changePage.push(page); g.changeState.push(state); g.changeFault.push(fault);
  };

  // After a copy-on-write break, the one other image that shared the page now maps the original alone.
  const partnerKeepsPage = (conn: number, m: LiveMapping, page: number, ts: bigint) => {
    const rel = [forkParent.get(conn), ...(forkChildren.get(conn) ?? [])].filter((x): x is number => x !== undefined)
      .map((r) => findMapping(r, m.info.start)).filter((r): r is LiveMapping => !!r?.grid && r.cur.length === m.cur.length && r.cur[page] === PageState.Shared);
    if (rel.length === 1) { setState(rel[0], page, PageState.Private, ts, -1); point(rel[0].info.conn, ts); }
  };
  const findMapping = (conn: number, addr: bigint): LiveMapping | undefined => {
    const list = live.get(conn);
    if (!list) return undefined;
    let lo = 0, hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, m = list[mid];
      if (addr < m.info.start) hi = mid - 1; else if (addr >= m.info.end) lo = mid + 1; else return m;
    }
    return undefined;
  };

  const addMapping = (conn: number, start: bigint, end: bigint, perms: string, shared: boolean, fileBacked: boolean, path: string, ts: bigint): LiveMapping => {
    const list = live.get(conn) ?? live.set(conn, []).get(conn)!;
    const existing = list.find((m) => m.info.start === start);
    if (existing && existing.info.end === end) {
      // Same range seen again (e.g. the mapping list sent before each snapshot): refresh what backs it.
      Object.assign(existing.info, { perms, shared, fileBacked, path: path || existing.info.path });
      return existing;
    }
    // The kernel merges an anonymous mapping with a compatible neighbour (one line in /proc/PID/maps): a range that
    // contains known mappings of the same kind continues their history. Anything else overlapped was replaced
    // (mmap MAP_FIXED, mremap, munmap + mmap).
    const merged: LiveMapping[] = [];
    for (const m of [...list]) {
      if (!(m.info.start < end && start < m.info.end)) continue;
      if (m.info.start >= start && m.info.end <= end && !m.info.fileBacked && !fileBacked && m.info.shared === shared && m.grid) {
        list.splice(list.indexOf(m), 1); merged.push(m); mergedIds.add(`${conn}:${hex(m.info.start)}`);
      } else removeMapping(conn, m, ts);
    }
    const pages = Number((end - start) / PAGE_SIZE);
    const id = `${conn}:${hex(start)}`;
    const prior = all.get(id);
    const m: LiveMapping = {
      info: { conn, pid: byConn.get(conn)?.pid ?? 0, start, end, perms, shared, fileBacked, path, firstNs: prior?.info.firstNs ?? ts },
      cur: new Uint8Array(pages <= maxGridPages ? pages : 0),
    };
    if (pages <= maxGridPages) {
      // A range reused at the same address continues the old grid (its changes stay in one time-ordered list).
      m.grid = prior?.grid && prior.grid.pageCount === pages ? prior.grid : new GridBuilder(pages);
    }
    if (m.grid && merged.length) {
      const g = m.grid;
      const rows: { ts: bigint; page: number; state: number; fault: number }[] = [];
      for (const o of merged) {
        const og = o.grid!, off = Number((o.info.start - start) / PAGE_SIZE), base = g.faultTs.length;
        for (let i = 0; i < og.faultTs.length; i++) {
          g.faultTs.push(og.faultTs[i]); g.faultPage.push(og.faultPage[i] + off); g.faultIp.push(og.faultIp[i]); g.faultMajor.push(og.faultMajor[i]); g.faultSite.push(og.faultSite[i]);
        }
        for (let i = 0; i < og.changeTs.length; i++) rows.push({ ts: og.changeTs[i], page: og.changePage[i] + off, state: og.changeState[i], fault: og.changeFault[i] >= 0 ? og.changeFault[i] + base : -1 });
        m.cur.set(o.cur.subarray(0, Math.min(o.cur.length, m.cur.length - off)), off);
        m.info.firstNs = o.info.firstNs < m.info.firstNs ? o.info.firstNs : m.info.firstNs;
      }
      rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      for (const r of rows) { g.changeTs.push(r.ts); g.changePage.push(r.page); g.changeState.push(r.state); g.changeFault.push(r.fault); }
    }
    all.set(id, m);
    mergedIds.delete(id);
    list.push(m); list.sort((a, b) => (a.info.start < b.info.start ? -1 : 1));
    if (/\.so(\.|$)|\/[^/[]+$/.test(path) && perms.includes('x')) (code.get(conn) ?? code.set(conn, []).get(conn)!).push({ start, end, path });
    return m;
  };
  const removeMapping = (conn: number, m: LiveMapping, ts: bigint) => {
    const list = live.get(conn)!;
    const i = list.indexOf(m);
    if (i >= 0) list.splice(i, 1);
    if (m.grid) for (let p = 0; p < m.cur.length; p++) setState(m, p, PageState.NotPresent, ts, -1);
  };

  const childByParentPid = (parentConn: number, childPid: number) => (forkChildren.get(parentConn) ?? []).find((c) => byConn.get(c)?.pid === childPid);
  const snapshotTouched = new Set<number>();
  // The kinds the replay reads, found by kind column where the store has one (no decoding).
  const wanted = new Set<number>([k.shimInfo, k.mapping, k.mmap, k.munmap, k.shmat, k.shmdt, k.fork, k.pageFault, k.pageSnapshot, k.snapshotDone]);
  const kindAt = (source as EventSource & { kindAt?(i: number): number }).kindAt?.bind(source);
  let scanned = 0, maxTs = -Infinity;
  let pending: TraceEvent[] = [];

  function* feed(all = false): Generator<void, void, void> {
    if (source.connections().length !== images.length) refreshImages();
    for (const n = source.count; scanned < n; scanned++) {
      if ((scanned & 16383) === 16383) yield;
      if (!wanted.has(kindAt ? kindAt(scanned) : source.get(scanned).kind)) continue;
      const e = source.get(scanned);
      pending.push(e);
      if (Number(e.ts) > maxTs) maxTs = Number(e.ts);
    }
    yield;
    // Time order by a double key (exact below 2^53 ns) on a typed index: comparing bigints of 100,000 events held
    // the event loop for tens of ms.
    const key = Float64Array.from(pending, (e) => Number(e.ts));
    const order = new Uint32Array(pending.length).map((_, i) => i).sort((x, y) => key[x] - key[y] || pending[x].index - pending[y].index);
    const upTo = all ? Infinity : maxTs - LIVE_LAG_NS;
    const ready: TraceEvent[] = [], later: TraceEvent[] = [];
    for (const i of order) (key[i] <= upTo ? ready : later).push(pending[i]);
    pending = later;
    yield;
    for (const e of ready) {
      yield; // one event can be a whole snapshot chunk: the slicer looks at the clock after each
      pageReplayStats.at = e.kind;
      apply(e);
    }
  }

  const apply = (e: TraceEvent): void => {
    const conn = e.conn;
    switch (e.kind) {
      case k.shimInfo: {
        // Why frames or faults are missing, for the whole image.
        const n = notes.get(conn) ?? notes.set(conn, []).get(conn)!;
        const text = blobText(e).trim();
        if (text) n.push(text);
        hasPfn.set(conn, (hasPfn.get(conn) ?? false) || e.args[A.infoPfn] !== 0n);
        break;
      }
      case k.mapping: {
        const start = e.args[A.mapStart], end = e.args[A.mapEnd], shared = e.args[A.mapShared] !== 0n;
        const path = blobText(e);
        const fileBacked = e.args[A.mapIno] !== 0n && !path.startsWith('[') && !path.startsWith('/dev/zero') && !path.startsWith('/SYSV');
        addMapping(conn, start, end, permString(e.args[A.mapProt], shared), shared, fileBacked && !path.startsWith('/dev/shm/'), path, e.ts);
        break;
      }
      case k.mmap: {
        if (e.err || e.result === -1n) break;
        const start = BigInt.asUintN(64, e.result), len = (e.args[A.mmapLen] + PAGE_SIZE - 1n) / PAGE_SIZE * PAGE_SIZE;
        const flags = e.args[A.mmapFlags], shared = (flags & MAP_SHARED) !== 0n, anon = (flags & MAP_ANONYMOUS) !== 0n;
        addMapping(conn, start, start + len, permString(e.args[A.mmapProt], shared), shared, !anon && e.args[A.mmapIno] !== 0n, '', e.ts);
        break;
      }
      case k.shmat: {
        if (e.err) break;
        const start = BigInt.asUintN(64, e.result), len = (e.args[A.shmatSize] + PAGE_SIZE - 1n) / PAGE_SIZE * PAGE_SIZE;
        if (len > 0n) addMapping(conn, start, start + len, 'rw-s', true, false, '/SYSV', e.ts);
        break;
      }
      case k.munmap: case k.shmdt: {
        if (e.err) break;
        const addr = e.kind === k.munmap ? e.args[A.munmapAddr] : e.args[A.shmdtAddr];
        const m = findMapping(conn, addr);
        if (m && (e.kind === k.shmdt || (m.info.start === addr && addr + e.args[A.munmapLen] >= m.info.end))) removeMapping(conn, m, e.ts);
        break;
      }
      case k.fork: {
        // Without snapshots the kernel's behaviour is known anyway: every present private anonymous page becomes
        // shared and write-protected in both parent and child; the child starts with the parent's mappings.
        if (e.result <= 0n) break;
        const childConn = childByParentPid(conn, Number(e.result));
        for (const m of live.get(conn) ?? []) {
          if (!m.grid) continue;
          let cm: LiveMapping | undefined;
          if (childConn !== undefined) {
            cm = findMapping(childConn, m.info.start);
            if (!cm) cm = addMapping(childConn, m.info.start, m.info.end, m.info.perms, m.info.shared, m.info.fileBacked, m.info.path, e.ts);
          }
          for (let p = 0; p < m.cur.length; p++) {
            let s = m.cur[p];
            if (s === PageState.Private || s === PageState.Copied) { s = PageState.Shared; setState(m, p, s, e.ts, -1); }
            if (cm?.grid && cm.cur.length === m.cur.length && cm.cur[p] === PageState.NotPresent) setState(cm, p, s, e.ts, -1);
          }
        }
        point(conn, e.ts);
        if (childConn !== undefined) point(childConn, e.ts);
        break;
      }
      case k.pageFault: {
        const major = e.args[A.pfMajor] !== 0n;
        const c = counter(conn);
        if (major) c.major++; else c.minor++;
        const addr = e.args[A.pfAddr];
        const m = findMapping(conn, addr);
        if (m?.grid) {
          const page = Number((addr - m.info.start) / PAGE_SIZE);
          const g = m.grid;
          const fault = g.faultTs.length;
          g.faultTs.push(e.ts); g.faultPage.push(page); g.faultIp.push(e.args[A.pfIp]); g.faultMajor.push(major ? 1 : 0);
          g.faultSite.push(siteOf(conn, e.args[A.pfIp]));
          const before = m.cur[page];
          let after: number = before;
          if (before === PageState.NotPresent) after = m.info.fileBacked ? PageState.FileClean : m.info.shared ? PageState.Shared : PageState.Private;
          else if (before === PageState.Shared && !m.info.shared) after = PageState.Copied; // write to a write-protected page: CoW
          else if (before === PageState.FileClean && m.info.fileBacked && !m.info.shared && m.info.perms[1] === 'w') after = PageState.FileDirty;
          if (after !== before) setState(m, page, after, e.ts, fault);
          else { g.changeTs.push(e.ts); g.changePage.push(page); g.changeState.push(after); g.changeFault.push(fault); }
          if (before === PageState.Shared && after === PageState.Copied) partnerKeepsPage(conn, m, page, e.ts);
        }
        point(conn, e.ts);
        break;
      }
      case k.pageSnapshot: {
        const start = e.args[A.psStart], end = e.args[A.psEnd];
        let m = findMapping(conn, start);
        if (!m || m.info.start !== start) m = addMapping(conn, start, end, 'rw-p', false, false, '', e.ts);
        if (!m.grid) break;
        const g = m.grid;
        const first = Number(e.args[A.psFirst]), count = Number(e.args[A.psCount]);
        const withPfn = e.args[A.psHasPfn] !== 0n, withCount = e.args[A.psHasMapcount] !== 0n;
        const blob = e.blob ?? new Uint8Array(0);
        if (blob.length < count * 8 + (withCount ? count : 0) || first + count > g.pageCount) {
          (notes.get(conn) ?? notes.set(conn, []).get(conn)!).push(`page_snapshot at ${hex(start)} is malformed (blob ${blob.length} bytes for ${count} pages); skipped`);
          break;
        }
        if (withPfn) { g.hasPfn = true; hasPfn.set(conn, true); }
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
        for (let i = 0; i < count; i++) {
          const entry = dv.getBigUint64(i * 8, true);
          const page = first + i;
          const mapcount = withCount ? blob[count * 8 + i] : undefined;
          flags[page] = pageFlags(entry);
          if (pfn.length && entry & PM_PRESENT) pfn[page] = entry & PM_PFN_MASK;
          if (mc.length && mapcount !== undefined) mc[page] = mapcount;
          let st: number = classifyPagemapEntry(entry, mapcount, m.info);
          if (st === PageState.Private && !m.info.shared && !m.info.fileBacked) {
            const before = m.cur[page];
            if (before === PageState.Copied) st = PageState.Copied; // a copy stays a copy
            else if (before === PageState.Shared) {
              // Shared at the last look, private now: a copy-on-write break happened in between (faults unseen). The
              // side that got a new frame made the copy; without frames, the forked child is the one that copies.
              const prev = row > 0 && g.snapPfn[row - 1].length ? g.snapPfn[row - 1][page] : undefined;
              const copied = prev !== undefined && pfn.length ? prev !== pfn[page] : forkParent.has(conn);
              if (copied) { st = PageState.Copied; setState(m, page, st, e.ts, -1); partnerKeepsPage(conn, m, page, e.ts); }
            }
          }
          setState(m, page, st, e.ts, -1);
        }
        snapshotTouched.add(conn);
        point(conn, e.ts);
        break;
      }
      case k.snapshotDone: {
        // PSS needs map counts: sum 1/mapcount over the present pages of the image's latest snapshot rows.
        let pss = 0, known = false;
        for (const m of live.get(conn) ?? []) {
          const g = m.grid; if (!g || !g.snapTs.length) continue;
          const mc = g.snapMapcount[g.snapTs.length - 1], fl = g.snapFlags[g.snapTs.length - 1];
          if (!mc.length) continue;
          known = true;
          for (let p = 0; p < mc.length; p++) if (fl[p] & PageFlag.Present) pss += 1 / Math.max(1, mc[p]);
        }
        counter(conn).pss = known ? pss : NaN;
        point(conn, e.ts);
        break;
      }
    }
  };

  function* pack(): Generator<void, PagesData, void> {
    const grids = new Map<string, PageGridPacked>();
    for (const [id, m] of all) {
      const g = m.grid;
      if (!g || grids.has(id)) continue;
      yield;
      pageReplayStats.at = `packing ${g.pageCount} pages, ${g.changeTs.length} changes`;
      const n = g.snapTs.length;
      const flat8 = (rows: Uint8Array[]) => { const out = new Uint8Array(rows.reduce((s, r) => s + r.length, 0)); let o = 0; for (const r of rows) { out.set(r, o); o += r.length; } return out; };
      const pfn = new BigUint64Array(g.hasPfn ? n * g.pageCount : 0);
      if (g.hasPfn) g.snapPfn.forEach((r, i) => { if (r.length) pfn.set(r, i * g.pageCount); });
      const mcRows = g.snapMapcount.some((r) => r.length) ? g.snapMapcount.map((r) => (r.length ? r : new Uint8Array(g.pageCount))) : [];
      grids.set(id, {
        mappingId: id, conn: m.info.conn, pid: m.info.pid, start: hex(m.info.start), pageCount: g.pageCount, hasPfn: g.hasPfn,
        changeTs: BigInt64Array.from(g.changeTs), changePage: Int32Array.from(g.changePage), changeState: Uint8Array.from(g.changeState),
        changeFault: Int32Array.from(g.changeFault), faultTs: BigInt64Array.from(g.faultTs), faultPage: Int32Array.from(g.faultPage),
        faultIp: BigUint64Array.from(g.faultIp), faultMajor: Uint8Array.from(g.faultMajor), faultSite: Int32Array.from(g.faultSite), sites,
        snapTs: BigInt64Array.from(g.snapTs), snapFlags: flat8(g.snapFlags), snapPfn: pfn, snapMapcount: flat8(mcRows),
      });
    }

    // Mappings by image once (filtering all of them per image was quadratic: 92 images of a Python run).
    const byImage = new Map<number, LiveMapping[]>();
    for (const [id, m] of all) if (!mergedIds.has(id)) (byImage.get(m.info.conn) ?? byImage.set(m.info.conn, []).get(m.info.conn)!).push(m);
    yield;
    pageReplayStats.at = 'process list';
    const processes: ProcessPages[] = images.map((p) => {
      const maps = (byImage.get(p.conn) ?? [])
        .sort((a, b) => (a.info.start < b.info.start ? -1 : a.info.start > b.info.start ? 1 : 0))
        .map((m): MappingInfo => ({
          id: `${m.info.conn}:${hex(m.info.start)}`, conn: m.info.conn, pid: m.info.pid, start: hex(m.info.start), end: hex(m.info.end),
          pageCount: Number((m.info.end - m.info.start) / PAGE_SIZE), perms: m.info.perms, shared: m.info.shared, fileBacked: m.info.fileBacked,
          path: m.info.path, firstNs: nsString(m.info.firstNs), hasPages: !!m.grid && m.grid.changeTs.length > 0,
        }));
      const n = [...(notes.get(p.conn) ?? [])];
      const pfn = hasPfn.get(p.conn) ?? false;
      if (!pfn) n.push('Frame numbers are hidden: /proc/PID/pagemap shows them only to root (CAP_SYS_ADMIN). The exclusively-mapped bit is shown instead.');
      if (!snapshotTouched.has(p.conn)) n.push('No page-table snapshot from this process: states come from fork and page faults only.');
      return { conn: p.conn, pid: p.pid, ppid: p.ppid, exe: p.exe, origin: p.origin, forkParent: forkParent.get(p.conn),
        forkChildren: forkChildren.get(p.conn) ?? [], mappings: maps, hasPfn: pfn, notes: n };
    });

    const packedCounters = new Map<number, PageCountersPacked>();
    yield;
    pageReplayStats.at = 'counters';
    for (const [conn, c] of counters) {
      yield;
      packedCounters.set(conn, {
        conn, ts: BigInt64Array.from(c.ts), resident: Int32Array.from(c.r), shared: Int32Array.from(c.s), private: Int32Array.from(c.p),
        pss: Float64Array.from(c.pssS), minorFaults: Int32Array.from(c.mi), majorFaults: Int32Array.from(c.ma),
      });
    }
    return { processes, grids, counters: packedCounters };
  }

  return { feed, pack };
}

function ascending(a: readonly bigint[]): boolean {
  for (let i = 1; i < a.length; i++) if (a[i] < a[i - 1]) return false;
  return true;
}
/** Puts a grid's changes back in time order (stable), keeping each change with its page, state and fault. */
function sortChanges(g: GridBuilder): void {
  const order = g.changeTs.map((_, i) => i).sort((x, y) => (g.changeTs[x] < g.changeTs[y] ? -1 : g.changeTs[x] > g.changeTs[y] ? 1 : x - y));
  const pick = <T>(a: T[]) => order.map((i) => a[i]);
  g.changeTs = pick(g.changeTs); g.changePage = pick(g.changePage); g.changeState = pick(g.changeState); g.changeFault = pick(g.changeFault);
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
