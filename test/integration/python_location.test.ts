// Python targets name their Python file and line (issues 3 and 6): real python3 scripts recorded with `ipcscope record`
// under the real shim, with the launcher's sitecustomize installing the shim's profile hook. Each fixture marks its
// calls with `# @name` comments; the test finds their lines there and checks the model's call sites against them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CallSiteResolver } from '../../src/common/model/callsites';
import { TraceModel } from '../../src/common/model/model';
import { TimelineData } from '../../src/common/timelineData';
import type { EventStore } from '../../src/common/store';
import type { TraceEvent } from '../../src/common/traceEvent';
import { arg, blobText, compileC, events, recordProgram, whyNoShim, ROOT, type EventFilter } from '../helpers/record';

const skip = whyNoShim();
const FIX = join(ROOT, 'test/fixtures/python');
/** The interpreters to try: python3 on PATH, and Debian's own when it is another one (pyenv, venv). */
const PYTHONS = ['python3', ...(existsSync('/usr/bin/python3') ? ['/usr/bin/python3'] : [])];

/** Line numbers of a fixture's `# @name` markers. */
function markers(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  readFileSync(join(FIX, file), 'utf8').split('\n').forEach((l, i) => {
    const m = /#\s*@(\w+)/.exec(l);
    if (m) out[m[1]] = i + 1;
  });
  return out;
}

/**
 * The process that ran `file`, and the index of its python image's proc_start: python3 on PATH may be a pyenv shim, a
 * shell that runs helpers then execs the interpreter in the same pid, so events of that pid before it are the shell's.
 */
function scriptProcess(store: EventStore, file: string): { pid: number; from: number } {
  const c = store.connections().find((x) => x.argv.includes(file));
  if (!c) throw new Error(`no process ran ${file}: ${JSON.stringify(store.connections().map((x) => x.argv))}`);
  const starts = events(store, 'proc_start', { pid: c.pid });
  return { pid: c.pid, from: starts.length ? starts[starts.length - 1].index : 0 };
}
/** events() of the script's python image only. */
function pyEvents(store: EventStore, file: string, kind: string, f: EventFilter = {}): TraceEvent[] {
  const p = scriptProcess(store, file);
  return events(store, kind, { pid: p.pid, ...f }).filter((e) => e.index > p.from);
}

async function recordPython(script: string, opts: { python?: string; env?: NodeJS.ProcessEnv; args?: string[] } = {}) {
  const r = await recordProgram(opts.python ?? 'python3', opts.args ?? [join(FIX, script)], { timeoutMs: 60_000, env: opts.env, recordArgs: ['--no-page-faults'] });
  const m = new TraceModel(r.store);
  m.update({ flush: true });
  const sites = new CallSiteResolver(m);
  const where = (e: TraceEvent) => sites.forEvent(e.index);
  return { r, m, where, file: join(FIX, script), lines: script ? markers(script) : {} };
}

for (const python of PYTHONS) {
  test(`${python}: a pipe between a parent and its forked child: the write and the read name their own lines`, { skip }, async () => {
    const { r, m, where, file, lines } = await recordPython('pipe_fork.py', { python });
    assert.equal(r.exit.status, 0, r.stderr);
    assert.match(r.stdout, /child status 0/);
    assert.doesNotMatch(r.stderr, /ipcscope: .*not recorded/);
    const s = r.store;
    const parent = scriptProcess(s, file).pid;
    const [pipe] = pyEvents(s, file, 'pipe');
    const ino = arg(pipe, 'pipe', 'ino');
    const child = Number(pyEvents(s, file, 'fork')[0].result);
    const [write] = pyEvents(s, file, 'write', { phase: 'end', args: { ino } });
    const [read] = events(s, 'read', { pid: child, phase: 'end', args: { ino } });
    assert.equal(blobText(write), 'hello from the parent');
    assert.equal(blobText(read), 'hello from the parent');
    assert.deepEqual(where(pipe), { ...where(pipe), source: 'python', file, line: lines.pipe, text: `${file}:${lines.pipe}` });
    assert.deepEqual([where(write).file, where(write).line], [file, lines.write]);
    assert.deepEqual([where(read).file, where(read).line], [file, lines.read], 'the fork child sends its own location');
    // A blocking call's begin and end were made on the same line.
    const [wb] = pyEvents(s, file, 'write', { phase: 'begin', args: { ino } });
    assert.equal(m.pythonLocation(wb.index)?.line, lines.write);
    // The fork is the parent's line @fork; its return in the child is on that line too.
    assert.equal(m.pythonLocation(pyEvents(s, file, 'fork')[0].index)?.line, lines.fork);
    // Interpreter start-up (imports before the script's first line) has no Python location.
    const firstRead = pyEvents(s, file, 'read')[0];
    assert.equal(m.pythonLocation(firstRead.index), undefined);
    // The timeline's details pane reads the same location from the trace.
    const td = new TimelineData(s);
    assert.deepEqual(td.details(write.index).source, { file, line: lines.write });
    assert.deepEqual(td.details(read.index).source, { file, line: lines.read });
    r.cleanup();
  });
}

