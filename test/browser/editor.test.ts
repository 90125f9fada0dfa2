// IPC Scope in a real workbench (code-server + Debian chromium), used the way a person does: run Trace Program
// from the command palette on a C pipe program, wait for the timeline, read from the webview that the expected
// lanes and arrows are drawn, click an event and check the details pane, switch to dark and high-contrast themes.
// Screenshots go to test-results/editor-*.png.
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import type { FrameLocator, Page } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, openEditor, runCommand, pickQuick, enterArgs, webview, screenshot, treeRows, type Editor } from './editorHarness';

// What the timeline webview exposes for tests (webview/timeline/main.ts, window.__ipcScopeTimeline).
interface TimelineProbe {
  header: { eventCount: number; live: boolean; lanes: { kind: string; pid: number; label: string }[] } | null;
  visibleLanes: { id: number; kind: string; pid: number; label: string; y: number; h: number }[];
  lastFrame: { cells: number; spans: number; flows: number; lanes: number; fallback: number };
  selected: number | null;
  details: { call: string; pid: number; args: { name: string; value: string }[]; result: string; payloadText: string | null } | null;
  palette: { kind: string; background: string; foreground: string };
  findMark(what: { kind?: string; arrow?: boolean }): { x: number; y: number; event?: number; from?: string; to?: string; lane?: string } | null;
}
type Probe = <T, A = undefined>(fn: (t: TimelineProbe, arg: A) => T, arg?: A) => Promise<T>;

let editor: Editor;
let page: Page;
let timeline: FrameLocator;
let probe: Probe;

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
  editor = await openEditor();
  page = editor.page;
  timeline = webview(page);
  // Runs `fn` inside the webview (serialized: it sees only its arguments) against the timeline's test API.
  probe = (fn, arg) => timeline.locator('body').evaluate((_b, [src, a]) => {
    const t = (window as unknown as { __ipcScopeTimeline: TimelineProbe }).__ipcScopeTimeline;
    return (0, eval)(`(${src})`)(t, a);
  }, [fn.toString(), arg] as const);
});

after(async () => { await editor?.close(); });

test('Trace Program from the command palette draws the pipe program on the timeline', { timeout: 120_000 }, async () => {
  const t0 = Date.now();
  const step = (what: string) => console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  await runCommand(page, 'IPC Scope: Trace Program…');
  step('command run');
  await pickQuick(page, 'pipe_hello.c');
  await enterArgs(page, 'pipe_hello.c', `3 'two words'`);
  step('program picked, arguments given');
  await timeline.locator('body[data-ready="1"]').waitFor({ timeout: 60_000 });
  step('timeline ready');
  // The recording ends quickly; wait for the whole trace (both processes, the pipe flows) to be drawn.
  const lanes = await until('two process lanes', () => probe((t) => t.header?.lanes.filter((l) => l.kind === 'process').map((l) => l.label) ?? []).then((l) => (l.length >= 2 ? l : null)));
  step('lanes');
  assert.equal(lanes.length, 2, `lanes: ${lanes.join(', ')}`);
  assert.ok(lanes.every((l) => l.includes('pipe_hello')), `lanes: ${lanes.join(', ')}`);
  await page.keyboard.press('Escape');
  await timeline.locator('#fit').click();
  const arrow = await until('an arrow from the writer to the reader', () => probe((t) => t.findMark({ arrow: true })));
  step('arrow');
  assert.notEqual(arrow.from, arrow.to, 'the arrow joins two different lanes');
  const frame = await probe((t) => t.lastFrame);
  step('frame');
  assert.ok(frame.flows >= 1 && frame.cells + frame.spans > 0, JSON.stringify(frame));
  await page.locator('.activitybar [aria-label^="IPC Scope"]').first().click();
  step('container shown');
  const rows = await until('the session in the Sessions view', () => treeRows(page, 'Sessions').then((r) => (r.some((x) => x.includes('pipe_hello.c')) ? r : null)));
  step('session row');
  assert.ok(rows.some((r) => r.includes(`pipe_hello.c 3 'two words'`)), `the session is named with its arguments: ${rows.join(' | ')}`);
  await screenshot(page, 'editor-timeline-light');
  step('screenshot');
});

test('clicking an event opens the details pane', { timeout: 60_000 }, async () => {
  const mark = await until('a read or write mark', () => probe((t) => t.findMark({ kind: 'read' }) ?? t.findMark({ kind: 'write' })));
  await timeline.locator('#timeline').click({ position: { x: mark.x, y: mark.y } });
  await timeline.locator('#details:not([hidden])').waitFor({ timeout: 10_000 });
  const details = await until('details', () => probe((t) => t.details));
  assert.match(details.call, /^(read|write)$/);
  const text = await timeline.locator('#details').innerText();
  assert.ok(text.includes(String(details.pid)), `details pane: ${text}`);
  assert.ok(text.includes(details.call), `details pane: ${text}`);
  await screenshot(page, 'editor-details');
});

test('selecting an IPC object in its view reveals it in the timeline', { timeout: 60_000 }, async () => {
  const before = await probe((t) => t.selected);
  const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'IPC Objects' }) });
  await pane.locator('.monaco-list-row', { hasText: /^pipe \S+:\d+/ }).first().click();
  const details = await until('the object\'s first event selected', () => probe((t, b) => (t.selected !== null && t.selected !== b ? t.details : null), before));
  assert.match(JSON.stringify(details), /pipe/);
});

test('the timeline follows dark and high-contrast themes', { timeout: 90_000 }, async () => {
  const light = await probe((t) => t.palette);
  await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
  await timeline.locator('body[data-theme="dark"]').waitFor({ timeout: 20_000 });
  const dark = await until('the dark palette', () => probe((t) => t.palette).then((p) => (p.background !== light.background ? p : null)));
  assert.equal(dark.kind, 'dark');
  await screenshot(page, 'editor-timeline-dark');
  await runCommand(page, 'Preferences: Color Theme');
  await pickQuick(page, 'Dark High Contrast');
  await timeline.locator('body[data-theme="high-contrast"]').waitFor({ timeout: 20_000 });
  const hc = await probe((t) => t.palette);
  assert.equal(hc.kind, 'high-contrast');
  await screenshot(page, 'editor-timeline-high-contrast');
  // Still drawn after the theme changes.
  const f = await probe((t) => t.lastFrame);
  assert.ok(f.cells + f.spans > 0 && f.lanes >= 2, JSON.stringify(f));
});

test('a .ipctrace file opens in the read-only trace viewer with the same timeline', { timeout: 90_000 }, async () => {
  const file = join(editor.workspace, 'recorded.ipctrace');
  const rec = spawnSync(process.execPath, [join(ROOT, 'out/cli/ipcscope.js'), 'record', '-o', file, '--', 'sh', '-c', 'echo hello | cat'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(rec.status, 0, rec.stderr);
  // Quick Open (Ctrl+P) the file: .ipctrace opens in the custom editor by default.
  await page.keyboard.press('Control+P');
  await pickQuick(page, 'recorded.ipctrace');
  await page.locator('.tab', { hasText: 'recorded.ipctrace' }).first().waitFor({ timeout: 30_000 });
  const lanes = await until('the recorded processes as lanes', () => probe((t) => (t.header && t.header.lanes.length >= 2 && !t.header.live ? t.header.lanes.filter((l) => l.kind === 'process').map((l) => l.label) : null)));
  assert.ok(lanes.some((l) => /\b(sh|cat|echo)\b/.test(l)), `lanes: ${lanes.join(', ')}`);
  await screenshot(page, 'editor-trace-viewer');
});
