// Wire protocol: golden frames written byte by byte from docs/protocol.md, and every malformed case the doc lists
// rejected with a message that says where and what.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage, decodeEventsBody, encodeBye, encodeCommand, encodeEvents, encodeJson, encodeReply, MessageType, ProtocolError,
  MAX_MESSAGE_BYTES, type EventRecord,
} from '../../src/common/protocol';
import { kindId, enumValue } from '../../src/common/vocabulary';

/** Little-endian byte helpers for writing frames by hand. */
const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const u64 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
const header = (type: number, bodyLen: number, seq: number) => [0x49, 0x50, 0x43, 0x53, ...u16(1), ...u16(type), ...u32(bodyLen), ...u32(seq)];
const bytes = (a: number[]) => Uint8Array.from(a);

// kind 103 mutex_lock (args: mutex, how), phase end, tid 4242, errno 0, ts 1_000_000_123, result 0, caller 0x401234
const MUTEX_RECORD = [
  ...u16(103), 2, 2, ...u16(0), ...u16(0), ...u32(4242), ...u32(0),
  ...u64(1_000_000_123n), ...u64(0n), ...u64(0x401234n),
  ...u64(0x7ffd12345678n), ...u64(0n),
];
// kind 43 write (8 args), phase end, blob "hello" (5 bytes, padded to 8), flags 2, errno 0, result 5
const WRITE_ARGS = [3n, 5n, 1n, 15n, 25743n, 0n, 0n, 0n];
const WRITE_RECORD = [
  ...u16(43), 2, 8, ...u16(5), ...u16(2), ...u32(77), ...u32(0),
  ...u64(2_000_000_000n), ...u64(5n), ...u64(0x55aa00n),
  ...WRITE_ARGS.flatMap(u64), 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0, 0, 0,
];
const eventsFrame = (records: number[][], count = records.length, seq = 1) => {
  const body = [...u32(count), ...u32(0), ...records.flat()];
  return bytes([...header(3, body.length, seq), ...body]);
};

test('golden EVENTS frame decodes field by field', () => {
  const frame = eventsFrame([MUTEX_RECORD, WRITE_RECORD]);
  assert.equal(frame.length, 16 + 8 + 56 + (40 + 64 + 8));
  const m = decodeMessage(frame, 'shim');
  assert.equal(m.type, MessageType.Events);
  if (m.type !== MessageType.Events) return;
  assert.equal(m.seq, 1);
  assert.equal(m.count, 2);
  const [a, b] = decodeEventsBody(m.body);
  assert.deepEqual(a, { kind: 103, phase: 2, flags: 0, tid: 4242, err: 0, ts: 1_000_000_123n, result: 0n, caller: 0x401234n, args: [0x7ffd12345678n, 0n] });
  assert.equal(b.kind, kindId('write'));
  assert.equal(b.flags, 2);
  assert.equal(b.result, 5n);
  assert.deepEqual(b.args, WRITE_ARGS);
  assert.equal(Buffer.from(b.blob!).toString(), 'hello');
});

test('the encoder produces the golden bytes', () => {
  const recs: EventRecord[] = [
    { kind: 103, phase: 2, flags: 0, tid: 4242, err: 0, ts: 1_000_000_123n, result: 0n, caller: 0x401234n, args: [0x7ffd12345678n, 0n] },
    { kind: 43, phase: 2, flags: 2, tid: 77, err: 0, ts: 2_000_000_000n, result: 5n, caller: 0x55aa00n, args: WRITE_ARGS, blob: Buffer.from('hello') },
  ];
  assert.deepEqual(encodeEvents(1, recs), eventsFrame([MUTEX_RECORD, WRITE_RECORD]));
});

