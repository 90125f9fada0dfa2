// Lock-contention panel: the mutrace-style table (sortable, ranked by total wait), the selected lock's own timeline
// (a row per thread: waits, holds, hand-off arrows), and the wait-for graph at the time cursor with deadlock cycles
// and lock-order inversions explained in words.
import type { LockSortKey, LockStats, LockTimelinePacked, WaitForGraph, LockOrderInversion } from '../../src/common/panels/locks';
import { sortLocks } from '../../src/common/panels/locks';
import type { LocksInit, PanelHeader } from '../../src/common/panels/protocol';
import { restoreState } from '../shared/state';
import { onThemeChange } from '../shared/theme';
import { BASE_CSS, PanelChannel, TimeScrubber, fmtDuration, injectCss, pageNonce, perFrame, sizeCanvas, themeColor, translator } from '../pages/panelKit';

const { t, setLocale } = translator({
  title: 'Lock contention', lock: 'Lock', type: 'Type', acquisitions: 'Acquired', contended: 'Contended', contendedPct: 'Contended %',
  totalWait: 'Total wait', maxWait: 'Max wait', totalHold: 'Total hold', maxHold: 'Max hold', topWaiter: 'Top waiter', topHolder: 'Top holder',
  sites: 'Call sites', timeline: 'Timeline of {0}', waitFor: 'Wait-for graph at the cursor', noWaits: 'Nobody waits at the cursor.',
  deadlock: 'Deadlock', waitsFor: '{0} waits for {1} ({2})', heldLock: 'holds {0}', posts: 'posts {0}', signals: 'signals the condition',
  child: 'is its child', pipeEnd: 'other end of the pipe', socketEnd: 'other end of the socket', mqEnd: 'other side of the queue',
  nobody: 'None of them can go on until one is interrupted.', inversions: 'Lock-order inversions', inversion: '{0} took {1} then {2} (at {3}); {4} took {2} then {1} (at {5}). Take them in one order.',
  noLocks: 'No lock activity in this trace.', prevChange: 'Previous wait (,)', nextChange: 'Next wait (.)', timeCursor: 'Time cursor', cursorAt: 'cursor +{0}',
  jumpDeadlock: 'Go to the deadlock', wait: 'wait', hold: 'hold',
}, {
  title: '락 경합', lock: '락', type: '종류', acquisitions: '획득', contended: '경합', contendedPct: '경합 %',
  totalWait: '총 대기', maxWait: '최대 대기', totalHold: '총 보유', maxHold: '최대 보유', topWaiter: '가장 오래 기다린 스레드', topHolder: '가장 오래 보유한 스레드',
  sites: '호출 위치', timeline: '{0}의 타임라인', waitFor: '커서 시점의 대기 그래프', noWaits: '커서 시점에 기다리는 스레드가 없습니다.',
  deadlock: '교착 상태', waitsFor: '{0} → {1} 를 기다림 ({2})', heldLock: '{0} 보유', posts: '{0} post', signals: '조건 변수 signal',
  child: '자식 프로세스', pipeEnd: '파이프 반대쪽', socketEnd: '소켓 반대쪽', mqEnd: '메시지 큐 반대쪽',
  nobody: '누군가 중단되기 전에는 아무도 진행할 수 없습니다.', inversions: '락 순서 역전', inversion: '{0}: {1} 다음 {2} (위치 {3}); {4}: {2} 다음 {1} (위치 {5}). 항상 같은 순서로 잡으세요.',
  noLocks: '이 트레이스에는 락 활동이 없습니다.', prevChange: '이전 대기 (,)', nextChange: '다음 대기 (.)', timeCursor: '시간 커서', cursorAt: '커서 +{0}',
  jumpDeadlock: '교착 상태로 이동', wait: '대기', hold: '보유',
});

interface State { version: 1; sort: LockSortKey; desc: boolean; selected?: string; cursorNs?: string }
const channel = new PanelChannel<State>();
let state: State = restoreState(channel.getState(), 1, { version: 1, sort: 'totalWait', desc: true } as State);
const save = () => channel.setState(state);

