// Page-table panel: a process's mappings, and for a chosen mapping one cell per page coloured by state, with the
// fork partner's grid beside it (same virtual pages aligned). Scrubbing the time cursor replays faults and snapshots
// incrementally (PageGridReplay); only the cells that changed are repainted into a 1-pixel-per-page image that is
// scaled up on a canvas, so a 25,600-page mapping scrubs at frame rate.
import { PAGE_STATE_NAMES, PAGE_SIZE, PageGridReplay, countersAt, type MappingInfo, type PageCountersPacked, type ProcessPages } from '../../src/common/panels/pages';
import type { PagesGrids, PagesInit, PanelHeader } from '../../src/common/panels/protocol';
import { restoreState } from '../shared/state';
import { onThemeChange, withAlpha } from '../shared/theme';
import { BASE_CSS, PanelChannel, TimeScrubber, fmtDuration, injectCss, pageNonce, perFrame, rgba32, sizeCanvas, themeColor, translator } from './panelKit';

const { t, setLocale } = translator({
  title: 'Page tables', process: 'Process', mapping: 'Mapping', snapshotNow: 'Snapshot now', prevChange: 'Previous fault or snapshot (,)',
  nextChange: 'Next fault or snapshot (.)', timeCursor: 'Time cursor', cursorAt: 'cursor +{0}', pages: '{0} pages',
  notPresent: 'not present', private: 'private', shared: 'shared', copied: 'copied (CoW)', fileClean: 'file clean', fileDirty: 'file dirty',
  forkChild: 'child {0} (forked)', forkParent: 'parent {0}', thisProcess: 'process {0}', notYet: 'not forked yet at the cursor',
  address: 'address', state: 'state', frame: 'frame (PFN)', exclusive: 'exclusively mapped', mapcount: 'map count', fault: 'last fault',
  site: 'at', major: 'major', minor: 'minor', yes: 'yes', no: 'no', noFrames: '(frames need root)',
  counters: 'Counters over time', resident: 'resident', pss: 'PSS', minorFaults: 'minor faults', majorFaults: 'major faults',
  noData: 'No page data in this trace yet.', noGrid: 'This mapping has no page data (no snapshot or fault touched it).', waiting: 'Waiting for the trace…',
  sessionEnded: 'The session ended.', tooBig: 'This mapping is too large to draw page by page.',
}, {
  title: '페이지 테이블', process: '프로세스', mapping: '매핑', snapshotNow: '지금 스냅샷', prevChange: '이전 폴트 또는 스냅샷 (,)',
  nextChange: '다음 폴트 또는 스냅샷 (.)', timeCursor: '시간 커서', cursorAt: '커서 +{0}', pages: '{0}페이지',
  notPresent: '없음', private: '전용', shared: '공유', copied: '복사됨 (CoW)', fileClean: '파일 (깨끗함)', fileDirty: '파일 (수정됨)',
  forkChild: '자식 {0} (fork)', forkParent: '부모 {0}', thisProcess: '프로세스 {0}', notYet: '커서 시점에는 아직 fork 전',
  address: '주소', state: '상태', frame: '프레임 (PFN)', exclusive: '단독 매핑', mapcount: '매핑 수', fault: '마지막 폴트',
  site: '위치', major: '메이저', minor: '마이너', yes: '예', no: '아니오', noFrames: '(프레임은 root 권한 필요)',
  counters: '시간에 따른 카운터', resident: '상주', pss: 'PSS', minorFaults: '마이너 폴트', majorFaults: '메이저 폴트',
  noData: '이 트레이스에는 아직 페이지 데이터가 없습니다.', noGrid: '이 매핑에는 페이지 데이터가 없습니다 (스냅샷이나 폴트가 없음).', waiting: '트레이스를 기다리는 중…',
  sessionEnded: '세션이 끝났습니다.', tooBig: '페이지 단위로 그리기에는 너무 큰 매핑입니다.',
});

interface State { version: 1; conn?: number; mappingId?: string; cursorNs?: string }
const channel = new PanelChannel<State>();
let state: State = restoreState(channel.getState(), 1, { version: 1 } as State);
const save = () => channel.setState(state);

