// The trace model on real recordings: real C programs under the real shim, recorded with `ipcscope record`, read
// back from the .ipctrace, and checked against what the programs did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, compileC, recordProgram, tempDir, whyNoShim, arg } from '../helpers/record';
import { TraceModel, findings, waitForGraph, summarize, decodePerfetto, chromeTrace, PAGE_STATE_NAMES, type Summary } from '../../src/common/model';
import { kindId } from '../../src/common/vocabulary';
import { Collector } from '../../src/common/collector';
import { TracedProcess } from '../../src/common/launcher';

const skip = whyNoShim();
const FIX = 'test/fixtures/model';

async function model(prog: string, args: string[] = [], opts: Parameters<typeof recordProgram>[2] = {}) {
  const bin = compileC(`${FIX}/${prog}.c`);
  const r = await recordProgram(bin, args, { timeoutMs: 60_000, ...opts });
  const m = new TraceModel(r.store);
  m.update({ flush: true });
  return { r, m };
}

test('partial reads: each pipe read is matched to the bytes of the writes it consumed', { skip }, async () => {
  const { r, m } = await model('partial_reads');
  assert.equal(r.exit.code, 0, r.stderr);
  const W = kindId('write'), R = kindId('read');
  const flows = m.flows.filter((f) => f.kind === 'pipe' && f.bytes > 1);
  // Writes of 100, 300 and 50 bytes; reads of up to 64 bytes.
  const perWrite = new Map<number, number>(), perRead = new Map<number, number>();
  for (const f of flows) {
    perWrite.set(f.from.index, (perWrite.get(f.from.index) ?? 0) + f.bytes);
    perRead.set(f.to.index, (perRead.get(f.to.index) ?? 0) + f.bytes);
    assert.equal(r.store.get(f.from.index).kind, W);
    assert.equal(r.store.get(f.to.index).kind, R);
  }
  const writeSizes = [...perWrite.entries()].sort((a, b) => a[0] - b[0]).map(([i, b]) => [Number(r.store.get(i).result), b]);
  assert.deepEqual(writeSizes, [[100, 100], [300, 300], [50, 50]]);
  for (const [i, b] of perRead) assert.equal(Number(r.store.get(i).result), b, 'every byte a read got came from a matched write');
  // 450 bytes in reads of at most 64: the 100-byte write is split across reads, and a read spans two writes.
  assert.ok(flows.length >= 8);
  assert.ok([...perRead.keys()].some((i) => flows.filter((f) => f.to.index === i).length === 2), 'some read consumed two writes');
  // Each read's preview starts with the letter of the write its first flow came from.
  for (const [i] of perRead) {
    const first = flows.filter((f) => f.to.index === i).sort((a, b) => a.id - b.id)[0];
    const rd = r.store.get(i), wr = r.store.get(first.from.index);
    assert.equal(rd.blob?.[0], wr.blob?.[0]);
  }
});

test('two writers to one FIFO: every read byte attributed to the writer that wrote it', { skip }, async () => {
  // Previews as long as the reads (100 bytes), so the reader's bytes settle every writer's place in the stream.
  const { r, m } = await model('fifo_two_writers', [join(tempDir(), `fifo-${process.pid}`)], { recordArgs: ['--payload-bytes', '128'] });
  assert.equal(r.exit.code, 0, r.stderr);
  const flows = m.flows.filter((f) => f.kind === 'fifo');
  assert.equal(flows.reduce((s, f) => s + f.bytes, 0), 16000);
  const writers = new Set(flows.map((f) => f.from.pid));
  assert.equal(writers.size, 2);
  // Records are all-'A' or all-'B': check every flow's bytes against the reader's preview where it covers them.
  const offsetInRead = new Map<number, number>();
  let checked = 0;
  for (const f of [...flows].sort((a, b) => a.id - b.id)) {
    const rd = r.store.get(f.to.index), wr = r.store.get(f.from.index);
    const off = offsetInRead.get(f.to.index) ?? 0;
    offsetInRead.set(f.to.index, off + f.bytes);
    if (rd.blob && off < rd.blob.length) { assert.equal(rd.blob[off], wr.blob![0], `flow ${f.id}`); checked++; }
  }
  assert.equal(checked, flows.length, 'every flow checked against what the reader saw');
  const o = m.objects.get(flows[0].object)!;
  assert.equal(o.type, 'fifo');
  assert.equal(o.pids.size, 3);
});

