// The lock CodeLens in the real extension host while a session records: a C program traced for real takes a global
// mutex from two threads and keeps running; the lens over its pthread_mutex_lock line (call site resolved by
// addr2line in the background) appears while the program still runs. Then the session is stopped.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TraceSession } from '../../../src/host/session';
import { api, fixture, waitFor } from './helpers';

describe('lock CodeLens while recording', function () {
  this.timeout(120_000);
  it('shows wait and contention over the pthread_mutex_lock line while the program still runs', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceProgram', vscode.Uri.file(fixture('lock_wait.c')));
    assert.ok(s && s.state !== 'failed', s?.error);
    try {
      a.sessions.setCurrent(s);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(fixture('lock_wait.c')));
      const lockLine = doc.getText().split('\n').findIndex((l) => l.includes('LOCK LINE'));
      assert.ok(lockLine > 0);
      const lens = await waitFor('a lens over the pthread_mutex_lock line', async () => {
        const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 100);
        return lenses?.find((l) => l.range.start.line === lockLine && /IPC Scope: waited/.test(l.command?.title ?? ''));
      }, 60_000);
      assert.ok(s.running, `the program still runs (state ${s.state})`);
      assert.match(lens.command!.title, /\/100 /, `both threads' 100 acquisitions counted: ${lens.command!.title}`);
    } finally {
      await vscode.commands.executeCommand('ipcScope.stopSession', s);
      await s.whenEnded();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
