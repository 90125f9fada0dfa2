// Entry point the extension host loads (--extensionTestsPath): runs the mocha suites in the real extension host
// and writes their counts to IPCSCOPE_E2E_RESULTS for runExtensionTests.ts. IPCSCOPE_E2E_SUITE picks the suite:
// 'main' (trusted workspace: every *.test.js here except untrusted.test.js) or 'untrusted'; IPCSCOPE_E2E_GREP runs
// only the tests whose full title matches (mocha's grep), for working on one test.
import Mocha from 'mocha';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function run(): Promise<void> {
  const suite = process.env.IPCSCOPE_E2E_SUITE ?? 'main';
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec', grep: process.env.IPCSCOPE_E2E_GREP });
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.test.js'))
    .filter((f) => (suite === 'untrusted') === (f === 'untrusted.test.js')).sort();
  for (const f of files) mocha.addFile(join(__dirname, f));
  const failures: string[] = [];
  let passed = 0;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', () => { passed++; });
    runner.on('fail', (test, err) => { failures.push(`${test.fullTitle()}: ${err instanceof Error ? err.message : String(err)}`); });
  });
  if (process.env.IPCSCOPE_E2E_RESULTS)
    writeFileSync(process.env.IPCSCOPE_E2E_RESULTS, JSON.stringify({ passed, failed: failures.length, failures }));
  if (failures.length) throw new Error(`${failures.length} extension-host test(s) failed`);
}
