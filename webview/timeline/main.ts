// The timeline webview: canvas lanes per process (threads nested), marks coloured by kind class, spans for blocking
// calls / lock waits (hatched) / lock holds (bar) / signal handlers, arrows for flows, a ruler, an overview strip,
// zoom and pan (wheel, drag, W/S/A/D), hover tooltip, click → details pane, filters and search.
// Drawing is synchronous from cached tiles (tiles.ts); missing tiles are requested and a coarser cached tile stands in
// meanwhile, so a frame never waits for data. The state survives hide/reload through getState/setState.
import '../shared/elements';
import './timeline.css';
import { HostChannel } from '../shared/vscodeApi';
import { onThemeChange, themeKind } from '../shared/theme';
import { multiValue } from '../shared/elements';
import { restoreState } from '../shared/state';
import { readPalette, type Palette } from './palette';
import { TileCache, filterKey, unpackTile, type DrawTile } from './tiles';
import { formatExactNs, formatNs, tickStep, escapeHtml } from './format';
import {
  SPAN_STYLE, TILE_BUCKETS, WEBVIEW_PROTOCOL_VERSION, type EventDetails, type LaneInfo, type RevealTarget, type SearchHit,
  type TileFilter, type TimelineHeader, type ToWebviewMessage,
} from '../../src/common/webviewProtocol';

interface SavedState {
  version: number;
  /** View window, relative ns, integer decimal strings. */
  viewStart: string | null;
  viewEnd: string | null;
  scrollY: number;
  selected: number | null;
  hiddenClasses: string[];
  hiddenPids: number[];
  objectFilter: number | null;
  search: string;
  collapsed: number[];
  follow: boolean;
  /** The trace file shown, for the panel serializer after a reload. */
  traceFile: string | null;
}
const STATE_VERSION = 1;
const DEFAULT_STATE: SavedState = {
  version: STATE_VERSION, viewStart: null, viewEnd: null, scrollY: 0, selected: null, hiddenClasses: [], hiddenPids: [],
  objectFilter: null, search: '', collapsed: [], follow: true, traceFile: null,
};

const RULER_H = 24;
const PROCESS_H = 24;
const THREAD_H = 22;
const LABEL_W_MIN = 150;
const MIN_WINDOW_NS = 40;

const host = new HostChannel<SavedState>();
const state: SavedState = restoreState(host.getState(), STATE_VERSION, DEFAULT_STATE);
const saveState = (): void => host.setState(state);

// ---------- DOM ----------
document.body.innerHTML = `
<div class="app">
  <div class="toolbar" role="toolbar">
    <vscode-textfield id="search" placeholder="Search: kind, pid, object, path…" aria-label="Search events"></vscode-textfield>
    <span id="searchInfo" class="muted"></span>
    <span class="tlabel">Kinds</span><vscode-multi-select id="classes" aria-label="Event kinds shown" class="filter"></vscode-multi-select>
    <span class="tlabel">Processes</span><vscode-multi-select id="processes" aria-label="Processes shown" class="filter"></vscode-multi-select>
    <span class="tlabel">Object</span><vscode-single-select id="object" aria-label="Object" class="filter wide"></vscode-single-select>
    <vscode-checkbox id="follow" label="Follow live">Follow live</vscode-checkbox>
    <vscode-button id="fit" secondary title="Show the whole trace (0)">Fit</vscode-button>
  </div>
  <canvas id="overview" aria-label="Overview of the whole trace"></canvas>
  <div class="main">
    <div class="canvasWrap" id="wrap"><canvas id="timeline" tabindex="0" aria-label="Timeline"></canvas></div>
    <aside id="details" class="details" hidden aria-label="Event details"></aside>
  </div>
  <div class="statusline"><span id="status"></span><span class="muted">W/S zoom · A/D pan · wheel zoom · drag pan · shift+wheel scroll · click selects</span></div>
  <div id="tooltip" class="tooltip" hidden></div>
  <div id="empty" class="empty" hidden>Waiting for events…</div>
</div>`;
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('timeline');
const overview = $<HTMLCanvasElement>('overview');
const wrap = $<HTMLDivElement>('wrap');
const tooltip = $<HTMLDivElement>('tooltip');
const detailsEl = $<HTMLElement>('details');
const statusEl = $<HTMLSpanElement>('status');
const searchEl = $<HTMLElement>('search') as HTMLElement & { value: string };
const searchInfo = $<HTMLSpanElement>('searchInfo');
const classesEl = $<HTMLElement>('classes');
const processesEl = $<HTMLElement>('processes');
const objectEl = $<HTMLElement>('object') as HTMLElement & { value: string };
const followEl = $<HTMLElement>('follow') as HTMLElement & { checked: boolean };
const ctx = canvas.getContext('2d', { alpha: false })!;
const octx = overview.getContext('2d', { alpha: false })!;

// ---------- model ----------
let header: TimelineHeader | null = null;
let lanesById: LaneInfo[] = [];
let classIndex = new Map<string, number>();
let kindNames: string[] = [];
let kindClass: number[] = [];
let durationNs = 1;
let pal: Palette = readPalette([], ctx);
const cache = new TileCache();
let overviewTile: DrawTile | null = null;
let overviewKey = '';

// view: relative ns (doubles for pixel math; saved as integer strings)
let vs = 0, ve = 1;
let scrollY = state.scrollY;
let cssW = 300, cssH = 200, dpr = 1, labelW = LABEL_W_MIN;
// layout
let laneY = new Float64Array(0);
let laneH = new Float64Array(0);
/** Per lane: where marks sit inside it (process rows show a short density strip above their lifetime line). */
let cellTop = new Float64Array(0);
let cellH = new Float64Array(0);
let visibleLanes: LaneInfo[] = [];
let contentH = 0;

let selected: number | null = state.selected;
/** The time cursor shared with the page/locks/map panels (absolute ns as a decimal string; null: none). */
let cursorAbs: string | null = null;
let selectedLoc: { lane: number; s: number; e: number } | null = null;
let details: EventDetails | null = null;
let hover: Hit | null = null;
let searchHits: SearchHit[] = [];
let searchTotal = 0;
let searchPos = -1;

// metrics, for tests and the bench (read through window.__ipcScopeTimeline)
const perf = {
  /** ms since init for: first frame, first tile request, first tile reply, full render */
  marks: {} as Record<string, number>,
  initAt: 0, firstFullRenderAt: 0, frames: 0, frameMs: [] as number[], rafAt: [] as number[], lastFrame: { cells: 0, spans: 0, flows: 0, lanes: 0, fallback: 0, ms: 0 },
};

// ---------- helpers ----------
const filter = (): TileFilter => ({
  hiddenClasses: state.hiddenClasses, hiddenKinds: [], objects: state.objectFilter !== null ? [state.objectFilter] : null,
});
const nsPerPx = (): number => (ve - vs) / Math.max(1, cssW - labelW);
const xOf = (t: number): number => labelW + (t - vs) / nsPerPx();
const tOf = (x: number): number => vs + (x - labelW) * nsPerPx();
const levelFor = (): number => Math.max(0, Math.min(62, Math.floor(Math.log2(Math.max(1, nsPerPx())))));
const relOf = (abs: string): number => (header ? Number(BigInt(abs) - BigInt(header.originNs)) : 0);

function setView(s: number, e: number, keepFollow = false): void {
  let w = Math.max(MIN_WINDOW_NS, e - s);
  const maxW = Math.max(durationNs * 1.1, MIN_WINDOW_NS);
  if (w > maxW) w = maxW;
  const c = (s + e) / 2;
  s = c - w / 2;
  const lo = -durationNs * 0.05, hi = durationNs * 1.05;
  if (s < lo) s = lo;
  if (s + w > hi) s = Math.max(lo, hi - w);
  vs = s; ve = s + w;
  if (!keepFollow && state.follow && header?.live && ve < durationNs * 0.999) { state.follow = false; followEl.checked = false; }
  state.viewStart = String(Math.round(vs)); state.viewEnd = String(Math.round(ve));
  schedule();
}

