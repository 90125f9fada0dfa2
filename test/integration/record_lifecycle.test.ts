// `ipcscope record` and process lifecycles: exec, SIGKILL, a closed stdout, a missing program, SIGINT to the
// recorder (the whole tree goes, the trace stays valid), page faults after fork.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, blobText, CLI, compileC, events, recordProgram, rootPid, whyNoShim } from '../helpers/record';

const skip = whyNoShim();
const FIX = 'test/fixtures/record';

/** pids running the program at `path` (its argv[0]). */
function running(path: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    try { return readFileSync(`/proc/${e}/cmdline`, 'latin1').split('\0')[0] === path && alive(Number(e)); } catch { return false; }
  }).map(Number);
}

/** Running (a zombie waiting to be reaped by init is not). */
function alive(pid: number): boolean {
  try { return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

test('a program that execs another: one pid, two images, the exec recorded, the exit status passed on', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/exec_other.c`), ['sh', '-c', 'echo after exec; exit 3']);
  assert.equal(r.exit.status, 3, r.stderr);
  assert.equal(r.stdout, 'before exec\nafter exec\n');
  const s = r.store;
  const pid = rootPid(s);
  const images = s.connections().filter((c) => c.pid === pid);
  assert.deepEqual(images.map((c) => c.origin), ['initial', 'exec']);
  assert.deepEqual(images[1].argv, ['sh', '-c', 'echo after exec; exit 3']);
  const [ex] = events(s, 'exec', { pid, phase: 'begin' });
  assert.ok(ex, 'exec begin in the first image');
  assert.equal(ex.conn, images[0].conn);
  assert.deepEqual(blobText(ex).split('\0').slice(1, 4), ['sh', '-c', 'echo after exec; exit 3']);
  assert.equal(s.closed.get(images[0].conn)?.bye, true, 'the first image said BYE before exec');
  r.cleanup();
});

test('an exec the shim cannot follow (a static program) is named in a note, not left looking complete', { skip }, async () => {
  const st = compileC(`${FIX}/static_hello.c`, { flags: ['-static'] });
  const r = await recordProgram('/bin/sh', ['-c', `${st}; ${st}`]);
  assert.equal(r.exit.status, 0, r.stderr);
  assert.equal(r.stdout, 'static hello\nstatic hello\n');
  const note = r.store.notes.find((n) => /never connected/.test(n.message));
  assert.ok(note, `no note about untraced images; notes: ${r.store.notes.map((n) => n.message).join(" | ")}; stderr: ${r.stderr}`);
  assert.equal(note.level, 'warning');
  assert.match(note.message, new RegExp(`^2 process images never connected, .*after exec of ${st.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(note.message, /statically linked program cannot load the shim/);
  assert.match(r.stderr, /warning: 2 process images never connected/, 'the record summary says it too');
  // a program whose every image connects gets no such note
  const ok = await recordProgram(compileC(`${FIX}/exec_other.c`), ['sh', '-c', 'exit 0']);
  assert.deepEqual(ok.store.notes.filter((n) => /never connected/.test(n.message)), []);
  r.cleanup();
  ok.cleanup();
});

test('a program killed by SIGKILL: exit 137, events before the kill are in the trace, no BYE', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/killed.c`));
  assert.equal(r.exit.status, 137, r.stderr);
  const s = r.store;
  const pid = rootPid(s);
  assert.deepEqual(events(s, 'write', { pid, phase: 'end' }).map((e) => e.result), [11n, 11n, 11n]);
  const conn = s.connections()[0].conn;
  assert.equal(s.closed.get(conn)?.bye, false);
  assert.equal(s.cutOff, undefined, 'the trace itself is complete');
  assert.equal(s.end?.signal, 'SIGKILL');
  assert.match(r.stderr, /killed by SIGKILL/);
  r.cleanup();
});

test('a target whose stdout is closed: its write to fd 1 fails with EBADF and does not disturb the recording', { skip }, async () => {
  // The shell closes fd 1 and execs the fixture: the new image starts with no stdout, so the shim's own socket must
  // not be taken for it (nor the program's fd 1 end up on the shim's connection).
  const bin = compileC(`${FIX}/stdout_closed.c`);
  const r = await recordProgram('sh', ['-c', `exec 1>&-; exec "${bin}"`]);
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const img = s.connections().find((c) => c.exe === bin);
  assert.ok(img, `the fixture's image connected: ${JSON.stringify(s.connections().map((c) => c.exe))}`);
  const w1 = events(s, 'write', { pid: img.pid, phase: 'end', args: { fd: 1 } });
  assert.equal(w1.length, 1);
  assert.equal(w1[0].err, 9, 'EBADF');
  assert.deepEqual(events(s, 'write', { pid: img.pid, phase: 'end', args: { otype: 'pipe' } }).map((e) => e.result), [10n]);
  assert.deepEqual(s.notes.filter((n) => n.level === 'error'), []);
  assert.equal(s.closed.get(img.conn)?.bye, true);
  r.cleanup();
});

test('a missing program: exit 127, a clear message, no trace file left', async () => {
  const r = await recordProgram('ipcscope-no-such-program', ['x']);
  assert.equal(r.exit.status, 127);
  assert.match(r.stderr, /ipcscope record: ipcscope-no-such-program: command not found/);
  assert.equal(existsSync(r.tracePath), false);
  const r2 = await recordProgram('./not/here');
  assert.equal(r2.exit.status, 127);
  assert.match(r2.stderr, /\.\/not\/here: no such file/);
});

test('bad usage exits 2 with a message', async () => {
  const run = (args: string[]) => new Promise<[number | null, string]>((res) => {
    const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let e = '';
    c.stderr.setEncoding('utf8').on('data', (d: string) => { e += d; });
    c.on('close', (code) => res([code, e]));
  });
  assert.deepEqual(await run(['record']), [2, 'ipcscope record: no command to record (usage: ipcscope record [options] -- CMD [ARGS...])\n']);
  const [c2, e2] = await run(['record', '--payload-bytes', 'lots', '--', 'true']);
  assert.equal(c2, 2);
  assert.match(e2, /--payload-bytes must be an integer from 0 to 4096, got 'lots'/);
  const [c3, e3] = await run(['frobnicate']);
  assert.equal(c3, 2);
  assert.match(e3, /unknown command 'frobnicate'/);
  const [c4, e4] = await run(['export', 'x.ipctrace']);
  assert.equal(c4, 2);
  assert.match(e4, /--format is required/);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
test(`${sig} to ipcscope record: the whole tree is gone (even a setsid() grandchild) and the trace is valid`, { skip }, async () => {
  const bin = compileC(`${FIX}/tree_sleep.c`);
  const r = await recordProgram(bin, [], { signalOnStdout: /ready/, signal: sig, timeoutMs: 20_000 });
  const s = r.store;
  assert.equal(s.cutOff, undefined, 'END chunk written');
  assert.ok(s.end);
  // The three pids, from the fixture's fork events or connections (a process killed before its shim flushed may
  // miss some of either); the setsid() grandchild is found by the launcher through its environment.
  const pids = new Set(s.connections().map((c) => c.pid));
  for (const f of events(s, 'fork')) if (f.result > 0n) pids.add(Number(f.result));
  assert.ok(pids.size >= 2, `processes seen: ${[...pids]}`);
  for (const p of pids) assert.equal(alive(p), false, `pid ${p} still running`);
  assert.deepEqual(running(bin), [], 'no process of the fixture is left');
  assert.equal(r.exit.status, 128 + 15, 'the target was stopped with SIGTERM');
  assert.ok(s.notes.some((n) => new RegExp(`got ${sig}: stopping the traced tree`).test(n.message)));
  r.cleanup();
});
}

test('page faults after fork: the child writing every page of a 16 MiB private mapping records ≥ 4096 minor faults', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/cow_faults.c`), [], { recordArgs: ['--no-snapshots'] });
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const parent = rootPid(s);
  const child = Number(events(s, 'fork', { pid: parent })[0].result);
  const [info] = events(s, 'shim_info', { pid: parent });
  assert.ok(info, 'shim_info from the parent');
  assert.equal(arg(info, 'shim_info', 'pageFaults'), 1n, `the shim samples faults (${blobText(info)})`);
  const faults = events(s, 'page_fault', { pid: child, args: { major: 0 } });
  assert.ok(faults.length >= 4096, `${faults.length} minor faults in the child`);
  r.cleanup();
});

test('nothing is lost between shim and trace: per process image, events stored == events the shim said it emitted (BYE)', { skip }, async () => {
  const r = await recordProgram('sh', ['-c', 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "line $i" | cat > /dev/null & done; wait']);
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const stored = new Map<number, number>();
  for (let i = 0; i < s.count; i++) stored.set(s.connAt(i), (stored.get(s.connAt(i)) ?? 0) + 1);
  const images = s.connections();
  assert.ok(images.length >= 25, `${images.length} process images (sh, 12 subshells, 12 cat)`);
  for (const c of images) {
    const closed = s.closed.get(c.conn);
    assert.ok(closed?.bye, `image ${c.conn} (pid ${c.pid} ${c.argv.join(' ')}) ended with BYE`);
    assert.equal(String(stored.get(c.conn) ?? 0), closed.emitted, `image ${c.conn} (pid ${c.pid}): stored vs emitted`);
    assert.equal(closed.dropped, '0');
  }
  assert.equal(s.end?.dropped, 0);
  r.cleanup();
});

test('the shim\'s own event ring does not page-fault in a fork child: its pages are made present ahead (no spurious faults)', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/ring_faults.c`), ['600'], { recordArgs: ['--no-snapshots'] });
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const pids = new Map([...r.stdout.matchAll(/^child (small|big) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  assert.equal(pids.size, 2, r.stdout);
  // the shim's code, from the parent's mapping events (fork children share its layout)
  const shim = events(s, 'mapping', { pid: rootPid(s) }).filter((m) => blobText(m).endsWith('/libipcscope.so'));
  assert.ok(shim.length > 0, 'the shim is among the mappings');
  const inShim = (ip: bigint) => shim.some((m) => ip >= arg(m, 'mapping', 'start') && ip < arg(m, 'mapping', 'end'));
  const shimFaults = (pid: number) => events(s, 'page_fault', { pid }).filter((e) => inShim(arg(e, 'page_fault', 'ip'))).length;
  const small = shimFaults(pids.get('small')!), big = shimFaults(pids.get('big')!);
  // 590 more pairs write ~60 more ring pages: each a fault of the shim's in the child if the ring were not populated
  assert.ok(big - small < 15, `the child writing 590 more pairs had ${big} page faults in the shim's code, the other ${small}`);
  assert.ok(events(s, 'write', { pid: pids.get('big')!, phase: 'end' }).length === 600, 'every write of the big child recorded');
  r.cleanup();
});
