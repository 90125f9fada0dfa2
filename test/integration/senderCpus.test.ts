// Where each traced process's sender thread runs when the program is pinned: on the CPUs the program's affinity leaves
// out (in the first image, a fork child and an exec'd image alike), back on the program's under heavy traffic to a
// live collector; with IPCSCOPE_SENDER_CPUS=inherit always on the program's CPUs. Real programs under `ipcscope
// record`, the real shim and collector.
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Collector, SENDER_CPUS_ENV } from '../../src/common/collector';
import { compileC, recordProgram, whyNoShim } from '../helpers/record';

const FIXTURE = 'test/fixtures/record/sender_cpus.c';
const taskset = ['/usr/bin/taskset', '/bin/taskset'].find(existsSync);
const skip = whyNoShim() ?? (taskset ? undefined : 'no taskset') ?? (availableParallelism() < 2 ? 'one CPU: no other CPU to move the sender to' : undefined);

/** "cpus WHO PID COMM LIST" lines: per image (initial, fork, exec), the program's thread and the sender's CPU lists. */
function placements(stdout: string): Map<string, { program: string; sender: string }> {
  const out = new Map<string, { program: string; sender: string }>();
  for (const line of stdout.split('\n')) {
    const f = line.split(' ');
    if (f[0] !== 'cpus') continue;
    const p = out.get(f[1]) ?? { program: '', sender: '' };
    if (f[3] === 'ipcscope-send') p.sender = f[4]; else p.program = f[4];
    out.set(f[1], p);
  }
  return out;
}

/** The CPUs a list like "0-2,5" names. */
function cpuSet(list: string): Set<number> {
  const s = new Set<number>();
  for (const part of list.split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a; c <= (b ?? a); c++) s.add(c);
  }
  return s;
}

test('pinned to CPU 0: every image\'s sender thread runs on the other CPUs, the program stays on 0', { skip }, async () => {
  const r = await recordProgram(taskset!, ['-c', '0', compileC(FIXTURE)], { recordArgs: ['--no-page-faults'] });
  assert.equal(r.exit.status, 0, r.stderr);
  const p = placements(r.stdout);
  assert.deepEqual([...p.keys()].sort(), ['exec', 'fork', 'initial'], r.stdout);
  for (const [who, { program, sender }] of p) {
    assert.equal(program, '0', `${who}: the program's thread stays where taskset put it`);
    assert.ok(sender, `${who}: a sender thread (ipcscope-send) is listed\n${r.stdout}`);
    const cpus = cpuSet(sender);
    assert.ok(cpus.size > 0 && !cpus.has(0), `${who}: the sender runs on ${sender}, not on the program's CPU 0`);
  }
  assert.ok(r.store.count > 0, 'the run was traced');
  assert.equal(r.store.end?.dropped, 0);
  r.cleanup();
});

test('IPCSCOPE_SENDER_CPUS=inherit: the sender threads stay on the program\'s CPU', { skip }, async () => {
  const r = await recordProgram(taskset!, ['-c', '0', compileC(FIXTURE)], { recordArgs: ['--no-page-faults'], env: { [SENDER_CPUS_ENV]: 'inherit' } });
  assert.equal(r.exit.status, 0, r.stderr);
  const p = placements(r.stdout);
  assert.equal(p.size, 3, r.stdout);
  for (const [who, { program, sender }] of p) assert.deepEqual([program, sender], ['0', '0'], who);
  r.cleanup();
});

test('not pinned: no CPU is left out, so the sender may run on every CPU the program may', { skip }, async () => {
  const r = await recordProgram(compileC(FIXTURE), [], { recordArgs: ['--no-page-faults'] });
  assert.equal(r.exit.status, 0, r.stderr);
  const p = placements(r.stdout);
  assert.equal(p.size, 3, r.stdout);
  for (const [who, { program, sender }] of p) assert.equal(sender, program, who);
  r.cleanup();
});

test('heavy traffic to a live collector brings the sender to the program\'s CPU, and it leaves again when it stops', { skip }, async () => {
  const collector = await Collector.start({ pageFaults: false, snapshots: false });
  try {
    // The threshold lowered (the default, 4 M events/s, depends on the machine's speed): 200 k events/s is heavy here.
    const env = collector.envFor();
    env.IPCSCOPE = `${env.IPCSCOPE};senderheavy=200000`;
    const child = spawn(taskset!, ['-c', '0', compileC('test/fixtures/record/sender_traffic.c')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    assert.equal(await new Promise((r) => child.on('close', r)), 0);
    const seen = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ')));
    assert.equal(seen.flood, '0', `during the flood the sender runs on the program's CPU\n${stdout}`);
    assert.ok(seen.idle && seen.idle !== 'none' && !cpuSet(seen.idle).has(0), `idle, it is back on the other CPUs\n${stdout}`);
    const locks = collector.store.count;
    assert.ok(locks > 100_000, `the flood was traced (${locks} events)`);
  } finally { await collector.close(); }
});