test('message queue with priorities: received highest first, each matched to its send', { skip }, async () => {
  const { r, m } = await model('mq_prio');
  assert.equal(r.exit.code, 0, r.stderr);
  const flows = m.flows.filter((f) => f.kind === 'mq').sort((a, b) => (a.to.ts < b.to.ts ? -1 : 1));
  assert.equal(flows.length, 6);
  assert.deepEqual(flows.map((f) => f.detail), [9, 5, 5, 3, 1, 0]);
  for (const f of flows) {
    assert.equal(arg(r.store.get(f.from.index), 'mq_send', 'prio'), BigInt(f.detail!));
    assert.equal(new TextDecoder().decode(r.store.get(f.to.index).blob).replace(/\0.*$/s, ''), new TextDecoder().decode(r.store.get(f.from.index).blob).replace(/\0.*$/s, ''));
  }
  // Equal priorities keep send order.
  const fives = flows.filter((f) => f.detail === 5);
  assert.ok(fives[0].from.ts < fives[1].from.ts);
});

test('sockets: socketpair and TCP bytes matched both ways (even sent before accept), SCM_RIGHTS fd passed and used', { skip }, async () => {
  const { r, m } = await model('sockets');
  assert.equal(r.exit.code, 0, r.stderr);
  const parent = r.store.connections()[0].pid;
  const child = [...m.processes.values()].find((p) => p.ppid === parent)!.pid;
  const sum = (kind: string, from: number, to: number) => m.flows.filter((f) => f.kind === kind && f.from.pid === from && f.to.pid === to).reduce((a, f) => a + f.bytes, 0);
  // parent → child: 3 × "ping" and the 100 echoed bytes over TCP and the 1 byte carrying SCM_RIGHTS; back: "pong" + 100.
  assert.equal(sum('socket', parent, child), 12 + 100 + 1);
  assert.equal(sum('socket', child, parent), 4 + 100);
  // A socket flow's object is the sending end: the two TCP ends each sent 100 bytes, and are each other's peers.
  const sent = (key: string) => m.flows.filter((f) => f.kind === 'socket' && f.object === key).reduce((a, f) => a + f.bytes, 0);
  const tcp = [...m.objects.values()].filter((o) => o.type === 'socket' && sent(o.key) === 100);
  assert.equal(tcp.length, 2, 'both TCP ends sent 100 bytes');
  assert.deepEqual([tcp[0].peer, tcp[1].peer], [tcp[1].key, tcp[0].key]);
  // The passed fd: one fd flow, the child got a pipe fd by scm_rights and wrote 13 bytes through it.
  const fd = m.flows.filter((f) => f.kind === 'fd');
  assert.equal(fd.length, 1);
  assert.deepEqual([fd[0].from.pid, fd[0].to.pid], [parent, child]);
  const passed = m.objects.get(fd[0].object)!;
  assert.equal(passed.type, 'pipe');
  assert.ok(passed.fds.some((f) => f.pid === child && f.how === 'scm_rights' && f.end === 'w'));
  assert.equal(sum('pipe', child, parent), 13);
});

test('signal storm: 10,000 SIGUSR1 sent, deliveries counted exactly, coalescing reported', { skip }, async () => {
  const { r, m } = await model('signal_storm');
  assert.equal(r.exit.code, 0, r.stderr);
  const handled = Number(/delivered (\d+)/.exec(r.stdout)![1]);
  const usr1 = m.signalStats().find((s) => s.sig === 10)!;
  assert.equal(usr1.sent, 10000);
  assert.equal(usr1.delivered, handled, 'delivered = handler runs the program counted');
  assert.ok(usr1.delivered <= usr1.sent);
  const flows = m.flows.filter((f) => f.kind === 'signal' && f.detail === 10);
  assert.equal(flows.length, usr1.delivered, 'every delivery has its arrow from a kill');
  assert.ok(flows.every((f) => f.from.pid !== f.to.pid));
  const s = summarize(m, { callSites: false });
  assert.ok(s.findings.some((f) => f.kind === 'signals-coalesced' && f.message.startsWith(`signal 10: 10000 sent, ${handled} delivered`)));
  assert.ok(!s.findings.some((f) => f.kind === 'eintr-not-retried'), 'pause() returning EINTR is its normal return');
});

