// The one place the extension calls into the timeline panel (src/host/timelinePanel.ts, the timeline engineer's):
// show a session's timeline, and render a session into the custom editor's webview panel. TimelinePanels also
// registers ipcScope.revealInTimeline and the panel serializer.
import type * as vscode from 'vscode';
import type { TraceSession } from './session';
import type { SessionManager } from './sessionManager';
import { TimelinePanels } from './timelinePanel';

export interface TimelineBridge extends vscode.Disposable {
  show(s: TraceSession, opts: { preserveFocus: boolean }): Promise<void>;
  /** Renders an opened trace into a webview panel VS Code created for the custom editor. */
  resolveEditor(s: TraceSession, panel: vscode.WebviewPanel): Promise<void>;
  /** The event a session's timeline panel shows selected (read-only, for tests). */
  selectedEvent(sessionId: string): number | null | undefined;
}

export function createTimelineBridge(context: vscode.ExtensionContext, sessions: SessionManager): TimelineBridge {
  return TimelinePanels.register(context, sessions);
}
