// The page-table panel in a real browser on a recorded copy-on-write run (demos/cow, 100 MiB = 25,600 pages):
// cell counts by state read back from the webview at two cursor times, and screenshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PanelService } from '../../src/common/panels/service';
import { windowGrid } from '../../src/common/panels/pages';
import { ROOT, arg, events, recordProgram, whyNoShim } from '../helpers/record';
import { enumValue } from '../../src/common/vocabulary';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';

test('page grid: parent and child side by side, all shared after fork, all copied after the child writes', async (t) => {
  const why = whyNoBrowser('pages') ?? whyNoShim();
  const bin = join(ROOT, 'demos/cow/build/cow');
  if (why || !existsSync(bin)) return t.skip(why ?? `${bin} not built`);
  const rec = await recordProgram(bin, ['100'], { timeoutMs: 60_000 });
  const { browser, close } = await launchBrowser();
  try {
    assert.equal(rec.exit.status, 0, rec.stderr);
    const service = new PanelService('pages', rec.store, { title: 'cow', live: false, locale: 'en' });
    await service.rebuild();
    const data = service.pagesData!;
    const child = data.processes.find((p) => p.origin === 'fork');
    if (!child) return t.skip('the shim did not trace the forked child');
    const parent = data.processes.find((p) => p.conn === child.forkParent)!;
    const pm = parent.mappings.find((x) => x.pageCount === 25_600)!;
    assert.ok(pm, 'the 100 MiB mapping in the parent');
    // The child's view of the same pages (its mapping may have been merged with a neighbour: cut to the same range).
    const cm = child.mappings.find((x) => BigInt(x.start) <= BigInt(pm.start) && BigInt(x.end) >= BigInt(pm.end))!;
    const childGrid = windowGrid(data.grids.get(cm.id)!, BigInt(pm.start), 25_600);
    if (childGrid.snapTs.length < 2) return t.skip('the shim took no snapshots after fork and at exit');
    // The moments the child's fork_child and exit snapshots were complete (snapshot_done).
    const done = events(rec.store, 'snapshot_done', { pid: child.pid });
    const afterFork = done.find((e) => arg(e, 'snapshot_done', 'reason') === BigInt(enumValue('snapshotReason', 'fork_child')))!.ts;
    const afterWrites = done.find((e) => arg(e, 'snapshot_done', 'reason') === BigInt(enumValue('snapshotReason', 'exit')))!.ts;
    const m = pm;

    const h = await openPanel(browser, 'pages', service);
    await h.waitData('gridCount', (v) => v === '2');
    // Choose the parent and its 100 MiB mapping as a person would.
    await h.page.selectOption('#process', String(parent.conn));
    await h.page.selectOption('#mapping', pm.id);
    await h.waitData('mapping', (v) => v === pm.id);
    await h.waitData('grid1Pid', (v) => v === String(child.pid));
    assert.equal(await h.page.evaluate(() => document.body.dataset.grid1Pid), String(child.pid), 'the child grid is beside the parent grid');

    await h.post({ type: 'cursor', ns: afterFork.toString() });
    const c1 = JSON.parse(await h.waitData('cursorNs', (v) => v === afterFork.toString()) && await h.page.evaluate(() => document.body.dataset.grid1Counts!));
    const p1 = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid0Counts!));
    assert.equal(c1.shared, 25_600, `child right after fork: ${JSON.stringify(c1)}`);
    assert.equal(p1.shared, 25_600, `parent right after fork: ${JSON.stringify(p1)}`);
    await h.screenshot('panels-pages-after-fork');

    // Half way through the child's writes: fault by fault, about half the cells have turned.
    if (childGrid.faultTs.length >= 25_600) {
      const mid = childGrid.faultTs[childGrid.faultTs.length - 12_800];
      await h.post({ type: 'cursor', ns: mid.toString() });
      await h.waitData('cursorNs', (v) => v === mid.toString());
      const cm = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid1Counts!));
      assert.ok(cm.copied > 10_000 && cm.copied < 15_600 && cm.copied + cm.shared === 25_600, `half copied: ${JSON.stringify(cm)}`);
      await h.screenshot('panels-pages-mid-writes');
    }

    await h.post({ type: 'cursor', ns: afterWrites.toString() });
    await h.waitData('cursorNs', (v) => v === afterWrites.toString());
    const c2 = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid1Counts!));
    const p2 = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid0Counts!));
    assert.equal(c2.copied, 25_600, `child after writing every page: ${JSON.stringify(c2)}`);
    assert.equal(p2.private, 25_600, `parent keeps the originals alone: ${JSON.stringify(p2)}`);

    // Hovering a cell shows its address and frame.
    const box = (await h.page.locator('canvas[data-grid="1"]').boundingBox())!;
    await h.page.mouse.move(box.x + 2, box.y + 2);
    const tip = await h.page.locator('#tip').textContent();
    assert.match(tip ?? '', new RegExp(`address\\s+${m.start}`));
    assert.match(tip ?? '', /copied/);
    assert.match(tip ?? '', /access_pages cow\.c:\d+/, 'the writing call site, symbolized');
    await h.screenshot('panels-pages-after-writes');

    // Scrubbing in the panel moves the host's cursor (the timeline follows).
    await h.page.locator('#prev-change').click();
    await h.waitData('cursorNs', (v) => BigInt(v) < afterWrites);
    assert.ok(h.effects.some((e) => e.type === 'cursor'), 'the panel told the host where its cursor went');
    await h.close();
  } finally { await close(); rec.cleanup(); }
});
