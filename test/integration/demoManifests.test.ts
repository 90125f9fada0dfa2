// Every demos/<id>/demo.json follows docs/demos.md: the fields and their types, topic and panel from the lists,
// commands and the stepping stop that exist, and a README with an English and a Korean section. The Demo Gallery
// and the stepping launch configurations read these files, so a broken manifest is a broken gallery entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildDemos, DEMOS, demoIds, manifest, type DemoManifest } from './demoSupport';

const TOPICS = ['memory', 'signals', 'pipes', 'queues', 'shared-memory', 'locks', 'sockets', 'multiplexing', 'models'];
const PANELS = ['timeline', 'pages', 'locks', 'map'];
const bilingual = (v: unknown): boolean => typeof v === 'object' && v !== null
  && typeof (v as { en?: unknown }).en === 'string' && typeof (v as { ko?: unknown }).ko === 'string'
  && (v as { en: string }).en.length > 0 && /[가-힣]/.test((v as { ko: string }).ko);

function checkCommand(id: string, cmd: unknown, where: string): void {
  assert.ok(Array.isArray(cmd) && cmd.length > 0 && cmd.every((a) => typeof a === 'string'), `${id}: ${where} must be a non-empty string array`);
  const exe = (cmd as string[])[0];
  if (exe.startsWith('./')) {
    const p = join(DEMOS, id, exe);
    assert.ok(existsSync(p), `${id}: ${where}[0] ${exe} does not exist (after make -C demos)`);
    assert.ok(statSync(p).mode & 0o111, `${id}: ${where}[0] ${exe} is not executable`);
  } else {
    assert.ok(['python3', 'sh'].includes(exe), `${id}: ${where}[0] ${exe} is neither ./relative nor python3/sh`);
  }
  // Script arguments (python3 X.py) must exist too.
  if (exe === 'python3') assert.ok(existsSync(join(DEMOS, id, (cmd as string[])[1])), `${id}: ${(cmd as string[])[1]} missing`);
}

test('the gallery has the 16 demos of issue 7 and the deadlock demo of the walkthrough', () => {
  assert.deepEqual(demoIds(), ['cow', 'deadlock', 'demand-paging', 'fifo', 'file-locks', 'message-models', 'mmap-file', 'mq', 'multiplexing', 'mutex',
    'pipe', 'procs-vs-threads', 'semaphores', 'shared-vs-private', 'shm', 'signals', 'sockets']);
});

test('every demo.json follows the schema in docs/demos.md', () => {
  buildDemos();
  for (const id of demoIds()) {
    const m: DemoManifest = manifest(id);
    assert.equal(m.id, id, `${id}: id must equal the folder name`);
    assert.ok(TOPICS.includes(m.topic), `${id}: topic ${m.topic}`);
    assert.ok(bilingual(m.title), `${id}: title needs en and ko`);
    assert.ok(bilingual(m.observation), `${id}: observation needs en and ko`);
    assert.ok(PANELS.includes(m.panel), `${id}: panel ${m.panel}`);
    assert.equal(typeof m.long, 'boolean', `${id}: long must be a boolean`);
    assert.equal(m.run?.cwd, '.', `${id}: run.cwd`);
    checkCommand(id, m.run?.command, 'run.command');
    const src = join(DEMOS, id, m.stopAt?.file ?? '');
    assert.ok(m.stopAt && existsSync(src), `${id}: stopAt.file ${m.stopAt?.file} missing`);
    const lines = readFileSync(src, 'utf8').split('\n');
    assert.ok(Number.isInteger(m.stopAt.line) && m.stopAt.line >= 1 && m.stopAt.line <= lines.length, `${id}: stopAt.line out of range`);
    assert.ok(lines[m.stopAt.line - 1].trim().length > 0, `${id}: stopAt.line ${m.stopAt.line} is blank`);
    assert.ok(bilingual(m.stopAt.why), `${id}: stopAt.why needs en and ko`);
    const seen = new Set<string>();
    for (const p of m.parts ?? []) {
      assert.ok(typeof p.id === 'string' && !seen.has(p.id), `${id}: part id ${p.id} missing or repeated`);
      seen.add(p.id);
      assert.ok(bilingual(p.title), `${id}/${p.id}: title needs en and ko`);
      checkCommand(id, p.command, `parts.${p.id}.command`);
      if (p.long !== undefined) assert.equal(typeof p.long, 'boolean');
    }
  }
});

test('every demo has a README with an English and a Korean section and a list of what was fixed', () => {
  for (const id of demoIds()) {
    const readme = readFileSync(join(DEMOS, id, 'README.md'), 'utf8');
    assert.match(readme, /^## English$/m, `${id}: English section`);
    assert.match(readme, /^## 한국어$/m, `${id}: Korean section`);
    assert.match(readme, /^### Fixed from the notes$/m, `${id}: fixes (English)`);
    assert.match(readme, /^### 노트에서 고친 점$/m, `${id}: fixes (Korean)`);
    assert.ok(readme.includes(manifest(id).observation.en), `${id}: the README states the manifest's observation`);
  }
});

test('the demos are git-ignored build output only under demos/<id>/build/', () => {
  const ignore = readFileSync(join(DEMOS, '.gitignore'), 'utf8');
  assert.match(ignore, /^\*\/build\/$/m);
});
