// Shared by test/integration/demo*.test.ts: build the demos, record one (or one part of one) with the real
// `ipcscope record` and the real shim, and hand back the trace with the trace model run over it.
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, arg, blobText, events, recordProgram, whyNoShim, type EventFilter, type RecordOptions, type RecordResult } from '../helpers/record';
import type { TraceEvent } from '../../src/common/traceEvent';
import { TraceModel, summarize, type Flow, type FlowKind, type Summary, type ProcessInfo } from '../../src/common/model';

export const DEMOS = join(ROOT, 'demos');

/** The real python3 binary: a version-manager shim (pyenv's is a bash script that forks a dozen helpers) would
 * bury the demo's processes in its own; its directory goes first in PATH for the recorded run. */
const PYTHON = (() => {
  try { return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim(); } catch { return 'python3'; }
})();
const PATH = `${dirname(PYTHON)}:${process.env.PATH ?? ''}`;

export interface DemoManifest {
  id: string; topic: string; title: { en: string; ko: string };
  run: { command: string[]; cwd: string };
  observation: { en: string; ko: string };
  panel: string;
  stopAt: { file: string; line: number; why: { en: string; ko: string } };
  long: boolean;
  parts?: { id: string; title: { en: string; ko: string }; command: string[]; long?: boolean }[];
}

export function demoIds(): string[] {
  return readdirSync(DEMOS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(DEMOS, d.name, 'demo.json'))).map((d) => d.name).sort();
}

export function manifest(id: string): DemoManifest {
  return JSON.parse(readFileSync(join(DEMOS, id, 'demo.json'), 'utf8')) as DemoManifest;
}

/** The command of part `partId` of demo `id` (throws on a typo, so a renamed part fails loudly). */
export function partCommand(id: string, partId: string): string[] {
  const p = manifest(id).parts?.find((x) => x.id === partId);
  if (!p) throw new Error(`demo ${id} has no part ${partId}`);
  return p.command;
}

let built = false;
/** `make -C demos`, once per test process; serialized across processes (two test files may build at once). */
export function buildDemos(): void {
  if (built) return;
  execFileSync('flock', ['/tmp/ipcscope-demos-make.lock', 'make', '-s', '-C', DEMOS], { stdio: 'pipe' });
  built = true;
}

/** Why the demo tests cannot run here (no shim, no CLI), or undefined. */
export function whyNoDemos(): string | undefined { return whyNoShim(); }

/** Long demos (and long parts) run only when IPCSCOPE_LONG_DEMOS=1 (.ci/run-style full runs). */
export const LONG = process.env.IPCSCOPE_LONG_DEMOS === '1';

export interface DemoRun extends RecordResult { model: TraceModel; summary: Summary }

let tags = 0;

export interface DemoRecordOptions extends RecordOptions {
  /** Sample page faults and take page-table snapshots (default: only for the memory demos). They are most of the
   * events of a trace; a demo about locks or sockets does not need them, and a busy machine then drops fewer events. */
  pages?: boolean;
}

/** Records `command` (argv) from the demo's folder and runs the trace model over the trace. */
export async function recordDemo(id: string, command: string[], opts: DemoRecordOptions = {}): Promise<DemoRun> {
  buildDemos();
  const cmd = command[0] === 'python3' ? PYTHON : command[0];
  const pages = opts.pages ?? manifest(id).topic === 'memory';
  const recordArgs = [...(pages ? [] : ['--no-page-faults', '--no-snapshots']), ...(opts.recordArgs ?? [])];
  // A tag of our own on the demos' named IPC objects (demos/include/demo.h): other test runs on this machine may be
  // recording the same demo right now.
  const tag = `-t${process.pid}-${++tags}`;
  const r = await recordProgram(cmd, command.slice(1), { cwd: join(DEMOS, id), timeoutMs: 60_000, ...opts, recordArgs, env: { PATH, IPCSCOPE_DEMO_TAG: tag, ...opts.env } });
  const model = new TraceModel(r.store);
  model.update({ flush: true });
  return Object.assign(r, { model, summary: summarize(model, { callSites: false }) });
}

/** Processes whose argv matches (any argv element ends with `name`). */
export function procs(run: DemoRun, name: string): ProcessInfo[] {
  return [...run.model.processes.values()].filter((p) => p.argv.some((a) => a === name || a.endsWith('/' + name)));
}

/** The one process whose argv matches and whose parent's does not (a forked copy of it is not a second match). */
export function proc(run: DemoRun, name: string): ProcessInfo {
  const all = procs(run, name);
  const pids = new Set(all.map((p) => p.pid));
  const found = all.filter((p) => !pids.has(p.ppid));
  if (found.length !== 1) throw new Error(`expected one process '${name}', found ${found.length}: ${describeProcesses(run)}`);
  return found[0];
}

