// Demo Gallery wiring: the tree view and its actions. Trace builds the demos (make -C demos), records the demo's
// `run` through the session machinery and opens the timeline plus the demo's panel; Step starts an `ipcscope`
// debug session that stops at the demo's stopAt line (the launch configuration's stopAt); Open README shows the README's preview beside.
import * as vscode from 'vscode';
import { spawn } from 'node:child_process';
import type { SessionManager } from '../sessionManager';
import type { TraceSession } from '../session';
import { log } from '../log';
import { DemoGalleryProvider, type GalleryNode } from './galleryView';
import { demoLaunchConfig, demoProgram, hasCSources, panelCommand, pick, stepTarget, stopLocation, type Demo } from './manifests';

/** What the gallery commands accept: a tree node (inline actions) or a demo id (walkthrough links, tests). */
export type DemoArg = GalleryNode | string;

export interface DemoGallery {
  readonly provider: DemoGalleryProvider;
  readonly view: vscode.TreeView<GalleryNode>;
}

export const DEBUG_TYPE = 'ipcscope';

/** Whether some installed extension contributes the `ipcscope` debug type (the stepping debugger). */
export function steppingAvailable(): boolean {
  return vscode.extensions.all.some((e) => {
    const dbg = (e.packageJSON as { contributes?: { debuggers?: { type?: string }[] } } | undefined)?.contributes?.debuggers;
    return Array.isArray(dbg) && dbg.some((d) => d?.type === DEBUG_TYPE);
  });
}

/** `make -C root`, its output in the log; resolves to an error text or undefined on success. */
function makeDemos(root: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn('make', ['-C', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer) => { out += d.toString(); };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => resolve(vscode.l10n.t('could not run make: {0}', e.message)));
    child.on('close', (code) => {
      if (out.trim()) log.info(`make -C ${root}:\n${out.trimEnd()}`);
      resolve(code === 0 ? undefined : vscode.l10n.t('make -C {0} failed with exit code {1}: {2}', root, String(code), out.trim().split('\n').slice(-3).join(' ')));
    });
  });
}

