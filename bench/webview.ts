// `npm run bench:webview`: the timeline webview in headless Chromium (Debian's, via playwright-core) on the harness
// page, fed by the real host path (TimelineSession → TimelineData tiles) with synthetic traces of 10k…10M events and,
// when one can be recorded here, a real trace from `ipcscope record`. Prints per trace: host index build, time to
// first full render (from `init` arriving in the webview to a frame with every visible tile at its level), frame work
// (median, p95) while zooming and panning with the wheel, a drag and W/S/A/D, rAF intervals, and the webview's JS heap.
// Then the live path as in the extension host: a real Collector in this process fed at 200k events/s over websockets
// by another process, a live timeline session on its store, with and without the trace model as the views update it
// and with and without the webview in the browser, with the host's event-loop delay measured (goal: max ≤ 50 ms).
//
// Panels are entries of PANELS; the next issue's page grid and process/object map add theirs there.
/* eslint-disable @typescript-eslint/no-explicit-any -- page functions run in the browser, where this file's types (no DOM lib) do not reach */
// Flags: --sizes=10000,100000 (default 10k,100k,1M,10M; --sizes=none: only the live path), --no-recorded, --no-live,
// --live-seconds=5, --live=host,model,browser,browser+model (which live-path runs), --json=path.
import { chromium, type Browser, type Page } from 'playwright-core';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { SyntheticTrace } from './webview/synthetic';
import { startHarness, CHROMIUM_FLAGS, projectRoot, type Harness } from './webview/harness';
import type { EventSource } from '../src/common/traceEvent';
import { readTraceFile } from '../src/common/traceFile';
import { Collector } from '../src/common/collector';
import { LiveModel } from '../src/host/liveModel';
import { TimelineSession } from '../src/host/timelineFeed';
import { encodeBye, encodeEvents, encodeJson, MessageType, SUBPROTOCOL, type EventRecord } from '../src/common/protocol';
import WebSocket from 'ws';
import { kindId } from '../src/common/vocabulary';

const ROOT = projectRoot();
const CHROMIUM = process.env.IPCSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SIZES = flag('sizes') === 'none' ? [] : (flag('sizes') ?? '10000,100000,1000000,10000000').split(',').map(Number);
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

/**
 * The live path as in the extension host: a real Collector (websocket server, EventStore, streaming .ipctrace) in
 * this process, fed at `rate` events/s by real ws clients in another process (one connection per process of a
 * synthetic trace, an EVENTS message per connection every few ms, as the shim's sender sends them), a live
 * TimelineSession consuming the store, optionally the trace model brought up to date four times a second as the views
 * do (TraceSession.currentModel, in bounded steps: LiveModel), and optionally the webview in the browser following the recording. Prints the
 * host's event-loop delay (monitorEventLoopDelay: p99 and max) — the extension host must never be blocked > 50 ms.
 */
