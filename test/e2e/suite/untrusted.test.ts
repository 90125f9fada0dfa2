// In an untrusted workspace (restricted mode) IPC Scope activates but refuses to trace, saying why.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, fixture } from './helpers';

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
});
