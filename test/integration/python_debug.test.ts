// The `ipcscope` debug adapter on a Python target (issue 6): F5 on a .py file launches python3 with the script; a
// stop on the script's os.write shows the script's file and line as the top frame, not libpython's C code; a source
// breakpoint on a line of the script stops the first traced call made from it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { startAdapterServer, type AdapterServer } from '../helpers/dap';
import { ROOT, whyNoShim } from '../helpers/record';

const SCRIPT = join(ROOT, 'test/fixtures/python/pipe_fork.py');
// Debian's interpreter when there is one: python3 on PATH may be a pyenv shim, a shell whose own writes stop first.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const lineOf = (marker: string) => readFileSync(SCRIPT, 'utf8').split('\n').findIndex((l) => l.includes(`# @${marker}`)) + 1;

let server: AdapterServer;
let port = 0;

describe('ipcscope debug adapter on a Python script', { skip: whyNoShim(), timeout: 300_000 }, () => {
  before(async () => {
    server = await startAdapterServer();
    port = server.port;
  });
  after(() => { server?.close(); });

  test('a function breakpoint on write stops at the script\'s os.write line, which the top frame opens', async () => {
    const dc = new DebugClient('node', 'unused', 'ipcscope');
    dc.defaultTimeout = 20_000;
    await dc.start(port);
    try {
      await dc.initializeRequest({ adapterID: 'ipcscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
      const initialized = dc.waitForEvent('initialized', 20_000);
      const stopped = dc.waitForEvent('stopped', 30_000) as Promise<DebugProtocol.StoppedEvent>;
      const launched = dc.launchRequest({ program: PYTHON, args: [SCRIPT] } as DebugProtocol.LaunchRequestArguments);
      await initialized;
      await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'write' }] });
      await dc.configurationDoneRequest();
      await launched;
      const stop = await stopped;
      assert.equal(stop.body.reason, 'function breakpoint');
      const frames = (await dc.stackTraceRequest({ threadId: stop.body.threadId! })).body.stackFrames;
      const top = frames[0];
      assert.match(top.name, /^write\(/, frames.map((f) => f.name).join(' | '));
      assert.equal(top.source?.path, SCRIPT, JSON.stringify(top));
      assert.equal(top.line, lineOf('write'));
      assert.equal(top.source?.name, 'pipe_fork.py');
      await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      const ended = dc.waitForEvent('terminated', 30_000);
      await dc.continueRequest({ threadId: stop.body.threadId! });
      await ended;
    } finally {
      await dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
      await dc.stop();
    }
  });

  test('a source breakpoint on the script\'s os.write line stops there once, then the script runs to its end', async () => {
    const dc = new DebugClient('node', 'unused', 'ipcscope');
    dc.defaultTimeout = 20_000;
    await dc.start(port);
    try {
      await dc.initializeRequest({ adapterID: 'ipcscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
      const initialized = dc.waitForEvent('initialized', 20_000);
      const stopped = dc.waitForEvent('stopped', 30_000) as Promise<DebugProtocol.StoppedEvent>;
      const launched = dc.launchRequest({ program: PYTHON, args: [SCRIPT] } as DebugProtocol.LaunchRequestArguments);
      await initialized;
      const set = await dc.setBreakpointsRequest({ source: { path: SCRIPT }, breakpoints: [{ line: lineOf('write') }] });
      assert.equal(set.body.breakpoints[0].verified, true, JSON.stringify(set.body));
      await dc.configurationDoneRequest();
      await launched;
      const stop = await stopped;
      assert.equal(stop.body.reason, 'breakpoint');
      const top = (await dc.stackTraceRequest({ threadId: stop.body.threadId! })).body.stackFrames[0];
      assert.equal(top.source?.path, SCRIPT, JSON.stringify(top));
      assert.equal(top.line, lineOf('write'));
      assert.match(top.name, /^write\(/);
      // Once per arrival: the GIL's mutex calls around the write, on the same line, neither stop it first nor again.
      let again: DebugProtocol.StoppedEvent | undefined;
      dc.on('stopped', (e: DebugProtocol.StoppedEvent) => { again = e; });
      const ended = dc.waitForEvent('terminated', 30_000);
      await dc.continueRequest({ threadId: stop.body.threadId! });
      await ended;
      assert.equal(again, undefined, `stopped again: ${JSON.stringify(again?.body)}`);
    } finally {
      await dc.disconnectRequest({ terminateDebuggee: true }).catch(() => undefined);
      await dc.stop();
    }
  });
});
