// The Demo Gallery's manifest code (src/host/gallery/manifests.ts) in plain Node: the real demos/ folder loads
// without errors and groups by topic in the notes' order; bad manifests are reported with the field, not dropped;
// the UI language picks the text; a demo's run becomes a program Trace Program can launch; panel commands resolve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/record';
import {
  DEMO_TOPICS, demoLaunchConfig, demoProgram, findDemosRoot, groupByTopic, loadDemos, panelCommand, parseManifest, pick, stepTarget, stopLocation, topicName,
  DemoManifestError, type Demo,
} from '../../src/host/gallery/manifests';

const DEMOS = join(ROOT, 'demos');

test('the repository demos load without errors, every one with a README, sorted by id', () => {
  const c = loadDemos(DEMOS);
  assert.deepEqual(c.errors, []);
  const ids = c.demos.map((d) => d.manifest.id);
  assert.ok(ids.length >= 17, `only ${ids.length} demos`);
  assert.deepEqual(ids, [...ids].sort());
  for (const id of ['pipe', 'cow', 'deadlock', 'mutex', 'sockets']) assert.ok(ids.includes(id), id);
  for (const d of c.demos) assert.equal(d.readme, join(DEMOS, d.manifest.id, 'README.md'));
});

test('grouped by topic in the notes order, every demo exactly once, empty topics left out', () => {
  const c = loadDemos(DEMOS);
  const groups = groupByTopic(c.demos);
  assert.deepEqual(groups.map((g) => g.topic), DEMO_TOPICS.filter((t) => c.demos.some((d) => d.manifest.topic === t)));
  assert.equal(groups[0].topic, 'memory');
  assert.deepEqual(groups.flatMap((g) => g.demos.map((d) => d.manifest.id)).sort(), c.demos.map((d) => d.manifest.id).sort());
  for (const g of groups) for (const d of g.demos) assert.equal(d.manifest.topic, g.topic);
  const locks = groups.find((g) => g.topic === 'locks')!.demos.map((d) => d.manifest.id);
  assert.deepEqual(locks, ['deadlock', 'file-locks', 'mutex', 'semaphores']);
  const only = groupByTopic(c.demos.filter((d) => d.manifest.topic === 'pipes'));
  assert.deepEqual(only.map((g) => g.topic), ['pipes']);
});

test('text in the UI language: Korean for ko and ko-KR, English otherwise', () => {
  const pipe = loadDemos(DEMOS).demos.find((d) => d.manifest.id === 'pipe')!;
  assert.equal(pick(pipe.manifest.title, 'ko'), '익명 파이프');
  assert.equal(pick(pipe.manifest.title, 'ko-KR'), '익명 파이프');
  assert.equal(pick(pipe.manifest.title, 'en'), 'Anonymous pipes');
  assert.equal(pick(pipe.manifest.title, 'de'), 'Anonymous pipes');
  assert.equal(topicName('shared-memory', 'ko'), '공유 메모리');
  assert.equal(topicName('shared-memory', 'en-US'), 'Shared memory');
  for (const t of DEMO_TOPICS) assert.match(topicName(t, 'ko'), /[가-힣]/, t);
});

function scratchDemos(manifests: Record<string, unknown | string>): string {
  const root = mkdtempSync(join(tmpdir(), 'ipcscope-gallery-'));
  for (const [id, m] of Object.entries(manifests)) {
    mkdirSync(join(root, id));
    writeFileSync(join(root, id, 'demo.json'), typeof m === 'string' ? m : JSON.stringify(m));
  }
  return root;
}

const good = (id: string, extra: Record<string, unknown> = {}) => ({
  ...JSON.parse(readFileSync(join(DEMOS, 'pipe', 'demo.json'), 'utf8')), id, ...extra,
});

test('bad manifests are reported with the folder and the field, and the good ones still load', () => {
  const root = scratchDemos({
    ok: good('ok'),
    wrongid: good('other'),
    badtopic: good('badtopic', { topic: 'telepathy' }),
    notitle: good('notitle', { title: { en: 'only English' } }),
    badjson: '{ "id": "badjson", ',
    badline: good('badline', { stopAt: { file: 'x.c', line: 0, why: { en: 'a', ko: '가' } } }),
  });
  try {
    const c = loadDemos(root);
    assert.deepEqual(c.demos.map((d) => d.manifest.id), ['ok']);
    assert.equal(c.demos[0].readme, undefined, 'no README in the scratch folder');
    const why = Object.fromEntries(c.errors.map((e) => [e.dir.slice(root.length + 1), e.message]));
    assert.deepEqual(Object.keys(why).sort(), ['badjson', 'badline', 'badtopic', 'notitle', 'wrongid']);
    assert.match(why.wrongid, /^wrongid\/demo.json: "id" must equal the folder name "wrongid" \(found "other"\)/);
    assert.match(why.badtopic, /"topic" must be one of memory, .* \(found "telepathy"\)/);
    assert.match(why.notitle, /"title" must be an object with non-empty "en" and "ko"/);
    assert.match(why.badjson, /^badjson\/demo.json: /);
    assert.match(why.badline, /"stopAt"/);
  } finally { rmSync(root, { recursive: true, force: true }); }
  assert.throws(() => parseManifest([], 'x'), DemoManifestError);
  assert.throws(() => parseManifest(good('x', { parts: [{ id: 'a', title: { en: 'a', ko: '가' }, command: ['x'] }, { id: 'a', title: { en: 'a', ko: '가' }, command: ['x'] }] }), 'x'), /part id "a" is repeated/);
  assert.deepEqual(loadDemos('/nonexistent/demos').errors.map((e) => e.dir), ['/nonexistent/demos']);
});

