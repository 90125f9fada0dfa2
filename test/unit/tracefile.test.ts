// .ipctrace: write and read back; a file cut off mid-chunk reads up to its last whole chunk and says so; a full
// disk is reported once and never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceFileWriter, readTraceFile, readTraceChunks, ChunkType, TraceFileError } from '../../src/common/traceFile';
import { encodeEventsBody, type EventRecord } from '../../src/common/protocol';
import { kindId } from '../../src/common/vocabulary';
import type { ConnectionInfo } from '../../src/common/traceEvent';

const dir = mkdtempSync(join(tmpdir(), 'ipcscope-tracefile-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const PIPE = kindId('pipe');
const recs = (n: number, t0: bigint): EventRecord[] => Array.from({ length: n }, (_, i) => ({
  kind: PIPE, phase: 0, flags: 0, tid: 11, err: 0, ts: t0 + BigInt(i), result: 0n, caller: 0x400000n + BigInt(i), args: [3n, 4n, 0n, 15n, BigInt(1000 + i)],
}));
const hello = (conn: number, pid: number): [ConnectionInfo, string] => {
  const json = JSON.stringify({ pid, ppid: 1, tid: pid, origin: 'initial', session: 's', vocabulary: 1, exe: '/bin/t', cwd: '/', argv: ['t', String(conn)], startNs: '5', shim: '0.1.0' });
  return [{ conn, pid, ppid: 1, tid: pid, origin: 'initial', session: 's', exe: '/bin/t', cwd: '/', argv: ['t', String(conn)], startNs: 5n, shim: '0.1.0' }, json];
};

async function writeSample(path: string, withEnd = true): Promise<void> {
  const w = await TraceFileWriter.open(path, { session: 's', command: ['t'] });
  w.connection(...hello(1, 100));
  w.events(1, 100, encodeEventsBody(recs(3, 1000n)));
  w.connection(...hello(2, 101));
  w.events(2, 101, encodeEventsBody(recs(2, 2000n)));
  w.note({ ts: 7n, level: 'warning', message: 'something said', conn: 2 });
  w.closed(1, { reason: 'bye', bye: true, emitted: '3', dropped: '0' });
  if (withEnd) w.end({ events: 5, dropped: 0, exitCode: 0, signal: null, endNs: '9999' });
  await w.close();
}

test('round trip: META, CONNECTION, EVENTS, NOTE, CLOSED, END', async () => {
  const p = join(dir, 'a.ipctrace');
  await writeSample(p);
  const bytes = readFileSync(p);
  assert.equal(bytes.subarray(0, 8).toString(), 'IPCTRACE');
  assert.equal(bytes.readUInt32LE(8), 1);
  assert.equal(bytes.length % 8, 0);
  const s = await readTraceFile(p);
  assert.equal(s.cutOff, undefined);
  assert.deepEqual(s.meta, { session: 's', command: ['t'] });
  assert.equal(s.count, 5);
  assert.deepEqual(s.connections().map((c) => [c.conn, c.pid, c.argv]), [[1, 100, ['t', '1']], [2, 101, ['t', '2']]]);
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => [s.pidAt(i), s.connAt(i), s.tsAt(i), s.argAt(i, 4)]),
    [[100, 1, 1000n, 1000n], [100, 1, 1001n, 1001n], [100, 1, 1002n, 1002n], [101, 2, 2000n, 1000n], [101, 2, 2001n, 1001n]]);
  assert.deepEqual(s.notes, [{ ts: 7n, level: 'warning', message: 'something said', conn: 2 }]);
  assert.deepEqual(s.closed.get(1), { reason: 'bye', bye: true, emitted: '3', dropped: '0' });
  assert.deepEqual(s.end, { events: 5, dropped: 0, exitCode: 0, signal: null, endNs: '9999' });
});

test('unknown chunk types are skipped', async () => {
  const p = join(dir, 'b.ipctrace');
  await writeSample(p);
  const orig = readFileSync(p);
  const extra = Buffer.alloc(16);
  extra.writeUInt32LE(99, 0); extra.writeUInt32LE(5, 4); extra.write('hello', 8);
  writeFileSync(p, Buffer.concat([orig.subarray(0, 16), extra, orig.subarray(16)]));
  const s = await readTraceFile(p);
  assert.equal(s.count, 5);
  assert.equal(s.cutOff, undefined);
});

test('a file cut off inside a chunk reads up to the last whole chunk and says it was cut off', async () => {
  const p = join(dir, 'c.ipctrace');
  await writeSample(p, false);
  const chunks: { type: number; offset: number }[] = [];
  for await (const c of readTraceChunks(p)) chunks.push({ type: c.type, offset: c.offset });
  const second = chunks.filter((c) => c.type === ChunkType.Events)[1];
  truncateSync(p, second.offset + 20); // in the middle of the second EVENTS chunk
  const s = await readTraceFile(p);
  assert.equal(s.count, 3);
  assert.equal(s.connections().length, 2);
  assert.match(s.cutOff!, new RegExp(`ends inside a chunk at byte ${second.offset} \\(20 bytes`));
});

test('a file without END is reported as cut off', async () => {
  const p = join(dir, 'd.ipctrace');
  await writeSample(p, false);
  const s = await readTraceFile(p);
  assert.equal(s.count, 5);
  assert.match(s.cutOff!, /no END chunk/);
});

test('not a trace: clear errors', async () => {
  const p = join(dir, 'e.txt');
  writeFileSync(p, 'hello world, not a trace at all');
  await assert.rejects(readTraceFile(p), (e: unknown) => e instanceof TraceFileError && /not an IPC Scope trace/.test((e as Error).message));
  writeFileSync(p, '');
  await assert.rejects(readTraceFile(p), /empty file/);
  await assert.rejects(readTraceFile(join(dir, 'missing.ipctrace')), /ENOENT/);
});

test('a full disk (/dev/full) is reported once through onError, never thrown; later writes are no-ops', async () => {
  const w = await TraceFileWriter.open('/dev/full', { session: 'full' });
  const errors: Error[] = [];
  w.onError = (e) => errors.push(e);
  w.connection(...hello(1, 100));
  for (let i = 0; i < 50; i++) w.events(1, 100, encodeEventsBody(recs(100, 0n)));
  w.end({ events: 0, dropped: 0, exitCode: 0, signal: null, endNs: '1' });
  await w.close();
  assert.equal(errors.length, 1);
  assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.ok(w.failed);
});

test('the writer streams: chunks are on disk before close', async () => {
  const p = join(dir, 'f.ipctrace');
  const w = await TraceFileWriter.open(p, { session: 's' });
  w.connection(...hello(1, 100));
  w.events(1, 100, encodeEventsBody(recs(10, 0n)));
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(statSync(p).size > 16 + 8);
  const s = await readTraceFile(p);
  assert.equal(s.count, 10);
  await w.close();
});
