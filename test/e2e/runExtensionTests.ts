// Runs the extension-host tests (test/e2e/suite) in a real VS Code through @vscode/test-electron's runTests.
// Here VS Code desktop cannot be downloaded, so vscodeExecutablePath is our launcher (test/e2e/launcher/launch.mjs),
// which accepts VS Code's command line and runs the same workbench as code-server in Debian's chromium.
// Set IPCSCOPE_VSCODE to a real `code` binary to run the same tests in VS Code desktop.
// Two runs: the main suite in a trusted workspace, and the restricted-mode suite in an untrusted one.
// Prints the summed "N passed, N failed" line that scripts/run-tests.mjs reads.
import { runTests } from '@vscode/test-electron';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../../..');

interface SuiteResult { passed: number; failed: number; failures: string[] }

async function runSuite(suite: 'main' | 'untrusted', workspace: string): Promise<SuiteResult> {
  const results = join(workspace, '..', `results-${suite}.json`);
  const launcher = process.env.IPCSCOPE_VSCODE ?? join(root, 'test/e2e/launcher/launch.mjs');
  const launchArgs = [workspace];
  if (suite === 'untrusted') {
    if (process.env.IPCSCOPE_VSCODE) return { passed: 0, failed: 0, failures: [] }; // runTests always disables trust in desktop
    launchArgs.unshift('--ipcscope-untrusted');
  }
  console.log(`\n--- extension-host suite '${suite}' (${launcher})`);
  let exitError: unknown;
  try {
    await runTests({
      vscodeExecutablePath: launcher,
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'out/test/e2e/suite/index.js'),
      launchArgs,
      extensionTestsEnv: { IPCSCOPE_E2E_SUITE: suite, IPCSCOPE_E2E_RESULTS: results, IPCSCOPE_E2E_WORKSPACE: workspace },
    });
  } catch (e) {
    exitError = e;
  }
  if (!existsSync(results)) {
    console.log(`suite '${suite}' produced no results (${exitError instanceof Error ? exitError.message : 'no error reported'})`);
    return { passed: 0, failed: 1, failures: [`suite '${suite}' did not run`] };
  }
  const r = JSON.parse(readFileSync(results, 'utf8')) as SuiteResult;
  if (exitError && r.failed === 0) r.failed = 1;
  return r;
}

async function main(): Promise<number> {
  const base = mkdtempSync(join(tmpdir(), 'ipcscope-e2e-'));
  let passed = 0, failed = 0;
  const failures: string[] = [];
  try {
    for (const suite of ['main', 'untrusted'] as const) {
      const workspace = join(base, suite, 'workspace');
      cpSync(join(root, 'test/e2e/fixtures'), workspace, { recursive: true });
      // A trace recorded by the CLI, for the suites that open .ipctrace files (the untrusted one may not record).
      const rec = spawnSync(process.execPath, [join(root, 'out/cli/ipcscope.js'), 'record', '-o', join(workspace, 'recorded.ipctrace'), '--', 'sh', '-c', 'echo hello | cat'],
        { encoding: 'utf8', timeout: 60_000 });
      if (rec.status !== 0) console.log(`ipcscope record failed (exit ${rec.status}): ${rec.stderr}`);
      const r = await runSuite(suite, workspace);
      passed += r.passed; failed += r.failed; failures.push(...r.failures.map((f) => `${suite}: ${f}`));
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  for (const f of failures) console.log(`failed: ${f}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => { console.error(e); console.log('0 passed, 1 failed'); process.exit(1); });
