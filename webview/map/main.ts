// IPC map: processes (children drawn inside a box per parent) and IPC objects, edges for every use with width by bytes
// or messages and arrows for direction (writer → pipe → reader). Layout by elkjs (layered, model order respected, so
// the picture stays put as a live session grows); drawing on a canvas with pan and zoom; clicking selects in the
// timeline and the tree views.
import ELK from 'elkjs/lib/elk.bundled.js';
import type { ElkNode, ElkExtendedEdge } from 'elkjs/lib/elk-api';
import type { MapData, MapNode, MapEdge } from '../../src/common/panels/map';
import type { PanelHeader } from '../../src/common/panels/protocol';
import { restoreState } from '../shared/state';
import { onThemeChange, withAlpha } from '../shared/theme';
import { BASE_CSS, PanelChannel, fmtBytes, injectCss, pageNonce, perFrame, sizeCanvas, themeColor, translator } from '../pages/panelKit';

const { t, setLocale } = translator({
  title: 'IPC map', weight: 'Edge weight', bytes: 'bytes', messages: 'messages', fit: 'Fit', layingOut: 'Laying out…', empty: 'No IPC in this trace yet.',
  children: 'children of {0}',
}, {
  title: 'IPC 맵', weight: '간선 굵기', bytes: '바이트', messages: '메시지', fit: '맞추기', layingOut: '배치 중…', empty: '이 트레이스에는 아직 IPC가 없습니다.',
  children: '{0}의 자식',
});

interface State { version: 1; weight: 'bytes' | 'messages'; selected?: string }
const channel = new PanelChannel<State>();
let state: State = restoreState(channel.getState(), 1, { version: 1, weight: 'bytes' } as State);
const save = () => channel.setState(state);

injectCss(BASE_CSS + `#map { display: block; width: 100%; cursor: grab; border: 1px solid var(--vscode-panel-border, #8884); } #map.dragging { cursor: grabbing; }`, pageNonce());
document.body.innerHTML = `<div class="toolbar"><strong>${t('title')}</strong>
<label><span id="weight-label">${t('weight')}</span> <select id="weight"><option value="bytes">${t('bytes')}</option><option value="messages">${t('messages')}</option></select></label>
<button id="fit">${t('fit')}</button><span class="note" id="status"></span></div><canvas id="map"></canvas><div class="tooltip" id="tip"></div>`;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const canvas = $<HTMLCanvasElement>('map');
const weightSel = $<HTMLSelectElement>('weight');
weightSel.value = state.weight;

const elk = new ELK();
interface Box { id: string; x: number; y: number; w: number; h: number; node?: MapNode; group?: boolean; label: string }
interface Line { edge: MapEdge; pts: number[]; x0: number; y0: number; x1: number; y1: number }
let boxes: Box[] = [];
let lines: Line[] = [];
let data: MapData = { nodes: [], edges: [] };
let view = { x: 20, y: 20, k: 1 };
let extent = { w: 1, h: 1 };

const NODE_H = 28;
const nodeW = (n: MapNode) => Math.max(70, n.label.length * 7 + 20);

/** Where each node was in the last layout (absolute): a live map is laid out again seeded with these. */
let placed = new Map<string, { x: number; y: number }>();
/** Nodes were added by growLayout since the last full layout. */
let grown = false;