test('the demos folder: a workspace that is one, one that holds demos/, else the extension copy', () => {
  assert.equal(findDemosRoot([DEMOS], '/nowhere'), DEMOS);
  assert.equal(findDemosRoot([ROOT], '/nowhere'), DEMOS);
  assert.equal(findDemosRoot([tmpdir()], ROOT), DEMOS);
  assert.equal(findDemosRoot([], '/nowhere'), undefined);
});

test('a demo run becomes a program to trace: ./ relative to the demo, bare names from PATH, bash scripts under bash', () => {
  const c = loadDemos(DEMOS);
  const byId = (id: string): Demo => c.demos.find((d) => d.manifest.id === id)!;
  const pipe = demoProgram(byId('pipe'));
  assert.deepEqual(pipe, { file: join(DEMOS, 'pipe', 'run.sh'), args: [], cwd: join(DEMOS, 'pipe') });
  const cow = demoProgram(byId('cow'), undefined, '/usr/local/bin:/usr/bin:/bin');
  assert.match(cow.file, /\/python3$/);
  assert.deepEqual(cow.args, ['cow.py']);
  // file-locks/run.sh is a bash script: Trace Program would run a .sh with sh, so bash is the program.
  const locks = demoProgram(byId('file-locks'), undefined, '/usr/bin:/bin');
  assert.match(locks.file, /\/bash$/);
  assert.deepEqual(locks.args, [join(DEMOS, 'file-locks', 'run.sh'), '100']);
  assert.throws(() => demoProgram(byId('cow'), undefined, '/nonexistent'), /python3 is not on PATH/);
  assert.throws(() => demoProgram(byId('pipe'), ['./build/no-such-program']), /no-such-program does not exist .*make -C demos/);
  const root = scratchDemos({ s: good('s', { run: { command: ['./x.sh', 'a'], cwd: '.' } }) });
  try {
    writeFileSync(join(root, 's', 'x.sh'), '#!/usr/bin/env bash -e\necho hi\n');
    chmodSync(join(root, 's', 'x.sh'), 0o755);
    const s = loadDemos(root).demos[0];
    const p = demoProgram(s, undefined, '/usr/bin:/bin');
    assert.match(p.file, /\/bash$/);
    assert.deepEqual(p.args, ['-e', join(root, 's', 'x.sh'), 'a']);
  } finally { rmSync(root, { recursive: true, force: true }); }
});

test('Step launches the program that holds the stop line, with stopAt; otherwise the whole run with a stop on entry', () => {
  const c = loadDemos(DEMOS);
  const byId = (id: string): Demo => c.demos.find((d) => d.manifest.id === id)!;
  const pipe = byId('pipe');
  const t = stepTarget(pipe);
  // pipe-eof.c runs as ./build/pipe-eof (part "eof"), not as run.sh: source lines resolve in the launched binary.
  assert.equal(t.command[0], './build/pipe-eof');
  assert.deepEqual(t.stopAt, { file: join(DEMOS, 'pipe', 'pipe-eof.c'), line: pipe.manifest.stopAt.line });
  const cfg = demoLaunchConfig(pipe, demoProgram(pipe, t.command), 'ko', t.stopAt);
  assert.deepEqual(cfg, {
    type: 'ipcscope', request: 'launch', name: 'IPC Scope: 익명 파이프', program: join(DEMOS, 'pipe', 'build', 'pipe-eof'), args: t.command.slice(1),
    cwd: join(DEMOS, 'pipe'), stopOnEntry: false, stopAt: t.stopAt,
  });
  assert.deepEqual(stepTarget(byId('deadlock')).command, ['./build/deadlock', 'abba']);
  assert.deepEqual(stepTarget(byId('cow')).command, ['python3', 'cow.py']);
  // fifo's stop is in the server, which only runs paired with its client through run.sh: stop on entry instead.
  const fifo = byId('fifo');
  assert.deepEqual(stepTarget(fifo), { command: fifo.manifest.run.command });
  assert.equal(demoLaunchConfig(fifo, demoProgram(fifo), 'en').stopOnEntry, true);
  const stop = stopLocation(pipe);
  assert.equal(stop.file, join(DEMOS, 'pipe', pipe.manifest.stopAt.file));
  assert.ok(readFileSync(stop.file, 'utf8').split('\n')[stop.line - 1].trim().length > 0);
});

test('panel commands: the timeline always, the others when some command opens them', () => {
  assert.equal(panelCommand('timeline', []), 'ipcScope.showTimeline');
  assert.equal(panelCommand('pages', ['ipcScope.showTimeline']), undefined);
  assert.equal(panelCommand('pages', ['ipcScope.showLocks', 'ipcScope.showPageTables']), 'ipcScope.showPageTables');
  assert.equal(panelCommand('locks', ['ipcScope.showLocks', 'ipcScope.showPageTables']), 'ipcScope.showLocks');
  assert.equal(panelCommand('map', ['ipcScope.openIpcMapView']), 'ipcScope.openIpcMapView');
  // The names src/host/panels registers.
  const registered = ['ipcScope.showTimeline', 'ipcScope.showPageTables', 'ipcScope.showLocks', 'ipcScope.showIpcMap'];
  assert.deepEqual((['pages', 'locks', 'map'] as const).map((p) => panelCommand(p, registered)), registered.slice(1));
});
