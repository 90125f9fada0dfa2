// demos/multiplexing: one thread serves three clients by waiting in select/poll/epoll_wait for whichever is ready;
// level-triggered epoll reports a fd again while data remains, edge-triggered once; a non-blocking read returns
// EAGAIN instead of waiting.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesOf, byTime, context, EAGAIN, evs, flows, forkedChildren, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

for (const mode of ['select', 'poll', 'epoll'] as const) {
  const kind = mode === 'epoll' ? 'epoll_wait' : mode;
  describe(`multiplexing: ${mode} server`, { skip: whyNoDemos(), timeout: 120_000 }, () => {
    recorded('multiplexing', partCommand('multiplexing', mode), (run) => {
      test(`one server thread sleeps in ${kind} and echoes 3 clients; bytes back = bytes out for each`, () => {
        const r = run();
        const server = proc(r, './build/mux_server');
        const clients = forkedChildren(r, server);
        assert.equal(clients.length, 3, context(r));
        const waits = evs(r, kind, { pid: server.pid }).filter((e) => e.phase !== 1 && e.err === 0 && e.result > 0n);
        // 15 readiness events (3 connections, 9 lines, 3 EOFs); two may come in one wakeup when clients coincide.
        assert.equal(waits.reduce((n, e) => n + Number(e.result), 0), 15, 'ready fds over all wakeups: 3 accepts, 9 lines, 3 EOFs');
        assert.ok(waits.length >= 8 && waits.length <= 15, `${waits.length} wakeups`);
        assert.equal(new Set(evs(r, kind, { pid: server.pid }).map((e) => e.tid)).size, 1, 'all from one thread');
        for (const c of clients) {
          const out = bytesOf(flows(r, 'socket', c.pid, server.pid)), back = bytesOf(flows(r, 'socket', server.pid, c.pid));
          assert.ok(out > 0, `client ${c.pid} sent`);
          assert.equal(back, out, `client ${c.pid}: bytes back = bytes out`);
        }
        // Whoever is ready wakes it: the 9 lines are 9 client writes, each landing while the server sleeps in a wait.
        const sleeps = r.model.waits.filter((w) => w.pid === server.pid && w.kind === waits[0].kind && w.t1 !== undefined);
        const clientWrites = clients.flatMap((c) => evs(r, 'write', { pid: c.pid }).filter((e) => e.phase !== 2));
        const woken = clientWrites.filter((e) => sleeps.some((w) => e.ts >= w.t0 && e.ts <= w.t1!));
        assert.ok(woken.length >= 6, `${woken.length} of ${clientWrites.length} client writes landed while the server slept in ${kind}`);
      });
    });
  });
}

describe('multiplexing: level vs edge triggered', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('multiplexing', partCommand('multiplexing', 'lt-et'), (run) => {
    test('level-triggered: 5 wakeups reading all 10 bytes; edge-triggered: 1 wakeup, 2 bytes, then a timeout', () => {
      const r = run();
      const p = proc(r, './build/epoll_lt_et');
      const ends = evs(r, 'epoll_wait', { pid: p.pid }).filter((e) => e.phase !== 1).sort(byTime).map((e) => Number(e.result));
      // level: 1,1,1,1,1 then 0 (timeout); edge: 1 then 0.
      assert.deepEqual(ends, [1, 1, 1, 1, 1, 0, 1, 0], context(r));
      const ctl = evs(r, 'epoll_ctl', { pid: p.pid }).sort(byTime);
      const EPOLLET = 1n << 31n;
      assert.deepEqual(ctl.map((e) => (e.args[3] & EPOLLET) !== 0n), [false, true], 'the second registration is edge-triggered');
      assert.match(r.stdout, /edge-triggered: 1 wakeups, 2 of 10 bytes read/);
    });
  });
});

describe('multiplexing: non-blocking read', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('multiplexing', partCommand('multiplexing', 'nonblock'), (run) => {
    test('O_NONBLOCK set, reads fail with EAGAIN at once until the writer\'s data arrives, then 18 bytes', () => {
      const r = run();
      const p = proc(r, './build/nonblock_read');
      const reads = evs(r, 'read', { pid: p.pid }).filter((e) => e.phase !== 1).sort(byTime);
      const firstData = reads.findIndex((e) => e.result > 0n);
      assert.ok(firstData >= 5, `${firstData} EAGAIN reads before the data\n${context(r)}`);
      assert.ok(reads.slice(0, firstData).every((e) => e.err === EAGAIN), 'each empty read failed with EAGAIN');
      assert.equal(Number(reads[firstData].result), 18);
      // A blocking read would sit out most of the writer's 100 ms sleep; a read preempted on a loaded machine can
      // still take a millisecond or more, so only a read wait of 30 ms or longer counts as blocking.
      const readKind = reads[0].kind;
      const blocked = r.model.waits.filter((w) => w.pid === p.pid && w.kind === readKind && w.t1 !== undefined && w.t1 - w.t0 >= 30_000_000n);
      assert.equal(blocked.length, 0, 'the reader never blocked');
      const [writer] = forkedChildren(r, p);
      assert.equal(bytesOf(flows(r, 'pipe', writer.pid, p.pid)), 18);
    });
  });
});

wholeRun('multiplexing');
