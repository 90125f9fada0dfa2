// `npm start` (scripts/start.mjs) on code-server: prints the URL, the editor opens with demos/ and IPC Scope,
// the pipe demo is traced at once so a timeline is drawn, and Ctrl-C (SIGINT) stops everything it started.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, launchChromium } from '../../scripts/e2e/editor.mjs';
import { ROOT, RESULTS, webview } from './editorHarness';

/** Every live descendant of `root` (by walking /proc's parent links). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try { parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])); } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number) => { for (const [c, pp] of parent) if (pp === p) { out.push(c); walk(c); } };
  walk(root);
  return out;
}
const alive = (pid: number) => { try { return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };

test('npm start opens the demos with a traced pipe timeline and Ctrl-C leaves nothing running', { timeout: 180_000 }, async () => {
  const port = await freePort();
  const start = spawn(process.execPath, [join(ROOT, 'scripts/start.mjs'), '--port', String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IPCSCOPE_START_CODE_SERVER: '1' } });
  let out = '';
  start.stdout.on('data', (d: Buffer) => { out += d; });
  start.stderr.on('data', (d: Buffer) => { out += d; });
  const exited = new Promise<number | null>((r) => start.on('exit', (c) => r(c)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL printed within 90 s:\n${out}`)), 90_000);
    const check = () => { const m = /(http:\/\/127\.0\.0\.1:\d+\/\?\S+)/.exec(out); if (m) { clearTimeout(t); resolve(m[1]); } };
    start.stdout.on('data', check);
    void exited.then((c) => reject(new Error(`npm start exited (${c}) before printing the URL:\n${out}`)));
  });
  assert.ok(url.startsWith(`http://127.0.0.1:${port}/`), url);
  const browser = await launchChromium({ viewport: { width: 1600, height: 1000 } });
  let tree: number[] = [];
  try {
    const page = await browser.context.newPage();
    await page.goto(url);
    const wv = webview(page);
    await wv.locator('body[data-ready="1"]').waitFor({ timeout: 90_000 });
    // The pipe demo: parent and child as process lanes, drawn.
    let lanes = 0;
    for (let i = 0; i < 100 && lanes < 2; i++) {
      lanes = await wv.locator('body').evaluate(() =>
        (window as unknown as { __ipcScopeTimeline: { header: { lanes: { kind: string; label: string }[] } | null } }).__ipcScopeTimeline.header?.lanes.filter((l) => l.kind === 'process' && l.label.includes('pipe')).length ?? 0);
      if (lanes < 2) await page.waitForTimeout(300);
    }
    assert.equal(lanes, 2);
    await page.screenshot({ path: join(RESULTS, 'editor-start.png') });
  } finally {
    await browser.close();
    tree = descendants(start.pid!);
    start.kill('SIGINT');
  }
  assert.equal(await exited, 0, out);
  assert.match(out, /nothing left running/);
  const left = tree.filter(alive);
  assert.deepEqual(left, [], `still running after Ctrl-C: ${left.join(', ')}`);
  const res = await fetch(`http://127.0.0.1:${port}/healthz`).then(() => 'answered', () => 'closed');
  assert.equal(res, 'closed');
});
