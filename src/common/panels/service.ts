// The host side of the three panels without VS Code: holds the panel's data for one trace, built on the session's
// trace model, answers the webview's requests and says what the host must do for the rest (move the timeline cursor,
// select, open a file, ask the shim for a snapshot). The extension host (src/host/panels) and the browser-test
// harness both drive it.
import type { EventSource } from '../traceEvent';
import { TraceModel } from '../model/model';
import { CallSiteResolver } from '../model/callsites';
import { buildLocksData, type LocksData, type ResolveOptions, type SourceLine } from './locks';
import { MapBuilder, type MapData } from './map';
import { buildPagesDataSliced, windowGrid, type PagesData } from './pages';
import { PANEL_PROTOCOL_VERSION, type FromPanelMessage, type PanelHeader, type PanelKind, type PanelSelection, type ToPanelMessage } from './protocol';
import { LiveLockSymbols, Symbolizer } from './symbols';
import { argIndex, kindId } from '../vocabulary';

const PAGE_FAULT = kindId('page_fault'), PF_IP = argIndex('page_fault', 'ip');

export type PanelEffect =
  | { readonly type: 'cursor'; readonly ns: bigint }
  | { readonly type: 'select'; readonly selection: PanelSelection | null }
  | { readonly type: 'openSource'; readonly file: string; readonly line: number }
  | { readonly type: 'snapshot'; readonly conn: number }
  | { readonly type: 'log'; readonly level: 'info' | 'warning' | 'error'; readonly message: string };

export interface PanelServiceOptions { title: string; live: boolean; locale: string; symbolize?: boolean }

export class PanelService {
  private pages?: PagesData;
  private locks?: LocksData;
  private mapBuilder?: MapBuilder;
  private mapFinalPosted = false;
  private generation = 0;
  private startNs = 0n;
  private endNs = 0n;
  cursorNs: bigint | null = null;
  private resolve: ResolveOptions = {};
  private pageResolve?: (conn: number, addr: bigint) => string | undefined;
  /** The model the panel is built on: the session's (the host keeps it up to date) or, given events, its own. */
  readonly model: TraceModel;
  private readonly ownModel: boolean;
  /** What the data was last built from: the model's progress and whether that build was final. */
  private builtAt = { events: -1, final: false, model: undefined as unknown, symbols: 0 };
  /** Live lock call sites and data names, resolved in the background (locks panel while recording). */
  private liveSymbols?: LiveLockSymbols;
  /** Called when background resolution brought new names: a refresh now rebuilds the table with them. */
  onDidResolve?: () => void;

  constructor(readonly kind: PanelKind, input: TraceModel | EventSource, private readonly opts: PanelServiceOptions) {
    this.ownModel = !(input instanceof TraceModel);
    this.model = input instanceof TraceModel ? input : new TraceModel(input);
  }

  private get source(): EventSource { return this.model.source; }

  /** The recording ended: the panel is no longer live (no snapshot button; the next refresh is final). */
  ended(): void { this.opts.live = false; }

  /** The whole trace: brings its own model up to date (a session's model is the host's to update) and the data. */
  async rebuild(): Promise<void> {
    if (this.ownModel) this.model.update({ flush: true });
    await this.refresh({ final: true });
  }

