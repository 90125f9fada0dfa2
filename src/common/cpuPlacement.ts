// Keeps the collector's own process off the CPUs a traced program is pinned to, as the shim keeps each program's
// sender thread off them (native/src/runtime.c, sender_place): under `ipcscope record -- taskset -c 0 prog` the
// collector's threads (the event loop, V8's garbage collector, libuv's pool) would otherwise now and then run on CPU 0
// and preempt the program (pinned pipe ping-pong, live collector: +100 ns per round trip of ~5 µs). Only for a
// process of our own (the CLI, benchmarks): an extension host is shared with other extensions and is never moved.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The CPUs a list like "0-2,5" names (the kernel's Cpus_allowed_list format). */
export function parseCpuList(list: string): Set<number> {
  const s = new Set<number>();
  for (const part of list.trim().split(',').filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`not a CPU list: ${JSON.stringify(list)}`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) s.add(c);
  }
  return s;
}

/** The kernel's format of a CPU set: ascending, runs joined ("0-2,5"). */
export function formatCpuList(cpus: Iterable<number>): string {
  const xs = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length;) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j === i ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The CPUs a process's main thread may run on (/proc/PID/status), or undefined when it is gone or unreadable. */
export function cpusAllowed(pid: number | 'self'): Set<number> | undefined {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? parseCpuList(m[1]) : undefined;
  } catch { return undefined; }
}

export class CpuPlacement {
  /** Where this process could run when we started: what we give back. */
  readonly own: ReadonlySet<number>;
  private applied: string;
  private readonly programs = new Map<number, Set<number>>();
  private failed = false;

  /** `note` hears, once, why the process could not be moved. */
  constructor(private readonly note: (message: string) => void) {
    this.own = cpusAllowed('self') ?? new Set();
    this.applied = formatCpuList(this.own);
  }

  /** A traced process said HELLO: if it is pinned to fewer CPUs than we have, move off them. */
  programStarted(pid: number): void {
    const cpus = cpusAllowed(pid);
    if (!cpus) return;
    this.programs.set(pid, cpus);
    this.apply();
  }

  /** Its connection ended. */
  programEnded(pid: number): void {
    if (this.programs.delete(pid)) this.apply();
  }

  /** Back to every CPU we started with (before launching another program, which would inherit our mask, and at the
   *  end). The programs seen so far count again at their next HELLO. */
  restore(): void {
    this.programs.clear();
    this.set(formatCpuList(this.own));
  }

  /** Our CPUs minus every live program's; all of ours when that leaves none. */
  private apply(): void {
    const taken = new Set<number>();
    for (const cpus of this.programs.values()) for (const c of cpus) taken.add(c);
    const free = [...this.own].filter((c) => !taken.has(c));
    this.set(formatCpuList(free.length ? free : this.own));
  }

  private set(list: string): void {
    if (list === this.applied || !list || this.failed) return;
    // Node has no sched_setaffinity: util-linux's taskset sets every thread of ours (-a); threads made later inherit it.
    const r = spawnSync('taskset', ['-a', '-p', '-c', list, String(process.pid)], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status === 0) { this.applied = list; return; }
    this.failed = true;
    this.note(`the collector stays on every CPU: taskset -a -p -c ${list} failed (${r.error?.message ?? r.stderr.trim()})`);
  }
}
