// The one place the extension calls into the timeline panel (src/host/timelinePanel.ts, the timeline engineer's):
// show a session's timeline, and render a session into the custom editor's webview panel.
import * as vscode from 'vscode';
import type { TraceSession } from './session';

export interface TimelineBridge extends vscode.Disposable {
  show(s: TraceSession, opts: { preserveFocus: boolean }): Promise<void>;
  /** Renders an opened trace into a webview panel VS Code created for the custom editor. */
  resolveEditor(s: TraceSession, panel: vscode.WebviewPanel): Promise<void>;
}

export function createTimelineBridge(_context: vscode.ExtensionContext): TimelineBridge {
  return {
    async show() { /* wired when timelinePanel.ts lands */ },
    async resolveEditor() { /* wired when timelinePanel.ts lands */ },
    dispose() {},
  };
}
