// demos/message-models: zero capacity — every send waits for the receiver (rendezvous); bounded — the writer of a
// one-page pipe blocks once the pipe is full, until the late reader drains it; unbounded (in effect) — no write waits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOf, byTime, context, evs, flows, forkedChildren, ms, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';
import { kindId } from '../../src/common/vocabulary';

const READ = kindId('read'), WRITE = kindId('write');

describe('message-models: zero capacity', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('message-models', partCommand('message-models', 'zero'), (run) => {
    test('each of the 4 sends waits about 50 ms for the receiver\'s acknowledgement: sender and receiver meet', () => {
      const r = run();
      const sender = proc(r, './build/capacity');
      const [receiver] = forkedChildren(r, sender);
      assert.equal(bytesOf(flows(r, 'pipe', sender.pid, receiver.pid)), 4 * 1024, context(r));
      const acks = flows(r, 'pipe', receiver.pid, sender.pid);
      assert.equal(bytesOf(acks), 4, 'four one-byte acknowledgements');
      const waits = r.model.waits.filter((w) => w.pid === sender.pid && w.kind === READ && w.t1 !== undefined).sort((a, b) => (a.t0 < b.t0 ? -1 : 1));
      assert.equal(waits.length, 4, 'the sender blocks once per message');
      for (const w of waits) {
        assert.ok(ms(w.t1! - w.t0) >= 30, `a send waited only ${ms(w.t1! - w.t0)} ms`);
        assert.equal(w.by?.pid, receiver.pid, 'released by the receiver');
      }
    });
  });
});

describe('message-models: bounded capacity', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('message-models', partCommand('message-models', 'bounded'), (run) => {
    test('the pipe holds 4 of the 1 KiB messages; the fifth write blocks until the reader (200 ms late) drains it', () => {
      const r = run();
      const writer = proc(r, './build/capacity');
      const [reader] = forkedChildren(r, writer);
      const waits = r.model.waits.filter((w) => w.pid === writer.pid && w.kind === WRITE && w.t1 !== undefined);
      const long = waits.filter((w) => ms(w.t1! - w.t0) >= 100);
      assert.ok(long.length >= 1, `no long write wait\n${context(r)}`);
      const writes = evs(r, 'write', { pid: writer.pid }).filter((e) => e.phase !== 1 && e.err === 0).sort(byTime);
      const blocked = writes.findIndex((e) => e.index === long[0].end);
      assert.equal(blocked, 4, 'the fifth write is the one that waited');
      assert.deepEqual([long[0].object], flows(r, 'pipe', writer.pid, reader.pid).map((f) => f.object).slice(0, 1), 'on the pipe to the reader');
      const firstRead = evs(r, 'read', { pid: reader.pid }).sort(byTime)[0];
      assert.ok(firstRead.ts < long[0].t1!, 'released by the reader');
      assert.equal(bytesOf(flows(r, 'pipe', writer.pid, reader.pid)), 16 * 1024);
    });
  });
});

describe('message-models: unbounded capacity', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('message-models', partCommand('message-models', 'unbounded'), (run) => {
    test('the writer never blocks and is done before the reader starts', () => {
      const r = run();
      const writer = proc(r, './build/capacity');
      const [reader] = forkedChildren(r, writer);
      // on the pipe to the reader: the program's last line to stdout can be preempted for 20 ms on a loaded machine
      const pipe = new Set(flows(r, 'pipe', writer.pid, reader.pid).map((f) => f.object));
      assert.equal(pipe.size, 1, context(r));
      const waits = r.model.waits.filter((w) => w.pid === writer.pid && w.kind === WRITE && w.t1 !== undefined && ms(w.t1 - w.t0) >= 20 && pipe.has(w.object ?? ''));
      assert.equal(waits.length, 0, context(r));
      const lastWrite = evs(r, 'write', { pid: writer.pid }).filter((e) => e.phase !== 1).sort(byTime).pop()!;
      const firstRead = evs(r, 'read', { pid: reader.pid }).sort(byTime)[0];
      assert.ok(lastWrite.ts < firstRead.ts, 'all 16 messages written before the first read');
      assert.equal(bytesOf(flows(r, 'pipe', writer.pid, reader.pid)), 16 * 1024);
    });
  });
});

wholeRun('message-models');