injectCss(BASE_CSS + `
.cycle { color: var(--vscode-errorForeground); font-weight: 600; }
#graph svg { width: 100%; height: 300px; }
#graph text { fill: var(--vscode-foreground); font-size: 11px; }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
td.num { text-align: right; }
.table-wrap { overflow: auto; max-height: 40vh; }
`, pageNonce());
document.body.innerHTML = `
<div class="toolbar"><strong id="title"></strong><button id="jump" hidden></button></div>
<div id="scrub"></div>
<div class="table-wrap"><table id="table"><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table></div>
<div class="cols"><div><h3 id="tl-title"></h3><canvas id="tl"></canvas></div>
<div><h3>${t('waitFor')}</h3><div id="graph"></div><div id="cycles"></div></div></div>
<h3>${t('inversions')}</h3><div id="inversions"></div>`;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const scrubber = new TimeScrubber(t);
$('scrub').append(scrubber.el);

let header: PanelHeader | undefined;
let locks: readonly LockStats[] = [];
let timeline: LockTimelinePacked | null = null;
let graph: WaitForGraph | undefined;

const COLS: { key: LockSortKey | null; label: string; cell: (l: LockStats) => string | Node; num?: boolean }[] = [
  { key: 'name', label: 'lock', cell: (l) => l.name },
  { key: null, label: 'type', cell: (l) => l.type },
  { key: 'acquisitions', label: 'acquisitions', cell: (l) => String(l.acquisitions), num: true },
  { key: 'contended', label: 'contended', cell: (l) => String(l.contended), num: true },
  { key: 'contendedPct', label: 'contendedPct', cell: (l) => `${l.contendedPct.toFixed(1)}`, num: true },
  { key: 'totalWait', label: 'totalWait', cell: (l) => fmtDuration(BigInt(l.totalWaitNs)), num: true },
  { key: 'maxWait', label: 'maxWait', cell: (l) => fmtDuration(BigInt(l.maxWaitNs)), num: true },
  { key: 'totalHold', label: 'totalHold', cell: (l) => fmtDuration(BigInt(l.totalHoldNs)), num: true },
  { key: 'maxHold', label: 'maxHold', cell: (l) => fmtDuration(BigInt(l.maxHoldNs)), num: true },
  { key: null, label: 'topWaiter', cell: (l) => (l.topWaiters[0] ? `${l.topWaiters[0].label} ${fmtDuration(BigInt(l.topWaiters[0].ns))}` : '') },
  { key: null, label: 'topHolder', cell: (l) => (l.topHolders[0] ? `${l.topHolders[0].label} ${fmtDuration(BigInt(l.topHolders[0].ns))}` : '') },
  { key: null, label: 'sites', cell: (l) => {
    const span = document.createElement('span');
    for (const s of l.sites.slice(0, 3)) {
      const a = document.createElement(s.file ? 'a' : 'span');
      a.textContent = s.label; a.title = `${s.contended}/${s.acquisitions} contended, ${fmtDuration(BigInt(s.totalWaitNs))}`;
      if (s.file && s.line) a.addEventListener('click', (e) => { e.stopPropagation(); channel.post({ type: 'openSource', file: s.file!, line: s.line! }); });
      span.append(a, document.createTextNode('  '));
    }
    return span;
  } },
];

function renderTable(): void {
  const head = $('head'); head.innerHTML = '';
  for (const c of COLS) {
    const th = document.createElement('th');
    th.textContent = t(c.label) + (c.key && c.key === state.sort ? (state.desc ? ' ▾' : ' ▴') : '');
    if (c.key) th.addEventListener('click', () => { state.desc = state.sort === c.key ? !state.desc : c.key !== 'name'; state.sort = c.key!; save(); renderTable(); });
    head.append(th);
  }
  const rows = $('rows'); rows.innerHTML = '';
  const sorted = sortLocks(locks, state.sort, state.desc);
  for (const l of sorted) {
    const tr = document.createElement('tr'); tr.dataset.key = l.key;
    if (l.key === state.selected) tr.className = 'selected';
    for (const c of COLS) { const td = document.createElement('td'); if (c.num) td.className = 'num'; const v = c.cell(l); td.append(typeof v === 'string' ? document.createTextNode(v) : v); tr.append(td); }
    tr.addEventListener('click', () => selectLock(l.key));
    rows.append(tr);
  }
  if (!locks.length) { const tr = document.createElement('tr'); const td = document.createElement('td'); td.colSpan = COLS.length; td.textContent = t('noLocks'); tr.append(td); rows.append(tr); }
  const ds = document.body.dataset;
  ds.lockCount = String(locks.length);
  ds.topLock = sortLocks(locks, 'totalWait')[0]?.name ?? '';
  ds.firstRow = sorted[0]?.name ?? '';
  ds.topContended = sortLocks(locks, 'contended')[0]?.name ?? '';
}