test('mutex handed between 4 threads: contention counted, waits attributed to the holder', { skip }, async () => {
  const { r, m } = await model('mutex_handoff');
  assert.equal(r.exit.code, 0, r.stderr);
  const locks = m.lockStats().filter((l) => l.kind === 'mutex' && l.acquisitions >= 800);
  assert.equal(locks.length, 1);
  const l = locks[0];
  assert.equal(l.acquisitions, 800);
  const L = kindId('mutex_lock');
  const waits = m.waits.filter((w) => w.kind === L && w.object === l.key);
  assert.equal(l.contended, waits.length);
  assert.ok(l.contended > 0, 'some acquisitions waited');
  assert.equal(l.holders.size, 4);
  assert.ok(l.maxHoldNs >= 50_000n);
  for (const w of waits) {
    assert.ok(w.holders && w.holders.length === 1 && w.holders[0].tid !== w.tid, 'a waiter waited for another thread holding it');
    assert.ok(w.by && w.by.tid !== w.tid, 'the wait ended by a release of another thread');
  }
  const handoffs = m.flows.filter((f) => f.kind === 'lock' && f.object === l.key);
  assert.ok(handoffs.length >= waits.length);
  // Each hand-off goes from one thread's unlock to another thread's lock (the shim stamps an unlock when
  // pthread_mutex_unlock starts, so it comes before the lock it allowed).
  const U = kindId('mutex_unlock');
  assert.ok(handoffs.every((f) => f.from.tid !== f.to.tid && r.store.get(f.from.index).kind === U && r.store.get(f.to.index).kind === L));
});

test('two-pipe deadlock (both write 1 MiB before reading) is a wait-for cycle', { skip }, async () => {
  const { r, m } = await model('pipe_deadlock');
  assert.notEqual(r.exit.code, 0, 'alarm ended the hang');
  const g = waitForGraph(m);
  assert.equal(g.deadlocks.length, 1);
  const d = g.deadlocks[0];
  assert.equal(d.threads.length, 2);
  assert.ok(d.waits.every((w) => w.kind === kindId('write') && w.t1 === undefined));
  assert.equal(new Set(d.waits.map((w) => w.pid)).size, 2);
  const f = findings(m).filter((x) => x.kind === 'deadlock');
  assert.equal(f.length, 1);
  assert.equal(f[0].events.length, 2);
});

test('ABBA lock order is reported as a potential deadlock although the run did not hang', { skip }, async () => {
  const { r, m } = await model('abba');
  assert.equal(r.exit.code, 0, r.stderr);
  const f = findings(m);
  assert.equal(f.filter((x) => x.kind === 'lock-order-inversion').length, 1);
  assert.equal(f.filter((x) => x.kind === 'deadlock').length, 0);
  const inv = f.find((x) => x.kind === 'lock-order-inversion')!;
  assert.equal(inv.events.length, 4);
  assert.ok(inv.events.every((i) => r.store.get(i).kind === kindId('mutex_lock')));
});

test('condition variable misuse on a real run: lost wakeup and a signal without the mutex', { skip }, async () => {
  const { r, m } = await model('cond_misuse');
  assert.equal(r.exit.code, 0, r.stderr);
  assert.match(r.stdout, /timedwait 110 wait 0/, 'the program saw the lost wakeup time out');
  const f = findings(m);
  const lost = f.filter((x) => x.kind === 'lost-wakeup');
  assert.equal(lost.length, 1, JSON.stringify(f.map((x) => x.message)));
  assert.deepEqual(lost[0].events.map((i) => r.store.get(i).kind), [kindId('cond_signal'), kindId('cond_wait')]);
  assert.match(lost[0].message, /timed out/);
  const unlocked = f.filter((x) => x.kind === 'cond-signal-without-mutex');
  assert.equal(unlocked.length, 1);
  assert.equal(r.store.get(unlocked[0].events[0]).kind, kindId('cond_signal'));
  // The second wait was ended by that signal.
  const waits = m.waits.filter((w) => w.kind === kindId('cond_wait'));
  assert.equal(waits.length, 2);
  assert.equal(waits[1].by?.index, unlocked[0].events[0]);
});

