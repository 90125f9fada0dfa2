// The status-bar item while a session records: events so far, rate, dropped. Click: Show Timeline.
import * as vscode from 'vscode';
import type { SessionManager } from './sessionManager';
import { formatCount } from './views';

export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${Math.round(perSecond)}/s`;
}

export class SessionStatusBar implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('ipcScope.session', vscode.StatusBarAlignment.Left, 10);
  private readonly timer: NodeJS.Timeout;
  private readonly sub: vscode.Disposable;

  constructor(private readonly sessions: SessionManager) {
    this.item.name = vscode.l10n.t('IPC Scope Session');
    this.item.command = 'ipcScope.showTimeline';
    this.sub = sessions.onDidChange(() => this.update());
    // The rate changes even when no view event fires (e.g. a quiet program): poll once a second while recording.
    this.timer = setInterval(() => this.update(), 1000);
    this.update();
  }

  update(): void {
    const running = this.sessions.running;
    const s = running.includes(this.sessions.current!) ? this.sessions.current! : running[running.length - 1];
    if (!s) { this.item.hide(); return; }
    const st = s.stats();
    this.item.text = `$(pulse) ${s.label}: ${vscode.l10n.t('{0} events', formatCount(st.events))} · ${formatRate(st.eventsPerSecond)}` +
      (st.dropped ? ` · $(warning) ${vscode.l10n.t('{0} dropped', formatCount(st.dropped))}` : '');
    this.item.tooltip = vscode.l10n.t('IPC Scope is recording {0} ({1} processes connected). Click to show the timeline.', s.label, st.connections);
    this.item.backgroundColor = st.dropped ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void { clearInterval(this.timer); this.sub.dispose(); this.item.dispose(); }
}
