// The IPC map in a real browser on a recorded demo (parent → pipe → child): the nodes and edges it draws, the elkjs
// layout, and clicking a node selecting it for the timeline and tree views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PanelService } from '../../src/common/panels/service';
import { ROOT, recordProgram, whyNoShim } from '../helpers/record';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';
import { TraceBuilder } from '../unit/panels-fixture';

test('IPC map: writer → pipe → reader laid out by elkjs, click selects', async (t) => {
  const why = whyNoBrowser('map') ?? whyNoShim();
  const bin = join(ROOT, 'demos/pipe/build/pipe');
  if (why || !existsSync(bin)) return t.skip(why ?? `${bin} not built`);
  const rec = await recordProgram(bin, []);
  const { browser, close } = await launchBrowser();
  try {
    const service = new PanelService('map', rec.store, { title: 'pipe', live: false, locale: 'ko' });
    await service.rebuild();
    const data = service.mapData!;
    if (data.nodes.filter((n) => n.kind === 'process').length < 2) return t.skip('the shim did not trace the child');
    const h = await openPanel(browser, 'map', service);
    await h.waitData('mapReady');
    assert.equal(await h.page.evaluate(() => document.body.dataset.nodeCount), String(data.nodes.length));
    assert.equal(await h.page.evaluate(() => document.body.dataset.edgeCount), String(data.edges.length));
    assert.equal(await h.page.evaluate(() => document.body.dataset.drawn), String(data.edges.length), 'every edge got a route from elkjs');
    assert.equal(await h.page.evaluate(() => document.documentElement.lang), 'ko', 'Korean when VS Code runs in Korean');
    assert.match(await h.page.locator('#fit').textContent() ?? '', /맞추기/);
    const pipe = data.nodes.find((n) => n.kind === 'pipe')!;
    const child = data.nodes.find((n) => n.kind === 'process' && n.parent)!;
    // The pipe lies between writer and reader: left to right in the layered layout.
    const [px] = (await h.page.evaluate((id) => (window as unknown as { __mapNodeAt(id: string): [number, number] }).__mapNodeAt(id), pipe.id));
    const [cx, cy] = (await h.page.evaluate((id) => (window as unknown as { __mapNodeAt(id: string): [number, number] }).__mapNodeAt(id), child.id));
    assert.ok(cx > px, 'the reading child is right of the pipe');
    await h.page.mouse.click(cx, cy);
    await h.waitData('selected', (v) => v === child.id);
    assert.ok(h.effects.some((e) => e.type === 'select' && e.selection?.type === 'process' && e.selection.pid === child.pid), 'selecting told the host');
    await h.screenshot('panels-map-pipe');
    await h.close();
  } finally { await close(); rec.cleanup(); }
});

test('IPC map: a map that grows (live) is laid out again from the previous positions, so the old nodes keep their places', async (t) => {
  const why = whyNoBrowser('map');
  if (why) return t.skip(why);
  // Four processes in a pipeline (each writes a pipe the next reads); later a fifth joins and a queue appears.
  const grow = (n: number, extra: boolean) => {
    const b = new TraceBuilder();
    const conns = [...Array(n)].map((_, i) => b.image(500 + i, { ppid: i ? 500 : 1, origin: i ? 'fork' : 'initial', startNs: BigInt(i * 10), exe: '/demo/stage' }));
    for (let i = 0; i + 1 < n; i++) {
      const obj = { otype: 1, dev: 7, ino: 700 + i };
      b.ev(conns[i], 500 + i, 'write', BigInt(100 + i * 10), { fd: 4, count: 8, ...obj }, { phase: 'end', result: 8 });
      b.ev(conns[i + 1], 501 + i, 'read', BigInt(101 + i * 10), { fd: 3, count: 8, ...obj }, { phase: 'end', result: 8 });
    }
    if (extra) b.ev(conns[1], 501, 'mq_open', 900n, { dev: 3, ino: 77 }, { result: 7, blob: '/jobs' });
    return b.build();
  };
  const first = new PanelService('map', grow(4, false), { title: 'grow', live: true, locale: 'en' });
  await first.rebuild();
  const later = new PanelService('map', grow(5, true), { title: 'grow', live: true, locale: 'en' });
  await later.rebuild();
  const { browser, close } = await launchBrowser();
  try {
    const h = await openPanel(browser, 'map', first);
    await h.waitData('mapReady');
    const at = (id: string) => h.page.evaluate((x) => (window as unknown as { __mapNodeAt(id: string): [number, number] }).__mapNodeAt(x), id);
    const old = first.mapData!.nodes.map((n) => n.id);
    const before = await Promise.all(old.map(at));
    await h.post({ type: 'mapInit', header: { ...first.header(), generation: 2 }, data: later.mapData! });
    await h.waitData('mapReady', (v) => v === '2');
    assert.equal(await h.page.evaluate(() => document.body.dataset.nodeCount), String(later.mapData!.nodes.length));
    const after = await Promise.all(old.map(at));
    // Every node already drawn is where it was; the new ones are placed without covering any of them.
    old.forEach((id, i) => assert.deepEqual(after[i], before[i], `${id} stayed put`));
    const fresh = later.mapData!.nodes.filter((n) => !old.includes(n.id)).map((n) => n.id);
    assert.equal(fresh.length, 3, `a process, its pipe and the queue are new: ${fresh.join(', ')}`);
    const all = await Promise.all(later.mapData!.nodes.map((n) => n.id).map(at));
    for (const id of fresh) {
      const p = all[later.mapData!.nodes.findIndex((n) => n.id === id)];
      assert.ok(p, `${id} is drawn`);
      for (let j = 0; j < all.length; j++) if (later.mapData!.nodes[j].id !== id) assert.ok(Math.abs(all[j][0] - p[0]) > 10 || Math.abs(all[j][1] - p[1]) > 10, `${id} does not sit on ${later.mapData!.nodes[j].id}`);
    }
    assert.equal(await h.page.evaluate(() => document.body.dataset.drawn), String(later.mapData!.edges.length), 'every edge is drawn');
    await h.screenshot('panels-map-grown');
    // Fit lays the grown map out afresh.
    await h.page.evaluate(() => { delete document.body.dataset.layoutMs; });
    await h.page.click('#fit');
    await h.waitData('layoutMs');
    await h.screenshot('panels-map-grown-fit');
    await h.close();
  } finally { await close(); }
});
