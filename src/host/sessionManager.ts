// All sessions of this window: live recordings and opened traces. One of them is current; the Processes,
// IPC Objects and Findings views and the status bar follow it.
import * as vscode from 'vscode';
import { TraceSession } from './session';
import type { ProgramSpec } from './programs';
import { readSettings } from './settings';
import { log } from './log';

export class SessionManager implements vscode.Disposable {
  private readonly list: TraceSession[] = [];
  private currentSession: TraceSession | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<TraceSession | undefined>();
  /** A session was added, removed, changed state or data (throttled per session), or the current one changed. */
  readonly onDidChange = this.changeEmitter.event;
  private readonly subscriptions = new Map<TraceSession, vscode.Disposable>();
  lastProgram: ProgramSpec | undefined;
  /** The last refusal message shown (tests read it). */
  lastRefusal: string | undefined;

  constructor(private readonly memento: vscode.Memento) {
    this.lastProgram = memento.get<ProgramSpec>('ipcScope.lastProgram');
    void this.updateContext();
  }

  get sessions(): readonly TraceSession[] { return this.list; }
  get current(): TraceSession | undefined { return this.currentSession; }
  get running(): TraceSession[] { return this.list.filter((s) => s.running); }

  setCurrent(s: TraceSession | undefined): void {
    if (this.currentSession === s) return;
    this.currentSession = s;
    this.changeEmitter.fire(s);
  }

  /** Why tracing is refused here, or undefined when it is allowed. */
  refusal(): string | undefined {
    if (!vscode.workspace.isTrusted)
      return vscode.l10n.t('IPC Scope does not trace programs in an untrusted workspace: tracing runs the program with a preloaded library and its build command. Trust this workspace to trace; opening .ipctrace files still works.');
    return undefined;
  }

  /** False (after saying why, with a way to trust the workspace) when tracing is refused here. */
  mayTrace(): boolean {
    const why = this.refusal();
    if (!why) return true;
    this.lastRefusal = why;
    log.warn(why);
    void vscode.window.showErrorMessage(why, vscode.l10n.t('Manage Workspace Trust')).then((pick) => {
      if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  async record(spec: ProgramSpec): Promise<TraceSession | undefined> {
    if (!this.mayTrace()) return undefined;
    this.lastProgram = spec;
    await this.memento.update('ipcScope.lastProgram', spec);
    const session = await TraceSession.record(spec, readSettings(vscode.Uri.file(spec.cwd)));
    this.add(session);
    void this.updateContext();
    if (session.state === 'failed') void vscode.window.showErrorMessage(vscode.l10n.t('IPC Scope could not trace {0}: {1}', session.label, session.error ?? ''));
    return session;
  }

  async open(file: string): Promise<TraceSession> {
    const existing = this.list.find((s) => !s.live && s.traceFile === file);
    if (existing) { this.setCurrent(existing); return existing; }
    const session = await TraceSession.open(file, readSettings().maxEvents);
    this.add(session);
    return session;
  }

  /** Takes in a session started elsewhere (a debug session, issue 6) and makes it current. */
  adopt(s: TraceSession): void {
    this.add(s);
    void this.updateContext();
  }

  private add(s: TraceSession): void {
    this.list.push(s);
    this.subscriptions.set(s, vscode.Disposable.from(
      s.onDidChange(() => { this.changeEmitter.fire(s); void this.updateContext(); }),
    ));
    this.currentSession = s;
    this.changeEmitter.fire(s);
  }

  remove(s: TraceSession): void {
    const i = this.list.indexOf(s);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.subscriptions.get(s)?.dispose();
    this.subscriptions.delete(s);
    s.dispose();
    if (this.currentSession === s) this.currentSession = this.list[this.list.length - 1];
    this.changeEmitter.fire(undefined);
  }

  private async updateContext(): Promise<void> {
    await vscode.commands.executeCommand('setContext', 'ipcScope.sessionRunning', this.running.length > 0);
    await vscode.commands.executeCommand('setContext', 'ipcScope.hasLastProgram', this.lastProgram !== undefined);
  }

  async stopAll(): Promise<void> { await Promise.all(this.running.map((s) => s.stop())); }

  dispose(): void {
    for (const s of [...this.list]) this.remove(s);
    this.changeEmitter.dispose();
  }
}
