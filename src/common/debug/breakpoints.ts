// Breakpoints for the ipcscope debug adapter: IPC function names → event kinds, conditions on a call's named
// arguments, exception filters, and source lines → the binary's address ranges (its DWARF line table through
// binutils' objdump). Plain Node: no vscode import.
import { execFileSync } from 'node:child_process';
import { basename, resolve as resolvePath } from 'node:path';
import { kindByName, kindById } from '../vocabulary';

/** Function breakpoint names that are not event kind names. */
const FUNCTION_ALIASES: Record<string, string> = {
  writev: 'write', pwrite: 'write', pwrite64: 'write', pwritev: 'write', send: 'write', sendto: 'write', sendmsg: 'write',
  sendmmsg: 'write', printf: 'write', fprintf: 'write', puts: 'write', fputs: 'write', fwrite: 'write', fflush: 'write',
  readv: 'read', pread: 'read', pread64: 'read', preadv: 'read', recv: 'read', recvfrom: 'read', recvmsg: 'read',
  recvmmsg: 'read', fgets: 'read', fread: 'read', getline: 'read', scanf: 'read',
  pthread_mutex_lock: 'mutex_lock', pthread_mutex_trylock: 'mutex_lock', pthread_mutex_timedlock: 'mutex_lock',
  pthread_mutex_unlock: 'mutex_unlock', pthread_cond_wait: 'cond_wait', pthread_cond_timedwait: 'cond_wait',
  pthread_cond_signal: 'cond_signal', pthread_cond_broadcast: 'cond_signal', pthread_spin_lock: 'spin_lock',
  pthread_rwlock_rdlock: 'rwlock_lock', pthread_rwlock_wrlock: 'rwlock_lock', pthread_rwlock_unlock: 'rwlock_unlock',
  sem_timedwait: 'sem_wait', sem_trywait: 'sem_wait', pipe2: 'pipe', accept4: 'accept', dup2: 'dup', dup3: 'dup',
  openat: 'open', creat: 'open', fopen: 'open', mq_timedsend: 'mq_send', mq_timedreceive: 'mq_receive',
  pselect: 'select', ppoll: 'poll', epoll_pwait: 'epoll_wait', mkfifoat: 'mkfifo', pthread_kill: 'tgkill',
};

/** The event kind a function breakpoint name stops at, or an error message. */
export function kindForFunction(name: string): { kind: number } | { error: string } {
  const n = name.trim();
  const k = kindByName(FUNCTION_ALIASES[n] ?? n) ?? kindByName(n.replace(/^pthread_/, ''));
  if (!k || k.cls === 'meta' || k.id >= 255) return { error: `${n} is not a traced IPC function` };
  return { kind: k.id };
}

/** Exception breakpoint filters (event classes). `shim` filters stop in the shim before the call; `watch` filters
 * stop every process as soon as the adapter sees the event (the thread stops at its next traced call). */
export interface ExceptionFilterDef { filter: string; label: string; description: string; kinds?: string[]; contended?: boolean; watch?: string[]; default?: boolean }
export const EXCEPTION_FILTERS: readonly ExceptionFilterDef[] = [
  { filter: 'signal', label: 'Signal delivered', description: 'Stop when a signal handler is entered', kinds: ['signal_handler'] },
  { filter: 'lockContended', label: 'Lock contended', description: 'Stop a thread that found a mutex held by another thread', contended: true },
  { filter: 'cow', label: 'Copy-on-write fault', description: 'Stop everything after a page fault on a private page that is copy-on-write shared', watch: ['page_fault'] },
  { filter: 'fork', label: 'Fork', description: 'Stop everything after a fork (the parent and the new child)', watch: ['fork'] },
  { filter: 'exec', label: 'Exec', description: 'Stop everything when a process executes a new program', watch: ['exec'] },
  { filter: 'exit', label: 'Process exit', description: 'Stop everything when a process calls exit', watch: ['exit', 'proc_exit'] },
  { filter: 'deadlock', label: 'Deadlock detected', description: 'Stop everything when the model finds a wait-for cycle', watch: [] },
];
/** The kind bit the shim uses for the "lock contended" filter (pause.c). */
export const CONTENDED_BIT = 255;

/** Kind bitmap (4 × 64 bits, as the shim's set_breakpoints op 1 takes them). */
export function kindWords(kinds: Iterable<number>): bigint[] {
  const w = [0n, 0n, 0n, 0n];
  for (const k of kinds) if (k >= 0 && k < 256) w[k >> 6] |= 1n << BigInt(k & 63);
  return w;
}

