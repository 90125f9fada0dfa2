#!/usr/bin/env node
// Regenerates l10n/bundle.l10n.json from the vscode.l10n.t('…') calls in src/extension.ts and src/host/, keeps the
// Korean bundle in the same order without strings no longer used, and lists strings still lacking a Korean
// translation (exit 1). The extension-host test 'every runtime string is in the l10n bundles' checks the same.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const files = ['src/extension.ts', ...readdirSync(join(root, 'src/host'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts')).map((f) => `src/host/${f}`)];
const keys = new Set();
for (const f of files) {
  const s = readFileSync(join(root, f), 'utf8');
  for (const m of s.matchAll(/l10n\.t\(\s*(['`])((?:\\.|(?!\1).)*)\1/g)) keys.add(m[2].replace(/\\'/g, "'"));
}
const sorted = [...keys].sort();
writeFileSync(join(root, 'l10n/bundle.l10n.json'), JSON.stringify(Object.fromEntries(sorted.map((k) => [k, k])), null, 2) + '\n');
const koPath = join(root, 'l10n/bundle.l10n.ko.json');
const ko = JSON.parse(readFileSync(koPath, 'utf8'));
const missing = sorted.filter((k) => !ko[k]);
writeFileSync(koPath, JSON.stringify(Object.fromEntries(sorted.filter((k) => ko[k]).map((k) => [k, ko[k]])), null, 2) + '\n');
for (const k of missing) console.log(`missing Korean: ${JSON.stringify(k)}`);
process.exit(missing.length ? 1 : 0);
