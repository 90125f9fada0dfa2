// Keeping the collector off the CPUs a traced program is pinned to. The shim already runs each process's sender
// thread on the CPUs the program's affinity leaves out (native/src/runtime.c, sender_place); the collector (the CLI,
// the extension host, a benchmark) decodes and stores those events, and the scheduler put its threads on the
// program's CPU now and then: a pinned pipe ping-pong under `ipcscope record`, 9 interleaved runs each, 5837 ns per
// round trip with the collector free to run anywhere and 5754 with it on the other CPU (no page faults: 5718 vs 5655;
// untraced 5050). So while live traced images are pinned to some of the CPUs we may use, the collector's own process
// moves to the CPUs none of them is pinned to (unpinned images, such as a shell or `time` waiting for the pinned
// program, do not count), and goes back to its own CPUs when no pinned image is live and when the session closes.
// Node has no sched_setaffinity: util-linux's `taskset -a -p` sets it for every thread of a pid (threads made later
// inherit the mask of the thread that makes them). IPCSCOPE_COLLECTOR_CPUS=inherit turns this off.
// The price, left as it is: unlike the senders (which go back to the program's CPUs from 4 M events/s), the collector
// stays confined under heavy traffic, and falls behind a little there (pinned mutex loop, ~20 M events/s: 89..93 ns
// per lock/unlock pair left alone, 93..98 confined, 5 runs each, four times). Going home when it kept its confined
// CPUs busy (process.cpuUsage) did not win that back and sent it home during a ping-pong's start as well.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/** Environment variable: `inherit` leaves the collector's process on its own CPUs whatever the program's affinity. */
export const COLLECTOR_CPUS_ENV = 'IPCSCOPE_COLLECTOR_CPUS';

/** The CPUs a list like "0-2,5" (Cpus_allowed_list, /sys/devices/system/cpu/online) names; undefined if malformed. */
export function parseCpuList(list: string): Set<number> | undefined {
  const s = new Set<number>();
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 65536) return undefined;
    for (let c = a; c <= b; c++) s.add(c);
  }
  return s;
}

