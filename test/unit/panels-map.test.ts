// IPC-map panel data: processes grouped by parent, objects, directed edges weighted by bytes and messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { buildMapData, MapBuilder } from '../../src/common/panels/map';
import { TraceModel } from '../../src/common/model';
import type { EventSource } from '../../src/common/traceEvent';
import { TraceBuilder } from './panels-fixture';
import { ROOT, recordProgram, whyNoShim } from '../helpers/record';

const model = (s: EventSource) => { const m = new TraceModel(s); m.update({ flush: true }); return m; };

test('writer → pipe → reader, a socketpair as one object, a signal edge, and stable order', () => {
  const b = new TraceBuilder();
  const p = b.image(40, { exe: '/demo/pipe' }), c = b.image(41, { ppid: 40, origin: 'fork', exe: '/demo/pipe', startNs: 20n });
  const pipe = { otype: 1, dev: 12, ino: 900 };
  b.ev(p, 40, 'pipe', 10n, { readFd: 3, writeFd: 4, dev: 12, ino: 900 });
  b.ev(p, 40, 'write', 30n, { fd: 4, count: 5, ...pipe }, { phase: 'end', result: 5 });
  b.ev(p, 40, 'write', 31n, { fd: 4, count: 7, ...pipe }, { phase: 'end', result: 7 });
  b.ev(c, 41, 'read', 32n, { fd: 3, count: 100, ...pipe }, { phase: 'end', result: 12 });
  b.ev(c, 41, 'read', 33n, { fd: 3, count: 100, ...pipe }, { phase: 'end', result: 0 }); // EOF: no edge weight
  b.ev(p, 40, 'socketpair', 40n, { domain: 1, type: 1, fd0: 5, fd1: 6, ino0: 501, ino1: 502, dev: 8 });
  b.ev(p, 40, 'write', 41n, { fd: 5, count: 3, otype: 3, dev: 8, ino: 501 }, { phase: 'end', result: 3 });
  b.ev(c, 41, 'read', 42n, { fd: 6, count: 3, otype: 3, dev: 8, ino: 502 }, { phase: 'end', result: 3 });
  b.ev(p, 40, 'kill', 50n, { pid: 41, sig: 15 });
  const d = buildMapData(model(b.build()));
  assert.deepEqual(d.nodes.map((n) => [n.id, n.kind]), [
    ['proc:40', 'process'], ['obj:pipe:12:900', 'pipe'], ['proc:41', 'process'], ['obj:socket:8:501', 'socket']]);
  assert.equal(d.nodes.find((n) => n.id === 'proc:41')!.parent, 'proc:40', 'children are grouped under their parent');
  const e = (id: string) => d.edges.find((x) => x.id === id);
  assert.deepEqual([e('proc:40->obj:pipe:12:900')!.bytes, e('proc:40->obj:pipe:12:900')!.messages], ['12', 2]);
  assert.deepEqual([e('obj:pipe:12:900->proc:41')!.bytes, e('obj:pipe:12:900->proc:41')!.messages], ['12', 1]);
  assert.ok(e('proc:40->obj:socket:8:501') && e('obj:socket:8:501->proc:41'), 'both socket ends are one object');
  assert.equal(e('proc:40->proc:41')!.use, 'signal');
  assert.equal(d.edges.filter((x) => x.use === 'open').length, 0, 'the pipe() edge is dropped once the pipe is really used');
  // Growing the trace keeps the earlier nodes in place (model order for the layered layout).
  b.ev(c, 41, 'mq_open', 60n, { dev: 3, ino: 77 }, { result: 7, blob: '/q' });
  const d2 = buildMapData(model(b.build()));
  assert.deepEqual(d2.nodes.slice(0, 4).map((n) => n.id), d.nodes.map((n) => n.id));
  assert.equal(d2.nodes[4].label, '/q');
});

test('recorded pipe demo: parent → pipe → child with the bytes the program wrote', async (t) => {
  const why = whyNoShim();
  const bin = join(ROOT, 'demos/pipe/build/pipe');
  if (why || !existsSync(bin)) return t.skip(why ?? `${bin} not built (make -C demos)`);
  const r = await recordProgram(bin, []);
  try {
    assert.equal(r.exit.status, 0, r.stderr);
    const d = buildMapData(model(r.store));
    const procs = d.nodes.filter((n) => n.kind === 'process');
    const pipes = d.nodes.filter((n) => n.kind === 'pipe');
    if (procs.length < 2) return t.skip('the shim does not trace the forked child yet');
    assert.equal(pipes.length, 1);
    const w = d.edges.find((x) => x.to === pipes[0].id && x.use === 'write')!;
    const rd = d.edges.find((x) => x.from === pipes[0].id && x.use === 'read')!;
    assert.ok(w && rd, 'one writer edge and one reader edge');
    assert.notEqual(w.from, rd.to, 'writer and reader are different processes');
    assert.equal(w.bytes, rd.bytes, 'every byte written was read');
    assert.ok(Number(w.bytes) > 20);
    const child = procs.find((n) => n.id === rd.to)!;
    assert.equal(child.parent, w.from, 'the reading child is grouped under the writing parent');
  } finally { r.cleanup(); }
});

test('live: the map follows a growing model batch by batch and ends equal to the map of the whole trace', async (t) => {
  const why = whyNoShim();
  const bin = join(ROOT, 'demos/pipe/build/pipe');
  if (why || !existsSync(bin)) return t.skip(why ?? `${bin} not built (make -C demos)`);
  const r = await recordProgram(bin, []);
  try {
    // The store as a live session sees it: a count that grows one batch at a time.
    let limit = 0;
    const view: EventSource = { get count() { return Math.min(limit, r.store.count); }, get: (i) => r.store.get(i), connections: () => r.store.connections() };
    const live = new TraceModel(view, { live: true, lagNs: 1_000_000n });
    const builder = new MapBuilder(live);
    const sizes: number[] = [];
    let changes = 0, early: string[] = [];
    for (limit = 25; limit < r.store.count + 25; limit += 25) {
      live.update();
      if (builder.update()) changes++;
      sizes.push(builder.current.nodes.length);
      if (early.length < 2 && builder.current.nodes.length >= 2) early = builder.current.nodes.map((n) => n.id);
    }
    live.update({ flush: true });
    builder.update();
    const final = builder.current.nodes.map((n) => n.id);
    assert.ok(changes >= 2, `the map changed as the trace grew (${changes} times)`);
    assert.ok(sizes.some((n) => n < final.length), `nodes appear as they are seen: ${sizes.join(' ')}`);
    // Nodes seen early keep their order (the layered layout respects model order, so the picture stays put).
    assert.ok(early.length >= 2);
    assert.deepEqual(final.filter((id) => early.includes(id)), early);
    assert.deepEqual(builder.current, buildMapData(model(r.store)), 'incremental ends where a build of the whole trace does');
  } finally { r.cleanup(); }
});