test('wake-ups on one CPU: every condition-variable wait that blocked is ended by a signal stamped before its end', { skip }, async () => {
  // The woken thread usually runs before the signalling call returns; the shim stamps signals, unlocks and posts
  // when the call starts, so the signal comes first in time order and the model can name it.
  const { r, m } = await model('wake_order');
  assert.equal(r.exit.code, 0, r.stderr);
  assert.match(r.stdout, /300 rounds/);
  const waits = m.waits.filter((w) => w.kind === kindId('cond_wait'));
  assert.ok(waits.length >= 100, `${waits.length} cond waits`);
  const unnamed = waits.filter((w) => !w.by);
  assert.equal(unnamed.length, 0, `${unnamed.length} of ${waits.length} cond waits without the signal that ended them`);
  for (const w of waits) assert.equal(r.store.get(w.by!.index).kind, kindId('cond_signal'));
  for (const w of m.waits.filter((x) => x.kind === kindId('mutex_lock') && x.by))
    assert.ok(w.by!.ts <= w.t1!, 'a lock wait ends after the unlock that ended it');
});

test('copy-on-write: a child writing half the pages of a 16 MiB private mapping leaves exactly that many private', { skip }, async () => {
  const { r, m } = await model('cow_half');
  assert.equal(r.exit.code, 0, r.stderr);
  const parent = r.store.connections()[0].pid;
  const child = [...m.processes.values()].find((p) => p.ppid === parent)!.pid;
  const mm = r.store.get([...Array(r.store.count).keys()].find((i) => r.store.kindAt(i) === kindId('mmap') && r.store.argAt(i, 1) === 16n << 20n)!);
  const addr = BigInt.asUintN(64, mm.result);
  const track = m.pages.trackList(child).find((t) => t.start <= addr && addr < t.end);
  assert.ok(track, 'the 16 MiB mapping was snapshotted in the child');
  const first = Number((addr - track.start) / 4096n);
  const { states: all, method } = m.pages.statesAt(track, m.lastNs!);
  const states = all.subarray(first, first + 4096);
  const count = (s: number) => states.filter((x) => x === s).length;
  assert.equal(count(1) + count(3), 2048, `private pages (${method}); states: ${PAGE_STATE_NAMES.map((n, i) => `${n} ${count(i)}`).join(', ')}`);
  assert.equal(count(2), 2048, 'the other half still shared with the parent');
  // The written pages are every other one.
  for (let p = 0; p < 4096; p += 2) assert.notEqual(states[p], 2, `page ${p}`);
  // Right after the fork everything was shared (the fork-time snapshot of the child).
  const early = m.pages.statesAt(track, track.snapshots[0].ts).states.subarray(first, first + 4096);
  assert.equal(early.filter((x) => x === 2).length, 4096);
  // In between, the sampled faults turn shared pages into copies one at a time (the seed experiment).
  const faults = track.faults.filter((f) => f.page >= first && f.page < first + 4096);
  assert.equal(faults.length, 2048, 'one copy-on-write fault per written page');
  const last = track.snapshots[track.snapshots.length - 1].ts;
  let prev = -1;
  for (const f of faults.filter((_, k) => k % 256 === 255)) {
    const copied = m.pages.statesAt(track, f.ts).states.subarray(first, first + 4096).filter((x) => x === 3).length;
    assert.ok(copied > prev, 'more copies after every fault');
    prev = copied;
  }
  assert.equal(m.pages.statesAt(track, last - 1n).states.subarray(first, first + 4096).filter((x) => x === 3).length, 2048);
});

test('an fd leaked across exec is a finding; with O_CLOEXEC it is not', { skip }, async () => {
  const leak = await model('leak_exec', ['leak']);
  const lf = findings(leak.m).filter((f) => f.kind === 'leaked-fd-exec');
  assert.equal(lf.length, 2);
  const child = [...leak.m.processes.values()].find((p) => p.argv[0] === 'true')!;
  assert.ok(lf.every((f) => f.pids[0] === child.pid));
  const clean = await model('leak_exec', ['cloexec']);
  assert.equal(findings(clean.m).filter((f) => f.kind === 'leaked-fd-exec').length, 0);
});