function fit(): void { setView(-durationNs * 0.01, durationNs * 1.01, true); }

// ---------- layout ----------
function layout(): void {
  if (!header) return;
  const hiddenPids = new Set(state.hiddenPids);
  const collapsed = new Set(state.collapsed);
  const maxId = lanesById.length;
  laneY = new Float64Array(maxId).fill(-1);
  laneH = new Float64Array(maxId);
  cellTop = new Float64Array(maxId); cellH = new Float64Array(maxId);
  visibleLanes = [];
  let y = RULER_H;
  for (const l of header.lanes) {
    if (hiddenPids.has(l.pid)) continue;
    if (l.kind === 'thread' && collapsed.has(l.pid)) continue;
    const h = l.kind === 'process' ? PROCESS_H : THREAD_H;
    laneY[l.id] = y; laneH[l.id] = h;
    cellTop[l.id] = l.kind === 'process' ? PROCESS_H - 12 : 4;
    cellH[l.id] = l.kind === 'process' ? 8 : h - 8;
    visibleLanes.push(l);
    y += h;
  }
  contentH = y - RULER_H;
  const maxScroll = Math.max(0, contentH - (cssH - RULER_H));
  scrollY = Math.min(Math.max(0, scrollY), maxScroll);
  labelW = Math.min(320, Math.max(LABEL_W_MIN, ...visibleLanes.map((l) => {
    ctx.font = `${l.kind === 'process' ? '600 ' : ''}12px ${pal.font}`;
    return ctx.measureText(l.label).width + 40 + l.depth * 10;
  })));
}

function resize(): void {
  dpr = window.devicePixelRatio || 1;
  const r = wrap.getBoundingClientRect();
  cssW = Math.max(100, Math.floor(r.width)); cssH = Math.max(60, Math.floor(r.height));
  canvas.width = Math.floor(cssW * dpr); canvas.height = Math.floor(cssH * dpr);
  canvas.style.width = `${cssW}px`; canvas.style.height = `${cssH}px`;
  const ow = Math.max(100, Math.floor(overview.getBoundingClientRect().width));
  overview.width = Math.floor(ow * dpr); overview.height = Math.floor(36 * dpr);
  layout();
  schedule();
}

// ---------- tiles ----------
function wantedTiles(level: number): number[] {
  const T = TILE_BUCKETS * 2 ** level;
  const i0 = Math.max(0, Math.floor(Math.max(0, vs) / T)), i1 = Math.max(0, Math.floor(Math.max(0, ve) / T));
  const out: number[] = [];
  for (let i = i0; i <= i1; i++) out.push(i);
  return out;
}

function requestTile(level: number, index: number, fk: string): void {
  const key = TileCache.key(fk, level, index);
  if (cache.isInflight(key) || !header) return;
  const have = cache.peek(key);
  if (have && have.generation >= header.generation) return;
  if (cache.inflightCount >= 12) return;
  cache.begin(key);
  mark('firstTileRequest');
  const f = filter();
  host.request<'tile'>({ type: 'tile', tile: { level, index, filter: f } }).then((r) => {
    if (!header) return;
    mark('firstTileReply');
    cache.put(key, unpackTile(r.tile, header.classes.length));
    mark('firstTileUnpacked');
    schedule();
  }, (e: Error) => { cache.fail(key); host.post({ type: 'log', level: 'warning', message: `tile ${level}/${index}: ${e.message}` }); });
}

/** The best tile to draw for slot (level, index): itself, else the nearest coarser cached tile covering it. */
function tileFor(level: number, index: number, fk: string): { tile: DrawTile; exact: boolean } | null {
  const own = cache.get(TileCache.key(fk, level, index));
  if (own) return { tile: own, exact: !header || own.generation >= header.generation };
  const t = index * TILE_BUCKETS * 2 ** level;
  for (let l = level + 1; l <= Math.min(62, level + 12); l++) {
    const j = Math.floor(t / (TILE_BUCKETS * 2 ** l));
    const c = cache.get(TileCache.key(fk, l, j));
    if (c) return { tile: c, exact: false };
  }
  for (let l = level - 1; l >= Math.max(0, level - 3); l--) { // a finer tile (after zooming out) still shows part of it
    const j = Math.floor(t / (TILE_BUCKETS * 2 ** l));
    const c = cache.get(TileCache.key(fk, l, j));
    if (c) return { tile: c, exact: false };
  }
  return null;
}

// ---------- drawing ----------
let frameQueued = false;
function schedule(): void {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(frame);
}

let lastRaf = 0;
function mark(name: string): void { if (perf.initAt && !(name in perf.marks)) perf.marks[name] = Math.round(performance.now() - perf.initAt); }
function frame(now: number): void {
  frameQueued = false;
  mark('firstFrame');
  const moving = stepKeys(now);
  const t0 = performance.now();
  draw();
  const ms = performance.now() - t0;
  perf.frames++;
  perf.frameMs.push(ms);
  if (lastRaf) perf.rafAt.push(now - lastRaf);
  lastRaf = now;
  if (perf.frameMs.length > 5000) { perf.frameMs.splice(0, 2500); perf.rafAt.splice(0, 2500); }
  perf.lastFrame.ms = ms;
  if (moving) schedule(); else lastRaf = 0;
}

function draw(): void {
  const W = cssW, H = cssH;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = pal.background;
  ctx.fillRect(0, 0, W, H);
  if (!header) return;
  const fk = filterKey(filter());
  const level = levelFor();
  const slots = wantedTiles(level);
  let cells = 0, spans = 0, flows = 0, fallback = 0;

  // lane rows
  for (let k = 0; k < visibleLanes.length; k++) {
    const l = visibleLanes[k];
    const y = laneY[l.id] - scrollY;
    if (y + laneH[l.id] < RULER_H || y > H) continue;
    if (l.kind === 'process') { ctx.fillStyle = pal.processRow; ctx.fillRect(labelW, y, W - labelW, laneH[l.id]); }
    else if (k % 2) { ctx.fillStyle = pal.laneAlt; ctx.fillRect(labelW, y, W - labelW, laneH[l.id]); }
  }
  // process lifetimes: a thin line from start to exit
  ctx.fillStyle = pal.muted;
  for (const l of visibleLanes) {
    if (l.kind !== 'process') continue;
    const y = laneY[l.id] - scrollY;
    if (y + PROCESS_H < RULER_H || y > H) continue;
    const s = Math.max(labelW, xOf(relOf(l.startNs))), e = Math.min(W, xOf(l.endNs ? relOf(l.endNs) : durationNs));
    if (e > s) ctx.fillRect(s, y + PROCESS_H - 3, e - s, 1);
  }

  ctx.save();
  ctx.beginPath(); ctx.rect(labelW, RULER_H, W - labelW, H - RULER_H); ctx.clip();
  const drawn: DrawTile[] = [];
  classesDrawn.clear();
  const slotT = TILE_BUCKETS * 2 ** level;
  for (const i of slots) {
    const got = tileFor(level, i, fk);
    if (!got || !got.exact) { requestTile(level, i, fk); fallback++; }
    if (!got) continue;
    const x0 = Math.max(labelW, xOf(i * slotT)), x1 = Math.min(W, xOf((i + 1) * slotT));
    if (x1 <= x0) continue;
    ctx.save();
    ctx.beginPath(); ctx.rect(x0, RULER_H, x1 - x0, H - RULER_H); ctx.clip();
    const r = drawTile(got.tile);
    cells += r.cells; spans += r.spans;
    ctx.restore();
    if (!drawn.includes(got.tile)) drawn.push(got.tile);
  }
  // prefetch neighbours so small pans find their tiles ready
  if (fallback === 0 && slots.length) { requestTile(level, slots[slots.length - 1] + 1, fk); if (slots[0] > 0) requestTile(level, slots[0] - 1, fk); }
  flows = drawFlows(drawn);
  drawSelection();
  drawCursor();
  ctx.restore();
  drawLabels();
  drawRuler();
  drawOverview();
  if (fallback === 0 && perf.firstFullRenderAt === 0 && perf.initAt) {
    perf.firstFullRenderAt = performance.now();
    document.body.dataset.ready = '1';
  }
  if (toolbarPending && (perf.firstFullRenderAt || performance.now() - perf.initAt > 2000)) { toolbarPending = false; setTimeout(fillToolbar, 0); }
  perf.lastFrame = { cells, spans, flows, lanes: visibleLanes.length, fallback, ms: perf.lastFrame.ms };
  const ds = document.body.dataset;
  ds.lanes = String(visibleLanes.length); ds.marks = String(cells + spans); ds.arrows = String(flows); ds.frames = String(perf.frames);
  ds.complete = fallback === 0 ? '1' : '0';
  statusEl.textContent = `${header.eventCount.toLocaleString('en-US')} events · ${header.lanes.filter((l) => l.kind === 'process').length} processes · ` +
    `view ${formatNs(ve - vs)} · ${header.live ? 'recording' : 'recorded'}`;
}

