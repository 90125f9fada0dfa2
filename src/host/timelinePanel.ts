// The timeline panel in VS Code: one WebviewPanel per session (Show Timeline), the same webview inside the
// `.ipctrace` custom editor, restored after a reload by a WebviewPanelSerializer (the webview's saved state carries
// the trace file, which is reopened). The webview's host side is TimelineSession (timelineFeed.ts, no vscode).
//
// retainContextWhenHidden stays off: the webview keeps its view, selection and filters in getState/setState and
// fetches tiles again when shown, so a hidden timeline costs no renderer memory.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { RevealTarget } from '../common/webviewProtocol';
import type { TraceSession } from './session';
import type { SessionManager } from './sessionManager';
import { TimelineSession, makeNonce, timelineHtml } from './timelineFeed';
import { log } from './log';
import { CallSiteResolver } from '../common/model';
import { parseFromWebview } from '../common/webviewProtocol';
import { timelineLink } from '../common/panels/links';
import { panelLinks } from './panels';

export const TIMELINE_VIEW_TYPE = 'ipcScope.timeline';
export const REVEAL_COMMAND = 'ipcScope.revealInTimeline';

interface Attached {
  panel: vscode.WebviewPanel; host: TimelineSession | undefined; session: TraceSession; disposables: vscode.Disposable[]; selected?: number | null;
  /** A reveal asked for before the panel's session host exists (Step Back opening the timeline): the latest wins. */
  pendingReveal?: RevealTarget;
}

export class TimelinePanels implements vscode.Disposable {
  private readonly bySession = new Map<string, Attached>();
  private readonly editors = new Set<Attached>();
  private lastActive: Attached | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  private constructor(private readonly context: vscode.ExtensionContext, private readonly sessions: SessionManager | undefined) {}

  /** Registers the panel serializer and the reveal command; the extension calls show/resolveEditor. */
  static register(context: vscode.ExtensionContext, sessions?: SessionManager): TimelinePanels {
    const p = new TimelinePanels(context, sessions);
    p.disposables.push(
      vscode.window.registerWebviewPanelSerializer(TIMELINE_VIEW_TYPE, { deserializeWebviewPanel: (panel, state) => p.restore(panel, state) }),
      vscode.commands.registerCommand(REVEAL_COMMAND, (target: RevealTarget, opts?: { onlyIfOpen?: boolean }) => p.reveal(target, opts)),
    );
    return p;
  }

