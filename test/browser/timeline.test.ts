// Browser tests of the timeline webview: the real built bundle (out/webview/timeline.js) in Debian's Chromium
// (playwright-core), on the standalone harness page (bench/webview/harness.ts) whose host side is the same
// TimelineSession the VS Code panel uses. Traces come from real programs under the real shim (ipcscope record, and a
// live Collector), plus the synthetic generator for interaction tests. Screenshots go to test-results/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHarness, CHROMIUM_FLAGS, projectRoot, type Harness } from '../../bench/webview/harness';
import { SyntheticTrace } from '../../bench/webview/synthetic';
import { compileC, recordProgram, whyNoShim } from '../helpers/record';
import { Collector } from '../../src/common/collector';
import { TracedProcess } from '../../src/common/launcher';
import type { EventStore } from '../../src/common/store';
import { TraceModel, CallSiteResolver } from '../../src/common/model';

const ROOT = projectRoot();
const RESULTS = join(ROOT, 'test-results');
const CHROMIUM = process.env.IPCSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const whyNoBrowser = (): string | undefined =>
  !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` :
  !existsSync(join(ROOT, 'out/webview/timeline.js')) ? 'out/webview/timeline.js is not built (node esbuild.mjs webview)' : undefined;

let browser: Browser;
before(async () => {
  if (whyNoBrowser()) return;
  mkdirSync(RESULTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
});
after(async () => { await browser?.close(); });

interface Opened { page: Page; errors: string[]; harness: Harness }
async function open(harness: Harness, theme = 'dark', viewport = { width: 1400, height: 800 }): Promise<Opened> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon|404/.test(m.text())) errors.push(`console: ${m.text()}`); });
  await page.goto(`${harness.url}?theme=${theme}`);
  await waitRendered(page);
  return { page, errors, harness };
}
async function waitRendered(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30_000 });
  await page.waitForFunction(() => document.body.dataset.complete === '1', null, { timeout: 30_000 });
}
const tl = <T>(page: Page, f: (api: any) => T): Promise<T> => page.evaluate(`(${f.toString()})(window.__ipcScopeTimeline)`) as Promise<T>;
const data = (page: Page) => page.evaluate(() => ({ ...document.body.dataset }));
const canvasBox = async (page: Page) => (await page.locator('#timeline').boundingBox())!;

describe('timeline webview on a recorded pipe program', { skip: whyNoBrowser() ?? whyNoShim() }, () => {
  let store: EventStore;
  let h: Opened;
  before(async () => {
    // parent writes into a pipe, the child reads and answers through a second pipe: two processes, two flows
    const bin = compileC('demos/pipe/pipe-bidirectional.c', { out: 'timeline-pipe-bidirectional', flags: ['-I', join(ROOT, 'demos/include')] });
    const r = await recordProgram(bin, [], { timeoutMs: 30_000 });
    assert.equal(r.exit.code, 0, r.stderr);
    store = r.store;
    // the host's source lookup, as the panel does it: the model's call sites (addr2line on the -g binary)
    const model = new TraceModel(store);
    model.update({ flush: true });
    const sites = new CallSiteResolver(model);
    const resolveSource = (i: number) => { const c = sites.forEvent(i); return c.file && c.line ? { file: c.file, line: c.line } : null; };
    h = await open(await startHarness({ source: store, title: 'pipe-bidirectional', resolveSource }));
  });
  after(async () => { await h?.page.close(); await h?.harness.close(); });

  test('draws one lane per process and per thread, in process-tree order, and arrows for the pipe flows', async () => {
    const procs = new Set(store.connections().map((c) => c.pid));
    const lanes = await tl(h.page, (a) => a.visibleLanes);
    const procLanes = lanes.filter((l: { kind: string }) => l.kind === 'process');
    assert.equal(procLanes.length, procs.size, `lanes ${JSON.stringify(lanes.map((l: { label: string }) => l.label))}`);
    assert.ok(lanes.length >= procs.size * 2, 'each process has at least its main-thread lane');
    const root = store.connections().find((c) => !procs.has(c.ppid))!;
    assert.equal(procLanes[0].pid, root.pid, 'the parent comes first');
    const d = await data(h.page);
    assert.ok(Number(d.marks) > 5, `marks drawn: ${d.marks}`);
    assert.ok(Number(d.arrows) >= 2, `arrows drawn: ${d.arrows}`);
    assert.deepEqual(h.errors, []);
  });

  test('hovering an arrow shows writer → reader with the byte count', async () => {
    // zoom so the arrows are long enough to aim at
    const arrow = await tl(h.page, (a) => a.findMark({ arrow: true }));
    assert.ok(arrow, 'an arrow is drawn');
    const box = await canvasBox(h.page);
    await h.page.mouse.move(box.x + arrow.x, box.y + arrow.y);
    await h.page.waitForSelector('#tooltip:not([hidden])');
    const text = await h.page.locator('#tooltip').innerText();
    assert.match(text, /→/);
    assert.match(text, /\d+ bytes/, text);
  });

  test('search finds the reads; Enter selects one and the details pane shows call, arguments, result and payload', async () => {
    await h.page.locator('#search').click();
    await h.page.keyboard.type('read');
    await h.page.keyboard.press('Enter');
    await h.page.waitForFunction(() => document.body.dataset.details === 'read', null, { timeout: 10_000 });
    const details = h.page.locator('#details');
    await details.waitFor({ state: 'visible' });
    const text = await details.innerText();
    assert.match(text, /read/);
    assert.match(text, /Result/);
    assert.match(text, /Process/);
    assert.match(text, /fd/);
    const d = await tl(h.page, (a) => a.details);
    assert.equal(d.call, 'read');
    assert.ok(d.args.some((x: { name: string }) => x.name === 'otype'), 'arguments by name');
    const selected = await tl(h.page, (a) => a.selected);
    assert.equal(h.harness.fromWebview.filter((m) => m.type === 'selected').at(-1)?.index, selected, 'the host heard the selection');
    if (Number(d.result) > 0) assert.ok(d.payloadHex && d.payloadHex.length > 0, 'payload preview in hex');
    await h.page.screenshot({ path: join(RESULTS, 'timeline-pipe-details.png') });
    // the call's source line (the binary has -g): the link asks the host to open the editor there
    assert.ok(d.source, 'a source location');
    assert.match(d.source.file, /pipe-bidirectional\.c$/);
    await h.page.locator('#openSource').click();
    await h.page.waitForTimeout(200);
    const open = h.harness.fromWebview.find((m) => m.type === 'openSource');
    assert.ok(open, JSON.stringify(h.harness.fromWebview));
    assert.equal(open.line, d.source.line);
    assert.match(String(open.file), /pipe-bidirectional\.c$/);
  });

  test('clicking a drawn mark selects it', async () => {
    await h.page.locator('#timeline').focus();
    await h.page.keyboard.press('Escape');
    await h.page.waitForFunction(() => !document.body.dataset.details);
    await h.page.keyboard.press('0'); // fit
    await h.page.waitForTimeout(100);
    await waitRendered(h.page);
    const mark = await tl(h.page, (a) => a.findMark({ cell: true }));
    assert.ok(mark, 'a mark is drawn on a thread lane');
    const box = await canvasBox(h.page);
    await h.page.mouse.click(box.x + mark.x, box.y + mark.y);
    await h.page.waitForFunction(() => !!document.body.dataset.selected);
    const picked = await tl(h.page, (a) => a.selected);
    assert.equal(picked, mark.event, 'the clicked mark is the selected event');
    assert.notEqual(picked, null, 'a click on a mark selects an event');
    await h.page.waitForFunction(() => !!document.body.dataset.details, null, { timeout: 5000 }).catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify(await data(h.page))} ${await h.page.locator('#details').innerText()} ${JSON.stringify(h.harness.fromWebview)}`);
    });
  });
});

