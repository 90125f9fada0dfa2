// `npm run bench:webview`: the timeline webview in headless Chromium (Debian's, via playwright-core) on the harness
// page, fed by the real host path (TimelineSession → TimelineData tiles) with synthetic traces of 10k…10M events and,
// when one can be recorded here, a real trace from `ipcscope record`. Prints per trace: host index build, time to
// first full render (from `init` arriving in the webview to a frame with every visible tile at its level), frame work
// (median, p95) while zooming and panning with the wheel, a drag and W/S/A/D, rAF intervals, and the webview's JS heap.
// Then the live path: events appended at 200k/s into a live session, with the host's event-loop delay measured.
//
// Panels are entries of PANELS; the next issue's page grid and process/object map add theirs there.
/* eslint-disable @typescript-eslint/no-explicit-any -- page functions run in the browser, where this file's types (no DOM lib) do not reach */
// Flags: --sizes=10000,100000 (default 10k,100k,1M,10M), --no-recorded, --no-live, --json=path.
import { chromium, type Browser, type Page } from 'playwright-core';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { SyntheticTrace } from './webview/synthetic';
import { startHarness, CHROMIUM_FLAGS, projectRoot, type Harness } from './webview/harness';
import type { EventSource, TraceEvent, ConnectionInfo } from '../src/common/traceEvent';
import { readTraceFile } from '../src/common/traceFile';

const ROOT = projectRoot();
const CHROMIUM = process.env.IPCSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SIZES = (flag('sizes') ?? '10000,100000,1000000,10000000').split(',').map(Number);
const VIEWPORT = { width: 1600, height: 900 };
const GOALS = { 1_000_000: { firstRenderMs: 500, p95Ms: 16 }, 10_000_000: { firstRenderMs: Infinity, p95Ms: 50 } } as Record<number, { firstRenderMs: number; p95Ms: number }>;

interface Row {
  panel: string; trace: string; events: number; buildMs: number; firstRenderMs: number; loadMs: number;
  frames: number; medianMs: number; p95Ms: number; rafP95Ms: number; heapMB: number; bytesToWebview: number; goal: string;
  /** Longest single slice of the host's sliced load (the extension host's event loop is blocked at most this long). */
  hostSliceMs: number;
  hostSliceCpuMs: number;
}

const pct = (xs: number[], p: number): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');

async function heapMB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const h = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  await cdp.detach();
  return h.usedSize / 2 ** 20;
}

type Api = { perf(): { firstRenderMs: number | null; frameMs: number[]; rafMs: number[] }; resetPerf(): void; view: { labelW: number; width: number } };
const api = <T>(page: Page, f: (a: Api) => T): Promise<T> => page.evaluate(`(${f.toString()})(window.__ipcScopeTimeline)`) as Promise<T>;

/** Scripted zooming and panning: wheel in and out at the cursor, a drag, and held W/S/A/D keys. */
async function interact(page: Page): Promise<void> {
  const box = (await page.locator('#timeline').boundingBox())!;
  const cx = box.x + box.width * 0.6, cy = box.y + box.height * 0.4;
  await page.mouse.move(cx, cy);
  for (let i = 0; i < 24; i++) { await page.mouse.wheel(0, -120); await page.waitForTimeout(16); }
  await page.mouse.down();
  await page.mouse.move(cx - 300, cy, { steps: 20 });
  await page.mouse.up();
  for (let i = 0; i < 12; i++) { await page.mouse.wheel(0, 120); await page.waitForTimeout(16); }
  await page.locator('#timeline').focus();
  for (const [key, ms] of [['w', 900], ['d', 500], ['a', 500], ['s', 600], ['w', 400], ['d', 400]] as const) {
    await page.keyboard.down(key); await page.waitForTimeout(ms); await page.keyboard.up(key);
  }
  for (let i = 0; i < 30; i++) { await page.mouse.wheel(0, 120); await page.waitForTimeout(16); }
}

interface PanelBench {
  name: string;
  /** Opens the panel on a trace and measures it. */
  run(browser: Browser, trace: { name: string; source: EventSource; events: number; nominal?: number }): Promise<Row>;
}