test('calls made inside the standard library are charged to the user line that called it', { skip }, async () => {
  const { r, where, file, lines } = await recordPython('via_stdlib.py');
  assert.equal(r.exit.status, 0, r.stderr);
  assert.match(r.stdout, /from-sh\n[^]*through multiprocessing/);
  const s = r.store;
  const parent = scriptProcess(s, file).pid;
  // subprocess.run: its error pipe (os.pipe in subprocess.py) and its fork/spawn of `true`.
  const pipes = pyEvents(s, file, 'pipe');
  assert.ok(pipes.length >= 1, 'subprocess made a pipe');
  for (const p of pipes.slice(0, 1)) assert.deepEqual([where(p).file, where(p).line], [file, lines.run], where(p).text);
  const spawned = [...pyEvents(s, file, 'fork'), ...pyEvents(s, file, 'spawn')];
  assert.ok(spawned.length >= 1, 'subprocess started a process');
  // the first is subprocess.run's; SharedMemory starts multiprocessing's resource tracker later, from its own line
  spawned.sort((x, y) => x.index - y.index);
  assert.deepEqual([where(spawned[0]).file, where(spawned[0]).line], [file, lines.run], where(spawned[0]).text);
  for (const e of spawned) assert.ok([lines.run, lines.shm].includes(where(e).line ?? 0) && where(e).file === file, where(e).text);
  // After its exec, sh is not that Python code: its write of "from-sh" has no Python location.
  const shWrite = events(s, 'write', { phase: 'end' }).find((e) => blobText(e) === 'from-sh\n');
  assert.ok(shWrite, 'sh wrote from-sh');
  assert.notEqual(shWrite.pid, parent);
  assert.notEqual(where(shWrite).source, 'python', where(shWrite).text);
  assert.equal(new TimelineData(s).details(shWrite.index).source?.file?.endsWith('.py') ?? false, false);
  // multiprocessing.Pipe: a socketpair made in connection.py, written and read in connection.py.
  const [pair] = pyEvents(s, file, 'socketpair');
  assert.ok(pair, 'multiprocessing.Pipe made a socketpair');
  assert.deepEqual([where(pair).file, where(pair).line], [file, lines.mpipe]);
  const ends = new Set([arg(pair, 'socketpair', 'ino0'), arg(pair, 'socketpair', 'ino1')]);
  const sends = pyEvents(s, file, 'write', { phase: 'end' }).filter((e) => ends.has(arg(e, 'write', 'ino'))).filter((e) => blobText(e).includes('through multiprocessing'));
  assert.ok(sends.length >= 1, 'the pickled message was written');
  for (const e of sends) assert.deepEqual([where(e).file, where(e).line], [file, lines.send], `${e.kind} ${e.index} ${blobText(e)}`);
  const recvs = pyEvents(s, file, 'read', { phase: 'end' }).filter((e) => ends.has(arg(e, 'read', 'ino'))).filter((e) => blobText(e).includes('through multiprocessing'));
  assert.ok(recvs.length >= 1, 'the pickled message was read');
  for (const e of recvs) assert.deepEqual([where(e).file, where(e).line], [file, lines.recv], `${e.kind} ${e.index} ${blobText(e)}`);
  // SharedMemory(create=True): shm_open, ftruncate and the mmap.mmap type call inside shared_memory.py.
  const [shmOpen] = pyEvents(s, file, 'shm_open');
  assert.ok(shmOpen, 'SharedMemory called shm_open');
  const shmName = blobText(shmOpen).replace(/\0+$/, '');
  const [trunc] = pyEvents(s, file, 'ftruncate');
  const shmMap = pyEvents(s, file, 'mmap').find((e) => e.index > shmOpen.index && arg(e, 'mmap', 'length') === 4096n && arg(e, 'mmap', 'fd') !== 0xffffffffffffffffn);
  assert.ok(trunc && shmMap, 'ftruncate and mmap of the shared block');
  for (const e of [shmOpen, trunc, shmMap]) assert.deepEqual([where(e).file, where(e).line], [file, lines.shm], `${e.kind} ${where(e).text}`);
  const [unlink] = pyEvents(s, file, 'shm_unlink');
  assert.equal(blobText(unlink).replace(/\0+$/, ''), shmName);
  assert.deepEqual([where(unlink).file, where(unlink).line], [file, lines.unlink]);
  r.cleanup();
});

