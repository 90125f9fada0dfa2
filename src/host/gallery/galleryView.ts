// The Demo Gallery tree: demos grouped by topic, titles in the UI language, the observation as tooltip. Inline
// actions (Trace, Step, Open README) are contributed in package.json for items with contextValue ipcScope.demo.
import * as vscode from 'vscode';
import { relative } from 'node:path';
import { findDemosRoot, groupByTopic, loadDemos, pick, topicName, type Demo, type DemoCatalog, type DemoLoadError, type DemoPart, type DemoTopic, type TopicGroup } from './manifests';
import { log } from '../log';

export type GalleryNode =
  | { readonly kind: 'topic'; readonly group: TopicGroup }
  | { readonly kind: 'demo'; readonly demo: Demo }
  /** A sub-experiment that can be traced on its own (demo.json `parts`). */
  | { readonly kind: 'part'; readonly demo: Demo; readonly part: DemoPart }
  | { readonly kind: 'error'; readonly error: DemoLoadError };

const TOPIC_ICONS: Record<DemoTopic, string> = {
  memory: 'chip', signals: 'zap', pipes: 'arrow-right', queues: 'list-ordered', 'shared-memory': 'database',
  locks: 'lock', sockets: 'plug', multiplexing: 'radio-tower', models: 'type-hierarchy',
};

export class DemoGalleryProvider implements vscode.TreeDataProvider<GalleryNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<GalleryNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private data: DemoCatalog | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly extensionPath: string, readonly language: string = vscode.env.language) {
    this.subs.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()));
  }

  /** The demos on disk (read on first use, again after refresh()). */
  get catalog(): DemoCatalog | undefined {
    if (!this.data) this.load();
    return this.data;
  }

  private load(): void {
    const root = findDemosRoot((vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), this.extensionPath);
    this.data = root ? loadDemos(root) : undefined;
    for (const e of this.data?.errors ?? []) log.warn(`demo gallery: ${e.message}`);
    if (root && !this.watcher) {
      // Edited manifests show at once (a demo author's loop).
      this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(root), '*/demo.json'));
      const again = () => this.refresh();
      this.subs.push(this.watcher, this.watcher.onDidChange(again), this.watcher.onDidCreate(again), this.watcher.onDidDelete(again));
    }
  }

  refresh(): void {
    this.data = undefined;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.emitter.fire();
  }

  demo(id: string): Demo | undefined { return this.catalog?.demos.find((d) => d.manifest.id === id); }

  getChildren(e?: GalleryNode): GalleryNode[] {
    if (!e) {
      const c = this.catalog;
      if (!c) return [];
      return [...groupByTopic(c.demos).map((group): GalleryNode => ({ kind: 'topic', group })), ...c.errors.map((error): GalleryNode => ({ kind: 'error', error }))];
    }
    if (e.kind === 'topic') return e.group.demos.map((demo): GalleryNode => ({ kind: 'demo', demo }));
    if (e.kind === 'demo') return e.demo.manifest.parts.map((part): GalleryNode => ({ kind: 'part', demo: e.demo, part }));
    return [];
  }

  getTreeItem(e: GalleryNode): vscode.TreeItem {
    const lang = this.language;
    if (e.kind === 'topic') {
      const item = new vscode.TreeItem(topicName(e.group.topic, lang), vscode.TreeItemCollapsibleState.Expanded);
      item.id = `topic:${e.group.topic}`;
      item.iconPath = new vscode.ThemeIcon(TOPIC_ICONS[e.group.topic]);
      item.description = String(e.group.demos.length);
      item.contextValue = 'ipcScope.demoTopic';
      return item;
    }
    if (e.kind === 'error') {
      const item = new vscode.TreeItem(relative(this.catalog?.root ?? '', e.error.dir) || e.error.dir, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon('warning');
      item.description = vscode.l10n.t('invalid demo.json');
      item.tooltip = e.error.message;
      return item;
    }
    if (e.kind === 'part') {
      const item = new vscode.TreeItem(pick(e.part.title, lang), vscode.TreeItemCollapsibleState.None);
      item.id = `part:${e.demo.manifest.id}/${e.part.id}`;
      item.iconPath = new vscode.ThemeIcon('debug-stackframe-dot');
      item.description = e.part.long ? `${e.part.id} · ${vscode.l10n.t('long')}` : e.part.id;
      item.tooltip = e.part.command.join(' ');
      item.contextValue = 'ipcScope.demoPart';
      return item;
    }
    const m = e.demo.manifest;
    // Parts fold under their demo: the demo's own row (the whole run) stays one line.
    const item = new vscode.TreeItem(pick(m.title, lang), m.parts.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `demo:${m.id}`;
    item.iconPath = new vscode.ThemeIcon('beaker');
    item.description = m.long ? `${m.id} · ${vscode.l10n.t('long')}` : m.id;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${escape(pick(m.title, lang))}**\n\n`);
    // escape(), not appendText: appendText turns spaces into &nbsp; and the hover would not wrap.
    tip.appendMarkdown(escape(pick(m.observation, lang)));
    tip.appendMarkdown(`\n\n$(debug-breakpoint) \`${m.stopAt.file}:${m.stopAt.line}\` — ${escape(pick(m.stopAt.why, lang))}`);
    item.tooltip = tip;
    item.contextValue = 'ipcScope.demo';
    if (e.demo.readme) item.command = { command: 'ipcScope.gallery.openReadme', title: vscode.l10n.t('Open README'), arguments: [e] };
    return item;
  }

  dispose(): void {
    this.watcher?.dispose();
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}

function escape(s: string): string { return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&'); }
