// The three panels following a live recording of demos/cow as the gallery runs it (python3 cow.py: 100 MiB, fork,
// the child writes every page, then runs free and ps: ~51,000 page faults and 25,600-page snapshots; `--c` records
// build/cow 100 instead) the way the extension host does it: the session's one LiveModel
// catches up in bounded steps, the panels refresh from it at most 4 times a second (page tables at most every second:
// one replay fed only the new page events, in slices). monitorEventLoopDelay reports how long the event loop was held up (goal: ≤ 50 ms).
// Side by side in the same run, the way the panels worked before: a full rebuild from the raw events every second.
// Run: make -C demos && node esbuild.mjs bench && node out/bench/panels-live.js
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Collector } from '../src/common/collector';
import { TracedProcess } from '../src/common/launcher';
import { PanelService } from '../src/common/panels/service';
import type { PanelKind } from '../src/common/panels/protocol';
import { LiveModel } from '../src/host/liveModel';
import { pageReplayStats } from '../src/common/panels/pages';

const ROOT = join(__dirname, '..', '..');
const COW_DIR = join(ROOT, 'demos/cow');
const C_DEMO = process.argv.includes('--c');
const COMMAND = C_DEMO ? join(COW_DIR, 'build/cow') : 'python3';
const ARGS = C_DEMO ? ['100'] : ['cow.py'];
const KINDS: PanelKind[] = ['pages', 'locks', 'map'];

interface Run { name: string; maxDelayMs: number; p99DelayMs: number; refreshes: number; finalDelayMs: number; events: number; wallMs: number; finalMs: number }

async function record(name: string, follow: (c: Collector, tick: () => boolean) => { tick(): Promise<void>; final(): Promise<void> }): Promise<Run> {
  const collector = await Collector.start({});
  const t0 = performance.now();
  const proc = TracedProcess.launch({ command: COMMAND, args: ARGS, cwd: COW_DIR, collector, stdio: 'pipe' });
  let running = true;
  void proc.exited.then(() => { running = false; });
  const f = follow(collector, () => running);
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  let refreshes = 0;
  while (running) {
    await new Promise((r) => setTimeout(r, 250));
    await f.tick();
    refreshes++;
  }
  await new Promise((r) => setTimeout(r, 300)); // the last batches
  delay.disable();
  const wallMs = performance.now() - t0;
  const finalDelay = monitorEventLoopDelay({ resolution: 5 });
  finalDelay.enable();
  const tf = performance.now();
  await f.final();
  const finalMs = performance.now() - tf;
  await new Promise((r) => setTimeout(r, 20));
  finalDelay.disable();
  const events = collector.store.count;
  await collector.close();
  return { name, maxDelayMs: delay.max / 1e6, p99DelayMs: delay.percentile(99) / 1e6, refreshes, finalDelayMs: finalDelay.max / 1e6, events, wallMs, finalMs };
}

/** Now: one LiveModel for the session, panels refreshed from it (incremental map, sliced page replay). */
/** The longest synchronous piece of panel work (map and lock refreshes are synchronous; pages are sliced). */
const panelSteps = { maxMs: 0, what: '' };
function incremental(c: Collector) {
  const live = new LiveModel(c.store);
  pageReplayStats.maxSliceMs = 0;
  const services = KINDS.map((k) => new PanelService(k, live.model, { title: 'cow', live: true, locale: 'en' }));
  let lastPages = 0;
  let busy = false;
  return {
    async tick() {
      if (busy) return;
      busy = true;
      try {
        void live.catchUp();
        for (const s of services) {
          if (s.kind === 'pages') { if (Date.now() - lastPages < 1000) continue; lastPages = Date.now(); }
          const t = performance.now();
          await s.refresh({ final: false });
          const ms = performance.now() - t;
          if (s.kind !== 'pages' && ms > panelSteps.maxMs) { panelSteps.maxMs = ms; panelSteps.what = s.kind; }
        }
      } finally { busy = false; }
    },
    async final() {
      console.log(`  longest synchronous panel step while live: ${Math.max(panelSteps.maxMs, pageReplayStats.maxSliceMs).toFixed(1)} ms ` +
        `(map/locks refresh ${panelSteps.maxMs.toFixed(1)} ms ${panelSteps.what}, page replay slice ${pageReplayStats.maxSliceMs.toFixed(1)} ms at ${pageReplayStats.maxSliceAt}); model catch-up step max ${live.stats.maxStepMs.toFixed(1)} ms`);
      pageReplayStats.maxSliceMs = 0;
      live.complete();
      for (const s of services) { s.ended(); await s.refresh({ final: true }); }
      const p = services[0].pagesData!, m = services[2].mapData!;
      console.log(`  final page replay: longest slice ${pageReplayStats.maxSliceMs.toFixed(1)} ms at ${pageReplayStats.maxSliceAt}`);
      console.log(`  final data: ${p.processes.length} page images, ${[...p.grids.values()].reduce((n, g) => n + g.changeTs.length, 0)} page changes; ` +
        `${services[1].locksData!.locks.length} locks; map ${m.nodes.length} nodes, ${m.edges.length} edges`);
    },
  };
}

/** Before: every second each panel rebuilt from the whole raw trace (its own model and replay, from scratch). */
function fullRebuild(c: Collector) {
  let last = 0;
  return {
    async tick() {
      if (Date.now() - last < 1000) return;
      last = Date.now();
      for (const k of KINDS) await new PanelService(k, c.store, { title: 'cow', live: true, locale: 'en', symbolize: false }).rebuild();
    },
    async final() { for (const k of KINDS) await new PanelService(k, c.store, { title: 'cow', live: false, locale: 'en' }).rebuild(); },
  };
}

(async () => {
  if (C_DEMO && !existsSync(COMMAND)) { console.error(`${COMMAND} is not built: make -C demos`); process.exit(2); }
  console.log(`recording ${C_DEMO ? 'build/cow 100' : 'python3 cow.py'} live, three times`);
  const runs: Run[] = [];
  runs.push(await record('model only (no panels: the floor)', (c) => { const live = new LiveModel(c.store); return { async tick() { void live.catchUp(); }, async final() { live.complete(); } }; }));
  runs.push(await record('incremental (session model, ≤4 Hz, sliced pages)', (c) => incremental(c)));
  runs.push(await record('full rebuild from raw events every 1 s (before)', (c) => fullRebuild(c)));
  for (const r of runs) {
    console.log(`${r.name}: ${r.events.toLocaleString('en-US')} events in ${(r.wallMs / 1000).toFixed(1)} s, ${r.refreshes} ticks; ` +
      `event loop delay max ${r.maxDelayMs.toFixed(1)} ms, p99 ${r.p99DelayMs.toFixed(1)} ms ${r.maxDelayMs <= 50 ? '(ok ≤ 50 ms)' : '(OVER 50 ms)'}; final build ${r.finalMs.toFixed(0)} ms (event loop held up to ${r.finalDelayMs.toFixed(0)} ms)`);
  }
  console.log(`max delay ratio before/now: ${(runs[2].maxDelayMs / runs[1].maxDelayMs).toFixed(1)}×`);
})().catch((e) => { console.error(e); process.exit(1); });
