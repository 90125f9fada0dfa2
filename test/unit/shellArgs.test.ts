import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatArgs, parseArgs } from '../../src/common/shellArgs';

test('arguments split as a shell would, without running one', () => {
  assert.deepEqual(parseArgs(''), { args: [] });
  assert.deepEqual(parseArgs(`3 'two words' "x y" a\\ b`), { args: ['3', 'two words', 'x y', 'a b'] });
  assert.deepEqual(parseArgs('$HOME *.c'), { args: ['$HOME', '*.c'] }, 'variables and globs stay as typed');
  assert.deepEqual(parseArgs('run # a comment'), { args: ['run'] });
});

test('shell operators are refused with the reason', () => {
  for (const t of ['a | b', 'a > out', 'a && b', 'a; b']) {
    const r = parseArgs(t);
    assert.ok('error' in r, t);
    assert.match(r.error, /shell operator.*run directly/);
  }
});

test('formatArgs round-trips through parseArgs', () => {
  const args = ['plain', 'two words', "it's", '', '$HOME', 'a|b'];
  assert.deepEqual(parseArgs(formatArgs(args)), { args });
});
