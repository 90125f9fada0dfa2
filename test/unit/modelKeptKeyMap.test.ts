// KeptKeyMap (the lock holder sets of the trace model) answers as a plain Map would: same size, values and
// iteration order, under random sets and deletes of a few keys (keys come back, as threads take a lock again) and
// of many one-off keys (shared holds: a key per acquisition, so kept deleted keys must be dropped at some point).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeptKeyMap } from '../../src/common/model/keptKeyMap';

function compare(k: KeptKeyMap<string, number>, m: Map<string, number>, at: string): void {
  assert.equal(k.size, m.size, `size ${at}`);
  assert.deepEqual([...k.entries()], [...m.entries()], `entries ${at}`);
  assert.deepEqual([...k.keys()], [...m.keys()], `keys ${at}`);
  assert.deepEqual([...k.values()], [...m.values()], `values ${at}`);
  assert.deepEqual(k.mapValues((v) => v * 2), [...m.values()].map((v) => v * 2), `mapValues ${at}`);
  assert.equal(k.firstKey(), m.keys().next().value, `firstKey ${at}`);
}

test('KeptKeyMap: same answers and order as a Map under random sets and deletes', () => {
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (const keys of [2, 5, 40]) {
    const k = new KeptKeyMap<string, number>(), m = new Map<string, number>();
    for (let step = 0; step < 5000; step++) {
      // a third of the keys are one-off (never seen again), the rest come back
      const key = rnd(3) === 0 ? `once${step}` : `t${rnd(keys)}`;
      const op = rnd(3);
      if (op === 0) assert.equal(k.delete(key), m.delete(key), `delete ${key} at ${step}`);
      else { k.set(key, step); m.set(key, step); }
      for (const x of [key, 't0', 'absent']) { assert.equal(k.has(x), m.has(x)); assert.equal(k.get(x), m.get(x)); }
      if (step % 7 === 0) compare(k, m, `after step ${step} (${keys} keys)`);
    }
    compare(k, m, `at the end (${keys} keys)`);
  }
});

test('KeptKeyMap: a key deleted and set again goes to the end when another key is live, as in a Map', () => {
  const k = new KeptKeyMap<string, number>();
  k.set('a', 1); k.set('b', 2); k.delete('a'); k.set('a', 3);
  assert.deepEqual([...k.keys()], ['b', 'a']);
  k.delete('b'); k.delete('a'); k.set('b', 4); k.set('a', 5);
  assert.deepEqual([...k.entries()], [['b', 4], ['a', 5]]);
  assert.throws(() => k.set('c', undefined as unknown as number), /undefined/);
});
