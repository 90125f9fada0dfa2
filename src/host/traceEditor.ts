// .ipctrace files open in a read-only custom editor (viewType ipcScope.traceViewer) showing the timeline.
// The document is an opened-trace session, so the trees and Export work on it like on a live one.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { SessionManager } from './sessionManager';
import type { TraceSession } from './session';
import type { TimelineBridge } from './timelineBridge';
import { log } from './log';

export const TRACE_VIEWER = 'ipcScope.traceViewer';

class TraceDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri, readonly session: TraceSession | undefined, readonly error: string | undefined) {}
  dispose(): void {}
}

export class TraceEditorProvider implements vscode.CustomReadonlyEditorProvider<TraceDocument> {
  constructor(private readonly sessions: SessionManager, private readonly timeline: TimelineBridge) {}

  static register(sessions: SessionManager, timeline: TimelineBridge): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(TRACE_VIEWER, new TraceEditorProvider(sessions, timeline), {
      webviewOptions: { retainContextWhenHidden: false },
      supportsMultipleEditorsPerDocument: true,
    });
  }

  async openCustomDocument(uri: vscode.Uri): Promise<TraceDocument> {
    try {
      const file = uri.scheme === 'file' ? uri.fsPath : uri.path;
      return new TraceDocument(uri, await this.sessions.open(file), undefined);
    } catch (e) {
      // A bad file still opens: the editor says what is wrong instead of VS Code's generic failure.
      const msg = e instanceof Error ? e.message : String(e);
      log.error(`cannot open ${uri.toString()}: ${msg}`);
      return new TraceDocument(uri, undefined, msg);
    }
  }

  async resolveCustomEditor(doc: TraceDocument, panel: vscode.WebviewPanel): Promise<void> {
    if (!doc.session) {
      panel.webview.options = { enableScripts: false };
      const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
      panel.webview.html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"></head>` +
        `<body style="font-family: var(--vscode-font-family); color: var(--vscode-errorForeground); padding: 1em">` +
        `<h3>${esc(vscode.l10n.t('IPC Scope cannot read {0}', basename(doc.uri.path)))}</h3><p>${esc(doc.error ?? '')}</p></body></html>`;
      return;
    }
    this.sessions.setCurrent(doc.session);
    panel.onDidChangeViewState((e) => { if (e.webviewPanel.active && doc.session) this.sessions.setCurrent(doc.session); });
    await this.timeline.resolveEditor(doc.session, panel);
  }
}