test('golden HELLO, BYE, REPLY frames decode; COMMAND, WELCOME, ERROR encode as the doc says', () => {
  const json = '{"pid":100,"ppid":1,"tid":100,"origin":"fork","session":"s1","vocabulary":1,"exe":"/bin/x","cwd":"/","argv":["x","-v"],"startNs":"123456789012345","shim":"0.1.0"}';
  const jb = [...Buffer.from(json)];
  const hello = decodeMessage(bytes([...header(1, jb.length, 0), ...jb]), 'shim');
  assert.equal(hello.type, MessageType.Hello);
  if (hello.type === MessageType.Hello) {
    assert.equal(hello.hello.pid, 100);
    assert.deepEqual(hello.hello.argv, ['x', '-v']);
    assert.equal(BigInt(hello.hello.startNs), 123456789012345n);
  }
  const bye = bytes([...header(5, 16, 7), ...u64(1000n), ...u64(3n)]);
  assert.deepEqual(decodeMessage(bye, 'shim'), { type: MessageType.Bye, seq: 7, emitted: 1000n, dropped: 3n });
  assert.deepEqual(encodeBye(7, 1000n, 3n), bye);
  const rj = [...Buffer.from('{"ok":true}')];
  const reply = bytes([...header(7, 16 + rj.length, 2), ...u64(9n), ...u32(0xfffffffe), ...u32(0), ...rj]);
  assert.deepEqual(decodeMessage(reply, 'shim'), { type: MessageType.Reply, seq: 2, requestId: 9n, status: -2, json: { ok: true } });
  assert.deepEqual(encodeReply(2, 9n, -2, { ok: true }), reply);
  const cmd = bytes([...header(4, 48, 3), ...u32(1), ...u32(0), ...u64(42n), ...u64(3n), ...u64(0n), ...u64(0n), ...u64(0n)]);
  assert.deepEqual(encodeCommand(3, enumValue('command', 'snapshot'), 42n, [3n]), cmd);
  const w = encodeJson(MessageType.Welcome, 0, { session: 's', connection: 1, payloadBytes: 64, pageFaults: true });
  assert.deepEqual([...w.subarray(0, 8)], [0x49, 0x50, 0x43, 0x53, 1, 0, 2, 0]);
  const e = decodeMessage(encodeJson(MessageType.Error, 4, { message: 'bad' }), 'collector');
  assert.deepEqual(e, { type: MessageType.Error, seq: 4, message: 'bad' });
});

/** Each malformed frame and the words its error must contain. */
const rec = (patch: (r: number[]) => void, base = MUTEX_RECORD) => { const r = [...base]; patch(r); return r; };
const malformed: [string, Uint8Array, RegExp][] = [
  ['short header', bytes([0x49, 0x50, 0x43]), /shorter than the 16-byte header/],
  ['bad magic', bytes([...u32(0x12345678), ...u16(1), ...u16(3), ...u32(0), ...u32(0)]), /bad magic 0x12345678/],
  ['wrong version', bytes([0x49, 0x50, 0x43, 0x53, ...u16(2), ...u16(3), ...u32(0), ...u32(0)]), /protocol version 2 is not supported/],
  ['unknown type', bytes(header(9, 0, 0)), /unknown message type 9/],
  ['wrong direction', encodeCommand(0, 1, 1n), /COMMAND\) is sent by the collector, not the shim/],
  ['body length disagrees', bytes([...header(5, 20, 0), ...u64(0n), ...u64(0n)]), /header says the body is 20 bytes, the message carries 16/],
  ['record past the end', (() => { const f = eventsFrame([MUTEX_RECORD], 2); return f; })(), /record 1 at byte 80: runs past the end/],
  ['unknown kind', eventsFrame([MUTEX_RECORD, rec((r) => { r.splice(0, 2, ...u16(999)); })]), /record 1 at byte 80: kind 999 is not in the vocabulary \(version 1\)/],
  ['nargs mismatch', eventsFrame([rec((r) => { r[3] = 3; })]), /record 0 at byte 24: kind 103 \(mutex_lock\) has 2 arguments, the record says 3/],
  ['bad phase', eventsFrame([rec((r) => { r[2] = 3; })]), /record 0 at byte 24: phase 3 is not 0 \(instant\), 1 \(begin\) or 2 \(end\)/],
  ['blob past the end', eventsFrame([rec((r) => { r.splice(4, 2, ...u16(200)); })]), /record 0 at byte 24: 256 bytes \(2 arguments, 200-byte blob\) run past the end/],
  ['trailing bytes', bytes([...header(3, 8 + 56 + 8, 0), ...u32(1), ...u32(0), ...MUTEX_RECORD, ...u64(0n)]), /8 bytes after the last of 1 records/],
  ['HELLO not JSON', bytes([...header(1, 3, 0), 0x7b, 0x7b, 0x7b]), /HELLO body is not valid JSON/],
  ['HELLO missing pid', (() => { const j = [...Buffer.from('{"ppid":1,"tid":1,"origin":"initial","startNs":"1"}')]; return bytes([...header(1, j.length, 0), ...j]); })(), /HELLO field "pid" must be a number/],
];
for (const [name, frame, re] of malformed) {
  test(`rejects ${name}`, () => {
    assert.throws(() => decodeMessage(frame, 'shim'), (e: unknown) => e instanceof ProtocolError && re.test((e as Error).message));
  });
}

test('rejects a message over 16 MiB without reading it', () => {
  const big = new Uint8Array(MAX_MESSAGE_BYTES + 1);
  assert.throws(() => decodeMessage(big, 'shim'), /exceeds the 16777216-byte \(16 MiB\) limit/);
});