// ---- conditions: `fd == 4`, `bytes > 4096 && pid == child`, `sig == SIGUSR1` ----
export interface ConditionContext {
  /** Named arguments of the call (events.json names; `bytes` is an alias of count/result). */
  readonly args: ReadonlyMap<string, bigint>;
  readonly pid: number;
  readonly tid: number;
  /** The session's first process: `pid == child` means any other. */
  readonly rootPid: number;
}
type Cmp = '==' | '!=' | '<' | '<=' | '>' | '>=';
interface Clause { name: string; op: Cmp; value: string }
export class Condition {
  private constructor(readonly text: string, private readonly clauses: Clause[]) {}
  /** Parses a condition or throws an Error that says what is wrong with it. */
  static parse(text: string): Condition {
    const clauses: Clause[] = [];
    for (const part of text.split('&&')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|<|>)\s*([A-Za-z0-9_x-]+)\s*$/.exec(part);
      if (!m) throw new Error(`cannot read condition '${part.trim()}': write NAME OP VALUE (fd == 4, bytes > 4096, pid == child), joined by &&`);
      clauses.push({ name: m[1], op: m[2] as Cmp, value: m[3] });
    }
    return new Condition(text, clauses);
  }
  /** true / false, or undefined when an argument the condition names is not known for this call. */
  test(c: ConditionContext): boolean | undefined {
    for (const cl of this.clauses) {
      let left: bigint | undefined;
      if (cl.name === 'pid') left = BigInt(c.pid);
      else if (cl.name === 'tid') left = BigInt(c.tid);
      else left = c.args.get(cl.name) ?? (cl.name === 'bytes' ? c.args.get('count') : undefined);
      if (left === undefined) return undefined;
      let right: bigint;
      if (cl.name === 'pid' && (cl.value === 'child' || cl.value === 'parent' || cl.value === 'root')) {
        const isRoot = c.pid === c.rootPid;
        const want = cl.value === 'child' ? !isRoot : isRoot;
        const ok = cl.op === '==' ? want : cl.op === '!=' ? !want : undefined;
        if (ok === undefined) return undefined;
        if (!ok) return false;
        continue;
      }
      const sig = SIGNALS.indexOf(cl.value.toUpperCase());
      if (/^-?(0x[0-9a-f]+|\d+)$/i.test(cl.value)) right = cl.value.startsWith('-') ? -BigInt(cl.value.slice(1)) : BigInt(cl.value);
      else if (sig > 0) right = BigInt(sig);
      else return undefined;
      const l = BigInt.asIntN(64, left);
      const ok = cl.op === '==' ? l === right : cl.op === '!=' ? l !== right : cl.op === '<' ? l < right
        : cl.op === '<=' ? l <= right : cl.op === '>' ? l > right : l >= right;
      if (!ok) return false;
    }
    return true;
  }
}

export const SIGNALS = ['', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1',
  'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN',
  'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS'];
export function signalName(n: number): string { return SIGNALS[n] ?? (n >= 34 && n <= 64 ? `SIGRTMIN+${n - 34}` : `signal ${n}`); }

// ---- source lines → link-time address ranges ----
export interface LineRange { lo: bigint; hi: bigint }
export interface LineTable {
  readonly binary: string;
  /** file basename → line → ranges. */
  readonly byFile: Map<string, Map<number, LineRange[]>>;
  /** Full paths seen per basename (to tell two files of one name apart). */
  readonly paths: Map<string, Set<string>>;
}

/** Reads the decoded DWARF line table of `binary` (objdump --dwarf=decodedline). Throws with objdump's reason. */
export function readLineTable(binary: string, objdump = 'objdump'): LineTable {
  let text: string;
  try {
    text = execFileSync(objdump, ['--dwarf=decodedline', binary], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`cannot read the line table of ${binary}: ${(e as Error).message.split('\n')[0]}`);
  }
  // Rows: "file.c   12   0x1149   x" (file basename, line, address, optional view/stmt flag). Each row's range ends
  // at the next row's address within one sequence; "CU: path" lines name the compile unit's full path.
  const rows: { file: string; line: number; addr: bigint }[] = [];
  const paths = new Map<string, Set<string>>();
  let cuDir = '';
  for (const raw of text.split('\n')) {
    const cu = /^CU: (.*):$/.exec(raw.trim()) ?? /^(\/.*):$/.exec(raw.trim());
    if (cu) { cuDir = cu[1]; const b = basename(cuDir); if (!paths.has(b)) paths.set(b, new Set()); paths.get(b)!.add(cuDir); continue; }
    const m = /^(\S+)\s+(\d+|-)\s+(0x[0-9a-f]+)(?:\s+.*)?$/.exec(raw.trim());
    if (!m) { if (raw.trim() === '') rows.push({ file: '', line: 0, addr: -1n }); continue; }
    rows.push({ file: basename(m[1]), line: m[2] === '-' ? 0 : Number(m[2]), addr: BigInt(m[3]) });
  }
  const byFile = new Map<string, Map<number, LineRange[]>>();
  for (let i = 0; i + 1 < rows.length; i++) {
    const r = rows[i], n = rows[i + 1];
    if (!r.file || r.line <= 0 || n.addr < 0n || n.addr <= r.addr) continue;
    let f = byFile.get(r.file);
    if (!f) byFile.set(r.file, (f = new Map()));
    let l = f.get(r.line);
    if (!l) f.set(r.line, (l = []));
    l.push({ lo: r.addr, hi: n.addr });
  }
  return { binary: resolvePath(binary), byFile, paths };
}

/** Ranges for file:line; when the line has no code, the next line with code within 3 lines (as gdb does). */
export function rangesForLine(t: LineTable, file: string, line: number): { line: number; ranges: LineRange[] } | undefined {
  const f = t.byFile.get(basename(file));
  if (!f) return undefined;
  for (let l = line; l <= line + 3; l++) { const r = f.get(l); if (r && r.length) return { line: l, ranges: r }; }
  return undefined;
}

export function kindName(id: number): string { return kindById(id)?.name ?? `kind ${id}`; }