/** Forked copies of `parent` (children running the same argv). */
export function forkedChildren(run: DemoRun, parent: ProcessInfo): ProcessInfo[] {
  return childrenOf(run, parent).filter((p) => p.argv.join('\0') === parent.argv.join('\0'));
}

/** The children of `parent` (by ppid). */
export function childrenOf(run: DemoRun, parent: ProcessInfo): ProcessInfo[] {
  return [...run.model.processes.values()].filter((p) => p.ppid === parent.pid && p.pid !== parent.pid);
}

export function describeProcesses(run: DemoRun): string {
  return [...run.model.processes.values()].map((p) => `${p.pid}<${p.ppid} [${p.argv.join(' ')}]`).join(', ');
}

/** A readable context for assertion messages: exit, the end of stderr (ipcscope's summary) and the processes. */
export function context(run: DemoRun): string {
  return `exit ${JSON.stringify(run.exit)}\nstdout:\n${run.stdout.slice(-1500)}\nstderr:\n${run.stderr.slice(-2500)}\nprocesses: ${describeProcesses(run)}`;
}

/** The shim_info notes of the trace (why page faults or frames are missing), for assertion messages. */
export function shimInfo(run: DemoRun): string {
  return [...new Set(events(run.store, 'shim_info').map((e) => `pid ${e.pid}: ${blobText(e)}`))].join('; ');
}

/** Events of one kind in the demo's trace (arrival order), filtered as in helpers/record.ts. */
export function evs(run: DemoRun, kind: string, f: EventFilter = {}): TraceEvent[] {
  return events(run.store, kind, f);
}
/** An argument as a JS number (fine for fds, sizes, signal numbers; not for addresses). */
export function num(e: TraceEvent, kind: string, name: string): number {
  return Number(BigInt.asIntN(64, arg(e, kind, name)));
}
export const byTime = (a: TraceEvent, b: TraceEvent): number => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.index - b.index);
export const ms = (ns: bigint): number => Number(ns / 1000n) / 1000;

/** Model flows of a kind, optionally between two pids. */
export function flows(run: DemoRun, kind: FlowKind, from?: number, to?: number): Flow[] {
  return run.model.flows.filter((f) => f.kind === kind && (from === undefined || f.from.pid === from) && (to === undefined || f.to.pid === to));
}
export const bytesOf = (fs: Flow[]): number => fs.reduce((s, f) => s + f.bytes, 0);

/** Successful read/write end events of a pid, summed. */
export function ioBytes(run: DemoRun, kind: 'read' | 'write', pid: number, pred: (e: TraceEvent) => boolean = () => true): number {
  return evs(run, kind, { pid }).filter((e) => e.phase !== 1 && e.err === 0 && e.result > 0n && pred(e)).reduce((s, e) => s + Number(e.result), 0);
}

export const EINTR = 4, EAGAIN = 11, EINVAL = 22;

/**
 * Inside a describe(): record `command` of demo `id` once (before), clean up after, and give the tests a getter.
 * Adds the first test: the demo itself ran correctly (exit status 0).
 */
export function recorded(id: string, command: string[], body: (run: () => DemoRun) => void, opts: DemoRecordOptions = {}): void {
  let r: DemoRun | undefined;
  before(async () => { r = await recordDemo(id, command, opts); });
  after(() => r?.cleanup());
  const get = (): DemoRun => { if (!r) throw new Error(`demo ${id} was not recorded`); return r; };
  test('the demo runs correctly under the tracer (exit status 0)', () => assert.equal(get().exit.code, 0, context(get())));
  body(get);
}

/**
 * The demo's whole `run` command (what the Demo Gallery's "Trace" action records) completes under `ipcscope record`:
 * exit status 0, every traced process ended in the trace, (almost) nothing dropped. Declared in each demo's own test
 * file, after its parts: tests of one file run one after another, and a demo's fixed IPC names (queues, semaphores,
 * shared-memory objects) must not be used by two runs at once.
 */
export function wholeRun(id: string): void {
  const m = manifest(id);
  describe(`${id}: the whole demo (${m.run.command.join(' ')})`, { skip: whyNoDemos() ?? (m.long && !LONG ? 'long demo: set IPCSCOPE_LONG_DEMOS=1' : undefined), timeout: 180_000 }, () => {
    recorded(id, m.run.command, (run) => {
      test('every traced process ended in the trace, and few events were dropped (and those counted)', () => {
        const r = run();
        const open = [...r.model.processes.values()].filter((p) => p.endNs === undefined);
        assert.deepEqual(open.map((p) => `${p.pid} ${p.argv.join(' ')}`), [], 'processes without an end');
        // A busy machine makes the shim drop events under back-pressure; it counts them (never silently).
        assert.ok(r.summary.dropped <= r.summary.events / 10, `${r.summary.dropped} of ${r.summary.events} events dropped`);
        if (r.summary.dropped) console.log(`# ${id}: ${r.summary.dropped} of ${r.summary.events} events dropped`);
      });
    }, { timeoutMs: 170_000 });
  });
}
