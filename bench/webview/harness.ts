// A standalone page that runs the real built timeline bundle (out/webview/timeline.js) outside VS Code, for the
// browser tests and the bench. It serves the same HTML the panel makes (timelineHtml: same CSP, nonce) plus a
// small acquireVsCodeApi stand-in whose messages travel over a websocket to a TimelineSession in this process, the
// same host class the VS Code panel uses. Binary parts of messages (ArrayBuffers) cross as binary, as in VS Code.
// The only CSP addition is connect-src for that websocket. getState/setState persist in sessionStorage, so a
// page reload restores state the way VS Code's serializer does.
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventSource } from '../../src/common/traceEvent';
import type { ToWebviewMessage } from '../../src/common/webviewProtocol';
import { TimelineSession, makeNonce, timelineHtml } from '../../src/host/timelineFeed';
import { THEMES, type HarnessTheme } from './themes';

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** Encodes a message: JSON with {"$buf": n} in place of each ArrayBuffer, then the buffers (8-byte aligned). */
export function encodeMessage(m: unknown): Buffer {
  const bufs: ArrayBuffer[] = [];
  const json = JSON.stringify(m, (_k, v: unknown) => {
    if (v instanceof ArrayBuffer) { bufs.push(v); return { $buf: bufs.length - 1 }; }
    if (ArrayBuffer.isView(v)) { const c = v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer; bufs.push(c); return { $buf: bufs.length - 1 }; }
    if (typeof v === 'bigint') throw new Error('bigint in a webview message: send a decimal string');
    return v;
  });
  const jb = Buffer.from(json, 'utf8');
  const pad = (n: number) => (8 - (n % 8)) % 8;
  let size = 8 + jb.length + pad(jb.length);
  for (const b of bufs) size += 8 + b.byteLength + pad(b.byteLength);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(jb.length, 0); out.writeUInt32LE(bufs.length, 4);
  jb.copy(out, 8);
  let at = 8 + jb.length + pad(jb.length);
  for (const b of bufs) {
    out.writeUInt32LE(b.byteLength, at); at += 8;
    Buffer.from(b).copy(out, at); at += b.byteLength + pad(b.byteLength);
  }
  return out;
}

/** The acquireVsCodeApi stand-in (plain JS, served with the page's nonce). */
function shimScript(wsUrl: string, theme: HarnessTheme): string {
  return `(() => {
  const THEMES = ${JSON.stringify(THEMES)};
  window.__setTheme = (name) => {
    const t = THEMES[name];
    const root = document.documentElement;
    for (const p of [...root.style]) if (p.startsWith('--vscode-')) root.style.removeProperty(p);
    for (const [k, v] of Object.entries(t.vars)) root.style.setProperty('--vscode-' + k, v);
    const apply = () => { document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast'); document.body.classList.add(t.bodyClass);
      document.body.dataset.vscodeThemeKind = t.kind; };
    if (document.body) apply(); else document.addEventListener('DOMContentLoaded', apply, { once: true });
  };
  window.__setTheme(${JSON.stringify(theme)});
  const ws = new WebSocket(${JSON.stringify(wsUrl)});
  ws.binaryType = 'arraybuffer';
  const queue = [];
  window.__hostMessages = { sent: 0, received: 0, bytes: 0 };
  ws.onopen = () => { for (const m of queue.splice(0)) ws.send(m); };
  ws.onmessage = (e) => {
    const buf = e.data, dv = new DataView(buf);
    const jl = dv.getUint32(0, true), n = dv.getUint32(4, true);
    const pad = (x) => (8 - (x % 8)) % 8;
    const json = new TextDecoder().decode(new Uint8Array(buf, 8, jl));
    const bufs = [];
    let at = 8 + jl + pad(jl);
    for (let i = 0; i < n; i++) { const len = dv.getUint32(at, true); at += 8; bufs.push(buf.slice(at, at + len)); at += len + pad(len); }
    const data = JSON.parse(json, (k, v) => (v && typeof v === 'object' && typeof v.$buf === 'number' ? bufs[v.$buf] : v));
    window.__hostMessages.received++; window.__hostMessages.bytes += buf.byteLength;
    window.dispatchEvent(new MessageEvent('message', { data }));
  };
  const KEY = 'ipcScope.webviewState';
  let api = null;
  window.acquireVsCodeApi = () => {
    if (api) throw new Error('acquireVsCodeApi can only be called once');
    api = Object.freeze({
      postMessage(m) { const s = JSON.stringify(m); window.__hostMessages.sent++; if (ws.readyState === 1) ws.send(s); else queue.push(s); },
      getState() { const s = sessionStorage.getItem(KEY); return s ? JSON.parse(s) : undefined; },
      setState(s) { sessionStorage.setItem(KEY, JSON.stringify(s)); return s; },
    });
    return api;
  };
})();`;
}