test('ipcscope summary --json: every documented field', { skip }, async () => {
  const bin = compileC(`${FIX}/partial_reads.c`);
  const r = await recordProgram(bin, []);
  const out = execFileSync(process.execPath, [CLI, 'summary', '--json', r.tracePath], { encoding: 'utf8' });
  const s = JSON.parse(out) as Summary;
  assert.equal(s.version, 1);
  assert.equal(s.events, r.store.count);
  assert.equal(s.dropped, 0);
  assert.match(s.startNs!, /^\d+$/);
  assert.match(s.endNs!, /^\d+$/);
  assert.equal(Object.values(s.byKind).reduce((a, b) => a + b, 0), r.store.count);
  assert.equal(s.byKind.fork, 1);
  assert.equal(s.processes.length, 2);
  const [parent, child] = s.processes;
  assert.equal(parent.argv[0], bin);
  assert.equal(child.ppid, parent.pid);
  assert.equal(parent.exitCode, 0);
  assert.equal(child.exitCode, 0);
  assert.equal(parent.signal, null);
  assert.deepEqual(Object.keys(s.flows), ['pipe', 'fifo', 'socket', 'mq', 'signal', 'lock', 'fd']);
  assert.deepEqual(Object.keys(s.bytes), ['pipe', 'fifo', 'socket', 'mq', 'signal', 'lock', 'fd']);
  assert.equal(s.bytes.pipe, 451);
  assert.ok(s.flows.pipe >= 9);
  assert.deepEqual(s.locks, []);
  assert.equal(typeof s.pageFaults.minor, 'number');
  assert.equal(typeof s.pageFaults.major, 'number');
  assert.ok(Object.keys(s.pageFaults.perPid).every((p) => s.processes.some((x) => String(x.pid) === p)));
  assert.ok(Array.isArray(s.findings));
  assert.equal(s.objects.pipe, 2);
  assert.equal(s.deadlocks, 0);
  // Human form.
  const text = execFileSync(process.execPath, [CLI, 'summary', r.tracePath], { encoding: 'utf8' });
  assert.match(text, /processes \(2\):/);
  assert.match(text, /pipe +\d+ +451 bytes/);
  // Locks: a recording with a mutex fills every lock field, ns as decimal strings, call sites resolved to source.
  const mt = await recordProgram(compileC(`${FIX}/mutex_handoff.c`), []);
  const ls = (JSON.parse(execFileSync(process.execPath, [CLI, 'summary', '--json', mt.tracePath], { encoding: 'utf8' })) as Summary).locks;
  const l = ls.find((x) => x.acquisitions === 800)!;
  assert.equal(l.kind, 'mutex');
  for (const k of ['waitNs', 'maxWaitNs', 'holdNs', 'maxHoldNs'] as const) assert.match(l[k], /^\d+$/);
  assert.ok(l.contended >= 0 && typeof l.name === 'string');
  assert.ok(l.callSites.some((c) => /worker \(mutex_handoff\.c:10\)/.test(c.site)), JSON.stringify(l.callSites));
});

test('bad input: summary of a missing or garbage file fails clearly', { skip }, async () => {
  const bad = join(tempDir(), 'garbage.ipctrace');
  require('node:fs').writeFileSync(bad, 'not a trace at all');
  for (const [f, why] of [[bad, /not an IPC Scope trace/], [join(tempDir(), 'missing.ipctrace'), /ENOENT/]] as const) {
    assert.throws(() => execFileSync(process.execPath, [CLI, 'summary', f], { encoding: 'utf8', stdio: 'pipe' }), (e: { status: number; stderr: string }) => {
      assert.equal(e.status, 1, e.stderr);
      assert.match(e.stderr, /^ipcscope summary: /);
      assert.match(e.stderr, why);
      return true;
    });
  }
  // A cut-off recording is summarized up to its last whole chunk, with a warning.
  const r = await recordProgram(compileC(`${FIX}/partial_reads.c`), []);
  const cut = join(tempDir(), 'cut.ipctrace');
  const whole = readFileSync(r.tracePath);
  require('node:fs').writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  const res = require('node:child_process').spawnSync(process.execPath, [CLI, 'summary', '--json', '--no-call-sites', cut], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stderr, /warning: .*cut/i);
  const s = JSON.parse(res.stdout) as Summary;
  assert.ok(s.events > 0 && s.events < r.store.count);
});

