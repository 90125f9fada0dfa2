// Page faults sampled per CPU at root: CPU-wide with a BPF filter on the tree's pids, the tree in the session's freezer
// cgroup (the `pid` scope, the default where a v1 freezer hierarchy is mounted), or on each image's leaf cgroup (as
// cgroup events, or CPU-wide with a BPF filter on the leaf): real programs under the real shim and collector. A
// program lands in a leaf beside the session's cgroup, or stays in its cgroup v2 and moves into the session's freezer
// cgroup; its fork children and exec'd images stay there and share its set (handed over across exec), every fault
// is recorded once under the right pid (the same counts as the per-task design), and nothing of the session, neither
// a directory nor a daemon that left the process group, outlives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTraceFile } from '../../src/common/traceFile';
import { cgroup2Mount, FAULT_SCOPE_ENV, ownCgroupDir, ownCgroupPath, SessionCgroup } from '../../src/common/cgroup';
import { kernelTaskOffsets } from '../../src/common/btf';
import { Collector } from '../../src/common/collector';
import { isRunning, shimPath, TracedProcess } from '../../src/common/launcher';
import type { EventStore } from '../../src/common/store';
import { arg, blobText, CLI, compileC, events, recordProgram, rootPid, whyNoShim } from '../helpers/record';

/** Why the cgroup scope cannot be tried here (not root, no writable cgroup2), or undefined; and whether cgroups have
 * a cgroup.pressure file (Linux 6.1 with PSI on), looked up in a session cgroup made for the purpose. */
function probeCgroup(): { why?: string; pressureFile: boolean } {
  const no = whyNoShim();
  if (no) return { why: no, pressureFile: false };
  const r = SessionCgroup.create();
  if ('why' in r) return { why: r.why, pressureFile: false };
  const pressureFile = existsSync(join(r.cgroup.dir, 'cgroup.pressure'));
  rmdirSync(r.cgroup.dir);
  return { pressureFile };
}
const { why: skip, pressureFile } = probeCgroup();
const FIXTURE = 'test/fixtures/record/fault_scope.c';
/** Why the pid scope cannot be tried here (no freezer hierarchy, no BTF), or undefined. */
const skipPid = skip ?? (() => {
  const off = kernelTaskOffsets();
  if ('why' in off) return off.why;
  const r = SessionCgroup.create('freezer');
  if ('why' in r) return r.why;
  rmdirSync(r.cgroup.dir);
  return undefined;
})();
/** Our own cgroup v2 path: where a program traced with the pid scope stays. */
const ownV2 = ownCgroupPath(readFileSync('/proc/self/cgroup', 'utf8'));

/** A cgroup path as /proc/PID/cgroup shows it, as a directory under the cgroup2 (or v1 freezer) mount. */
function cgroupDir(path: string, kind: 'v2' | 'freezer' = 'v2'): string {
  const m = cgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'), kind)!;
  return join(m.mountPoint, m.root === '/' ? path : path.slice(m.root.length));
}

/** The session's cgroup of an image's leaf (`<session>-i<pid>-<ns>`, beside it). */
function sessionOf(leaf: string): string {
  assert.match(leaf, /\/ipcscope-\d+-[0-9a-f]+-i\d+-\d+$/);
  return leaf.replace(/-i\d+-\d+$/, '');
}

/** The fixture's "cgroup WHO PID PATH", "freezer WHO PID PATH", "pressure WHO V" and "range PID LO HI" lines. */
function parseOutput(stdout: string) {
  const cgroups = new Map<string, { pid: number; path: string }>();
  const freezers = new Map<string, { pid: number; path: string }>();
  const pressure = new Map<string, string>();
  const ranges = new Map<number, [bigint, bigint]>();
  for (const line of stdout.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'cgroup') cgroups.set(f[1], { pid: Number(f[2]), path: f.slice(3).join(' ') });
    if (f[0] === 'freezer') freezers.set(f[1], { pid: Number(f[2]), path: f.slice(3).join(' ') });
    if (f[0] === 'pressure') pressure.set(f[1], f[2]);
    if (f[0] === 'range') ranges.set(Number(f[1]), [BigInt(f[2]), BigInt(f[3])]);
  }
  return { cgroups, freezers, ranges, pressure };
}