/** Kind classes drawn in the last frame (observable for tests). */
const classesDrawn = new Set<number>();
function drawTile(t: DrawTile): { cells: number; spans: number } {
  const npp = nsPerPx();
  const bw = Math.max(1, t.bucketNs / npp);
  const H = cssH;
  let cells = 0;
  // cells, one fill colour per class
  for (let c = 0; c + 1 < t.runClassStart.length; c++) {
    const a = t.runClassStart[c], b = t.runClassStart[c + 1];
    if (a === b) continue;
    ctx.fillStyle = pal.cls[c] ?? pal.foreground;
    for (let k = a; k < b; k++) {
      const i = t.runCell[k], len = t.runLen[k];
      const lane = t.cellLane[i];
      const y = laneY[lane];
      if (y < 0) continue;
      const yy = y - scrollY;
      if (yy + laneH[lane] < RULER_H || yy > H) continue;
      const x = labelW + (t.start + t.cellBucket[i] * t.bucketNs - vs) / npp;
      if (x > cssW || x + len * bw < labelW) continue;
      // a lone instant is a 2 px tick; busy buckets (and runs of them) fill their width
      ctx.fillRect(x, yy + cellTop[lane], len > 1 || t.cellCount[i] > 1 ? Math.max(len * bw, 1.5) : Math.max(2, Math.min(bw, 4)), cellH[lane]);
      cells += len;
      classesDrawn.add(c);
    }
  }
  // errors: a small mark above the cell
  ctx.fillStyle = pal.error;
  for (let i = 0; i < t.cellN; i++) {
    if (!(t.cellFlags[i] & 1)) continue;
    const y = laneY[t.cellLane[i]];
    if (y < 0 || lanesById[t.cellLane[i]].kind === 'process') continue;
    ctx.fillRect(labelW + (t.start + t.cellBucket[i] * t.bucketNs - vs) / npp - 1, y - scrollY + 1, 4, 2);
  }
  // spans: blocking (solid), waits (hatched), holds (bar at the lane's foot), handlers (solid + top rule)
  let spans = 0;
  ctx.font = `11px ${pal.font}`;
  ctx.textBaseline = 'middle';
  for (let i = 0; i < t.spanN; i++) {
    const lane = t.spanLane[i];
    const y = laneY[lane];
    if (y < 0) continue;
    const yy = y - scrollY;
    if (yy + laneH[lane] < RULER_H || yy > H) continue;
    const x0 = Math.max(labelW - 2, labelW + (t.spanS[i] - vs) / npp), x1 = Math.min(cssW + 2, labelW + (t.spanE[i] - vs) / npp);
    if (x1 < labelW || x0 > cssW) continue;
    const w = Math.max(1, x1 - x0), cls = t.spanClass[i], style = t.spanStyle[i];
    const h = laneH[lane];
    if (style === SPAN_STYLE.hold) {
      ctx.fillStyle = pal.cls[cls];
      ctx.fillRect(x0, yy + h - 5, w, 3);
    } else if (style === SPAN_STYLE.wait) {
      ctx.fillStyle = pal.hatch[cls];
      ctx.fillRect(x0, yy + 4, w, h - 9);
      ctx.strokeStyle = pal.cls[cls]; ctx.lineWidth = 1;
      ctx.strokeRect(x0 + 0.5, yy + 4.5, Math.max(0, w - 1), h - 10);
    } else {
      ctx.fillStyle = pal.clsSpan[cls];
      ctx.fillRect(x0, yy + 4, w, h - 9);
      if (style === SPAN_STYLE.handler) { ctx.fillStyle = pal.foreground; ctx.fillRect(x0, yy + 3, w, 1); }
      if (pal.highContrast) { ctx.strokeStyle = pal.contrastBorder ?? pal.foreground; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, yy + 4.5, Math.max(0, w - 1), h - 10); }
    }
    // skip text on narrow spans
    if (w > 48 && style !== SPAN_STYLE.hold) {
      const name = kindNames[t.spanKind[i]] ?? '';
      ctx.fillStyle = style === SPAN_STYLE.wait || pal.highContrast ? pal.foreground : pal.background;
      const tx = Math.max(x0, labelW) + 4;
      const room = Math.min(x1, cssW) - tx - 4;
      if (room > 20) ctx.fillText(fitText(style === SPAN_STYLE.wait ? `${name} (waiting)` : name, room), tx, yy + h / 2 - 0.5);
    }
    spans++;
    classesDrawn.add(cls);
  }
  return { cells, spans };
}

function fitText(s: string, room: number): string {
  if (ctx.measureText(s).width <= room) return s;
  let lo = 0, hi = s.length;
  while (lo < hi) { const m = (lo + hi + 1) >> 1; if (ctx.measureText(`${s.slice(0, m)}…`).width <= room) lo = m; else hi = m - 1; }
  return lo > 0 ? `${s.slice(0, lo)}…` : '';
}

/** Lane y of a flow end: the lane's middle, or its process lane when the thread is collapsed. */
function laneMid(lane: number): number {
  let y = laneY[lane];
  if (y < 0) { const pl = lanesById[lane]?.processLane; if (pl === undefined || laneY[pl] < 0) return -1; return laneY[pl] - scrollY + PROCESS_H / 2; }
  return y - scrollY + laneH[lane] / 2;
}