test('export --format perfetto decodes back with tracks, slices and the model\'s flows; chrome JSON too', { skip }, async () => {
  const bin = compileC(`${FIX}/partial_reads.c`);
  const r = await recordProgram(bin, []);
  const m = new TraceModel(r.store);
  m.update({ flush: true });
  const out = join(tempDir(), 'partial.perfetto-trace');
  execFileSync(process.execPath, [CLI, 'export', '--format', 'perfetto', r.tracePath, '-o', out]);
  const t = decodePerfetto(readFileSync(out));
  const descs = t.packet.filter((p) => p.trackDescriptor).map((p) => p.trackDescriptor);
  const procTracks = descs.filter((d) => d.process), threadTracks = descs.filter((d) => d.thread);
  assert.equal(procTracks.length, 2);
  assert.deepEqual(procTracks.map((d) => d.process.pid).sort(), [...m.processes.keys()].sort());
  assert.equal(threadTracks.length, 2);
  assert.ok(threadTracks.every((d) => procTracks.some((p) => p.uuid === d.parentUuid)));
  const evs = t.packet.filter((p) => p.trackEvent);
  const begins = evs.filter((p) => p.trackEvent.type === 'TYPE_SLICE_BEGIN').length, ends = evs.filter((p) => p.trackEvent.type === 'TYPE_SLICE_END').length;
  assert.equal(begins, ends);
  assert.ok(begins >= 10);
  assert.ok(evs.every((p) => /^\d+$/.test(p.timestamp)));
  const starts = new Set(evs.flatMap((p) => p.trackEvent.flowIds ?? []));
  const terms = new Set(evs.flatMap((p) => p.trackEvent.terminatingFlowIds ?? []));
  const both = [...starts].filter((id) => terms.has(id));
  assert.equal(both.length, m.flows.length, 'every flow of the model is an arrow');
  assert.equal(starts.size, m.flows.length);
  // Chrome JSON: s/f pairs for the same flows, B/E balanced per thread.
  const c = chromeTrace(m);
  const s = c.traceEvents.filter((e) => e.ph === 's').length, f = c.traceEvents.filter((e) => e.ph === 'f').length;
  assert.equal(s, m.flows.length);
  assert.equal(f, m.flows.length);
  const outJson = join(tempDir(), 'partial.json');
  execFileSync(process.execPath, [CLI, 'export', '--format', 'chrome', r.tracePath, '-o', outJson]);
  const parsed = JSON.parse(readFileSync(outJson, 'utf8'));
  assert.equal(parsed.traceEvents.length, c.traceEvents.length);
});

test('live: a model following the collector while the program runs ends with the same answers as one built after', { skip }, async () => {
  const c = await Collector.start({});
  try {
    const live = new TraceModel(c.store, { live: true, follow: true });
    const seen: number[] = [];
    c.store.onAppend(() => seen.push(live.eventsProcessed));
    const p = TracedProcess.launch({ command: compileC(`${FIX}/signal_storm.c`), args: [], collector: c, stdio: 'pipe' });
    assert.equal((await p.exited).code, 0);
    for (let i = 0; i < 200 && c.liveConnections().length; i++) await new Promise((res) => setTimeout(res, 25));
    assert.ok(seen.some((n) => n > 0), 'the live model consumed events while the program ran');
    live.update({ flush: true });
    const batch = new TraceModel(c.store);
    batch.update({ flush: true });
    assert.equal(live.eventsProcessed, c.store.count);
    const key = (m: TraceModel) => m.flows.map((f) => `${f.kind} ${f.from.index}>${f.to.index} ${f.bytes}`).sort();
    assert.deepEqual(key(live), key(batch));
    assert.deepEqual(live.signalStats(), batch.signalStats());
    assert.deepEqual(live.waits.map((w) => [w.begin, w.end]).sort(), batch.waits.map((w) => [w.begin, w.end]).sort());
    live.dispose();
  } finally { await c.close(); }
});
