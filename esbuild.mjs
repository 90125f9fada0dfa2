#!/usr/bin/env node
// The one build script: extension host bundle, webview bundles, CLI, tests and benchmarks.
// `node esbuild.mjs [group…]` builds only the named groups (extension, cli, webview, tests, bench); `--watch` rebuilds.
// Type-checking is separate: `npm run typecheck`.
import * as esbuild from 'esbuild';
import { existsSync, readdirSync, statSync, chmodSync } from 'node:fs';
import { join, relative, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const watch = args.includes('--watch');
const only = args.filter((a) => !a.startsWith('--'));
const want = (g) => only.length === 0 || only.includes(g);

function files(dir, pred) {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true })
    .map((f) => join(abs, String(f)))
    .filter((f) => statSync(f).isFile() && pred(f));
}
const isTs = (f) => f.endsWith('.ts') && !f.endsWith('.d.ts');

// ws loads bufferutil (native websocket unmasking) when it is installed: it must stay a runtime require, not be bundled.
const nodeExternal = ['vscode', 'bufferutil', 'utf-8-validate'];
const node = { platform: 'node', target: 'node20', format: 'cjs', bundle: true, sourcemap: 'linked', external: nodeExternal, logLevel: 'warning' };
const groups = [];
if (want('extension') && existsSync(join(root, 'src/extension.ts')))
  groups.push({ name: 'extension', ...node, entryPoints: ['src/extension.ts'], outfile: 'out/extension.js' });
if (want('cli') && existsSync(join(root, 'src/cli/ipcscope.ts')))
  groups.push({ name: 'cli', ...node, entryPoints: ['src/cli/ipcscope.ts'], outfile: 'out/cli/ipcscope.js', banner: { js: '#!/usr/bin/env node' } });
if (want('webview')) {
  // One bundle per panel: webview/<panel>/main.ts -> out/webview/<panel>.js (+ .css when imported).
  const entries = files('webview', (f) => basename(f) === 'main.ts').map((f) => ({ in: f, out: basename(dirname(f)) }));
  if (entries.length)
    groups.push({ name: 'webview', platform: 'browser', target: 'chrome120', format: 'iife', bundle: true, sourcemap: 'linked',
      entryPoints: entries, outdir: 'out/webview', logLevel: 'warning', loader: { '.ttf': 'file', '.woff2': 'file' } });
}
if (want('tests')) {
  const entries = files('test', (f) => isTs(f) && !f.includes(`${join('test', 'fixtures')}`))
    .map((f) => ({ in: f, out: relative(root, f).replace(/\.ts$/, '') }));
  if (entries.length) groups.push({ name: 'tests', ...node, entryPoints: entries, outdir: 'out', external: [...nodeExternal, 'playwright-core', 'mocha', 'esbuild'] });
}
if (want('bench')) {
  const entries = files('bench', isTs).map((f) => ({ in: f, out: relative(root, f).replace(/\.ts$/, '') }));
  if (entries.length) groups.push({ name: 'bench', ...node, entryPoints: entries, outdir: 'out', external: [...nodeExternal, 'playwright-core'] });
}

let failed = 0;
await Promise.all(groups.map(async ({ name, ...opts }) => {
  try {
    if (watch) { const ctx = await esbuild.context({ ...opts, absWorkingDir: root }); await ctx.watch(); console.log(`watching ${name}`); }
    else await esbuild.build({ ...opts, absWorkingDir: root });
  } catch (e) { failed++; console.error(`build ${name} failed: ${e.message.split('\n')[0]}`); }
}));
if (existsSync(join(root, 'out/cli/ipcscope.js'))) chmodSync(join(root, 'out/cli/ipcscope.js'), 0o755);
if (failed && !watch) process.exit(1);