async function layout(): Promise<void> {
  const t0 = performance.now();
  $('status').textContent = t('layingOut');
  // Children of a traced parent sit in one box per parent ("grouped by parent").
  const groups = new Map<string, ElkNode>();
  const root: ElkNode = { id: 'root', layoutOptions: {
    'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES', 'elk.spacing.nodeNode': '12', 'elk.layered.spacing.nodeNodeBetweenLayers': '40',
    'elk.edgeRouting': 'POLYLINE',
    // Big maps: fewer crossing-minimisation sweeps and no parent boxes, so layout stays within seconds.
    ...(data.nodes.length > 300 ? { 'elk.layered.thoroughness': '1', 'elk.hierarchyHandling': 'SEPARATE_CHILDREN' } : {}) }, children: [], edges: [] };
  for (const n of data.nodes) {
    const leaf: ElkNode = { id: n.id, width: nodeW(n), height: NODE_H };
    if (n.kind === 'process' && n.parent && data.nodes.length <= 300) {
      let g = groups.get(n.parent);
      if (!g) { g = { id: `group:${n.parent}`, children: [], layoutOptions: { 'elk.padding': '[top=20,left=8,bottom=8,right=8]' } }; groups.set(n.parent, g); root.children!.push(g); }
      g.children!.push(leaf);
    } else root.children!.push(leaf);
  }
  root.edges = data.edges.map((e): ElkExtendedEdge => ({ id: e.id, sources: [e.from], targets: [e.to] }));
  let out: ElkNode;
  try { out = await elk.layout(root); } catch (err) {
    channel.post({ type: 'log', level: 'warning', message: `map layout with groups failed, laying out flat: ${err}` });
    out = await elk.layout({ ...root, children: data.nodes.map((n) => ({ id: n.id, width: nodeW(n), height: NODE_H })) });
  }
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  boxes = []; lines = [];
  const walk = (n: ElkNode, ox: number, oy: number) => {
    for (const c of n.children ?? []) {
      const x = ox + (c.x ?? 0), y = oy + (c.y ?? 0);
      const node = byId.get(c.id);
      const parentLabel = c.id.startsWith('group:') ? byId.get(c.id.slice(6))?.label ?? '' : '';
      boxes.push({ id: c.id, x, y, w: c.width ?? 0, h: c.height ?? 0, node, group: !node, label: node ? node.label : t('children', parentLabel) });
      walk(c, x, y);
    }
  };
  walk(out, 0, 0);
  placed = new Map(boxes.filter((b) => b.node).map((b) => [b.id, { x: b.x, y: b.y }]));
  grown = false;
  const edgeById = new Map(data.edges.map((e) => [e.id, e]));
  const collect = (n: ElkNode, ox: number, oy: number) => {
    for (const e of n.edges ?? []) {
      const edge = edgeById.get(e.id); if (!edge) continue;
      // Edge coordinates are relative to the edge's container (root here with INCLUDE_CHILDREN, or a group).
      const cont = (e as ElkExtendedEdge & { container?: string }).container;
      const cb = cont && cont !== 'root' ? boxes.find((b) => b.id === cont) : undefined;
      const dx = cb ? cb.x : ox, dy = cb ? cb.y : oy;
      const pts: number[] = [];
      for (const s of e.sections ?? []) {
        pts.push(s.startPoint.x + dx, s.startPoint.y + dy);
        for (const b of s.bendPoints ?? []) pts.push(b.x + dx, b.y + dy);
        pts.push(s.endPoint.x + dx, s.endPoint.y + dy);
      }
      let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
      for (let i = 0; i < pts.length; i += 2) { x0 = Math.min(x0, pts[i]); x1 = Math.max(x1, pts[i]); y0 = Math.min(y0, pts[i + 1]); y1 = Math.max(y1, pts[i + 1]); }
      lines.push({ edge, pts, x0, y0, x1, y1 });
    }
    for (const c of n.children ?? []) collect(c, ox + (c.x ?? 0), oy + (c.y ?? 0));
  };
  collect(out, 0, 0);
  extent = { w: out.width ?? 1, h: out.height ?? 1 };
  invalidateGeometry();
  const ms = performance.now() - t0;
  $('status').textContent = data.nodes.length ? `${data.nodes.length} nodes · ${data.edges.length} edges · layout ${ms.toFixed(0)} ms` : t('empty');
  document.body.dataset.layoutMs = ms.toFixed(1);
}

/**
 * A live map that grew keeps its picture: every node already drawn stays where it is (and its edges keep their
 * routes); each new node goes into the first free place beside a node it connects to (objects right of their
 * writer, processes under their parent's children), new edges are drawn straight. "Fit" lays the whole map out
 * again with elkjs, and so does the end of the recording.
 */