/** Minor faults per pid inside [lo, hi), and every fault's tid checked against its pid's. */
function faultsIn(s: EventStore, pid: number, [lo, hi]: [bigint, bigint]): number {
  const fs = events(s, 'page_fault', { pid, args: { major: 0 } }).filter((e) => {
    const a = arg(e, 'page_fault', 'addr');
    return a >= lo && a < hi;
  });
  const addrs = new Set(fs.map((e) => arg(e, 'page_fault', 'addr')));
  assert.equal(addrs.size, fs.length, `pid ${pid}: a page fault recorded twice`);
  return fs.length;
}

/** A `fault_scope fork` recording: the parent, its fork child, the fixture's lines and the mapping's range. */
function forkRun(r: { store: EventStore; stdout: string }) {
  const s = r.store, parent = rootPid(s);
  const child = Number(events(s, 'fork', { pid: parent })[0].result);
  const out = parseOutput(r.stdout);
  const range = out.ranges.get(parent)!;
  assert.ok(range, r.stdout);
  return { s, parent, child, out, range };
}

function shimScope(s: EventStore, pid: number): string {
  const [info] = events(s, 'shim_info', { pid });
  assert.ok(info, `shim_info from pid ${pid}`);
  return blobText(info);
}

test('fork: a child writing every page of a 16 MiB private mapping has its 4096 faults recorded once under its pid, as per task', { skip }, async () => {
  const bin = compileC(FIXTURE);
  const cg = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: 'cgroup' } });
  const cgBpf = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: 'bpf' } });
  const task = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: 'task' } });
  const counts: Record<string, { parent: number; child: number }> = {};
  const scopes = {
    cgroup: /page faults: on \(cgroup\)/, // cgroup events on the leaf
    cgroupBpf: /page faults: on \(cgroup, BPF filter\)/, // CPU-wide events, BPF filter on the leaf
    task: /page faults: on;/,
  };
  for (const [name, r] of [['cgroup', cg], ['cgroupBpf', cgBpf], ['task', task]] as const) {
    assert.equal(r.exit.status, 0, r.stderr);
    const { s, parent, child, out, range } = forkRun(r);
    assert.match(shimScope(s, parent), scopes[name]);
    counts[name] = { parent: faultsIn(s, parent, range), child: faultsIn(s, child, range) };
    // the fork child stays in its parent's leaf (one move per image, not per fork)
    assert.equal(out.cgroups.get('child')!.path, out.cgroups.get('parent')!.path);
    if (name !== 'task') {
      const leaf = out.cgroups.get('parent')!.path;
      assert.match(leaf, new RegExp(`/ipcscope-\\d+-[0-9a-f]+-i${parent}-\\d+$`), 'a leaf beside the session\'s cgroup');
      // no pressure-stall accounting in the leaf (it costs every context switch); "-": a kernel without the file
      const psi = out.pressure.get('parent');
      assert.ok(psi === '0' || (psi === '-' && !pressureFile), `the leaf's cgroup.pressure reads ${psi}`);
      assert.equal(existsSync(cgroupDir(sessionOf(leaf))), false, 'the session cgroup is gone after the session');
      assert.equal(existsSync(cgroupDir(leaf)), false, 'the leaf is gone after the session');
    } else assert.doesNotMatch(out.cgroups.get('parent')!.path, /ipcscope-/, 'per task: no session cgroup');
    assert.equal(s.end?.dropped, 0);
  }
  // every page once in the parent (first write) and once in the child (copy-on-write), in both designs
  assert.deepEqual(counts, { cgroup: { parent: 4096, child: 4096 }, cgroupBpf: { parent: 4096, child: 4096 }, task: { parent: 4096, child: 4096 } });
  cg.cleanup();
  cgBpf.cleanup();
  task.cleanup();
});

