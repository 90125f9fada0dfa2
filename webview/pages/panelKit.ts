// What the page-table, lock and IPC-map webviews share: the typed host channel, English/Korean strings, time
// formatting, a HiDPI canvas helper and the time scrubber linked to the timeline's cursor. (Theme colours and saved
// state come from webview/shared, the timeline's.)
import { PANEL_PROTOCOL_VERSION, fromWire, type FromPanelMessage, type ToPanelMessage } from '../../src/common/panels/protocol';
import { cssVar } from '../shared/theme';

interface VsCodeApi { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

export class PanelChannel<State> {
  private readonly api: VsCodeApi = acquireVsCodeApi();
  private readonly listeners: ((m: ToPanelMessage) => void)[] = [];
  constructor() {
    window.addEventListener('message', (e: MessageEvent) => {
      const raw = e.data as { type?: unknown } | null;
      if (!raw || typeof raw !== 'object' || typeof raw.type !== 'string') return;
      const m = fromWire<ToPanelMessage>(raw);
      for (const l of this.listeners) {
        try { l(m); } catch (err) { this.post({ type: 'log', level: 'error', message: `${m.type}: ${(err as Error).stack ?? err}` }); }
      }
    });
  }
  onMessage(l: (m: ToPanelMessage) => void): void { this.listeners.push(l); }
  post(m: FromPanelMessage): void { this.api.postMessage(m); }
  ready(): void { this.post({ type: 'ready', protocol: PANEL_PROTOCOL_VERSION }); }
  getState(): unknown { return this.api.getState(); }
  setState(s: State): void { this.api.setState(s); }
}

export type Strings = Record<string, string>;
/** A translator over English and Korean tables: t('key', a, b) fills {0}, {1}. Unknown keys fall back to English. */
export function translator(en: Strings, ko: Strings): { t: (key: string, ...args: (string | number)[]) => string; setLocale: (l: string) => void } {
  let table = en;
  return {
    setLocale: (l: string) => { table = l.toLowerCase().startsWith('ko') ? ko : en; document.documentElement.lang = table === ko ? 'ko' : 'en'; },
    t: (key, ...args) => (table[key] ?? en[key] ?? key).replace(/\{(\d+)\}/g, (_, i) => String(args[Number(i)] ?? '')),
  };
}

/** A duration in ns as text with a unit (exact bigint in, rounded text out). */
export function fmtDuration(ns: bigint): string {
  const neg = ns < 0n; const a = neg ? -ns : ns;
  let s: string;
  if (a < 1_000n) s = `${a} ns`;
  else if (a < 1_000_000n) s = `${(Number(a) / 1e3).toFixed(1)} µs`;
  else if (a < 1_000_000_000n) s = `${(Number(a / 1_000n) / 1e3).toFixed(2)} ms`;
  else s = `${(Number(a / 1_000_000n) / 1e3).toFixed(3)} s`;
  return neg ? `-${s}` : s;
}
export const fmtBytes = (b: bigint): string => (b < 1024n ? `${b} B` : b < 1048576n ? `${(Number(b) / 1024).toFixed(1)} KiB` : `${(Number(b) / 1048576).toFixed(1)} MiB`);

/** Sizes a canvas for the device pixel ratio; returns a context scaled to CSS pixels. */
export function sizeCanvas(c: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  const W = Math.max(1, Math.round(w * dpr)), H = Math.max(1, Math.round(h * dpr));
  if (c.width !== W || c.height !== H) { c.width = W; c.height = H; c.style.width = `${w}px`; c.style.height = `${h}px`; }
  const ctx = c.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** A CSS colour of the theme as packed RGBA for ImageData (via a 1×1 canvas, which parses any CSS colour). */
const probe = document.createElement('canvas').getContext('2d', { willReadFrequently: true })!;
export function rgba32(color: string): number {
  probe.clearRect(0, 0, 1, 1);
  probe.fillStyle = '#000'; probe.fillStyle = color; probe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0; // little-endian Uint32 view of RGBA bytes
}
export const themeColor = (name: string, fallback: string) => cssVar(name, fallback);

/**
 * The panel's own time cursor: a range input over [start, end] ns (bigint-exact steps), with previous/next-change
 * buttons. Moving it tells the host (which moves the timeline's cursor); the host's cursor moves it back.
 */
export class TimeScrubber {
  readonly el: HTMLElement;
  private readonly range: HTMLInputElement;
  private readonly label: HTMLElement;
  private start = 0n; private end = 1n;
  private ns = 0n;
  private stops: BigInt64Array = new BigInt64Array(0);
  private listeners: ((ns: bigint, fromUser: boolean) => void)[] = [];
  static readonly STEPS = 100_000;

  constructor(private readonly t: (k: string, ...a: (string | number)[]) => string) {
    this.el = document.createElement('div');
    this.el.className = 'scrubber';
    const prev = document.createElement('button'), next = document.createElement('button');
    prev.textContent = '◀'; next.textContent = '▶';
    prev.title = t('prevChange'); next.title = t('nextChange');
    prev.id = 'prev-change'; next.id = 'next-change';
    this.range = document.createElement('input');
    this.range.type = 'range'; this.range.min = '0'; this.range.max = String(TimeScrubber.STEPS); this.range.id = 'cursor';
    this.range.setAttribute('aria-label', t('timeCursor'));
    this.label = document.createElement('span'); this.label.className = 'cursor-label';
    this.el.append(prev, this.range, next, this.label);
    this.range.addEventListener('input', () => this.set(this.start + (this.end - this.start) * BigInt(this.range.value) / BigInt(TimeScrubber.STEPS), true));
    prev.addEventListener('click', () => this.step(-1));
    next.addEventListener('click', () => this.step(1));
    this.range.addEventListener('keydown', (e) => {
      if (e.key === ',' || e.key === 'PageUp') { this.step(-1); e.preventDefault(); }
      if (e.key === '.' || e.key === 'PageDown') { this.step(1); e.preventDefault(); }
    });
  }
  onChange(l: (ns: bigint, fromUser: boolean) => void): void { this.listeners.push(l); }
  setExtent(start: bigint, end: bigint): void { this.start = start; this.end = end > start ? end : start + 1n; this.sync(); }
  /** Times the ◀ ▶ buttons stop at (sorted): faults and snapshots, lock waits… */
  setStops(stops: BigInt64Array): void { this.stops = stops; }
  get value(): bigint { return this.ns; }
  set(ns: bigint, fromUser = false): void {
    this.ns = ns;
    this.sync();
    for (const l of this.listeners) l(ns, fromUser);
  }
  step(dir: 1 | -1): void {
    const s = this.stops;
    let lo = 0, hi = s.length; // first stop > ns
    while (lo < hi) { const mid = (lo + hi) >> 1; if (s[mid] <= this.ns) lo = mid + 1; else hi = mid; }
    if (dir > 0 && lo < s.length) this.set(s[lo], true);
    else if (dir < 0) { let i = lo - 1; while (i >= 0 && s[i] >= this.ns) i--; if (i >= 0) this.set(s[i], true); }
  }
  private sync(): void {
    const span = this.end - this.start;
    const pos = this.ns <= this.start ? 0n : this.ns >= this.end ? BigInt(TimeScrubber.STEPS) : (this.ns - this.start) * BigInt(TimeScrubber.STEPS) / span;
    this.range.value = String(pos);
    this.label.textContent = this.t('cursorAt', fmtDuration(this.ns - this.start));
  }
}

/** Coalesces calls to one per animation frame. */
export function perFrame(fn: () => void): () => void {
  let queued = false;
  return () => { if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; fn(); }); } };
}

