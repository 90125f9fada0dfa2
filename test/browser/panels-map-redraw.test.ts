// The IPC map's cached layer is painted in cells: a fresh layer only where the view is, the ring around it in idle
// time, a cell the view reaches first on demand. Panning into cells that were not painted yet (no idle time between)
// must show exactly what a layer drawn afresh at that view shows: no holes, no seams, nothing stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PanelService } from '../../src/common/panels/service';
import { TraceBuilder } from '../unit/panels-fixture';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';

/** 60 processes and 300 pipes, each written by one process and read by another. */
function mediumMap() {
  const b = new TraceBuilder();
  const procs: number[] = [];
  for (let i = 0; i < 60; i++) procs.push(b.image(2000 + i, { ppid: i === 0 ? 1 : 2000 + Math.floor((i - 1) / 6), origin: i ? 'fork' : 'initial', startNs: BigInt(i) }));
  for (let o = 0; o < 300; o++) {
    const w = o % 60, r = (o * 7 + 3) % 60;
    const obj = { otype: 1, dev: 5, ino: 20_000 + o };
    b.ev(procs[w], 2000 + w, 'write', 1000n + BigInt(o), { fd: 4, count: 64, ...obj }, { phase: 'end', result: 64 + o });
    b.ev(procs[r], 2000 + r, 'read', 1001n + BigInt(o), { fd: 3, count: 64, ...obj }, { phase: 'end', result: 64 + o });
  }
  return b.build();
}

test('IPC map: panning into cells not painted yet shows what a fresh layer shows', async (t) => {
  const why = whyNoBrowser('map');
  if (why) return t.skip(why);
  const { browser, close } = await launchBrowser();
  try {
    const service = new PanelService('map', mediumMap(), { title: 'cells', live: false, locale: 'en' });
    await service.rebuild();
    const h = await openPanel(browser, 'map', service);
    await h.waitData('mapReady', undefined, 60_000);
    for (const [k, dx, dy] of [[1, -500, -300], [1, 450, 200], [0.5, -900, 350], [2, 300, -250]]) {
      const r = await h.page.evaluate(([k, dx, dy]) => {
        const win = window as unknown as { __mapSetZoom(k: number): void; __mapRedraw(w: string): number; __mapPan(dx: number, dy: number): number };
        const canvas = document.getElementById('map') as HTMLCanvasElement;
        const ctx = canvas.getContext('2d')!;
        const grab = () => ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        // A fresh layer (only the view's cells painted), then pans in small steps with no idle time between, so
        // every cell the view reaches is painted on demand.
        win.__mapSetZoom(k); win.__mapRedraw('selection');
        const complete0 = document.body.dataset.layerComplete;
        for (let i = 0; i < 10; i++) win.__mapPan(dx / 10, dy / 10);
        const complete1 = document.body.dataset.layerComplete;
        const panned = grab();
        win.__mapRedraw('selection');
        const fresh = grab();
        let differ = 0, inked = 0;
        for (let i = 0; i < fresh.length; i += 4) {
          if (fresh[i + 3] > 0) inked++;
          if (Math.abs(fresh[i] - panned[i]) + Math.abs(fresh[i + 1] - panned[i + 1]) + Math.abs(fresh[i + 2] - panned[i + 2]) + Math.abs(fresh[i + 3] - panned[i + 3]) > 24) differ++;
        }
        return { differ, inked, pixels: fresh.length / 4, complete0, complete1 };
      }, [k, dx, dy] as const);
      assert.equal(r.complete0, '0', `zoom ${k}: a fresh layer paints only the view's cells`);
      assert.ok(r.inked > r.pixels * 0.002, `zoom ${k}: the view shows part of the map (${r.inked} inked pixels)`);
      assert.ok(r.differ <= r.pixels * 0.001, `zoom ${k}, panned ${dx},${dy}: ${r.differ} of ${r.pixels} pixels differ from a fresh layer`);
    }
    // Given idle time, the ring around the view is painted without any draw.
    await h.waitData('layerComplete', (v) => v === '1', 10_000);
    await h.screenshot('panels-map-cells');
    await h.close();
  } finally { await close(); }
});