function growLayout(): void {
  const t0 = performance.now();
  const byId = new Map(data.nodes.map((n) => [n.id, n]));
  const old = new Map(boxes.filter((b) => b.node).map((b) => [b.id, b]));
  const kept: Box[] = [...old.values()].map((b) => ({ ...b, node: byId.get(b.id) ?? b.node, label: byId.get(b.id)?.label ?? b.label }));
  const taken = (x: number, y: number, w: number) => kept.some((b) => x < b.x + b.w + 12 && b.x < x + w + 12 && y < b.y + b.h + 8 && b.y < y + NODE_H + 8);
  const place = (n: MapNode, x: number, y: number) => {
    const w = nodeW(n);
    let yy = y;
    while (taken(x, yy, w)) yy += NODE_H + 12;
    const b: Box = { id: n.id, x: Math.max(0, x), y: yy, w, h: NODE_H, node: n, label: n.label };
    kept.push(b);
    return b;
  };
  for (const n of data.nodes) {
    if (old.has(n.id)) continue;
    const at = (id: string) => kept.find((b) => b.id === id);
    let b: Box | undefined;
    for (const e of data.edges) {
      const other = e.from === n.id ? at(e.to) : e.to === n.id ? at(e.from) : undefined;
      if (!other) continue;
      b = place(n, e.from === n.id ? other.x - nodeW(n) - 60 : other.x + other.w + 60, other.y);
      break;
    }
    if (!b && n.parent) {
      const sibs = kept.filter((x) => x.node?.parent === n.parent);
      const p = sibs.length ? sibs.reduce((a, c) => (c.y > a.y ? c : a)) : at(n.parent);
      if (p) b = place(n, p.x, p.y + NODE_H + 12);
    }
    if (!b) place(n, 0, Math.max(0, ...kept.map((x) => x.y + x.h)) + 20);
  }
  // Parent boxes around their children, as laid out.
  const groupBoxes: Box[] = [];
  for (const parent of new Set(data.nodes.filter((n) => n.kind === 'process' && n.parent && data.nodes.length <= 300).map((n) => n.parent!))) {
    const kids = kept.filter((b) => b.node?.parent === parent);
    if (!kids.length) continue;
    const x0 = Math.min(...kids.map((b) => b.x)) - 8, y0 = Math.min(...kids.map((b) => b.y)) - 20;
    const x1 = Math.max(...kids.map((b) => b.x + b.w)) + 8, y1 = Math.max(...kids.map((b) => b.y + b.h)) + 8;
    groupBoxes.push({ id: `group:${parent}`, x: x0, y: y0, w: x1 - x0, h: y1 - y0, group: true, label: t('children', byId.get(parent)?.label ?? '') });
  }
  const oldLines = new Map(lines.map((l) => [l.edge.id, l]));
  const boxOf = new Map(kept.map((b) => [b.id, b]));
  lines = [];
  for (const e of data.edges) {
    const a = boxOf.get(e.from), b = boxOf.get(e.to);
    if (!a || !b) continue;
    const ol = oldLines.get(e.id);
    if (ol && old.has(e.from) && old.has(e.to)) { lines.push({ ...ol, edge: e }); continue; }
    const right = b.x >= a.x + a.w;
    const pts = right ? [a.x + a.w, a.y + a.h / 2, b.x, b.y + b.h / 2] : [a.x, a.y + a.h / 2, b.x + b.w, b.y + b.h / 2];
    lines.push({ edge: e, pts, x0: Math.min(pts[0], pts[2]), y0: Math.min(pts[1], pts[3]), x1: Math.max(pts[0], pts[2]), y1: Math.max(pts[1], pts[3]) });
  }
  boxes = [...groupBoxes, ...kept];
  placed = new Map(kept.map((b) => [b.id, { x: b.x, y: b.y }]));
  grown = true;
  extent = { w: Math.max(extent.w, ...boxes.map((b) => b.x + b.w)), h: Math.max(extent.h, ...boxes.map((b) => b.y + b.h)) };
  invalidateGeometry();
  $('status').textContent = `${data.nodes.length} nodes · ${data.edges.length} edges · placed ${(performance.now() - t0).toFixed(0)} ms`;
}

function fit(): void {
  const w = canvas.clientWidth || 800, h = canvasHeight();
  const k = Math.min(2, Math.max(0.05, Math.min((w - 40) / extent.w, (h - 40) / extent.h)));
  view = { x: (w - extent.w * k) / 2, y: (h - extent.h * k) / 2, k };
}
const canvasHeight = () => Math.max(300, window.innerHeight - 60);

const KIND_COLOR: Record<string, [string, string]> = {
  process: ['--vscode-charts-blue', '#3794ff'], pipe: ['--vscode-charts-green', '#89d185'], fifo: ['--vscode-charts-green', '#89d185'],
  socket: ['--vscode-charts-purple', '#b180d7'], mqueue: ['--vscode-charts-orange', '#d18616'], sysvmsg: ['--vscode-charts-orange', '#d18616'],
  shm: ['--vscode-charts-yellow', '#cca700'], sysvshm: ['--vscode-charts-yellow', '#cca700'], semaphore: ['--vscode-charts-red', '#f14c4c'], eventfd: ['--vscode-charts-green', '#89d185'],
};