/** Shared stylesheet of the three panels (colours only from --vscode-* variables). */
export const BASE_CSS = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); background: var(--vscode-editor-background); margin: 0; padding: 8px 12px; }
button, select { font: inherit; color: var(--vscode-button-secondaryForeground, var(--vscode-foreground)); background: var(--vscode-button-secondaryBackground, transparent); border: 1px solid var(--vscode-button-border, var(--vscode-panel-border, #8884)); padding: 2px 8px; border-radius: 2px; cursor: pointer; }
select { background: var(--vscode-dropdown-background); color: var(--vscode-dropdown-foreground); border-color: var(--vscode-dropdown-border, #8884); }
button:focus, select:focus, input:focus { outline: 1px solid var(--vscode-focusBorder); }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 6px; }
.scrubber { display: flex; gap: 6px; align-items: center; margin: 6px 0; }
.scrubber input[type=range] { flex: 1; accent-color: var(--vscode-focusBorder); }
.cursor-label { min-width: 11em; font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground); }
.note { color: var(--vscode-descriptionForeground); margin: 4px 0; }
.warn { color: var(--vscode-editorWarning-foreground); }
.error { color: var(--vscode-errorForeground); }
h3 { font-size: 1em; margin: 10px 0 4px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--vscode-panel-border, #8883); white-space: nowrap; }
th { cursor: pointer; user-select: none; color: var(--vscode-descriptionForeground); font-weight: 600; }
tr.selected td { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
tbody tr:hover td { background: var(--vscode-list-hoverBackground); }
a { color: var(--vscode-textLink-foreground); cursor: pointer; text-decoration: none; }
a:hover { text-decoration: underline; }
.tooltip { position: fixed; pointer-events: none; background: var(--vscode-editorHoverWidget-background); color: var(--vscode-editorHoverWidget-foreground, var(--vscode-foreground));
  border: 1px solid var(--vscode-editorHoverWidget-border); padding: 4px 8px; white-space: pre; font-family: var(--vscode-editor-font-family); font-size: 12px; z-index: 10; display: none; }
.legend { display: flex; gap: 10px; flex-wrap: wrap; }
.legend span { display: inline-flex; align-items: center; gap: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; border: 1px solid #8886; }
`;
export function injectCss(css: string, nonce: string | undefined): void {
  const s = document.createElement('style');
  if (nonce) s.nonce = nonce;
  s.textContent = css;
  document.head.append(s);
}
/** The CSP nonce of this page (the host puts it on our script tag), reused for the stylesheet we add. */
export function pageNonce(): string | undefined {
  return (document.querySelector('script[nonce]') as HTMLScriptElement | null)?.nonce || undefined;
}