/** A set as the shortest list: "0-2,5". */
export function formatCpuList(cpus: Iterable<number>): string {
  const v = [...new Set(cpus)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < v.length;) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === v[j] + 1) j++;
    out.push(j === i ? `${v[i]}` : `${v[i]}-${v[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** PF_KTHREAD in the flags of /proc/PID/stat (include/linux/sched.h), for kernels without the status line. */
const PF_KTHREAD = 0x00200000;

/** Whether pid is a kernel thread: never a traced image, whatever a HELLO says (per-CPU kworkers are pinned). */
function isKernelThread(pid: number | 'self', status: string): boolean {
  const k = /^Kthread:\s*(\d)/m.exec(status); // Linux 6.8 and later
  if (k) return k[1] === '1';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return Number.isFinite(flags) && (flags & PF_KTHREAD) !== 0;
  } catch { return false; }
}

/** The Cpus_allowed_list of a process's main thread, or undefined (gone, unreadable, a kernel thread). */
export function cpusAllowed(pid: number | 'self'): Set<number> | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return undefined; }
  if (isKernelThread(pid, text)) return undefined;
  const m = /^Cpus_allowed_list:\s*(\S*)\s*$/m.exec(text);
  return m ? parseCpuList(m[1]) : undefined;
}

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find(existsSync);

/** Runs `taskset -a -p -c LIST PID` (a few ms; only when the placement changes); undefined or what went wrong. */
function setAffinity(pid: number, cpus: Set<number>): string | undefined {
  if (!TASKSET) return 'taskset (util-linux) is not installed';
  try {
    execFileSync(TASKSET, ['-a', '-p', '-c', formatCpuList(cpus), String(pid)], { timeout: 5000, stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return err.stderr?.toString().trim() || err.message;
  }
}

/** What every collector of this process wants (an extension host may run several sessions at once): the process runs
 *  on the CPUs all of them leave free, and on the CPUs it had before the first of them once the last is done. */
interface Shared { home: Set<number> | undefined; current: Set<number> | undefined; members: Set<CollectorCpus> }
let shared: Shared | undefined;

/**
 * The collector's side of CPU placement. `update(pids)` looks at the live traced images' affinities: if the images
 * pinned to a strict subset of the process's CPUs leave some out together, it asks for those; otherwise (none
 * pinned, or they cover every CPU) for all of them. The process runs on what every collector in it asks for (all of
 * its CPUs if that leaves none). A change is applied at once (synchronously: the collector calls this before it
 * welcomes a new image, so a pinned program's first round trips already have its CPU to themselves).
 */
export class CollectorCpus {
  private readonly shared: Shared;
  private wanted: Set<number> | undefined;
  private failedOnce = false;

  constructor(private readonly onNote: (level: 'info' | 'warning', message: string) => void, private readonly pid = process.pid) {
    if (!shared) {
      const home = cpusAllowed('self');
      shared = { home, current: home, members: new Set() };
    }
    this.shared = shared;
    this.shared.members.add(this);
    this.wanted = this.shared.home;
  }

  /** Whether the process pid may run on only some of our CPUs (gone or unreadable: no). */
  pinned(pid: number): boolean { return this.pinnedTo(pid) !== undefined; }
  /** The CPUs of pid if it is pinned (see pinned). */
  private pinnedTo(pid: number): Set<number> | undefined {
    const home = this.shared.home, c = cpusAllowed(pid);
    return home && c && [...home].some((x) => !c.has(x)) ? c : undefined;
  }
  /** Whether the process runs elsewhere than on its own CPUs now. */
  get moved(): boolean {
    const sh = this.shared;
    return Boolean(sh.home && sh.current && !sameSet(sh.home, sh.current));
  }

  /** The CPUs to run on given the live traced images' pids (pids that are gone are left out), and the CPUs those
   *  images may use. */
  want(pids: readonly number[]): { cpus: Set<number> | undefined; program: Set<number> } {
    const home = this.shared.home, program = new Set<number>();
    for (const pid of pids) {
      // Only pinned images count: an unpinned one (a `time` or shell waiting for the pinned program, a make) may run
      // anywhere, the CPUs we move to included.
      for (const x of this.pinnedTo(pid) ?? []) program.add(x);
    }
    if (!home || home.size < 2 || !program.size) return { cpus: home, program };
    const away = new Set([...home].filter((c) => !program.has(c)));
    // Every CPU of ours is one the program may run on, or the program's CPUs are not among ours: stay home.
    return { cpus: away.size && away.size < home.size ? away : home, program };
  }

  /** Moves the process if the live images call for it. */
  update(pids: readonly number[]): void {
    const { cpus, program } = this.want(pids);
    this.wanted = cpus;
    this.apply(program);
  }

  /** This collector is done: the process runs where the others ask, or back home when it was the last. */
  restore(): void {
    this.shared.members.delete(this);
    this.wanted = this.shared.home;
    this.apply(new Set());
    if (!this.shared.members.size && shared === this.shared) shared = undefined;
  }

  private apply(program: Set<number>): void {
    const sh = this.shared, home = sh.home;
    if (!home || !sh.current) return;
    let want = new Set(home);
    for (const m of sh.members) if (m.wanted) want = new Set([...want].filter((c) => m.wanted!.has(c)));
    if (!want.size) want = new Set(home);
    if (sameSet(want, sh.current)) return;
    const err = setAffinity(this.pid, want);
    if (err) {
      if (!this.failedOnce) this.onNote('warning', `could not move the collector to ${cpuWord(want)}: ${err}`);
      this.failedOnce = true;
      return;
    }
    sh.current = want;
    this.onNote('info', sameSet(want, home)
      ? `the collector runs on ${cpuWord(home)} again`
      : `${program.size ? `the traced program is pinned to ${cpuWord(program)}` : 'traced programs are pinned'}: ` +
        `the collector runs on ${cpuWord(want)} meanwhile (${COLLECTOR_CPUS_ENV}=inherit keeps it on ${formatCpuList(home)})`);
  }
}

function cpuWord(cpus: ReadonlySet<number>): string {
  return `${cpus.size === 1 ? 'CPU' : 'CPUs'} ${formatCpuList(cpus)}`;
}

function sameSet(a: ReadonlySet<number>, b: ReadonlySet<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
