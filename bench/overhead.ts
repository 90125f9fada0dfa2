// `npm run bench:overhead`: what tracing costs, measured side by side in one run, as ratios to the untraced program.
//  1. pipe ping-pong of 64-byte messages between two processes: untraced / our shim with a live collector (and a
//     trace file, as `ipcscope record` does) / strace -f / ltrace -f / LTTng-UST's pthread wrapper, pinned to one
//     core with taskset -c 0 and unpinned. Each figure is the median of runs interleaved with the untraced ones.
//     Rows without page faults, with page faults per task (IPCSCOPE_FAULT_SCOPE=task; at root the live row samples
//     them per CPU for every task with a BPF filter on the tree's pids where a v1 freezer hierarchy is mounted;
//     IPCSCOPE_FAULT_SCOPE=bpf with a BPF filter on the program's leaf cgroup; IPCSCOPE_FAULT_SCOPE=cgroup as
//     cgroup events on it), with the
//     file sink, with fixed records and with no tracer but the perf events the shim opens (per task; BPF-filtered on
//     pids; in a cgroup: none, cgroup events, BPF-filtered) show where the cost comes from. One row keeps the
//     shim's sender threads on the program's core (IPCSCOPE_SENDER_CPUS=inherit) instead of the CPUs it leaves out,
//     one leaves the collector (this process) to the scheduler (IPCSCOPE_COLLECTOR_CPUS=inherit) instead of moving it
//     off the program's CPU.
//  2. an uncontended pthread_mutex_lock/unlock loop: ns per pair untraced and traced, every acquisition recorded?
//     Beside it LTTng-UST's pthread wrapper recording into a session (liblttng-ust1 and lttng-tools, where
//     installed) and ltrace -f.
//  3. collector ingest: 8 threads locking flat out: events/s stored, drops, store bytes per event.
// Goals (the issue): ping-pong ≤ 1.10×, ≤ 100 ns added per mutex pair, ≥ 2 M events/s stored, ≤ 48 bytes/event.
//  4. the collector alone: real ws clients in another process sending pre-encoded EVENTS flat out (no shim).
//  5. at root: what a recording session costs other programs: their page faults and their context switches
//     (the BPF filter on pids or on a leaf against cgroup events).
// Environment: IPCSCOPE_BENCH_QUICK=1 shrinks every run tenfold (a smoke run); IPCSCOPE_BENCH_ONLY=pingpong,mutex,ingest,
// alone,elsewhere runs a subset.
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kernelTaskOffsets } from '../src/common/btf';
import { Collector } from '../src/common/collector';
import { shimPath, TracedProcess } from '../src/common/launcher';
import { kindId } from '../src/common/vocabulary';
import { EventStore } from '../src/common/store';
import WebSocket from 'ws';
import { encodeBye, encodeEventsBody, encodeEventsBodyCompact, encodeJson, encodeMessage, EventsEncoding, MessageType, SUBPROTOCOL, type EventRecord } from '../src/common/protocol';

const quick = process.env.IPCSCOPE_BENCH_QUICK === '1';
const scale = (n: number) => (quick ? Math.max(1, Math.round(n / 10)) : n);
const PINGPONG = scale(200_000);
// strace/ltrace stop the program at every call: fewer round trips keep the run bounded, and the figures per round
// trip stay comparable (each is set against an untraced run of the same length)
const PINGPONG_STRACE = scale(10_000);
const PINGPONG_LTRACE = scale(2_000);
const MUTEX_PAIRS = scale(10_000_000);
const INGEST_THREADS = 8;
const INGEST_PAIRS = scale(1_000_000);
const REPEATS = 3;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined; // GNU time: CPU time of a child
const only = (process.env.IPCSCOPE_BENCH_ONLY ?? '').split(',').filter(Boolean);
const want = (part: string) => only.length === 0 || only.includes(part);

const root = (() => { let d = __dirname; while (!existsSync(join(d, 'package.json'))) d = resolve(d, '..'); return d; })();
const work = mkdtempSync(join(tmpdir(), 'ipcscope-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

function compile(name: string): string {
  const out = join(work, name);
  execFileSync('gcc', ['-O2', '-pthread', '-o', out, join(root, 'bench/fixtures', `${name}.c`)], { stdio: 'inherit' });
  return out;
}
function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pinned = (pin: boolean, cmd: string[]) => (pin ? ['taskset', '-c', '0', ...cmd] : cmd);

/** Runs a command untraced (or under strace/ltrace given in cmd) and returns its stdout. */
// Before every measured run: any per-task or cgroup perf event (the per-task rows, the floors) turns on the kernel's
// perf hook at every context switch of the machine, and the kernel turns it off only ~1 s after the last such event
// is gone (kernel/events/core.c: perf_sched_delayed, HZ). Without a pause the run after such a row pays for it too.
const SETTLE_MS = 1500;
const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));

async function runPlain(cmd: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  await settle();
  return new Promise((res, rej) => {
    const c = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    c.on('error', rej);
    c.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`${cmd.join(' ')} exited ${code}`))));
  });
}