function selectLock(key: string): void {
  state.selected = key; save();
  document.body.dataset.selectedLock = key;
  renderTable();
  const l = locks.find((x) => x.key === key);
  $('tl-title').textContent = l ? t('timeline', l.name) : '';
  channel.post({ type: 'requestLockTimeline', key });
  if (l) channel.post({ type: 'select', selection: { type: 'lock', key, name: l.name } });
}

function drawTimeline(): void {
  const c = $<HTMLCanvasElement>('tl');
  const tl = timeline;
  const rows = tl?.rows.length ?? 0;
  const w = Math.max(200, c.parentElement!.clientWidth - 4), rowH = 18, h = Math.max(40, rows * rowH + 20);
  const ctx = sizeCanvas(c, w, h);
  ctx.clearRect(0, 0, w, h);
  if (!tl || !header) return;
  let lo = BigInt(header.endNs), hi = BigInt(header.startNs);
  for (let i = 0; i < tl.spanStart.length; i++) { if (tl.spanStart[i] < lo) lo = tl.spanStart[i]; const e = tl.spanEnd[i] < 0n ? BigInt(header.endNs) : tl.spanEnd[i]; if (e > hi) hi = e; }
  if (hi <= lo) hi = lo + 1n;
  const labelW = 120, x = (ts: bigint) => labelW + Number(((ts - lo) * BigInt(Math.round((w - labelW - 4) * 1000))) / (hi - lo)) / 1000;
  ctx.font = '11px sans-serif'; ctx.fillStyle = themeColor('--vscode-foreground', '#ccc');
  tl.rows.forEach((r, i) => ctx.fillText(r, 2, i * rowH + 13));
  const waitC = themeColor('--vscode-charts-orange', '#d18616'), holdC = themeColor('--vscode-charts-blue', '#3794ff');
  for (let i = 0; i < tl.spanStart.length; i++) {
    const e = tl.spanEnd[i] < 0n ? BigInt(header.endNs) : tl.spanEnd[i];
    const x0 = x(tl.spanStart[i]), x1 = Math.max(x0 + 1, x(e));
    ctx.fillStyle = tl.spanKind[i] ? holdC : waitC;
    ctx.fillRect(x0, tl.spanRow[i] * rowH + (tl.spanKind[i] ? 3 : 7), x1 - x0, tl.spanKind[i] ? 12 : 4);
  }
  ctx.strokeStyle = themeColor('--vscode-charts-green', '#89d185'); ctx.lineWidth = 1.2;
  for (let i = 0; i < tl.handoffFromTs.length; i++) {
    const x0 = x(tl.handoffFromTs[i]), y0 = tl.handoffFromRow[i] * rowH + 9, x1 = x(tl.handoffToTs[i]), y1 = tl.handoffToRow[i] * rowH + 9;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x1 - 4, y1 + (y1 > y0 ? -5 : 5)); ctx.lineTo(x1 + 3, y1 + (y1 > y0 ? -4 : 4)); ctx.closePath(); ctx.fill();
  }
  const cx = x(scrubber.value);
  ctx.strokeStyle = themeColor('--vscode-editorCursor-foreground', '#aeafad');
  ctx.beginPath(); ctx.moveTo(cx, 0); ctx.lineTo(cx, h); ctx.stroke();
  ctx.fillStyle = waitC; ctx.fillRect(labelW, h - 10, 10, 4); ctx.fillStyle = themeColor('--vscode-foreground', '#ccc'); ctx.fillText(t('wait'), labelW + 14, h - 4);
  ctx.fillStyle = holdC; ctx.fillRect(labelW + 60, h - 12, 10, 8); ctx.fillStyle = themeColor('--vscode-foreground', '#ccc'); ctx.fillText(t('hold'), labelW + 74, h - 4);
}

