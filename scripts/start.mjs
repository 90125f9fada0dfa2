#!/usr/bin/env node
// `npm start`: builds what is missing, then opens the editor with IPC Scope loaded and demos/ open, tracing the
// pipe demo at once so a timeline is on screen. VS Code desktop when `code` is on PATH; otherwise the cached
// code-server (installed by scripts/e2e/setup.mjs on first run) on 127.0.0.1, with its URL printed.
// Ctrl-C stops the editor and everything it started (traced programs included).
// Options: --port N (default: a free port), --no-demo (do not trace on startup), --folder DIR.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCodeServer } from './e2e/editor.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const folder = resolve(opt('--folder') ?? join(root, 'demos'));
const demo = 'pipe/build/pipe';

function step(what, cmd, argv) {
  console.log(`[start] ${what}`);
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) { console.error(`[start] ${what} failed (exit ${r.status ?? r.signal})`); process.exit(1); }
}

// Cheap when up to date: make and esbuild only redo what changed.
step('building the shim', 'make', ['-s', '-C', 'native']);
step('building the extension and webviews', process.execPath, ['esbuild.mjs', 'extension', 'webview', 'cli']);
if (existsSync(join(root, 'demos/Makefile'))) step('building the demos', 'make', ['-s', '-C', 'demos']);

const env = { IPCSCOPE_TRACE_ON_STARTUP: args.includes('--no-demo') || folder !== resolve(root, 'demos') ? '' : demo };
const onPath = (exe) => (process.env.PATH ?? '').split(delimiter).some((d) => d && existsSync(join(d, exe)));

if (onPath('code') && !process.env.IPCSCOPE_START_CODE_SERVER) {
  console.log('[start] opening VS Code desktop');
  const r = spawnSync('code', ['--new-window', `--extensionDevelopmentPath=${root}`, folder], { stdio: 'inherit', env: { ...process.env, ...env } });
  process.exit(r.status ?? 1);
}

const port = opt('--port') ? Number(opt('--port')) : undefined;
const server = await startCodeServer({ port, env, logFile: join(root, 'test-results', 'start-code-server.log') })
  .catch((e) => { console.error(`[start] ${e.message}`); process.exit(1); });
// Loaded as the extension under development (smoke-test payload): an extension linked into the extensions folder
// activates, but code-server will not serve its webview files from outside that folder.
const url = server.workbenchUrl({ folder, extensionDevelopmentPath: root });
console.log(`\n  IPC Scope is running in code-server: ${url}\n  (VS Code ${'1.139.1'} workbench on 127.0.0.1 only; Ctrl-C stops it and everything it started)\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('\n[start] stopping code-server and every program it traced…');
  await server.stop();
  console.log('[start] stopped; nothing left running');
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.on('SIGHUP', stop);
// Keep the event loop alive until a signal arrives.
setInterval(() => {}, 1 << 30);
