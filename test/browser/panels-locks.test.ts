// The lock panel in a real browser on a recorded program: four threads contend on one mutex, then two threads
// deadlock ABBA. Reads back the top contended lock and the highlighted cycle; screenshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PanelService } from '../../src/common/panels/service';
import { compileC, recordProgram, tempDir, whyNoShim } from '../helpers/record';
import { launchBrowser, openPanel, whyNoBrowser } from './panels-harness';

const PROGRAM = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER, cold_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER, lock_b = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static pthread_barrier_t both;
static void *worker(void *x) {
  (void)x;
  for (int i = 0; i < 300; i++) { pthread_mutex_lock(&hot_lock); counter++; usleep(50); pthread_mutex_unlock(&hot_lock); }
  pthread_mutex_lock(&cold_lock); counter++; pthread_mutex_unlock(&cold_lock);
  return NULL;
}
static void *one(void *x) { (void)x; pthread_mutex_lock(&lock_a); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_b); return NULL; }
static void *two(void *x) { (void)x; pthread_mutex_lock(&lock_b); pthread_barrier_wait(&both); pthread_mutex_lock(&lock_a); return NULL; }
int main(void) {
  pthread_t t[4], d1, d2;
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  pthread_barrier_init(&both, NULL, 2);
  pthread_create(&d1, NULL, one, NULL); pthread_create(&d2, NULL, two, NULL);
  usleep(300000);
  printf("counter %ld, deadlocked\n", counter); fflush(stdout);
  _exit(0);
}`;

test('lock panel: hot_lock ranks first, the ABBA deadlock is highlighted and explained', async (t) => {
  const why = whyNoBrowser('locks') ?? whyNoShim();
  if (why) return t.skip(why);
  const src = join(tempDir(), 'locks_demo.c');
  writeFileSync(src, PROGRAM);
  const bin = compileC(src, { flags: ['-O0'] });
  const rec = await recordProgram(bin, [], { timeoutMs: 60_000 });
  const { browser, close } = await launchBrowser();
  try {
    assert.match(rec.stdout, /deadlocked/);
    const service = new PanelService('locks', rec.store, { title: 'locks_demo', live: false, locale: 'en' });
    await service.rebuild();
    if (!service.locksData?.locks.length) return t.skip('the shim recorded no lock events');
    const h = await openPanel(browser, 'locks', service);
    await h.waitData('locksReady');
    assert.equal(await h.page.evaluate(() => document.body.dataset.topContended), 'hot_lock', 'the most contended lock');
    assert.equal(await h.page.evaluate(() => document.body.dataset.topLock), 'hot_lock', 'the lock with the most total wait');
    assert.equal(await h.page.evaluate(() => document.body.dataset.firstRow), 'hot_lock', 'ranked first in the table by default');
    const names = await h.page.locator('#rows tr td:first-child').allTextContents();
    assert.ok(names.indexOf('hot_lock') < names.indexOf('cold_lock'), `hot_lock waits more than cold_lock: ${names.join(', ')}`);
    const firstRowCells = await h.page.locator('#rows tr', { hasText: 'hot_lock' }).first().locator('td').allTextContents();
    assert.ok(Number(firstRowCells[3]) > 0, `hot_lock was contended: ${firstRowCells.join(' | ')}`);
    assert.match(firstRowCells.join(' '), /locks_demo\.c:\d+/, 'call sites as file:line');
    await h.screenshot('panels-locks-table');

    // Sorting by acquisitions ascending puts a lock with fewer acquisitions first.
    await h.page.locator('#head th', { hasText: 'Acquired' }).click();
    await h.page.locator('#head th', { hasText: 'Acquired' }).click();
    assert.notEqual(await h.page.evaluate(() => document.body.dataset.firstRow), 'hot_lock');

    await h.page.locator('#jump').click();
    const cycle = await h.waitData('cycle', (v) => v.includes('→'));
    assert.equal(cycle.split(' → ').length, 2, `two threads in the cycle: ${cycle}`);
    const text = await h.page.evaluate(() => document.body.dataset.cycleText!);
    assert.match(text, /Deadlock: .*holds lock_(a|b).*holds lock_(a|b)/);
    assert.equal(await h.page.locator('line[data-cycle="1"]').count(), 2, 'both edges of the cycle are drawn highlighted');
    assert.equal(await h.page.evaluate(() => document.body.dataset.inversionCount), '1');
    assert.ok(h.effects.some((e) => e.type === 'cursor'), 'jumping moved the shared time cursor');
    await h.screenshot('panels-locks-deadlock');
    await h.close();
  } finally { await close(); rec.cleanup(); }
});