injectCss(BASE_CSS + `
.grids { display: flex; gap: 16px; flex-wrap: wrap; }
.grid-box h3 { margin: 4px 0; }
.grid-box canvas { display: block; image-rendering: pixelated; border: 1px solid var(--vscode-panel-border, #8884); }
.counts { font-variant-numeric: tabular-nums; color: var(--vscode-descriptionForeground); margin: 2px 0 0; }
#chart { width: 100%; }
`, pageNonce());

document.body.innerHTML = `
<div class="toolbar">
  <label>${t('process')} <select id="process"></select></label>
  <label>${t('mapping')} <select id="mapping"></select></label>
  <button id="snapshot" hidden>${t('snapshotNow')}</button>
  <span class="legend" id="legend"></span>
</div>
<div id="scrub"></div>
<div class="grids" id="grids"></div>
<h3>${t('counters')}</h3>
<canvas id="chart"></canvas>
<div class="counts" id="counter-values"></div>
<div id="notes"></div>
<div class="tooltip" id="tip"></div>`;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const procSel = $<HTMLSelectElement>('process'), mapSel = $<HTMLSelectElement>('mapping');
const tip = $('tip');
const scrubber = new TimeScrubber(t);
$('scrub').append(scrubber.el);

let header: PanelHeader | undefined;
let processes: readonly ProcessPages[] = [];
interface GridView { replay: PageGridReplay; mapping?: MappingInfo; canvas: HTMLCanvasElement; image: ImageData; pixels: Uint32Array;
  off: HTMLCanvasElement; cols: number; rows: number; cell: number; title: HTMLElement; counts: HTMLElement; startNs: bigint; label: string }
let grids: GridView[] = [];
let counters: readonly PageCountersPacked[] = [];
let palette: number[] = [];
let cssPalette: string[] = [];

function readPalette(): void {
  cssPalette = [
    themeColor('--vscode-editorWidget-background', '#252526'),
    themeColor('--vscode-charts-blue', '#3794ff'),
    themeColor('--vscode-charts-green', '#89d185'),
    themeColor('--vscode-charts-orange', '#d18616'),
    themeColor('--vscode-charts-purple', '#b180d7'),
    themeColor('--vscode-charts-red', '#f14c4c'),
  ];
  palette = cssPalette.map(rgba32);
  $('legend').innerHTML = '';
  PAGE_STATE_NAMES.forEach((n, i) => {
    const s = document.createElement('span');
    const sw = document.createElement('span'); sw.className = 'swatch'; sw.style.background = cssPalette[i];
    s.append(sw, document.createTextNode(t(n)));
    $('legend').append(s);
  });
}

function fillSelect(sel: HTMLSelectElement, items: { value: string; text: string }[], value: string | undefined): void {
  sel.innerHTML = '';
  for (const it of items) { const o = document.createElement('option'); o.value = it.value; o.textContent = it.text; sel.append(o); }
  if (value !== undefined && items.some((i) => i.value === value)) sel.value = value;
}

function mappingText(m: MappingInfo): string {
  const what = m.path || (m.shared ? '[shared anon]' : '[anon]');
  return `${m.start}–${m.end} ${m.perms} ${what} (${t('pages', m.pageCount)})`;
}

function onInit(init: PagesInit): void {
  header = init.header;
  setLocale(header.locale);
  processes = init.processes;
  document.title = t('title');
  $('snapshot').hidden = !header.live;
  scrubber.setExtent(BigInt(header.startNs), BigInt(header.endNs));
  const withPages = processes.filter((p) => p.mappings.some((m) => m.hasPages));
  const list = withPages.length ? withPages : processes;
  fillSelect(procSel, list.map((p) => ({ value: String(p.conn), text: `${p.exe.split('/').pop()} ${p.pid}${p.origin === 'fork' ? ' (fork)' : ''}` })), state.conn !== undefined ? String(state.conn) : undefined);
  if (!list.length) { $('notes').textContent = t('noData'); document.body.dataset.pagesReady = '1'; return; }
  onProcessChosen(true);
  // While recording, a panel nobody has moved the cursor of shows the newest state (it follows the recording).
  const cursor = header.cursorNs ?? (followLive && header.live ? header.endNs : state.cursorNs);
  scrubber.set(cursor !== undefined && cursor !== null ? BigInt(cursor) : BigInt(header.startNs));
}

function currentProcess(): ProcessPages | undefined { return processes.find((p) => String(p.conn) === procSel.value); }

