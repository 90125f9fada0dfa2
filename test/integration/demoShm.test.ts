// demos/shm: writer and reader map one POSIX shared-memory object and exchange five messages with no system call
// carrying them; the System V counter keeps its value across runs (1, 2, 3); Python's shared_memory is one
// /dev/shm object mapped by the parent and both children.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arg } from '../helpers/record';
import { context, evs, forkedChildren, num, partCommand, proc, procs, recorded, whyNoDemos, wholeRun } from './demoSupport';

const MAP_SHARED = 0x01;

describe('shm: POSIX writer and reader', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('shm', partCommand('shm', 'posix'), (run) => {
    test('both shm_open the same object and map it MAP_SHARED; five messages pass with no read or write on it', () => {
      const r = run();
      const writer = proc(r, './build/shm_writer'), reader = proc(r, './build/shm_reader');
      const wOpen = evs(r, 'shm_open', { pid: writer.pid }).find((e) => e.err === 0);
      const rOpen = evs(r, 'shm_open', { pid: reader.pid }).find((e) => e.err === 0);
      assert.ok(wOpen && rOpen, context(r));
      const ino = arg(wOpen, 'shm_open', 'ino');
      assert.equal(arg(rOpen, 'shm_open', 'ino'), ino, 'the same object');
      for (const p of [writer, reader]) {
        const maps = evs(r, 'mmap', { pid: p.pid }).filter((e) => e.err === 0 && arg(e, 'mmap', 'ino') === ino);
        assert.equal(maps.length, 1, `pid ${p.pid} maps it once`);
        assert.ok(num(maps[0], 'mmap', 'flags') & MAP_SHARED, 'MAP_SHARED');
      }
      for (const k of ['read', 'write'] as const)
        assert.equal(evs(r, k).filter((e) => arg(e, k, 'ino') === ino).length, 0, `no ${k} on the object: the data moves by plain stores and loads`);
      const obj = r.model.objects.get(`${arg(wOpen, 'shm_open', 'dev')}:${ino}`);
      assert.ok(obj && obj.pids.has(writer.pid) && obj.pids.has(reader.pid), 'the model: one shm object between writer and reader');
      assert.equal((r.stdout.match(/Reader: Read counter=\d/g) ?? []).length, 5);
    });
  });
});

describe('shm: System V counter', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('shm', partCommand('shm', 'sysv'), (run) => {
    test('three runs attach the same segment (one key) and print 1, 2, 3; the last run removes it', () => {
      const r = run();
      const runs = procs(r, './build/shm_counter').filter((p) => !p.argv.includes('remove'));
      assert.equal(runs.length, 3, context(r));
      // The key is 0x20211013 as in the note, mixed with the test's IPCSCOPE_DEMO_TAG (demos/include/demo.h).
      const ids = runs.map((p) => evs(r, 'shmget', { pid: p.pid }).find((e) => e.err === 0)!);
      assert.ok(ids.every(Boolean), 'each run calls shmget');
      assert.equal(new Set(ids.map((e) => arg(e, 'shmget', 'key'))).size, 1, 'with the same key');
      assert.equal(new Set(ids.map((e) => e.result)).size, 1, 'the same shmid every time');
      for (const p of runs) {
        assert.equal(evs(r, 'shmat', { pid: p.pid }).filter((e) => e.err === 0).length, 1);
        assert.equal(evs(r, 'shmdt', { pid: p.pid }).filter((e) => e.err === 0).length, 1);
      }
      assert.deepEqual((r.stdout.match(/shared memory value : (\d+)/g) ?? []).map((s) => Number(s.split(': ')[1])), [1, 2, 3]);
      assert.ok(evs(r, 'shmctl').some((e) => e.err === 0 && num(e, 'shmctl', 'cmd') === 0 /* IPC_RMID */), 'removed');
    });
  });
});

describe('shm: multiprocessing.shared_memory', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('shm', partCommand('shm', 'python'), (run) => {
    test('the parent creates one /dev/shm object, both children open and map the same one', () => {
      const r = run();
      const main = proc(r, 'mp_shared_memory.py');
      const kids = forkedChildren(r, main);
      assert.ok(kids.length >= 2, context(r));
      const created = evs(r, 'shm_open', { pid: main.pid }).find((e) => e.err === 0);
      assert.ok(created, 'the parent shm_opens the block');
      const ino = arg(created, 'shm_open', 'ino');
      const users = kids.filter((k) => evs(r, 'shm_open', { pid: k.pid }).some((e) => e.err === 0 && arg(e, 'shm_open', 'ino') === ino));
      assert.ok(users.length >= 2, 'writer and reader open the same block by name');
      for (const k of users) assert.ok(evs(r, 'mmap', { pid: k.pid }).some((e) => e.err === 0 && arg(e, 'mmap', 'ino') === ino && (num(e, 'mmap', 'flags') & MAP_SHARED)), `pid ${k.pid} maps it shared`);
      assert.match(r.stdout, /Reader: round 5/);
      assert.ok(evs(r, 'shm_unlink', { pid: main.pid }).some((e) => e.err === 0), 'and unlinks it');
    });
  });
});

wholeRun('shm');
