// A session's cgroup: at root the shim samples page faults per CPU for every task, each sample filtered by a BPF
// program (native/src/perf.c), and the session's cgroup holds whatever the program starts, so that at the session's
// end everything still in it is killed and the directories are removed: nothing outlives the session, whatever it
// did to leave its process group. Two kinds:
//  - v2 (the `bpf` and `cgroup` fault scopes): the collector makes it under its own cgroup v2; the first image of
//    each traced process tree makes its leaf `<session>-i<pid>-<ns>` beside it (not below: each cgroup level above a
//    task costs every context switch), where its fork children and exec'd images stay; the filter keeps the samples
//    of tasks in the leaf (cgroup.kill at the end).
//  - freezer (the `pid` scope, where a cgroup v1 freezer hierarchy is mounted): the tree moves into the session's
//    freezer cgroup and stays in its cgroup v2 (at the root, where the rest of the machine runs: a v2 leaf cost a
//    pinned pipe ping-pong ~140 ns per round trip there, a v1 cgroup nothing); the filter keeps the samples of the
//    tree's processes by pid (frozen, killed and thawed at the end).
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Environment variable: how page faults are sampled at root. `pid`: per CPU for every task with a BPF filter on the
 * tree's pids, the tree in a freezer cgroup; `bpf`: per CPU for every task with a BPF filter on the tree's v2 leaf;
 * unset: `pid` where it can be had (a v1 freezer hierarchy, the kernel's BTF), else `bpf`; `cgroup`: as cgroup events
 * on the leaf; `task`: per task even at root (no session cgroup). native/src/perf.c says what each costs the program
 * and the rest of the machine. Benchmarks and tests compare them. */
export const FAULT_SCOPE_ENV = 'IPCSCOPE_FAULT_SCOPE';

export type CgroupKind = 'v2' | 'freezer';

/** Undoes the octal escapes /proc/self/mountinfo uses for space, tab, newline and backslash. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The first cgroup2 mount (kind v2) or cgroup v1 mount with the freezer controller (kind freezer) in a mountinfo
 * text: where it is mounted and which cgroup is its root. */
export function cgroup2Mount(mountinfo: string, kind: CgroupKind = 'v2'): { mountPoint: string; root: string } | undefined {
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const [fsType, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if (kind === 'v2' ? fsType !== 'cgroup2' : fsType !== 'cgroup' || !superOpts.split(',').includes('freezer')) continue;
    const f = line.slice(0, sep).split(' ');
    if (f.length < 5) continue;
    return { root: unescapeMountField(f[3]), mountPoint: unescapeMountField(f[4]) };
  }
  return undefined;
}

/** The cgroup v2 path of this process (the `0::` line of /proc/self/cgroup; kind freezer: the v1 line naming the
 * freezer controller), or undefined. */
export function ownCgroupPath(procSelfCgroup: string, kind: CgroupKind = 'v2'): string | undefined {
  for (const l of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(l);
    if (m && (kind === 'v2' ? l.startsWith('0::') : m[1].split(',').includes('freezer'))) return m[2];
  }
  return undefined;
}

/** The cgroup directory (v2, or v1 freezer) this process is in, or why there is none. */
export function ownCgroupDir(kind: CgroupKind = 'v2'): { dir: string } | { why: string } {
  let mountinfo: string, self: string;
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    self = readFileSync('/proc/self/cgroup', 'utf8');
  } catch (e) { return { why: `cannot read /proc/self: ${(e as Error).message}` }; }
  const m = cgroup2Mount(mountinfo, kind);
  if (!m) return { why: kind === 'v2' ? 'no cgroup2 file system is mounted' : 'no cgroup v1 freezer hierarchy is mounted' };
  const path = ownCgroupPath(self, kind);
  if (path === undefined) return { why: kind === 'v2' ? 'this process is in no cgroup v2 (no "0::" line in /proc/self/cgroup)' : 'this process is in no freezer cgroup' };
  // The mount shows the hierarchy from `root` down; a path outside it (another namespace's view) is not reachable.
  const root = m.root === '/' ? '' : m.root;
  if (root && path !== root && !path.startsWith(`${root}/`)) return { why: `our cgroup ${path} is outside the cgroup2 mount at ${m.mountPoint}` };
  const rel = path.slice(root.length).replace(/ \(deleted\)$/, '');
  return { dir: join(m.mountPoint, rel) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Every directory below `dir`, deepest first. */
function subdirs(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return out; }
  for (const e of entries) if (e.isDirectory()) { out.push(...subdirs(join(dir, e.name)), join(dir, e.name)); }
  return out;
}

/** The pids in the cgroup `dir` itself (cgroup.procs). */
function procsOf(dir: string): number[] {
  try { return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number); } catch { return []; }
}

/** Whether any process is in the cgroup `dir` or below it (v2: `populated 1` in cgroup.events; v1 has no such file:
 * any pid in its cgroup.procs or its subdirectories'). */
function isPopulated(dir: string): boolean {
  try { return /^populated 1$/m.test(readFileSync(join(dir, 'cgroup.events'), 'utf8')); } catch { /* v1, or gone */ }
  if (!existsSync(join(dir, 'freezer.state'))) return false;
  return [dir, ...subdirs(dir)].some((d) => procsOf(d).length > 0);
}

/**
 * Removes the empty session cgroups and leaves of collectors that died without closing (SIGKILL):
 * `ipcscope-<pid>-<hex>` and `ipcscope-<pid>-<hex>-i<pid>-<ns>` beside ours whose collector pid is gone. One with
 * processes still in it is left alone: they are not ours to kill.
 */