  /**
   * Brings the panel's data up to date with the model (the caller updated it). The map follows the model's new
   * objects and flows incrementally; the lock table is recomputed from the model's lock state (cost of locks and
   * waits, not of events). `final` (a finished trace) also resolves call sites and symbol names first (addr2line/nm);
   * live, the lock table shows what is resolved so far and the rest is resolved in the background, never waited for
   * (onDidResolve says when a refresh would show more). Returns whether the data changed.
   */
  async refresh(opts: { final?: boolean } = {}): Promise<boolean> {
    const m = this.model;
    const final = opts.final ?? !this.opts.live;
    this.startNs = m.firstNs ?? 0n; this.endNs = m.lastNs ?? 0n;
    if (this.kind === 'map') {
      this.mapBuilder ??= new MapBuilder(m);
      // The first final refresh always posts: the webview lays a finished map out afresh (live, it only adds nodes),
      // even when the last live refresh already saw every object.
      const changed = this.mapBuilder.update() || (final && !this.mapFinalPosted);
      if (final) this.mapFinalPosted = true;
      if (changed) this.generation++;
      return changed;
    }
    // Nothing new since the last build (a live session at rest): keep the data, post nothing.
    const symbols = this.liveSymbols?.version ?? 0;
    if (this.builtAt.events === m.eventsProcessed && this.builtAt.model === m.objects && (this.builtAt.final || !final) && this.builtAt.symbols === symbols) return false;
    this.builtAt = { events: m.eventsProcessed, final, model: m.objects, symbols };
    const source = this.source;
    if (final && this.opts.symbolize !== false) {
      const sym = new Symbolizer(source);
      if (this.kind === 'pages') {
        // Fault IPs are exact instruction addresses; prepare() looks up addr - 1 (meant for return addresses), so +1.
        const ips = new Map<string, { conn: number; addr: bigint }>();
        const kindAt = (source as EventSource & { kindAt?(i: number): number }).kindAt?.bind(source);
        for (let i = 0; i < source.count; i++) {
          if ((kindAt ? kindAt(i) : source.get(i).kind) !== PAGE_FAULT) continue;
          const e = source.get(i);
          const ip = e.args[PF_IP]; ips.set(`${e.conn}:${ip}`, { conn: e.conn, addr: ip + 1n });
        }
        await sym.prepare([...ips.values()]);
        this.pageResolve = (conn, addr) => {
          const r = sym.resolveCode(conn, addr + 1n);
          return r?.func ? `${r.func}${r.file ? ` ${r.file.split('/').pop()}:${r.line}` : ''}` : undefined;
        };
      }
      if (this.kind === 'locks') {
        await this.liveSymbols?.settled(); // its batch in flight lands in the cache lockResolvers reads
        this.resolve = await lockResolvers(m, sym, this.liveSymbols?.callSites);
      }
    }
    if (!final && this.kind === 'locks' && this.opts.symbolize !== false) {
      if (!this.liveSymbols) { this.liveSymbols = new LiveLockSymbols(m); this.liveSymbols.onResolved = () => this.onDidResolve?.(); }
      this.resolve = this.liveSymbols.options();
    }
    // Page tables are the model's (it follows them as it handles events); packing them for the webview runs in
    // slices so the extension host's event loop keeps turning (25,600-page grids). Fault sites are resolved when final.
    if (this.kind === 'pages') this.pages = await buildPagesDataSliced(m, { resolve: final ? this.pageResolve : undefined });
    else {
      this.locks = buildLocksData(m, this.resolve);
      if (!final) this.liveSymbols?.kick(); // what this build missed, off the refresh's path
    }
    this.generation++;
    return true;
  }

  header(): PanelHeader {
    return { protocol: PANEL_PROTOCOL_VERSION, title: this.opts.title, live: this.opts.live, locale: this.opts.locale,
      startNs: this.startNs.toString(), endNs: this.endNs.toString(), cursorNs: this.cursorNs === null ? null : this.cursorNs.toString(), generation: this.generation };
  }

  get locksData(): LocksData | undefined { return this.locks; }
  /** Resolves when no background resolution is running (tests). */
  async symbolsSettled(): Promise<void> { await this.liveSymbols?.settled(); }
  /** Background resolution batches run so far (live lock panel). */
  get symbolBatches(): number { return this.liveSymbols?.stats.batches ?? 0; }
  get pagesData(): PagesData | undefined { return this.pages; }
  get mapData(): MapData | undefined { return this.mapBuilder?.current; }

  initMessage(): ToPanelMessage {
    switch (this.kind) {
      case 'pages': return { type: 'pagesInit', init: { header: this.header(), processes: this.pages?.processes ?? [] } };
      case 'locks': return { type: 'locksInit', init: { header: this.header(), locks: this.locks?.locks ?? [], inversions: this.locks?.inversions ?? [], firstDeadlockNs: this.locks?.firstDeadlockNs ?? null } };
      case 'map': return { type: 'mapInit', header: this.header(), data: this.mapData ?? { nodes: [], edges: [] } };
    }
  }

