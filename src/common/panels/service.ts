// The host side of the three panels without VS Code: holds the panel's data for one trace, answers the webview's
// requests and says what the host must do for the rest (move the timeline cursor, select, open a file, ask the shim
// for a snapshot). The extension host (src/host/panels) and the browser-test harness both drive it.
import type { EventSource } from '../traceEvent';
import { buildLocksData, type LocksData, type ResolveOptions } from './locks';
import { buildMapData, type MapData } from './map';
import { buildPagesData, windowGrid, type PagesData } from './pages';
import { PANEL_PROTOCOL_VERSION, type FromPanelMessage, type PanelHeader, type PanelKind, type PanelSelection, type ToPanelMessage } from './protocol';
import { lockAddresses, Symbolizer } from './symbols';
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
  private map?: MapData;
  private generation = 0;
  private startNs = 0n;
  private endNs = 0n;
  cursorNs: bigint | null = null;
  private resolve: ResolveOptions = {};
  private pageResolve?: (conn: number, addr: bigint) => string | undefined;

  constructor(readonly kind: PanelKind, private source: EventSource, private readonly opts: PanelServiceOptions) {}

  /** Rebuilds the panel's data from the whole trace (live sessions call it again as the trace grows). */
  async rebuild(source: EventSource = this.source): Promise<void> {
    this.source = source;
    let lo = 1n << 62n, hi = 0n;
    for (let i = 0; i < source.count; i++) { const ts = source.get(i).ts; if (ts < lo) lo = ts; if (ts > hi) hi = ts; }
    this.startNs = source.count ? lo : 0n; this.endNs = source.count ? hi : 0n;
    if (this.opts.symbolize !== false && this.kind !== 'map') {
      const sym = new Symbolizer(source);
      if (this.kind === 'pages') {
        // Fault IPs are exact instruction addresses; prepare() looks up addr - 1 (meant for return addresses), so +1.
        const ips = new Map<string, { conn: number; addr: bigint }>();
        for (let i = 0; i < source.count; i++) {
          const e = source.get(i);
          if (e.kind === PAGE_FAULT) { const ip = e.args[PF_IP]; ips.set(`${e.conn}:${ip}`, { conn: e.conn, addr: ip + 1n }); }
        }
        await sym.prepare([...ips.values()]);
        this.pageResolve = (conn, addr) => {
          const r = sym.resolveCode(conn, addr + 1n);
          return r?.func ? `${r.func}${r.file ? ` ${r.file.split('/').pop()}:${r.line}` : ''}` : undefined;
        };
      }
      if (this.kind === 'locks') {
        const want = lockAddresses(source);
        await sym.prepare(want.code, want.data);
        this.resolve = { resolveCode: sym.resolveCode, resolveData: sym.resolveData };
      }
    }
    if (this.kind === 'pages') this.pages = buildPagesData(source, { resolve: this.pageResolve });
    else if (this.kind === 'locks') this.locks = buildLocksData(source, this.resolve);
    else this.map = buildMapData(source);
    this.generation++;
  }

  header(): PanelHeader {
    return { protocol: PANEL_PROTOCOL_VERSION, title: this.opts.title, live: this.opts.live, locale: this.opts.locale,
      startNs: this.startNs.toString(), endNs: this.endNs.toString(), cursorNs: this.cursorNs === null ? null : this.cursorNs.toString(), generation: this.generation };
  }

  get locksData(): LocksData | undefined { return this.locks; }
  get pagesData(): PagesData | undefined { return this.pages; }
  get mapData(): MapData | undefined { return this.map; }

  initMessage(): ToPanelMessage {
    switch (this.kind) {
      case 'pages': return { type: 'pagesInit', init: { header: this.header(), processes: this.pages?.processes ?? [] } };
      case 'locks': return { type: 'locksInit', init: { header: this.header(), locks: this.locks?.locks ?? [], inversions: this.locks?.inversions ?? [], firstDeadlockNs: this.locks?.firstDeadlockNs ?? null } };
      case 'map': return { type: 'mapInit', header: this.header(), data: this.map ?? { nodes: [], edges: [] } };
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