// The static picture (groups, edges, nodes, labels) is drawn once into a layer canvas covering the view and half a
// view around it, at the current zoom; panning only blits that layer at a new offset until the view leaves it.
// Drawing the layer is batched: one Path2D per edge style (colour × width step × dash), per arrow colour and per node
// kind, so a 1,000-object map is a few dozen fills and strokes, not thousands (Skia's per-call cost was most of a
// redraw). Level of detail by zoom: no arrows, ellipses or outlines once they are a few pixels, no labels below
// ~35%. The theme's colours are read once per theme; edge widths and arrow heads once per data or weight change.
let sceneVersion = 0;
const invalidate = () => { sceneVersion++; };
let geometryVersion = 0;
/** Layout, data or edge weighting changed: widths and arrow heads are worked out again. */
const invalidateGeometry = () => { geometryVersion++; sceneVersion++; };
let themeVersion = 0;
interface Palette { fg: string; border: string; sel: string; signal: string; edge: string; groupText: string; kinds: Map<string, { stroke: string; fill: string }> }
let palette: Palette | undefined;
let paletteTheme = -1;
/** Per line: its width step (0.5 world units from 1 to 6) and arrow head (tip and two corners). */
let widthStep = new Uint8Array(0);
let arrows = new Float64Array(0);
let preparedGeometry = -1;
const WIDTH_STEPS = 11;
function prepare(): Palette {
  if (!palette || paletteTheme !== themeVersion) {
    const fg = themeColor('--vscode-foreground', '#ccc');
    const kinds = new Map<string, { stroke: string; fill: string }>();
    for (const [k, [v, fb]] of Object.entries(KIND_COLOR)) { const col = themeColor(v, fb); kinds.set(k, { stroke: col, fill: withAlpha(col, 0.25) }); }
    palette = { fg, border: themeColor('--vscode-panel-border', '#80808059'), sel: themeColor('--vscode-focusBorder', '#007fd4'),
      signal: themeColor('--vscode-charts-red', '#f14c4c'), edge: withAlpha(fg, 0.55), groupText: withAlpha(fg, 0.6), kinds };
    paletteTheme = themeVersion;
  }
  if (preparedGeometry !== geometryVersion) {
    let maxW = 1;
    const vals = lines.map((l) => (state.weight === 'bytes' ? Number(BigInt(l.edge.bytes)) : l.edge.messages));
    for (const v of vals) if (v > maxW) maxW = v;
    widthStep = Uint8Array.from(vals, (v) => Math.round(((5 * Math.log1p(v)) / Math.log1p(maxW)) * 2));
    arrows = new Float64Array(lines.length * 6);
    lines.forEach((l, i) => {
      const p = l.pts, n = p.length;
      if (n < 4) return;
      const ax = p[n - 2], ay = p[n - 1], a = Math.atan2(ay - p[n - 3], ax - p[n - 4]);
      arrows.set([ax, ay, ax - 8 * Math.cos(a - 0.4), ay - 8 * Math.sin(a - 0.4), ax - 8 * Math.cos(a + 0.4), ay - 8 * Math.sin(a + 0.4)], i * 6);
    });
    preparedGeometry = geometryVersion;
  }
  return palette;
}

/** A label cut to fit its box (measured once per label, font and width). */
const fitted = new Map<string, string>();
function fitLabel(ctx: CanvasRenderingContext2D, label: string, maxW: number): string {
  const key = `${ctx.font}\n${maxW}\n${label}`;
  let s = fitted.get(key);
  if (s !== undefined) return s;
  s = label;
  if (ctx.measureText(s).width > maxW) {
    let lo = 0, hi = label.length;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ctx.measureText(label.slice(0, mid) + '…').width <= maxW) lo = mid; else hi = mid - 1; }
    s = label.slice(0, lo) + '…';
  }
  if (fitted.size > 20_000) fitted.clear();
  fitted.set(key, s);
  return s;
}

const layer = document.createElement('canvas');
const ZOOM_SETTLE_MS = 120;
let lastZoomAt = -Infinity;
let settleTimer = 0;
let layerAt = { x0: 0, y0: 0, x1: -1, y1: -1, k: 0, version: -1 };

/** Zoom levels (screen pixels) below which details are left out. */
const LOD = { arrowPx: 2.5, outlinePx: 6, labelK: 0.35, groupLabelK: 0.4 };

