// `npm run bench:overhead` (after overhead.ts): what stepping support costs when nothing stops, side by side in one
// run. An uncontended mutex lock/unlock loop (bench/fixtures/mutex_loop.c), pinned with taskset -c 0, traced with a
// live collector: pause=0 (stepping off) / pause=1 with nothing to stop (the debug adapter's idle state: the branch
// is not armed) / pause=1 with a breakpoint on a kind this loop never makes (armed: every call takes the slow path
// and does not stop). Each figure is the median of interleaved runs; unpinned figures follow.
// Environment: IPCSCOPE_BENCH_QUICK=1 shrinks the runs tenfold.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Collector } from '../src/common/collector';
import { TracedProcess } from '../src/common/launcher';
import { kindId } from '../src/common/vocabulary';
import type { ConnectionInfo } from '../src/common/traceEvent';

const quick = process.env.IPCSCOPE_BENCH_QUICK === '1';
const PAIRS = quick ? 200_000 : 2_000_000;
const REPEATS = 5;
const root = (() => { let d = __dirname; while (!existsSync(join(d, 'package.json'))) d = resolve(d, '..'); return d; })();
const work = mkdtempSync(join(tmpdir(), 'ipcscope-bench-pause-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Mode = 'off' | 'idle' | 'armed';
let armedRuns = 0; // connections (taskset's image and the loop's) that acknowledged set_breakpoints
async function run(bin: string, mode: Mode, pin: boolean): Promise<number> {
  const collector = await Collector.start({ pageFaults: false, snapshots: false });
  if (mode !== 'off') {
    const envFor = collector.envFor.bind(collector);
    collector.envFor = (extra?: NodeJS.ProcessEnv) => { const e = envFor(extra); e.IPCSCOPE = e.IPCSCOPE!.replace('pause=0', 'pause=1'); return e; };
  }
  let armedReply: Promise<unknown> = Promise.resolve();
  if (mode === 'armed') {
    // A kind the loop never makes (mq_send): every traced call runs the slow path's checks and goes on.
    const k = kindId('mq_send');
    collector.on('connection', (c: ConnectionInfo) => {
      armedReply = collector.sendCommand(c.conn, 'set_breakpoints', [1n, BigInt(k >> 6), 1n << BigInt(k & 63)]).then((r) => { if (r.status === 0) armedRuns++; }, () => undefined);
    });
  }
  const cmd = [...(pin ? ['taskset', '-c', '0'] : []), bin, '1', String(PAIRS)];
  // The loop does not wait for the command: the run is long enough that its first milliseconds unarmed do not matter.
  const p = TracedProcess.launch({ command: cmd[0], args: cmd.slice(1), collector, stdio: 'pipe' });
  let out = '';
  p.on('stdout', (d: Buffer) => { out += d.toString(); });
  const x = await p.exited;
  await armedReply.catch(() => undefined);
  await collector.close();
  if (x.code !== 0) throw new Error(`mutex_loop exited ${x.code ?? x.signal}`);
  return parseFloat(out);
}

async function main(): Promise<void> {
  const bin = join(work, 'mutex_loop');
  execFileSync('gcc', ['-O2', '-pthread', '-o', bin, join(root, 'bench/fixtures/mutex_loop.c')], { stdio: 'inherit' });
  console.log(`\nStepping support when nothing stops: mutex lock/unlock, ${PAIRS} pairs, traced with a live collector`);
  for (const pin of [true, false]) {
    const r: Record<Mode, number[]> = { off: [], idle: [], armed: [] };
    for (let i = 0; i < REPEATS; i++) for (const m of ['off', 'idle', 'armed'] as Mode[]) r[m].push(await run(bin, m, pin));
    const off = median(r.off), idle = median(r.idle), armed = median(r.armed);
    const label = pin ? 'pinned (taskset -c 0)' : 'unpinned';
    console.log(`  ${label}`);
    console.log(`    pause=0 (stepping off)                     ${off.toFixed(2)} ns/pair`);
    console.log(`    pause=1, nothing to stop (not armed)       ${idle.toFixed(2)} ns/pair  ${(idle / off).toFixed(3)}x  ${(idle - off >= 0 ? '+' : '')}${(idle - off).toFixed(2)} ns`);
    console.log(`    pause=1, breakpoint on another kind (armed) ${armed.toFixed(2)} ns/pair  ${(armed / off).toFixed(3)}x  ${(armed - off >= 0 ? '+' : '')}${(armed - off).toFixed(2)} ns  (set_breakpoints acknowledged by ${armedRuns} connections in ${REPEATS} runs)`);
    armedRuns = 0;
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
