// The host side of the page-table, lock and IPC-map panels: one WebviewPanel each (CSP default-src 'none' + nonce,
// local resources limited to out/webview), restored after reload by a serializer, fed by a PanelService over the
// current session's trace model (the session's one model: live, it catches up by itself and the panels follow it at
// most four times a second), and linked to the timeline's time cursor and selection through `panelLinks`.
// Also the CodeLens above locking lines of C sources: total wait and contention at that call site.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { panelHtml } from '../../common/panels/html';
import { PANEL_VIEW_TYPES, parseFromPanel, toWire, type PanelKind, type PanelSelection, type ToPanelMessage } from '../../common/panels/protocol';
import { PanelService, type PanelEffect } from '../../common/panels/service';
import type { EventSource } from '../../common/traceEvent';
import type { TraceModel } from '../../common/model';
import { enumValue } from '../../common/vocabulary';

/** What the panels need of a session (TraceSession satisfies it). */
export interface PanelSession {
  readonly label: string;
  readonly live: boolean;
  readonly running: boolean;
  readonly store: EventSource | undefined;
  /** The session's trace model, brought up to date as far as it has got (TraceSession.currentModel). */
  currentModel(): TraceModel | undefined;
  readonly collector?: { sendCommand(conn: number, command: string, args?: bigint[]): Promise<unknown> } | undefined;
  readonly onDidChange: vscode.Event<void>;
  readonly onDidEnd?: vscode.Event<unknown>;
}
export interface PanelSessions { readonly current: PanelSession | undefined; readonly onDidChange: vscode.Event<unknown> }

/**
 * The shared time cursor and selection. The timeline calls setCursor/select when the user moves them there and
 * listens to onCursor/onSelection for moves made in these panels (origin tells who moved it, to avoid echoes).
 */
export class PanelLinks implements vscode.Disposable {
  private readonly cursorEmitter = new vscode.EventEmitter<{ ns: bigint; origin: string }>();
  private readonly selectionEmitter = new vscode.EventEmitter<{ selection: PanelSelection | null; origin: string }>();
  readonly onCursor = this.cursorEmitter.event;
  readonly onSelection = this.selectionEmitter.event;
  cursorNs: bigint | null = null;
  setCursor(ns: bigint, origin: string): void { this.cursorNs = ns; this.cursorEmitter.fire({ ns, origin }); }
  select(selection: PanelSelection | null, origin: string): void { this.selectionEmitter.fire({ selection, origin }); }
  /** The cursor the open panel of `kind` follows (extension-host tests read it); undefined: none open or no data. */
  cursorOf(kind: PanelKind): bigint | null | undefined { return this.readCursor?.(kind); }
  readCursor?: (kind: PanelKind) => bigint | null | undefined;
  dispose(): void { this.cursorEmitter.dispose(); this.selectionEmitter.dispose(); }
}
export const panelLinks = new PanelLinks();

const TITLES: Record<PanelKind, () => string> = {
  pages: () => vscode.l10n.t('IPC Scope: Page Tables'), locks: () => vscode.l10n.t('IPC Scope: Locks'), map: () => vscode.l10n.t('IPC Scope: IPC Map'),
};

/** Live panels follow the model at most this often. */
const REFRESH_MS = 250;
/** The page tables are repacked (in slices) on every refresh: while live, at most this often. */
const PAGES_LIVE_MS = 1000;

class PanelHost implements vscode.Disposable {
  private service: PanelService | undefined;
  private session: PanelSession | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private refreshAgain = false;
  private lastPagesRefresh = 0;
  private sessionSubs: vscode.Disposable[] = [];

