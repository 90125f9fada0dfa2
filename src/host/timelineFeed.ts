// The host side of one timeline webview, without vscode: answers the webview's requests from a TimelineData and
// feeds a live session into it. New events are consumed in slices of a few milliseconds between turns of the event
// loop and announced (`grow`) at most FEED_HZ times a second, so a 200k events/s recording never blocks the
// extension host for long. The VS Code panel (timelinePanel.ts), the browser-test harness and the bench all drive
// the webview through this class.
import { randomBytes } from 'node:crypto';
import { loopBudget } from '../common/loopBudget';
import type { EventSource } from '../common/traceEvent';
import { TimelineData, levelCovering, timelineTurns, TURN_SLICE_MS, type TimelineDataOptions } from '../common/timelineData';
import {
  TILE_BUCKETS, WEBVIEW_PROTOCOL_VERSION, parseFromWebview, type FromWebviewMessage, type PackedTile, type TileRequest, type RevealTarget, type TimelineHeader, type ToWebviewMessage, type WebviewReply, type WebviewRequest,
} from '../common/webviewProtocol';

/** At most this many `grow` messages per second while recording. */
export const FEED_HZ = 10;
/** A slice of event consumption stops after this many ms and yields to the event loop (one slice per turn, shared). */
export const SLICE_MS = TURN_SLICE_MS;
/** Events consumed between looks at the clock (at up to ~10 µs per event before the code is optimized, 512 could take 5 ms). */
const FEED_CHUNK = 128;

export interface TimelineSessionOptions {
  source: EventSource;
  title: string;
  live: boolean;
  traceFile?: string;
  /** The trace model's exact flows once it is complete (see TimelineDataOptions.exactFlows). */
  exactFlows?: TimelineDataOptions['exactFlows'];
  /** Source file:line of an event's call (C: through the model's CallSiteResolver), for the details pane's link. */
  resolveSource?: (index: number) => { file: string; line: number } | null;
  /** Delivers a message to the webview (VS Code: webview.postMessage). */
  post: (m: ToWebviewMessage) => unknown;
  onOpenSource?: (file: string, line: number) => void;
  onSelected?: (index: number | null) => void;
  onLog?: (level: 'info' | 'warning' | 'error', message: string) => void;
}

/** maxSliceMs is wall time (includes time the OS ran other processes); maxSliceCpuMs is this process's CPU time. */
export interface FeedStats { slices: number; maxSliceMs: number; maxSliceCpuMs: number; grows: number; consumed: number }

export class TimelineSession {
  readonly data: TimelineData;
  private readonly opts: TimelineSessionOptions;
  private ready = false;
  private live: boolean;
  private unsubscribe: (() => void) | undefined;
  private pumping = false;
  private pendingGrow: NodeJS.Timeout | undefined;
  private lastGrow = 0;
  private pendingReveal: RevealTarget | null = null;
  private disposed = false;
  readonly stats: FeedStats = { slices: 0, maxSliceMs: 0, maxSliceCpuMs: 0, grows: 0, consumed: 0 };
  /** Resolves once the flow index of the events present at construction is built (it is built in slices). */
  readonly prepared: Promise<void>;

  constructor(opts: TimelineSessionOptions) {
    this.opts = opts;
    this.live = opts.live;
    // Nothing is consumed here: a 10M-event trace takes seconds, so it is loaded in slices between turns of the
    // event loop (load) and the webview sees it grow, as with a live recording.
    this.data = new TimelineData(opts.source, { title: opts.title, live: opts.live, exactFlows: opts.exactFlows, deferred: true });
    if (opts.live && opts.source.onAppend) this.unsubscribe = opts.source.onAppend(() => this.pump());
    this.loaded = this.load();
    this.prepared = this.loaded.then(() => this.data.prepareFlows()).catch((e: Error) => this.opts.onLog?.('error', `timeline: ${e.message}`));
    // The first frame's tiles are built while the webview page starts (hundreds of ms), not after it asks: the
    // reply to its first request then comes from the warm cache without a build.
    void this.prepared.then(() => { if (!this.ready) this.warmUp(); });
  }

  /** Resolves once the events present at construction are consumed (a live session keeps growing after). */
  readonly loaded: Promise<void>;
  private caughtUp: (() => void)[] = [];

  private async load(): Promise<void> {
    const n = this.opts.source.count;
    if (!this.live) {
      // the earliest event of the whole file is the origin; scanned in slices like everything else
      for (let i = 0; i < n;) {
        await timelineTurns.next();
        if (this.disposed) return;
        while (i < n && timelineTurns.left > 0) { this.data.scanOrigin(i, i + 8192); i += 8192; }
      }
      this.data.fixOrigin();
    }
    if (this.opts.source.count > this.data.eventCount) await new Promise<void>((r) => { this.caughtUp.push(r); this.pump(); });
  }

