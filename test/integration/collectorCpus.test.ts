// Where the collector runs while the traced program is pinned: on the CPUs the program leaves out, back on its own
// CPUs when no pinned image is live and when the session closes; IPCSCOPE_COLLECTOR_CPUS=inherit leaves it alone.
// Real programs under the real shim, the CLI's collector (another process) and one in this process (as the extension
// host has it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Collector } from '../../src/common/collector';
import { COLLECTOR_CPUS_ENV, CollectorCpus, cpusAllowed, formatCpuList, parseCpuList } from '../../src/common/cpuAffinity';
import { TracedProcess } from '../../src/common/launcher';
import { recordProgram, whyNoShim } from '../helpers/record';

const taskset = ['/usr/bin/taskset', '/bin/taskset'].find(existsSync);
const home = cpusAllowed('self');
const skip = whyNoShim() ?? (taskset ? undefined : 'no taskset') ??
  (!home || home.size < 2 || !home.has(0) ? 'needs CPU 0 and another CPU' : undefined);
const others = formatCpuList([...(home ?? [])].filter((c) => c !== 0));

/** Cpus_allowed_list of every thread of a process (empty when it is gone). */
function threadCpus(pid: number): string[] {
  let tids: string[];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return []; }
  const out: string[] = [];
  for (const t of tids) {
    try {
      const m = /^Cpus_allowed_list:\s*(\S*)/m.exec(readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'));
      if (m) out.push(m[1]);
    } catch { /* the thread ended */ }
  }
  return out;
}

/** Polls until every thread of pid runs on `want` (true) or the time is up (false). */
async function waitThreads(pid: number, want: string, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    const c = threadCpus(pid);
    if (c.length && c.every((x) => x === want)) return true;
  }
  return false;
}

test('CPU lists: parsed and printed the way the kernel writes them', () => {
  assert.deepEqual([...parseCpuList('0-2,5,7-8')!], [0, 1, 2, 5, 7, 8]);
  assert.deepEqual([...parseCpuList('3\n')!], [3]);
  assert.equal(parseCpuList('1-x'), undefined);
  assert.equal(parseCpuList('4-2'), undefined);
  assert.equal(formatCpuList([8, 0, 2, 1, 5, 7]), '0-2,5,7-8');
  assert.equal(formatCpuList([]), '');
});

test('a kernel thread is never taken for a traced image: a HELLO naming a pinned kworker moves nothing', (t) => {
  // Per-CPU kernel threads (kworker/0:0, ksoftirqd/0) are pinned; a stale or made-up pid in a HELLO may name one (the
  // unit tests' made-up pid 9 was kworker/0:0 on a freshly booted machine, and the collector moved off CPU 0).
  let kthread: number | undefined;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
      const cpus = /^Cpus_allowed_list:\s*(\d+)\s*$/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'));
      if (flags & 0x00200000 && cpus && home?.has(Number(cpus[1])) && home.size > 1) { kthread = Number(e); break; }
    } catch { /* gone */ }
  }
  if (kthread === undefined) { t.skip('no kernel thread pinned to one of our CPUs'); return; }
  assert.equal(cpusAllowed(kthread), undefined);
  const cpus = new CollectorCpus(() => {});
  try {
    assert.equal(cpus.pinned(kthread), false);
    assert.deepEqual(cpus.want([kthread]).program, new Set());
    cpus.update([kthread]);
    assert.equal(cpus.moved, false);
  } finally { cpus.restore(); }
});

test('ipcscope record: while the program is pinned to CPU 0, every collector thread runs on the other CPUs', { skip }, async () => {
  let cli = 0;
  const moved = new Promise<boolean>((res) => setTimeout(() => res(waitThreads(cli, others, 4000)), 0));
  // the shell waiting for the pinned program is not pinned itself: it does not keep the collector on CPU 0
  const r = await recordProgram('/bin/sh', ['-c', `${taskset} -c 0 sleep 2; true`], {
    recordArgs: ['--no-page-faults'], onSpawn: (pid) => { cli = pid; },
  });
  assert.equal(r.exit.status, 0, r.stderr);
  assert.ok(await moved, `the CLI's threads were not all moved to ${others} while sleep ran pinned`);
  assert.match(r.stderr, new RegExp(`pinned to CPU 0: the collector runs on CPUs? ${others} meanwhile`));
  assert.match(r.stderr, new RegExp(`the collector runs on CPUs? ${formatCpuList(home!)} again`));
  assert.ok(r.store.count > 0, 'the run was traced');
  r.cleanup();
});