async function livePath(browser: Browser | null, rate: number, seconds: number, withModel: boolean): Promise<void> {
  const total = rate * seconds;
  const dir = mkdtempSync(join(tmpdir(), 'ipcscope-live-'));
  const collector = await Collector.start({ traceFile: join(dir, 'live.ipctrace') });
  const secret = /secret=([0-9a-f]+)/.exec(collector.envFor().IPCSCOPE!)![1];
  const what = `${browser ? 'with the browser' : 'no browser'}${withModel ? ', model updated at 4 Hz' : ''}`;
  const harness = browser ? await startHarness({ source: collector.store, title: `live ${rate}/s`, live: true }) : null;
  const session = harness?.session ?? new TimelineSession({ source: collector.store, title: `live ${rate}/s`, live: true, post: () => undefined });
  const page = browser && harness ? await browser.newPage({ viewport: VIEWPORT }) : null;
  if (page && harness) {
    await page.goto(harness.url);
    await page.waitForFunction(() => (globalThis as any).document.body.dataset.ready === '1', null, { timeout: 60_000 });
    await api(page, (a) => a.resetPerf());
  }
  // The views refresh four times a second while recording, each asking the session for its model (TraceSession.currentModel)
  // The feeder starts once the page is up (its load is not part of the live path); it encodes its messages before
  // it connects, and the clock starts at its first message.
  const feeder = spawn(process.execPath, [__filename, '--feed', String(collector.port), secret, String(rate), String(seconds)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const fed = new Promise<void>((res, rej) => feeder.on('exit', (code) => (code === 0 ? res() : rej(new Error(`feeder exited ${code}`)))));
  let model = withModel ? new LiveModel(collector.store) : null;
  // (the Processes, IPC Objects and Findings views each ask on every refresh)
  const views = model ? setInterval(() => { for (let v = 0; v < 3; v++) model?.current(); }, 250) : undefined;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // garbage-collection pauses of this process, to tell them apart from long tasks
  const gc = { maxMs: 0, totalMs: 0, count: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { gc.count++; gc.totalMs += e.duration; gc.maxMs = Math.max(gc.maxMs, e.duration); }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  // The same stalls with this process's CPU time beside them: a stall in which the process barely ran was the OS
  // giving the cores to other work (the browser, other jobs), not a long task of the host.
  const stall = { wallMs: 0, cpuMs: 0, over50: 0, over50Cpu: 0 };
  let firstMs = 0;
  collector.once('events', () => { firstMs = performance.now(); });
  // IPCSCOPE_BENCH_STALLS=1 lists each stall over 30 ms; a larger number sets that threshold in ms
  const stallListMs = Number(process.env.IPCSCOPE_BENCH_STALLS) > 1 ? Number(process.env.IPCSCOPE_BENCH_STALLS) : 30;
  let sLast = performance.now(), sCpu = process.cpuUsage();
  const sampler = setInterval(() => {
    const now = performance.now(), cpu = process.cpuUsage(sCpu);
    const late = now - sLast - 5, cpuMs = Math.min(late, (cpu.user + cpu.system) / 1000);
    if (late > stall.wallMs) stall.wallMs = late;
    if (cpuMs > stall.cpuMs) stall.cpuMs = cpuMs;
    if (late > 50) stall.over50++;
    if (cpuMs > 50) stall.over50Cpu++;
    if (late > stallListMs && process.env.IPCSCOPE_BENCH_STALLS) console.error(`stall at ${(now - firstMs).toFixed(0)} ms after the first message: ${late.toFixed(0)} ms late, ${cpuMs.toFixed(0)} ms CPU (monotonic ${process.hrtime.bigint() / 1000n} us)`);
    sLast = now; sCpu = process.cpuUsage();
  }, 5);
  await fed;
  while (collector.liveConnections().length) await new Promise((r) => setTimeout(r, 5));
  const appendedMs = performance.now() - firstMs;
  const stored = collector.store.count;
  const caughtUp = performance.now();
  while (session.stats.consumed < stored) await new Promise((r) => setTimeout(r, 5));
  const lagAfter = performance.now() - caughtUp;
  if (page) await page.waitForFunction((n) => (globalThis as any).__ipcScopeTimeline.header.eventCount >= n, stored, { timeout: 30_000 });
  const shownMs = performance.now() - firstMs;
  loop.disable();
  gcObserver.disconnect();
  clearInterval(sampler);
  clearInterval(views);
  const p = page ? await api(page, (a) => a.perf()) : null;
  console.log(`\nlive path (${what}): ${stored.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} events stored through the collector at ${rate.toLocaleString('en-US')}/s over ${fmt(appendedMs / 1000, 2)} s, ${collector.totalDropped()} dropped`);
  console.log(`  collector: ingest slices that left frames to the next turn: ${collector.ingestDeferrals}; connections paused for a full inbox: ${collector.ingestPauses} times`);
  console.log(`  host consumed all ${fmt(lagAfter, 0)} ms after the last message${page ? `; the webview showed all ${fmt(shownMs - appendedMs, 0)} ms after it` : ''}`);
  console.log(`  host event loop: delay p99 ${fmt(loop.percentile(99) / 1e6)} ms, max ${fmt(loop.max / 1e6)} ms (goal: never > 50 ms: ${loop.max / 1e6 <= 50 ? 'met' : 'MISSED'}); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`  host stalls (5 ms ticks): longest ${fmt(stall.wallMs)} ms wall, of which at most ${fmt(stall.cpuMs)} ms this process's CPU; ` +
    `${stall.over50} ticks > 50 ms late, ${stall.over50Cpu} with > 50 ms of CPU; GC: ${gc.count} pauses, longest ${fmt(gc.maxMs)} ms, ${fmt(gc.totalMs, 0)} ms in all`);
  console.log(`  feed: ${session.stats.slices} slices, longest ${fmt(session.stats.maxSliceMs)} ms wall / ${fmt(session.stats.maxSliceCpuMs)} ms CPU (wall includes time the OS gave other processes); ${session.stats.grows} grow messages`);
  if (model) {
    const behind = stored - model.stats.consumed, c0 = performance.now();
    await model.catchUp();
    console.log(`  model: ${model.stats.steps} bounded steps, longest ${fmt(model.stats.maxStepMs)} ms; ${behind.toLocaleString('en-US')} events behind at the end, caught up ${fmt(performance.now() - c0, 0)} ms later`);
  }
  if (p) console.log(`  webview frames while following: ${p.frameMs.length}, work median ${fmt(pct(p.frameMs, 0.5))} ms, p95 ${fmt(pct(p.frameMs, 0.95))} ms`);
  await page?.close();
  if (harness) await harness.close(); else session.dispose();
  if (model) {
    // What the model keeps on the JS heap (what every major GC marks): the heap with it, less the heap without it.
    const gcNow = (globalThis as { gc?: () => void }).gc;
    gcNow?.();
    const withIt = process.memoryUsage().heapUsed, n = model.model.eventsProcessed;
    const rows = `${model.model.flows.length.toLocaleString('en-US')} flows, ${model.model.waits.length.toLocaleString('en-US')} waits`;
    model.dispose();
    model = null;
    await new Promise((r) => setTimeout(r, 100)); // a step the turn queue still holds lets go of it
    gcNow?.();
    const kept = withIt - process.memoryUsage().heapUsed;
    console.log(`  model heap: ${fmt(kept / 1e6)} MB for ${n.toLocaleString('en-US')} events (${fmt(kept / Math.max(1, n), 0)} bytes/event; ${rows})${gcNow ? '' : ' (no --expose-gc: not collected first)'}`);
  }
  await collector.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Feeder side of livePath (its own process, like the traced programs): a synthetic trace encoded up front into
 * EVENTS messages, one per process every TICK_MS of its time line, sent at `rate` events/s over one websocket per
 * process.
 */
async function feed(port: number, secret: string, rate: number, seconds: number): Promise<void> {
  const TICK_MS = 2;
  const trace = new SyntheticTrace({ events: rate * seconds });
  const conns = trace.connections();
  const connOf = new Map(conns.map((c, k) => [c.pid, k]));
  const per = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  // Timestamps follow the wall clock at this rate, in the synthetic trace's causal (index) order: in a real
  // recording every thread shares one clock and events arrive a ms or two after they happen. (The synthetic threads'
  // own clocks drift apart by many ms, and the live model holds back the last 100 ms of trace time: with them,
  // everything of the slowest thread would arrive "late".)
  const t0 = trace.tsNumberAt(0), nsPerEvent = 1e9 / rate;
  const stamped = (i: number) => BigInt(Math.round(t0 + i * nsPerEvent));
  const ticks: { k: number; msg: Uint8Array }[][] = [];
  const READ = kindId('read'), WRITE = kindId('write'), PREVIEW = new TextEncoder().encode('x'.repeat(64));
  const seqs = conns.map(() => 1);
  for (let i = 0; i < trace.count; i += per) {
    const byConn: EventRecord[][] = conns.map(() => []);
    for (let j = i; j < Math.min(trace.count, i + per); j++) {
      const e = trace.get(j);
      let blob = e.blob;
      if (e.phase === 2 && (e.kind === READ || e.kind === WRITE) && e.result > 0n) {
        // The synthetic previews name the event, so a write and the read that takes its bytes would disagree (and
        // its threads' clocks are independent, so a pipe's byte order is not a real one either): the same bytes on
        // every pipe keep the previews (wire, store, model) without making the model hunt for a reordering.
        blob = PREVIEW.subarray(0, Math.min(64, Number(e.result)));
      }
      byConn[connOf.get(e.pid)!].push({ kind: e.kind, phase: e.phase, flags: e.flags, tid: e.tid, err: e.err, ts: stamped(j), result: e.result, caller: e.caller, args: [...e.args], blob: blob?.subarray(0, 64) });
    }
    ticks.push(byConn.flatMap((recs, k) => (recs.length ? [{ k, msg: encodeEvents(seqs[k]++, recs) }] : [])));
  }
  const sockets = await Promise.all(conns.map((c) => new Promise<WebSocket>((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ipcscope`, SUBPROTOCOL, { headers: { 'X-IPCScope-Secret': secret }, perMessageDeflate: false });
    ws.on('error', rej);
    ws.on('open', () => ws.send(encodeJson(MessageType.Hello, 0, { pid: c.pid, ppid: c.ppid, tid: c.tid, origin: c.origin, exe: c.exe, cwd: c.cwd, argv: [], startNs: c.startNs.toString() })));
    ws.once('message', () => res(ws)); // WELCOME
  })));
  const start = performance.now();
  for (let t = 0; t < ticks.length; t++) {
    const due = start + t * TICK_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const { k, msg } of ticks[t]) sockets[k].send(msg);
  }
  await Promise.all(sockets.map((ws, k) => new Promise<void>((res) => {
    ws.send(encodeBye(seqs[k]++, 0n, 0n));
    ws.on('close', () => res());
    ws.close();
  })));
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
    if (!argv.includes('--no-live')) {
      const secs = Number(flag('live-seconds') ?? 5);
      // without the browser first: the host alone (collector, store, feed), then the model as the views update it,
      // then with the webview following the recording
      const variants = (flag('live') ?? 'host,model,browser,browser+model').split(',');
      for (const v of variants) await livePath(v.startsWith('browser') ? browser : null, 200_000, secs, v.endsWith('model'));
    }
  } finally {
    await browser.close();
  }
  console.log('\n| panel | trace | events | host build ms | first render ms | frame median ms | frame p95 ms | raf p95 ms | heap MB | goal |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.panel} | ${r.trace} | ${r.events.toLocaleString('en-US')} | ${fmt(r.buildMs, 0)} | ${fmt(r.firstRenderMs, 0)} | ${fmt(r.medianMs)} | ${fmt(r.p95Ms)} | ${fmt(r.rafP95Ms)} | ${fmt(r.heapMB)} | ${r.goal} |`);
  const json = flag('json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
}

if (argv[0] === '--feed') {
  const [port, secret, rate, seconds] = argv.slice(1);
  feed(Number(port), secret, Number(rate), Number(seconds)).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
} else main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