test('pid scope (the default here): the tree stays in its cgroup v2, moves into the session\'s freezer cgroup, and a fork child\'s 4096 faults are recorded once from its first', { skip: skipPid }, async () => {
  const bin = compileC(FIXTURE);
  for (const scope of ['', 'pid']) { // the default picks the pid scope where it can be had
    const r = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: scope } });
    assert.equal(r.exit.status, 0, r.stderr);
    const { s, parent, child, out, range } = forkRun(r);
    assert.match(shimScope(s, parent), /page faults: on \(pid filter\)/);
    assert.match(shimScope(s, child), /page faults: on \(pid filter\)/);
    // the child's faults were kept from the first on: its tgid went into the filter's map at its first fault (its
    // parent's was there), before any code of ours ran in it; every page once on each side
    assert.deepEqual([faultsIn(s, parent, range), faultsIn(s, child, range)], [4096, 4096], `${scope || 'default'}`);
    // no leaf: both stay where the collector is in cgroup v2; both in the session's freezer cgroup
    assert.equal(out.cgroups.get('parent')!.path, ownV2);
    assert.equal(out.cgroups.get('child')!.path, ownV2);
    const fz = out.freezers.get('parent')!.path;
    assert.match(fz, /\/ipcscope-\d+-[0-9a-f]+$/, 'in the session\'s freezer cgroup');
    assert.equal(out.freezers.get('child')!.path, fz);
    assert.equal(existsSync(cgroupDir(fz, 'freezer')), false, 'the freezer cgroup is gone after the session');
    assert.equal(s.end?.dropped, 0);
    // nothing of another program: every fault recorded is of the tree's two pids
    assert.deepEqual([...new Set(events(s, 'page_fault').map((e) => e.pid))].sort(), [parent, child].sort());
    r.cleanup();
  }
});

test('exec: the set is handed over, the exec\'d image stays in the leaf and its faults are recorded once, under its pid and connection', { skip }, async () => {
  // One set per fork-and-exec tree: the exec'd image maps the previous image's rings again (the kernel made them anew,
  // nobody else having them mapped) and reads on with its reader; no second leaf, no second set (with the BPF filter,
  // a second set would be a second program run at every page fault of the machine).
  for (const scope of ['cgroup', 'bpf', ...(skipPid ? [] : ['pid'])]) { // cgroup events; BPF filter on the leaf; on pids
    const r = await recordProgram(compileC(FIXTURE), ['exec'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: scope } });
    assert.equal(r.exit.status, 0, r.stderr);
    const s = r.store;
    const pid = rootPid(s);
    const images = s.connections().filter((c) => c.pid === pid);
    assert.deepEqual(images.map((c) => c.origin), ['initial', 'exec']);
    const out = parseOutput(r.stdout);
    const before = out.cgroups.get('before')!.path, after = out.cgroups.get('after')!.path;
    assert.equal(after, before, `${scope}: the exec'd image stays in the cgroup it inherited`);
    if (scope === 'pid') {
      assert.equal(before, ownV2, 'pid scope: no leaf');
      assert.equal(out.freezers.get('after')!.path, out.freezers.get('before')!.path);
      assert.match(out.freezers.get('before')!.path, /\/ipcscope-\d+-[0-9a-f]+$/);
    } else assert.match(before, /-i\d+-\d+$/, 'a leaf beside the session\'s cgroup');
    const infos = events(s, 'shim_info', { pid }).map(blobText);
    assert.equal(infos.length, 2, 'one shim_info per image');
    assert.doesNotMatch(infos[0], /handed over/);
    assert.match(infos[1], { bpf: /page faults: on \(cgroup, BPF filter, handed over at exec\)/, pid: /page faults: on \(pid filter, handed over at exec\)/ }[scope] ?? /page faults: on \(cgroup, handed over at exec\)/);
    const range = out.ranges.get(pid)!;
    assert.equal(faultsIn(s, pid, range), 2048, `${scope}: every page of the 8 MiB mapping once`);
    const conns = new Set(events(s, 'page_fault', { pid }).filter((e) => arg(e, 'page_fault', 'addr') >= range[0] && arg(e, 'page_fault', 'addr') < range[1]).map((e) => e.conn));
    assert.deepEqual([...conns], [images[1].conn], 'all of them from the exec\'d image');
    assert.equal(s.end?.dropped, 0);
    if (scope === 'pid') assert.equal(existsSync(cgroupDir(out.freezers.get('before')!.path, 'freezer')), false, 'the freezer cgroup is gone');
    else for (const d of [sessionOf(before), before]) assert.equal(existsSync(cgroupDir(d)), false, `${d} is gone after the session`);
    r.cleanup();
  }
});

