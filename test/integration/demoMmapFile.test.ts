// demos/mmap-file: a store into a MAP_SHARED file mapping plus msync is what read() later finds in the file; two
// processes mapping one file see each other's stores with no read or write between them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arg } from '../helpers/record';
import { context, evs, forkedChildren, num, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

const MAP_SHARED = 0x01;

describe('mmap-file: write through mmap + msync', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('mmap-file', partCommand('mmap-file', 'write-msync'), (run) => {
    test('mmap MAP_SHARED of the file, no write() to it, msync, and the file holds the stored text', () => {
      const r = run();
      const p = proc(r, './build/mmap_write');
      const map = evs(r, 'mmap', { pid: p.pid }).find((e) => e.err === 0 && num(e, 'mmap', 'otype') === 7 /* file */ && (num(e, 'mmap', 'flags') & MAP_SHARED));
      assert.ok(map, context(r));
      const ino = arg(map, 'mmap', 'ino');
      assert.equal(evs(r, 'write', { pid: p.pid }).filter((e) => arg(e, 'write', 'ino') === ino).length, 0, 'nothing written with write()');
      const sync = evs(r, 'msync', { pid: p.pid }).find((e) => e.err === 0);
      assert.ok(sync && sync.ts > map.ts && sync.args[0] === BigInt.asUintN(64, map.result), 'msync of that mapping');
      assert.ok(evs(r, 'munmap', { pid: p.pid }).some((e) => e.ts > sync.ts && e.args[0] === sync.args[0]), 'then unmapped');
      // The program reads the file back with fopen/fgets; stdio's reads happen inside glibc, out of the shim's sight,
      // so the check is on what it printed.
      assert.match(r.stdout, /File content: Hello, Memory-Mapped File!/);
    });
  });
});

describe('mmap-file: two processes map one file', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('mmap-file', partCommand('mmap-file', 'two-processes'), (run) => {
    test('parent and child map MAP_FILE shared; the child\'s store reaches the parent with no read or write', () => {
      const r = run();
      const parent = proc(r, './build/mmap_orders');
      const [child] = forkedChildren(r, parent);
      assert.ok(child, context(r));
      const mapOf = (pid: number) => evs(r, 'mmap', { pid }).find((e) => e.err === 0 && num(e, 'mmap', 'otype') === 7 && (num(e, 'mmap', 'flags') & MAP_SHARED));
      const pm = mapOf(parent.pid), cm = mapOf(child.pid);
      assert.ok(pm && cm, 'both map the file');
      const ino = arg(pm, 'mmap', 'ino');
      assert.equal(arg(cm, 'mmap', 'ino'), ino, 'the same file');
      for (const k of ['read', 'write'] as const)
        assert.equal(evs(r, k).filter((e) => arg(e, k, 'ino') === ino).length, 0, `no ${k} on MAP_FILE`);
      assert.match(r.stdout, /parent: order 0 = type 2, 99\.50 x 42/);
      const obj = r.model.objects.get(`${arg(pm, 'mmap', 'dev')}:${ino}`);
      assert.ok(obj && obj.pids.has(parent.pid) && obj.pids.has(child.pid), 'the model: one shared file mapping between them');
    });
  });
});

wholeRun('mmap-file');
