// The `ipcscope` debug type in the editor: the adapter runs inline (src/common/debug/session.ts), a configuration
// provider makes F5 work on the file in the editor (C built first with ipcScope.buildCommand, Python and shell
// through their interpreters) and offers one dynamic configuration per demo part (demos/*/demo.json).
import * as vscode from 'vscode';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { IpcScopeDebugSession, type IpcScopeSessionHooks } from '../../common/debug/session';
import { planLaunch, runBuild } from '../programs';
import { readSettings } from '../settings';
import { log } from '../log';
import { TraceSession } from '../session';
import { REVEAL_COMMAND } from '../timelinePanel';
import type { RevealTarget } from '../../common/webviewProtocol';
import type { SessionManager } from '../sessionManager';

export const DEBUG_TYPE = 'ipcscope';

/** Registers the adapter and the configuration providers. Each debug session's recording joins `sessions`, so the
 * views and the timeline show it (a debug session is a trace session that can pause). */
export function registerDebugging(context: vscode.ExtensionContext, sessions?: SessionManager): void {
  const recordings = new Map<string, TraceSession>(); // debug session id → its recording, for the cursor events
  const hooksFor = (debugSession: vscode.DebugSession): IpcScopeSessionHooks => ({
    started: (collector, program, args) => {
      const s = TraceSession.adopt(vscode.l10n.t('{0} (debug)', basename(String(args.args?.[0] && /python|\/sh$/.test(args.program) ? args.args[0] : args.program))),
        collector, program, args.traceFile, { file: args.program, args: args.args ?? [], cwd: args.cwd ?? '' });
      recordings.set(debugSession.id, s);
      sessions?.adopt(s);
    },
  });
  context.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor: (ds) => new vscode.DebugAdapterInlineImplementation(new IpcScopeDebugSession(hooksFor(ds))),
    }),
    // Step Back / Reverse Continue move the adapter's history cursor: the timeline follows (the reveal command opens
    // the current session's timeline when it is not open), so the picture and the paused call agree.
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      const s = recordings.get(e.session.id);
      if (e.event !== 'ipcScope.cursor' || !s || typeof e.body?.index !== 'number') return;
      sessions?.setCurrent(s);
      // Step Back opens the timeline (history lives there); a live stop moves it only when it is open.
      void vscode.commands.executeCommand(REVEAL_COMMAND, { type: 'event', index: e.body.index } satisfies RevealTarget, { onlyIfOpen: e.body.history !== true });
    }),
    vscode.debug.onDidTerminateDebugSession((ds) => recordings.delete(ds.id)),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new InitialConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Initial),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, new DemoConfigurations(), vscode.DebugConfigurationProviderTriggerKind.Dynamic),
  );
}

/** Resolves launch configurations: an empty one (F5 without launch.json) becomes the file in the editor; a C source
 * as `program` is built first. */
class InitialConfigurations implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    const file = vscode.window.activeTextEditor?.document.uri.fsPath;
    const program = file && ['.c', '.py', '.sh'].includes(extname(file)) ? file.replace(folder?.uri.fsPath ?? '\0', '${workspaceFolder}') : '${file}';
    return [{ type: DEBUG_TYPE, request: 'launch', name: vscode.l10n.t('IPC Scope: step through {0}', basename(file ?? 'the current file')), program, stopOnEntry: true }];
  }

  async resolveDebugConfigurationWithSubstitutedVariables(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration): Promise<vscode.DebugConfiguration | undefined> {
    if (!config.type && !config.request && !config.name) {
      const file = vscode.window.activeTextEditor?.document.uri.fsPath;
      if (!file) { void vscode.window.showErrorMessage(vscode.l10n.t('Open a C, Python or shell file to step through it.')); return undefined; }
      Object.assign(config, { type: DEBUG_TYPE, request: 'launch', name: basename(file), program: file, stopOnEntry: true });
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(vscode.l10n.t('IPC Scope does not run programs in an untrusted workspace.'));
      return undefined;
    }
    const program = String(config.program ?? '');
    const cwd = String(config.cwd ?? (folder?.uri.fsPath ?? dirname(program)));
    try {
      const plan = planLaunch({ file: program, args: (config.args as string[] | undefined) ?? [], cwd }, readSettings(folder?.uri).buildCommand);
      if (plan.build) {
        log.info(`debug: building ${program}: ${plan.build.commandLine}`);
        let out = '';
        const code = await runBuild(plan.build.commandLine, cwd, (t) => { out += t; });
        if (code !== 0) { void vscode.window.showErrorMessage(vscode.l10n.t('The build command failed with exit code {0}: {1}', code, out.slice(-500))); return undefined; }
      }
      const traceFile = config.traceFile ?? join(tmpdir(), `ipcscope-debug-${process.pid}-${Date.now()}.ipctrace`);
      return { ...config, program: plan.command, args: plan.args, cwd, traceFile };
    } catch (e) {
      void vscode.window.showErrorMessage(`IPC Scope: ${(e as Error).message}`);
      return undefined;
    }
  }
}

interface DemoPart { id: string; title: { en: string }; command: string[] }
interface DemoManifest { id: string; title: { en: string }; parts?: DemoPart[]; stopAt?: { file: string; line: number } }

/** One configuration per demo part whose command is a built C program; the demo's `stopAt` line becomes a
 * breakpoint of the part built from that file. */
class DemoConfigurations implements vscode.DebugConfigurationProvider {
  provideDebugConfigurations(folder: vscode.WorkspaceFolder | undefined): vscode.DebugConfiguration[] {
    const root = folder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    if (!root) return [];
    const out: vscode.DebugConfiguration[] = [];
    for (const base of [join(root, 'demos'), root]) {
      let dirs: string[];
      try { dirs = readdirSync(base); } catch { continue; }
      for (const d of dirs) {
        const manifest = join(base, d, 'demo.json');
        if (!existsSync(manifest)) continue;
        let m: DemoManifest;
        try { m = JSON.parse(readFileSync(manifest, 'utf8')) as DemoManifest; } catch { continue; }
        for (const p of m.parts ?? []) {
          const cmd = p.command[0] ?? '';
          if (!cmd.startsWith('./build/')) continue;
          const program = join(base, d, cmd);
          const stop = m.stopAt && basename(m.stopAt.file, '.c') === basename(cmd) ? { file: join(base, d, m.stopAt.file), line: m.stopAt.line } : undefined;
          out.push({ type: DEBUG_TYPE, request: 'launch', name: `IPC Scope: ${m.title.en} — ${p.title.en}`, program, args: p.command.slice(1),
            cwd: join(base, d), ...(stop ? { stopAt: stop } : { stopOnEntry: true }) });
        }
      }
      if (out.length) break;
    }
    return out;
  }
}
