// The packaged extension works when installed into a clean editor: `npm run package`'s .vsix installed with
// code-server --install-extension activates, contributes the IPC Scope container, and traces a program with the
// shim copy packaged in native/linux-x64.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, openEditor, runCommand, pickQuick, enterArgs, screenshot, treeRows, webview } from './editorHarness';

const VSIX = join(ROOT, 'ipc-scope.vsix');

/** Packs the already-built extension (npm test has built it) the way `npm run package` does, without rebuilding. */
function pack(): void {
  mkdirSync(join(ROOT, 'native/linux-x64'), { recursive: true });
  const strip = spawnSync('strip', ['--strip-debug', '-o', join(ROOT, 'native/linux-x64/libipcscope.so'), join(ROOT, 'native/build/libipcscope.so')]);
  assert.equal(strip.status, 0, String(strip.stderr));
  const r = spawnSync(join(ROOT, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--skip-license', '--out', VSIX],
    { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
}

test('the .vsix installs into a clean code-server and traces a program with the packaged shim', { timeout: 240_000 }, async () => {
  pack();
  const listing = spawnSync('unzip', ['-l', VSIX], { encoding: 'utf8' }).stdout;
  assert.match(listing, /extension\/native\/linux-x64\/libipcscope\.so/);
  assert.match(listing, /extension\/out\/extension\.js/);
  assert.doesNotMatch(listing, /node_modules|\/src\/|\.ts\b|\.map\b/);
  assert.ok(statSync(VSIX).size < 5 * 1024 * 1024, 'the vsix stays small');
  // The demo gallery's sources travel with the extension (built with the user's gcc on first use), never our builds.
  assert.match(listing, /extension\/demos\/Makefile/);
  assert.match(listing, /extension\/demos\/pipe\/pipe\.c/);
  assert.match(listing, /extension\/demos\/cow\/demo\.json/);
  assert.doesNotMatch(listing, /demos\/[^ ]*build\//);
  const editor = await openEditor({ vsix: VSIX });
  try {
    const installed = readdirSync(editor.server.extensionsDir).filter((d) => d.startsWith('ipc-scope.ipc-scope-'));
    assert.equal(installed.length, 1, `installed: ${readdirSync(editor.server.extensionsDir).join(', ')}`);
    assert.ok(existsSync(join(editor.server.extensionsDir, installed[0], 'native/linux-x64/libipcscope.so')));
    assert.ok(!existsSync(join(editor.server.extensionsDir, installed[0], 'native/build')), 'only the packaged shim is there');
    const { page } = editor;
    await runCommand(page, 'IPC Scope: Trace Program…');
    await pickQuick(page, 'pipe_hello.c');
    await enterArgs(page, 'pipe_hello.c', '');
    await page.locator('.activitybar [aria-label^="IPC Scope"]').first().click();
    // The Sessions view shows the finished session with its events: the program ran under the packaged shim.
    await page.locator('.pane .monaco-list-row', { hasText: /pipe_hello\.c.*exited \(0\).*events/ }).first().waitFor({ timeout: 60_000 });
    // The container holds several views; focusing Processes makes sure it is expanded and has room.
    await runCommand(page, 'IPC Scope: Focus on Processes View');
    let rows: string[] = [];
    for (let i = 0; i < 50 && !rows.some((r) => r.includes('pipe_hello')); i++) {
      rows = await treeRows(page, 'Processes');
      await page.waitForTimeout(200);
    }
    assert.ok(rows.some((r) => r.includes('pipe_hello')), `processes: ${rows.join(' | ')}`);
    // The workspace has no demos folder: the gallery lists the demos shipped inside the installed extension.
    await runCommand(page, 'IPC Scope: Focus on Demo Gallery View');
    const gallery = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Demo Gallery' }) });
    await gallery.locator('.monaco-list-row', { hasText: 'Pipes' }).first().waitFor({ timeout: 30_000 });
    // The timeline webview of the installed extension loads its bundle and draws both processes.
    await webview(page).locator('body[data-ready="1"]').waitFor({ timeout: 60_000 });
    const lanes = await webview(page).locator('body').evaluate(() =>
      (window as unknown as { __ipcScopeTimeline: { header: { lanes: { kind: string }[] } | null } }).__ipcScopeTimeline.header?.lanes.filter((l) => l.kind === 'process').length ?? 0);
    assert.equal(lanes, 2);
    await screenshot(page, 'vsix-installed-session');
    const log = readFileSync(join(ROOT, 'test-results/code-server-browser-vsix.log'), 'utf8');
    assert.doesNotMatch(log, /libipcscope\.so.*cannot be preloaded/);
  } finally {
    await editor.close();
  }
});
