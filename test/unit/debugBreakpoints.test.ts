// The debug adapter's breakpoint pieces in plain Node: function names → kinds, conditions on named arguments,
// the kind bitmap the shim takes, and a real binary's line table (the pipe demo, built with -g -O0).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Condition, kindForFunction, kindWords, readLineTable, rangesForLine, CONTENDED_BIT } from '../../src/common/debug/breakpoints';
import { kindId } from '../../src/common/vocabulary';
import { ROOT } from '../helpers/record';

describe('function breakpoints', () => {
  test('IPC function names map to event kinds, others are refused with the reason', () => {
    assert.deepEqual(kindForFunction('write'), { kind: kindId('write') });
    assert.deepEqual(kindForFunction('sendto'), { kind: kindId('write') });
    assert.deepEqual(kindForFunction('pthread_mutex_lock'), { kind: kindId('mutex_lock') });
    assert.deepEqual(kindForFunction(' mq_send '), { kind: kindId('mq_send') });
    assert.deepEqual(kindForFunction('kill'), { kind: kindId('kill') });
    assert.deepEqual(kindForFunction('strlen'), { error: 'strlen is not a traced IPC function' });
    assert.ok('error' in kindForFunction('paused'), 'the shim\'s own meta kinds are not functions');
  });

  test('the kind bitmap has one bit per kind in four 64-bit words; bit 255 is the contended filter', () => {
    const w = kindWords([kindId('write'), 0, 64, CONTENDED_BIT]);
    assert.equal(w.length, 4);
    assert.equal(w[0], (1n << BigInt(kindId('write'))) | 1n);
    assert.equal(w[1], 1n);
    assert.equal(w[3], 1n << 63n);
  });
});

describe('conditions', () => {
  const ctx = (args: Record<string, bigint>, pid = 10) => ({ args: new Map(Object.entries(args)), pid, tid: pid, rootPid: 10 });
  test('compare named arguments', () => {
    assert.equal(Condition.parse('fd == 4').test(ctx({ fd: 4n })), true);
    assert.equal(Condition.parse('fd == 4').test(ctx({ fd: 3n })), false);
    assert.equal(Condition.parse('bytes > 4096').test(ctx({ count: 8192n })), true, 'bytes reads count');
    assert.equal(Condition.parse('bytes > 4096').test(ctx({ count: 64n })), false);
    assert.equal(Condition.parse('fd == 4 && bytes <= 64').test(ctx({ fd: 4n, count: 64n })), true);
    assert.equal(Condition.parse('fd == -1').test(ctx({ fd: BigInt.asUintN(64, -1n) })), true, 'arguments are signed');
    assert.equal(Condition.parse('sig == SIGUSR1').test(ctx({ sig: 10n })), true);
  });
  test('pid == child / parent against the session\'s first process', () => {
    assert.equal(Condition.parse('pid == child').test(ctx({}, 11)), true);
    assert.equal(Condition.parse('pid == child').test(ctx({}, 10)), false);
    assert.equal(Condition.parse('pid == parent').test(ctx({}, 10)), true);
    assert.equal(Condition.parse('pid != child').test(ctx({}, 10)), true);
  });
  test('an argument the call does not have is unknown, not false', () => {
    assert.equal(Condition.parse('fd == 4').test(ctx({})), undefined);
  });
  test('bad conditions are refused with what to write', () => {
    assert.throws(() => Condition.parse('fd = 4'), /cannot read condition 'fd = 4': write NAME OP VALUE/);
    assert.throws(() => Condition.parse('fd == 4 &&'), /cannot read condition ''/);
  });
});

describe('line table', { skip: existsSync(join(ROOT, 'demos/pipe/pipe.c')) ? undefined : 'no demos' }, () => {
  test('source lines of the pipe demo resolve to address ranges; comment lines and missing files do not', () => {
    execFileSync('flock', ['/tmp/ipcscope-demos-make.lock', 'make', '-s', '-C', join(ROOT, 'demos')], { stdio: 'pipe' });
    const t = readLineTable(join(ROOT, 'demos/pipe/build/pipe'));
    const w = rangesForLine(t, join(ROOT, 'demos/pipe/pipe.c'), 30);
    assert.ok(w && w.line === 30 && w.ranges.length > 0, JSON.stringify(w, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v)));
    for (const r of w.ranges) assert.ok(r.hi > r.lo);
    const h = rangesForLine(t, join(ROOT, 'demos/include/demo.h'), 22);
    assert.ok(h && h.ranges.length > 0, 'lines of an included header resolve too');
    assert.equal(rangesForLine(t, join(ROOT, 'demos/pipe/pipe.c'), 1), undefined);
    assert.equal(rangesForLine(t, '/nowhere/other.c', 10), undefined);
  });
  test('a file that is not a binary gives a clear error', () => {
    assert.throws(() => readLineTable(join(ROOT, 'package.json')), /cannot read the line table of .*package.json/);
  });
});
