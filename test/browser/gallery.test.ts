// The Demo Gallery and the walkthrough in a real workbench (code-server + Debian chromium), used as a person does:
// focus the gallery, read its topics and demos, press the inline Trace button on the pipe demo and see the
// timeline, then open "Learn IPC with IPC Scope". Screenshots: test-results/gallery-*.png.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openEditor, screenshot, webview, type Editor } from './editorHarness';

let editor: Editor;
let page: Page;

async function palette(filter: string, label: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(filter);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor();
  await row.click();
}

before(async () => {
  editor = await openEditor();
  page = editor.page;
});

after(async () => { await editor?.close(); });

test('the gallery lists topics and demos; Trace on the pipe demo opens its timeline', { timeout: 180_000 }, async () => {
  await palette('>Focus on Demo Gallery', 'Demo Gallery');
  // Five views share the container: fold the others so the gallery's rows are on screen (the list is virtual).
  for (const title of ['Sessions', 'Processes', 'IPC Objects', 'Findings']) {
    const header = page.locator('.pane-header', { hasText: title }).first();
    if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
  }
  const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Demo Gallery' }) });
  await pane.locator('.monaco-list-row', { hasText: 'Anonymous pipes' }).waitFor({ timeout: 30_000 });
  const rows = (await pane.locator('.monaco-list-row .label-name').allInnerTexts()).map((r) => r.trim());
  for (const label of ['Memory', 'Copy-on-write after fork', 'Pipes', 'Anonymous pipes'])
    assert.ok(rows.includes(label), `${label} in ${JSON.stringify(rows)}`);
  assert.ok(rows.indexOf('Memory') < rows.indexOf('Copy-on-write after fork'), 'demos sit under their topic');
  const pipeRow = pane.locator('.monaco-list-row', { hasText: 'Anonymous pipes' }).first();
  await pipeRow.hover();
  const actions = await pipeRow.locator('.actions .action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
  assert.deepEqual(actions, ['Trace Demo', 'Step Through Demo', 'Open Demo README']);
  await screenshot(page, 'gallery-view');
  await pipeRow.locator('.action-label[aria-label="Trace Demo"]').click();
  await webview(page).locator('body[data-ready="1"]').waitFor({ timeout: 90_000 });
  const sessions = page.locator('.pane-header', { hasText: 'Sessions' }).first();
  if ((await sessions.getAttribute('aria-expanded')) !== 'true') await sessions.click();
  await page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Sessions' }) }).locator('.monaco-list-row', { hasText: 'demo: pipe' }).waitFor({ timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 1500));
  await screenshot(page, 'gallery-trace-pipe');
});

test('the walkthrough opens with its steps and the first step\'s link', { timeout: 120_000 }, async () => {
  await palette('>Welcome: Open Walkthrough', 'Open Walkthrough');
  const input = page.locator('.quick-input-widget input.input');
  await input.fill('Learn IPC');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Learn IPC with IPC Scope' }).first().click();
  const steps = page.locator('.getting-started-step');
  await steps.first().waitFor({ timeout: 30_000 });
  const titles = await page.locator('.getting-started-step .step-title').allInnerTexts();
  assert.deepEqual(titles.map((t) => t.trim()), ['Trace a pipe', 'Read the timeline', 'Watch copy-on-write', 'Find a deadlock', 'Explore the gallery']);
  await page.locator('.getting-started-step', { hasText: 'Find a deadlock' }).first().click();
  await page.locator('a, button', { hasText: 'Run the deadlock demo' }).first().waitFor({ timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 800));
  await screenshot(page, 'gallery-walkthrough');
});