  /** Opens (or brings forward) the timeline of a session. */
  async show(s: TraceSession, opts: { preserveFocus: boolean; beside?: boolean }): Promise<void> {
    const have = this.bySession.get(s.id);
    if (have) { have.panel.reveal(undefined, opts.preserveFocus); return; }
    const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, vscode.l10n.t('Timeline: {0}', s.label),
      { viewColumn: opts.beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: opts.preserveFocus }, this.webviewOptions());
    this.attach(panel, s, false);
  }

  /** The `.ipctrace` custom editor: the same webview in the panel VS Code made. */
  async resolveEditor(s: TraceSession, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = this.webviewOptions();
    this.attach(panel, s, true);
  }

  /** Reveal in Timeline (tree views): the last active timeline, or the current session's. `onlyIfOpen`: move an open
   * timeline, never open one (a debugger stop: the source editor it opens next would hide a new panel at once). */
  async reveal(target: RevealTarget, opts?: { onlyIfOpen?: boolean }): Promise<void> {
    let a = this.lastActive;
    const current = this.sessions?.current;
    if (opts?.onlyIfOpen && current && !this.bySession.has(current.id)) return;
    if (current && (!a || a.session !== current)) {
      // beside the editor: a debugger stop shows its source in the active group, which would hide (and unload) the timeline
      await this.show(current, { preserveFocus: true, beside: !this.bySession.has(current.id) });
      a = this.bySession.get(current.id);
    }
    if (!a) { void vscode.window.showInformationMessage(vscode.l10n.t('IPC Scope: no trace is open in a timeline.')); return; }
    a.panel.reveal(undefined, true);
    if (a.host) a.host.reveal(target); else a.pendingReveal = target;
  }

  /** The event the webview of a session's timeline panel last reported selected (tests read it; undefined: no panel
   * or no selection report yet). */
  selectedEvent(sessionId: string): number | null | undefined { return this.bySession.get(sessionId)?.selected; }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    // The webview bundle carries the @vscode-elements controls, so out/webview is the only resource root.
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, 'out', 'webview')], retainContextWhenHidden: false };
  }

  private html(webview: vscode.Webview, title: string): string {
    const base = vscode.Uri.joinPath(this.context.extensionUri, 'out', 'webview');
    return timelineHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(base, 'timeline.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(base, 'timeline.css')).toString(),
      cspSource: webview.cspSource, nonce: makeNonce(), title,
    });
  }

  private attach(panel: vscode.WebviewPanel, s: TraceSession, editor: boolean): void {
    const a: Attached = { panel, host: undefined, session: s, disposables: [] };
    if (editor) this.editors.add(a); else this.bySession.set(s.id, a);
    this.lastActive = a;
    panel.webview.html = this.html(panel.webview, s.label);
    let resolver: CallSiteResolver | undefined;
    let early: unknown[] = []; // messages (ready) that arrive before the store exists (session still building)
    const start = (): void => {
      if (a.host || !s.store) return;
      a.host = new TimelineSession({
        source: s.store, title: s.label, live: s.running, traceFile: s.traceFile,
        // the model's exact flows once the trace is complete (the session flushes its model when the recording ends)
        exactFlows: () => (s.running ? undefined : s.currentModel()?.flows),
        // file:line of a clicked call, once the recording is complete (addr2line runs once per binary, cached)
        resolveSource: (index) => {
          if (s.running) return null;
          const m = s.currentModel();
          if (!m) return null;
          resolver ??= new CallSiteResolver(m);
          const c = resolver.forEvent(index);
          return c.file && c.line ? { file: c.file, line: c.line } : null;
        },
        post: (m) => panel.webview.postMessage(m),
        onOpenSource: (file, line) => void openSource(file, line, s),
        onSelected: (index) => { a.selected = index; },
        onLog: (level, message) => (level === 'error' ? log.error(message) : level === 'warning' ? log.warn(message) : log.info(message)),
      });
      if (a.pendingReveal) { a.host.reveal(a.pendingReveal); a.pendingReveal = undefined; }
      for (const m of early) a.host.handle(m);
      early = [];
      if (!s.running) a.host.end();
    };
    // The page/locks/map panels follow this timeline's cursor and selection, and it follows theirs.
    const postCursor = (ns: bigint | null) => void panel.webview.postMessage({ type: 'cursor', ns: ns === null ? null : ns.toString() });
    const linkPanels = (raw: unknown) => {
      let m;
      try { m = parseFromWebview(raw); } catch { return; } // the TimelineSession logs malformed messages
      if (m.type === 'ready' && panelLinks.cursorNs !== null) setTimeout(() => postCursor(panelLinks.cursorNs), 0); // after init
      const l = timelineLink(s.store, m, s.running ? undefined : s.currentModel());
      if (l?.cursorNs !== undefined) panelLinks.setCursor(l.cursorNs, 'timeline');
      if (l?.selection !== undefined) panelLinks.select(l.selection, 'timeline');
    };
    a.disposables.push(
      panel.webview.onDidReceiveMessage((m) => { if (a.host) a.host.handle(m); else early.push(m); linkPanels(m); }),
      panelLinks.onCursor(({ ns, origin }) => { if (origin !== 'timeline') postCursor(ns); }),
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.active) { this.lastActive = a; this.sessions?.setCurrent(s); }
        // a hidden webview is torn down (no retained context); it says `ready` again when shown
        if (!e.webviewPanel.visible) a.host?.webviewReset();
      }),
      s.onDidChange(() => start()),
      s.onDidEnd(() => { start(); a.host?.end(); }),
      panel.onDidDispose(() => {
        a.host?.dispose();
        for (const d of a.disposables) d.dispose();
        if (this.bySession.get(s.id) === a) this.bySession.delete(s.id);
        this.editors.delete(a);
        if (this.lastActive === a) this.lastActive = undefined;
      }),
    );
    start();
  }

  /** After a reload: reopen the trace file the webview's state names (a live session's trace file, or an opened one). */
  private async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const file = state && typeof state === 'object' ? (state as { traceFile?: unknown }).traceFile : undefined;
    panel.webview.options = this.webviewOptions();
    if (typeof file === 'string' && existsSync(file) && this.sessions) {
      try {
        const s = this.sessions.sessions.find((x) => x.traceFile === file) ?? await this.sessions.open(file);
        this.attach(panel, s, false);
        return;
      } catch (e) {
        log.error(`timeline: cannot reopen ${file}: ${(e as Error).message}`);
      }
    }
    const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    panel.webview.options = { enableScripts: false };
    panel.webview.html = `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"></head>` +
      `<body style="font-family: var(--vscode-font-family); color: var(--vscode-descriptionForeground); padding: 1em">` +
      `<p>${esc(vscode.l10n.t('This timeline showed a recording that is no longer available. Open the trace file again or trace the program again.'))}</p></body></html>`;
  }

  dispose(): void {
    for (const a of [...this.bySession.values(), ...this.editors]) a.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** Opens the editor at a call's source line (the details pane's link). Relative paths are the traced program's. */
async function openSource(file: string, line: number, s: TraceSession): Promise<void> {
  const cwd = s.program?.cwd ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const path = isAbsolute(file) ? file : join(cwd, file);
  if (!existsSync(path)) { void vscode.window.showWarningMessage(vscode.l10n.t('IPC Scope: {0} does not exist here.', path)); return; }
  const pos = new vscode.Position(Math.max(0, line - 1), 0);
  await vscode.window.showTextDocument(vscode.Uri.file(path), { selection: new vscode.Range(pos, pos), viewColumn: vscode.ViewColumn.One, preview: true });
}