describe('timeline webview interactions (synthetic trace)', { skip: whyNoBrowser() }, () => {
  let h: Opened;
  before(async () => { h = await open(await startHarness({ source: new SyntheticTrace({ events: 50_000 }), title: 'synthetic 50k' })); });
  after(async () => { await h?.page.close(); await h?.harness.close(); });

  test('W/S zoom, A/D pan, the wheel zooms at the cursor, a drag pans', async () => {
    const p = h.page;
    await p.locator('#timeline').focus();
    // keys act while held (continuous, per frame): hold each until the view has moved, as a person would
    const hold = async (key: string, until: (v: { startNs: number; endNs: number }) => boolean) => {
      await p.keyboard.down(key);
      try {
        for (const t0 = Date.now(); !until(await tl(p, (a) => a.view)) && Date.now() - t0 < 10_000;) await p.waitForTimeout(30);
      } finally { await p.keyboard.up(key); }
      return tl(p, (a) => a.view);
    };
    const v0 = await tl(p, (a) => a.view);
    const w0 = v0.endNs - v0.startNs;
    const v1 = await hold('w', (v) => v.endNs - v.startNs < w0 * 0.6);
    assert.ok(v1.endNs - v1.startNs < w0 * 0.7, `W zooms in: ${JSON.stringify([v0, v1])}`);
    const v2 = await hold('d', (v) => v.startNs > v1.startNs + (v1.endNs - v1.startNs) * 0.05);
    assert.ok(v2.startNs > v1.startNs, 'D pans right');
    assert.ok(Math.abs((v2.endNs - v2.startNs) - (v1.endNs - v1.startNs)) <= 2, 'panning keeps the width');
    const va = await hold('a', (v) => v.startNs < v2.startNs - (v2.endNs - v2.startNs) * 0.05);
    assert.ok(va.startNs < v2.startNs, 'A pans left');
    const v3 = await hold('s', (v) => v.endNs - v.startNs > (va.endNs - va.startNs) * 1.3);
    assert.ok(v3.endNs - v3.startNs > va.endNs - va.startNs, 'S zooms out');
    const box = await canvasBox(p);
    await p.mouse.move(box.x + 700, box.y + 200);
    await p.mouse.wheel(0, -300);
    await p.waitForTimeout(100);
    const v4 = await tl(p, (a) => a.view);
    assert.ok(v4.endNs - v4.startNs < v3.endNs - v3.startNs, 'wheel up zooms in');
    await p.mouse.move(box.x + 600, box.y + 300);
    await p.mouse.down(); await p.mouse.move(box.x + 400, box.y + 300, { steps: 5 }); await p.mouse.up();
    const v5 = await tl(p, (a) => a.view);
    assert.ok(v5.startNs > v4.startNs, 'dragging left moves later in time');
    await waitRendered(p);
    assert.ok(Number((await data(p)).marks) > 0);
    assert.deepEqual(h.errors, []);
  });

  test('the ruler shows time units and the overview strip is drawn', async () => {
    const p = h.page;
    // ruler and overview pixels differ from the plain background
    const stats = await p.evaluate(() => {
      const ov = document.getElementById('overview') as HTMLCanvasElement;
      const g = ov.getContext('2d')!;
      const img = g.getImageData(0, 0, ov.width, ov.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < img.length; i += 4 * 7) colours.add((img[i] << 16) | (img[i + 1] << 8) | img[i + 2]);
      return { overviewColours: colours.size };
    });
    assert.ok(stats.overviewColours > 3, `overview has content: ${stats.overviewColours} colours`);
    const lf = await tl(p, (a) => a.lastFrame);
    assert.ok(lf.cells + lf.spans > 0);
  });

  test('filters: hiding a process removes its lanes; hiding a class removes its marks; the object filter narrows', async () => {
    const p = h.page;
    await tl(p, () => undefined);
    await p.keyboard.press('0');
    await waitRendered(p);
    await p.waitForFunction(() => document.body.dataset.toolbar === '1');
    const before = await tl(p, (a) => ({ lanes: a.visibleLanes.length, frame: a.lastFrame }));
    const pid = (await tl(p, (a) => a.visibleLanes.find((l: { kind: string }) => l.kind === 'process').pid)) as number;
    await p.evaluate((hide) => {
      const el = document.getElementById('processes') as HTMLElement & { value: string[] };
      el.value = [...el.querySelectorAll('vscode-option')].map((o) => o.getAttribute('value')!).filter((v) => v !== String(hide));
      el.dispatchEvent(new Event('change'));
    }, pid);
    await waitRendered(p);
    const afterHide = await tl(p, (a) => a.visibleLanes);
    assert.ok(afterHide.length < before.lanes, 'fewer lanes');
    assert.ok(!afterHide.some((l: { pid: number }) => l.pid === pid), 'none of the hidden process');
    assert.deepEqual((await tl(p, (a) => a.state)).hiddenPids, [pid]);
    await p.evaluate(() => {
      const el = document.getElementById('classes') as HTMLElement & { value: string[] };
      el.value = ['pipe'];
      el.dispatchEvent(new Event('change'));
    });
    await waitRendered(p);
    await p.waitForTimeout(200);
    await waitRendered(p);
    const onlyPipes = await tl(p, (a) => a.lastFrame);
    assert.ok(before.frame.classes.length > 2, `several classes drawn before: ${before.frame.classes}`);
    assert.deepEqual(onlyPipes.classes, ['pipe'], 'only pipe marks once the other kinds are hidden');
    // the object filter: one pipe only, and arrows (which belong to no single lane) are hidden
    await p.evaluate(() => {
      const el = document.getElementById('object') as HTMLElement & { value: string };
      el.value = [...el.querySelectorAll('vscode-option')].map((o) => o.getAttribute('value')!).find((v) => v !== '')!;
      el.dispatchEvent(new Event('change'));
    });
    await waitRendered(p);
    const oneObject = await tl(p, (a) => ({ frame: a.lastFrame, filter: a.state.objectFilter }));
    assert.notEqual(oneObject.filter, null);
    assert.equal(oneObject.frame.flows, 0);
    assert.ok(oneObject.frame.cells < before.frame.cells, `${oneObject.frame.cells} < ${before.frame.cells}`);
    // restore for the next tests
    await p.evaluate(() => {
      const o = document.getElementById('object') as HTMLElement & { value: string };
      o.value = '';
      o.dispatchEvent(new Event('change'));
      for (const id of ['classes', 'processes']) {
        const el = document.getElementById(id) as HTMLElement & { value: string[] };
        el.value = [...el.querySelectorAll('vscode-option')].map((o) => o.getAttribute('value')!);
        el.dispatchEvent(new Event('change'));
      }
    });
    await waitRendered(p);
  });

  test('selection, view and filters survive a reload (getState/setState)', async () => {
    const p = h.page;
    const box = await canvasBox(p);
    await p.locator('#timeline').focus();
    await p.keyboard.down('w'); await p.waitForTimeout(500); await p.keyboard.up('w');
    await waitRendered(p);
    const mark = await tl(p, (a) => a.findMark({ kind: 'read' }) ?? a.findMark({ cell: true }));
    assert.ok(mark, 'a mark is drawn after zooming in');
    await p.mouse.click(box.x + mark.x, box.y + mark.y);
    await p.waitForFunction(() => !!document.body.dataset.details);
    const sel = await tl(p, (a) => a.selected);
    const view = await tl(p, (a) => a.view);
    await p.evaluate(() => {
      const el = document.getElementById('classes') as HTMLElement & { value: string[] };
      el.value = [...el.querySelectorAll('vscode-option')].map((o) => o.getAttribute('value')!).filter((v) => v !== 'meta');
      el.dispatchEvent(new Event('change'));
    });
    await p.waitForTimeout(300); // state saves are debounced
    await p.reload();
    await waitRendered(p);
    await p.waitForFunction(() => !!document.body.dataset.details);
    assert.equal(await tl(p, (a) => a.selected), sel);
    const v2 = await tl(p, (a) => a.view);
    assert.ok(Math.abs(v2.startNs - view.startNs) <= 1 && Math.abs(v2.endNs - view.endNs) <= 1, `${JSON.stringify([view, v2])}`);
    assert.deepEqual((await tl(p, (a) => a.state)).hiddenClasses, ['meta']);
    assert.ok(await p.locator('#details').isVisible());
  });

  test('theme changes redraw with the theme colours: dark, light, high contrast (screenshots)', async () => {
    const p = h.page;
    await p.keyboard.press('Escape');
    const seen: string[] = [];
    for (const theme of ['dark', 'light', 'high-contrast'] as const) {
      await p.evaluate((t) => (window as unknown as { __setTheme(t: string): void }).__setTheme(t), theme);
      await p.waitForFunction((t) => document.body.dataset.theme === t, theme);
      await p.waitForTimeout(100);
      const pal = await tl(p, (a) => a.palette);
      // the canvas background pixel (below the last lane) is the theme's editor background
      const px = await p.evaluate(() => {
        const c = document.getElementById('timeline') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(c.width - 3, c.height - 3, 1, 1).data;
        return `#${[d[0], d[1], d[2]].map((x) => x.toString(16).padStart(2, '0')).join('')}`;
      });
      assert.equal(px, pal.background.toLowerCase(), `${theme}: canvas background`);
      seen.push(pal.background);
      await p.screenshot({ path: join(RESULTS, `timeline-${theme}.png`) });
    }
    assert.equal(new Set(seen).size, 3, 'three different backgrounds');
    assert.deepEqual(h.errors, []);
  });
});