interface ArrowGeom { x0: number; y0: number; x1: number; y1: number; tile: DrawTile; i: number }
let arrows: ArrowGeom[] = [];
function drawFlows(tiles: DrawTile[]): number {
  arrows = [];
  ctx.strokeStyle = pal.flow; ctx.fillStyle = pal.flow;
  ctx.lineWidth = 1;
  const npp = nsPerPx();
  ctx.beginPath();
  for (const t of tiles) {
    for (let i = 0; i < t.flowN; i++) {
      // a flow sits in the tile of its start and of its end: draw it from the first, or the second when the first is not drawn
      const fs = t.flowS[i];
      if (!(fs >= t.start && fs < t.end) && tiles.some((o) => o !== t && fs >= o.start && fs < o.end)) continue;
      const y0 = laneMid(t.flowFrom[i]), y1 = laneMid(t.flowTo[i]);
      if (y0 < 0 || y1 < 0) continue;
      const x0 = labelW + (t.flowS[i] - vs) / npp, x1 = labelW + (t.flowE[i] - vs) / npp;
      if ((x0 < labelW && x1 < labelW) || (x0 > cssW && x1 > cssW)) continue;
      if (Math.abs(y1 - y0) < 1 && Math.abs(x1 - x0) < 2) continue;
      ctx.moveTo(x0, y0); ctx.lineTo(x1, y1);
      arrows.push({ x0, y0, x1, y1, tile: t, i });
      if (arrows.length > 20000) break;
    }
  }
  // many arrows at once fade so the marks under them stay readable (density-adaptive, more opaque in high contrast)
  ctx.globalAlpha = Math.max(pal.highContrast ? 0.35 : 0.2, Math.min(1, 250 / Math.max(1, arrows.length)));
  ctx.stroke();
  // arrow heads (only where an arrow is long enough to read)
  ctx.beginPath();
  for (const a of arrows) {
    const dx = a.x1 - a.x0, dy = a.y1 - a.y0, len = Math.hypot(dx, dy);
    if (len < 10) continue;
    const ux = dx / len, uy = dy / len;
    ctx.moveTo(a.x1, a.y1);
    ctx.lineTo(a.x1 - ux * 7 - uy * 3.5, a.y1 - uy * 7 + ux * 3.5);
    ctx.lineTo(a.x1 - ux * 7 + uy * 3.5, a.y1 - uy * 7 - ux * 3.5);
    ctx.lineTo(a.x1, a.y1); // not closePath(): on a path of thousands of heads it costs per call
  }
  ctx.fill();
  ctx.globalAlpha = 1;
  if (hover?.type === 'flow') {
    const a = hover.arrow;
    ctx.strokeStyle = pal.focus; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(a.x0, a.y0); ctx.lineTo(a.x1, a.y1); ctx.stroke();
  }
  return arrows.length;
}

function drawSelection(): void {
  if (!selectedLoc) return;
  const y = laneY[selectedLoc.lane];
  if (y < 0) return;
  const x0 = xOf(selectedLoc.s), x1 = Math.max(x0 + 3, xOf(selectedLoc.e));
  ctx.strokeStyle = pal.focus; ctx.lineWidth = 2;
  ctx.strokeRect(x0 - 2, y - scrollY + 1, x1 - x0 + 4, laneH[selectedLoc.lane] - 3);
}

function drawCursor(): void {
  if (cursorAbs === null || !header) return;
  const x = Math.round(xOf(relOf(cursorAbs))) + 0.5;
  if (x < labelW || x > cssW) return;
  ctx.strokeStyle = pal.foreground; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, cssH); ctx.stroke();
}
/** Moves the cursor; `fromHost` means another view moved it (no echo back), and the view pans to show it. */
function setCursor(abs: string | null, fromHost: boolean): void {
  cursorAbs = abs;
  document.body.dataset.cursor = abs ?? '';
  if (abs !== null && header && fromHost) {
    const t = relOf(abs);
    if (t < vs || t > ve) { const w = ve - vs; setView(t - w / 2, t + w / 2); }
  }
  if (abs !== null && !fromHost) host.post({ type: 'cursor', ns: abs });
  schedule();
}

function drawLabels(): void {
  const H = cssH;
  ctx.fillStyle = pal.labelBackground;
  ctx.fillRect(0, RULER_H, labelW, H - RULER_H);
  ctx.fillStyle = pal.border;
  ctx.fillRect(labelW - 1, 0, 1, H);
  ctx.textBaseline = 'middle';
  const collapsed = new Set(state.collapsed);
  for (const l of visibleLanes) {
    const y = laneY[l.id] - scrollY;
    if (y + laneH[l.id] < RULER_H || y > H) continue;
    const x = 8 + l.depth * 10;
    if (l.kind === 'process') {
      ctx.font = `600 12px ${pal.font}`;
      ctx.fillStyle = pal.foreground;
      ctx.fillText(collapsed.has(l.pid) ? '▸' : '▾', x, y + PROCESS_H / 2);
      ctx.fillText(fitText(l.label, labelW - x - 22), x + 14, y + PROCESS_H / 2);
      ctx.fillStyle = pal.border; ctx.fillRect(0, y, labelW, 1);
    } else {
      ctx.font = `12px ${pal.font}`;
      ctx.fillStyle = pal.muted;
      ctx.fillText(fitText(l.label, labelW - x - 22), x + 14, y + THREAD_H / 2);
    }
  }
}

function drawRuler(): void {
  const W = cssW;
  ctx.fillStyle = pal.labelBackground;
  ctx.fillRect(0, 0, W, RULER_H);
  ctx.fillStyle = pal.border;
  ctx.fillRect(0, RULER_H - 1, W, 1);
  const npp = nsPerPx();
  const step = tickStep(npp);
  ctx.font = `11px ${pal.font}`;
  ctx.textBaseline = 'middle';
  const first = Math.ceil(vs / step) * step;
  for (let t = first; t <= ve; t += step) {
    const x = Math.round(xOf(t)) + 0.5;
    if (x < labelW) continue;
    ctx.fillStyle = pal.border;
    ctx.fillRect(x, RULER_H - 7, 1, 7);
    ctx.fillStyle = pal.muted;
    ctx.fillText(formatNs(t), x + 3, RULER_H / 2 - 2);
  }
  // faint grid through the lanes
  ctx.fillStyle = pal.laneAlt;
  for (let t = first; t <= ve; t += step) { const x = Math.round(xOf(t)); if (x >= labelW) ctx.fillRect(x, RULER_H, 1, cssH - RULER_H); }
  ctx.fillStyle = pal.foreground;
  ctx.font = `600 11px ${pal.font}`;
  ctx.fillText(header ? fitText(header.title, labelW - 12) : '', 8, RULER_H / 2);
}

function drawOverview(): void {
  const W = overview.width / dpr, H = 36;
  octx.setTransform(dpr, 0, 0, dpr, 0, 0);
  octx.fillStyle = pal.labelBackground;
  octx.fillRect(0, 0, W, H);
  if (!header) return;
  const fk = filterKey(filter());
  let level = 0;
  while (TILE_BUCKETS * 2 ** level <= durationNs && level < 62) level++;
  const key = TileCache.key(fk, level, 0);
  const t = cache.peek(key);
  if (!t || t.generation < header.generation) requestTile(level, 0, fk);
  if (t) { overviewTile = t; overviewKey = key; } else if (overviewKey && !overviewKey.startsWith(`${fk}#`)) overviewTile = null;
  const ot = overviewTile;
  const scale = W / Math.max(1, durationNs);
  if (ot) {
    // events per column (all lanes), log scale, in the colour of the busiest class
    const cols = new Float64Array(Math.ceil(W) + 1);
    const colCls = new Uint8Array(cols.length);
    for (let i = 0; i < ot.cellN; i++) {
      if (lanesById[ot.cellLane[i]]?.kind !== 'thread') continue;
      const x = Math.floor((ot.start + ot.cellBucket[i] * ot.bucketNs) * scale);
      if (x < 0 || x >= cols.length) continue;
      if (ot.cellCount[i] > cols[x]) colCls[x] = ot.cellClass[i];
      cols[x] += ot.cellCount[i];
    }
    let max = 1;
    for (const c of cols) if (c > max) max = c;
    const lm = Math.log1p(max);
    for (let x = 0; x < cols.length; x++) {
      if (!cols[x]) continue;
      const h = Math.max(2, (Math.log1p(cols[x]) / lm) * (H - 8));
      octx.fillStyle = pal.cls[colCls[x]] ?? pal.foreground;
      octx.fillRect(x, H - 2 - h, 1, h);
    }
  }
  const x0 = Math.max(0, vs * scale), x1 = Math.min(W, ve * scale);
  octx.fillStyle = pal.selection;
  octx.globalAlpha = 0.3;
  octx.fillRect(x0, 0, Math.max(2, x1 - x0), H);
  octx.globalAlpha = 1;
  octx.strokeStyle = pal.focus; octx.lineWidth = 1;
  octx.strokeRect(x0 + 0.5, 0.5, Math.max(2, x1 - x0) - 1, H - 1);
  octx.fillStyle = pal.border;
  octx.fillRect(0, H - 1, W, 1);
}

