#!/usr/bin/env node
// Stands in for the VS Code executable that @vscode/test-electron's runTests spawns: it accepts the same
// command line (--extensionDevelopmentPath=… --extensionTestsPath=… [folder]), starts code-server and Debian
// chromium (scripts/e2e/editor.mjs), runs the extension tests in the server's real extension host and exits
// with the tests' exit code. Our own flags: --ipcscope-untrusted (leave workspace trust on, so the folder opens
// in restricted mode) and --ipcscope-timeout=SECONDS.
import { mkdirSync, createWriteStream } from 'node:fs';
import { format } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCodeServer, launchChromium } from '../../../scripts/e2e/editor.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const opts = { folder: undefined, extensionDevelopmentPath: undefined, extensionTestsPath: undefined, untrusted: false, timeout: 300 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const value = (name) => (a.startsWith(`${name}=`) ? a.slice(name.length + 1) : args[++i]);
  if (a.startsWith('--extensionDevelopmentPath')) opts.extensionDevelopmentPath = value('--extensionDevelopmentPath');
  else if (a.startsWith('--extensionTestsPath')) opts.extensionTestsPath = value('--extensionTestsPath');
  else if (a === '--ipcscope-untrusted') opts.untrusted = true;
  else if (a.startsWith('--ipcscope-timeout=')) opts.timeout = Number(a.split('=')[1]);
  // runTests' profile flags (--user-data-dir, --extensions-dir) take a value; we use throw-away folders instead.
  else if (a === '--user-data-dir' || a === '--extensions-dir') i++;
  else if (a.startsWith('-')) continue; // electron-only flags (--no-sandbox, --disable-updates, …)
  else opts.folder = resolve(a);
}
if (!opts.extensionTestsPath) {
  console.error('launch.mjs: --extensionTestsPath is required');
  process.exit(2);
}

const resultsDir = join(root, 'test-results');
mkdirSync(resultsDir, { recursive: true });
let server, browser, finished = false;
async function cleanup() {
  await browser?.close();
  await server?.stop();
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => { await cleanup(); process.exit(130); });

let code = 1;
try {
  const t0 = Date.now();
  server = await startCodeServer({
    trust: !opts.untrusted,
    logFile: join(resultsDir, `code-server${opts.untrusted ? '-untrusted' : ''}.log`),
    settings: opts.untrusted ? { 'security.workspace.trust.enabled': true } : {},
  });
  console.error(`[launcher] code-server on ${server.base} (pid ${server.pid}) in ${Date.now() - t0} ms`);
  browser = await launchChromium();
  const page = await browser.context.newPage();
  let resolveExit;
  const exited = new Promise((r) => { resolveExit = r; });
  await page.exposeFunction('codeAutomationExit', (c) => { finished = true; resolveExit(Number(c)); });
  // The workbench's console (printf-style arguments) arrives here: the tests' mocha output goes to stdout, the
  // workbench's own chatter (offline gallery lookups, socket setup) only to the log file.
  const consoleLog = createWriteStream(join(resultsDir, `extension-host${opts.untrusted ? '-untrusted' : ''}-console.log`));
  const noise = /open-vsx\.org|^\s+at |Resolv(ing|ed) connection token|Creating a socket|grace time|builtin extensions cache|Service Worker|AgentHost|AccountPolicyGate/;
  await page.exposeFunction('codeAutomationLog', (type, logArgs) => {
    const line = format(...(Array.isArray(logArgs) ? logArgs : [logArgs]));
    consoleLog.write(`[${type}] ${line}\n`);
    if (!noise.test(line)) (type === 'error' ? process.stderr : process.stdout).write(`${line}\n`);
  });
  page.on('pageerror', (e) => console.error(`[launcher] page error: ${e.message}`));
  await page.goto(server.workbenchUrl({
    folder: opts.folder,
    extensionDevelopmentPath: opts.extensionDevelopmentPath,
    extensionTestsPath: opts.extensionTestsPath,
  }));
  let timer;
  const timedOut = new Promise((r) => { timer = setTimeout(() => r('timeout'), opts.timeout * 1000); });
  const r = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (r === 'timeout') {
    console.error(`[launcher] the extension tests did not finish within ${opts.timeout} s`);
    await page.screenshot({ path: join(resultsDir, 'extension-host-timeout.png') }).catch(() => {});
    code = 1;
  } else {
    code = r;
    if (code !== 0) await page.screenshot({ path: join(resultsDir, 'extension-host-failed.png') }).catch(() => {});
  }
} catch (e) {
  console.error(`[launcher] ${e.stack ?? e}`);
  code = 1;
} finally {
  await cleanup();
}
console.error(`[launcher] tests ${finished ? 'exited' : 'did not exit'} with code ${code}`);
process.exit(code);