const timelineBench: PanelBench = {
  name: 'timeline',
  async run(browser, trace) {
    const t0 = performance.now();
    const harness: Harness = await startHarness({ source: trace.source, title: trace.name });
    await harness.session.prepared; // index and flows: the host's load time, reported apart from the render
    const buildMs = performance.now() - t0;
    const hostSliceMs = harness.session.stats.maxSliceMs, hostSliceCpuMs = harness.session.stats.maxSliceCpuMs;
    const page = await browser.newPage({ viewport: VIEWPORT });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      const l0 = performance.now();
      await page.goto(harness.url);
      await page.waitForFunction(() => (globalThis as any).document.body.dataset.ready === '1', null, { timeout: 300_000 });
      const loadMs = performance.now() - l0;
      const first = await api(page, (a) => a.perf().firstRenderMs ?? NaN);
      const marks = await api(page, (a) => (a.perf() as unknown as { marks: Record<string, number> }).marks);
      if (argv.includes('--marks')) console.log(`  first render steps (ms after init): ${JSON.stringify(marks)}`);
      await api(page, (a) => a.resetPerf());
      await interact(page);
      await page.waitForTimeout(200);
      const p = await api(page, (a) => a.perf());
      const heap = await heapMB(page);
      const goal = GOALS[trace.nominal ?? -1];
      const med = pct(p.frameMs, 0.5), p95 = pct(p.frameMs, 0.95);
      if (errors.length) throw new Error(`webview errors: ${errors.join('; ')}`);
      return {
        panel: 'timeline', trace: trace.name, events: trace.events, buildMs, firstRenderMs: first, loadMs,
        hostSliceMs, hostSliceCpuMs, frames: p.frameMs.length, medianMs: med, p95Ms: p95, rafP95Ms: pct(p.rafMs, 0.95), heapMB: heap, bytesToWebview: harness.posted.bytes,
        goal: goal ? `${first <= goal.firstRenderMs && p95 <= goal.p95Ms ? 'met' : 'MISSED'} (first ≤ ${goal.firstRenderMs === Infinity ? '–' : goal.firstRenderMs} ms, p95 ≤ ${goal.p95Ms} ms)` : '',
      };
    } finally {
      await page.close();
      await harness.close();
    }
  },
};

// The next issue's panels (page grid of 25,600 pages; map of 200 processes / 1,000 objects) add entries here.
const PANELS: PanelBench[] = [timelineBench];

