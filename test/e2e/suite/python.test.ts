// Python targets in the real extension host (issues 3 and 6): F5 on a .py file with a breakpoint on one of its lines
// (the launch resolves to python3 + the script, as for a file in the editor). The inline adapter stops there, the
// top frame is the script's file and line (not libpython's C code), and the editor shows that line.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, waitFor, alive, nextIpcScopeStop, EXTENSION_ID } from './helpers';


describe('Python targets (F5 on a .py file)', function () {
  this.timeout(90_000);

  it('a breakpoint on a script\'s os.write line stops there; the top frame and the editor show that line', async () => {
    const a = await api();
    const root = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    const file = join(root, 'test/fixtures/python/pipe_fork.py');
    const line0 = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('# @write'));
    assert.ok(line0 > 0);
    const uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(uri);
    const bp = new vscode.SourceBreakpoint(new vscode.Location(uri, new vscode.Position(line0, 0)));
    vscode.debug.addBreakpoints([bp]);
    const { stopped, tracker } = nextIpcScopeStop();
    try {
      const before = a.sessions.sessions.length;
      const ok = await vscode.debug.startDebugging(vscode.workspace.workspaceFolders?.[0], {
        type: 'ipcscope', request: 'launch', name: 'pipe_fork.py', program: file, cwd: join(root, 'test/fixtures/python'),
      });
      assert.ok(ok, 'startDebugging failed');
      const { session, body } = await stopped;
      assert.equal(body.reason, 'breakpoint');
      const st = await session.customRequest('stackTrace', { threadId: body.threadId }) as { stackFrames: { name: string; line: number; source?: { path?: string } }[] };
      const top = st.stackFrames[0];
      // In a remote extension host (code-server) the client asks for URIs: vscode-remote://host/abs/path.
      const fsPath = (p?: string) => (p && p.includes('://') ? vscode.Uri.parse(p).path : p);
      assert.match(top.name, /^write\(/, st.stackFrames.map((f) => f.name).join(' | '));
      assert.equal(fsPath(top.source?.path), file);
      assert.equal(top.line, line0 + 1);
      const editor = await waitFor('the editor on pipe_fork.py at the paused line', () => {
        const e = vscode.window.activeTextEditor;
        return e && e.document.uri.fsPath === file && e.selection.active.line === line0 ? e : undefined;
      });
      assert.match(editor.document.lineAt(line0).text, /os\.write\(w, b"hello from the parent"\)/);
      const traced = a.sessions.sessions.slice(before).find((s) => /\(debug\)/.test(s.label));
      assert.ok(traced, a.sessions.sessions.map((s) => s.label).join(', '));
      const pids = [...new Set(traced.store!.connections().map((c) => c.pid))];
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