function onProcessChosen(keepMapping: boolean): void {
  const p = currentProcess();
  if (!p) return;
  state.conn = p.conn; save();
  // Mappings with page data first, the largest first: the interesting one (the CoW buffer) is the default.
  const maps = [...p.mappings].sort((a, b) => Number(b.hasPages) - Number(a.hasPages) || b.pageCount - a.pageCount);
  fillSelect(mapSel, maps.map((m) => ({ value: m.id, text: mappingText(m) })), keepMapping ? state.mappingId : undefined);
  const notes = $('notes'); notes.innerHTML = '';
  for (const n of p.notes) { const d = document.createElement('div'); d.className = 'note'; d.textContent = n; notes.append(d); }
  onMappingChosen();
}

function onMappingChosen(): void {
  state.mappingId = mapSel.value; save();
  if (mapSel.value) channel.post({ type: 'requestGrids', mappingId: mapSel.value });
}

function onGrids(data: PagesGrids): void {
  if (data.mappingId !== mapSel.value) return;
  counters = data.counters;
  const box = $('grids'); box.innerHTML = '';
  grids = [];
  if (!data.grids.length) { box.textContent = t('noGrid'); document.body.dataset.pagesReady = '1'; drawAll(true); return; }
  const width = Math.max(240, (box.clientWidth || document.body.clientWidth - 24) / data.grids.length - 16);
  const n = data.grids[0].pageCount;
  // One layout for both grids so the same virtual page sits at the same cell.
  const cell = Math.max(1, Math.min(24, Math.floor(Math.sqrt((width * 420) / n))));
  const cols = Math.max(1, Math.min(n, Math.floor(width / cell)));
  const rows = Math.ceil(n / cols);
  const self = currentProcess();
  data.grids.forEach((g, i) => {
    const wrap = document.createElement('div'); wrap.className = 'grid-box';
    const title = document.createElement('h3');
    const proc = processes.find((p) => p.conn === g.conn);
    const label = i === 0 ? t('thisProcess', g.pid) : proc?.forkParent === self?.conn ? t('forkChild', g.pid) : t('forkParent', g.pid);
    title.textContent = label;
    const canvas = document.createElement('canvas'); canvas.dataset.grid = String(i);
    const counts = document.createElement('div'); counts.className = 'counts';
    wrap.append(title, canvas, counts); box.append(wrap);
    const off = document.createElement('canvas'); off.width = cols; off.height = rows;
    const image = new ImageData(cols, rows);
    const replay = new PageGridReplay(g);
    grids.push({ replay, mapping: data.mappings[i], canvas, image, pixels: new Uint32Array(image.data.buffer), off, cols, rows, cell, title, counts,
      startNs: BigInt(proc?.mappings.find((m) => m.id === g.mappingId)?.firstNs ?? header?.startNs ?? '0'), label });
    canvas.addEventListener('mousemove', (e) => hover(grids[i], e));
    canvas.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  });
  // ◀ ▶ stop at every fault and snapshot of the shown grids.
  const stops = new Set<bigint>();
  for (const g of data.grids) { for (const ts of g.changeTs) stops.add(ts); }
  scrubber.setStops(BigInt64Array.from([...stops].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))));
  drawAll(true);
}

const PAGE_BYTES = Number(PAGE_SIZE);
function drawGrid(g: GridView, full: boolean): void {
  const ns = scrubber.value;
  const n = g.replay.seek(ns);
  const px = g.pixels, st = g.replay.states;
  if (full || n > st.length / 4) { for (let i = 0; i < st.length; i++) px[i] = palette[st[i]]; }
  else for (const p of g.replay.dirty) px[p] = palette[st[p]];
  const w = g.cols * g.cell, h = g.rows * g.cell;
  const ctx = sizeCanvas(g.canvas, w, h);
  g.off.getContext('2d')!.putImageData(g.image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(g.off, 0, 0, w, h);
  if (g.cell >= 6) {
    // Cell borders once cells are big enough to tell apart.
    ctx.strokeStyle = withAlpha(themeColor('--vscode-editor-background', '#1e1e1e'), 0.9);
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let c = 1; c < g.cols; c++) { ctx.moveTo(c * g.cell + 0.5, 0); ctx.lineTo(c * g.cell + 0.5, h); }
    for (let r = 1; r < g.rows; r++) { ctx.moveTo(0, r * g.cell + 0.5); ctx.lineTo(w, r * g.cell + 0.5); }
    ctx.stroke();
  }
  const counts = g.replay.counts;
  const notYet = ns < g.startNs && g.replay.counts[0] === st.length;
  g.counts.textContent = notYet && grids.indexOf(g) > 0 ? t('notYet') : PAGE_STATE_NAMES.map((name, i) => (counts[i] ? `${t(name)} ${counts[i]}` : '')).filter(Boolean).join(' · ');
}