interface TracedRun { stdout: string; collector: Collector; firstEventMs: number; lastEventMs: number; wallMs: number }
/** Runs a command under our shim with a live collector streaming a trace file; the caller closes the collector. */
async function runTraced(cmd: string[], opts: { pageFaults?: boolean; wire?: 'compact' | 'fixed'; env?: NodeJS.ProcessEnv; moveOffProgramCpus?: boolean } = {}): Promise<TracedRun> {
  await settle();
  const collector = await Collector.start({ traceFile: join(work, 'bench.ipctrace'), pageFaults: opts.pageFaults, snapshots: opts.pageFaults,
    wire: opts.wire, moveOffProgramCpus: opts.moveOffProgramCpus });
  let firstEventMs = 0, lastEventMs = 0;
  collector.on('events', () => { const t = performance.now(); if (!firstEventMs) firstEventMs = t; lastEventMs = t; });
  const t0 = performance.now();
  const p = TracedProcess.launch({ command: cmd[0], args: cmd.slice(1), collector, stdio: 'pipe', env: opts.env });
  let stdout = '';
  p.on('stdout', (d: Buffer) => { stdout += d.toString(); });
  p.on('stderr', (d: Buffer) => process.stderr.write(d));
  const exit = await p.exited;
  // every image of the tree has said BYE (or closed) before we count
  const deadline = Date.now() + 60_000;
  while ((collector.liveConnections().length || collector.pendingConnections()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const wallMs = performance.now() - t0;
  if (exit.code !== 0) throw new Error(`${cmd.join(' ')} exited ${exit.code ?? exit.signal} under the shim`);
  return { stdout, collector, firstEventMs, lastEventMs, wallMs };
}

const LTTNG_WRAPPER = ['/usr/lib/x86_64-linux-gnu/liblttng-ust-pthread-wrapper.so.1', '/usr/lib/x86_64-linux-gnu/liblttng-ust-pthread-wrapper.so.0',
  '/usr/lib/x86_64-linux-gnu/liblttng-ust-pthread-wrapper.so'].find(existsSync);

/**
 * Runs a command under LTTng-UST's pthread wrapper with a session recording its events (lttng_ust_pthread:*, the
 * default channel in discard mode), as a user of LTTng would: a session daemon is started for it when none runs, and
 * stopped afterwards. Returns stdout and the events the session discarded, or why it could not run.
 */
async function runLttng(cmd: string[]): Promise<{ stdout: string; discarded: number } | { error: string }> {
  const lttng = which('lttng'), sessiond = which('lttng-sessiond');
  if (!LTTNG_WRAPPER || !lttng || !sessiond) return { error: 'not installed (Debian: liblttng-ust1 lttng-tools)' };
  const ctl = (...a: string[]) => spawnSync(lttng, a, { encoding: 'utf8' });
  let daemon: ReturnType<typeof spawn> | undefined;
  if (ctl('list').status !== 0) {
    daemon = spawn(sessiond, ['--no-kernel'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && ctl('list').status !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  }
  const name = `ipcscope-bench-${process.pid}`;
  try {
    const steps = [['create', name, `--output=${join(work, name)}`], ['enable-event', '-s', name, '-u', 'lttng_ust_pthread:*'], ['start', name]];
    for (const a of steps) {
      const r = ctl(...a);
      if (r.status !== 0) return { error: `lttng ${a[0]}: ${(r.stderr || r.stdout).trim().split('\n').pop()}` };
    }
    const stdout = await runPlain(cmd, { ...process.env, LD_PRELOAD: LTTNG_WRAPPER });
    ctl('stop', name);
    const discarded = Number(/Discarded events:\s*(\d+)/.exec(ctl('list', name).stdout)?.[1] ?? NaN);
    return { stdout, discarded };
  } finally {
    ctl('destroy', name);
    daemon?.kill();
  }
}

/** How the run sampled page faults, from its images' shim_info notes ("page faults: on (cgroup)" and so on). */
function faultScopes(c: Collector): string {
  const s = c.store, INFO = kindId('shim_info'), seen = new Set<string>();
  for (let i = 0; i < s.count; i++) {
    if (s.kindAt(i) !== INFO) continue;
    const m = /page faults: ([^;]*)/.exec(new TextDecoder().decode(s.blobAt(i) ?? new Uint8Array()));
    if (m) seen.add(m[1] === 'on' ? 'on (per task)' : m[1]);
  }
  return [...seen].join(', ') || 'no shim_info';
}

function countKinds(c: Collector, kinds: number[]): number {
  const s = c.store;
  let n = 0;
  for (let i = 0; i < s.count; i++) if (kinds.includes(s.kindAt(i))) n++;
  return n;
}

/**
 * Runs a command under our shim with the file sink instead of a collector (one raw file per process, the shim's
 * messages as sent): the shim's own cost on the program, without a collector's ingest speed setting the pace
 * through back-pressure. Returns stdout and, read back from the files (decoded by the store, either encoding), the
 * events of the given kinds, the drops the shim reported in BYE, and the EVENTS bytes per event as sent.
 */
async function runFileSink(cmd: string[], kinds: number[], faults: boolean, wire: 'compact' | 'fixed' = 'compact'): Promise<{ stdout: string; counted: number; dropped: bigint; wireBytesPerEvent: number }> {
  const dir = mkdtempSync(join(work, 'filesink-'));
  const stdout = await runPlain(cmd, { ...process.env, LD_PRELOAD: shimPath(), IPCSCOPE: `file=${join(dir, 'trace')};faults=${faults ? 1 : 0};snapshots=0;pause=0;wire=${wire}` });
  let counted = 0, dropped = 0n, bodyBytes = 0, events = 0;
  for (const f of readdirSync(dir)) {
    const b = readFileSync(join(dir, f));
    // docs/protocol.md: 16-byte message header (magic, version, type, body length, seq), then the body
    for (let o = 0; o + 16 <= b.length;) {
      const type = b.readUInt16LE(o + 6), len = b.readUInt32LE(o + 8), body = o + 16;
      if (type === MessageType.Events) {
        const s = new EventStore();
        s.appendEventsBody(0, 0, b.subarray(body, body + len));
        for (let i = 0; i < s.count; i++) if (kinds.includes(s.kindAt(i))) counted++;
        bodyBytes += len;
        events += s.count;
      } else if (type === MessageType.Bye) dropped += b.readBigUInt64LE(body + 8);
      o = body + len;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { stdout, counted, dropped, wireBytesPerEvent: events ? bodyBytes / events : 0 };
}

const rows: string[][] = [];
const row = (...cells: (string | number)[]) => rows.push(cells.map(String));
const fmt = (x: number, d = 2) => x.toFixed(d);

async function pingpong(bin: string): Promise<void> {
  const strace = which('strace'), ltrace = which('ltrace');
  // Besides the program's own wall time per round trip, the CPU time its whole tree used (user+sys of every process
  // and thread, the shim's sender threads included; /usr/bin/time), which other work on a busy machine moves far
  // less. The collector's own CPU is not in it (this process, moved off the program's CPU while that is pinned).
  const timeFile = join(work, 'pp-cpu.txt');
  const timed = (cmd: string[]) => (TIME ? [TIME, '-f', '%U %S', '-o', timeFile, ...cmd] : cmd);
  const cpuPerTrip = () => { if (!TIME) return NaN; const [u, sy] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).slice(-2).map(parseFloat); return ((u + sy) * 1e9) / PINGPONG; };
  for (const pin of [true, false]) {
    const label = pin ? 'pinned (taskset -c 0)' : 'unpinned';
    const base: number[] = [], cBase: number[] = [];
    // Live-collector runs: ours as shipped, then variants, each a row: page faults as cgroup events
    // (IPCSCOPE_FAULT_SCOPE=cgroup) instead of with the BPF filter, or filtered on a cgroup v2 leaf
    // (IPCSCOPE_FAULT_SCOPE=bpf) instead of on pids; the sender threads left on the program's core
    // (IPCSCOPE_SENDER_CPUS=inherit: what running them on the CPUs the program's affinity leaves out saves; unpinned
    // nothing is left out, so that row is the same setup); page faults per task; without page-fault sampling (a
    // per-thread perf event makes every context switch dearer, and a ping-pong is mostly context switches); with the
    // fixed-record encoding (wire=fixed: what the compact encoding saves); the collector (this process) left to the
    // scheduler instead of moved off the program's CPU (IPCSCOPE_COLLECTOR_CPUS=inherit; unpinned, the same setup)
    type Live = { wall: number[]; cpu: number[]; events: number; drops: number; scope: string };
    const newLive = (): Live => ({ wall: [], cpu: [], events: 0, drops: 0, scope: '' });
    const [ours, cgEvents, inherit, perTask, noFaults, fixed, stays, leaf] = [newLive(), newLive(), newLive(), newLive(), newLive(), newLive(), newLive(), newLive()];
    const live = async (v: Live, opts: Parameters<typeof runTraced>[1] = {}) => {
      const t = await runTraced(timed(pinned(pin, [bin, String(PINGPONG)])), opts);
      v.wall.push(parseFloat(t.stdout));
      v.cpu.push(cpuPerTrip());
      v.events = t.collector.store.count;
      v.drops = Math.max(v.drops, t.collector.totalDropped());
      v.scope = faultScopes(t.collector);
      await t.collector.close();
    };
    // the file sink (no collector), compact and fixed records: where the cost comes from
    const fileSink: number[] = [], cFileSink: number[] = [], fileSinkFixed: number[] = [], cFileSinkFixed: number[] = [];
    let fsEvents = 0, fsDrops = 0n, fsWire = 0, fsfWire = 0;
    // no tracer at all, only the shim's page-fault sampling set up by the program itself (`pingpong N perf`): what
    // a context switch costs once every task has a perf context, the floor under the page-fault rows above
    const perfFloor: number[] = [], cPerfFloor: number[] = [];
    // at root the program in a cgroup of its own, with its pressure-stall accounting off as the shim's leaves have it
    // (`pingpong N cgroup`: PSI still walks every level above a task at each sleep, wake-up and switch), with the events as cgroup events on it as the shim opens them at root
    // (`perf-cgroup-events`), and per CPU filtered by BPF on it instead (`pingpong N perf-cgroup`, the shim's bpf=1)
    const cgroupFloor: number[] = [], cCgroupFloor: number[] = [];
    const cgroupOnly: number[] = [], cCgroupOnly: number[] = [], cgroupEvents: number[] = [], cCgroupEvents: number[] = [];
    let cgroupFloorError = '';
    // and with no cgroup: the events per CPU for every task with the pid filter (`pingpong N perf-pid A/B`, the
    // shim's default pid scope at root)
    const pidFloor: number[] = [], cPidFloor: number[] = [];
    const offsets = kernelTaskOffsets();
    let pidFloorError = 'why' in offsets ? offsets.why : '';
    for (let r = 0; r < REPEATS; r++) {
      base.push(parseFloat(await runPlain(timed(pinned(pin, [bin, String(PINGPONG)])))));
      cBase.push(cpuPerTrip());
      await live(ours);
      await live(cgEvents, { env: { IPCSCOPE_FAULT_SCOPE: 'cgroup' } });
      await live(leaf, { env: { IPCSCOPE_FAULT_SCOPE: 'bpf' } });
      await live(inherit, { env: { IPCSCOPE_SENDER_CPUS: 'inherit' } });
      await live(stays, { moveOffProgramCpus: false });
      await live(perTask, { env: { IPCSCOPE_FAULT_SCOPE: 'task' } });
      await live(noFaults, { pageFaults: false });
      const f = await runFileSink(timed(pinned(pin, [bin, String(PINGPONG)])), [kindId('read'), kindId('write')], false);
      fileSink.push(parseFloat(f.stdout));
      cFileSink.push(cpuPerTrip());
      fsEvents = f.counted; fsDrops = f.dropped > fsDrops ? f.dropped : fsDrops; fsWire = f.wireBytesPerEvent;
      await live(fixed, { wire: 'fixed' });
      const g = await runFileSink(timed(pinned(pin, [bin, String(PINGPONG)])), [kindId('read'), kindId('write')], false, 'fixed');
      fileSinkFixed.push(parseFloat(g.stdout));
      cFileSinkFixed.push(cpuPerTrip());
      fsfWire = g.wireBytesPerEvent;
      const pf = await runPlain(timed(pinned(pin, [bin, String(PINGPONG), 'perf']))).catch(() => undefined); // no perf here: said below
      if (pf !== undefined) { perfFloor.push(parseFloat(pf)); cPerfFloor.push(cpuPerTrip()); }
      if (!('why' in offsets)) {
        const pp = await runPlain(timed(pinned(pin, [bin, String(PINGPONG), 'perf-pid', `${offsets.realParent}/${offsets.tgid}`])))
          .catch((e: Error) => { pidFloorError = e.message; return undefined; });
        if (pp !== undefined) { pidFloor.push(parseFloat(pp)); cPidFloor.push(cpuPerTrip()); }
      }
      for (const [mode, xs, cs] of [['cgroup', cgroupOnly, cCgroupOnly], ['perf-cgroup', cgroupFloor, cCgroupFloor], ['perf-cgroup-events', cgroupEvents, cCgroupEvents]] as const) {
        const pc = await runPlain(timed(pinned(pin, [bin, String(PINGPONG), mode]))).catch((e: Error) => { cgroupFloorError = e.message; return undefined; });
        if (pc !== undefined) { xs.push(parseFloat(pc)); cs.push(cpuPerTrip()); }
      }
    }
    const b = median(base), cb = median(cBase);
    const cpu = (xs: number[]) => (TIME ? `; CPU ${fmt(median(xs), 0)} ns/round trip = ${fmt(median(xs) / cb)}x` : '');
    row(`ping-pong ${PINGPONG} round trips, ${label}`, 'untraced', `${fmt(b, 0)} ns/round trip`, '1.00x', TIME ? `CPU ${fmt(cb, 0)} ns/round trip (user+sys, whole tree)` : '');
    const liveRow = (name: string, v: Live, note: string) => row('', name, `${fmt(median(v.wall), 0)} ns/round trip`,
      `${fmt(median(v.wall) / b)}x`, `${note}${v.events} events, ${v.drops} dropped${cpu(v.cpu)}`);
    liveRow('IPC Scope (live collector + trace file)', ours, `goal <= 1.10x; page faults ${ours.scope}; `);
    liveRow('IPC Scope, page faults filtered on a cgroup v2 leaf (IPCSCOPE_FAULT_SCOPE=bpf)', leaf, `page faults ${leaf.scope}; `);
    liveRow('IPC Scope, page faults as cgroup events (IPCSCOPE_FAULT_SCOPE=cgroup)', cgEvents, `page faults ${cgEvents.scope}; costs every context switch elsewhere (below); `);
    liveRow('IPC Scope, senders on the program\'s core (IPCSCOPE_SENDER_CPUS=inherit)', inherit, `page faults ${inherit.scope}; `);
    liveRow('IPC Scope, collector left to the scheduler (IPCSCOPE_COLLECTOR_CPUS=inherit)', stays, `page faults ${stays.scope}; `);
    liveRow('IPC Scope, page faults per task (IPCSCOPE_FAULT_SCOPE=task)', perTask, `page faults ${perTask.scope}; `);
    liveRow('IPC Scope, page faults off', noFaults, '');
    if (!perfFloor.length) row('', 'no tracer, perf page-fault events only', 'perf_event_open refused', '', '');
    else row('', 'no tracer, perf page-fault events only', `${fmt(median(perfFloor), 0)} ns/round trip`, `${fmt(median(perfFloor) / b)}x`,
      `the kernel's cost of a perf context on every task (inherited, per-CPU, as the shim opens them per task)${cpu(cPerfFloor)}`);
    if (!pidFloor.length) row('', 'no tracer, perf page-fault events, BPF filter on pids', 'could not run', '', pidFloorError.slice(0, 120));
    else row('', 'no tracer, perf page-fault events, BPF filter on pids', `${fmt(median(pidFloor), 0)} ns/round trip`, `${fmt(median(pidFloor) / b)}x`,
      `per CPU for every task, samples kept by BPF for the program's pids, no cgroup (the shim's default at root)${cpu(cPidFloor)}`);
    if (!cgroupFloor.length) row('', 'no tracer, in a cgroup, with or without perf events', 'could not run', '', cgroupFloorError.slice(0, 120));
    else {
      row('', 'no tracer, the program in a cgroup of its own', `${fmt(median(cgroupOnly), 0)} ns/round trip`, `${fmt(median(cgroupOnly) / b)}x`,
        `no perf event: what the cgroup alone costs a context switch (PSI off in it, as in the shim's leaves)${cpu(cCgroupOnly)}`);
      row('', 'same + perf page-fault events as cgroup events', `${fmt(median(cgroupEvents), 0)} ns/round trip`, `${fmt(median(cgroupEvents) / b)}x`,
        `PERF_FLAG_PID_CGROUP, as the shim opens them at root: turns on the perf hook at every context switch${cpu(cCgroupEvents)}`);
      row('', 'same + perf page-fault events, BPF filter', `${fmt(median(cgroupFloor), 0)} ns/round trip`, `${fmt(median(cgroupFloor) / b)}x`,
        `per CPU for every task, samples kept by BPF only for that cgroup (the shim's bpf scope)${cpu(cCgroupFloor)}`);
    }
    row('', 'IPC Scope, file sink, page faults off', `${fmt(median(fileSink), 0)} ns/round trip`, `${fmt(median(fileSink) / b)}x`,
      `${fsEvents} read/write events, ${fsDrops} dropped, ${fmt(fsWire, 1)} bytes/event sent${cpu(cFileSink)}`);
    liveRow('IPC Scope, fixed records (wire=fixed)', fixed, '');
    row('', 'same, file sink, page faults off', `${fmt(median(fileSinkFixed), 0)} ns/round trip`, `${fmt(median(fileSinkFixed) / b)}x`,
      `${fmt(fsfWire, 1)} bytes/event sent${cpu(cFileSinkFixed)}`);
    for (const [name, path, n, cmd] of [
      ['strace -f', strace, PINGPONG_STRACE, (c: string[]) => [strace!, '-f', '-qq', '-o', '/dev/null', ...c]],
      ['ltrace -f', ltrace, PINGPONG_LTRACE, (c: string[]) => [ltrace!, '-f', '-o', '/dev/null', ...c]],
    ] as const) {
      if (!path) { row('', name, 'not installed', '', ''); continue; }
      const plain = median([await runPlain(pinned(pin, [bin, String(n)])), await runPlain(pinned(pin, [bin, String(n)]))].map(parseFloat));
      const v = parseFloat(await runPlain(cmd(pinned(pin, [bin, String(n)]))));
      row('', `${name} (${n} round trips)`, `${fmt(v, 0)} ns/round trip`, `${fmt(v / plain)}x`, `vs ${fmt(plain, 0)} ns untraced at that length`);
    }
    // LTTng-UST's pthread wrapper, recording, as on the mutex loop below: it wraps pthread calls only, so it records
    // nothing of a pipe ping-pong (its cost here is its load and its session)
    const lt = await runLttng(pinned(pin, [bin, String(PINGPONG)]));
    if ('error' in lt) row('', 'LTTng-UST pthread wrapper', lt.error, '', '');
    else {
      const v = parseFloat(lt.stdout);
      row('', 'LTTng-UST pthread wrapper, recording', `${fmt(v, 0)} ns/round trip`, `${fmt(v / b)}x`, 'wraps pthread mutex calls only, and this program makes none');
    }
  }
}

async function mutexLoop(bin: string): Promise<void> {
  const LOCK = kindId('mutex_lock'), UNLOCK = kindId('mutex_unlock');
  const args = [bin, '1', String(MUTEX_PAIRS)];
  // untraced, live with the compact encoding, live with fixed records: interleaved, medians
  const base: number[] = [], live: number[] = [], liveFixed: number[] = [], liveInherit: number[] = [];
  let recorded = 0, dropped = 0, storeBytes = 0, fixedRecorded = 0, fixedDropped = 0, inheritRecorded = 0, inheritDropped = 0;
  for (let r = 0; r < REPEATS; r++) {
    base.push(parseFloat(await runPlain(pinned(true, args))));
    const t = await runTraced(pinned(true, args), { pageFaults: false });
    live.push(parseFloat(t.stdout));
    recorded = countKinds(t.collector, [LOCK, UNLOCK]); dropped = Math.max(dropped, t.collector.totalDropped());
    storeBytes = t.collector.store.bytesPerEvent();
    await t.collector.close();
    const si = await runTraced(pinned(true, args), { pageFaults: false, env: { IPCSCOPE_SENDER_CPUS: 'inherit' } });
    liveInherit.push(parseFloat(si.stdout));
    inheritRecorded = countKinds(si.collector, [LOCK, UNLOCK]); inheritDropped = Math.max(inheritDropped, si.collector.totalDropped());
    await si.collector.close();
    const x = await runTraced(pinned(true, args), { pageFaults: false, wire: 'fixed' });
    liveFixed.push(parseFloat(x.stdout));
    fixedRecorded = countKinds(x.collector, [LOCK, UNLOCK]); fixedDropped = Math.max(fixedDropped, x.collector.totalDropped());
    await x.collector.close();
  }
  const all = (n: number) => `${n} of ${2 * MUTEX_PAIRS}${n === 2 * MUTEX_PAIRS ? ' (all)' : ''}`;
  const b = median(base);
  row(`mutex lock/unlock, ${MUTEX_PAIRS} pairs, 1 thread, pinned`, 'untraced', `${fmt(b)} ns/pair`, '', '');
  row('', 'IPC Scope (live collector + trace file)', `${fmt(median(live))} ns/pair`, `+${fmt(median(live) - b)} ns/pair`,
    `goal <= +100 ns; lock+unlock events recorded ${all(recorded)}, dropped ${dropped}`);
  row('', 'same, sender on the program\'s core (IPCSCOPE_SENDER_CPUS=inherit)', `${fmt(median(liveInherit))} ns/pair`, `+${fmt(median(liveInherit) - b)} ns/pair`,
    `recorded ${all(inheritRecorded)}, dropped ${inheritDropped}`);
  row('', 'same, fixed records (wire=fixed)', `${fmt(median(liveFixed))} ns/pair`, `+${fmt(median(liveFixed) - b)} ns/pair`,
    `recorded ${all(fixedRecorded)}, dropped ${fixedDropped}`);
  row('', 'collector store', `${fmt(storeBytes, 1)} bytes/event`, '', 'goal <= 48');
  // The same loop under the tools the issue compares with: LTTng-UST's pthread wrapper recording into a session, and
  // ltrace -f (fewer pairs: it stops the program at every call)
  const lt = await runLttng(pinned(true, args));
  if ('error' in lt) row('', 'LTTng-UST pthread wrapper', lt.error, '', '');
  else {
    const v = parseFloat(lt.stdout);
    row('', 'LTTng-UST pthread wrapper, recording', `${fmt(v)} ns/pair`, `+${fmt(v - b)} ns/pair`,
      `session on lttng_ust_pthread:* (3 events a pair), ${lt.discarded} events discarded by its buffers`);
  }
  const ltrace = which('ltrace');
  if (!ltrace) row('', 'ltrace -f', 'not installed', '', '');
  else {
    const n = scale(20_000);
    const few = [bin, '1', String(n)];
    const plainFew = parseFloat(await runPlain(pinned(true, few)));
    const v = parseFloat(await runPlain([ltrace, '-f', '-o', '/dev/null', ...pinned(true, few)]));
    row('', `ltrace -f (${n} pairs)`, `${fmt(v / 1000)} us/pair`, `+${fmt((v - plainFew) / 1000)} us/pair`, `vs ${fmt(plainFew)} ns untraced at that length`);
  }
  // The same loop with the file sink: what the shim itself adds per pair (a collector slower than the program
  // paces it through back-pressure above); median of runs interleaved with untraced ones
  // Also the CPU time the process used (user + sys, every thread: the sender's work included), which other work on
  // a busy machine moves far less than wall time
  const timeFile = join(work, 'cpu.txt');
  const timed = (cmd: string[]) => (TIME ? [TIME, '-f', '%U %S', '-o', timeFile, ...cmd] : cmd);
  const cpuPerPair = () => { const [u, sy] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(parseFloat); return ((u + sy) * 1e9) / MUTEX_PAIRS; };
  const plain: number[] = [], cplain: number[] = [];
  const sinks = (['compact', 'fixed'] as const).map((wire) => ({ wire, wall: [] as number[], cpu: [] as number[], recorded: 0, dropped: 0n, bytes: 0 }));
  for (let r = 0; r < REPEATS; r++) {
    plain.push(parseFloat(await runPlain(timed(pinned(true, args)))));
    if (TIME) cplain.push(cpuPerPair());
    for (const k of sinks) {
      const f = await runFileSink(timed(pinned(true, args)), [LOCK, UNLOCK], false, k.wire);
      k.wall.push(parseFloat(f.stdout));
      if (TIME) k.cpu.push(cpuPerPair());
      k.recorded = f.counted; k.dropped = f.dropped; k.bytes = f.wireBytesPerEvent;
    }
  }
  const fb = median(plain), cb = median(cplain);
  for (const k of sinks) {
    const fs = median(k.wall);
    row('', `IPC Scope, file sink (no collector), wire=${k.wire}`, `${fmt(fs)} ns/pair`, `+${fmt(fs - fb)} ns/pair`,
      `goal <= +100 ns; vs ${fmt(fb)} untraced in these runs; recorded ${all(k.recorded)}, dropped ${k.dropped}; ${fmt(k.bytes, 1)} bytes/event sent`);
    if (TIME) row('', 'same, process CPU time', `${fmt(median(k.cpu))} ns/pair`, `+${fmt(median(k.cpu) - cb)} ns/pair`, `vs ${fmt(cb)} untraced (user+sys of all threads, /usr/bin/time)`);
  }
}

async function ingest(bin: string): Promise<void> {
  const t = await runTraced([bin, String(INGEST_THREADS), String(INGEST_PAIRS)], { pageFaults: false });
  const s = t.collector.stats();
  const mutexEvents = countKinds(t.collector, [kindId('mutex_lock'), kindId('mutex_unlock')]);
  const span = (t.lastEventMs - t.firstEventMs) / 1000;
  const offered = INGEST_THREADS * INGEST_PAIRS * 2;
  row(`collector ingest: ${INGEST_THREADS} threads x ${INGEST_PAIRS} lock/unlock pairs, flat out`, 'stored', `${fmt(s.events / span / 1e6)} M events/s`,
    '', `goal >= 2 M/s; ${s.events} events in ${fmt(span)} s (program ${fmt(parseFloat(t.stdout))} ns/pair/thread)`);
  row('', 'dropped', `${s.dropped}`, '', `lock/unlock events stored ${mutexEvents} + dropped ${s.dropped} = ${mutexEvents + s.dropped} of ${offered} made`);
  row('', 'store', `${fmt(s.bytesPerEvent, 1)} bytes/event`, '', 'goal <= 48');
  await t.collector.close();
}

/**
 * The collector alone, without the shim: a separate node process opens 4 real websocket connections and sends
 * pre-encoded EVENTS messages of mutex events flat out, in either encoding: messages of about 50 KB (1000 fixed
 * records or 8000 compact ones; the shim sends up to 256 KB), so both runs pay the same per-message costs on the
 * client. Shows what the collector can take, so the figures above can be read as shim cost or collector cost.
 */
async function collectorAlone(): Promise<void> {
  const CONNS = 4, EVENTS_PER_CONN = scale(2_000_000);
  for (const encoding of [EventsEncoding.Compact, EventsEncoding.Fixed]) {
    const per = encoding === EventsEncoding.Compact ? 8000 : 1000, messages = Math.max(1, Math.round(EVENTS_PER_CONN / per));
    const c = await Collector.start({ traceFile: join(work, 'alone.ipctrace') });
    const secret = /secret=([0-9a-f]+)/.exec(c.envFor().IPCSCOPE!)![1];
    let first = 0, last = 0;
    c.on('events', () => { const t = performance.now(); if (!first) first = t; last = t; });
    await runPlain([process.execPath, __filename, '--blast', String(c.port), secret, String(CONNS), String(messages), String(per), String(encoding)]);
    while (c.liveConnections().length) await new Promise((r) => setTimeout(r, 10));
    const s = c.stats();
    row(encoding === EventsEncoding.Compact ? `collector alone: ${CONNS} ws clients x ${EVENTS_PER_CONN} mutex events` : '',
      encoding === EventsEncoding.Compact ? `stored (compact, ${per}/message)` : `stored (fixed, ${per}/message)`, `${fmt(s.events / ((last - first) / 1000) / 1e6)} M events/s`,
      '', `${s.events} of ${CONNS * messages * per} events, with the trace file; ${fmt(s.bytesPerEvent, 1)} bytes/event`);
    await c.close();
  }
}

/** Client side of collectorAlone (runs in its own process). */
async function blast(port: number, secret: string, conns: number, messages: number, per: number, encoding: EventsEncoding): Promise<void> {
  const LOCK = kindId('mutex_lock'), UNLOCK = kindId('mutex_unlock');
  const recs: EventRecord[] = [];
  for (let i = 0; i < per; i++) recs.push({ kind: i % 2 ? UNLOCK : LOCK, phase: 0, flags: 0, tid: 1000 + Math.floor((i * 8) / per), err: 0, ts: 1_000_000n + BigInt(i), // per-thread runs, as the shim sends them
    result: 0n, caller: 0x5555_0000_1000n + BigInt(i % 2) * 32n, args: i % 2 ? [0x7fff_0000_0040n + BigInt(i % 8) * 64n] : [0x7fff_0000_0040n + BigInt(i % 8) * 64n, 0n] });
  // encoded once: only the header (its sequence number) changes from message to message
  const body = encoding === EventsEncoding.Compact ? encodeEventsBodyCompact(recs) : encodeEventsBody(recs);
  await Promise.all(Array.from({ length: conns }, (_, k) => new Promise<void>((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ipcscope`, SUBPROTOCOL, { headers: { 'X-IPCScope-Secret': secret }, perMessageDeflate: false });
    let seq = 0;
    ws.on('error', rej);
    ws.on('open', () => ws.send(encodeJson(MessageType.Hello, seq++, { pid: 90000 + k, ppid: 1, tid: 90000 + k, origin: 'initial', startNs: '1' })));
    ws.once('message', async () => { // WELCOME
      for (let m = 0; m < messages; m++) {
        ws.send(encodeMessage(MessageType.Events, seq++, body));
        while (ws.bufferedAmount > 8 << 20) await new Promise((r) => setTimeout(r, 1));
      }
      ws.send(encodeBye(seq++, BigInt(messages * per), 0n));
      ws.close();
      ws.on('close', () => res());
    });
  })));
}

function printTable(): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

/**
 * What a recording session costs the rest of the machine, with the BPF filter on pids (the default at root), on a
 * leaf cgroup, and with cgroup events: an untraced program faulting 512 MiB (ns per fault, best of three inside it) and an untraced pinned
 * ping-pong (ns per round trip), with no session, then beside a session recording 1 image (sleep) and 21 images (a
 * shell and 20 sleeps, forked and exec'd: one page-fault set, handed over at each exec). The BPF filter runs once at
 * every page fault of the machine, per set; cgroup events turn on the scheduler's perf hook at every context switch
 * of the machine.
 */
async function elsewhere(faulter: string, pingpongBin: string): Promise<void> {
  const fault = async () => parseFloat(await runPlain([faulter, '512']));
  const pp = async () => parseFloat(await runPlain(['taskset', '-c', '0', pingpongBin, String(PINGPONG)]));
  const sessions: [string, string[], string][] = [
    ['1 image recording, default (pid filter at root)', ['sleep', '600'], ''],
    ['1 image recording, BPF filter on its leaf', ['sleep', '600'], 'bpf'], ['1 image recording, cgroup events', ['sleep', '600'], 'cgroup'],
    ['21 images recording, default (pid filter at root)', ['sh', '-c', 'for i in $(seq 20); do sleep 600 & done; wait'], ''],
    ['21 images recording, cgroup events', ['sh', '-c', 'for i in $(seq 20); do sleep 600 & done; wait'], 'cgroup'],
  ];
  const faults: number[][] = [[], ...sessions.map(() => [])], trips: number[][] = [[], ...sessions.map(() => [])];
  const sets: string[] = ['', ...sessions.map(() => '')];
  for (let r = 0; r < REPEATS; r++) {
    faults[0].push(await fault());
    trips[0].push(await pp());
    for (let i = 0; i < sessions.length; i++) {
      const [, cmd, scope] = sessions[i];
      const images = cmd[0] === 'sh' ? 21 : 1;
      const collector = await Collector.start({ snapshots: false });
      const p = TracedProcess.launch({ command: cmd[0], args: cmd.slice(1), collector, stdio: 'pipe', env: { IPCSCOPE_FAULT_SCOPE: scope } });
      const deadline = Date.now() + 20_000;
      while ((collector.liveConnections().length < images || faultScopes(collector) === 'no shim_info') && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
      sets[i + 1] = faultScopes(collector);
      faults[i + 1].push(await fault());
      trips[i + 1].push(await pp());
      await p.stop();
      await collector.close();
    }
  }
  const names = ['no session', ...sessions.map(([n]) => n)];
  const fb = median(faults[0]), tb = median(trips[0]);
  names.forEach((name, i) => row(i ? '' : 'page faults elsewhere: an untraced program faulting 512 MiB', name, `${fmt(median(faults[i]), 0)} ns/fault`,
    `${fmt(median(faults[i]) / fb)}x`, i ? `page faults ${sets[i]}` : 'one minor fault per 4 KiB page'));
  names.forEach((name, i) => row(i ? '' : `context switches elsewhere: an untraced ping-pong, pinned, ${PINGPONG} round trips`, name,
    `${fmt(median(trips[i]), 0)} ns/round trip`, `${fmt(median(trips[i]) / tb)}x`, i ? '' : 'two context switches per round trip'));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  // Other work on the machine moves every figure: say how busy it was
  const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`IPC Scope overhead benchmark${quick ? ' (quick)' : ''}: node ${process.version}, ${REPEATS} interleaved repeats, medians; load average ${load()}`);
  const pp = compile('pingpong'), ml = compile('mutex_loop');
  if (want('pingpong')) await pingpong(pp);
  if (want('mutex')) await mutexLoop(ml);
  if (want('ingest')) await ingest(ml);
  if (want('alone')) await collectorAlone();
  if (want('elsewhere') && process.getuid?.() === 0) await elsewhere(compile('faulter'), pp);
  printTable();
  console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s; load average now ${load()}`);
}

if (process.argv[2] === '--blast') {
  const [port, secret, conns, messages, per, encoding] = process.argv.slice(3);
  blast(+port, secret, +conns, +messages, +per, +encoding).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
} else main().catch((e) => { console.error(e); process.exit(1); });
