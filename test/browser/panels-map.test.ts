// The IPC map in a real browser on a recorded demo (parent → pipe → child): the nodes and edges it draws, the elkjs
// layout, and clicking a node selecting it for the timeline and tree views.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PanelService } from '../../src/common/panels/service';
import { ROOT, recordProgram, whyNoShim } from '../helpers/record';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';

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