function reasonText(e: WaitForGraph['edges'][number]): string {
  const name = locks.find((l) => l.key === e.object)?.name ?? e.object;
  switch (e.reason) {
    case 'lock': return t('heldLock', name);
    case 'semaphore': return t('posts', name);
    case 'cond': return t('signals');
    case 'child': return t('child');
    case 'pipe': return t('pipeEnd');
    case 'socket': return t('socketEnd');
    case 'mqueue': return t('mqEnd');
  }
}

function drawGraph(): void {
  const g = graph;
  const box = $('graph'); box.innerHTML = '';
  const cyc = $('cycles'); cyc.innerHTML = '';
  const ds = document.body.dataset;
  ds.waitEdges = String(g?.edges.length ?? 0);
  ds.cycleCount = String(g?.cycles.length ?? 0);
  ds.cycle = '';
  if (!g || !g.nodes.length) { box.textContent = t('noWaits'); ds.graphNs = g?.ts ?? ''; return; }
  const inCycle = new Set<string>(), cycleEdges = new Set<string>();
  for (const c of g.cycles) { c.nodes.forEach((n) => inCycle.add(n)); c.edges.forEach((e) => cycleEdges.add(`${e.from}>${e.to}`)); }
  // A circle is enough for the handful of threads that wait at one moment.
  const W = 460, H = 300, R = Math.min(W, H) / 2 - 40, pos = new Map<string, [number, number]>();
  g.nodes.forEach((n, i) => { const a = (2 * Math.PI * i) / g.nodes.length - Math.PI / 2; pos.set(n.id, [W / 2 + R * Math.cos(a), H / 2 + R * Math.sin(a)]); });
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg'); svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const red = themeColor('--vscode-errorForeground', '#f48771'), fg = themeColor('--vscode-foreground', '#ccc'), blue = themeColor('--vscode-charts-blue', '#3794ff');
  const defs = document.createElementNS(ns, 'defs');
  for (const [id, col] of [['arrow', fg], ['arrow-red', red]]) {
    const m = document.createElementNS(ns, 'marker');
    m.setAttribute('id', id); m.setAttribute('viewBox', '0 0 10 10'); m.setAttribute('refX', '22'); m.setAttribute('refY', '5'); m.setAttribute('markerWidth', '7'); m.setAttribute('markerHeight', '7'); m.setAttribute('orient', 'auto');
    const p = document.createElementNS(ns, 'path'); p.setAttribute('d', 'M0,0 L10,5 L0,10 z'); p.setAttribute('fill', col); m.append(p); defs.append(m);
  }
  svg.append(defs);
  for (const e of g.edges) {
    const [x0, y0] = pos.get(e.from)!, [x1, y1] = pos.get(e.to)!;
    const hot = cycleEdges.has(`${e.from}>${e.to}`);
    const l = document.createElementNS(ns, 'line');
    l.setAttribute('x1', String(x0)); l.setAttribute('y1', String(y0)); l.setAttribute('x2', String(x1)); l.setAttribute('y2', String(y1));
    l.setAttribute('stroke', hot ? red : fg); l.setAttribute('stroke-width', hot ? '2.5' : '1.2'); l.setAttribute('marker-end', `url(#${hot ? 'arrow-red' : 'arrow'})`);
    l.dataset.cycle = hot ? '1' : '0';
    const title = document.createElementNS(ns, 'title'); title.textContent = reasonText(e); l.append(title);
    svg.append(l);
  }
  for (const n of g.nodes) {
    const [x, y] = pos.get(n.id)!;
    const c = document.createElementNS(ns, 'circle');
    c.setAttribute('cx', String(x)); c.setAttribute('cy', String(y)); c.setAttribute('r', '12');
    c.setAttribute('fill', inCycle.has(n.id) ? red : n.blocked ? themeColor('--vscode-charts-orange', '#d18616') : blue);
    c.dataset.node = n.id; c.style.cursor = 'pointer';
    c.addEventListener('click', () => channel.post({ type: 'select', selection: { type: 'thread', pid: n.pid, tid: n.tid } }));
    const text = document.createElementNS(ns, 'text'); text.setAttribute('x', String(x + 15)); text.setAttribute('y', String(y + 4)); text.textContent = n.label;
    svg.append(c, text);
  }
  box.append(svg);
  const label = (id: string) => g.nodes.find((n) => n.id === id)?.label ?? id;
  for (const c of g.cycles) {
    const d = document.createElement('div'); d.className = 'cycle';
    d.textContent = `${t('deadlock')}: ${c.edges.map((e) => t('waitsFor', label(e.from), label(e.to), reasonText(e))).join('; ')}. ${t('nobody')}`;
    cyc.append(d);
  }
  ds.cycle = g.cycles[0] ? g.cycles[0].nodes.map(label).join(' → ') : '';
  ds.cycleText = cyc.textContent ?? '';
  ds.graphNs = g.ts;
}