/** A real trace when the shim and CLI are built: a pipe-heavy shell pipeline recorded with `ipcscope record`. */
async function recordedTrace(): Promise<{ name: string; source: EventSource; events: number } | null> {
  const cli = join(ROOT, 'out/cli/ipcscope.js'), shim = join(ROOT, 'native/build/libipcscope.so');
  if (!existsSync(cli) || !existsSync(shim)) { console.log('(no recorded trace: build the shim and the CLI first)'); return null; }
  const dir = mkdtempSync(join(tmpdir(), 'ipcscope-bench-'));
  const out = join(dir, 'pipeline.ipctrace');
  try {
    execFileSync(process.execPath, [cli, 'record', '--out', out, '--', '/bin/sh', '-c',
      'seq 1 20000 | while read i; do echo "line $i"; done | cat | wc -l'], { stdio: 'pipe', timeout: 120_000 });
    const store = await readTraceFile(out);
    return { name: 'recorded: seq, sh loop, cat, wc', source: store, events: store.count };
  } catch (e) {
    console.log(`(recording failed: ${(e as Error).message.split('\n')[0]})`);
    return null;
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** A source that reveals a pre-generated trace at a fixed rate, as a live collector store would. */
class GrowingSource implements EventSource {
  private visible = 0;
  private readonly listeners = new Set<(first: number, count: number) => void>();
  constructor(private readonly inner: SyntheticTrace) {}
  get count(): number { return this.visible; }
  get(i: number): TraceEvent { if (i >= this.visible) throw new RangeError(`no event ${i}`); return this.inner.get(i); }
  connections(): readonly ConnectionInfo[] { return this.inner.connections(); }
  onAppend(l: (first: number, count: number) => void): () => void { this.listeners.add(l); return () => this.listeners.delete(l); }
  grow(n: number): void {
    const first = this.visible;
    this.visible = Math.min(this.inner.count, this.visible + n);
    for (const l of this.listeners) l(first, this.visible - first);
  }
  get done(): boolean { return this.visible >= this.inner.count; }
  // the column accessors, so the live path is measured as with EventStore
  kindAt(i: number) { return this.inner.kindAt(i); } phaseAt(i: number) { return this.inner.phaseAt(i); } pidAt(i: number) { return this.inner.pidAt(i); }
  tidAt(i: number) { return this.inner.tidAt(i); } tsAt(i: number) { return this.inner.tsAt(i); } tsNumberAt(i: number) { return this.inner.tsNumberAt(i); }
  argAt(i: number, j: number) { return this.inner.argAt(i, j); } errAt(i: number) { return this.inner.errAt(i); } resultAt(i: number) { return this.inner.resultAt(i); }
  blobAt(i: number) { return this.inner.blobAt(i); }
}

async function livePath(browser: Browser, rate: number, seconds: number): Promise<void> {
  const total = rate * seconds;
  const source = new GrowingSource(new SyntheticTrace({ events: total }));
  source.grow(1000);
  const harness = await startHarness({ source, title: `live ${rate}/s`, live: true });
  const page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(harness.url);
  await page.waitForFunction(() => (globalThis as any).document.body.dataset.ready === '1', null, { timeout: 60_000 });
  await api(page, (a) => a.resetPerf());
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // The same stalls with this process's CPU time beside them: a stall in which the process barely ran was the OS
  // giving the cores to other work (the browser, other jobs), not a long task of the host.
  const stall = { wallMs: 0, cpuMs: 0, over50: 0, over50Cpu: 0 };
  let sLast = performance.now(), sCpu = process.cpuUsage();
  const sampler = setInterval(() => {
    const now = performance.now(), cpu = process.cpuUsage(sCpu);
    const late = now - sLast - 5, cpuMs = Math.min(late, (cpu.user + cpu.system) / 1000);
    if (late > stall.wallMs) stall.wallMs = late;
    if (cpuMs > stall.cpuMs) stall.cpuMs = cpuMs;
    if (late > 50) stall.over50++;
    if (cpuMs > 50) { stall.over50Cpu++; if (process.env.IPCSCOPE_BENCH_STALLS) console.error(`STALL ${process.hrtime.bigint() / 1000n} ${late.toFixed(0)} ${cpuMs.toFixed(0)}`); }
    sLast = now; sCpu = process.cpuUsage();
  }, 5);
  const tick = 20; // ms between appends, like the collector's batches
  const start = performance.now();
  let lagMax = 0;
  await new Promise<void>((resolve) => {
    let last = performance.now();
    const t = setInterval(() => {
      const now = performance.now();
      lagMax = Math.max(lagMax, now - last - tick);
      last = now;
      const due = Math.floor(((now - start) / 1000) * rate) - source.count;
      if (due > 0) source.grow(due);
      if (source.done) { clearInterval(t); resolve(); }
    }, tick);
  });
  const appendedMs = performance.now() - start;
  const caughtUp = performance.now();
  while (harness.session.stats.consumed < source.count) await new Promise((r) => setTimeout(r, 5));
  const lagAfter = performance.now() - caughtUp;
  await page.waitForFunction((n) => (globalThis as any).__ipcScopeTimeline.header.eventCount >= n, source.count, { timeout: 30_000 });
  const shownMs = performance.now() - start;
  loop.disable();
  clearInterval(sampler);
  const p = await api(page, (a) => a.perf());
  console.log(`\nlive path: ${total.toLocaleString('en-US')} events appended at ${rate.toLocaleString('en-US')}/s over ${fmt(appendedMs / 1000, 2)} s`);
  console.log(`  host consumed all ${fmt(lagAfter, 0)} ms after the last append; the webview showed all ${fmt(shownMs - appendedMs, 0)} ms after it`);
  console.log(`  host event loop: delay p99 ${fmt(loop.percentile(99) / 1e6)} ms, max ${fmt(loop.max / 1e6)} ms (goal: never > 50 ms); timer lateness max ${fmt(lagMax)} ms`);
  console.log(`  host stalls (5 ms ticks): longest ${fmt(stall.wallMs)} ms wall, of which at most ${fmt(stall.cpuMs)} ms this process's CPU; ` +
    `${stall.over50} ticks > 50 ms late, ${stall.over50Cpu} with > 50 ms of CPU; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`  feed: ${harness.session.stats.slices} slices, longest ${fmt(harness.session.stats.maxSliceMs)} ms wall / ${fmt(harness.session.stats.maxSliceCpuMs)} ms CPU (wall includes time the OS gave other processes); ${harness.session.stats.grows} grow messages`);
  console.log(`  webview frames while following: ${p.frameMs.length}, work median ${fmt(pct(p.frameMs, 0.5))} ms, p95 ${fmt(pct(p.frameMs, 0.95))} ms`);
  await page.close();
  await harness.close();
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install chromium)`);
  if (!existsSync(join(ROOT, 'out/webview/timeline.js'))) throw new Error('out/webview/timeline.js is missing: node esbuild.mjs webview');
  console.log(`webview bench: headless ${CHROMIUM}, viewport ${VIEWPORT.width}×${VIEWPORT.height}, ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('frame = the synchronous draw of one frame (JS + canvas calls); raf = interval between animation frames (vsync-bound in headless)');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  const rows: Row[] = [];
  try {
    const traces: { name: string; make: () => Promise<{ name: string; source: EventSource; events: number; nominal?: number } | null> }[] =
      SIZES.map((n) => ({ name: `synthetic ${n.toLocaleString('en-US')}`, make: async () => {
        const g0 = performance.now();
        const source = new SyntheticTrace({ events: n });
        console.log(`  generated ${n.toLocaleString('en-US')} synthetic events in ${fmt(performance.now() - g0, 0)} ms`);
        return { name: `synthetic ${n.toLocaleString('en-US')}`, source, events: source.count, nominal: n };
      } }));
    if (!argv.includes('--no-recorded')) traces.push({ name: 'recorded', make: recordedTrace });
    for (const t of traces) {
      const trace = await t.make();
      if (!trace) continue;
      for (const panel of PANELS) {
        const r = await panel.run(browser, trace);
        rows.push(r);
        console.log(`${r.panel} · ${r.trace}: host build ${fmt(r.buildMs, 0)} ms (in slices, longest ${fmt(r.hostSliceMs)} ms wall / ${fmt(r.hostSliceCpuMs)} ms CPU) · first full render ${fmt(r.firstRenderMs, 0)} ms (page load to render ${fmt(r.loadMs, 0)} ms) · ` +
          `frame median ${fmt(r.medianMs)} ms, p95 ${fmt(r.p95Ms)} ms over ${r.frames} frames · raf p95 ${fmt(r.rafP95Ms)} ms · heap ${fmt(r.heapMB)} MB · ` +
          `${fmt(r.bytesToWebview / 2 ** 20, 2)} MB to the webview ${r.goal ? `· goal ${r.goal}` : ''}`);
      }
      (trace as { source: unknown }).source = null; // let the next size have the memory
      global.gc?.();
    }
    if (!argv.includes('--no-live')) await livePath(browser, 200_000, 5);
  } finally {
    await browser.close();
  }
  console.log('\n| panel | trace | events | host build ms | first render ms | frame median ms | frame p95 ms | raf p95 ms | heap MB | goal |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.panel} | ${r.trace} | ${r.events.toLocaleString('en-US')} | ${fmt(r.buildMs, 0)} | ${fmt(r.firstRenderMs, 0)} | ${fmt(r.medianMs)} | ${fmt(r.p95Ms)} | ${fmt(r.rafP95Ms)} | ${fmt(r.heapMB)} | ${r.goal} |`);
  const json = flag('json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
