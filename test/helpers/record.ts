// Shared test helpers: record a real program with the real CLI and the real shim, and pick events out of the trace.
//
//   import { recordProgram, compileC, events, arg, blobText, requireShim } from '../helpers/record';
//
//   const bin = compileC('test/fixtures/record/pipe_parent_child.c');      // gcc into a temp dir, returns the binary path
//   const r = await recordProgram(bin, ['3']);                             // node out/cli/ipcscope.js record -- bin 3
//   r.exit        // { code, signal, status } of `ipcscope record` (status = CMD's status, 128+sig when killed)
//   r.stderr      // everything ipcscope and the program wrote to stderr (the summary is at the end)
//   r.stdout      // the program's stdout
//   r.store       // the trace read back with readTraceFile (EventStore: count, get(i), kindAt(i), argAt(i, j), …)
//   r.tracePath   // the .ipctrace (in a temp dir, removed by r.cleanup())
//   events(r.store, 'write', { pid, phase: 'end' })   // TraceEvent[] of one kind, optionally filtered
//   arg(ev, 'write', 'ino')                            // an argument by name (bigint)
//
// Options: cwd, env (added to the environment), recordArgs (e.g. ['--no-page-faults']), stdin (string written
// then closed), timeoutMs (default 30 s; the whole tree is killed then and the promise rejects), signalAfterMs + signal
// (send a signal to `ipcscope record` itself after a delay: tests of interruption).
// A run that wrote no trace file (command not found) gives an empty store whose cutOff says so.
// The CLI must have been built (node esbuild.mjs cli; npm test does it) and the shim linked (make -C native).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { EventStore } from '../../src/common/store';
import type { TraceEvent } from '../../src/common/traceEvent';
import { readTraceFile } from '../../src/common/traceFile';
import { argIndex, kindByName, kindId, PHASE, enumValue, type EnumName } from '../../src/common/vocabulary';

/** The repository root (tests run from out/test/**, sources sit in test/**). */
export const ROOT = (() => {
  let d = __dirname;
  while (!existsSync(join(d, 'package.json')) || !existsSync(join(d, 'src/common/events.json'))) {
    const up = resolve(d, '..');
    if (up === d) throw new Error(`no repository root above ${__dirname}`);
    d = up;
  }
  return d;
})();
export const CLI = join(ROOT, 'out/cli/ipcscope.js');
export const SHIM = join(ROOT, 'native/build/libipcscope.so');

/** Why the real-program tests cannot run here (shim or CLI not built), or undefined; use as `{ skip: whyNoShim() }`. */
export function whyNoShim(): string | undefined {
  if (!existsSync(SHIM)) return `${SHIM} is not built (make -C native)`;
  if (!existsSync(CLI)) return `${CLI} is not built (node esbuild.mjs cli)`;
  return undefined;
}