// ---------- hit testing ----------
type Hit =
  | { type: 'span'; tile: DrawTile; i: number; lane: number }
  | { type: 'cell'; tile: DrawTile; i: number; lane: number }
  | { type: 'flow'; arrow: ArrowGeom }
  | { type: 'label'; lane: LaneInfo };

function laneAt(y: number): LaneInfo | null {
  for (const l of visibleLanes) { const top = laneY[l.id] - scrollY; if (y >= top && y < top + laneH[l.id]) return l; }
  return null;
}

function hitTest(x: number, y: number): Hit | null {
  if (y < RULER_H) return null;
  const lane = laneAt(y);
  if (x < labelW) return lane ? { type: 'label', lane } : null;
  for (const a of arrows) {
    const dx = a.x1 - a.x0, dy = a.y1 - a.y0, L2 = dx * dx + dy * dy;
    const u = L2 ? Math.max(0, Math.min(1, ((x - a.x0) * dx + (y - a.y0) * dy) / L2)) : 0;
    if (Math.hypot(a.x0 + u * dx - x, a.y0 + u * dy - y) <= 3 && !(lane && Math.abs(y - (laneY[lane.id] - scrollY + laneH[lane.id] / 2)) < 4 && u > 0.02 && u < 0.98 && false))
      if (Math.hypot(a.x0 - x, a.y0 - y) > 4 && Math.hypot(a.x1 - x, a.y1 - y) > 4) return { type: 'flow', arrow: a };
  }
  if (!lane || !header) return null;
  const t = tOf(x), npp = nsPerPx();
  const fk = filterKey(filter());
  const level = levelFor();
  const T = TILE_BUCKETS * 2 ** level;
  const got = tileFor(level, Math.floor(Math.max(0, t) / T), fk);
  if (!got) return null;
  const tile = got.tile;
  let best: Hit | null = null, bestD = 5;
  for (let i = 0; i < tile.spanN; i++) {
    if (tile.spanLane[i] !== lane.id) continue;
    if (t >= tile.spanS[i] && t <= tile.spanE[i]) {
      // holds sit at the lane's foot; elsewhere the call's own span wins
      const isHold = tile.spanStyle[i] === SPAN_STYLE.hold;
      const foot = y > laneY[lane.id] - scrollY + laneH[lane.id] - 6;
      if (isHold !== foot && best) continue;
      best = { type: 'span', tile, i, lane: lane.id }; bestD = 0;
      if (isHold === foot) break;
    }
  }
  if (best) return best;
  for (let i = 0; i < tile.cellN; i++) {
    if (tile.cellLane[i] !== lane.id) continue;
    const cx = labelW + (tile.start + tile.cellBucket[i] * tile.bucketNs - vs) / npp;
    const cw = Math.max(2, tile.bucketNs / npp);
    const d = x < cx ? cx - x : x > cx + cw ? x - cx - cw : 0;
    if (d < bestD) { bestD = d; best = { type: 'cell', tile, i, lane: lane.id }; }
  }
  return best;
}

function hitText(h: Hit): string {
  const base = header ? BigInt(header.originNs) : 0n;
  void base;
  if (h.type === 'flow') {
    const t = h.arrow.tile, i = h.arrow.i;
    const n = t.flowCount[i], bytes = t.flowBytes[i];
    return `<b>${escapeHtml(lanesById[t.flowFrom[i]].label)} → ${escapeHtml(lanesById[t.flowTo[i]].label)}</b><br>` +
      `${n > 1 ? `${n.toLocaleString('en-US')} transfers · ` : ''}${bytes ? `${bytes.toLocaleString('en-US')} bytes` : 'hand-off'}<br>` +
      `<span class="muted">at ${formatNs(t.flowS[i])} → ${formatNs(t.flowE[i])} (latency ${formatNs(t.flowE[i] - t.flowS[i])})</span>`;
  }
  if (h.type === 'label') return `<b>${escapeHtml(h.lane.label)}</b><br>pid ${h.lane.pid}${h.lane.kind === 'thread' ? ` · tid ${h.lane.tid}` : ''}` +
    `${h.lane.kind === 'process' ? '<br><span class="muted">click to fold or unfold its threads</span>' : ''}`;
  const t = h.tile, i = h.i;
  if (h.type === 'span') {
    const style = ['blocking call', 'waiting for a lock', 'holding a lock', 'signal handler'][t.spanStyle[i]];
    return `<b>${escapeHtml(kindNames[t.spanKind[i]] ?? '?')}</b> <span class="muted">${style}</span><br>` +
      `${formatNs(t.spanS[i])} · duration ${formatNs(t.spanE[i] - t.spanS[i])}${t.spanEndEvent[i] === 0xffffffff ? ' (still open)' : ''}<br>` +
      `<span class="muted">${escapeHtml(lanesById[h.lane].label)} · click for details</span>`;
  }
  const n = t.cellCount[i];
  const cls = header?.classes[t.cellClass[i]] ?? '';
  return n > 1
    ? `<b>${n.toLocaleString('en-US')} events</b> <span class="muted">mostly ${escapeHtml(cls)}</span><br>${formatNs(t.start + t.cellBucket[i] * t.bucketNs)} … +${formatNs(t.bucketNs)}<br><span class="muted">zoom in (W) to see them one by one</span>`
    : `<b>${escapeHtml(kindNames[kindOfCell(t, i)] ?? cls)}</b> <span class="muted">${escapeHtml(cls)}</span><br>${formatNs(t.start + t.cellBucket[i] * t.bucketNs)}<br><span class="muted">${escapeHtml(lanesById[h.lane].label)} · click for details</span>`;
}
/** Kind of a single-event cell: cells carry the event index; the kind comes with details. Best guess from the class. */
const cellKinds = new Map<number, number>();
function kindOfCell(t: DrawTile, i: number): number { return cellKinds.get(t.cellEvent[i]) ?? -1; }

// ---------- selection & details ----------
function eventOfHit(h: Hit): number | null {
  if (h.type === 'span') return h.tile.spanBegin[h.i];
  if (h.type === 'cell') return h.tile.cellEvent[h.i];
  if (h.type === 'flow') return h.arrow.tile.flowEvent[h.arrow.i];
  return null;
}

async function select(index: number | null, center = false): Promise<void> {
  selected = index;
  state.selected = index;
  saveState();
  host.post({ type: 'selected', index });
  document.body.dataset.selected = index === null ? '' : String(index);
  if (index === null) { details = null; selectedLoc = null; renderDetails(); schedule(); return; }
  try {
    const [d, loc] = await Promise.all([host.request<'details'>({ type: 'details', index }), host.request<'locate'>({ type: 'locate', index })]);
    if (selected !== index) return;
    details = d.details;
    selectedLoc = { lane: loc.lane, s: relOf(loc.startNs), e: relOf(loc.endNs) };
    if (center) {
      const lane = lanesById[loc.lane];
      if (lane && state.collapsed.includes(lane.pid) && lane.kind === 'thread') { state.collapsed = state.collapsed.filter((p) => p !== lane.pid); layout(); }
      const mid = (selectedLoc.s + selectedLoc.e) / 2;
      const w = ve - vs;
      const need = Math.max(w < (selectedLoc.e - selectedLoc.s) * 1.5 ? (selectedLoc.e - selectedLoc.s) * 3 : w, MIN_WINDOW_NS);
      const nw = need > durationNs / 4 ? Math.max((selectedLoc.e - selectedLoc.s) * 4, 2e4) : need;
      setView(mid - nw / 2, mid + nw / 2);
      const y = laneY[loc.lane];
      if (y >= 0 && (y - scrollY < RULER_H || y - scrollY > cssH - 30)) scrollY = Math.max(0, y - RULER_H - (cssH - RULER_H) / 3);
    }
  } catch (e) {
    details = null; selectedLoc = null;
    host.post({ type: 'log', level: 'warning', message: `details of event ${index}: ${(e as Error).message}` });
    detailsEl.hidden = false;
    detailsEl.innerHTML = `<div class="error">${escapeHtml((e as Error).message)}</div>`;
    document.body.dataset.details = '';
    resizeSoon(); schedule();
    return;
  }
  renderDetails();
  schedule();
}

