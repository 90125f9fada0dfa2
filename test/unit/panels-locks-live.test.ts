// The lock table while a session records: a real program under the real shim, streamed to a real collector over its
// websocket, followed by a live model and a live lock PanelService the way the extension host drives them. The
// program takes a global mutex from two threads, then blocks on its stdin; while it is still blocked the table must
// show the lock's variable name (nm) and its call site as function and file:line (addr2line), resolved in the
// background: the first table that has the lock shows raw addresses (a refresh never waits for a resolver run), and
// onDidResolve says when a refresh would show more. At the end the live table's sites equal a finished build's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceModel } from '../../src/common/model';
import { PanelService } from '../../src/common/panels/service';
import { whyNoShim } from '../helpers/record';
import { LIVE_LOCK_LINE as LOCK_LINE, startLiveLocks, type LiveLocksRun } from '../helpers/liveLocks';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('live lock table: call sites and the mutex name resolved in the background while the program still runs', async (t) => {
  const why = whyNoShim();
  if (why) return t.skip(why);
  let run: LiveLocksRun | undefined;
  try {
    run = await startLiveLocks();
    const c = run.collector;
    const model = new TraceModel(c.store, { live: true, lagNs: 1_000_000n });
    const svc = new PanelService('locks', model, { title: 'live', live: true, locale: 'en' });
    let resolvedSignals = 0;
    svc.onDidResolve = () => { resolvedSignals++; };
    const r = run;

    // Refresh as the host does (every 250 ms, or when told resolution landed) until the table names the call site.
    const hot = () => svc.locksData?.locks.find((l) => l.sites.length > 0);
    let firstWithSites: { name: string; labels: string[] } | undefined;
    let refreshes = 0, refreshesAfterFirst = 0, firstAt = 0;
    const slowest = { ms: 0 };
    const t0 = Date.now();
    for (;;) {
      assert.ok(Date.now() - t0 < 30_000, `no resolved call site within 30 s; table: ${JSON.stringify(svc.locksData?.locks.map((l) => [l.name, l.sites.map((s) => s.label)]))}; stdout ${r.stdout()}`);
      model.update();
      const r0 = performance.now();
      await svc.refresh({ final: false });
      slowest.ms = Math.max(slowest.ms, performance.now() - r0);
      refreshes++;
      const l = hot();
      if (l && !firstWithSites) { firstWithSites = { name: l.name, labels: l.sites.map((s) => s.label) }; firstAt = Date.now(); }
      else if (l) refreshesAfterFirst++;
      if (l && l.sites.some((s) => s.file && s.line)) break;
      await sleep(250);
    }
    assert.equal(r.exited(), false, 'the program is still running (blocked on its stdin)');
    const resolvedAfterMs = Date.now() - firstAt;
    const l = hot()!;
    assert.ok(firstWithSites, 'a table with the lock was built');
    // The first build could not have waited for addr2line: nothing was resolved before it.
    assert.ok(firstWithSites.labels.every((x) => /^0x[0-9a-f]+$/.test(x)), `the first table showed raw addresses: ${firstWithSites.labels.join(', ')}`);
    assert.ok(resolvedSignals > 0, 'onDidResolve told the host to refresh');
    assert.ok(refreshesAfterFirst <= 8, `resolved within a few refreshes of the lock's first appearance (${refreshesAfterFirst})`);
    const site = l.sites.find((s) => s.file && s.line)!;
    assert.equal(site.func, 'worker');
    assert.match(site.file!, /live_locks\.c$/);
    assert.equal(site.line, LOCK_LINE, `the pthread_mutex_lock line: ${site.label}`);
    assert.match(site.label, new RegExp(`^worker live_locks\\.c:${LOCK_LINE}$`));
    // The data name arrives from nm in the same or a later batch.
    for (let i = 0; i < 20 && svc.locksData!.locks.find((x) => x.key === l.key)!.name !== 'hot_lock'; i++) {
      await svc.symbolsSettled(); model.update(); await svc.refresh({ final: false }); await sleep(50);
    }
    assert.equal(svc.locksData!.locks.find((x) => x.key === l.key)!.name, 'hot_lock', 'the mutex by its variable name');
    assert.equal(r.exited(), false, 'still running when the name showed');
    assert.ok(svc.locksData!.sites.some((s) => s.file?.endsWith('live_locks.c') && s.line === LOCK_LINE), 'the CodeLens list has the file:line too');
    // A refresh with nothing new neither rebuilds nor starts a batch.
    await svc.symbolsSettled();
    await svc.refresh({ final: false });
    const batches = svc.symbolBatches;
    assert.equal(await svc.refresh({ final: false }), false, 'nothing new: no rebuild');
    assert.equal(svc.symbolBatches, batches, 'addresses already seen are not resolved again');
    t.diagnostic(`${refreshes} refreshes (${refreshesAfterFirst} after the lock first showed, ${resolvedAfterMs} ms), ${svc.symbolBatches} resolver batches, slowest refresh ${slowest.ms.toFixed(1)} ms`);

    // Let it finish: the final table (resolved up front) has the same sites.
    assert.equal(await r.finish(), 0);
    model.update({ flush: true });
    svc.ended();
    await svc.refresh({ final: true });
    const done = new PanelService('locks', c.store, { title: 'done', live: false, locale: 'en' });
    await done.rebuild();
    const labels = (s: PanelService) => s.locksData!.locks.map((x) => [x.name, x.sites.map((y) => y.label).sort()]);
    assert.deepEqual(labels(svc), labels(done), 'live then final = a finished build');
  } finally { await run?.close(); }
});
