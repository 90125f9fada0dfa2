// IPC Scope extension host entry: thin wiring of sessions, views, commands, the custom editor and the status bar.
// Everything that needs no editor lives in src/common/.
import * as vscode from 'vscode';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { SessionManager } from './host/sessionManager';
import { SessionsProvider, ProcessesProvider, ObjectsProvider, FindingsProvider, emptyMessage } from './host/views';
import { SessionStatusBar } from './host/statusBar';
import { registerCommands } from './host/commands';
import { TraceEditorProvider } from './host/traceEditor';
import { createTimelineBridge, type TimelineBridge } from './host/timelineBridge';
import { initLog, log } from './host/log';
import { readSettings } from './host/settings';
import { registerGallery, type DemoGallery } from './host/gallery';
import { registerDebugging } from './host/debug/register';
import { registerPanels, type PanelLinks } from './host/panels';

/** What activate() returns: the extension-host tests inspect sessions and views through it. */
export interface IpcScopeApi {
  readonly sessions: SessionManager;
  readonly views: { readonly sessions: SessionsProvider; readonly processes: ProcessesProvider; readonly objects: ObjectsProvider; readonly findings: FindingsProvider };
  readonly statusBar: SessionStatusBar;
  readonly gallery: DemoGallery;
  readonly timeline: TimelineBridge;
  /** The time cursor and selection shared by the timeline and the page/locks/map panels. */
  readonly panels: PanelLinks;
}

let manager: SessionManager | undefined;

export function activate(context: vscode.ExtensionContext): IpcScopeApi {
  context.subscriptions.push(initLog());
  const sessions = new SessionManager(context.workspaceState);
  manager = sessions;
  const timeline = createTimelineBridge(context, sessions);
  const views = {
    sessions: new SessionsProvider(sessions),
    processes: new ProcessesProvider(sessions),
    objects: new ObjectsProvider(sessions),
    findings: new FindingsProvider(sessions),
  };
  const trees = {
    processes: vscode.window.createTreeView('ipcScope.processes', { treeDataProvider: views.processes }),
    objects: vscode.window.createTreeView('ipcScope.objects', { treeDataProvider: views.objects }),
    findings: vscode.window.createTreeView('ipcScope.findings', { treeDataProvider: views.findings }),
  };
  // Only visible views ask the model anything: a hidden view costs nothing while a busy program records.
  const updateMessages = () => {
    if (trees.processes.visible) trees.processes.message = emptyMessage('processes', sessions, views.processes.roots().length === 0);
    if (trees.objects.visible) trees.objects.message = emptyMessage('objects', sessions, views.objects.objects().length === 0);
    if (trees.findings.visible) trees.findings.message = emptyMessage('findings', sessions, views.findings.findings().length === 0);
  };
  updateMessages();
  for (const t of Object.values(trees)) context.subscriptions.push(t.onDidChangeVisibility(updateMessages));
  const statusBar = new SessionStatusBar(sessions);
  context.subscriptions.push(
    sessions, timeline, ...Object.values(views), ...Object.values(trees),
    vscode.window.createTreeView('ipcScope.sessions', { treeDataProvider: views.sessions }),
    sessions.onDidChange(updateMessages),
    statusBar,
    TraceEditorProvider.register(sessions, timeline),
  );
  registerCommands(context, sessions, timeline);
  const panels = registerPanels(context, sessions);
  const gallery = registerGallery(context, sessions);
  registerDebugging(context, sessions);
  log.info(`IPC Scope ${context.extension.packageJSON.version as string} active (workspace ${vscode.workspace.isTrusted ? 'trusted' : 'not trusted'})`);
  void traceOnStartup();
  return { sessions, views, statusBar, gallery, timeline, panels };
}

// `npm start` opens the demos folder with IPCSCOPE_TRACE_ON_STARTUP set (or a user sets ipcScope.traceOnStartup),
// so a timeline is on screen at once.
async function traceOnStartup(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  const program = process.env.IPCSCOPE_TRACE_ON_STARTUP || readSettings(folder.uri).traceOnStartup;
  if (!program || !vscode.workspace.isTrusted) return;
  const file = join(folder.uri.fsPath, program);
  if (!existsSync(file)) { log.warn(`trace on startup: ${file} does not exist`); return; }
  await vscode.commands.executeCommand('ipcScope.traceProgram', { file, cwd: folder.uri.fsPath });
}

export async function deactivate(): Promise<void> {
  // Never leave traced programs running behind a closed window.
  await manager?.stopAll();
}