/** Draws what lies in world rectangle `r` (the context is already scaled to zoom `k` and clipped). */
function drawScene(ctx: CanvasRenderingContext2D, r: { x0: number; y0: number; x1: number; y1: number }, k: number): void {
  const pal = prepare();
  // Only what lies in the layer's world rectangle is drawn.
  const visible = (b: Box) => b.x + b.w >= r.x0 && b.x <= r.x1 && b.y + b.h >= r.y0 && b.y <= r.y1;
  const sel = state.selected;

  // Parent boxes: one dashed path.
  const groups = new Path2D();
  const groupLabels: Box[] = [];
  for (const b of boxes) if (b.group && visible(b)) { groups.rect(b.x, b.y, b.w, b.h); if (k > LOD.groupLabelK) groupLabels.push(b); }
  ctx.lineWidth = 1 / k; ctx.strokeStyle = pal.border; ctx.setLineDash([4, 3]);
  ctx.stroke(groups);

  // Edges: a path per style (colour: plain or signal; dashed or not; width step) and a path of arrow heads per colour.
  const edgePaths: (Path2D | undefined)[] = new Array(2 * 2 * WIDTH_STEPS);
  const heads = [new Path2D(), new Path2D()];
  const withHeads = 8 * k >= LOD.arrowPx;
  let hotLine = -1;
  for (let li = 0; li < lines.length; li++) {
    const l = lines[li], p = l.pts;
    if (p.length < 4 || l.x1 < r.x0 || l.x0 > r.x1 || l.y1 < r.y0 || l.y0 > r.y1) continue;
    if (sel === l.edge.id) { hotLine = li; continue; }
    const signal = l.edge.use === 'signal' ? 1 : 0, dashed = l.edge.use === 'open' || l.edge.use === 'map' ? 1 : 0;
    const s = (signal * 2 + dashed) * WIDTH_STEPS + widthStep[li];
    const path = edgePaths[s] ?? (edgePaths[s] = new Path2D());
    path.moveTo(p[0], p[1]); for (let i = 2; i < p.length; i += 2) path.lineTo(p[i], p[i + 1]);
    if (withHeads) { const a = li * 6, hp = heads[signal]; hp.moveTo(arrows[a], arrows[a + 1]); hp.lineTo(arrows[a + 2], arrows[a + 3]); hp.lineTo(arrows[a + 4], arrows[a + 5]); hp.closePath(); }
  }
  for (let s = 0; s < edgePaths.length; s++) {
    const path = edgePaths[s];
    if (!path) continue;
    const style = Math.floor(s / WIDTH_STEPS);
    ctx.setLineDash(style & 1 ? [4, 3] : []);
    ctx.strokeStyle = style & 2 ? pal.signal : pal.edge;
    ctx.lineWidth = 1 + (s % WIDTH_STEPS) / 2;
    ctx.stroke(path);
  }
  ctx.setLineDash([]);
  ctx.fillStyle = pal.edge; ctx.fill(heads[0]);
  ctx.fillStyle = pal.signal; ctx.fill(heads[1]);
  if (hotLine >= 0) {
    const l = lines[hotLine], p = l.pts, a = hotLine * 6;
    ctx.strokeStyle = pal.sel; ctx.fillStyle = pal.sel; ctx.lineWidth = 2 + 1 + widthStep[hotLine] / 2;
    if (l.edge.use === 'open' || l.edge.use === 'map') ctx.setLineDash([4, 3]);
    ctx.beginPath(); ctx.moveTo(p[0], p[1]); for (let i = 2; i < p.length; i += 2) ctx.lineTo(p[i], p[i + 1]); ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath(); ctx.moveTo(arrows[a], arrows[a + 1]); ctx.lineTo(arrows[a + 2], arrows[a + 3]); ctx.lineTo(arrows[a + 4], arrows[a + 5]); ctx.fill();
  }

  // Nodes: a path per kind, filled once and outlined once; a few pixels tall they are solid rectangles.
  const outlined = NODE_H * k >= LOD.outlinePx;
  const nodePaths = new Map<string, Path2D>();
  const labelled: Box[] = [];
  let hotBox: Box | undefined;
  for (const b of boxes) {
    if (b.group || !b.node || !visible(b)) continue;
    if (k > LOD.labelK) labelled.push(b);
    if (sel === b.id) { hotBox = b; continue; }
    const kind = pal.kinds.has(b.node.kind) ? b.node.kind : 'process';
    let path = nodePaths.get(kind);
    if (!path) nodePaths.set(kind, (path = new Path2D()));
    if (b.node.kind === 'process' || !outlined) path.rect(b.x, b.y, b.w, b.h);
    else { path.moveTo(b.x + b.w, b.y + b.h / 2); path.ellipse(b.x + b.w / 2, b.y + b.h / 2, b.w / 2, b.h / 2, 0, 0, Math.PI * 2); }
  }
  ctx.lineWidth = 1.2 / Math.max(0.5, k);
  for (const [kind, path] of nodePaths) {
    const c = pal.kinds.get(kind)!;
    if (outlined) { ctx.fillStyle = c.fill; ctx.fill(path); ctx.strokeStyle = c.stroke; ctx.stroke(path); }
    else { ctx.fillStyle = c.stroke; ctx.fill(path); }
  }
  if (hotBox) {
    const b = hotBox, c = pal.kinds.get(b.node!.kind) ?? pal.kinds.get('process')!;
    ctx.fillStyle = c.fill; ctx.strokeStyle = pal.sel; ctx.lineWidth = 3 / Math.max(0.5, k);
    ctx.beginPath();
    if (b.node!.kind === 'process') ctx.rect(b.x, b.y, b.w, b.h); else ctx.ellipse(b.x + b.w / 2, b.y + b.h / 2, b.w / 2, b.h / 2, 0, 0, Math.PI * 2);
    ctx.fill(); ctx.stroke();
  }

  // Labels last, in two fonts: one state change each.
  if (groupLabels.length) {
    ctx.fillStyle = pal.groupText; ctx.font = '10px sans-serif';
    for (const b of groupLabels) ctx.fillText(b.label, b.x + 4, b.y + 12); // may run past a narrow group, as it always did
  }
  if (labelled.length) {
    ctx.fillStyle = pal.fg; ctx.font = '12px sans-serif';
    for (const b of labelled) ctx.fillText(fitLabel(ctx, b.label, b.w - 14), b.x + 10, b.y + 18);
  }
}