export function registerGallery(context: vscode.ExtensionContext, sessions: SessionManager): DemoGallery {
  const provider = new DemoGalleryProvider(context.extensionPath);
  const view = vscode.window.createTreeView('ipcScope.demos', { treeDataProvider: provider, showCollapseAll: true });
  const lang = () => provider.language;
  const reg = (id: string, fn: (...a: any[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  const resolveDemo = (arg: DemoArg | undefined): Demo | undefined => {
    let demo: Demo | undefined;
    const sel = view.selection[0];
    if (typeof arg === 'string') demo = provider.demo(arg.split('/')[0]);
    else if (arg?.kind === 'demo' || arg?.kind === 'part') demo = arg.demo;
    else if (arg === undefined && (sel?.kind === 'demo' || sel?.kind === 'part')) demo = sel.demo;
    if (!demo) {
      const what = typeof arg === 'string' ? arg : '';
      const msg = provider.catalog
        ? vscode.l10n.t('There is no demo “{0}” in {1}.', what, provider.catalog.root)
        : vscode.l10n.t('No demos folder found: open the IPC Scope repository or its demos folder.');
      void vscode.window.showErrorMessage(msg);
    }
    return demo;
  };

  /** Builds the C demos when this demo has C sources; false (after saying why) when the build failed. */
  const build = async (demo: Demo): Promise<boolean> => {
    if (!hasCSources(demo)) return true;
    const root = provider.catalog!.root;
    const err = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Building the demos…') }, () => makeDemos(root));
    if (err) { log.error(err); void vscode.window.showErrorMessage(err); return false; }
    return true;
  };

  const program = (demo: Demo, command?: readonly string[]) => {
    try { return demoProgram(demo, command); } catch (e) {
      const msg = vscode.l10n.t('IPC Scope could not trace {0}: {1}', demo.manifest.id, (e as Error).message);
      log.error(msg);
      void vscode.window.showErrorMessage(msg);
      return undefined;
    }
  };

  // A part: a node, or "demo/part" from a link. Undefined means the whole run.
  const partOf = (demo: Demo, arg: DemoArg | undefined) => {
    const id = typeof arg === 'string' ? arg.split('/')[1] : arg?.kind === 'part' ? arg.part.id : undefined;
    return id === undefined ? undefined : demo.manifest.parts.find((x) => x.id === id) ?? null;
  };

  reg('ipcScope.gallery.trace', async (arg?: DemoArg): Promise<TraceSession | undefined> => {
    const demo = resolveDemo(arg);
    if (!demo) return undefined;
    const part = partOf(demo, arg);
    if (part === null) { void vscode.window.showErrorMessage(vscode.l10n.t('There is no demo “{0}” in {1}.', String(arg), provider.catalog?.root ?? '')); return undefined; }
    if (!sessions.mayTrace() || !(await build(demo))) return undefined;
    const p = program(demo, part?.command);
    if (!p) return undefined;
    const m = demo.manifest;
    const label = part ? `demo: ${m.id}/${part.id}` : `demo: ${m.id}`;
    log.info(`demo gallery: tracing ${label}: ${[p.file, ...p.args].join(' ')} in ${p.cwd}`);
    const s = await sessions.record({ ...p, label, pageFaults: m.panel === 'pages' ? true : undefined });
    if (!s || s.state === 'failed') return s;
    await vscode.commands.executeCommand('ipcScope.showTimeline', s);
    if (m.panel !== 'timeline') {
      const openPanel = async () => {
        const cmd = panelCommand(m.panel, await vscode.commands.getCommands(true));
        if (cmd) {
          sessions.setCurrent(s);
          try { await vscode.commands.executeCommand(cmd, s); } catch (e) { log.warn(`demo gallery: ${cmd} failed: ${(e as Error).message}`); }
        } else {
          log.warn(`demo gallery: no command opens the ${m.panel} panel in this build`);
          void vscode.window.showInformationMessage(vscode.l10n.t('The {0} panel is not available in this build; {1} is on the timeline.', m.panel, m.id));
        }
      };
      // The demos run for seconds; the panels are built from the whole trace, and rebuilding the page tables on
      // every live batch of a 25,600-fault run stalled the extension host. So the panel opens once the run is over.
      if (s.running) void s.whenEnded().then(openPanel); else await openPanel();
    }
    return s;
  });

  reg('ipcScope.gallery.step', async (arg?: DemoArg): Promise<boolean> => {
    const demo = resolveDemo(arg);
    if (!demo) return false;
    if (!steppingAvailable()) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Stepping needs the IPC Scope debugger (debug type “ipcscope”), which this build does not include yet. Use Trace to record the demo instead.'));
      return false;
    }
    if (!sessions.mayTrace() || !(await build(demo))) return false;
    // The debugger resolves lines in the launched binary only: launch the part that runs stopAt's program.
    const target = stepTarget(demo);
    const p = program(demo, target.command);
    if (!p) return false;
    const config = { ...demoLaunchConfig(demo, p, lang(), target.stopAt), ipcScopeDemo: demo.manifest.id };
    const uri = vscode.Uri.file(stopLocation(demo).file);
    const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    try {
      const ok = await vscode.debug.startDebugging(folder, config);
      if (!ok) void vscode.window.showErrorMessage(vscode.l10n.t('The IPC Scope debugger did not start {0}; see the IPC Scope output.', demo.manifest.id));
      return ok;
    } catch (e) {
      const msg = vscode.l10n.t('The IPC Scope debugger did not start {0}: {1}', demo.manifest.id, (e as Error).message);
      log.error(msg);
      void vscode.window.showErrorMessage(msg);
      return false;
    }
  });

  // When a demo's stepping session first stops at a breakpoint, say why that line matters (stopAt.why).
  context.subscriptions.push(vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, {
    createDebugAdapterTracker(session) {
      const id = (session.configuration as { ipcScopeDemo?: unknown }).ipcScopeDemo;
      const demo = typeof id === 'string' ? provider.demo(id) : undefined;
      if (!demo) return undefined;
      let told = false;
      return {
        onDidSendMessage(msg: { type?: string; event?: string; body?: { reason?: string } }) {
          if (told || msg.type !== 'event' || msg.event !== 'stopped' || msg.body?.reason !== 'breakpoint') return;
          told = true;
          void vscode.window.showInformationMessage(`${demo.manifest.stopAt.file}:${demo.manifest.stopAt.line} — ${pick(demo.manifest.stopAt.why, lang())}`);
        },
      };
    },
  }));

  reg('ipcScope.gallery.openReadme', async (arg?: DemoArg): Promise<vscode.Uri | undefined> => {
    const demo = resolveDemo(arg);
    if (!demo) return undefined;
    if (!demo.readme) { void vscode.window.showErrorMessage(vscode.l10n.t('{0} has no README.md.', demo.manifest.id)); return undefined; }
    const uri = vscode.Uri.file(demo.readme);
    // The built-in Markdown preview; without it (a trimmed editor) the README opens as text beside.
    if ((await vscode.commands.getCommands(true)).includes('markdown.showPreviewToSide')) await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
    else await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    return uri;
  });

  reg('ipcScope.gallery.refresh', () => provider.refresh());

  context.subscriptions.push(provider, view);
  return { provider, view };
}