  constructor(readonly kind: PanelKind, readonly panel: vscode.WebviewPanel, private readonly context: vscode.ExtensionContext,
    private readonly sessions: PanelSessions, private readonly onDispose: () => void) {
    const root = vscode.Uri.joinPath(context.extensionUri, 'out', 'webview');
    panel.webview.options = { enableScripts: true, localResourceRoots: [root] };
    panel.webview.html = panelHtml({ kind, scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(root, `${kind}.js`)).toString(),
      cspSource: panel.webview.cspSource, nonce: randomBytes(16).toString('base64'), lang: vscode.env.language, title: TITLES[kind]() });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((raw) => this.onMessage(raw)),
      panel.onDidDispose(() => this.dispose()),
      sessions.onDidChange(() => this.attach()),
      panelLinks.onCursor(({ ns, origin }) => { if (origin !== this.kind) { if (this.service) this.service.cursorNs = ns; this.post({ type: 'cursor', ns: ns.toString() }); } }),
      panelLinks.onSelection(({ selection, origin }) => { if (origin !== this.kind) this.post({ type: 'selection', selection }); }),
    );
    this.attach();
  }

  get cursorNs(): bigint | null | undefined { return this.service?.cursorNs; }

  private post(m: ToPanelMessage): void { if (this.ready) void this.panel.webview.postMessage(toWire(m)); }

  /** (Re)binds to the current session's model; live sessions refresh from it as it grows. */
  private attach(): void {
    const s = this.sessions.current;
    const m = s?.currentModel();
    if (s === this.session && m && m === this.service?.model) return; // same session: nothing to rebind
    for (const d of this.sessionSubs) d.dispose();
    this.sessionSubs = [];
    this.session = s;
    if (!s || !m) { this.service = undefined; return; }
    this.service = new PanelService(this.kind, m, { title: s.label, live: s.live && s.running, locale: vscode.env.language });
    this.service.cursorNs = panelLinks.cursorNs;
    // Live lock call sites resolved in the background: show them at the next refresh.
    this.service.onDidResolve = () => this.scheduleRefresh();
    this.lastPagesRefresh = 0;
    this.sessionSubs.push(s.onDidChange(() => this.scheduleRefresh()));
    if (s.onDidEnd) this.sessionSubs.push(s.onDidEnd(() => this.scheduleRefresh()));
    void this.refresh();
  }
  private scheduleRefresh(delay = REFRESH_MS): void {
    if (this.refreshing) { this.refreshAgain = true; return; }
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => { this.refreshTimer = undefined; void this.refresh(); }, delay);
  }
  /** One refresh at a time: the model's new state into the panel's data, posted when it changed. */
  private async refresh(): Promise<void> {
    const s = this.session, svc = this.service;
    if (!s || !svc || this.refreshing) return;
    const m = s.currentModel(); // keeps a live model catching up; completes it once the recording ended
    if (m && m !== svc.model) { this.service = undefined; this.session = undefined; this.attach(); return; }
    const final = !s.running;
    if (this.kind === 'pages' && !final) {
      const wait = this.lastPagesRefresh + PAGES_LIVE_MS - Date.now();
      if (wait > 0) { this.scheduleRefresh(wait); return; }
    }
    this.refreshing = true;
    try {
      if (final) svc.ended();
      const changed = await svc.refresh({ final });
      this.lastPagesRefresh = Date.now();
      if (changed && svc === this.service) this.post(svc.initMessage());
      if (final && svc === this.service) this.post({ type: 'sessionEnded' });
    } catch (e) {
      this.post({ type: 'note', level: 'error', message: `IPC Scope could not build the ${this.kind} view: ${(e as Error).message}` });
    } finally {
      this.refreshing = false;
      if (this.refreshAgain) { this.refreshAgain = false; this.scheduleRefresh(); }
    }
  }

  private onMessage(raw: unknown): void {
    let m;
    try { m = parseFromPanel(raw); } catch (e) { console.warn(`IPC Scope ${this.kind} panel: ${(e as Error).message}`); return; }
    if (m.type === 'ready') this.ready = true;
    if (!this.service) { if (m.type === 'ready') this.post({ type: 'note', level: 'info', message: vscode.l10n.t('Start or open a trace to see this view.') }); return; }
    const { replies, effects } = this.service.handle(m);
    for (const r of replies) this.post(r);
    for (const e of effects) void this.apply(e);
  }

  private async apply(e: PanelEffect): Promise<void> {
    switch (e.type) {
      case 'cursor': panelLinks.setCursor(e.ns, this.kind); break;
      case 'select': panelLinks.select(e.selection, this.kind); break;
      case 'openSource': {
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(e.file));
        const line = Math.max(0, e.line - 1);
        await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(line, 0, line, 0) });
        break;
      }
      case 'snapshot': {
        const c = this.sessions.current?.collector;
        if (!c) { this.post({ type: 'note', level: 'warning', message: vscode.l10n.t('Snapshots need a live session.') }); break; }
        try {
          await c.sendCommand(e.conn, 'snapshot', [BigInt(enumValue('snapshotReason', 'request'))]);
          this.lastPagesRefresh = 0; // show the snapshot as soon as the model has it
          this.scheduleRefresh();
        } catch (err) { this.post({ type: 'note', level: 'error', message: vscode.l10n.t('The snapshot failed: {0}', (err as Error).message) }); }
        break;
      }
      case 'log': console.log(`IPC Scope ${this.kind} webview: ${e.message}`); break;
    }
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.sessionSubs) d.dispose();
    for (const d of this.disposables) d.dispose();
    this.onDispose();
  }
}