// The layer is painted in a 4×4 grid of cells (each a quarter of the view): a fresh layer is painted only where the
// view is (its middle 2×2 cells), the ring around it in idle time, one or a few cells per idle callback, and a cell
// the view reaches before that is painted then. So drawing afresh costs one view's worth of the map, not four.
const CELLS = 4, ALL_CELLS = (1 << (CELLS * CELLS)) - 1;
let painted = 0;
let layerCss = { w: 1, h: 1 };

function resetLayer(w: number, h: number, vx0: number, vy0: number): void {
  const k = view.k, mx = w / 2 / k, my = h / 2 / k;
  layerAt = { x0: vx0 - mx, y0: vy0 - my, x1: vx0 + w / k + mx, y1: vy0 + h / k + my, k, version: sceneVersion };
  layerCss = { w: w * 2, h: h * 2 };
  // Not cleared as a whole (a quarter to a millisecond on 4× the view): each cell is cleared when it is painted, and
  // draw() paints every cell under the view before it shows the layer.
  sizeCanvas(layer, w * 2, h * 2);
  painted = 0;
  document.body.dataset.layerRenders = String(Number(document.body.dataset.layerRenders ?? '0') + 1);
}

/** Paints the cells [c0, c1] × [r0, r1] of the layer (one pass, clipped to them). */
function paintCells(c0: number, c1: number, r0: number, r1: number): void {
  const L = layerAt, k = L.k, cw = layerCss.w / CELLS, ch = layerCss.h / CELLS;
  const x = c0 * cw, y = r0 * ch, W = (c1 - c0 + 1) * cw, H = (r1 - r0 + 1) * ch;
  const ctx = sizeCanvas(layer, layerCss.w, layerCss.h);
  ctx.save();
  ctx.beginPath(); ctx.rect(x, y, W, H); ctx.clip();
  ctx.clearRect(x, y, W, H);
  ctx.scale(k, k); ctx.translate(-L.x0, -L.y0);
  // Strokes and arrow heads reach a few pixels past their boxes: draw what is that close to the cells too.
  const pad = 10 + 4 / k;
  drawScene(ctx, { x0: L.x0 + x / k - pad, y0: L.y0 + y / k - pad, x1: L.x0 + (x + W) / k + pad, y1: L.y0 + (y + H) / k + pad }, k);
  ctx.restore();
  for (let rr = r0; rr <= r1; rr++) for (let c = c0; c <= c1; c++) painted |= 1 << (rr * CELLS + c);
  document.body.dataset.layerComplete = painted === ALL_CELLS ? '1' : '0';
}

/** Paints the cells under world rectangle v that are not painted yet. */
function paintUnder(v: { x0: number; y0: number; x1: number; y1: number }): void {
  const L = layerAt, cw = layerCss.w / CELLS, ch = layerCss.h / CELLS, clamp = (i: number) => Math.max(0, Math.min(CELLS - 1, i));
  const c0 = clamp(Math.floor(((v.x0 - L.x0) * L.k) / cw + 1e-6)), c1 = clamp(Math.ceil(((v.x1 - L.x0) * L.k) / cw - 1e-6) - 1);
  const r0 = clamp(Math.floor(((v.y0 - L.y0) * L.k) / ch + 1e-6)), r1 = clamp(Math.ceil(((v.y1 - L.y0) * L.k) / ch - 1e-6) - 1);
  // The smallest block of those cells that holds every unpainted one (painting a painted cell again is harmless).
  let a0 = CELLS, a1 = -1, b0 = CELLS, b1 = -1;
  for (let rr = r0; rr <= r1; rr++) for (let c = c0; c <= c1; c++) {
    if (painted & (1 << (rr * CELLS + c))) continue;
    a0 = Math.min(a0, c); a1 = Math.max(a1, c); b0 = Math.min(b0, rr); b1 = Math.max(b1, rr);
  }
  if (a1 >= 0) paintCells(a0, a1, b0, b1);
}