test('fork then exec while the parent holds the rings: the child\'s exec\'d image reads on from the reader its parent reserved', { skip }, async () => {
  // The other path of the hand-over: the rings stay mapped by the parent, so the kernel keeps them (no new, empty
  // rings as in the single-process exec above) and the exec'd image reads from where its reader stood.
  for (const scope of ['bpf', ...(skipPid ? [] : ['pid'])]) {
    const r = await recordProgram(compileC(FIXTURE), ['forkexec'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: scope } });
    assert.equal(r.exit.status, 0, r.stderr);
    const s = r.store;
    const parent = rootPid(s);
    const out = parseOutput(r.stdout);
    const child = out.cgroups.get('after')!.pid;
    assert.notEqual(child, parent);
    assert.equal(out.cgroups.get('after')!.path, out.cgroups.get('parent')!.path, 'the child\'s exec\'d image is in its parent\'s cgroup');
    if (scope === 'pid') assert.equal(out.freezers.get('after')!.path, out.freezers.get('parent')!.path, 'and freezer cgroup');
    assert.deepEqual(s.connections().filter((c) => c.pid === child).map((c) => c.origin), ['fork', 'exec']);
    const infos = events(s, 'shim_info', { pid: child }).map(blobText);
    assert.match(infos[infos.length - 1], scope === 'pid' ? /page faults: on \(pid filter, handed over at exec\)/ : /page faults: on \(cgroup, BPF filter, handed over at exec\)/);
    assert.equal(faultsIn(s, parent, out.ranges.get(parent)!), 2048, `${scope}: the parent's pages once`);
    assert.equal(faultsIn(s, child, out.ranges.get(child)!), 2048, `${scope}: the exec'd child's pages once`);
    assert.equal(s.end?.dropped, 0);
    r.cleanup();
  }
});

for (const scope of ['bpf', 'pid']) {
  test(`${scope} scope: a daemon (setsid, double fork, no environment) is killed when the session closes, and the cgroup is removed`, { skip: scope === 'pid' ? skipPid : skip }, async () => {
    const saved = process.env[FAULT_SCOPE_ENV];
    process.env[FAULT_SCOPE_ENV] = scope;
    const collector = await Collector.start({ snapshots: false });
    try {
      const target = TracedProcess.launch({ command: compileC(FIXTURE), args: ['daemon'], collector, stdio: 'pipe' });
      let stdout = '';
      const daemonLine = new Promise<void>((res) => target.on('stdout', (d: Buffer) => { stdout += d.toString(); if (/^cgroup daemon .*\n/m.test(stdout)) res(); }));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([daemonLine, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`no daemon line: ${stdout}`)), 10_000); })]);
      clearTimeout(timer);
      assert.deepEqual(await target.exited, { code: 0, signal: null });
      const out = parseOutput(stdout), daemon = out.cgroups.get('daemon')!;
      // the session's cgroup and the leaf (bpf), or the session's freezer cgroup (pid: the daemon stays in our v2 one)
      const dirs = scope === 'pid' ? [cgroupDir(out.freezers.get('daemon')!.path, 'freezer')] : [cgroupDir(sessionOf(daemon.path)), cgroupDir(daemon.path)];
      if (scope === 'pid') {
        assert.equal(daemon.path, ownV2);
        assert.match(dirs[0], /\/ipcscope-\d+-[0-9a-f]+$/);
      }
      assert.ok(isRunning(daemon.pid), 'the daemon outlives its program');
      assert.ok(existsSync(dirs[0]), `${dirs[0]} exists while the session runs`);
      await collector.close(); // no target.stop(): the session's end alone must take the daemon
      assert.equal(isRunning(daemon.pid), false, `daemon ${daemon.pid} still running`);
      for (const d of dirs) assert.equal(existsSync(d), false, `${d} left behind`);
      assert.deepEqual(collector.notes.filter((n) => /cgroup/.test(n.message)), []);
      const conn = collector.store.connections().find((c) => c.pid === daemon.pid);
      assert.ok(conn, 'the daemon was traced');
      assert.match(collector.store.closed.get(conn.conn)?.reason ?? '', /without BYE/, 'its connection ended with it');
    } finally {
      await collector.close();
      if (saved === undefined) delete process.env[FAULT_SCOPE_ENV]; else process.env[FAULT_SCOPE_ENV] = saved;
    }
  });
}

