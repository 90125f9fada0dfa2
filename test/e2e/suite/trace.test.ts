// Tracing real programs under the real shim from the real extension host: sessions, processes, objects,
// the session terminal, stop, export, the .ipctrace custom editor.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { decodePerfetto } from '../../../src/common/model';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceSession } from '../../../src/host/session';
import { api, fixture, waitFor, alive } from './helpers';

describe('tracing programs', function () {
  this.timeout(90_000);
  let pipeSession: TraceSession;

  it('traces a C pipe program: compiled, run, two processes, a pipe', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceProgram', vscode.Uri.file(fixture('pipe_hello.c')));
    assert.ok(s, 'no session returned');
    assert.notEqual(s.state, 'failed', s.error);
    await s.whenEnded();
    pipeSession = s;
    assert.equal(s.state, 'exited');
    assert.equal(s.exit?.code, 0);
    // A loaded machine may deliver the three writes in fewer reads: check the bytes, not the chunking.
    const got = [...s.terminal!.transcript.matchAll(/child read \d+ bytes: (\S*)/g)].map((m) => m[1]).join('');
    assert.equal(got, 'hellofromparent', s.terminal!.transcript);
    assert.ok(s.terminal!.transcript.includes('parent: child exited with 0'));
    assert.ok(s.stats().events > 0, 'no events recorded');
    a.sessions.setCurrent(s);
    const roots = a.views.processes.roots();
    assert.equal(roots.length, 1, JSON.stringify(roots));
    assert.equal(roots[0].name, 'pipe_hello');
    assert.equal(roots[0].children.length, 1, 'the forked child is under its parent');
    assert.equal(roots[0].children[0].ppid, roots[0].pid);
    const sessionItem = a.views.sessions.getTreeItem(s);
    assert.match(String(sessionItem.description), /events/);
    const pipes = a.views.objects.objects().filter((o) => o.type === 'pipe');
    assert.equal(pipes.length, 1, JSON.stringify(a.views.objects.objects()));
    assert.deepEqual(pipes[0].users.map((u) => u.pid).sort(), [roots[0].pid, roots[0].children[0].pid].sort());
  });

  it('traces the last program again', async () => {
    const a = await api();
    const before = a.sessions.sessions.length;
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceLastProgram');
    assert.ok(s);
    await s.whenEnded();
    assert.equal(a.sessions.sessions.length, before + 1);
    assert.equal(s.program?.file, fixture('pipe_hello.c'));
    assert.equal(s.exit?.code, 0);
  });

  it('sends what the user types in the session terminal to the program', async () => {
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceProgram', { file: fixture('echo_stdin.py') });
    assert.ok(s && s.state === 'running', s?.error);
    s.terminal!.terminal.sendText('hello ipc', true);
    await waitFor('echo', () => s.terminal!.transcript.includes('HELLO IPC')).catch((e: Error) => { throw new Error(`${e.message}; terminal: ${s.terminal!.transcript}`); });
    s.terminal!.terminal.sendText('quit', true);
    await s.whenEnded();
    assert.equal(s.exit?.code, 0);
  });

  it('stopping a session kills the whole process tree, setsid children included', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceProgram', { file: fixture('tree.sh') });
    assert.ok(s && s.state === 'running', s?.error);
    // sh plus four sleeps (one in its own session) have connected to the collector.
    await waitFor('the tree to start', () => s.terminal!.transcript.includes('tree started') && new Set(s.store!.connections().map((c) => c.pid)).size >= 5);
    const pids = [...new Set(s.store!.connections().map((c) => c.pid))];
    assert.ok(pids.every(alive), 'all started');
    a.sessions.setCurrent(s);
    assert.equal(a.views.processes.roots().length, 1);
    a.statusBar.update();
    assert.match(a.statusBar.item.text, /tree\.sh: [\d,]+ events · [\d.]+k?\/s/);
    assert.equal(a.statusBar.item.command, 'ipcScope.showTimeline');
    const stopped = await vscode.commands.executeCommand<TraceSession>('ipcScope.stopSession', s);
    assert.equal(stopped, s);
    assert.equal(s.state, 'exited');
    await waitFor('every pid to be gone', () => pids.every((p) => !alive(p)), 5000);
    a.statusBar.update();
    assert.equal(a.sessions.running.length, 0);
  });

  it('exports the .ipctrace and opens it in the custom editor', async () => {
    const a = await api();
    const out = join(tmpdir(), `ipcscope-e2e-${process.pid}.ipctrace`);
    const written = await vscode.commands.executeCommand<string>('ipcScope.exportTrace', pipeSession, vscode.Uri.file(out), 'ipctrace');
    assert.equal(written, out);
    assert.ok(statSync(out).size > 0);
    const opened = await vscode.commands.executeCommand<TraceSession>('ipcScope.openTraceFile', vscode.Uri.file(out));
    assert.ok(opened, 'openTraceFile returned nothing');
    assert.equal(opened.state, 'opened');
    assert.equal(opened.stats().events, pipeSession.stats().events);
    const tab = await waitFor('the custom editor tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs)
      .find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === out));
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'ipcScope.traceViewer');
    assert.equal(a.sessions.current, opened);
    assert.equal(a.views.processes.roots().length, 1);
  });

  it('exports Perfetto and Chrome JSON through the model exporters', async () => {
    const base = join(tmpdir(), `ipcscope-e2e-${process.pid}`);
    const perfetto = await vscode.commands.executeCommand<string>('ipcScope.exportTrace', pipeSession, vscode.Uri.file(`${base}.perfetto-trace`), 'perfetto');
    assert.equal(perfetto, `${base}.perfetto-trace`);
    const packets = decodePerfetto(readFileSync(perfetto)).packet;
    assert.ok(packets.length > 4, `only ${packets.length} packets`);
    const chrome = await vscode.commands.executeCommand<string>('ipcScope.exportTrace', pipeSession, vscode.Uri.file(`${base}.json`), 'chrome');
    const json = JSON.parse(readFileSync(chrome, 'utf8')) as { traceEvents: { ph: string; pid: number; name?: string }[] };
    const pids = new Set(json.traceEvents.filter((e) => e.ph !== 'M').map((e) => e.pid));
    assert.equal(pids.size, 2, `pids in the chrome trace: ${[...pids].join(', ')}`);
    assert.ok(json.traceEvents.some((e) => e.name === 'write') && json.traceEvents.some((e) => e.name === 'read'));
  });

  it('opens a broken trace file with a clear error instead of losing the editor', async () => {
    const bad = fixture('not-a-trace.ipctrace');
    await vscode.workspace.fs.writeFile(vscode.Uri.file(bad), new TextEncoder().encode('this is not a trace'));
    const r = await vscode.commands.executeCommand('ipcScope.openTraceFile', vscode.Uri.file(bad));
    assert.equal(r, undefined);
  });

  it('shows the timeline of the current session in a webview panel', async () => {
    assert.equal(await vscode.commands.executeCommand('ipcScope.showTimeline', pipeSession), true);
    // The session's timeline panel is the active tab of its group (shown, not just created).
    await waitFor('the timeline tab, active', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs)
      .some((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('ipcScope.timeline') && t.label.includes(pipeSession.label) && t.isActive));
    // Reveal in Timeline (what selecting a tree item runs) reaches the panel.
    await vscode.commands.executeCommand('ipcScope.revealInTimeline', { type: 'process', pid: pipeSession.store!.connections()[0].pid });
  });

  it('reports a failing build in the session', async () => {
    const broken = fixture('broken.c');
    await vscode.workspace.fs.writeFile(vscode.Uri.file(broken), new TextEncoder().encode('int main(void) { return nope; }\n'));
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.traceProgram', vscode.Uri.file(broken));
    assert.ok(s);
    assert.equal(s.state, 'failed');
    assert.match(s.error ?? '', /build command failed/);
    assert.match(s.terminal!.transcript, /nope/);
    assert.ok(!existsSync(join(tmpdir(), 'never')));
  });

  after(async () => { await (await api()).sessions.stopAll(); });
});
