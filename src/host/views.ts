// The four tree views of the IPC Scope container. Sessions lists every session; Processes, IPC Objects and
// Findings show the current one. Selecting an item reveals it in the timeline (ipcScope.revealInTimeline,
// implemented by the timeline panel, with a RevealTarget argument).
import * as vscode from 'vscode';
import type { RevealTarget } from '../common/webviewProtocol';
import type { SessionManager } from './sessionManager';
import type { TraceSession } from './session';
import { processTree, ipcObjects, findingNodes, type ProcessNode, type ObjectNode, type FindingNode } from './modelView';

const REVEAL = 'ipcScope.revealInTimeline';
function revealCommand(target: RevealTarget, title: string): vscode.Command {
  return { command: REVEAL, title, arguments: [target] };
}

const fmt = new Intl.NumberFormat('en-US');
export function formatCount(n: number): string { return fmt.format(n); }

export function stateLabel(s: TraceSession): string {
  switch (s.state) {
    case 'building': return vscode.l10n.t('building');
    case 'running': return vscode.l10n.t('recording');
    case 'stopping': return vscode.l10n.t('stopping');
    case 'exited': return s.exit?.signal ? vscode.l10n.t('ended by {0}', s.exit.signal) : vscode.l10n.t('exited ({0})', String(s.exit?.code ?? '–'));
    case 'failed': return vscode.l10n.t('failed');
    case 'opened': return vscode.l10n.t('trace file');
  }
}

abstract class BaseProvider<T> implements vscode.TreeDataProvider<T>, vscode.Disposable {
  protected readonly emitter = new vscode.EventEmitter<T | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: vscode.Disposable;
  constructor(protected readonly sessions: SessionManager) {
    this.sub = sessions.onDidChange((s) => { if (this.follows(s)) this.emitter.fire(); });
  }
  /** Whether a change of session `s` (undefined = the list or the current session changed) affects this view. */
  protected follows(s: TraceSession | undefined): boolean { return s === undefined || s === this.sessions.current; }
  abstract getTreeItem(e: T): vscode.TreeItem;
  abstract getChildren(e?: T): T[];
  dispose(): void { this.sub.dispose(); this.emitter.dispose(); }
}

/** The text a view shows when it has no rows, or undefined when it has some. */
export function emptyMessage(view: 'processes' | 'objects' | 'findings', sessions: SessionManager, empty: boolean): string | undefined {
  if (!empty) return undefined;
  const s = sessions.current;
  if (!s) return vscode.l10n.t('Trace a program or open a trace file to see it here.');
  if (view === 'findings') return s.running ? vscode.l10n.t('Findings appear as the program runs.') : vscode.l10n.t('No findings in {0}: no deadlock, lock-order cycle, leak or misuse was seen.', s.label);
  if (view === 'objects') return vscode.l10n.t('{0} used no IPC objects (yet).', s.label);
  return undefined;
}

export class SessionsProvider extends BaseProvider<TraceSession> {
  protected override follows(): boolean { return true; }
  getChildren(e?: TraceSession): TraceSession[] { return e ? [] : [...this.sessions.sessions].reverse(); }
  getTreeItem(s: TraceSession): vscode.TreeItem {
    const item = new vscode.TreeItem(s.label, vscode.TreeItemCollapsibleState.None);
    const st = s.stats();
    item.id = s.id;
    item.description = `${stateLabel(s)} · ${vscode.l10n.t('{0} events', formatCount(st.events))}${st.dropped ? ` · ${vscode.l10n.t('{0} dropped', formatCount(st.dropped))}` : ''}`;
    item.tooltip = new vscode.MarkdownString([
      `**${s.label}** — ${stateLabel(s)}`,
      s.program ? `\`${[s.program.file, ...s.program.args].join(' ')}\`` : s.traceFile ?? '',
      s.error ? `$(error) ${s.error}` : '',
    ].filter(Boolean).join('\n\n'), true);
    item.iconPath = new vscode.ThemeIcon(
      s.state === 'failed' ? 'error' : s.running ? 'record' : s.live ? 'pass' : 'file',
      s.running ? new vscode.ThemeColor('debugIcon.startForeground') : undefined);
    item.contextValue = s.running ? 'session.live' : s.live ? 'session.done' : 'session.file';
    item.command = { command: 'ipcScope.showTimeline', title: vscode.l10n.t('Show Timeline'), arguments: [s] };
    if (s === this.sessions.current) item.label = { label: s.label, highlights: [[0, s.label.length]] };
    return item;
  }
}

type ProcessElement = { kind: 'process'; node: ProcessNode } | { kind: 'thread'; pid: number; tid: number };