function renderDetails(): void {
  const d = details;
  document.body.dataset.details = d ? d.call : '';
  if (!d) { detailsEl.hidden = true; resizeSoon(); return; }
  cellKinds.set(d.index, header?.kinds.find((k) => k.name === d.call)?.id ?? -1);
  const origin = header ? BigInt(header.originNs) : 0n;
  const row = (k: string, v: string) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`;
  const at = formatExactNs((BigInt(d.startNs) - origin).toString());
  const src = d.source
    ? `<a href="#" id="openSource" data-file="${escapeHtml(d.source.file)}" data-line="${d.source.line}">${escapeHtml(d.source.file.split('/').pop() ?? d.source.file)}:${d.source.line}</a>`
    : `<span class="muted">${escapeHtml(d.caller)} (no source line in the trace)</span>`;
  detailsEl.innerHTML = `
    <div class="dhead"><span class="swatch" id="swatch"></span><h2>${escapeHtml(d.call)}</h2>
      <span class="muted">${escapeHtml(d.cls)} · ${escapeHtml(d.phase)}</span><vscode-button id="closeDetails" secondary title="Close (Esc)">✕</vscode-button></div>
    <table class="kv">
      ${row('Time', `${at} <span class="muted">after start</span>`)}
      ${d.durationNs !== null ? row('Duration', formatExactNs(d.durationNs) + (d.phase === 'open span' ? ' <span class="muted">(still blocked)</span>' : '')) : ''}
      ${row('Result', `${escapeHtml(d.result)}${d.errno ? ` <span class="errno">${escapeHtml(d.errnoName ?? '')} (${d.errno})</span>` : ''}`)}
      ${row('Process', `${escapeHtml(d.process)} <span class="muted">pid ${d.pid}</span>`)}
      ${row('Thread', `tid ${d.tid}`)}
      ${d.object ? row('Object', `${escapeHtml(d.object)}`) : ''}
      ${row('Source', src)}
    </table>
    <h3>Arguments</h3>
    <table class="kv args">${d.args.map((a) => row(a.name, `<code>${escapeHtml(a.value)}</code>`)).join('') || '<tr><td class="muted">none</td></tr>'}</table>
    ${d.payloadText !== null ? `<h3>Payload${d.payloadTruncated ? ' <span class="muted">(preview, truncated)</span>' : ''}</h3>
      <pre class="payload text">${escapeHtml(d.payloadText)}</pre><pre class="payload hex">${escapeHtml(d.payloadHex ?? '')}</pre>` : ''}
    ${d.related.length ? `<h3>Linked</h3><ul class="related">${d.related.map((r) => `<li><a href="#" data-index="${r.index}">${escapeHtml(r.label)}</a></li>`).join('')}</ul>` : ''}
    <div class="muted small">event #${d.index}${d.endIndex !== null ? ` → #${d.endIndex}` : ''}</div>`;
  // through the CSSOM: the CSP forbids inline style attributes
  (document.getElementById('swatch') as HTMLElement).style.backgroundColor = pal.cls[classIndex.get(d.cls) ?? 0] ?? pal.foreground;
  detailsEl.hidden = false;
  resizeSoon();
}

detailsEl.addEventListener('click', (e) => {
  const a = (e.target as HTMLElement).closest('a, vscode-button') as HTMLElement | null;
  if (!a) return;
  e.preventDefault();
  if (a.id === 'closeDetails') { void select(null); return; }
  if (a.id === 'openSource') { host.post({ type: 'openSource', file: a.dataset.file ?? '', line: Number(a.dataset.line) }); return; }
  if (a.dataset.index) void select(Number(a.dataset.index), true);
});

let resizeQueued = false;
function resizeSoon(): void { if (!resizeQueued) { resizeQueued = true; requestAnimationFrame(() => { resizeQueued = false; resize(); }); } }

