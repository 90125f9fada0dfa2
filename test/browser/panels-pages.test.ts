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
import { TraceBuilder } from '../unit/panels-fixture';

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
    // The 100 MiB buffer (the demo's mmap) lies in one of the parent's mappings: the kernel may have merged it with a
    // neighbouring anonymous mapping, so that mapping can be a little larger than 25,600 pages.
    const buf = events(rec.store, 'mmap', { pid: parent.pid }).find((e) => arg(e, 'mmap', 'length') === 100n << 20n)!;
    assert.ok(buf, 'the demo mmap()s 100 MiB');
    const bufStart = BigInt.asUintN(64, buf.result);
    const pm = parent.mappings.filter((x) => BigInt(x.start) <= bufStart && bufStart + (100n << 20n) <= BigInt(x.end)).sort((a, b) => b.pageCount - a.pageCount)[0];
    assert.ok(pm, `a parent mapping holds the buffer: ${parent.mappings.map((x) => `${x.start}-${x.end}`).join(' ')}`);
    const cm = child.mappings.filter((x) => BigInt(x.start) < BigInt(pm.end) && BigInt(pm.start) < BigInt(x.end)).sort((a, b) => b.pageCount - a.pageCount)[0];
    assert.ok(cm, 'the child maps the same range');
    const childGrid = windowGrid(data.grids.get(cm.id)!, BigInt(pm.start), pm.pageCount);
    if (childGrid.snapTs.length < 2) return t.skip('the shim took no snapshots after fork and at exit');
    // The moments the child's fork_child and exit snapshots were complete (snapshot_done).
    const done = events(rec.store, 'snapshot_done', { pid: child.pid });
    const afterFork = done.find((e) => arg(e, 'snapshot_done', 'reason') === BigInt(enumValue('snapshotReason', 'fork_child')))!.ts;
    const afterWrites = done.find((e) => arg(e, 'snapshot_done', 'reason') === BigInt(enumValue('snapshotReason', 'exit')))!.ts;
    
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
    assert.ok(c1.shared >= 25_600, `child right after fork, every buffer page shared: ${JSON.stringify(c1)}`);
    assert.ok(p1.shared >= 25_600, `parent right after fork: ${JSON.stringify(p1)}`);
    assert.equal(c1.copied, 0);
    await h.screenshot('panels-pages-after-fork');

    // Half way through the child's writes: fault by fault, about half the cells have turned.
    if (childGrid.faultTs.length >= 25_600) {
      const mid = childGrid.faultTs[childGrid.faultTs.length - 12_800];
      await h.post({ type: 'cursor', ns: mid.toString() });
      await h.waitData('cursorNs', (v) => v === mid.toString());
      const half = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid1Counts!));
      assert.ok(half.copied > 10_000 && half.copied < 16_000 && half.copied + half.shared >= 25_600, `half copied: ${JSON.stringify(half)}`);
      await h.screenshot('panels-pages-mid-writes');
    }

    await h.post({ type: 'cursor', ns: afterWrites.toString() });
    await h.waitData('cursorNs', (v) => v === afterWrites.toString());
    const c2 = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid1Counts!));
    const p2 = JSON.parse(await h.page.evaluate(() => document.body.dataset.grid0Counts!));
    assert.ok(c2.copied >= 25_600, `child after writing every page: ${JSON.stringify(c2)}`);
    assert.ok(p2.private >= 25_600, `parent keeps the originals alone: ${JSON.stringify(p2)}`);
    assert.ok(c2.shared < 300, 'only pages outside the buffer can still be shared');

    // Hovering a cell shows its address and frame.
    const box = (await h.page.locator('canvas[data-grid="1"]').boundingBox())!;
    const [cols, cell] = (await h.page.evaluate(() => document.body.dataset.grid1Layout!)).split(',').map(Number);
    const bufPage = Number((bufStart - BigInt(pm.start)) / 4096n) + 100;
    await h.page.mouse.move(box.x + (bufPage % cols) * cell + cell / 2, box.y + Math.floor(bufPage / cols) * cell + cell / 2);
    const tip = await h.page.locator('#tip').textContent();
    assert.match(tip ?? '', new RegExp(`address\\s+0x${(BigInt(pm.start) + BigInt(bufPage) * 4096n).toString(16)}`));
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

test('page grid while recording: with nobody moving the cursor it shows the newest state; a cursor from the timeline stops that', async (t) => {
  const why = whyNoBrowser('pages');
  if (why) return t.skip(why);
  const b = new TraceBuilder();
  const A = 0x7f0000000000n;
  const p = b.image(300, { exe: '/demo/grow' });
  b.ev(p, 300, 'mmap', 1_000n, { length: 16 * 4096, prot: 3, flags: 0x22 }, { result: A });
  for (let i = 0; i < 16; i++) b.ev(p, 300, 'page_fault', 2_000n + BigInt(i) * 1_000n, { addr: A + BigInt(i) * 4096n, ip: 0x1000 });
  const service = new PanelService('pages', b.build(), { title: 'grow', live: true, locale: 'en', symbolize: false });
  await service.rebuild();
  const end = service.header().endNs;
  const { browser, close } = await launchBrowser();
  try {
    const h = await openPanel(browser, 'pages', service);
    assert.equal(await h.waitData('cursorNs', (v) => v === end), end, 'the cursor follows the newest events');
    // Another view moves the cursor: the panel stays there even as the recording grows.
    await h.post({ type: 'cursor', ns: '5000' });
    await h.waitData('cursorNs', (v) => v === '5000');
    await h.post(service.initMessage());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await h.page.evaluate(() => document.body.dataset.cursorNs), '5000');
    await h.close();
  } finally { await close(); }
});
