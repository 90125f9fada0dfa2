// A standalone page for the panel webviews in headless Debian chromium (playwright-core, never `playwright install`):
// serves the real built bundle (out/webview/<panel>.js) inside the same HTML and CSP the extension uses, with a small
// acquireVsCodeApi shim whose messages go to a real PanelService over the test's trace, as the host would.
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { panelHtml } from '../../src/common/panels/html';
import { parseFromPanel, toWire, type PanelKind, type ToPanelMessage } from '../../src/common/panels/protocol';
import type { PanelEffect, PanelService } from '../../src/common/panels/service';
import { ROOT } from '../helpers/record';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
export const RESULTS = join(ROOT, 'test-results');

export function whyNoBrowser(kind?: PanelKind): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed`;
  if (kind && !existsSync(join(ROOT, `out/webview/${kind}.js`))) return `out/webview/${kind}.js is not built (node esbuild.mjs webview)`;
  return undefined;
}

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'ipcscope-chromium-'));
  // A persistent context is how playwright takes a --user-data-dir: a fresh one per run.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
  const browser = context.browser() ?? ({ newPage: () => context.newPage(), close: () => context.close() } as unknown as Browser);
  return { browser: Object.assign(browser, { newPage: () => context.newPage() }), close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

const THEME_CSS = `:root { --vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-foreground: #cccccc; --vscode-editor-background: #1e1e1e;
  --vscode-editorWidget-background: #2d2d30; --vscode-charts-blue: #3794ff; --vscode-charts-green: #89d185; --vscode-charts-orange: #d18616;
  --vscode-charts-purple: #b180d7; --vscode-charts-red: #f14c4c; --vscode-charts-yellow: #cca700; --vscode-panel-border: #80808059; --vscode-focusBorder: #007fd4;
  --vscode-descriptionForeground: #ccccccb3; --vscode-textLink-foreground: #3794ff; --vscode-list-activeSelectionBackground: #04395e;
  --vscode-list-activeSelectionForeground: #ffffff; --vscode-errorForeground: #f48771; --vscode-editorHoverWidget-background: #252526;
  --vscode-editorHoverWidget-border: #454545; --vscode-dropdown-background: #3c3c3c; --vscode-dropdown-foreground: #f0f0f0; }`;

export interface Harness {
  page: Page;
  effects: PanelEffect[];
  /** Posts a host message to the webview (typed arrays go as ArrayBuffers, like webview.postMessage). */
  post(m: ToPanelMessage): Promise<void>;
  /** Waits until document.body.dataset[key] satisfies the predicate; returns the value. */
  waitData(key: string, pred?: (v: string) => boolean, timeoutMs?: number): Promise<string>;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens `kind`'s bundle in a page of `browser`, driven by `service`. */
export async function openPanel(browser: Browser, kind: PanelKind, service: PanelService, opts: { state?: unknown } = {}): Promise<Harness> {
  const nonce = randomBytes(16).toString('base64');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const html = panelHtml({ kind, scriptUri: `/out/webview/${kind}.js`, cspSource: `http://127.0.0.1:${port()}`, nonce, lang: 'en', title: kind })
        .replace('<body', `<style nonce="${nonce}">${THEME_CSS}</style>\n<script nonce="${nonce}">
          window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toHost(JSON.stringify(m)),
            getState: () => JSON.parse(sessionStorage.getItem('state') || 'null') ?? ${JSON.stringify(opts.state ?? null)}, setState: (s) => sessionStorage.setItem('state', JSON.stringify(s)) });
          window.__deliver = (json) => {
            const revive = (v) => Array.isArray(v) ? v.map(revive) : v && typeof v === 'object'
              ? (v.$b64 !== undefined ? Uint8Array.from(atob(v.$b64), (c) => c.charCodeAt(0)).buffer : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]))) : v;
            window.postMessage(revive(JSON.parse(json)), '*');
          };
        </script>\n<body class="vscode-dark"`);
      res.end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') { res.writeHead(204); res.end(); return; }
    const file = join(ROOT, url.pathname);
    if (!file.startsWith(join(ROOT, 'out/webview/')) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = () => (server.address() as { port: number }).port;
  const page = await browser.newPage();
  const effects: PanelEffect[] = [];
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const post = async (m: ToPanelMessage) => {
    const json = JSON.stringify(toWire(m), (_k, v) => (v instanceof ArrayBuffer ? { $b64: Buffer.from(v).toString('base64') } : v));
    await page.evaluate((j) => (window as unknown as { __deliver(j: string): void }).__deliver(j), json);
  };
  await page.exposeFunction('__toHost', async (json: string) => {
    const msg = parseFromPanel(JSON.parse(json));
    const { replies, effects: fx } = service.handle(msg);
    effects.push(...fx);
    for (const r of replies) await post(r);
  });
  await page.goto(`http://127.0.0.1:${port()}/`);
  const h: Harness = {
    page, effects, post,
    async waitData(key, pred = (v) => v !== '', timeoutMs = 15_000) {
      const t0 = Date.now();
      for (;;) {
        const v = await page.evaluate((k) => document.body.dataset[k], key);
        if (v !== undefined && pred(v)) return v;
        if (errors.length) throw new Error(`page errors: ${errors.join('\n')}`);
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for data-${key} (now ${v})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async screenshot(name) {
      mkdirSync(RESULTS, { recursive: true });
      const path = join(RESULTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() { if (errors.length) console.error(`page errors: ${errors.join('\n')}`); await page.close(); server.close(); },
  };
  return h;
}
