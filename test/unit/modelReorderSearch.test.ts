// ByteStreamMatcher's reorder search stays bounded when the previews of several writers never agree with a read: the
// search a read waits on goes on from where it stopped as writes arrive (each write compared once per contradicted
// pair), and the flows are those an unbounded search gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteStreamMatcher, type Endpoint } from '../../src/common/model';

const at = (index: number, ts: number): Endpoint => ({ index, pid: 100 + (index % 3), tid: 100 + (index % 3), ts: BigInt(ts) });
const text = (c: string, n: number) => new TextEncoder().encode(c.repeat(n));

test('byte stream: a read no write agrees with compares each later write once, not the window on every write', () => {
  const got: string[] = [];
  const m = new ByteStreamMatcher((f, t, b, off) => got.push(`${f.index}->${t.index} ${b}@${off}`));
  // Three writers overlapping in time; the reader saw 'Z', which none wrote (a preview of bytes the shim cut, say).
  m.write(at(1, 10), 8, { t0: 0n, preview: text('A', 8) });
  m.read(at(2, 20), 8, { preview: text('Z', 8) });
  const writes = 400; // under the 512-write window: the read keeps waiting for a write that agrees
  for (let i = 0; i < writes; i++) m.write(at(10 + i, 30 + i), 8, { t0: 5n, preview: text('BCD'[i % 3], 8) });
  assert.equal(got.length, 0, 'held back while a later write might still agree');
  assert.ok(m.searched <= writes + 1, `${m.searched} comparisons for ${writes} writes (the whole window each time: ${(writes * (writes + 1)) / 2})`);
  // The end of the trace: matched in completion order, as without the search.
  m.flush();
  assert.deepEqual(got, ['1->2 8@0']);
  m.read(at(1000, 2000), 16, { preview: text('B', 8) });
  assert.deepEqual(got, ['1->2 8@0', '10->1000 8@8', '11->1000 8@16']);
});

test('byte stream: a write that agrees, arriving after many that do not, is still found and moved first', () => {
  const got: [number, number, number][] = [];
  const m = new ByteStreamMatcher((f, t, b) => got.push([f.index, t.index, b]));
  m.write(at(1, 1000), 4, { t0: 0n, preview: text('A', 4) });
  m.read(at(2, 1001), 4, { preview: text('Q', 4) });
  for (let i = 0; i < 100; i++) m.write(at(10 + i, 1002 + i), 4, { t0: 1n, preview: text('B', 4) });
  assert.equal(got.length, 0);
  const before = m.searched;
  m.write(at(500, 1200), 4, { t0: 2n, preview: text('Q', 4) }); // began before write 1 completed: may have gone first
  assert.ok(m.searched - before <= 2, `${m.searched - before} comparisons for the one new write`);
  assert.deepEqual(got, [[500, 2, 4]]);
  assert.equal(m.reordered, 1);
});

test('byte stream: once full-window searches keep failing, reads stop searching until a preview agrees again', () => {
  const flows: [number, number, number][] = [];
  const m = new ByteStreamMatcher((f, t, b) => flows.push([f.index, t.index, b]));
  const P = ['A', 'B', 'C'].map((c) => text(c, 8));
  // three writers, a reader whose previews never match (20,000 reads): each would otherwise search 512 writes
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    m.write(at(2 * i, 10 * i + 5), 8, { t0: BigInt(10 * i), preview: P[i % 3] });
    m.read(at(2 * i + 1, 10 * i + 8), 8, { preview: text('Z', 8) });
  }
  assert.ok(m.searched < 40 * 512, `${m.searched} comparisons for ${n} reads`);
  m.flush();
  // every read took the write at its offset (completion order), as the searches that found nothing would have left it
  assert.equal(flows.length, n);
  assert.ok(flows.every(([w, r, b], k) => w === 2 * k && r === 2 * k + 1 && b === 8));
  // previews that agree again: searching resumes, and a swapped pair is put back in the order the reader saw
  const base = 2 * n + 10;
  m.write(at(base, 10 * base + 50), 8, { t0: BigInt(10 * base), preview: text('E', 8) });
  m.write(at(base + 1, 10 * base + 20), 8, { t0: BigInt(10 * base + 1), preview: text('D', 8) });
  m.read(at(base + 2, 10 * base + 60), 8, { preview: text('E', 8) });
  m.read(at(base + 3, 10 * base + 61), 8, { preview: text('D', 8) });
  assert.deepEqual(flows.slice(n), [[base, base + 2, 8], [base + 1, base + 3, 8]]);
  const before = m.reordered;
  m.write(at(base + 10, 10 * base + 200), 8, { t0: BigInt(10 * base + 100), preview: text('F', 8) });
  m.write(at(base + 11, 10 * base + 150), 8, { t0: BigInt(10 * base + 101), preview: text('G', 8) });
  m.read(at(base + 12, 10 * base + 210), 8, { preview: text('G', 8) });
  m.read(at(base + 13, 10 * base + 211), 8, { preview: text('F', 8) });
  assert.equal(m.reordered, before + 1);
  assert.deepEqual(flows.slice(n + 2), [[base + 11, base + 12, 8], [base + 10, base + 13, 8]]);
});