test(`${COLLECTOR_CPUS_ENV}=inherit: the collector stays on its own CPUs`, { skip }, async () => {
  let cli = 0;
  const seen: string[] = [];
  const poll = setInterval(() => { if (cli) seen.push(...threadCpus(cli)); }, 50);
  const r = await recordProgram(taskset!, ['-c', '0', 'sleep', '1'], {
    recordArgs: ['--no-page-faults'], onSpawn: (pid) => { cli = pid; }, env: { [COLLECTOR_CPUS_ENV]: 'inherit' },
  });
  clearInterval(poll);
  assert.equal(r.exit.status, 0, r.stderr);
  assert.ok(seen.length > 0, 'the CLI was looked at while it ran');
  assert.deepEqual([...new Set(seen)], [formatCpuList(home!)]);
  assert.doesNotMatch(r.stderr, /the collector runs on/);
  r.cleanup();
});

test('a collector in this process (as in the extension host) moves for a pinned program, not for an unpinned one, and comes back', { skip }, async () => {
  const collector = await Collector.start({ pageFaults: false, snapshots: false, moveOffProgramCpus: true });
  try {
    const free = TracedProcess.launch({ command: 'sleep', args: ['0.5'], collector, stdio: 'pipe' });
    assert.deepEqual(await free.exited, { code: 0, signal: null });
    assert.deepEqual(collector.notes.filter((n) => /collector runs on/.test(n.message)).map((n) => n.message), [],
      'an unpinned program does not move the collector');
    assert.deepEqual([...new Set(threadCpus(process.pid))], [formatCpuList(home!)]);

    const pinned = TracedProcess.launch({ command: taskset!, args: ['-c', '0', 'sleep', '1.5'], collector, stdio: 'pipe' });
    assert.ok(await waitThreads(process.pid, others, 4000), `this process's threads did not move to ${others}: ${threadCpus(process.pid)}`);
    assert.deepEqual(await pinned.exited, { code: 0, signal: null });
    // the pinned image's connection closes: back home without waiting for the session to end
    assert.ok(await waitThreads(process.pid, formatCpuList(home!), 4000), `not back on ${formatCpuList(home!)}: ${threadCpus(process.pid)}`);
  } finally {
    await collector.close();
  }
  assert.deepEqual([...new Set(threadCpus(process.pid))], [formatCpuList(home!)]);
  const msgs = collector.notes.filter((n) => /collector runs on/.test(n.message)).map((n) => n.message);
  assert.equal(msgs.length, 2, msgs.join('\n'));
});

test('two collectors in one process (two sessions): it runs where both leave it, and goes home after the last', { skip }, async () => {
  const a = await Collector.start({ pageFaults: false, snapshots: false, moveOffProgramCpus: true });
  const b = await Collector.start({ pageFaults: false, snapshots: false, moveOffProgramCpus: true });
  try {
    const pinned = TracedProcess.launch({ command: taskset!, args: ['-c', '0', 'sleep', '2'], collector: a, stdio: 'pipe' });
    assert.ok(await waitThreads(process.pid, others, 4000), `not moved to ${others}: ${threadCpus(process.pid)}`);
    // the second session, started while moved, runs an unpinned program and ends: the first still needs CPU 0 free
    const free = TracedProcess.launch({ command: 'sleep', args: ['0.3'], collector: b, stdio: 'pipe' });
    assert.deepEqual(await free.exited, { code: 0, signal: null });
    await b.close();
    assert.deepEqual([...new Set(threadCpus(process.pid))], [others], 'the other session ending does not undo the first one\'s move');
    assert.deepEqual(await pinned.exited, { code: 0, signal: null });
    assert.ok(await waitThreads(process.pid, formatCpuList(home!), 4000), `not back on ${formatCpuList(home!)}: ${threadCpus(process.pid)}`);
  } finally {
    await b.close();
    await a.close();
  }
  assert.deepEqual([...new Set(threadCpus(process.pid))], [formatCpuList(home!)]);
});