/** The checkout's root: the nearest folder above this file with package.json (works from src and from out/). */
export function projectRoot(): string {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) && dirname(d) !== d) d = dirname(d);
  return d;
}

export interface HarnessOptions {
  source: EventSource; title?: string; live?: boolean; theme?: HarnessTheme; root?: string;
  resolveSource?: (index: number) => { file: string; line: number } | null;
}

export interface Harness {
  readonly url: string;
  readonly session: TimelineSession;
  /** Messages the webview sent that the session did not handle itself (openSource, selected, log). */
  readonly fromWebview: { type: string; [k: string]: unknown }[];
  /** Bytes and messages posted to the webview. */
  readonly posted: { messages: number; bytes: number };
  /** Posts a host message the TimelineSession does not make itself (the shared cursor, which the VS Code host posts). */
  post(m: ToWebviewMessage): void;
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const root = opts.root ?? projectRoot();
  const bundle = join(root, 'out', 'webview', 'timeline.js');
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build it with \`node esbuild.mjs webview\``);
  const fromWebview: Harness['fromWebview'] = [];
  const posted = { messages: 0, bytes: 0 };
  let current: WebSocket | null = null;
  const session = new TimelineSession({
    source: opts.source, title: opts.title ?? 'trace', live: opts.live ?? false, resolveSource: opts.resolveSource,
    post: (m: ToWebviewMessage) => {
      const b = encodeMessage(m);
      posted.messages++; posted.bytes += b.length;
      current?.send(b);
    },
    onOpenSource: (file, line) => fromWebview.push({ type: 'openSource', file, line }),
    onSelected: (index) => fromWebview.push({ type: 'selected', index }),
    onLog: (level, message) => fromWebview.push({ type: 'log', level, message }),
  });
  const nonce = makeNonce();
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const file = (p: string, type: string) => { res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }); res.end(readFileSync(p)); };
    if (url.pathname === '/') {
      const theme = (url.searchParams.get('theme') as HarnessTheme | null) ?? opts.theme ?? 'dark';
      const html = timelineHtml({
        scriptUri: `${origin}/out/webview/timeline.js`, styleUri: `${origin}/out/webview/timeline.css`, cspSource: origin, nonce, title: 'IPC Scope harness',
        connectSrc: `ws://${origin.slice('http://'.length)}`, preludeScripts: [`/shim.js?theme=${theme}`],
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    } else if (url.pathname === '/shim.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(shimScript(`ws://${origin.slice('http://'.length)}/host`, (url.searchParams.get('theme') as HarnessTheme | null) ?? 'dark'));
    } else if (url.pathname === '/out/webview/timeline.js') file(bundle, 'text/javascript');
    else if (url.pathname === '/out/webview/timeline.css') file(join(root, 'out', 'webview', 'timeline.css'), 'text/css');
    else { res.writeHead(404); res.end(); }
  });
  const wss = new WebSocketServer({ server, path: '/host' });
  wss.on('connection', (ws) => {
    // A new page (or a reload) is a new webview: it says ready again and gets init.
    current = ws;
    session.webviewReset();
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(String(data)) as { type?: unknown };
      if (m.type === 'cursor') fromWebview.push(m as Harness['fromWebview'][number]); // the VS Code host hands it to the panels
      session.handle(m);
    });
    ws.on('close', () => { if (current === ws) current = null; });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`, session, fromWebview, posted,
    post: (m) => current?.send(encodeMessage(m)),
    async close() {
      session.dispose();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
