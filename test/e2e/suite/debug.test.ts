// Stepping from the real extension host (issue 6): the ipcscope debug type on the pipe demo with a breakpoint on the
// parent's write. The inline adapter stops there, the editor shows the paused line, the call stack and variables
// show the pending write, the recording is a session in the views, and Stop leaves no process behind.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { api, waitFor, alive, nextIpcScopeStop, EXTENSION_ID } from './helpers';


describe('stepping (ipcscope debug type)', function () {
  this.timeout(90_000);

  it('F5 on the pipe demo stops at the parent\'s write: paused line in the editor, pending write in stack and variables', async () => {
    const a = await api();
    const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    execFileSync('flock', ['/tmp/ipcscope-demos-make.lock', 'make', '-s', '-C', join(root, 'demos')], { stdio: 'pipe' });
    const src = vscode.Uri.file(join(root, 'demos/pipe/pipe.c'));
    const bp = new vscode.SourceBreakpoint(new vscode.Location(src, new vscode.Position(29, 0)));
    vscode.debug.addBreakpoints([bp]);
    const { stopped, tracker } = nextIpcScopeStop();
    try {
      const sessionsBefore = a.sessions.sessions.length;
      const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
        type: 'ipcscope', request: 'launch', name: 'pipe demo', program: join(root, 'demos/pipe/build/pipe'), cwd: join(root, 'demos/pipe'),
      });
      assert.ok(ok, 'startDebugging failed');
      const { session, body } = await stopped;
      assert.equal(body.reason, 'breakpoint');

      const st = await session.customRequest('stackTrace', { threadId: body.threadId }) as { stackFrames: { id: number; name: string; line: number; source?: { path?: string } }[] };
      const top = st.stackFrames[0];
      // In a remote extension host (code-server) the client asks for URIs: vscode-remote://host/abs/path.
      const fsPath = (p?: string) => (p && p.includes('://') ? vscode.Uri.parse(p).path : p);
      assert.match(top.name, /^write\(fd 4 → pipe:\[\d+\], 19 bytes\)$/, st.stackFrames.map((f) => f.name).join(' | '));
      assert.equal(fsPath(top.source?.path), join(root, 'demos/include/demo.h'));
      assert.ok(st.stackFrames.some((f) => f.name === 'main' && f.line === 30 && fsPath(f.source?.path) === src.fsPath));

      // The editor opens the top frame's source with the paused line selected (and highlighted by the workbench).
      const editor = await waitFor('the editor on demo.h', () => {
        const e = vscode.window.activeTextEditor;
        return e && e.document.uri.fsPath === join(root, 'demos/include/demo.h') ? e : undefined;
      });
      assert.equal(editor.selection.active.line, top.line - 1);
      assert.match(editor.document.lineAt(top.line - 1).text, /write\(fd, p, len\)/);

      const scopes = await session.customRequest('scopes', { frameId: top.id }) as { scopes: { name: string; variablesReference: number }[] };
      assert.deepEqual(scopes.scopes.map((s) => s.name.split(' ')[0]), ['Call:', 'Process', 'Locks']);
      const vars = await session.customRequest('variables', { variablesReference: scopes.scopes[0].variablesReference }) as { variables: { name: string; value: string }[] };
      const v = Object.fromEntries(vars.variables.map((x) => [x.name, x.value]));
      assert.match(v.fd, /^4 → pipe:\[\d+\] \(w\)$/);
      assert.equal(v.count, '19');
      assert.match(v.call, /^write\(fd 4 → pipe/);

      // The debug session is a trace session: it is in the session list with its events.
      const traced = a.sessions.sessions.slice(sessionsBefore).find((s) => /\(debug\)/.test(s.label));
      assert.ok(traced, a.sessions.sessions.map((s) => s.label).join(', '));
      assert.ok(traced.stats().events > 0);
      const pids = [...new Set(traced.store!.connections().map((c) => c.pid))];
      assert.ok(pids.length >= 2, 'parent and child connected');

      // Step Back moves the history cursor; the adapter's ipcScope.cursor event makes the timeline (opened for it)
      // select that event: the webview reports the selection back, so this is the event the panel shows.
      const cursor = new Promise<{ index: number; history: boolean }>((r) => {
        const sub = vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
          if (e.session.id === session.id && e.event === 'ipcScope.cursor') { sub.dispose(); r(e.body as { index: number; history: boolean }); }
        });
      });
      await session.customRequest('stepBack', { threadId: body.threadId });
      const moved = await cursor;
      assert.equal(moved.history, true);
      assert.ok(moved.index < traced.store!.count);
      await waitFor('a timeline tab for the debug session', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs)
        .some((t) => t.input instanceof vscode.TabInputWebview && /ipcScope\.timeline/.test(t.input.viewType) && t.label === `Timeline: ${traced.label}`));
      await waitFor(`the timeline to select event ${moved.index}`,
        () => a.timeline.selectedEvent(traced.id) === moved.index);

      await vscode.debug.stopDebugging(session);
      await waitFor('every process gone', () => pids.every((p) => !alive(p)));
    } finally {
      // A failed assertion must not leave its debug session (and the paused program) for the next suite.
      await vscode.debug.stopDebugging().then(undefined, () => undefined);
      tracker.dispose();
      vscode.debug.removeBreakpoints([bp]);
    }
  });
});
