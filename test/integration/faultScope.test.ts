// Page faults sampled per CPU on each image's leaf cgroup (root; as cgroup events, or CPU-wide with a BPF filter on
// the leaf): real programs under the real shim and collector. A program lands in a leaf beside the session's cgroup; its fork children and exec'd
// images stay in it and share its set (handed over across exec), every
// fault is recorded once under the right pid (the same counts as the per-task design), and nothing of the session,
// neither a directory nor a daemon that left the process group, outlives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTraceFile } from '../../src/common/traceFile';
import { cgroup2Mount, FAULT_SCOPE_ENV, ownCgroupDir, SessionCgroup } from '../../src/common/cgroup';
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

/** A cgroup path as /proc/PID/cgroup shows it, as a directory under the cgroup2 mount. */
function cgroupDir(path: string): string {
  const m = cgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'))!;
  return join(m.mountPoint, m.root === '/' ? path : path.slice(m.root.length));
}

/** The session's cgroup of an image's leaf (`<session>-i<pid>-<ns>`, beside it). */
function sessionOf(leaf: string): string {
  assert.match(leaf, /\/ipcscope-\d+-[0-9a-f]+-i\d+-\d+$/);
  return leaf.replace(/-i\d+-\d+$/, '');
}

/** The fixture's "cgroup WHO PID PATH", "pressure WHO V" and "range PID LO HI" lines. */
function parseOutput(stdout: string) {
  const cgroups = new Map<string, { pid: number; path: string }>();
  const pressure = new Map<string, string>();
  const ranges = new Map<number, [bigint, bigint]>();
  for (const line of stdout.split('\n')) {
    const f = line.split(' ');
    if (f[0] === 'cgroup') cgroups.set(f[1], { pid: Number(f[2]), path: f.slice(3).join(' ') });
    if (f[0] === 'pressure') pressure.set(f[1], f[2]);
    if (f[0] === 'range') ranges.set(Number(f[1]), [BigInt(f[2]), BigInt(f[3])]);
  }
  return { cgroups, ranges, pressure };
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

function shimScope(s: EventStore, pid: number): string {
  const [info] = events(s, 'shim_info', { pid });
  assert.ok(info, `shim_info from pid ${pid}`);
  return blobText(info);
}

test('fork: a child writing every page of a 16 MiB private mapping has its 4096 faults recorded once under its pid, as per task', { skip }, async () => {
  const bin = compileC(FIXTURE);
  const cg = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: 'cgroup' } });
  const cgBpf = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: '' } }); // the default
  const task = await recordProgram(bin, ['fork'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: 'task' } });
  const counts: Record<string, { parent: number; child: number }> = {};
  const scopes = {
    cgroup: /page faults: on \(cgroup\)/, // cgroup events on the leaf
    cgroupBpf: /page faults: on \(cgroup, BPF filter\)/, // CPU-wide events, BPF filter on the leaf
    task: /page faults: on;/,
  };
  for (const [name, r] of [['cgroup', cg], ['cgroupBpf', cgBpf], ['task', task]] as const) {
    assert.equal(r.exit.status, 0, r.stderr);
    const s = r.store;
    const parent = rootPid(s);
    const child = Number(events(s, 'fork', { pid: parent })[0].result);
    const out = parseOutput(r.stdout);
    const range = out.ranges.get(parent)!;
    assert.ok(range, r.stdout);
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

test('exec: the set is handed over, the exec\'d image stays in the leaf and its faults are recorded once, under its pid and connection', { skip }, async () => {
  // One set per fork-and-exec tree: the exec'd image maps the previous image's rings again (the kernel made them anew,
  // nobody else having them mapped) and reads on with its reader; no second leaf, no second set (with the BPF filter,
  // a second set would be a second program run at every page fault of the machine).
  for (const scope of ['cgroup', '']) { // cgroup events; the default (BPF filter)
    const r = await recordProgram(compileC(FIXTURE), ['exec'], { recordArgs: ['--no-snapshots'], env: { [FAULT_SCOPE_ENV]: scope } });
    assert.equal(r.exit.status, 0, r.stderr);
    const s = r.store;
    const pid = rootPid(s);
    const images = s.connections().filter((c) => c.pid === pid);
    assert.deepEqual(images.map((c) => c.origin), ['initial', 'exec']);
    const out = parseOutput(r.stdout);
    const before = out.cgroups.get('before')!.path, after = out.cgroups.get('after')!.path;
    assert.equal(after, before, `${scope || 'bpf'}: the exec'd image stays in the leaf it inherited`);
    assert.match(before, /-i\d+-\d+$/, 'a leaf beside the session\'s cgroup');
    const infos = events(s, 'shim_info', { pid }).map(blobText);
    assert.equal(infos.length, 2, 'one shim_info per image');
    assert.doesNotMatch(infos[0], /handed over/);
    assert.match(infos[1], scope === '' ? /page faults: on \(cgroup, BPF filter, handed over at exec\)/ : /page faults: on \(cgroup, handed over at exec\)/);
    const range = out.ranges.get(pid)!;
    assert.equal(faultsIn(s, pid, range), 2048, `${scope || 'bpf'}: every page of the 8 MiB mapping once`);
    const conns = new Set(events(s, 'page_fault', { pid }).filter((e) => arg(e, 'page_fault', 'addr') >= range[0] && arg(e, 'page_fault', 'addr') < range[1]).map((e) => e.conn));
    assert.deepEqual([...conns], [images[1].conn], 'all of them from the exec\'d image');
    assert.equal(s.end?.dropped, 0);
    for (const d of [sessionOf(before), before]) assert.equal(existsSync(cgroupDir(d)), false, `${d} is gone after the session`);
    r.cleanup();
  }
});

test('fork then exec while the parent holds the rings: the child\'s exec\'d image reads on from the reader its parent reserved', { skip }, async () => {
  // The other path of the hand-over: the rings stay mapped by the parent, so the kernel keeps them (no new, empty
  // rings as in the single-process exec above) and the exec'd image reads from where its reader stood.
  const r = await recordProgram(compileC(FIXTURE), ['forkexec'], { recordArgs: ['--no-snapshots'] });
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const parent = rootPid(s);
  const out = parseOutput(r.stdout);
  const child = out.cgroups.get('after')!.pid;
  assert.notEqual(child, parent);
  assert.equal(out.cgroups.get('after')!.path, out.cgroups.get('parent')!.path, 'the child\'s exec\'d image is in its parent\'s leaf');
  assert.deepEqual(s.connections().filter((c) => c.pid === child).map((c) => c.origin), ['fork', 'exec']);
  const infos = events(s, 'shim_info', { pid: child }).map(blobText);
  assert.match(infos[infos.length - 1], /page faults: on \(cgroup, BPF filter, handed over at exec\)/);
  assert.equal(faultsIn(s, parent, out.ranges.get(parent)!), 2048, 'the parent\'s pages once');
  assert.equal(faultsIn(s, child, out.ranges.get(child)!), 2048, 'the exec\'d child\'s pages once');
  assert.equal(s.end?.dropped, 0);
  r.cleanup();
});

test('a daemon (setsid, double fork, no environment) is killed when the session closes, and the cgroup is removed', { skip }, async () => {
  const collector = await Collector.start({ snapshots: false });
  const target = TracedProcess.launch({ command: compileC(FIXTURE), args: ['daemon'], collector, stdio: 'pipe' });
  let stdout = '';
  const daemonLine = new Promise<void>((res) => target.on('stdout', (d: Buffer) => { stdout += d.toString(); if (/^cgroup daemon .*\n/m.test(stdout)) res(); }));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([daemonLine, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`no daemon line: ${stdout}`)), 10_000); })]);
  clearTimeout(timer);
  assert.deepEqual(await target.exited, { code: 0, signal: null });
  const daemon = parseOutput(stdout).cgroups.get('daemon')!;
  const session = cgroupDir(sessionOf(daemon.path)), leaf = cgroupDir(daemon.path);
  assert.ok(isRunning(daemon.pid), 'the daemon outlives its program');
  assert.ok(existsSync(session), `${session} exists while the session runs`);
  await collector.close(); // no target.stop(): the session's end alone must take the daemon
  assert.equal(isRunning(daemon.pid), false, `daemon ${daemon.pid} still running`);
  assert.equal(existsSync(session), false, `${session} left behind`);
  assert.equal(existsSync(leaf), false, `${leaf} left behind`);
  assert.deepEqual(collector.notes.filter((n) => /cgroup/.test(n.message)), []);
  const conn = collector.store.connections().find((c) => c.pid === daemon.pid);
  assert.ok(conn, 'the daemon was traced');
  assert.match(collector.store.closed.get(conn.conn)?.reason ?? '', /without BYE/, 'its connection ended with it');
});

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
  const collector = await Collector.start({ snapshots: false });
  assert.match(collector.envFor().IPCSCOPE!, /;cgroup=/);
  assert.equal(existsSync(stale), false, `${stale} left behind`);
  assert.equal(existsSync(staleLeaf), false, `${staleLeaf} left behind`);
  await collector.close();
});