  /** Replies to post back, and what the host should do. */
  handle(m: FromPanelMessage): { replies: ToPanelMessage[]; effects: PanelEffect[] } {
    const replies: ToPanelMessage[] = [], effects: PanelEffect[] = [];
    switch (m.type) {
      case 'ready': replies.push(this.initMessage()); if (this.kind === 'locks' && this.cursorNs !== null) replies.push(this.waitFor(this.cursorNs)); break;
      case 'requestGrids': {
        const p = this.pages;
        if (!p) break;
        const grid = p.grids.get(m.mappingId);
        const proc = p.processes.find((x) => x.mappings.some((mm) => mm.id === m.mappingId));
        const mapping = proc?.mappings.find((mm) => mm.id === m.mappingId);
        const grids = grid ? [grid] : [];
        const mappings = [mapping];
        if (proc && mapping && grid) {
          // The fork partner: the child forked from this image, else the image this one was forked from; its mapping
          // that overlaps the same virtual range, cut to this one's pages (the kernel may have merged neighbours).
          const lo = BigInt(mapping.start), hi = BigInt(mapping.end);
          for (const c of [...proc.forkChildren, ...(proc.forkParent !== undefined ? [proc.forkParent] : [])]) {
            const other = p.processes.find((x) => x.conn === c)?.mappings.filter((mm) => BigInt(mm.start) < hi && lo < BigInt(mm.end) && p.grids.has(mm.id))
              .sort((a, b) => b.pageCount - a.pageCount)[0];
            if (!other) continue;
            grids.push(windowGrid(p.grids.get(other.id)!, lo, grid.pageCount, other.id));
            mappings.push(other);
            break;
          }
        }
        const counters = [...new Set(grids.map((g) => g.conn)), proc?.conn].map((c) => (c === undefined ? undefined : p.counters.get(c))).filter((c) => !!c);
        replies.push({ type: 'pagesGrids', data: { mappingId: m.mappingId, grids, counters: [...new Set(counters)], mappings } });
        break;
      }
      case 'requestLockTimeline': replies.push({ type: 'lockTimeline', key: m.key, timeline: this.locks?.timeline(m.key) ?? null }); break;
      case 'requestWaitFor': replies.push(this.waitFor(BigInt(m.ns))); break;
      case 'setCursor': this.cursorNs = BigInt(m.ns); effects.push({ type: 'cursor', ns: this.cursorNs }); break;
      case 'select': effects.push({ type: 'select', selection: m.selection }); break;
      case 'openSource': effects.push({ type: 'openSource', file: m.file, line: m.line }); break;
      case 'snapshotNow': effects.push({ type: 'snapshot', conn: m.conn }); break;
      case 'sort': break; // the webview sorts; the choice lives in its saved state
      case 'log': effects.push({ type: 'log', level: m.level, message: m.message }); break;
    }
    return { replies, effects };
  }

  waitFor(ns: bigint): ToPanelMessage {
    return { type: 'waitFor', graph: this.locks?.waitForAt(ns) ?? { ts: ns.toString(), nodes: [], edges: [], cycles: [] } };
  }
}

/**
 * Call sites of the lock table through the model's CallSiteResolver (one addr2line run per binary; the live panel's,
 * so what was resolved while recording is not run again), and data symbol names (a global mutex's variable) through
 * nm: every address the table shows is resolved up front, in batches.
 */
async function lockResolvers(m: TraceModel, sym: Symbolizer, resolver = new CallSiteResolver(m)): Promise<ResolveOptions> {
  const callers = new Map<number, Set<bigint>>();
  const want = (pid: number, addr: bigint) => { if (addr) (callers.get(pid) ?? callers.set(pid, new Set()).get(pid)!).add(addr); };
  for (const l of m.locks.values()) for (const [addr, c] of l.stats.callers) want(c.pid, addr);
  for (const w of m.waits) if (w.object && m.locks.has(w.object) && w.t1 !== undefined) { const e = m.source.get(w.end); want(e.pid, e.caller); }
  for (const next of m.lockOrder.values()) for (const ev of next.values()) { const e = m.source.get(ev.acquired); want(e.pid, e.caller); }
  for (const w of m.waits) if (w.t1 === undefined && w.begin >= 0) { const e = m.source.get(w.begin); want(e.pid, e.caller); }
  const code = new Map<string, SourceLine>();
  // addr2line and readelf as async child processes (the extension host's event loop keeps turning); resolve() below
  // then answers from the cache.
  await resolver.resolveAsync(callers);
  for (const [pid, addrs] of callers) {
    const list = [...addrs];
    resolver.resolve(pid, list).forEach((c, i) => code.set(`${pid}:${list[i]}`, { func: c.function, file: c.file, line: c.line }));
  }
  // Data names: nm over the image's mappings; the symbolizer knows images by connection, so the pid's latest one.
  const connOf = new Map<number, number>();
  for (const c of [...m.source.connections()].sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) connOf.set(c.pid, c.conn);
  const data: { conn: number; addr: bigint }[] = [];
  for (const key of m.locks.keys()) {
    const p = /^(\d+):0x([0-9a-f]+)$/.exec(key);
    const conn = p ? connOf.get(Number(p[1])) : undefined;
    if (p && conn !== undefined) data.push({ conn, addr: BigInt(`0x${p[2]}`) });
  }
  await sym.prepare([], data);
  return {
    resolveCode: (pid, addr) => code.get(`${pid}:${addr}`),
    resolveData: (pid, addr) => { const conn = connOf.get(pid); return conn === undefined ? undefined : sym.resolveData(conn, addr); },
  };
}