function drawAll(full = false): void {
  grids.forEach((g) => drawGrid(g, full));
  drawChart();
  // Observable state for tests and the bench: counts per state of each grid at the cursor.
  const ds = document.body.dataset;
  ds.cursorNs = scrubber.value.toString();
  ds.mapping = mapSel.value;
  ds.gridCount = String(grids.length);
  grids.forEach((g, i) => { ds[`grid${i}Counts`] = JSON.stringify(Object.fromEntries(PAGE_STATE_NAMES.map((n, k) => [n, g.replay.counts[k]]))); ds[`grid${i}Pid`] = String(g.replay.grid.pid); ds[`grid${i}Layout`] = `${g.cols},${g.cell}`; });
  ds.frames = String(Number(ds.frames ?? '0') + 1);
  ds.pagesReady = '1';
}
const scheduleDraw = perFrame(() => drawAll(false));

function drawChart(): void {
  const c = $<HTMLCanvasElement>('chart');
  const w = Math.max(200, c.parentElement!.clientWidth - 4), h = 110;
  const ctx = sizeCanvas(c, w, h);
  ctx.clearRect(0, 0, w, h);
  const self = currentProcess();
  const series = counters.find((x) => x.conn === self?.conn) ?? counters[0];
  const values = $('counter-values');
  if (!header || !series || !series.ts.length) { values.textContent = ''; return; }
  const t0 = BigInt(header.startNs), t1 = BigInt(header.endNs) > t0 ? BigInt(header.endNs) : t0 + 1n;
  const x = (ts: bigint) => Number(((ts - t0) * BigInt(Math.round(w * 1000))) / (t1 - t0)) / 1000;
  // The curves change only with the data or the width: drawn once into an image, then each frame blits it and
  // draws the cursor line (tens of thousands of points per frame would not fit in 16 ms).
  const key = `${series.conn}:${series.ts.length}:${w}:${cssPalette.join()}`;
  if (chartCache?.key !== key) {
    const off = document.createElement('canvas');
    const octx = sizeCanvas(off, w, h);
    drawCurves(octx, series, w, h, x);
    chartCache = { key, canvas: off };
  }
  ctx.drawImage(chartCache.canvas, 0, 0, w, h);
  drawCursorAndValues(ctx, w, h, x);
}
let chartCache: { key: string; canvas: HTMLCanvasElement } | undefined;

function drawCurves(ctx: CanvasRenderingContext2D, series: PageCountersPacked, w: number, h: number, x: (ts: bigint) => number): void {
  let max = 1;
  for (let i = 0; i < series.ts.length; i++) max = Math.max(max, series.resident[i]);
  const y = (v: number) => h - 4 - (v / max) * (h - 12);
  const line = (arr: Int32Array, color: string) => {
    ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.beginPath();
    ctx.moveTo(0, y(0));
    for (let i = 0; i < series.ts.length; i++) { const xi = x(series.ts[i]); ctx.lineTo(xi, y(i ? arr[i - 1] : 0)); ctx.lineTo(xi, y(arr[i])); }
    ctx.lineTo(w, y(arr[series.ts.length - 1]));
    ctx.stroke();
  };
  line(series.resident, themeColor('--vscode-foreground', '#ccc'));
  line(series.shared, cssPalette[2]);
  line(series.private, cssPalette[1]);
}

function drawCursorAndValues(ctx: CanvasRenderingContext2D, w: number, h: number, x: (ts: bigint) => number): void {
  const values = $('counter-values');
  const cx = x(scrubber.value);
  ctx.strokeStyle = themeColor('--vscode-editorCursor-foreground', '#aeafad'); ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(cx, 0); ctx.lineTo(cx, h); ctx.stroke();
  const parts: string[] = [];
  for (const g of grids) {
    const cs = counters.find((k) => k.conn === g.replay.grid.conn);
    const v = cs && countersAt(cs, scrubber.value);
    if (!v) continue;
    const kib = (p: number) => `${(p * PAGE_BYTES) / 1024} KiB`;
    parts.push(`${g.label}: ${t('resident')} ${kib(v.resident)} · ${t('shared')} ${kib(v.shared)} · ${t('private')} ${kib(v.private)}` +
      `${Number.isNaN(v.pss) ? '' : ` · ${t('pss')} ${kib(Math.round(v.pss))}`} · ${t('minorFaults')} ${v.minorFaults} · ${t('majorFaults')} ${v.majorFaults}`);
  }
  values.textContent = parts.join('\n');
  values.style.whiteSpace = 'pre';
}