let scratch: string | undefined;
/** A temp directory for this test process, removed at exit. */
export function tempDir(): string {
  if (!scratch) {
    scratch = mkdtempSync(join(tmpdir(), 'ipcscope-test-'));
    const dir = scratch;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}

/** Compiles a C file (path relative to the repo root or absolute) with gcc into the temp dir; returns the binary. */
export function compileC(src: string, opts: { out?: string; flags?: string[] } = {}): string {
  const abs = resolve(ROOT, src);
  const out = join(tempDir(), opts.out ?? basename(abs).replace(/\.c$/, ''));
  execFileSync('gcc', ['-std=gnu11', '-O1', '-g', '-Wall', '-D_GNU_SOURCE', '-pthread', '-o', out, abs, '-lrt', ...(opts.flags ?? [])], { stdio: 'pipe' });
  return out;
}

export interface RecordOptions {
  cwd?: string; env?: NodeJS.ProcessEnv; recordArgs?: string[]; stdin?: string; timeoutMs?: number;
  signalAfterMs?: number; signal?: NodeJS.Signals; out?: string;
  /** Send `signal` (SIGINT) to `ipcscope record` once the program's stdout matches this. */
  signalOnStdout?: RegExp;
  /** Called with the pid of `ipcscope record` once it started. */
  onSpawn?: (pid: number) => void;
}
export interface RecordResult {
  exit: { code: number | null; signal: string | null; status: number };
  stdout: string; stderr: string; store: EventStore; tracePath: string; cleanup(): void;
}

let counter = 0;
/** Runs `node out/cli/ipcscope.js record --out <tmp> [recordArgs] -- cmd args…` and reads the trace back. */
export async function recordProgram(cmd: string, args: string[] = [], opts: RecordOptions = {}): Promise<RecordResult> {
  const tracePath = opts.out ?? join(tempDir(), `trace-${process.pid}-${++counter}.ipctrace`);
  const child = spawn(process.execPath, [CLI, 'record', '--out', tracePath, ...(opts.recordArgs ?? []), '--', cmd, ...args], {
    cwd: opts.cwd ?? tempDir(), env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  opts.onSpawn?.(child.pid!);
  let stdout = '', stderr = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (opts.signalOnStdout && !signalled && opts.signalOnStdout.test(stdout)) { signalled = true; child.kill(opts.signal ?? 'SIGINT'); }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  child.stdin.on('error', () => undefined);
  if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
  child.stdin.end();
  const timers: NodeJS.Timeout[] = [];
  if (opts.signalAfterMs !== undefined) timers.push(setTimeout(() => child.kill(opts.signal ?? 'SIGINT'), opts.signalAfterMs));
  let timedOut = false;
  timers.push(setTimeout(() => { timedOut = true; child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 3000).unref(); }, opts.timeoutMs ?? 30_000));
  const [code, signal] = await new Promise<[number | null, string | null]>((res) => child.on('close', (c, s) => res([c, s])));
  timers.forEach(clearTimeout);
  if (timedOut) throw new Error(`ipcscope record ${cmd} timed out after ${opts.timeoutMs ?? 30_000} ms; stderr:\n${stderr}`);
  let store: EventStore;
  if (existsSync(tracePath)) store = await readTraceFile(tracePath);
  else { store = new EventStore(); store.cutOff = 'no trace file was written'; }
  return {
    exit: { code, signal, status: code ?? 128 }, stdout, stderr, store, tracePath,
    cleanup: () => rmSync(tracePath, { force: true }),
  };
}

export interface EventFilter {
  pid?: number; tid?: number; phase?: keyof typeof PHASE;
  /** Argument values by name (numbers, bigints, or enum value names for enum arguments). */
  args?: Record<string, number | bigint | string>;
}

/** All events of one kind (arrival order), filtered. */
export function events(store: EventStore, kind: string, f: EventFilter = {}): TraceEvent[] {
  const k = kindId(kind);
  const out: TraceEvent[] = [];
  for (let i = 0; i < store.count; i++) {
    if (store.kindAt(i) !== k) continue;
    if (f.phase !== undefined && store.phaseAt(i) !== PHASE[f.phase]) continue;
    if (f.pid !== undefined && store.pidAt(i) !== f.pid) continue;
    if (f.tid !== undefined && store.tidAt(i) !== f.tid) continue;
    const ev = store.get(i);
    if (f.args && !Object.entries(f.args).every(([name, want]) => argMatches(ev, kind, name, want))) continue;
    out.push(ev);
  }
  return out;
}

function argMatches(ev: TraceEvent, kind: string, name: string, want: number | bigint | string): boolean {
  const v = arg(ev, kind, name);
  if (typeof want === 'string') {
    // enum arguments: look the name up in the kind's enumeration
    const e = enumOf(kind, name);
    return v === BigInt(enumValue(e, want));
  }
  return v === BigInt(want);
}

function enumOf(kind: string, name: string): EnumName {
  const info = kindByName(kind)!;
  const e = info.argEnums[info.args.indexOf(name)];
  if (!e) throw new Error(`argument ${kind}.${name} is not an enumeration`);
  return e as EnumName;
}

/** Argument `name` of an event of kind `kind` (bigint, unsigned as on the wire). */
export function arg(ev: TraceEvent, kind: string, name: string): bigint {
  return ev.args[argIndex(kind, name)];
}

/** Blob as UTF-8 text. */
export function blobText(ev: TraceEvent): string {
  return ev.blob ? Buffer.from(ev.blob).toString('utf8') : '';
}

/** The pid of the recorded command itself (the first process image that connected). */
export function rootPid(store: EventStore): number {
  const c = store.connections()[0];
  if (!c) throw new Error('the trace has no process: did the shim connect?');
  return c.pid;
}

/** pids of the trace's process images, in connection order, with their argv. */
export function processes(store: EventStore): { pid: number; ppid: number; origin: string; argv: readonly string[] }[] {
  return store.connections().map((c) => ({ pid: c.pid, ppid: c.ppid, origin: c.origin, argv: c.argv }));
}