function renderInversions(list: readonly LockOrderInversion[]): void {
  const box = $('inversions'); box.innerHTML = '';
  for (const i of list) {
    const d = document.createElement('div'); d.className = 'warn';
    d.textContent = t('inversion', i.forward.label, i.firstName, i.secondName, i.forward.site, i.backward.label, i.backward.site);
    box.append(d);
  }
  document.body.dataset.inversionCount = String(list.length);
}

const requestGraph = perFrame(() => channel.post({ type: 'requestWaitFor', ns: scrubber.value.toString() }));
let lastPosted = 0;
/** No one has put the cursor anywhere yet: while live, it stays at the newest events. */
let followLive = true;
scrubber.onChange((ns, fromUser) => {
  if (fromUser) followLive = false;
  state.cursorNs = ns.toString(); save();
  document.body.dataset.cursorNs = state.cursorNs;
  requestGraph();
  drawTimeline();
  if (fromUser && performance.now() - lastPosted > 50) { lastPosted = performance.now(); channel.post({ type: 'setCursor', ns: ns.toString() }); }
});

function onInit(init: LocksInit): void {
  header = init.header;
  setLocale(header.locale);
  document.title = t('title');
  $('title').textContent = t('title');
  locks = init.locks;
  scrubber.setExtent(BigInt(header.startNs), BigInt(header.endNs));
  renderTable();
  renderInversions(init.inversions);
  const jump = $<HTMLButtonElement>('jump');
  jump.hidden = !init.firstDeadlockNs; jump.textContent = t('jumpDeadlock');
  jump.onclick = () => { if (init.firstDeadlockNs) scrubber.set(BigInt(init.firstDeadlockNs), true); };
  const top = state.selected && locks.some((l) => l.key === state.selected) ? state.selected : sortLocks(locks, 'totalWait')[0]?.key;
  if (top) selectLock(top);
  // While recording, a panel nobody has moved the cursor of shows the newest state (it follows the recording).
  const cursor = header.cursorNs ?? (followLive && header.live ? header.endNs : state.cursorNs);
  scrubber.set(cursor !== undefined && cursor !== null ? BigInt(cursor) : BigInt(header.startNs));
  document.body.dataset.locksReady = '1';
}

channel.onMessage((m) => {
  switch (m.type) {
    case 'locksInit': onInit(m.init); break;
    case 'lockTimeline': if (m.key === state.selected) { timeline = m.timeline; drawTimeline(); } break;
    case 'waitFor': graph = m.graph; drawGraph(); break;
    case 'cursor': followLive = false; scrubber.set(BigInt(m.ns)); break;
    case 'selection': if (m.selection?.type === 'lock' && m.selection.key !== state.selected) selectLock(m.selection.key); break;
    default: break;
  }
});
onThemeChange(() => { drawTimeline(); drawGraph(); });
channel.ready();
