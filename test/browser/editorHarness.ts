// Drives the real workbench (code-server + Debian chromium, scripts/e2e/editor.mjs) for the browser tests:
// start it with IPC Scope loaded, run palette commands like a person (F1, type the title, Enter), read views,
// and save screenshots under test-results/ for a person to look at.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page, FrameLocator } from 'playwright-core';
import { startCodeServer, launchChromium, type CodeServer } from '../../scripts/e2e/editor.mjs';

export const ROOT = resolve(__dirname, '../../..');
export const RESULTS = join(ROOT, 'test-results');

export interface Editor {
  readonly server: CodeServer;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly workspace: string;
  close(): Promise<void>;
}

/** A fresh workspace (copy of test/e2e/fixtures) opened in code-server with IPC Scope under development or installed from a vsix. */
export async function openEditor(opts: { vsix?: string; settings?: Record<string, unknown> } = {}): Promise<Editor> {
  const base = mkdtempSync(join(tmpdir(), 'ipcscope-browser-'));
  const workspace = join(base, 'workspace');
  cpSync(join(ROOT, 'test/e2e/fixtures'), workspace, { recursive: true });
  mkdirSync(RESULTS, { recursive: true });
  const server = await startCodeServer({
    vsix: opts.vsix, settings: { 'workbench.colorTheme': 'Default Light Modern', ...opts.settings },
    logFile: join(RESULTS, `code-server-browser${opts.vsix ? '-vsix' : ''}.log`),
  });
  const browser = await launchChromium({ viewport: { width: 1600, height: 1000 } });
  const page = await browser.context.newPage();
  await page.goto(server.workbenchUrl({ folder: workspace, extensionDevelopmentPath: opts.vsix ? undefined : ROOT }));
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.activitybar [aria-label^="IPC Scope"]').first().waitFor({ timeout: 60_000 });
  // The empty secondary side bar only takes room from the timeline in the screenshots.
  await runCommand(page, 'View: Hide Secondary Side Bar');
  return {
    server, context: browser.context, page, workspace,
    async close() {
      await browser.close();
      await server.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** F1, the command's title, then the entry with exactly that title (Enter takes the first fuzzy match, which may differ). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await acceptRow(page, title, true);
}

async function acceptRow(page: Page, label: string, exact: boolean): Promise<void> {
  const rows = page.locator('.quick-input-list .monaco-list-row');
  await rows.filter({ hasText: label }).first().waitFor();
  const texts = await rows.allInnerTexts();
  const first = (t: string) => t.trim().split('\n')[0].trim();
  const i = texts.findIndex((t) => (exact ? first(t) === label : t.includes(label)));
  if (i < 0) throw new Error(`no quick pick entry ${JSON.stringify(label)} among ${JSON.stringify(texts.map(first))}`);
  await rows.nth(i).click();
}

/** Types into the open quick pick and accepts the first entry that contains `label`. */
export async function pickQuick(page: Page, filter: string, label = filter): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  await input.waitFor();
  await input.fill(filter);
  await acceptRow(page, label, false);
}

/** Answers Trace Program's arguments box (shown after the program is picked): `text` as typed in a shell. */
export async function enterArgs(page: Page, program: string, text: string): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: `Trace ${program}` }).waitFor({ timeout: 30_000 });
  const input = page.locator('.quick-input-widget input.input');
  await input.fill(text);
  await input.press('Enter');
}

/** The active webview's content frame (a webview is two nested iframes). */
export function webview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(RESULTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Rows of a tree view in the IPC Scope container, as their visible text. */
export async function treeRows(page: Page, viewTitle: string): Promise<string[]> {
  const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: viewTitle }) });
  return pane.locator('.monaco-list-row').allInnerTexts();
}

/** Changes a user setting the way editing settings.json does (the workbench watches the file). */
export function setUserSetting(editor: Editor, key: string, value: unknown): void {
  const file = join(editor.server.userDataDir, 'User', 'settings.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  settings[key] = value;
  writeFileSync(file, JSON.stringify(settings, null, 2));
}
