// The IPC Scope commands. Each returns what it did (session, file) so the extension-host tests can check it;
// arguments are optional: from the palette they ask with quick picks and dialogs.
import * as vscode from 'vscode';
import { copyFile } from 'node:fs/promises';
import { dirname, basename, relative, extname } from 'node:path';
import { accessSync, constants, statSync } from 'node:fs';
import type { SessionManager } from './sessionManager';
import type { TraceSession } from './session';
import type { ProgramSpec } from './programs';
import type { TimelineBridge } from './timelineBridge';
import { exportSession, EXPORT_FORMATS, type ExportFormat } from './exporting';
import { log } from './log';
import { formatArgs, parseArgs } from '../common/shellArgs';

/** Argument of ipcScope.traceProgram from code (tests, `npm start`): a file Uri or a program with arguments. */
export type TraceProgramArg = vscode.Uri | { readonly file: string; readonly args?: readonly string[]; readonly cwd?: string };

function cwdFor(file: string): string {
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file));
  return folder?.uri.fsPath ?? dirname(file);
}

function isExecutable(file: string): boolean {
  try { return statSync(file).isFile() && (accessSync(file, constants.X_OK), true); } catch { return false; }
}

async function pickProgram(): Promise<string | undefined> {
  type Item = vscode.QuickPickItem & { file?: string; browse?: boolean };
  const items: Item[] = [];
  const active = vscode.window.activeTextEditor?.document;
  if (active?.uri.scheme === 'file') items.push({ label: `$(file-code) ${basename(active.uri.fsPath)}`, description: vscode.l10n.t('active editor'), file: active.uri.fsPath });
  const found = await vscode.workspace.findFiles('**/*.{c,py,sh}', '**/{node_modules,out,.git,build}/**', 500);
  // Built programs (e.g. demos/*/build/*) are offered too: executable files without an extension.
  for (const u of await vscode.workspace.findFiles('**/{build,bin}/*', '**/{node_modules,.git}/**', 500))
    if (!extname(u.fsPath) && isExecutable(u.fsPath)) found.push(u);
  found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  for (const u of found) {
    if (u.fsPath === active?.uri.fsPath) continue;
    const folder = vscode.workspace.getWorkspaceFolder(u);
    items.push({ label: basename(u.fsPath), description: folder ? dirname(relative(folder.uri.fsPath, u.fsPath)) : dirname(u.fsPath), file: u.fsPath });
  }
  items.push({ label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, description: vscode.l10n.t('an executable or script anywhere'), browse: true, alwaysShow: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: vscode.l10n.t('IPC Scope: Trace Program'),
    placeHolder: vscode.l10n.t('Pick a program to trace: C sources are compiled first, Python and shell scripts run with their interpreter'),
    matchOnDescription: true,
  });
  if (!pick) return undefined;
  if (!pick.browse) return pick.file;
  const uris = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: vscode.l10n.t('Trace') });
  return uris?.[0]?.fsPath;
}

/** The program's arguments, typed as in a shell; the last ones used for this file are offered again. Escape
 * cancels the trace; an empty line runs it without arguments. */
async function askArgs(file: string, memory: vscode.Memento): Promise<string[] | undefined> {
  const key = `ipcScope.args:${file}`;
  const text = await vscode.window.showInputBox({
    title: vscode.l10n.t('IPC Scope: Trace {0}', basename(file)),
    prompt: vscode.l10n.t('Arguments, as in a shell (quotes group words); empty for none'),
    value: formatArgs(memory.get<string[]>(key) ?? []),
    ignoreFocusOut: true,
    validateInput: (v) => { const r = parseArgs(v); return 'error' in r ? r.error : undefined; },
  });
  if (text === undefined) return undefined;
  const r = parseArgs(text);
  if ('error' in r) return undefined;
  await memory.update(key, r.args);
  return r.args;
}

