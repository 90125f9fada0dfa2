// demos/fifo: two unrelated processes meet at a path; the server's open blocks until the client opens the other
// end; the lines flow client → server through the FIFO. The shell version: cat's open waits for echo's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arg } from '../helpers/record';
import { byTime, bytesOf, context, evs, flows, ioBytes, ms, num, partCommand, proc, recorded, whyNoDemos, type DemoRun, wholeRun } from './demoSupport';
import type { ProcessInfo } from '../../src/common/model';

const OTYPE_FIFO = 2;

function ancestors(r: DemoRun, p: ProcessInfo): Set<number> {
  const out = new Set<number>();
  for (let q = r.model.processes.get(p.ppid); q && !out.has(q.pid); q = r.model.processes.get(q.ppid)) out.add(q.pid);
  return out;
}

describe('fifo: server and client', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('fifo', partCommand('fifo', 'server-client'), (run) => {
    test('the server\'s open completes only after the client opens the FIFO, about 0.3 s after mkfifo', () => {
      const r = run();
      const server = proc(r, './build/fifo_server'), client = proc(r, './build/fifo_client');
      const mk = evs(r, 'mkfifo', { pid: server.pid });
      assert.equal(mk.length, 1, context(r));
      const sOpen = evs(r, 'open', { pid: server.pid, args: { otype: OTYPE_FIFO } }).filter((e) => e.err === 0);
      const cOpen = evs(r, 'open', { pid: client.pid, args: { otype: OTYPE_FIFO } }).filter((e) => e.err === 0);
      assert.equal(sOpen.length, 1);
      assert.equal(cOpen.length, 1);
      assert.equal(arg(sOpen[0], 'open', 'ino'), arg(cOpen[0], 'open', 'ino'), 'the same FIFO');
      assert.ok(ms(sOpen[0].ts - mk[0].ts) >= 250, `the server's open returned ${ms(sOpen[0].ts - mk[0].ts)} ms after mkfifo: it waited for the client`);
      assert.ok(ms(cOpen[0].ts - sOpen[0].ts) < 50, `the server's open returned ${ms(cOpen[0].ts - sOpen[0].ts)} ms before the client's: it waited for it`);
    });
    test('the lines flow from client to server through the FIFO; neither process is the other\'s ancestor', () => {
      const r = run();
      const server = proc(r, './build/fifo_server'), client = proc(r, './build/fifo_client');
      assert.ok(!ancestors(r, server).has(client.pid) && !ancestors(r, client).has(server.pid), 'unrelated processes');
      const f = flows(r, 'fifo', client.pid, server.pid);
      const sent = ioBytes(r, 'write', client.pid, (e) => num(e, 'write', 'otype') === OTYPE_FIFO);
      assert.equal(sent, 'hello\nfrom an unrelated process\nquit\n'.length);
      assert.equal(bytesOf(f), sent, 'every byte the client wrote reached the server');
      assert.match(r.stdout, /Server received: quit/);
    });
  });
});

describe('fifo: shell', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('fifo', partCommand('fifo', 'shell'), (run) => {
    test('cat < fifo blocks in open until echo > fifo opens the other end, then receives the line', () => {
      const r = run();
      const cat = proc(r, 'cat');
      const open = evs(r, 'open', { pid: cat.pid, args: { otype: OTYPE_FIFO } }).sort(byTime)[0];
      assert.ok(open, `cat opens the FIFO\n${context(r)}`);
      // The shell opens the redirection in the forked child before it execs cat: measure from the fork.
      const started = evs(r, 'proc_start', { pid: cat.pid }).sort(byTime)[0];
      assert.ok(ms(open.ts - started.ts) >= 150, `the open returned ${ms(open.ts - started.ts)} ms after the reader process started (the writer comes 0.2 s later)`);
      assert.ok(flows(r, 'fifo', undefined, cat.pid).length >= 1, 'the line flows into cat through the FIFO');
      assert.match(r.stdout, /안녕 프로세스 B!/);
    });
  });
});

wholeRun('fifo');