let idleQueued = false;
function paintRingWhenIdle(): void {
  if (idleQueued || painted === ALL_CELLS) return;
  idleQueued = true;
  requestIdleCallback((deadline) => {
    idleQueued = false;
    // A layer that went stale meanwhile is replaced by the next draw, not finished.
    if (layerAt.version !== sceneVersion || layerAt.k !== view.k) return;
    // Nearest the view first; stop while there is time left for a frame.
    const order = [...Array(CELLS * CELLS).keys()].filter((i) => !(painted & (1 << i)))
      .sort((a, b) => Math.hypot((a % CELLS) - 1.5, Math.floor(a / CELLS) - 1.5) - Math.hypot((b % CELLS) - 1.5, Math.floor(b / CELLS) - 1.5));
    for (const i of order) {
      paintCells(i % CELLS, i % CELLS, Math.floor(i / CELLS), Math.floor(i / CELLS));
      if (deadline.timeRemaining() < 4) break;
    }
    paintRingWhenIdle();
  }, { timeout: 1000 });
}

function draw(): void {
  const t0 = performance.now();
  const w = canvas.parentElement!.clientWidth - 2, h = canvasHeight();
  const ctx = sizeCanvas(canvas, w, h);
  ctx.clearRect(0, 0, w, h);
  const vx0 = -view.x / view.k, vy0 = -view.y / view.k, vx1 = vx0 + w / view.k, vy1 = vy0 + h / view.k;
  const L = layerAt;
  const covers = vx0 >= L.x0 && vy0 >= L.y0 && vx1 <= L.x1 && vy1 <= L.y1;
  // While the wheel turns, the layer is scaled (a little blurry); it is drawn sharp once zooming pauses.
  const zooming = L.k !== view.k && performance.now() - lastZoomAt < ZOOM_SETTLE_MS;
  if (L.version !== sceneVersion || !covers || (L.k !== view.k && !zooming)) resetLayer(w, h, vx0, vy0);
  else if (zooming) { clearTimeout(settleTimer); settleTimer = window.setTimeout(redraw, ZOOM_SETTLE_MS); }
  paintUnder({ x0: vx0, y0: vy0, x1: vx1, y1: vy1 });
  paintRingWhenIdle();
  // The layer's world rectangle, on screen.
  ctx.drawImage(layer, view.x + layerAt.x0 * view.k, view.y + layerAt.y0 * view.k, (layerAt.x1 - layerAt.x0) * view.k, (layerAt.y1 - layerAt.y0) * view.k);
  const ds = document.body.dataset;
  ds.nodeCount = String(data.nodes.length); ds.edgeCount = String(data.edges.length); ds.drawn = String(lines.length);
  ds.frames = String(Number(ds.frames ?? '0') + 1); ds.lastFrameMs = (performance.now() - t0).toFixed(2);
}
const redraw = perFrame(draw);

function hit(cx: number, cy: number): { box?: Box; line?: Line } {
  const x = (cx - view.x) / view.k, y = (cy - view.y) / view.k;
  for (const b of boxes) if (!b.group && b.node && x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h) return { box: b };
  let best: Line | undefined, bestD = 6 / view.k;
  for (const l of lines) for (let i = 0; i + 3 < l.pts.length; i += 2) {
    const [x0, y0, x1, y1] = [l.pts[i], l.pts[i + 1], l.pts[i + 2], l.pts[i + 3]];
    const dx = x1 - x0, dy = y1 - y0, L = dx * dx + dy * dy || 1, u = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / L));
    const d = Math.hypot(x - (x0 + u * dx), y - (y0 + u * dy));
    if (d < bestD) { bestD = d; best = l; }
  }
  return { line: best };
}

let drag: { x: number; y: number; vx: number; vy: number; moved: boolean } | undefined;
canvas.addEventListener('mousedown', (e) => { drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, moved: false }; canvas.classList.add('dragging'); });
window.addEventListener('mouseup', (e) => {
  canvas.classList.remove('dragging');
  if (drag && !drag.moved) {
    const r = canvas.getBoundingClientRect(); const h = hit(e.clientX - r.left, e.clientY - r.top);
    if (h.box?.node) {
      const n = h.box.node; state.selected = n.id;
      channel.post({ type: 'select', selection: n.kind === 'process' ? { type: 'process', pid: n.pid! } : { type: 'object', key: n.id, label: n.label } });
    } else if (h.line) { state.selected = h.line.edge.id; channel.post({ type: 'select', selection: { type: 'edge', from: h.line.edge.from, to: h.line.edge.to } }); }
    else state.selected = undefined;
    document.body.dataset.selected = state.selected ?? '';
    invalidate(); save(); redraw();
  }
  drag = undefined;
});
canvas.addEventListener('mousemove', (e) => {
  const tip = $('tip');
  if (drag) { const dx = e.clientX - drag.x, dy = e.clientY - drag.y; if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true; view.x = drag.vx + dx; view.y = drag.vy + dy; redraw(); tip.style.display = 'none'; return; }
  const r = canvas.getBoundingClientRect(); const h = hit(e.clientX - r.left, e.clientY - r.top);
  if (h.line) { const ed = h.line.edge; tip.textContent = `${ed.from} → ${ed.to}\n${ed.use}: ${fmtBytes(BigInt(ed.bytes))}, ${ed.messages} ${t('messages')}`; }
  else if (h.box?.node) tip.textContent = `${h.box.node.label}\n${h.box.node.kind}`;
  else { tip.style.display = 'none'; return; }
  tip.style.display = 'block'; tip.style.left = `${e.clientX + 14}px`; tip.style.top = `${e.clientY + 14}px`;
});
canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  const r = canvas.getBoundingClientRect(), cx = e.clientX - r.left, cy = e.clientY - r.top;
  const k = Math.min(4, Math.max(0.02, view.k * Math.exp(-e.deltaY * 0.0015)));
  view.x = cx - ((cx - view.x) * k) / view.k; view.y = cy - ((cy - view.y) * k) / view.k; view.k = k;
  lastZoomAt = performance.now();
  redraw();
}, { passive: false });
weightSel.addEventListener('change', () => { state.weight = weightSel.value as State['weight']; invalidateGeometry(); save(); redraw(); });
// After live growth, Fit also lays the whole map out again (new nodes were only put beside their neighbours).
$('fit').addEventListener('click', () => { void (grown ? layout() : Promise.resolve()).then(() => { fit(); redraw(); }); });
window.addEventListener('resize', redraw);
onThemeChange(() => { themeVersion++; invalidate(); redraw(); });

