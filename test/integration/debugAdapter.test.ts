// DAP conversations with the real `ipcscope` debug adapter (src/common/debug) driving real programs under the real
// shim: stop on entry, a source breakpoint on the pipe demo's write, Step Into to the child's read of those bytes,
// Step Back (cursor only), the signal filter, a contended mutex with its holder, all-stop, and Stop killing the tree.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { demoProgram, loadDemos, stepTarget } from '../../src/host/gallery/manifests';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { TraceModel } from '../../src/common/model';
import { ENUMS, kindId, PHASE } from '../../src/common/vocabulary';
import { ROOT, whyNoShim } from '../helpers/record';
import { closeConversations, conversation, startAdapterServer, type AdapterServer, type Conversation } from '../helpers/dap';
import { buildDemos } from './demoSupport';

const TARGETS = join(ROOT, 'test/integration/debugTargets');
const PIPE = join(ROOT, 'demos/pipe/build/pipe');
const PIPE_C = join(ROOT, 'demos/pipe/pipe.c');
let bin = '';
let server: AdapterServer;

/** 1-based line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const i = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} in ${file}`);
  return i + 1;
}

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(st);
  } catch { return false; }
}

const SNAPSHOT_KINDS = new Set([kindId('page_snapshot'), kindId('snapshot_done')]);
const SNAPSHOT_PAUSE = BigInt(ENUMS.snapshotReason.indexOf('pause'));

const skip = whyNoShim();
describe('ipcscope debug adapter (DAP)', { skip, timeout: 600_000 }, () => {
  before(async () => {
    buildDemos();
    bin = mkdtempSync(join(tmpdir(), 'ipcscope-debug-'));
    for (const t of ['sigusr', 'mutex', 'threads', 'first_call', 'cow_hold', 'exec_write'])
      execFileSync('gcc', ['-g', '-O0', '-pthread', '-o', join(bin, t), join(TARGETS, `${t}.c`)], { stdio: 'pipe' });
    server = await startAdapterServer();
  });
  // A failed test leaves its conversation open: end it here, or its programs and collector outlive the run.
  after(async () => {
    await closeConversations();
    server?.close();
  });

  test('stop on entry, then Stop leaves no process behind', async () => {
    const c = await conversation(server);
    await c.launch({ program: PIPE, stopOnEntry: true });
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'entry');
    const threads = (await c.dc.threadsRequest()).body.threads;
    assert.equal(threads.length, 1, JSON.stringify(threads));
    assert.match(threads[0].name, /^pid \d+ pipe · tid \d+ — paused at \w+/);
    // The console's `stops` answers why it stopped: the entry hold, judged and reported.
    const why = await c.decisions();
    assert.match(why, /paused \(entry\)[\s\S]*stop reported: entry on tid \d+/, why);
    const pids = await c.close();
    assert.ok(pids.length >= 1);
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('a breakpoint on the first call of an image the program execs stops there (the new image waits for its breakpoints)', async () => {
    for (let run = 0; run < 3; run++) {
      const c = await conversation(server);
      await c.launch({ program: join(bin, 'exec_write') }, () => c.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'write' }] }));
      const stop = await c.nextStop();
      assert.equal(stop.body.reason, 'function breakpoint', `run ${run}`);
      const frames = await c.frames(stop.body.threadId!);
      assert.match(frames[0].name, /^write\(fd 1/, frames.map((f) => f.name).join(' | '));
      const ended = c.event('terminated');
      await c.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      await c.dc.continueRequest({ threadId: stop.body.threadId! });
      await ended;
      assert.match(c.output, /after exec/);
      await c.close();
    }
  });

  test('a run that ends without reaching its breakpoint says so in the console, with the stop decisions', async () => {
    const c = await conversation(server);
    await c.launch({ program: PIPE, cwd: join(ROOT, 'demos/pipe') }, () => c.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mq_send' }] }));
    await c.event('terminated');
    assert.match(c.output, /ipcscope: the program ended without stopping at a breakpoint\. Stop decisions:\n.*paused \(entry\)/, c.output);
    assert.equal(c.stops.length, 0);
    await c.close();
  });

  test('breakpoint on the parent\'s write in the pipe demo; Step Into lands on the child\'s read of those bytes; Step Back moves the cursor only', async () => {
    const c = await conversation(server);
    let bps: DebugProtocol.Breakpoint[] = [];
    await c.launch({ program: PIPE, cwd: join(ROOT, 'demos/pipe') }, async () => {
      bps = (await c.dc.setBreakpointsRequest({ source: { path: PIPE_C }, breakpoints: [{ line: 30 }, { line: 1 }] })).body.breakpoints;
    });
    assert.equal(bps[0].verified, true, JSON.stringify(bps));
    assert.equal(bps[1].verified, false, 'the header comment makes no call');
    assert.match(bps[1].message ?? '', /no code/);

    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'breakpoint');
    const tid = stop.body.threadId!;
    const parent = c.pid(tid);
    const frames = await c.frames(tid);
    assert.match(frames[0].name, /^write\(fd 4 → pipe:\[\d+\], 19 bytes\)$/, frames.map((f) => f.name).join(' | '));
    assert.equal(frames[0].source?.name, 'demo.h', JSON.stringify(frames.map((f) => [f.name, f.source?.name, f.line])));
    assert.equal(frames[0].line, 22);
    const main = frames.find((f) => f.name === 'main');
    assert.ok(main, frames.map((f) => f.name).join(' | '));
    assert.equal(main.source?.name, 'pipe.c');
    assert.equal(main.line, 30);
    const call = await c.variables(frames[0].id, 'Call');
    assert.match(call.find((v) => v.name === 'fd')!.value, /^4 → pipe:\[\d+\]/);
    assert.equal(call.find((v) => v.name === 'count')!.value, '19');
    const ino = /pipe:\[(\d+)\]/.exec(frames[0].name)![1];

    // All-stop: the child (blocked in its read, or paused at its next call) is listed and not running.
    const threads = (await c.dc.threadsRequest()).body.threads;
    assert.equal(threads.length, 2, JSON.stringify(threads));
    const child = threads.find((t) => t.id !== tid)!;
    assert.match(child.name, /child · tid \d+ — (blocked in read|paused at)/);

    await c.dc.stepInRequest({ threadId: tid });
    const into = await c.nextStop();
    assert.equal(into.body.reason, 'step');
    assert.notEqual(into.body.threadId, tid);
    assert.notEqual(c.pid(into.body.threadId!), parent, 'Step Into lands in the other process');
    const rf = await c.frames(into.body.threadId!);
    assert.match(rf[0].name, new RegExp(`^read\\(fd 3 ← pipe:\\[${ino}\\], 256 bytes\\) = 19`), rf.map((f) => f.name).join(' | '));
    assert.equal(rf[0].source?.name, 'pipe.c');
    assert.equal(rf[0].line, 18);
    const data = (await c.variables(rf[0].id, 'Call')).find((v) => v.name === 'data');
    assert.equal(data?.value, JSON.stringify('Hello from parent!\\n'));

    // Step Back: the cursor goes into history; the processes do not move (no event arrives from them).
    const store = c.session.liveCollector!.store;
    await new Promise((r) => setTimeout(r, 300));
    const before = store.count;
    await c.dc.stepBackRequest({ threadId: into.body.threadId! });
    const back = await c.nextStop();
    assert.equal(back.body.reason, 'step');
    assert.match(back.body.description ?? '', /^history: event \d+/);
    const bf = await c.frames(back.body.threadId!);
    assert.match(bf[0].name, /^⟲ /);
    await c.dc.stepBackRequest({ threadId: back.body.threadId! });
    await c.nextStop();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(store.count, before, 'Step Back sent nothing to the processes');

    const r = await c.dc.evaluateRequest({ expression: `fds ${parent}`, context: 'repl' });
    assert.match(r.body.result, /fd 4: pipe:\[\d+\]/);
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('a conditional source-line breakpoint stops only where its condition holds; every stop moves the editor\'s cursor', async () => {
    const c = await conversation(server);
    const cursors: { index: number; history: boolean }[] = [];
    c.dc.on('ipcScope.cursor', (e: DebugProtocol.Event) => cursors.push(e.body as { index: number; history: boolean }));
    let bps: DebugProtocol.Breakpoint[] = [];
    await c.launch({ program: PIPE, cwd: join(ROOT, 'demos/pipe') }, async () => {
      bps = (await c.dc.setBreakpointsRequest({ source: { path: PIPE_C }, breakpoints: [{ line: 30, condition: 'count < 15' }, { line: 18, condition: 'fd ==' }] })).body.breakpoints;
    });
    assert.equal(bps[0].verified, true, JSON.stringify(bps));
    assert.match(bps[0].message ?? '', /when count < 15$/);
    assert.equal(bps[1].verified, false, 'a condition that does not parse is refused');
    assert.ok(bps[1].message, JSON.stringify(bps[1]));

    // The messages are 19, 22 and 9 bytes: only the third write makes the condition true.
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'breakpoint');
    const frames = await c.frames(stop.body.threadId!);
    assert.match(frames[0].name, /^write\(fd 4 → pipe:\[\d+\], 9 bytes\)$/, frames.map((f) => f.name).join(' | '));
    const store = c.session.liveCollector!.store;
    const WRITE = kindId('write');
    const writes: bigint[] = [];
    for (let i = 0; i < store.count; i++) if (store.kindAt(i) === WRITE && store.tidAt(i) === stop.body.threadId && store.phaseAt(i) === PHASE.end) writes.push(store.get(i).result);
    assert.deepEqual(writes, [19n, 22n], 'the first two writes ran to completion without stopping');
    await new Promise((r) => setTimeout(r, 100));
    const at = cursors.find((x) => !x.history);
    assert.ok(at, 'the stop sent the cursor');
    assert.equal(store.tidAt(at.index), stop.body.threadId);
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('a conditional function breakpoint (write, pid == child), Step Over, Step Out, then run to the end', async () => {
    const c = await conversation(server);
    let bps: DebugProtocol.Breakpoint[] = [];
    await c.launch({ program: PIPE, cwd: join(ROOT, 'demos/pipe') }, async () => {
      bps = (await c.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'write', condition: 'pid == child' }, { name: 'strlen' }] })).body.breakpoints;
    });
    assert.equal(bps[0].verified, true);
    assert.equal(bps[1].verified, false);
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'function breakpoint');
    const tid = stop.body.threadId!;
    const child = c.pid(tid);
    assert.notEqual(child, c.session.processIds[0], 'the parent\'s writes did not stop');
    const frames = await c.frames(tid);
    // printf: stdio records its write after the call, so the pending call shows no arguments yet; its line does.
    assert.match(frames[0].name, /^write\(/, frames.map((f) => f.name).join(' | '));
    assert.equal(frames[0].line, lineOf(PIPE_C, 'printf("Child received'));

    await c.dc.nextRequest({ threadId: tid });
    const over = await c.nextStop();
    assert.equal(over.body.reason, 'step');
    assert.equal(over.body.threadId, tid, 'Step Over stops the same thread at its next traced call');
    const next = await c.frames(tid);
    assert.ok(next.length > 0);

    await c.dc.stepOutRequest({ threadId: tid });
    const out = await c.nextStop();
    assert.equal(out.body.reason, 'step');
    assert.equal(out.body.threadId, tid);
    assert.match(out.body.description ?? '', / returned$/);

    await c.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await c.dc.continueRequest({ threadId: tid });
    await c.event('terminated', 20_000);
    assert.match(c.output, /Child: EOF/);
    await c.close();
  });

  test('a breakpoint on the program\'s very first traced call stops there (the entry hold is not passed over)', async () => {
    const src = join(TARGETS, 'first_call.c');
    for (const setup of [
      (c: Conversation) => c.dc.setBreakpointsRequest({ source: { path: src }, breakpoints: [{ line: lineOf(src, 'first traced call') }] }),
      (c: Conversation) => c.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'pthread_mutex_lock' }] }),
    ]) {
      const c = await conversation(server);
      await c.launch({ program: join(bin, 'first_call') }, () => setup(c));
      const stop = await c.nextStop();
      assert.match(stop.body.reason, /breakpoint$/);
      const frames = await c.frames(stop.body.threadId!);
      assert.match(frames[0].name, /^mutex_lock/, frames.map((f) => f.name).join(' | '));
      assert.equal(frames[0].line, lineOf(src, 'first traced call'));
      const pids = await c.close();
      for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
    }
  });

  test('Restart ends every process of the run and starts the program again, stopping at the same breakpoint', async () => {
    const c = await conversation(server);
    await c.launch({ program: PIPE, cwd: join(ROOT, 'demos/pipe') },
      () => c.dc.setBreakpointsRequest({ source: { path: PIPE_C }, breakpoints: [{ line: 30 }] }));
    const first = await c.nextStop();
    assert.equal(first.body.reason, 'breakpoint');
    // The child connects on its own schedule (blocked in its read, it may not have said hello yet): wait for it.
    for (let i = 0; i < 100 && c.session.processIds.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const before = c.session.processIds;
    assert.ok(before.length >= 2, `parent and child: ${before}`);
    await c.dc.restartRequest({});
    for (const p of before) assert.ok(!alive(p), `pid ${p} of the first run still running after Restart`);
    const again = await c.nextStop();
    assert.equal(again.body.reason, 'breakpoint');
    const frames = await c.frames(again.body.threadId!);
    assert.match(frames[0].name, /^write\(fd 4 → pipe:\[\d+\], 19 bytes\)$/, frames.map((f) => f.name).join(' | '));
    const pid = c.pid(again.body.threadId!);
    assert.ok(pid > 0 && !before.includes(pid), `a new process (${pid}), not one of ${before}`);
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('a program that execs another keeps its thread: a stop in the new image is listed and the run is not over', async () => {
    const c = await conversation(server);
    await c.launch({ program: '/bin/sh', args: ['-c', `exec ${PIPE}`], cwd: join(ROOT, 'demos/pipe') },
      () => c.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'write', condition: 'pid != child' }] }));
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'function breakpoint');
    const threads = (await c.dc.threadsRequest()).body.threads;
    assert.ok(threads.some((t) => t.id === stop.body.threadId), `the stopped thread ${stop.body.threadId} is listed: ${JSON.stringify(threads)}`);
    assert.equal(c.pid(stop.body.threadId!), c.session.processIds[0], 'the same pid as the shell that exec\'d');
    const frames = await c.frames(stop.body.threadId!);
    assert.match(frames[0].name, /^write\(fd 4 → pipe/, frames.map((f) => f.name).join(' | '));
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  // The gallery's Step Through Demo launches the part of each demo that holds its stopAt line: every such line must
  // make a traced call the debugger stops at (a line that makes none would leave the user with a demo that just runs).
  for (const demo of loadDemos(join(ROOT, 'demos')).demos) {
    const target = stepTarget(demo);
    if (!target.stopAt) continue;
    test(`Step Through Demo ${demo.manifest.id}: stops at ${basename(target.stopAt.file)}:${target.stopAt.line}`, async () => {
      const c = await conversation(server);
      const prog = demoProgram(demo, target.command);
      await c.launch({ program: prog.file, args: prog.args, cwd: prog.cwd, stopAt: target.stopAt });
      const stop = await c.nextStop(30_000);
      assert.equal(stop.body.reason, 'breakpoint', JSON.stringify(stop.body));
      const frames = await c.frames(stop.body.threadId!);
      const at = frames.find((f) => f.source?.path === target.stopAt!.file && f.line === target.stopAt!.line);
      assert.ok(at, `a frame at the stop line: ${frames.map((f) => `${f.name} ${f.source?.name}:${f.line}`).join(' | ')}`);
      const pids = await c.close();
      for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
    });
  }

  test('the fork filter stops everything after the fork, with the fork on top', async () => {
    const c = await conversation(server);
    await c.launch({ program: PIPE, cwd: join(ROOT, 'demos/pipe'), stopOn: ['fork'] });
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'exception');
    assert.equal(stop.body.description, 'Fork');
    const frames = await c.frames(stop.body.threadId!);
    assert.match(frames[0].name, /^fork\(how=fork\) = \d+ — Fork$/, frames.map((f) => f.name).join(' | '));
    assert.equal(frames[0].line, lineOf(PIPE_C, 'pid_t pid = fork();'));
    const ev = await c.dc.evaluateRequest({ expression: 'events 5', context: 'repl' });
    assert.equal(ev.body.result.split('\n').length, 5);
    await assert.rejects(c.dc.evaluateRequest({ expression: 'frobnicate', context: 'repl' }), /unknown command 'frobnicate'/);
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('the copy-on-write filter stops at a fault on a page the snapshot after fork shows shared', async () => {
    const c = await conversation(server);
    const cursors: number[] = [];
    c.dc.on('ipcScope.cursor', (e: DebugProtocol.Event) => cursors.push((e.body as { index: number }).index));
    // A child that exits the moment it has written can be gone before the pause reaches it (docs/stepping.md): this
    // one waits 5 s after its writes, so the test checks the filter's verdict, not the machine's load.
    await c.launch({ program: join(bin, 'cow_hold'), stopOn: ['cow'] });
    const stop = await c.nextStop(60_000);
    assert.equal(stop.body.reason, 'exception');
    assert.equal(stop.body.description, 'Copy-on-write fault');
    const store = c.session.liveCollector!.store;
    await new Promise((r) => setTimeout(r, 100));
    const fault = cursors[0]; // the stop puts the editor's cursor on the event it stopped for
    assert.equal(store.kindAt(fault), kindId('page_fault'), 'the stop is at a page fault');
    assert.equal(store.tidAt(fault), stop.body.threadId);
    // Checked independently of the filter: a model of everything recorded, the page's state just before the fault.
    const m = new TraceModel(store);
    m.update({ flush: true });
    const pid = store.pidAt(fault), addr = store.argAt(fault, 0), ts = store.tsAt(fault);
    const track = m.pages.find(pid, addr);
    assert.ok(track, `a snapshot covers ${addr.toString(16)} in pid ${pid}`);
    const page = Number((addr - track.start) / 4096n);
    assert.equal(m.pages.statesAt(track, ts - 1n).states[page], 2, 'the page was shared (copy-on-write) when it faulted');
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('continue to a SIGUSR1 handler through the signal filter', async () => {
    const c = await conversation(server);
    await c.launch({ program: join(bin, 'sigusr') }, () => c.dc.setExceptionBreakpointsRequest({ filters: ['signal'] }));
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'exception');
    assert.equal(stop.body.description, 'Signal delivered');
    const frames = await c.frames(stop.body.threadId!);
    assert.match(frames[0].name, /^signal_handler\(SIGUSR1, senderPid=\d+/, frames.map((f) => f.name).join(' | '));
    assert.equal(frames[0].source?.name, 'sigusr.c');
    assert.equal(frames[0].line, lineOf(join(TARGETS, 'sigusr.c'), 'static void on_usr1(int sig) {'));
    const call = await c.variables(frames[0].id, 'Call');
    assert.match(call.find((v) => v.name === 'sig')!.value, /^SIGUSR1/);
    await c.dc.continueRequest({ threadId: stop.body.threadId! });
    await c.event('terminated', 20_000);
    assert.match(c.output, /handler: got SIGUSR1/);
    await c.close();
  });

  test('a contended mutex stops with the holder shown', async () => {
    const c = await conversation(server);
    await c.launch({ program: join(bin, 'mutex') }, () => c.dc.setExceptionBreakpointsRequest({ filters: ['lockContended'] }));
    const stop = await c.nextStop();
    assert.equal(stop.body.description, 'Lock contended');
    const frames = await c.frames(stop.body.threadId!);
    assert.match(frames[0].name, /^mutex_lock\(mutex=0x[0-9a-f]+, how=lock\)$/, frames.map((f) => f.name).join(' | '));
    assert.equal(frames[0].line, lineOf(join(TARGETS, 'mutex.c'), 'pthread_mutex_lock(&m); /* contended'));
    const call = await c.variables(frames[0].id, 'Call');
    const holder = call.find((v) => v.name === 'holder')!.value;
    const threads = (await c.dc.threadsRequest()).body.threads;
    const worker = threads.find((t) => t.id !== stop.body.threadId);
    assert.ok(worker, JSON.stringify(threads));
    assert.equal(holder, `pid ${c.pid(stop.body.threadId!)} tid ${worker.id}`);
    const locks = await c.dc.evaluateRequest({ expression: 'locks', context: 'repl' });
    assert.match(locks.body.result, new RegExp(`held by pid \\d+ tid ${worker.id}`));
    await c.close();
  });

  test('the deadlock filter stops everything on the AB-BA deadlock and shows the cycle', async () => {
    const c = await conversation(server);
    await c.launch({ program: join(ROOT, 'demos/deadlock/build/deadlock'), args: ['abba'], cwd: join(ROOT, 'demos/deadlock') },
      () => c.dc.setExceptionBreakpointsRequest({ filters: ['deadlock'] }));
    const stop = await c.nextStop(60_000);
    assert.equal(stop.body.reason, 'exception');
    assert.match(stop.body.description ?? '', /^Deadlock detected: \d+\/\d+ waits in mutex_lock → \d+\/\d+ waits in mutex_lock$/);
    const threads = (await c.dc.threadsRequest()).body.threads;
    assert.ok(threads.filter((t) => /blocked in mutex_lock/.test(t.name)).length >= 2, threads.map((t) => t.name).join('\n'));
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('all-stop: Pause holds every thread at its next traced call until Continue', async () => {
    const c = await conversation(server);
    await c.launch({ program: join(bin, 'threads') });
    await new Promise((r) => setTimeout(r, 300));
    await c.dc.pauseRequest({ threadId: 0 });
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'pause');
    assert.equal(stop.body.allThreadsStopped, true);
    await new Promise((r) => setTimeout(r, 200));
    const store = c.session.liveCollector!.store;
    const threads = (await c.dc.threadsRequest()).body.threads;
    const workers = threads.filter((t) => /paused at write/.test(t.name));
    assert.equal(workers.length, 3, threads.map((t) => t.name).join('\n'));
    // Held: nothing moves for half a second (the page-table snapshot taken at the stop comes from the shim's own
    // sender thread, so it does not count).
    const programEvents = () => { let n = 0; for (let i = 0; i < store.count; i++) if (!SNAPSHOT_KINDS.has(store.kindAt(i))) n++; return n; };
    const n0 = programEvents();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(programEvents(), n0, 'no thread ran while all were held');
    await c.dc.continueRequest({ threadId: stop.body.threadId! });
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(programEvents() > n0 + 30, `threads run again after Continue (${programEvents() - n0} events)`);
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });

  test('a stop takes a page-table snapshot (reason pause) of the stopped process and its threads stay held', async () => {
    const c = await conversation(server);
    await c.launch({ program: join(bin, 'threads') });
    await new Promise((r) => setTimeout(r, 300));
    await c.dc.pauseRequest({ threadId: 0 });
    const stop = await c.nextStop();
    assert.equal(stop.body.reason, 'pause');
    const pid = c.pid(stop.body.threadId!);
    const store = c.session.liveCollector!.store;
    const DONE = kindId('snapshot_done'), CHUNK = kindId('page_snapshot');
    let done = -1;
    for (let t = 0; t < 100 && done < 0; t++) {
      for (let i = 0; i < store.count; i++) if (store.kindAt(i) === DONE && store.pidAt(i) === pid && store.argAt(i, 3) === SNAPSHOT_PAUSE) done = i;
      if (done < 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(done >= 0, `snapshot_done with reason pause from pid ${pid}; output:\n${c.output}`);
    const seq = store.argAt(done, 0), mappings = store.argAt(done, 1), pages = store.argAt(done, 2);
    let chunks = 0, chunkPages = 0n;
    for (let i = 0; i < done; i++) {
      if (store.kindAt(i) !== CHUNK || store.pidAt(i) !== pid || store.argAt(i, 6) !== seq) continue;
      assert.equal(store.argAt(i, 5), SNAPSHOT_PAUSE);
      chunks++;
      chunkPages += store.argAt(i, 3);
    }
    assert.ok(mappings > 0n && chunks >= Number(mappings), `${chunks} chunks for ${mappings} mappings`);
    assert.equal(chunkPages, pages, 'the chunks add up to the pages snapshot_done counts');
    const threads = (await c.dc.threadsRequest()).body.threads;
    assert.equal(threads.filter((t) => /paused at write/.test(t.name)).length, 3, threads.map((t) => t.name).join('\n'));
    const pids = await c.close();
    for (const p of pids) assert.ok(!alive(p), `pid ${p} still running after Stop`);
  });
});
