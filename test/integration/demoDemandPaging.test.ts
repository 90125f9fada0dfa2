// demos/demand-paging: after execve the new image maps 2560 pages without a fault and takes one fault per page as
// it first touches them, in ten bursts (one per step); the second pass takes none.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { byTime, context, evs, manifest, ms, num, procs, recorded, whyNoDemos } from './demoSupport';

const PAGES = 2560;

describe('demand-paging', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('demand-paging', manifest('demand-paging').run.command, (run) => {
    test('the exec\'d image maps the region with no fault and faults once per page as it touches them, in 10 bursts', () => {
      const r = run();
      const image = procs(r, 'touch').find((p) => p.argv.includes('touch'));
      assert.ok(image, `no exec'd 'touch' image\n${context(r)}`);
      const exec = evs(r, 'proc_start', { pid: image.pid }).find((e) => num(e, 'proc_start', 'origin') === 2 /* exec */);
      assert.ok(exec, 'the child image starts by exec');
      const map = evs(r, 'mmap', { pid: image.pid }).find((e) => e.err === 0 && num(e, 'mmap', 'length') === PAGES * 4096);
      assert.ok(map && map.ts > exec.ts, 'the region is mapped after exec');
      const lo = BigInt.asUintN(64, map.result), hi = lo + BigInt(PAGES * 4096);
      const faults = evs(r, 'page_fault', { pid: image.pid }).filter((e) => e.args[0] >= lo && e.args[0] < hi).sort(byTime);
      // Sampling may miss a few; one per page, no more (the second pass takes none).
      assert.ok(faults.length >= PAGES * 0.95 && faults.length <= PAGES, `${faults.length} faults in the region, want ≈ ${PAGES}`);
      assert.ok(faults[0].ts > map.ts, 'no fault before the first touch: mmap itself allocates nothing');
      const pages = new Set(faults.map((e) => (e.args[0] - lo) / 4096n));
      assert.equal(pages.size, faults.length, 'each page faults once');
      // The pages are touched in address order, so the faults arrive in address order.
      const order = faults.map((e) => e.args[0]);
      assert.ok(order.every((a, i) => i === 0 || a > order[i - 1]), 'faults arrive in the order the pages are touched');
      // Ten steps 20 ms apart: ten bursts (a loaded machine may pause a step in the middle, hence the slack).
      let bursts = 1;
      for (let i = 1; i < faults.length; i++) if (ms(faults[i].ts - faults[i - 1].ts) > 10) bursts++;
      assert.ok(bursts >= 10 && bursts <= 13, `${bursts} bursts of faults, want 10 (one per step)`);
      assert.match(r.stdout, /second pass over all pages: 0 new minor faults/);
    });
    test('the exec\'d image\'s own code and data fault in right after exec (demand paging of the program itself)', () => {
      const r = run();
      const image = procs(r, 'touch').find((p) => p.argv.includes('touch'))!;
      const exec = evs(r, 'proc_start', { pid: image.pid }).find((e) => num(e, 'proc_start', 'origin') === 2)!;
      const early = evs(r, 'page_fault', { pid: image.pid }).filter((e) => e.ts >= exec.ts && ms(e.ts - exec.ts) < 50);
      assert.ok(early.length > 0, 'faults right after exec');
    });
  });
});