describe('timeline webview following a live recording', { skip: whyNoBrowser() ?? whyNoShim() }, () => {
  test('events stream in while the program runs; follow-live keeps the end in view; the end is announced', async () => {
    const collector = await Collector.start({});
    const proc = TracedProcess.launch({
      command: '/bin/sh', args: ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line $i; sleep 0.1; done | cat > /dev/null'],
      collector, stdio: 'pipe',
    });
    const harness = await startHarness({ source: collector.store, title: 'live sh', live: true });
    const h = await open(harness);
    try {
      const counts: number[] = [];
      for (let i = 0; i < 8; i++) {
        await h.page.waitForTimeout(150);
        counts.push(await tl(h.page, (a) => a.header.eventCount));
      }
      assert.ok(counts[counts.length - 1] > counts[0], `event count grows while recording: ${counts}`);
      const hdr = await tl(h.page, (a) => a.header);
      const view = await tl(h.page, (a) => a.view);
      assert.ok(hdr.live);
      assert.ok(view.endNs >= Number(hdr.durationNs) * 0.97, `follow-live keeps the end in view: ${view.endNs} vs ${hdr.durationNs}`);
      await proc.exited;
      await collector.close();
      harness.session.end();
      await h.page.waitForFunction(() => (window as any).__ipcScopeTimeline.header?.live === false, null, { timeout: 10_000 });
      await waitRendered(h.page);
      const lanes = await tl(h.page, (a) => a.visibleLanes.filter((l: { kind: string }) => l.kind === 'process').length);
      assert.ok(lanes >= 3, `sh, its for-loop subshell/echo and cat: ${lanes} process lanes`);
      assert.ok(Number((await data(h.page)).arrows) >= 1, 'the pipe into cat is drawn as arrows');
      assert.ok(harness.session.stats.slices > 1, 'the feed consumed the recording in slices');
      await h.page.screenshot({ path: join(RESULTS, 'timeline-live.png') });
      assert.deepEqual(h.errors, []);
    } finally {
      await proc.stop().catch(() => undefined);
      await collector.close().catch(() => undefined);
      await h.page.close(); await harness.close();
    }
  });
});