/** For tests and the bench: pan by (dx, dy) pixels and draw now. */
(window as unknown as { __mapPan(dx: number, dy: number): number }).__mapPan = (dx, dy) => { view.x += dx; view.y += dy; const t0 = performance.now(); draw(); return performance.now() - t0; };
/** For the bench: zoom by `f` about the canvas centre and draw now (every zoom step redraws the layer). */
(window as unknown as { __mapZoom(f: number): number }).__mapZoom = (f) => {
  const cx = canvas.clientWidth / 2, cy = canvasHeight() / 2, k = view.k * f;
  view.x = cx - ((cx - view.x) * k) / view.k; view.y = cy - ((cy - view.y) * k) / view.k; view.k = k;
  lastZoomAt = performance.now();
  const t0 = performance.now(); draw(); return performance.now() - t0;
};
/**
 * For the bench: the cost of drawing the layer afresh. 'selection' is what a click or a zoom pause costs; 'data' also
 * works out widths and arrow heads and reads the theme again (new data, a weight or theme change).
 */
(window as unknown as { __mapRedraw(what?: 'selection' | 'data'): number }).__mapRedraw = (what = 'data') => {
  if (what === 'data') { themeVersion++; invalidateGeometry(); } else invalidate();
  const t0 = performance.now(); draw(); return performance.now() - t0;
};
/** For the bench: set the zoom (about the canvas centre) without drawing. */
(window as unknown as { __mapSetZoom(k: number): void }).__mapSetZoom = (k) => {
  const cx = canvas.clientWidth / 2, cy = canvasHeight() / 2;
  view.x = cx - ((cx - view.x) * k) / view.k; view.y = cy - ((cy - view.y) * k) / view.k; view.k = k;
};
/** For the bench: the current view (k is the zoom). */
(window as unknown as { __mapView(): { x: number; y: number; k: number } }).__mapView = () => ({ ...view });
/** For tests: the client position of a node's centre. */
(window as unknown as { __mapNodeAt(id: string): [number, number] | null }).__mapNodeAt = (id) => {
  const b = boxes.find((x) => x.id === id); if (!b) return null;
  const r = canvas.getBoundingClientRect();
  return [r.left + view.x + (b.x + b.w / 2) * view.k, r.top + view.y + (b.y + b.h / 2) * view.k];
};

let header: PanelHeader | undefined;
let firstLayout = true;
channel.onMessage(async (m) => {
  if (m.type === 'mapInit') {
    header = m.header; setLocale(header.locale); document.title = t('title');
    $('fit').textContent = t('fit'); $('weight-label').textContent = t('weight');
    weightSel.options[0].textContent = t('bytes'); weightSel.options[1].textContent = t('messages');
    const grew = header.live && placed.size > 0 && [...placed.keys()].every((id) => m.data.nodes.some((n) => n.id === id));
    data = m.data;
    if (grew) growLayout(); else await layout();
    if (firstLayout) { fit(); firstLayout = false; }
    draw();
    document.body.dataset.mapReady = String(header.generation);
  } else if (m.type === 'selection') {
    const s = m.selection;
    state.selected = s?.type === 'process' || s?.type === 'thread' ? `proc:${s.pid}` : s?.type === 'object' ? s.key : s?.type === 'edge' ? `${s.from}->${s.to}` : undefined;
    invalidate(); redraw();
  }
});
channel.ready();