function sweepStale(parent: string): void {
  let names: string[];
  try { names = readdirSync(parent); } catch { return; }
  for (const name of names) {
    const m = /^ipcscope-(\d+)-[0-9a-f]+(?:-i\d+-\d+)?$/.exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    const dir = join(parent, name);
    if (!existsSync(join(dir, 'cgroup.events')) && !existsSync(join(dir, 'freezer.state'))) continue;
    if (isPopulated(dir)) continue;
    for (const d of [...subdirs(dir), dir]) try { rmdirSync(d); } catch { /* busy or gone: leave it */ }
  }
}

export class SessionCgroup {
  private constructor(readonly dir: string, readonly kind: CgroupKind) {}

  /**
   * Makes `<our cgroup>/ipcscope-<pid>-<random hex>` (in cgroup v2, or in the v1 freezer hierarchy) when we are root
   * and may, else says why not. Synchronous: the collector makes it while building a target's environment.
   */
  static create(kind: CgroupKind = 'v2'): { cgroup: SessionCgroup } | { why: string } {
    if (process.getuid?.() !== 0) return { why: 'not root (cgroup perf events need CAP_PERFMON, cgroup directories need root)' };
    const own = ownCgroupDir(kind);
    if ('why' in own) return own;
    sweepStale(own.dir);
    const dir = join(own.dir, `ipcscope-${process.pid}-${randomBytes(6).toString('hex')}`);
    // The shim reads its configuration as `key=value;…`: a path with ';' could not be passed.
    if (dir.includes(';')) return { why: `the cgroup path ${dir} contains ';'` };
    try {
      accessSync(own.dir, constants.W_OK);
      mkdirSync(dir);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { why: `cannot make a cgroup under ${own.dir} (${err.code ?? err.message})` };
    }
    return { cgroup: new SessionCgroup(dir, kind) };
  }

  /** The session's cgroup and its images' leaves beside it, each with whatever cgroups a program made below it;
   * deepest first, the session's own directory last. */
  private dirs(): string[] {
    if (this.kind === 'freezer') return [...subdirs(this.dir), this.dir]; // the tree is in it: no leaves
    const parent = dirname(this.dir), prefix = `${basename(this.dir)}-i`;
    let names: string[] = [];
    try { names = readdirSync(parent); } catch { /* gone */ }
    const out: string[] = [];
    for (const n of names) if (n.startsWith(prefix)) out.push(...subdirs(join(parent, n)), join(parent, n));
    out.push(...subdirs(this.dir), this.dir);
    return out;
  }

  /** Whether any process is in the session's cgroup or its leaves. */
  populated(): boolean { return this.dirs().some(isPopulated); }

  /**
   * Kills whatever is still in the session's cgroup and leaves (cgroup.kill, Linux 5.14), waits (up to `waitMs`) until
   * they are empty, and removes the directories. Returns the problems met, empty when all are gone.
   */
  async remove(waitMs = 2000): Promise<string[]> {
    const problems: string[] = [];
    const deadline = Date.now() + waitMs;
    if (this.kind === 'freezer') await this.killFrozen(deadline, problems);
    // Until none is populated: a process that exec'd just before it was killed may have made a new leaf meanwhile.
    for (let killed = new Set<string>(); ;) {
      const live = this.dirs().filter(isPopulated);
      if (!live.length) break;
      if (Date.now() >= deadline) { problems.push(`processes still in it after ${waitMs} ms`); break; }
      for (const d of live) {
        if (killed.has(d)) continue; // cgroup.kill takes every process in it at once; wait for them to go
        killed.add(d);
        try { writeFileSync(join(d, 'cgroup.kill'), '1'); } catch (e) {
          // Before 5.14 there is no cgroup.kill: SIGKILL every pid listed instead.
          const err = e as NodeJS.ErrnoException;
          const why = `cgroup.kill: ${err.code ?? err.message}`;
          if (err.code !== 'ENOENT' && !problems.includes(why)) problems.push(why);
          killed.delete(d);
          let pids: string[] = [];
          try { pids = readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean); } catch { /* gone */ }
          for (const p of pids) try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
        }
      }
      await sleep(10);
    }
    for (const d of this.dirs()) {
      try { rmdirSync(d); } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'ENOENT') problems.push(`rmdir ${d}: ${err.code ?? err.message}`);
      }
    }
    return problems;
  }

  /** v1 freezer: freezes the cgroup (no process in it can fork or exit meanwhile), SIGKILLs every process in it and
   * below, and thaws it, so the signals are taken; again until it is empty or the time is up. */
  private async killFrozen(deadline: number, problems: string[]): Promise<void> {
    const state = join(this.dir, 'freezer.state');
    const write = (v: string) => {
      try { writeFileSync(state, v); } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const why = `freezer.state ${v}: ${err.code ?? err.message}`;
        if (err.code !== 'ENOENT' && !problems.includes(why)) problems.push(why);
      }
    };
    while (this.dirs().some(isPopulated) && Date.now() < deadline) {
      write('FROZEN');
      // FREEZING until every task has stopped (a task in an uninterruptible sleep holds it up): kill what is there anyway
      for (const until = Math.min(deadline, Date.now() + 200); Date.now() < until; await sleep(5)) {
        try { if (readFileSync(state, 'utf8').trim() === 'FROZEN') break; } catch { break; }
      }
      for (const d of this.dirs()) for (const pid of procsOf(d)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      write('THAWED');
      await sleep(10);
    }
  }
}