test('threads: each threading.Thread write names its own function line; the main thread its read', { skip }, async () => {
  const { r, where, file, lines } = await recordPython('threads.py');
  assert.equal(r.exit.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'first thread.second thread');
  const s = r.store;
  const parent = scriptProcess(s, file).pid;
  const writes = pyEvents(s, file, 'write', { phase: 'end', args: { otype: 'pipe' } });
  const w1 = writes.find((e) => blobText(e) === 'first thread.'), w2 = writes.find((e) => blobText(e) === 'second thread');
  assert.ok(w1 && w2, 'both threads wrote');
  assert.notEqual(w1.tid, parent);
  assert.notEqual(w2.tid, parent);
  assert.deepEqual([where(w1).file, where(w1).line], [file, lines.first]);
  assert.deepEqual([where(w2).file, where(w2).line], [file, lines.second]);
  const [rd] = pyEvents(s, file, 'read', { tid: parent, phase: 'end', args: { otype: 'pipe' } });
  assert.deepEqual([where(rd).file, where(rd).line], [file, lines.main]);
  r.cleanup();
});

test("the user's own sitecustomize on PYTHONPATH still runs, and lines are still recorded", { skip }, async () => {
  const { r, where, file, lines } = await recordPython('user_site.py', { env: { PYTHONPATH: join(FIX, 'usersite') } });
  assert.equal(r.exit.status, 0, r.stderr);
  assert.match(r.stdout, /user sitecustomize: yes/);
  const [w] = pyEvents(r.store, file, 'write', { phase: 'end', args: { otype: 'pipe' } });
  assert.deepEqual([where(w).file, where(w).line], [file, lines.write]);
  r.cleanup();
});

test('python3 -c and a C program send no python_location at all', { skip }, async () => {
  const c = await recordPython('', { args: ['-c', 'import os\nr, w = os.pipe()\nos.write(w, b"from -c")\n'] });
  assert.equal(c.r.exit.status, 0, c.r.stderr);
  assert.ok(events(c.r.store, 'write', { phase: 'end', args: { otype: 'pipe' } }).some((e) => blobText(e) === 'from -c'));
  assert.equal(events(c.r.store, 'python_location').length, 0);
  c.r.cleanup();
  const bin = compileC('test/fixtures/record/pipe_parent_child.c');
  const r = await recordProgram(bin, [], { recordArgs: ['--no-page-faults'] });
  assert.equal(r.exit.status, 0, r.stderr);
  assert.ok(events(r.store, 'write', { phase: 'end' }).length >= 3);
  assert.equal(events(r.store, 'python_location').length, 0);
  r.cleanup();
});
