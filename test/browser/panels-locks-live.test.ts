// The lock panel in a real browser while a session records: the real locks bundle driven by a live PanelService over
// a live model of a real program under the shim (test/helpers/liveLocks.ts), refreshed the way the extension host
// does (every 250 ms and when background resolution lands, posting only when the data changed). While the program
// is still blocked on its stdin the table shows hot_lock with its call site as "worker live_locks.c:LINE".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceModel } from '../../src/common/model';
import { PanelService } from '../../src/common/panels/service';
import { whyNoShim } from '../helpers/record';
import { LIVE_LOCK_LINE, startLiveLocks, type LiveLocksRun } from '../helpers/liveLocks';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('live lock panel: the call site and the mutex name show as file:line while the program still runs', async (t) => {
  const why = whyNoBrowser('locks') ?? whyNoShim();
  if (why) return t.skip(why);
  let run: LiveLocksRun | undefined;
  const { browser, close } = await launchBrowser();
  try {
    run = await startLiveLocks();
    const model = new TraceModel(run.collector.store, { live: true, lagNs: 1_000_000n });
    const svc = new PanelService('locks', model, { title: 'live', live: true, locale: 'en' });
    let resolved = false;
    svc.onDidResolve = () => { resolved = true; };
    model.update();
    await svc.refresh({ final: false });
    const h = await openPanel(browser, 'locks', svc);
    await h.waitData('locksReady');
    const t0 = Date.now();
    let cells: string[] = [];
    for (;;) {
      assert.ok(Date.now() - t0 < 30_000, `the table never showed live_locks.c:${LIVE_LOCK_LINE}: ${cells.join(' | ')}`);
      model.update();
      if (await svc.refresh({ final: false })) await h.post(svc.initMessage());
      const row = h.page.locator('#rows tr', { hasText: 'hot_lock' });
      cells = (await row.count()) ? await row.first().locator('td').allTextContents() : [];
      if (cells.join(' ').includes(`live_locks.c:${LIVE_LOCK_LINE}`)) break;
      // The host refreshes every 250 ms, and at once when resolution landed.
      if (!resolved) await sleep(250); else resolved = false;
    }
    assert.equal(run.exited(), false, 'the program is still running');
    assert.match(cells.join(' '), new RegExp(`worker live_locks\\.c:${LIVE_LOCK_LINE}`));
    await h.screenshot('panels-locks-live');
    await h.close();
    assert.equal(await run.finish(), 0);
  } finally { await close(); await run?.close(); }
});