export class ProcessesProvider extends BaseProvider<ProcessElement> {
  /** The current session's process tree; tests read it. */
  roots(): ProcessNode[] {
    const m = this.sessions.current?.currentModel();
    return m ? processTree(m) : [];
  }
  getChildren(e?: ProcessElement): ProcessElement[] {
    if (!e) return this.roots().map((node) => ({ kind: 'process', node }));
    if (e.kind === 'thread') return [];
    const threads: ProcessElement[] = e.node.threads.length > 1 ? e.node.threads.map((tid) => ({ kind: 'thread', pid: e.node.pid, tid })) : [];
    return [...threads, ...e.node.children.map((node): ProcessElement => ({ kind: 'process', node }))];
  }
  getTreeItem(e: ProcessElement): vscode.TreeItem {
    if (e.kind === 'thread') {
      const item = new vscode.TreeItem(vscode.l10n.t('thread {0}', e.tid));
      item.iconPath = new vscode.ThemeIcon('debug-stackframe-dot');
      item.command = revealCommand({ type: 'process', pid: e.pid }, vscode.l10n.t('Reveal in Timeline'));
      return item;
    }
    const n = e.node;
    const hasKids = n.children.length > 0 || n.threads.length > 1;
    const item = new vscode.TreeItem(`${n.name}`, hasKids ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = `pid-${n.pid}`;
    item.description = `${vscode.l10n.t('pid {0}', n.pid)} · ${n.running ? vscode.l10n.t('running') : n.status}${n.threads.length > 1 ? ` · ${vscode.l10n.t('{0} threads', n.threads.length)}` : ''}`;
    item.tooltip = `${n.argv.join(' ') || n.name}\n${vscode.l10n.t('pid {0}', n.pid)}, ppid ${n.ppid}`;
    item.iconPath = new vscode.ThemeIcon('server-process');
    item.contextValue = 'process';
    item.command = revealCommand({ type: 'process', pid: n.pid }, vscode.l10n.t('Reveal in Timeline'));
    return item;
  }
}

type ObjectElement = { kind: 'type'; type: string; objects: ObjectNode[] } | { kind: 'object'; node: ObjectNode } | { kind: 'user'; label: string; pid: number };

export class ObjectsProvider extends BaseProvider<ObjectElement> {
  objects(): ObjectNode[] {
    const m = this.sessions.current?.currentModel();
    return m ? ipcObjects(m) : [];
  }
  getChildren(e?: ObjectElement): ObjectElement[] {
    if (!e) {
      const byType = new Map<string, ObjectNode[]>();
      for (const o of this.objects()) { const l = byType.get(o.type) ?? []; l.push(o); byType.set(o.type, l); }
      return [...byType.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([type, objects]) => ({ kind: 'type', type, objects }));
    }
    if (e.kind === 'type') return e.objects.map((node) => ({ kind: 'object', node }));
    if (e.kind === 'object') return e.node.users.map((u) => ({ kind: 'user', label: `${u.name} (${u.pid})${u.role ? ` — ${u.role}` : ''}`, pid: u.pid }));
    return [];
  }
  getTreeItem(e: ObjectElement): vscode.TreeItem {
    if (e.kind === 'type') {
      const item = new vscode.TreeItem(e.type, vscode.TreeItemCollapsibleState.Expanded);
      item.description = String(e.objects.length);
      item.iconPath = new vscode.ThemeIcon('symbol-namespace');
      return item;
    }
    if (e.kind === 'user') {
      const item = new vscode.TreeItem(e.label);
      item.iconPath = new vscode.ThemeIcon('server-process');
      item.command = revealCommand({ type: 'process', pid: e.pid }, vscode.l10n.t('Reveal in Timeline'));
      return item;
    }
    const item = new vscode.TreeItem(e.node.label, e.node.users.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.description = `${vscode.l10n.t('{0} users', e.node.users.length)} · ${vscode.l10n.t('{0} events', formatCount(e.node.eventCount))}`;
    item.id = `object-${e.node.key}`;
    item.iconPath = new vscode.ThemeIcon('symbol-interface');
    item.contextValue = 'object';
    if (e.node.firstEvent !== undefined) item.command = revealCommand({ type: 'event', index: e.node.firstEvent }, vscode.l10n.t('Reveal in Timeline'));
    return item;
  }
}

export class FindingsProvider extends BaseProvider<FindingNode> {
  // The analysis walks the whole model; redo it only when the session or its event count changed.
  private cache: { session: TraceSession; count: number; nodes: FindingNode[] } | undefined;
  findings(): FindingNode[] {
    const s = this.sessions.current;
    const m = s?.currentModel();
    if (!s || !m) return [];
    const count = s.stats().events;
    if (this.cache?.session !== s || this.cache.count !== count) this.cache = { session: s, count, nodes: findingNodes(m) };
    return this.cache.nodes;
  }
  getChildren(e?: FindingNode): FindingNode[] { return e ? [] : this.findings(); }
  getTreeItem(f: FindingNode): vscode.TreeItem {
    const item = new vscode.TreeItem(f.title);
    item.description = f.detail;
    item.tooltip = `${f.title}\n${f.detail}`;
    item.iconPath = new vscode.ThemeIcon(f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info');
    if (f.eventIndex !== undefined) item.command = revealCommand({ type: 'event', index: f.eventIndex }, vscode.l10n.t('Reveal in Timeline'));
    return item;
  }
}