function hover(g: GridView, e: MouseEvent): void {
  const r = g.canvas.getBoundingClientRect();
  const col = Math.floor((e.clientX - r.left) / g.cell), row = Math.floor((e.clientY - r.top) / g.cell);
  const page = row * g.cols + col;
  if (col < 0 || col >= g.cols || page < 0 || page >= g.replay.states.length) { tip.style.display = 'none'; return; }
  const d = g.replay.detail(page);
  const lines = [`${t('address')}  0x${d.address.toString(16)}  (#${page})`, `${t('state')}  ${t(PAGE_STATE_NAMES[d.state])}`];
  if (d.pfn !== undefined) lines.push(`${t('frame')}  0x${d.pfn.toString(16)}`);
  else if (d.exclusive !== undefined) lines.push(`${t('exclusive')}  ${d.exclusive ? t('yes') : t('no')}  ${t('noFrames')}`);
  if (d.mapcount !== undefined && d.mapcount > 0) lines.push(`${t('mapcount')}  ${d.mapcount}`);
  if (d.faultTs !== undefined && header) lines.push(`${t('fault')}  +${fmtDuration(d.faultTs - BigInt(header.startNs))} (${d.major ? t('major') : t('minor')})`, `${t('site')}  ${d.faultSite ?? ''}`);
  tip.textContent = lines.join('\n');
  tip.style.display = 'block';
  tip.style.left = `${Math.min(e.clientX + 14, window.innerWidth - 320)}px`;
  tip.style.top = `${e.clientY + 14}px`;
  document.body.dataset.hoverPage = String(page);
}

let lastPosted = 0;
/** No one has put the cursor anywhere yet: while live, it stays at the newest events. */
let followLive = true;
scrubber.onChange((ns, fromUser) => {
  if (fromUser) followLive = false;
  state.cursorNs = ns.toString(); save();
  scheduleDraw();
  if (fromUser) {
    const now = performance.now();
    if (now - lastPosted > 50) { lastPosted = now; channel.post({ type: 'setCursor', ns: ns.toString() }); }
  }
});
procSel.addEventListener('change', () => onProcessChosen(false));
mapSel.addEventListener('change', onMappingChosen);
$('snapshot').addEventListener('click', () => { const p = currentProcess(); if (p) channel.post({ type: 'snapshotNow', conn: p.conn }); });
onThemeChange(() => { readPalette(); drawAll(true); });
window.addEventListener('resize', perFrame(() => { if (mapSel.value) channel.post({ type: 'requestGrids', mappingId: mapSel.value }); }));

channel.onMessage((m) => {
  switch (m.type) {
    case 'pagesInit': onInit(m.init); break;
    case 'pagesGrids': onGrids(m.data); break;
    case 'cursor': followLive = false; scrubber.set(BigInt(m.ns)); break;
    case 'selection': if (m.selection?.type === 'process' || m.selection?.type === 'thread') {
      const pid = m.selection.pid;
      const p = processes.filter((x) => x.pid === pid).pop();
      if (p && String(p.conn) !== procSel.value) { procSel.value = String(p.conn); onProcessChosen(false); }
    } break;
    case 'note': { const d = document.createElement('div'); d.className = `note ${m.level === 'info' ? '' : m.level === 'warning' ? 'warn' : 'error'}`; d.textContent = m.message; $('notes').prepend(d); break; }
    case 'sessionEnded': $('snapshot').hidden = true; break;
  }
});
/** For the bench: move the cursor and draw now; returns the frame's work in ms. */
(window as unknown as { __pagesScrub(ns: string): number }).__pagesScrub = (ns) => {
  const t0 = performance.now();
  scrubber.el.dispatchEvent(new Event('noop'));
  (scrubber as unknown as { ns: bigint }).ns = BigInt(ns);
  drawAll(false);
  return performance.now() - t0;
};
readPalette();
$('notes').textContent = t('waiting');
channel.ready();