  /** Handles one message from the webview; malformed input is logged and dropped, never thrown at the host. */
  handle(raw: unknown): void {
    let m: FromWebviewMessage;
    try { m = parseFromWebview(raw); } catch (e) { this.opts.onLog?.('warning', `timeline webview: ${(e as Error).message}`); return; }
    switch (m.type) {
      case 'ready':
        if (m.protocol !== WEBVIEW_PROTOCOL_VERSION) this.opts.onLog?.('warning', `timeline webview speaks protocol ${m.protocol}, host ${WEBVIEW_PROTOCOL_VERSION}`);
        this.ready = true;
        this.opts.post({ type: 'init', protocol: WEBVIEW_PROTOCOL_VERSION, header: this.header() });
        void this.prepared.then(() => this.warmUp());
        if (this.pendingReveal) { this.opts.post({ type: 'reveal', target: this.pendingReveal }); this.pendingReveal = null; }
        if (!this.live) this.opts.post({ type: 'sessionEnded' });
        break;
      case 'request': void this.answer(m.messageId, m.request); break;
      case 'openSource': this.opts.onOpenSource?.(m.file, m.line); break;
      case 'selected': this.opts.onSelected?.(m.index); break;
      case 'log': this.opts.onLog?.(m.level, `timeline webview: ${m.message}`); break;
    }
  }

  private async answer(messageId: number, r: WebviewRequest): Promise<void> {
    try {
      await this.loaded; // a request made while the trace is still loading is answered from the whole of it
      let reply: WebviewReply;
      switch (r.type) {
        case 'tile': {
          const key = tileKey(r.tile);
          // a warm tile being built is awaited rather than built a second time beside it
          const hit = this.warm.get(key);
          this.warm.delete(key);
          const warm = hit && await hit;
          if (warm && warm.generation === this.data.currentGeneration) { reply = { type: 'tile', tile: warm }; break; }
          reply = { type: 'tile', tile: await this.data.tileAsync(r.tile) };
          break;
        }
        case 'details': reply = { type: 'details', details: this.data.details(r.index, this.opts.resolveSource) }; break;
        case 'locate': reply = { type: 'locate', ...this.data.locate(r.index) }; break;
        case 'search': { const s = this.data.search(r.text, Math.max(1, Math.min(10_000, r.limit))); reply = { type: 'search', hits: s.hits, total: s.total }; break; }
      }
      if (!this.disposed) this.opts.post({ type: 'reply', inReplyTo: messageId, reply });
    } catch (e) {
      if (!this.disposed) this.opts.post({ type: 'replyError', inReplyTo: messageId, message: (e as Error).message });
    }
  }

  private header(): TimelineHeader {
    const h = this.data.header();
    return this.opts.traceFile ? { ...h, traceFile: this.opts.traceFile } : h;
  }

  /** Warm tiles by key: started builds (a request awaits them) or finished ones, for warmGeneration. */
  private readonly warm = new Map<string, Promise<PackedTile | null>>();
  private warmGeneration = -1;
  /**
   * While the webview starts its page (custom elements, fonts: hundreds of ms), build the tiles its first frame will
   * ask for: the whole-trace (overview) tile and the fit-to-window tiles for common panel widths. Each tile is built
   * on its own turn of the event loop.
   */
  private warmUp(): void {
    // started before the webview was ready and nothing changed since: keep those tiles
    if (this.warmGeneration === this.data.currentGeneration) return;
    this.warmGeneration = this.data.currentGeneration;
    this.warm.clear();
    const dur = Number(BigInt(this.data.header().durationNs)) || 1;
    const wanted = new Set<string>();
    const reqs: TileRequest[] = [];
    const filter = { hiddenClasses: [], hiddenKinds: [], objects: null };
    const add = (level: number, index: number) => {
      const t: TileRequest = { level, index, filter };
      const k = tileKey(t);
      if (level >= 0 && level <= 62 && !wanted.has(k)) { wanted.add(k); reqs.push(t); }
    };
    add(levelCovering(BigInt(Math.ceil(dur))), 0);
    for (const px of [600, 1000, 1500, 2400]) {
      const level = Math.max(0, Math.floor(Math.log2(Math.max(1, (dur * 1.02) / px))));
      const T = TILE_BUCKETS * 2 ** level;
      for (let i = 0; i * T <= dur * 1.02; i++) add(level, i);
    }
    const next = (): void => {
      const t = reqs.shift();
      if (!t || this.disposed || this.warm.size > 32) return;
      const built = this.data.tileAsync(t).catch(() => null); // a failed warm tile is built again on request
      this.warm.set(tileKey(t), built);
      void built.then(() => setImmediate(next));
    };
    setImmediate(next);
  }

