// The extension loads in a real VS Code, activates, contributes its commands, views, settings and editor.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from './helpers';

const COMMANDS = ['ipcScope.traceProgram', 'ipcScope.traceLastProgram', 'ipcScope.stopSession', 'ipcScope.openTraceFile',
  'ipcScope.exportTrace', 'ipcScope.showTimeline',
  'ipcScope.gallery.trace', 'ipcScope.gallery.step', 'ipcScope.gallery.openReadme', 'ipcScope.gallery.refresh',
  'ipcScope.showPageTables', 'ipcScope.showLocks', 'ipcScope.showIpcMap'];

describe('activation', () => {
  it('activates and returns its API', async () => {
    const a = await api();
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
    assert.ok(Array.isArray(a.sessions.sessions));
  });

  it('registers every command of package.json', async () => {
    await api();
    const all = new Set(await vscode.commands.getCommands(true));
    const contributed = (vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.deepEqual([...contributed].sort(), [...COMMANDS].sort());
    for (const c of [...COMMANDS, 'ipcScope.revealInTimeline']) assert.ok(all.has(c), `${c} is not registered`);
  });

  it('declares workspace extension kind and limited untrusted support', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON;
    assert.deepEqual(pkg.extensionKind, ['workspace']);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  });

  it('shows the IPC Scope view container and its four views', async () => {
    await api();
    await vscode.commands.executeCommand('workbench.view.extension.ipcScope');
    for (const id of ['ipcScope.sessions', 'ipcScope.processes', 'ipcScope.objects', 'ipcScope.findings'])
      await vscode.commands.executeCommand(`${id}.focus`);
  });

  it('reads its settings with their defaults', () => {
    const c = vscode.workspace.getConfiguration('ipcScope');
    assert.equal(c.get('payloadBytes'), 64);
    assert.equal(c.get('pageFaults'), false);
    assert.deepEqual(c.get('extraEnv'), {});
    assert.equal(c.get('buildCommand'), 'gcc -g -O0 -pthread -o ${output} ${file} -lrt');
    assert.equal(c.get('maxEvents'), 10_000_000);
  });

  it('says nothing is recording when Stop Session runs with no session', async () => {
    await api();
    assert.equal(await vscode.commands.executeCommand('ipcScope.stopSession'), undefined);
  });
});
