// `ipcscope export --format jsonl`: a recorded trace and a hand-written one (awkward values) through the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, truncateSync, statSync } from 'node:fs';
import { CLI, compileC, recordProgram, rootPid, tempDir, whyNoShim } from '../helpers/record';
import { TraceFileWriter } from '../../src/common/traceFile';
import { encodeEventsBody } from '../../src/common/protocol';
import { kindId } from '../../src/common/vocabulary';

const skip = whyNoShim();

function exportJsonl(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'export', '--format', 'jsonl', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a recorded pipe program exports one JSON object per event, in time order, with names for kinds and enums', { skip }, async () => {
  const r = await recordProgram(compileC('test/fixtures/record/pipe_parent_child.c'));
  assert.equal(r.exit.status, 0, r.stderr);
  const out = join(tempDir(), 'pipe.jsonl');
  const e = exportJsonl([r.tracePath, '-o', out]);
  assert.equal(e.code, 0, e.stderr);
  assert.equal(e.stdout, '');
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, r.store.count);
  const ts = lines.map((l) => BigInt(l.ts as string));
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i - 1] <= ts[i], `time order at line ${i}`);
  const parent = rootPid(r.store);
  const writes = lines.filter((l) => l.kind === 'write' && l.phase === 'end' && l.pid === parent && l.otype === 'pipe');
  assert.equal(writes.length, 3);
  assert.deepEqual(Object.keys(writes[0]).slice(0, 8), ['ts', 'pid', 'tid', 'kind', 'phase', 'result', 'errno', 'caller']);
  assert.deepEqual({ result: writes[0].result, errno: writes[0].errno, count: writes[0].count, how: writes[0].how, blob: writes[0].blob },
    { result: 16, errno: 0, count: 16, how: 'write', blob: 'message one....\n' });
  assert.match(writes[0].caller as string, /^0x[0-9a-f]+$/);
  const wait = lines.find((l) => l.kind === 'wait' && l.phase === 'end');
  assert.ok(wait, 'the parent waited');
  assert.equal(wait.pid, parent, 'the event pid is not overwritten by wait\'s pid argument');
  assert.equal(typeof wait['arg.pid'], 'number');
  const start = lines.find((l) => l.kind === 'proc_start' && l.pid === parent)!;
  assert.equal(start.origin, 'initial');
  const parts = Buffer.from(start.blobBase64 as string, 'base64').toString().split('\0');
  assert.ok(parts[0].endsWith('/pipe_parent_child'), parts[0]);
  // to stdout as well, byte for byte the same
  assert.equal(exportJsonl([r.tracePath]).stdout, readFileSync(out, 'utf8'));
  r.cleanup();
});

test('awkward values: u64 near 2^64 as small negatives, wider ones as decimal strings, binary blobs as base64; a cut-off trace exports with a warning', async () => {
  const path = join(tempDir(), 'hand.ipctrace');
  const w = await TraceFileWriter.open(path, { session: 'hand' });
  const hello = { pid: 50, ppid: 1, tid: 50, origin: 'initial', session: 'hand', vocabulary: 1, exe: '/x', cwd: '/', argv: ['x'], startNs: '1', shim: 't' };
  w.connection({ ...hello, conn: 1, startNs: 1n }, JSON.stringify(hello));
  const CLOSE = kindId('close'), READ = kindId('read');
  w.events(1, 50, encodeEventsBody([
    { kind: CLOSE, phase: 0, flags: 0, tid: 50, err: 9, ts: 20n, result: -1n, caller: 0xabcn, args: [0xffff_ffff_ffff_ffffn, 0n, 0n, 0n] },
    { kind: READ, phase: 2, flags: 2, tid: 51, err: 0, ts: 10n, result: 3n, caller: 0n, args: [5n, 3n, 1n, 1n << 60n, 7n, 0n, 0n, 0n], blob: Uint8Array.from([0, 1, 2]) },
  ]));
  w.end({ events: 2, dropped: 0, exitCode: 0, signal: null, endNs: '30' });
  await w.close();
  const e = exportJsonl([path]);
  assert.equal(e.code, 0, e.stderr);
  const [first, second] = e.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(first, { ts: '10', pid: 50, tid: 51, kind: 'read', phase: 'end', result: 3, errno: 0, caller: '0x0', flags: 2,
    fd: 5, count: 3, otype: 'pipe', dev: '1152921504606846976', ino: 7, offset: 0, how: 'read', peer: 0, blobBase64: 'AAEC' });
  assert.deepEqual(second, { ts: '20', pid: 50, tid: 50, kind: 'close', phase: 'instant', result: -1, errno: 9, caller: '0xabc',
    fd: -1, otype: 'unknown', dev: 0, ino: 0 });
  truncateSync(path, statSync(path).size - 20);
  const cut = exportJsonl([path]);
  assert.equal(cut.code, 0);
  assert.match(cut.stderr, /warning: .*hand\.ipctrace: .*(ends inside a chunk|no END chunk).*exporting what is there/);
  assert.equal(cut.stdout.trimEnd().split('\n').length, 2);
});

test('export errors: a missing file and a non-trace are clear errors (exit 1); an unknown format is bad usage (exit 2)', () => {
  const missing = exportJsonl([join(tempDir(), 'nope.ipctrace')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ipcscope export: .*ENOENT.*nope\.ipctrace/);
  const notTrace = exportJsonl([CLI]);
  assert.equal(notTrace.code, 1);
  assert.match(notTrace.stderr, /not an IPC Scope trace/);
  const r = spawnSync(process.execPath, [CLI, 'export', '--format', 'csv', 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown format 'csv' \(known: jsonl/);
});

test('export into a reader that stops early (| head): no error text, the status of a tool stopped by SIGPIPE (141)', async () => {
  // 20 000 events, ~3 MB of JSONL: far more than a pipe buffer holds, so the writes meet the closed pipe
  const path = join(tempDir(), 'many.ipctrace');
  const w = await TraceFileWriter.open(path, { session: 'many' });
  const hello = { pid: 60, ppid: 1, tid: 60, origin: 'initial', session: 'many', vocabulary: 1, exe: '/x', cwd: '/', argv: ['x'], startNs: '1', shim: 't' };
  w.connection({ ...hello, conn: 1, startNs: 1n }, JSON.stringify(hello));
  const WRITE = kindId('write');
  w.events(1, 60, encodeEventsBody(Array.from({ length: 20_000 }, (_, i) => (
    { kind: WRITE, phase: 2, flags: 0, tid: 60, err: 0, ts: BigInt(100 + i), result: 64n, caller: 0x401000n, args: [4n, 64n, 1n, 9n, 77n, 0n, 0n, 0n], blob: Buffer.alloc(64, 0x61) }))));
  w.end({ events: 20_000, dropped: 0, exitCode: 0, signal: null, endNs: '30000' });
  await w.close();
  const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" export --format jsonl "$2" | head -n 1', process.execPath, CLI, path], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 141);
  assert.equal(JSON.parse(r.stdout).kind, 'write');
});
