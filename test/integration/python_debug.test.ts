// The `ipcscope` debug adapter on a Python target (issue 6): F5 on a .py file launches python3 with the script; a
// stop on the script's os.write shows the script's file and line as the top frame, not libpython's C code; a source
// breakpoint on a line of the script stops the first traced call made from it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeConversations, conversation, startAdapterServer, type AdapterServer } from '../helpers/dap';
import { ROOT, whyNoShim } from '../helpers/record';

const SCRIPT = join(ROOT, 'test/fixtures/python/pipe_fork.py');
// Debian's interpreter when there is one: python3 on PATH may be a pyenv shim, a shell whose own writes stop first.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const lineOf = (marker: string) => readFileSync(SCRIPT, 'utf8').split('\n').findIndex((l) => l.includes(`# @${marker}`)) + 1;

let server: AdapterServer;

describe('ipcscope debug adapter on a Python script', { skip: whyNoShim(), timeout: 300_000 }, () => {
  before(async () => { server = await startAdapterServer(); });
  after(async () => {
    await closeConversations();
    server?.close();
  });

  test('a function breakpoint on write stops at the script\'s os.write line, which the top frame opens', async () => {
    const c = await conversation(server);
    await c.launch({ program: PYTHON, args: [SCRIPT] }, () => c.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'write' }] }));
    const stop = await c.nextStop(60_000);
    assert.equal(stop.body.reason, 'function breakpoint');
    const frames = await c.frames(stop.body.threadId!);
    const top = frames[0];
    assert.match(top.name, /^write\(/, frames.map((f) => f.name).join(' | '));
    assert.equal(top.source?.path, SCRIPT, JSON.stringify(top));
    assert.equal(top.line, lineOf('write'));
    assert.equal(top.source?.name, 'pipe_fork.py');
    await c.dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const ended = c.event('terminated');
    await c.dc.continueRequest({ threadId: stop.body.threadId! });
    await ended;
    await c.close();
  });

  test('a source breakpoint on the script\'s os.write line stops there once, then the script runs to its end', async () => {
    const c = await conversation(server);
    await c.launch({ program: PYTHON, args: [SCRIPT] }, async () => {
      const set = await c.dc.setBreakpointsRequest({ source: { path: SCRIPT }, breakpoints: [{ line: lineOf('write') }] });
      assert.equal(set.body.breakpoints[0].verified, true, JSON.stringify(set.body));
    });
    const stop = await c.nextStop(60_000);
    assert.equal(stop.body.reason, 'breakpoint');
    const top = (await c.frames(stop.body.threadId!))[0];
    assert.equal(top.source?.path, SCRIPT, JSON.stringify(top));
    assert.equal(top.line, lineOf('write'));
    assert.match(top.name, /^write\(/);
    // Once per arrival: the GIL's mutex calls around the write, on the same line, neither stop it first nor again.
    const ended = c.event('terminated');
    await c.dc.continueRequest({ threadId: stop.body.threadId! });
    await ended;
    const again = c.stops.shift();
    assert.equal(again, undefined, `stopped again: ${JSON.stringify(again?.body)}`);
    await c.close();
  });
});