test('the shim cannot make its leaf (cgroup= names no directory): it samples per task, says why in shim_info, loses nothing', { skip }, async () => {
  const collector = await Collector.start({ snapshots: false });
  const env = collector.envFor();
  env.IPCSCOPE = env.IPCSCOPE!.replace(/cgroup=[^;]*/, 'cgroup=/proc/ipcscope-no-such-cgroup');
  const child = spawn(compileC(FIXTURE), ['fork'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  assert.equal(await new Promise((r) => child.on('close', r)), 0);
  for (let i = 0; i < 500 && (collector.liveConnections().length || collector.pendingConnections()); i++) await new Promise((r) => setTimeout(r, 10));
  await collector.close();
  const s = collector.store, parent = child.pid!;
  assert.match(shimScope(s, parent), /page faults: on \(per task; cgroup session: No such file or directory\)/);
  const forked = Number(events(s, 'fork', { pid: parent })[0].result);
  const range = parseOutput(stdout).ranges.get(parent)!;
  assert.deepEqual([faultsIn(s, parent, range), faultsIn(s, forked, range)], [4096, 4096]);
});

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(existsSync);
test('not root: page faults are sampled per task and an info note says why', { skip: skip ?? (setpriv ? undefined : 'no setpriv to drop root') }, async () => {
  // A directory the unprivileged recorder can write its trace to, holding copies of the CLI bundle and the shim: the
  // checkout itself may be closed to other users (a clone in a mktemp -d directory, mode 0700, as CI makes).
  const dir = mkdtempSync(join(tmpdir(), 'ipcscope-nobody-'));
  chmodSync(dir, 0o777);
  try {
    const cli = join(dir, 'ipcscope.js'), shim = join(dir, 'libipcscope.so');
    copyFileSync(CLI, cli);
    copyFileSync(shimPath(), shim);
    chmodSync(cli, 0o755);
    chmodSync(shim, 0o755);
    const trace = join(dir, 't.ipctrace');
    const r = spawnSync(setpriv!, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli, 'record', '-q', '-o', trace, '--', '/bin/true'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, [FAULT_SCOPE_ENV]: '', IPCSCOPE_SHIM: shim, IPCSCOPE_PYTHON_HOOKS: dir } });
    assert.equal(r.status, 0, r.stderr);
    const s = await readTraceFile(trace);
    const note = s.notes.find((n) => /page faults are sampled per task/.test(n.message));
    assert.ok(note, `notes: ${s.notes.map((n) => n.message).join(' | ')}`);
    assert.equal(note.level, 'info');
    assert.match(note.message, /not root/);
    assert.match(shimScope(s, rootPid(s)), /page faults: on;/);
    assert.ok(events(s, 'page_fault', { pid: rootPid(s) }).length > 0, 'faults are still recorded');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a session cgroup left empty by a collector that died (SIGKILL) is removed by the next session', { skip }, async () => {
  const dead = spawnSync('/bin/true');
  const own = ownCgroupDir();
  assert.ok('dir' in own);
  const stale = join(own.dir, `ipcscope-${dead.pid}-0123abcd`), staleLeaf = `${stale}-i1-2`;
  mkdirSync(stale);
  mkdirSync(join(staleLeaf, 'made-by-the-program'), { recursive: true });
  const freezer = ownCgroupDir('freezer'), staleFreezer = 'dir' in freezer ? join(freezer.dir, `ipcscope-${dead.pid}-4567cdef`) : undefined;
  if (staleFreezer && !skipPid) mkdirSync(join(staleFreezer, 'made-by-the-program'), { recursive: true });
  const collector = await Collector.start({ snapshots: false });
  assert.match(collector.envFor({ [FAULT_SCOPE_ENV]: 'bpf' }).IPCSCOPE!, /;cgroup=/);
  assert.equal(existsSync(stale), false, `${stale} left behind`);
  assert.equal(existsSync(staleLeaf), false, `${staleLeaf} left behind`);
  if (staleFreezer && !skipPid) {
    assert.match(collector.envFor({ [FAULT_SCOPE_ENV]: 'pid' }).IPCSCOPE!, /;cgroup=[^;]*;bpf=1;pidf=\d+\/\d+/);
    assert.equal(existsSync(staleFreezer), false, `${staleFreezer} left behind`);
  }
  await collector.close();
});
