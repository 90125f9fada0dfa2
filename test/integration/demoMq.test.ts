// demos/mq: POSIX queue receive order by priority (2, 1, 1, 0, 0, then END); a full queue blocks the sender's
// third mq_send until the late receiver takes one; multiprocessing.Queue carries items from two producers to one
// consumer through a pipe.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { blobText } from '../helpers/record';
import { byTime, context, evs, flows, forkedChildren, ms, num, partCommand, proc, procs, recorded, whyNoDemos, wholeRun } from './demoSupport';

describe('mq: POSIX producer and consumer', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('mq', partCommand('mq', 'posix'), (run) => {
    test('the consumer receives by priority: 2, 1, 1, 0, 0, END (oldest first within a priority)', () => {
      const r = run();
      const producer = proc(r, './build/mq_producer'), consumer = proc(r, './build/mq_consumer');
      const sent = evs(r, 'mq_send', { pid: producer.pid }).filter((e) => e.phase !== 1 && e.err === 0).sort(byTime);
      assert.deepEqual(sent.map((e) => num(e, 'mq_send', 'prio')), [0, 1, 2, 0, 1, 0], context(r));
      const got = evs(r, 'mq_receive', { pid: consumer.pid }).filter((e) => e.phase !== 1 && e.err === 0).sort(byTime);
      assert.deepEqual(got.map((e) => num(e, 'mq_receive', 'prio')), [2, 1, 1, 0, 0, 0]);
      // message_t starts with a long (8 bytes) then the text: the previews name the messages.
      const names = got.map((e) => blobText(e).slice(8).split('\0')[0]);
      assert.deepEqual(names, ['Message #3', 'Message #2', 'Message #5', 'Message #1', 'Message #4', 'END']);
      const f = flows(r, 'mq', producer.pid, consumer.pid);
      assert.equal(f.length, 6, 'six message flows producer → consumer');
      assert.deepEqual(f.sort((a, b) => (a.to.ts < b.to.ts ? -1 : 1)).map((x) => x.detail), [2, 1, 1, 0, 0, 0], 'the model matched each receive to its send by priority');
    });
  });
});

describe('mq: a full queue', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('mq', partCommand('mq', 'full'), (run) => {
    test('the third mq_send blocks until the receiver (300 ms late) takes a message; the others do not', () => {
      const r = run();
      const sender = proc(r, './build/mq_full');
      const [receiver] = forkedChildren(r, sender);
      const begins = evs(r, 'mq_send', { pid: sender.pid, phase: 'begin' }).sort(byTime);
      const ends = evs(r, 'mq_send', { pid: sender.pid }).filter((e) => e.phase !== 1).sort(byTime);
      assert.equal(ends.length, 5, context(r));
      // Sends that did not block may be single instant events; the blocked one is a begin/end pair.
      const blocked = begins.map((b) => ({ b, e: ends.find((e) => e.phase === 2 && e.ts >= b.ts)! })).filter((x) => ms(x.e.ts - x.b.ts) >= 150);
      assert.equal(blocked.length, 1, 'exactly one send waited');
      assert.equal(ends.indexOf(blocked[0].e), 2, 'the third one');
      // Released inside the receiver's first mq_receive (its begin — or instant — event comes first).
      const firstReceive = evs(r, 'mq_receive', { pid: receiver.pid }).sort(byTime)[0];
      assert.ok(blocked[0].e.ts >= firstReceive.ts, 'it is released by the receiver\'s first receive');
      assert.ok(firstReceive.ts >= blocked[0].b.ts, 'which comes while the sender waits');
    });
  });
});

describe('mq: multiprocessing.Queue', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('mq', partCommand('mq', 'python'), (run) => {
    test('items flow from two producer processes to one consumer process through the queue\'s pipe', () => {
      const r = run();
      const main = proc(r, 'mp_queue.py');
      const kids = forkedChildren(r, main);
      assert.ok(kids.length >= 3, `two producers and a consumer forked\n${context(r)}`);
      const pipeFlows = flows(r, 'pipe').filter((f) => kids.some((k) => k.pid === f.from.pid) && kids.some((k) => k.pid === f.to.pid));
      const writers = new Set(pipeFlows.map((f) => f.from.pid)), readers = new Set(pipeFlows.map((f) => f.to.pid));
      assert.equal(writers.size, 2, `two writing processes, got ${[...writers]}`);
      assert.equal(readers.size, 1, 'one reading process');
      assert.equal(new Set(pipeFlows.map((f) => f.object)).size, 1, 'through one pipe');
      assert.match(r.stdout, /Consumer 0: Done, 10 items/);
      assert.equal(procs(r, 'mp_queue.py').length, kids.length + 1);
    });
  });
});

wholeRun('mq');