/**
 * CodeLens over C/C++ sources: wait and contention at each lock call site of the current session. One lock service
 * per session model, refreshed when the session changes (at most every LENS_REFRESH_MS) and when background
 * resolution found more call sites, so a live session's lenses appear once their file:line is known.
 */
const LENS_REFRESH_MS = 1000;
class LockCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private service: PanelService | undefined;
  private stale = true;
  private building: Promise<unknown> | undefined;
  private readonly sub: vscode.Disposable;
  constructor(private readonly sessions: PanelSessions) {
    let timer: NodeJS.Timeout | undefined;
    this.sub = sessions.onDidChange(() => { if (!timer) timer = setTimeout(() => { timer = undefined; this.stale = true; this.emitter.fire(); }, LENS_REFRESH_MS); });
  }
  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const s = this.sessions.current;
    const m = s?.currentModel();
    if (!s || !m) return [];
    if (!this.service || this.service.model !== m) {
      const svc = new PanelService('locks', m, { title: s.label, live: s.running, locale: vscode.env.language });
      svc.onDidResolve = () => { if (svc === this.service) { this.stale = true; this.emitter.fire(); } };
      this.service = svc;
      this.stale = true;
    }
    if (this.stale) {
      this.stale = false;
      const svc = this.service;
      if (!s.running) svc.ended();
      // Live, this never waits on addr2line/nm: it shows what is resolved and onDidResolve brings the rest.
      this.building = svc.refresh({ final: !s.running }).catch((e) => console.warn(`IPC Scope lock CodeLens: ${(e as Error).message}`));
    }
    await this.building;
    const sites = this.service?.locksData?.sites ?? [];
    const path = doc.uri.fsPath;
    const lenses: vscode.CodeLens[] = [];
    for (const site of sites) {
      if (!site.file || !site.line || !(site.file === path || path.endsWith(`/${site.file}`) || site.file.endsWith(`/${path.split('/').pop()}`))) continue;
      const line = Math.min(doc.lineCount - 1, site.line - 1);
      const pct = site.acquisitions ? ((site.contended / site.acquisitions) * 100).toFixed(1) : '0';
      const waitMs = (Number(BigInt(site.totalWaitNs)) / 1e6).toFixed(3);
      lenses.push(new vscode.CodeLens(doc.lineAt(line).range, {
        title: vscode.l10n.t('IPC Scope: waited {0} ms · contended {1}/{2} ({3}%)', waitMs, site.contended, site.acquisitions, pct),
        command: 'ipcScope.showLocks', arguments: [],
      }));
    }
    return lenses;
  }
  dispose(): void { this.sub.dispose(); this.emitter.dispose(); }
}

/** Registers the three panels' commands, serializers and the CodeLens. Call once from activate(). */
export function registerPanels(context: vscode.ExtensionContext, sessions: PanelSessions): PanelLinks {
  const open = new Map<PanelKind, PanelHost>();
  panelLinks.readCursor = (kind) => open.get(kind)?.cursorNs;
  const host = (kind: PanelKind, panel: vscode.WebviewPanel) => {
    const h = new PanelHost(kind, panel, context, sessions, () => open.delete(kind));
    open.set(kind, h);
    return h;
  };
  const show = (kind: PanelKind) => {
    const existing = open.get(kind);
    if (existing) { existing.panel.reveal(undefined, true); return; }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPES[kind], TITLES[kind](), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'out', 'webview')] });
    host(kind, panel);
  };
  const lens = new LockCodeLens(sessions);
  context.subscriptions.push(
    panelLinks, lens,
    vscode.commands.registerCommand('ipcScope.showPageTables', () => show('pages')),
    vscode.commands.registerCommand('ipcScope.showLocks', () => show('locks')),
    vscode.commands.registerCommand('ipcScope.showIpcMap', () => show('map')),
    vscode.languages.registerCodeLensProvider([{ language: 'c' }, { language: 'cpp' }], lens),
    ...(Object.keys(PANEL_VIEW_TYPES) as PanelKind[]).map((kind) => vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPES[kind], {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel) { host(kind, panel); },
    })),
    { dispose: () => { for (const h of [...open.values()]) h.panel.dispose(); } },
  );
  return panelLinks;
}
