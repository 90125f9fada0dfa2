// English and Korean: every contributed %key% and every runtime vscode.l10n.t string has both translations.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXTENSION_ID } from './helpers';

const root = () => vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
const json = (p: string) => JSON.parse(readFileSync(join(root(), p), 'utf8')) as Record<string, string>;

function runtimeStrings(): Set<string> {
  const files = ['src/extension.ts', ...readdirSync(join(root(), 'src/host'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => `src/host/${f}`)];
  const keys = new Set<string>();
  for (const f of files) {
    const s = readFileSync(join(root(), f), 'utf8');
    for (const m of s.matchAll(/l10n\.t\(\s*(['`])((?:\\.|(?!\1).)*)\1/g)) keys.add(m[2].replace(/\\'/g, "'"));
  }
  return keys;
}

describe('localization', () => {
  it('package.json placeholders exist in English and Korean', () => {
    const pkg = readFileSync(join(root(), 'package.json'), 'utf8');
    const used = new Set([...pkg.matchAll(/"%([\w.]+)%"/g)].map((m) => m[1]));
    const en = json('package.nls.json'), ko = json('package.nls.ko.json');
    for (const k of used) { assert.ok(en[k], `package.nls.json lacks ${k}`); assert.ok(ko[k], `package.nls.ko.json lacks ${k}`); }
    assert.deepEqual(Object.keys(ko).sort(), Object.keys(en).sort());
  });

  it('every runtime string is in the l10n bundles', () => {
    const en = json('l10n/bundle.l10n.json'), ko = json('l10n/bundle.l10n.ko.json');
    const strings = runtimeStrings();
    assert.ok(strings.size > 20);
    for (const s of strings) {
      assert.equal(en[s], s, `bundle.l10n.json lacks ${JSON.stringify(s)}`);
      assert.ok(ko[s], `bundle.l10n.ko.json lacks ${JSON.stringify(s)}`);
      // Placeholders survive translation.
      assert.deepEqual([...ko[s].matchAll(/\{\d\}/g)].map((m) => m[0]).sort(), [...s.matchAll(/\{\d\}/g)].map((m) => m[0]).sort(), s);
    }
  });

  it('formats runtime strings through vscode.l10n', () => {
    assert.equal(vscode.l10n.t('{0} events', '3'), vscode.env.language.startsWith('ko') ? '이벤트 3개' : '3 events');
  });
});