export function registerCommands(context: vscode.ExtensionContext, sessions: SessionManager, timeline: TimelineBridge): void {
  const reg = (id: string, fn: (...a: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  const record = async (spec: ProgramSpec): Promise<TraceSession | undefined> => {
    const s = await sessions.record(spec);
    if (s && s.state !== 'failed') await timeline.show(s, { preserveFocus: true });
    return s;
  };

  reg('ipcScope.traceProgram', async (arg?: TraceProgramArg): Promise<TraceSession | undefined> => {
    if (!sessions.mayTrace()) return undefined;
    let spec: ProgramSpec | undefined;
    if (arg instanceof vscode.Uri) spec = { file: arg.fsPath, args: [], cwd: cwdFor(arg.fsPath) };
    else if (arg && typeof arg === 'object' && typeof arg.file === 'string') spec = { file: arg.file, args: [...(arg.args ?? [])], cwd: arg.cwd ?? cwdFor(arg.file) };
    else {
      const file = await pickProgram();
      const args = file ? await askArgs(file, context.workspaceState) : undefined;
      if (file && args) spec = { file, args, cwd: cwdFor(file) };
    }
    return spec ? record(spec) : undefined;
  });

  reg('ipcScope.traceLastProgram', async (): Promise<TraceSession | undefined> => {
    if (!sessions.lastProgram) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No program has been traced yet. Use “Trace Program…” first.'));
      return undefined;
    }
    return record(sessions.lastProgram);
  });

  reg('ipcScope.stopSession', async (arg?: TraceSession): Promise<TraceSession | undefined> => {
    let s = arg && sessions.sessions.includes(arg) ? arg : undefined;
    const running = sessions.running;
    if (!s) {
      if (running.length <= 1) s = running[0];
      else {
        const pick = await vscode.window.showQuickPick(running.map((r) => ({ label: r.label, description: r.id, session: r })), { placeHolder: vscode.l10n.t('Which session to stop?') });
        s = pick?.session;
      }
    }
    if (!s) { void vscode.window.showInformationMessage(vscode.l10n.t('No IPC Scope session is recording.')); return undefined; }
    await s.stop();
    return s;
  });

  reg('ipcScope.openTraceFile', async (arg?: vscode.Uri): Promise<TraceSession | undefined> => {
    let uri = arg;
    if (!uri) {
      const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { [vscode.l10n.t('IPC Scope traces')]: ['ipctrace'] }, openLabel: vscode.l10n.t('Open Trace') });
      uri = picked?.[0];
    }
    if (!uri) return undefined;
    try {
      await vscode.commands.executeCommand('vscode.openWith', uri, 'ipcScope.traceViewer');
      return await sessions.open(uri.fsPath);
    } catch (e) {
      const msg = vscode.l10n.t('IPC Scope could not open {0}: {1}', basename(uri.fsPath), e instanceof Error ? e.message : String(e));
      log.error(msg);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
  });

  reg('ipcScope.exportTrace', async (arg?: TraceSession, target?: vscode.Uri, format?: ExportFormat): Promise<string | undefined> => {
    const s = arg && sessions.sessions.includes(arg) ? arg : sessions.current;
    if (!s?.store) { void vscode.window.showInformationMessage(vscode.l10n.t('There is no trace to export yet.')); return undefined; }
    let fmt = format;
    if (!fmt) {
      const pick = await vscode.window.showQuickPick(EXPORT_FORMATS.map((f) => ({ label: f.label(), description: `*${f.extension}`, format: f.id })), { placeHolder: vscode.l10n.t('Export {0} as…', s.label) });
      fmt = pick?.format;
    }
    if (!fmt) return undefined;
    const info = EXPORT_FORMATS.find((f) => f.id === fmt)!;
    let uri = target;
    if (!uri) {
      const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(dirname(s.traceFile ?? s.label));
      uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(base, `${s.label.replace(/\.(ipctrace|c|py|sh)$/, '')}${info.extension}`), filters: { [info.label()]: [info.extension.slice(1)] } });
    }
    if (!uri) return undefined;
    try {
      if (s.running && fmt !== 'ipctrace') await vscode.window.showWarningMessage(vscode.l10n.t('The session is still recording: the export holds the events so far.'));
      await exportSession(s, fmt, uri.fsPath, copyFile);
      log.info(`exported ${s.label} as ${fmt} to ${uri.fsPath}`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Exported {0} to {1}', s.label, uri.fsPath));
      return uri.fsPath;
    } catch (e) {
      const msg = vscode.l10n.t('Export failed: {0}', e instanceof Error ? e.message : String(e));
      log.error(msg);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
  });

  reg('ipcScope.showTimeline', async (arg?: TraceSession): Promise<boolean> => {
    const s = arg && sessions.sessions.includes(arg) ? arg : sessions.current;
    if (!s) { void vscode.window.showInformationMessage(vscode.l10n.t('Trace a program or open a trace file first.')); return false; }
    sessions.setCurrent(s);
    await timeline.show(s, { preserveFocus: false });
    return true;
  });
}
