// Stepping in a real workbench (code-server + Debian chromium), the way a person does it: a launch.json for the pipe
// demo with its write line as stopAt, F5, then read the screen: the paused line highlighted in demo.h, the Call Stack
// with the pending write on top and main at pipe.c:30, the Variables pane with the write's arguments; Stop ends it.
// Screenshot: test-results/debug-paused.png (test-results/debug-failed.png when it fails).
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, openEditor, pickQuick, screenshot, type Editor } from './editorHarness';

let editor: Editor;
let page: Page;

async function until<T>(what: string, fn: () => Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try { const v = await fn(); if (v) return v as NonNullable<T>; last = v; } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  execFileSync('flock', ['/tmp/ipcscope-demos-make.lock', 'make', '-s', '-C', join(ROOT, 'demos')], { stdio: 'pipe' });
  editor = await openEditor();
  page = editor.page;
  mkdirSync(join(editor.workspace, '.vscode'), { recursive: true });
  writeFileSync(join(editor.workspace, '.vscode', 'launch.json'), JSON.stringify({
    version: '0.2.0',
    configurations: [{
      type: 'ipcscope', request: 'launch', name: 'Step through the pipe demo',
      program: join(ROOT, 'demos/pipe/build/pipe'), cwd: join(ROOT, 'demos/pipe'),
      stopAt: { file: join(ROOT, 'demos/pipe/pipe.c'), line: 30 },
    }],
  }, null, 2));
});

after(async () => { await editor?.close(); });

test('F5 on the pipe demo: the paused line is highlighted, Call Stack and Variables show the pending write', { timeout: 120_000 }, async () => {
  // Focus an editor (Quick Open a file of the workspace), then F5.
  await page.keyboard.press('Control+P');
  await pickQuick(page, 'pipe_hello.c');
  await page.locator('.tab.active', { hasText: 'pipe_hello.c' }).waitFor();
  await page.keyboard.press('F5');
  const stack = page.locator('.debug-call-stack .monaco-list-row');
  try {
    // The stopped thread's row; its frames show once it is expanded (the workbench may leave it collapsed).
    const thread = stack.filter({ hasText: /paused on breakpoint/i }).first();
    await thread.waitFor({ timeout: 60_000 });
    if (!(await stack.filter({ hasText: 'write(fd 4' }).count())) { await thread.click(); await page.keyboard.press('ArrowRight'); }
    await stack.filter({ hasText: 'write(fd 4' }).first().waitFor({ timeout: 20_000 });
    await stack.filter({ hasText: 'write(fd 4' }).first().click();
    const call = page.locator('.debug-variables .monaco-list-row', { hasText: 'Call: write' });
    await call.waitFor({ timeout: 20_000 });
    if ((await call.getAttribute('aria-expanded')) !== 'true') { await call.click(); await page.keyboard.press('ArrowRight'); }
  } catch (e) {
    await screenshot(page, 'debug-failed');
    // The Debug Console carries the adapter's account when the run ended without a stop (its stop decisions).
    const repl = await page.locator('.repl .monaco-list-row').allInnerTexts().catch(() => [] as string[]);
    throw new Error(`${(e as Error).message}\nDebug Console:\n${repl.join('\n')}`);
  }
  // The workbench opens the top frame's source and marks the paused line.
  const line = page.locator('.monaco-editor .debug-top-stack-frame-line');
  await line.first().waitFor({ timeout: 20_000 });
  const tab = await until('the demo.h tab', async () => page.locator('.tab', { hasText: 'demo.h' }).count());
  assert.ok(tab);
  const rows = await until('the call stack', async () => {
    const t = await stack.allInnerTexts();
    return t.some((r) => /write\(fd 4 → pipe:\[\d+\], 19 bytes\)/.test(r)) ? t : undefined;
  });
  assert.ok(rows.some((r) => /main/.test(r) && /pipe\.c\s*30/.test(r.replace(/\n/g, ' '))), JSON.stringify(rows));
  const vars = await until('the Variables pane', async () => {
    const t = await page.locator('.debug-variables .monaco-list-row').allInnerTexts();
    return t.some((r) => /^fd/.test(r.trim()) && /4 → pipe:\[\d+\]/.test(r)) ? t : undefined;
  });
  assert.ok(vars.some((r) => /count/.test(r) && /19/.test(r)), JSON.stringify(vars));
  await screenshot(page, 'debug-paused');
  // Stop (Shift+F5) ends the session: the debug toolbar goes away.
  await page.keyboard.press('Shift+F5');
  await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: 60_000 });
});
