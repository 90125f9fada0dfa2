// The timeline and the lock panel side by side in a real browser, linked the way the VS Code host links them
// (src/host/timelinePanel.ts → timelineLink → panelLinks → the panel; the panel's setCursor effect → the timeline's
// `cursor` message): a click on the timeline's ruler moves the panel's cursor, selecting an event moves it to that
// event's time, and the panel's "jump to deadlock" moves the timeline's cursor. The trace is a real program (two
// threads deadlock ABBA) recorded under the real shim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanelService } from '../../src/common/panels/service';
import { timelineLink } from '../../src/common/panels/links';
import { compileC, recordProgram, tempDir, whyNoShim } from '../helpers/record';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';
import { startHarness } from '../../bench/webview/harness';
import type { FromWebviewMessage } from '../../src/common/webviewProtocol';
import { kindId } from '../../src/common/vocabulary';

const PROGRAM = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both;
static void *one(void *x) { (void)x; pthread_mutex_lock(&lock_a); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_b); return NULL; }
static void *two(void *x) { (void)x; pthread_mutex_lock(&lock_b); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_a); return NULL; }
int main(void) {
  pthread_t d1, d2;
  for (int i = 0; i < 20; i++) { pthread_mutex_lock(&lock_a); usleep(1000); pthread_mutex_unlock(&lock_a); }
  pthread_barrier_init(&both, NULL, 2);
  pthread_create(&d1, NULL, one, NULL); pthread_create(&d2, NULL, two, NULL);
  usleep(200000);
  printf("deadlocked\n"); fflush(stdout);
  _exit(0);
}`;

async function until<T>(f: () => T | undefined | Promise<T | undefined>, ok: (v: T | undefined) => boolean, what: string, ms = 15_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (ok(v)) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what} (last ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x))})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('timeline ↔ lock panel: ruler click and event selection move the panel cursor; the panel moves the timeline cursor', async (t) => {
  const why = whyNoBrowser('locks') ?? whyNoShim();
  if (why) return t.skip(why);
  const src = join(tempDir(), 'link_demo.c');
  writeFileSync(src, PROGRAM);
  const bin = compileC(src, { flags: ['-O0'] });
  const rec = await recordProgram(bin, [], { timeoutMs: 60_000 });
  assert.match(rec.stdout, /deadlocked/);
  const { browser, close } = await launchBrowser();
  const tlHarness = await startHarness({ source: rec.store, title: 'link_demo' });
  try {
    const service = new PanelService('locks', rec.store, { title: 'link_demo', live: false, locale: 'en' });
    await service.rebuild();
    const panel = await openPanel(browser, 'locks', service);
    await panel.waitData('locksReady', (v) => v === '1');

    const tl = await browser.newPage();
    await tl.setViewportSize({ width: 1400, height: 700 });
    await tl.goto(tlHarness.url);
    await tl.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30_000 });

    // The host's link, as timelinePanel.ts does it: timeline messages → cursor/selection → the panel.
    let seen = 0;
    const pump = async () => {
      for (; seen < tlHarness.fromWebview.length; seen++) {
        const l = timelineLink(rec.store, tlHarness.fromWebview[seen] as unknown as FromWebviewMessage, service.model);
        if (l?.cursorNs !== undefined) { service.cursorNs = l.cursorNs; await panel.post({ type: 'cursor', ns: l.cursorNs.toString() }); }
        if (l?.selection !== undefined) await panel.post({ type: 'selection', selection: l.selection });
      }
    };

    // 1. A click on the ruler, 40% of the way across the view.
    const box = (await tl.locator('#timeline').boundingBox())!;
    const view = await tl.evaluate(() => (window as any).__ipcScopeTimeline.view);
    const x = view.labelW + (view.width - view.labelW) * 0.4;
    await tl.mouse.click(box.x + x, box.y + 10);
    const cursorMsg = await until(() => tlHarness.fromWebview.find((m) => m.type === 'cursor'), (m) => !!m, 'the timeline posts cursor');
    const header = await tl.evaluate(() => (window as any).__ipcScopeTimeline.header);
    const expectRel = view.startNs + ((view.endNs - view.startNs) * 0.4);
    const gotRel = Number(BigInt(cursorMsg.ns as string) - BigInt(header.originNs));
    assert.ok(Math.abs(gotRel - expectRel) <= (view.endNs - view.startNs) / view.width * 2, `cursor at ${gotRel} ns, clicked at ≈${expectRel}`);
    await pump();
    assert.equal(await panel.waitData('cursorNs', (v) => v === cursorMsg.ns), cursorMsg.ns, 'the lock panel follows the ruler click');
    assert.equal(await tl.evaluate(() => document.body.dataset.cursor), cursorMsg.ns, 'the timeline draws its own cursor there');

    // 2. Selecting an event (a mutex_lock span) puts the cursor at that event's time and opens its lock in the panel.
    const mark = await tl.evaluate(() => (window as any).__ipcScopeTimeline.findMark({ kind: 'mutex_lock' }));
    assert.ok(mark, 'a mark to click');
    await tl.mouse.click(box.x + mark.x, box.y + mark.y);
    const sel = await until(() => tlHarness.fromWebview.filter((m) => m.type === 'selected' && m.index !== null).pop(), (m) => !!m, 'the timeline reports the selection');
    const ev = rec.store.get(sel.index as number);
    await pump();
    assert.equal(await panel.waitData('cursorNs', (v) => v === ev.ts.toString()), ev.ts.toString(), 'the panel cursor is at the selected event');
    assert.equal(ev.kind, kindId('mutex_lock'), 'a mutex_lock call was clicked');
    const key = service.model.lockKey(ev.pid, ev.args[0]);
    assert.equal(await panel.waitData('selectedLock', (v) => v === key), key, 'the locks panel selects the clicked call\'s lock');

    // 3. The panel's "jump to deadlock" moves the timeline's cursor (the host posts the panel's setCursor effect to it).
    const jump = service.locksData?.firstDeadlockNs;
    assert.ok(jump, 'the ABBA deadlock is found');
    const before = panel.effects.length;
    await panel.page.click('#jump');
    const fx = await until(() => panel.effects.slice(before).find((e) => e.type === 'cursor'), (e) => !!e, 'the panel sets the cursor');
    assert.equal(fx.type === 'cursor' && fx.ns.toString(), jump);
    tlHarness.post({ type: 'cursor', ns: jump });
    await until(() => tl.evaluate(() => document.body.dataset.cursor), (v) => v === jump, 'the timeline cursor moves to the deadlock');
    const vw = await tl.evaluate(() => (window as any).__ipcScopeTimeline.view);
    const rel = Number(BigInt(jump) - BigInt(header.originNs));
    assert.ok(rel >= vw.startNs && rel <= vw.endNs, 'the timeline shows the cursor');
    await tl.screenshot({ path: join(process.cwd(), 'test-results', 'panels-link-timeline.png') });
    await panel.close();
    await tl.close();
  } finally {
    await tlHarness.close();
    await close();
  }
});