// ---------- input: mouse ----------
let drag: { x: number; y: number; vs: number; ve: number; sy: number; moved: boolean } | null = null;
canvas.addEventListener('mousedown', (e) => {
  canvas.focus();
  drag = { x: e.offsetX, y: e.offsetY, vs, ve, sy: scrollY, moved: false };
});
window.addEventListener('mousemove', (e) => {
  const r = canvas.getBoundingClientRect();
  const x = e.clientX - r.left, y = e.clientY - r.top;
  if (drag) {
    const dx = x - drag.x, dy = y - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.moved) {
      const npp = (drag.ve - drag.vs) / Math.max(1, cssW - labelW);
      setView(drag.vs - dx * npp, drag.ve - dx * npp);
      scrollY = Math.max(0, Math.min(Math.max(0, contentH - (cssH - RULER_H)), drag.sy - dy));
      tooltip.hidden = true;
      return;
    }
  }
  if (x < 0 || y < 0 || x > cssW || y > cssH) { if (hover) { hover = null; tooltip.hidden = true; schedule(); } return; }
  mouseX = x;
  const h = hitTest(x, y);
  const changed = JSON.stringify(h && h.type === 'flow' ? [h.arrow.x0, h.arrow.y0] : h && h.type !== 'label' ? [h.type, h.i, h.tile.index] : h?.type) !==
    JSON.stringify(hover && hover.type === 'flow' ? [hover.arrow.x0, hover.arrow.y0] : hover && hover.type !== 'label' ? [hover.type, hover.i, hover.tile.index] : hover?.type);
  hover = h;
  if (h) {
    tooltip.innerHTML = hitText(h);
    tooltip.hidden = false;
    const tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
    tooltip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - tw - 4)}px`;
    tooltip.style.top = `${Math.min(e.clientY + 16, window.innerHeight - th - 4)}px`;
  } else tooltip.hidden = true;
  canvas.style.cursor = h && h.type !== 'label' ? 'pointer' : h?.type === 'label' && h.lane.kind === 'process' ? 'pointer' : 'default';
  if (changed) schedule();
});
window.addEventListener('mouseup', (e) => {
  const d = drag;
  drag = null;
  if (!d || d.moved) return;
  const r = canvas.getBoundingClientRect();
  const cx = e.clientX - r.left, cy = e.clientY - r.top;
  // a click on the time ruler puts the shared time cursor there
  if (header && cy >= 0 && cy < RULER_H && cx >= labelW && cx <= cssW) {
    setCursor((BigInt(header.originNs) + BigInt(Math.max(0, Math.round(tOf(cx))))).toString(), false);
    return;
  }
  const h = hitTest(cx, cy);
  if (h?.type === 'label' && h.lane.kind === 'process') {
    const pid = h.lane.pid;
    state.collapsed = state.collapsed.includes(pid) ? state.collapsed.filter((p) => p !== pid) : [...state.collapsed, pid];
    saveState(); layout(); schedule();
    return;
  }
  const ev = h ? eventOfHit(h) : null;
  void select(ev);
});
let mouseX = -1;
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  if (e.shiftKey) { scrollBy(e.deltaY || e.deltaX); return; }
  if (Math.abs(e.deltaX) > Math.abs(e.deltaY)) { const npp = nsPerPx(); setView(vs + e.deltaX * npp, ve + e.deltaX * npp); return; }
  const f = Math.exp(e.deltaY * (e.deltaMode === 1 ? 0.05 : 0.0025));
  zoomAt(e.offsetX, f);
}, { passive: false });

function scrollBy(dy: number): void {
  scrollY = Math.max(0, Math.min(Math.max(0, contentH - (cssH - RULER_H)), scrollY + dy));
  state.scrollY = scrollY; saveState(); schedule();
}
function zoomAt(x: number, factor: number): void {
  const px = x >= labelW && x <= cssW ? x : labelW + (cssW - labelW) / 2;
  const t = tOf(px);
  setView(t - (t - vs) * factor, t + (ve - t) * factor);
  saveStateSoon();
}
let saveTimer = 0;
function saveStateSoon(): void { clearTimeout(saveTimer); saveTimer = window.setTimeout(saveState, 200); }

// overview: click or drag moves the window there
let ovDrag = false;
const ovMove = (clientX: number) => {
  const r = overview.getBoundingClientRect();
  const t = ((clientX - r.left) / r.width) * durationNs;
  const w = ve - vs;
  setView(t - w / 2, t + w / 2); saveStateSoon();
};
overview.addEventListener('mousedown', (e) => { ovDrag = true; ovMove(e.clientX); });
window.addEventListener('mousemove', (e) => { if (ovDrag) ovMove(e.clientX); });
window.addEventListener('mouseup', () => { ovDrag = false; });

// ---------- input: keys (W/S zoom, A/D pan, as in Perfetto: continuous while held) ----------
const held = new Set<string>();
let keyLast = 0;
function typing(e: KeyboardEvent): boolean {
  const t = e.composedPath()[0] as HTMLElement | undefined;
  return !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
}
window.addEventListener('keydown', (e) => {
  if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key.toLowerCase();
  if (k === 'w' || k === 's' || k === 'a' || k === 'd') {
    e.preventDefault();
    if (!held.has(k)) { held.add(k); if (held.size === 1) keyLast = 0; schedule(); }
  } else if (k === 'escape') void select(null);
  else if (k === '0') fit();
  else if (k === 'f' && selectedLoc) { const w = Math.max((selectedLoc.e - selectedLoc.s) * 3, 2e4); const m = (selectedLoc.s + selectedLoc.e) / 2; setView(m - w / 2, m + w / 2); }
});
window.addEventListener('keyup', (e) => { held.delete(e.key.toLowerCase()); saveStateSoon(); });
window.addEventListener('blur', () => held.clear());
/** Applies held keys for the time since the last frame; true while a key is held. */
function stepKeys(now: number): boolean {
  if (!held.size) return false;
  const dt = keyLast ? Math.min(64, now - keyLast) : 16;
  keyLast = now;
  const w = ve - vs;
  const zoomRate = Math.exp(dt * 0.004);
  if (held.has('w')) zoomAt(mouseX, 1 / zoomRate);
  if (held.has('s')) zoomAt(mouseX, zoomRate);
  const pan = w * dt * 0.0015;
  if (held.has('a')) setView(vs - pan, ve - pan);
  if (held.has('d')) setView(vs + pan, ve + pan);
  return true;
}

// ---------- toolbar ----------
let toolbarTimer = 0;
let toolbarPending = false;
/** Live traces grow ten times a second: rebuild the option lists at most twice a second. */
function toolbarSoon(): void { if (!toolbarTimer) toolbarTimer = window.setTimeout(() => { toolbarTimer = 0; fillToolbar(); }, 500); }
function fillToolbar(): void {
  if (!header) return;
  const hiddenC = new Set(state.hiddenClasses);
  classesEl.innerHTML = header.classes.map((c) => `<vscode-option value="${c}" ${hiddenC.has(c) ? '' : 'selected'}>${c}</vscode-option>`).join('');
  const hiddenP = new Set(state.hiddenPids);
  processesEl.innerHTML = header.lanes.filter((l) => l.kind === 'process')
    .map((l) => `<vscode-option value="${l.pid}" ${hiddenP.has(l.pid) ? '' : 'selected'}>${escapeHtml(l.label)}</vscode-option>`).join('');
  objectEl.innerHTML = `<vscode-option value="" ${state.objectFilter === null ? 'selected' : ''}>All objects</vscode-option>` +
    header.objects.filter((o) => o.type !== 'file' || header!.objects.length < 200).slice(0, 200)
      .map((o) => `<vscode-option value="${o.id}" ${state.objectFilter === o.id ? 'selected' : ''}>${escapeHtml(o.label)}</vscode-option>`).join('');
  followEl.checked = state.follow;
  (followEl as HTMLElement).hidden = !header.live;
  document.body.dataset.toolbar = '1';
}
classesEl.addEventListener('change', () => {
  const shown = new Set(multiValue(classesEl));
  state.hiddenClasses = (header?.classes ?? []).filter((c) => !shown.has(c));
  saveState(); schedule();
});
processesEl.addEventListener('change', () => {
  const shown = new Set(multiValue(processesEl).map(Number));
  state.hiddenPids = (header?.lanes ?? []).filter((l) => l.kind === 'process' && !shown.has(l.pid)).map((l) => l.pid);
  saveState(); layout(); schedule();
});
objectEl.addEventListener('change', () => {
  state.objectFilter = objectEl.value ? Number(objectEl.value) : null;
  saveState(); schedule();
});
followEl.addEventListener('change', () => {
  state.follow = followEl.checked; saveState();
  if (state.follow) { const w = ve - vs; setView(durationNs - w, durationNs, true); }
});
$('fit').addEventListener('click', fit);

async function runSearch(step: number): Promise<void> {
  const text = searchEl.value.trim();
  if (text !== state.search || !searchHits.length) {
    state.search = text; saveState();
    searchHits = []; searchTotal = 0; searchPos = -1;
    if (!text) { searchInfo.textContent = ''; return; }
    const r = await host.request<'search'>({ type: 'search', text, limit: 1000 });
    searchHits = [...r.hits]; searchTotal = r.total;
    if (!searchHits.length) { searchInfo.textContent = 'no match'; document.body.dataset.searchHits = '0'; return; }
  }
  searchPos = (searchPos + step + searchHits.length) % searchHits.length;
  searchInfo.textContent = `${searchPos + 1} / ${searchTotal.toLocaleString('en-US')}${searchTotal > searchHits.length ? ` (first ${searchHits.length})` : ''}`;
  document.body.dataset.searchHits = String(searchTotal);
  await select(searchHits[searchPos].index, true);
}
searchEl.addEventListener('keydown', (e: KeyboardEvent) => {
  if (e.key === 'Enter') { e.preventDefault(); void runSearch(e.shiftKey ? -1 : 1); }
  else if (e.key === 'Escape') { searchEl.value = ''; state.search = ''; searchHits = []; searchInfo.textContent = ''; saveState(); }
});
searchEl.addEventListener('input', () => { if (searchEl.value.trim() !== state.search) { searchHits = []; searchInfo.textContent = ''; } });

// ---------- host messages ----------
function applyHeader(h: TimelineHeader, first: boolean): void {
  const prevDuration = durationNs;
  header = h;
  lanesById = [];
  for (const l of h.lanes) lanesById[l.id] = l;
  classIndex = new Map(h.classes.map((c, i) => [c, i]));
  kindNames = []; kindClass = [];
  for (const k of h.kinds) { kindNames[k.id] = k.name; kindClass[k.id] = classIndex.get(k.cls) ?? 0; }
  durationNs = Math.max(1, Number(BigInt(h.durationNs)));
  (document.getElementById('empty') as HTMLElement).hidden = h.eventCount > 0;
  if (h.traceFile && state.traceFile !== h.traceFile) {
    // another trace than the saved state's: its view and selection mean nothing here
    if (state.traceFile !== null) {
      Object.assign(state, { viewStart: null, viewEnd: null, selected: null, objectFilter: null, hiddenPids: [], collapsed: [] });
      selected = null;
    }
    state.traceFile = h.traceFile; saveState();
  }
  if (first) {
    pal = readPalette(h.classes, ctx);
    // the toolbar's option lists are custom elements whose first render costs a few hundred ms on a slow machine:
    // they are built once the first full frame is on screen (see draw), so the tiles' replies are not kept waiting
    toolbarPending = true;
    if (state.viewStart !== null && state.viewEnd !== null) setView(Number(state.viewStart), Number(state.viewEnd), true);
    else fit();
    if (state.search) searchEl.value = state.search;
  } else {
    if (h.live && state.follow) { const w = Math.min(ve - vs, durationNs * 1.01); setView(durationNs - w * 0.98, durationNs + w * 0.02, true); }
    else if (ve >= prevDuration * 0.999 && vs <= 0) fit();
    toolbarSoon();
  }
  layout();
  schedule();
}

host.onMessage((m: ToWebviewMessage) => {
  switch (m.type) {
    case 'init':
      if (m.protocol !== WEBVIEW_PROTOCOL_VERSION) host.post({ type: 'log', level: 'error', message: `protocol ${m.protocol} ≠ ${WEBVIEW_PROTOCOL_VERSION}: reload the panel` });
      cache.clear(); overviewTile = null;
      perf.initAt = performance.now(); perf.firstFullRenderAt = 0; perf.marks = {}; document.body.dataset.ready = '0';
      applyHeader(m.header, true);
      if (selected !== null) void select(selected);
      break;
    case 'grow': applyHeader(m.header, false); break;
    case 'reveal': void reveal(m.target); break;
    case 'cursor': setCursor(m.ns, true); break;
    case 'sessionEnded': if (header) applyHeader({ ...header, live: false }, false); break;
    default: break;
  }
});

async function reveal(t: RevealTarget): Promise<void> {
  if (!header) return;
  if (t.type === 'event') await select(t.index, true);
  else if (t.type === 'process') {
    const l = header.lanes.find((x) => x.kind === 'process' && x.pid === t.pid);
    if (!l) return;
    state.hiddenPids = state.hiddenPids.filter((p) => p !== t.pid);
    state.collapsed = state.collapsed.filter((p) => p !== t.pid);
    fillToolbar(); layout();
    scrollY = Math.max(0, laneY[l.id] - RULER_H);
    const s = relOf(l.startNs), e = l.endNs ? relOf(l.endNs) : durationNs;
    setView(s - (e - s) * 0.02, e + (e - s) * 0.02);
  } else if (t.type === 'object') {
    state.objectFilter = t.objectId; fillToolbar(); schedule();
  } else setView(relOf(t.startNs), relOf(t.endNs));
  saveState();
}

// ---------- theme ----------
onThemeChange(() => {
  if (!header) return;
  pal = readPalette(header.classes, ctx);
  document.body.dataset.theme = themeKind();
  renderDetails();
  schedule();
});
document.body.dataset.theme = themeKind();

new ResizeObserver(() => resize()).observe(wrap);
window.addEventListener('resize', () => resize());

// ---------- observable state for tests and the bench (read-only) ----------
const api = {
  get header() { return header; },
  get view() { return { startNs: Math.round(vs), endNs: Math.round(ve), level: levelFor(), scrollY, labelW, width: cssW, height: cssH }; },
  get lastFrame() { return { ...perf.lastFrame, classes: [...classesDrawn].map((c) => header?.classes[c] ?? String(c)).sort() }; },
  get selected() { return selected; },
  /** The shared time cursor (absolute ns, decimal string) or null. */
  get cursorNs() { return cursorAbs; },
  /** CSS x of a relative-ns time on the canvas (tests click the ruler there). */
  xOfNs(relNs: number) { return xOf(relNs); },
  get details() { return details; },
  get state() { return JSON.parse(JSON.stringify(state)) as SavedState; },
  get visibleLanes() { return visibleLanes.map((l) => ({ id: l.id, kind: l.kind, pid: l.pid, tid: l.tid, label: l.label, y: laneY[l.id] - scrollY, h: laneH[l.id] })); },
  get tiles() { return { cached: cache.size, loaded: cache.loaded, inflight: cache.inflightCount, pendingRequests: host.pendingRequests }; },
  get palette() { return { kind: pal.kind, background: pal.background, foreground: pal.foreground, classes: [...pal.cls] }; },
  /** Timing since `init`: first full render (ms) and frame work times (ms) and rAF intervals recorded so far. */
  perf() {
    return { firstRenderMs: perf.firstFullRenderAt ? perf.firstFullRenderAt - perf.initAt : null, marks: { ...perf.marks }, frames: perf.frames,
      frameMs: [...perf.frameMs], rafMs: [...perf.rafAt] };
  },
  resetPerf() { perf.frameMs.length = 0; perf.rafAt.length = 0; },
  /** Canvas coordinates (CSS px, relative to the timeline canvas) of a drawn span/mark of a kind name, or of an arrow. */
  findMark(what: { kind?: string; arrow?: boolean; cell?: boolean; style?: 'blocking' | 'wait' | 'hold' | 'handler' }) {
    if (what.cell) {
      const fk = filterKey(filter()), level = levelFor();
      for (const i of wantedTiles(level)) {
        const t = tileFor(level, i, fk)?.tile;
        if (!t) continue;
        for (let k = 0; k < t.cellN; k++) {
          const lane = t.cellLane[k], y = laneY[lane];
          if (y < 0 || lanesById[lane].kind !== 'thread') continue;
          const x = xOf(t.start + t.cellBucket[k] * t.bucketNs) + 1;
          const yy = y - scrollY + laneH[lane] / 2;
          if (x > labelW + 2 && x < cssW - 2 && yy > RULER_H && yy < cssH) return { x, y: yy, event: t.cellEvent[k], lane: lanesById[lane].label };
        }
      }
      return null;
    }
    if (what.arrow) {
      const a = arrows.find((g) => Math.hypot(g.x1 - g.x0, g.y1 - g.y0) > 30 && Math.min(g.x0, g.x1) > labelW && Math.max(g.x0, g.x1) < cssW);
      return a ? { x: (a.x0 + a.x1) / 2, y: (a.y0 + a.y1) / 2, from: lanesById[a.tile.flowFrom[a.i]].label, to: lanesById[a.tile.flowTo[a.i]].label } : null;
    }
    const fk = filterKey(filter()), level = levelFor();
    for (const i of wantedTiles(level)) {
      const got = tileFor(level, i, fk);
      if (!got) continue;
      const t = got.tile;
      const styleNo = what.style ? ['blocking', 'wait', 'hold', 'handler'].indexOf(what.style) : -1;
      for (let k = 0; k < t.spanN; k++) {
        if (what.kind && kindNames[t.spanKind[k]] !== what.kind) continue;
        if (styleNo >= 0 ? t.spanStyle[k] !== styleNo : t.spanStyle[k] === SPAN_STYLE.hold) continue;
        const y = laneY[t.spanLane[k]];
        if (y < 0) continue;
        const x0 = Math.max(labelW, xOf(t.spanS[k])), x1 = Math.min(cssW, xOf(t.spanE[k]));
        if (x1 - x0 < 3) continue;
        const hy = t.spanStyle[k] === SPAN_STYLE.hold ? y - scrollY + laneH[t.spanLane[k]] - 4 : y - scrollY + laneH[t.spanLane[k]] / 2;
        if (hy < RULER_H || hy > cssH) continue;
        return { x: (x0 + x1) / 2, y: hy, event: t.spanBegin[k], lane: lanesById[t.spanLane[k]].label };
      }
    }
    return null;
  },
};
Object.defineProperty(window, '__ipcScopeTimeline', { value: Object.freeze(api), writable: false });

resize();
host.ready();