  /** Shows a process, object, event or time range (the tree views' "Reveal in Timeline"); queued until ready. */
  reveal(target: RevealTarget): void {
    if (this.ready) this.opts.post({ type: 'reveal', target }); else this.pendingReveal = target;
  }

  /** The webview was reloaded (or replaced): it will say `ready` again. */
  webviewReset(): void { this.ready = false; }

  /** The recording ended: consume the rest and tell the webview. */
  end(): void {
    this.live = false;
    this.data.setLive(false);
    this.pump();
  }

  /** Consumes new events in time-bounded slices, yielding between them; announces growth at a bounded rate. */
  private pump(): void {
    if (this.pumping || this.disposed) return;
    this.pumping = true;
    const step = (): void => {
      if (this.disposed) { this.pumping = false; return; }
      const t0 = performance.now(), c0 = process.cpuUsage();
      // Chunks small enough to check the clock often: consumption costs ~1–10 µs per event (more while the GC runs,
      // and before the code is optimized). The feed has a slice of its own every turn (it must keep up with the
      // recording) beside the one slice tile builds and flow rebuilds share (timelineTurns) and the collector's; all
      // of them together take at most loopBudget's LOOP_BUDGET_MS per turn (each at least MIN_SLICE_MS).
      const slice = loopBudget.slice(SLICE_MS);
      while (this.data.eventCount < this.opts.source.count && performance.now() - t0 < slice) this.data.update(FEED_CHUNK);
      const ms = performance.now() - t0, cpu = process.cpuUsage(c0);
      this.stats.slices++;
      if (ms > this.stats.maxSliceMs) this.stats.maxSliceMs = ms;
      if ((cpu.user + cpu.system) / 1000 > this.stats.maxSliceCpuMs) this.stats.maxSliceCpuMs = (cpu.user + cpu.system) / 1000;
      this.stats.consumed = this.data.eventCount;
      // Still behind (a loaded machine): no grow until caught up. Each grow makes the webview ask for its visible
      // tiles again; announcing while behind (at 1 or 10 Hz) left consumption seconds behind at load 15-20.
      if (this.data.eventCount < this.opts.source.count) { setImmediate(step); return; }
      this.pumping = false;
      for (const r of this.caughtUp.splice(0)) r();
      this.scheduleGrow();
    };
    setImmediate(step);
  }

  private scheduleGrow(): void {
    if (this.pendingGrow || !this.ready) {
      if (!this.ready) return; // init will carry the header
      return;
    }
    const wait = Math.max(0, this.lastGrow + 1000 / FEED_HZ - Date.now());
    this.pendingGrow = setTimeout(() => {
      this.pendingGrow = undefined;
      if (this.disposed || !this.ready) return;
      this.lastGrow = Date.now();
      this.stats.grows++;
      this.opts.post({ type: 'grow', header: this.header() });
      if (!this.live) this.opts.post({ type: 'sessionEnded' });
    }, wait);
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe?.();
    if (this.pendingGrow) clearTimeout(this.pendingGrow);
  }
}

const tileKey = (t: TileRequest): string =>
  `${t.level}/${t.index}/${[...t.filter.hiddenClasses].sort().join(',')}/${[...t.filter.hiddenKinds].sort().join(',')}/${t.filter.objects?.join(',') ?? '*'}`;

/** A nonce for the webview's CSP, from crypto (never Math.random). */
export function makeNonce(): string { return randomBytes(18).toString('base64'); }

export interface TimelineHtmlOptions {
  scriptUri: string; styleUri: string; cspSource: string; nonce: string; title?: string;
  /** Only for the test harness's message transport (VS Code needs none). */
  connectSrc?: string;
  /** Only for the test harness: scripts loaded (with the nonce) before the bundle. */
  preludeScripts?: string[];
}

/**
 * The timeline page: CSP default-src 'none'; scripts only with the nonce; styles from the extension's own files
 * (and the constructable stylesheets @vscode-elements uses); no inline event handlers. The webview builds its DOM.
 */
export function timelineHtml(o: TimelineHtmlOptions): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} data:`,
    `style-src ${o.cspSource} 'nonce-${o.nonce}'`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
    ...(o.connectSrc ? [`connect-src ${o.connectSrc}`] : []),
  ].join('; ');
  const prelude = (o.preludeScripts ?? []).map((src) => `<script nonce="${esc(o.nonce)}" src="${esc(src)}"></script>\n`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(o.styleUri)}" nonce="${esc(o.nonce)}">
<title>${esc(o.title ?? 'IPC Scope Timeline')}</title>
</head>
<body>
${prelude}<script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
