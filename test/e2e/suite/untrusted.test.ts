// In an untrusted workspace (restricted mode) IPC Scope activates but refuses to trace, saying why.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, fixture } from './helpers';
import type { TraceSession } from '../../../src/host/session';

describe('untrusted workspace', () => {
  it('is really untrusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  it('refuses to trace and says why', async () => {
    const a = await api();
    const r = await vscode.commands.executeCommand('ipcScope.traceProgram', vscode.Uri.file(fixture('pipe_hello.c')));
    assert.equal(r, undefined);
    assert.equal(a.sessions.sessions.length, 0);
    assert.match(a.sessions.lastRefusal ?? '', /untrusted workspace/);
  });

  it('still opens .ipctrace files in the read-only viewer', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.openTraceFile', vscode.Uri.file(fixture('recorded.ipctrace')));
    assert.ok(s, 'the trace did not open');
    assert.equal(s.state, 'opened');
    assert.ok(s.stats().events > 0);
    a.sessions.setCurrent(s);
    assert.ok(a.views.processes.roots().length >= 1);
  });
});
