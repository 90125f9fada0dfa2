// The Demo Gallery and the "Learn IPC with IPC Scope" walkthrough in the real extension host: every demo of the
// repository listed under its topic, Trace on the pipe demo recording its processes under the real shim, the
// deadlock demo's trace showing the deadlock, Open README opening the preview, Step starting the `ipcscope`
// debugger (or saying clearly that it is missing), and the walkthrough contributed and openable.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TraceSession } from '../../../src/host/session';
import { DemoGalleryProvider, type GalleryNode } from '../../../src/host/gallery/galleryView';
import type { ProcessNode } from '../../../src/host/modelView';
import { groupByTopic, loadDemos, pick, topicName } from '../../../src/host/gallery/manifests';
import { steppingAvailable } from '../../../src/host/gallery';
import { api, waitFor, EXTENSION_ID } from './helpers';
import { CellState } from '../../../src/common/model/pages';

const root = () => vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;

function flatten(n: ProcessNode): ProcessNode[] { return [n, ...n.children.flatMap(flatten)]; }

/** The open webview tab of a panel view type (the timeline, ipcScope.pages, ipcScope.locks, ipcScope.map). */
const panelTab = (viewType: string) => vscode.window.tabGroups.all.flatMap((g) => g.tabs)
  .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));

describe('demo gallery', function () {
  this.timeout(120_000);

  it('lists every demo of the repository under its topic, titled in the UI language, the observation as tooltip', async () => {
    const a = await api();
    const p = a.gallery.provider;
    const expected = loadDemos(join(root(), 'demos'));
    assert.equal(p.catalog?.root, join(root(), 'demos'), 'the test workspace has no demos, so the extension copy is shown');
    assert.deepEqual(p.catalog?.errors, []);
    const topics = p.getChildren();
    const groups = groupByTopic(expected.demos);
    assert.deepEqual(topics.map((t) => t.kind === 'topic' && t.group.topic), groups.map((g) => g.topic));
    let listed = 0;
    for (const [i, t] of topics.entries()) {
      const item = p.getTreeItem(t);
      assert.equal(item.label, topicName(groups[i].topic, vscode.env.language));
      assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded);
      const demos = p.getChildren(t);
      assert.deepEqual(demos.map((d) => d.kind === 'demo' && d.demo.manifest.id), groups[i].demos.map((d) => d.manifest.id));
      for (const d of demos) {
        const di = p.getTreeItem(d);
        const m = (d as Extract<GalleryNode, { kind: 'demo' }>).demo.manifest;
        assert.equal(di.label, pick(m.title, vscode.env.language));
        assert.equal(di.contextValue, 'ipcScope.demo', 'the inline Trace/Step/README actions apply');
        // appendText escapes Markdown (`|`, `*`, …): compare the unescaped text.
        const tip = (di.tooltip as vscode.MarkdownString).value.replace(/\\(.)/g, '$1');
        assert.ok(tip.includes(pick(m.observation, vscode.env.language).slice(0, 40)), tip);
        listed++;
      }
    }
    assert.equal(listed, expected.demos.length);
    assert.ok(listed >= 17, `${listed} demos`);
    // The view is contributed to the IPC Scope container and can be focused (the walkthrough links to it).
    await vscode.commands.executeCommand('ipcScope.demos.focus');
    await waitFor('the gallery view to be visible', () => a.gallery.view.visible, 10_000);
  });

  it('in a Korean UI the topics, titles and tooltips are Korean', () => {
    const p = new DemoGalleryProvider(root(), 'ko');
    try {
      const topics = p.getChildren();
      assert.equal(p.getTreeItem(topics[0]).label, '메모리');
      const pipe = topics.flatMap((t) => p.getChildren(t)).find((d) => d.kind === 'demo' && d.demo.manifest.id === 'pipe')!;
      assert.equal(p.getTreeItem(pipe).label, '익명 파이프');
      assert.match((p.getTreeItem(pipe).tooltip as vscode.MarkdownString).value, /파이프에 쓴 바이트는/);
      const part = p.getChildren(pipe)[0];
      assert.match(String(p.getTreeItem(part).label), /[가-힣]/);
    } finally { p.dispose(); }
  });

  it('Trace on the pipe demo records it: a session named after the demo, its shell and every pipe program', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.gallery.trace', 'pipe');
    assert.ok(s, 'no session returned');
    assert.notEqual(s.state, 'failed', s.error);
    assert.equal(s.label, 'demo: pipe');
    await s.whenEnded();
    assert.equal(s.exit?.code, 0, s.terminal?.transcript);
    assert.equal(a.sessions.current, s);
    const roots = a.views.processes.roots();
    assert.equal(roots.length, 1, JSON.stringify(roots.map((r) => r.name)));
    const names = flatten(roots[0]).map((n) => n.name);
    for (const prog of ['pipe', 'pipe-bidirectional', 'pipe-eof']) assert.ok(names.includes(prog), `${prog} in ${names.join(', ')}`);
    // pipe, the bidirectional pair and the EOF variants each fork a child that shares a pipe with its parent.
    const pipes = a.views.objects.objects().filter((o) => o.type === 'pipe');
    assert.ok(pipes.length >= 4, JSON.stringify(pipes.map((o) => o.label)));
    assert.ok(pipes.some((o) => new Set(o.users.map((u) => u.pid)).size >= 2), 'a pipe used by two processes');
    assert.ok(s.terminal!.transcript.length > 0);
  });

  it('a demo\'s parts are listed under it and one part can be traced alone', async () => {
    const a = await api();
    const p = a.gallery.provider;
    const pipeNode = p.getChildren().flatMap((t) => p.getChildren(t)).find((d) => d.kind === 'demo' && d.demo.manifest.id === 'pipe')!;
    assert.equal(p.getTreeItem(pipeNode).collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
    const parts = p.getChildren(pipeNode);
    assert.deepEqual(parts.map((x) => x.kind === 'part' && x.part.id), (pipeNode as Extract<GalleryNode, { kind: 'demo' }>).demo.manifest.parts.map((x) => x.id));
    const node = parts.find((x) => x.kind === 'part' && x.part.id === 'parent-child')!;
    assert.equal(p.getTreeItem(node).contextValue, 'ipcScope.demoPart');
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.gallery.trace', node);
    assert.ok(s && s.state !== 'failed', s?.error);
    assert.equal(s.label, 'demo: pipe/parent-child');
    await s.whenEnded();
    assert.equal(s.exit?.code, 0, s.terminal?.transcript);
    a.sessions.setCurrent(s);
    const roots = a.views.processes.roots();
    assert.equal(roots.length, 1);
    assert.equal(roots[0].name, 'pipe');
    assert.equal(roots[0].children.length, 1, 'the forked reader');
    assert.equal(await vscode.commands.executeCommand('ipcScope.gallery.trace', 'pipe/no-such-part'), undefined);
  });

  it('Trace on the cow demo (the walkthrough\'s copy-on-write step) records the child\'s page faults', async () => {
    // ipcScope.pageFaults is off by default: the gallery turns faults on for the demos whose panel is the page tables.
    assert.equal(vscode.workspace.getConfiguration('ipcScope').get('pageFaults'), false);
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.gallery.trace', 'cow');
    assert.ok(s && s.state !== 'failed', s?.error);
    await s.whenEnded();
    assert.equal(s.exit?.code, 0, s.terminal?.transcript);
    const m = s.currentModel();
    assert.ok(m);
    const most = Math.max(0, ...[...m.pages.faultCounts.values()].map((c) => c.minor));
    // One copy-on-write fault per 4 KiB page of the child's 100 MiB (25,600), with slack for samples a loaded machine drops.
    assert.ok(most >= 20_000, `most minor faults in one process: ${most}`);
    // The page tables panel packs this model's page grids: a forked child's 100 MiB mapping has every page copied by
    // its writes (at the most: the mapping is unmapped at the end).
    let copied = 0;
    for (const c of s.store!.connections()) {
      if (c.origin !== 'fork') continue;
      for (const x of m.pages.mappings.listed().get(c.conn) ?? []) {
        const g = x.grid;
        if (!g || g.pageCount < 25_600) continue;
        const st = new Uint8Array(g.pageCount);
        let now = 0;
        for (let i = 0; i < g.changeTs.length; i++) {
          const p = g.changePage.at(i), v = g.changeState.at(i);
          now += (v === CellState.Copied ? 1 : 0) - (st[p] === CellState.Copied ? 1 : 0);
          st[p] = v;
          copied = Math.max(copied, now);
        }
      }
    }
    assert.ok(copied >= 20_000, `most pages copied at once in a forked child's mapping of at least 100 MiB: ${copied}`);
    await waitFor('the page tables panel beside the timeline', () => panelTab('ipcScope.pages'), 15_000);
  });

  it('Trace on the deadlock demo (the walkthrough\'s last step) ends with the deadlock found', async () => {
    const a = await api();
    const s = await vscode.commands.executeCommand<TraceSession>('ipcScope.gallery.trace', 'deadlock');
    assert.ok(s && s.state !== 'failed', s?.error);
    await s.whenEnded();
    assert.equal(s.exit?.code, 0, s.terminal?.transcript);
    assert.ok(s.terminal!.transcript.includes('abba: deadlock'), s.terminal!.transcript);
    a.sessions.setCurrent(s);
    const f = await waitFor('the deadlock finding', () => a.views.findings.findings().find((x) => x.detail === 'deadlock'), 30_000);
    assert.equal(f.severity, 'error');
    assert.match(f.title, /mutex_lock/);
    await waitFor('the locks panel beside the timeline', () => panelTab('ipcScope.locks'), 15_000);
  });

  it('Open README opens the demo README beside, as a preview', async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri>('ipcScope.gallery.openReadme', 'cow');
    assert.equal(uri?.fsPath, join(root(), 'demos', 'cow', 'README.md'));
    const tab = await waitFor('a README tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /README/.test(t.label)), 15_000);
    const input = tab.input;
    if (input instanceof vscode.TabInputWebview) assert.match(input.viewType, /markdown/i);
    else assert.equal((input as vscode.TabInputText).uri.fsPath, uri.fsPath);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('an unknown demo id is refused with an error, not a crash', async () => {
    assert.equal(await vscode.commands.executeCommand('ipcScope.gallery.trace', 'no-such-demo'), undefined);
    assert.equal(await vscode.commands.executeCommand('ipcScope.gallery.openReadme', 'no-such-demo'), undefined);
    assert.equal(await vscode.commands.executeCommand('ipcScope.gallery.step', 'no-such-demo'), false);
  });

  it('Step starts an ipcscope debug session that stops at the demo\'s stopAt line, or says the debugger is missing', async function () {
    this.timeout(120_000);
    const pipe = loadDemos(join(root(), 'demos')).demos.find((d) => d.manifest.id === 'pipe')!;
    const stopFile = join(root(), 'demos', 'pipe', pipe.manifest.stopAt.file);
    if (!steppingAvailable()) {
      assert.equal(await vscode.commands.executeCommand('ipcScope.gallery.step', 'pipe'), false);
      assert.ok(!vscode.debug.activeDebugSession, 'nothing started');
      return;
    }
    // Watch the adapter's stopped events for the demo's session.
    let stopped: ((tid: number) => void) | undefined;
    const firstStop = new Promise<number>((resolve) => { stopped = resolve; });
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('ipcscope', {
      createDebugAdapterTracker: () => ({
        onDidSendMessage: (m: { type?: string; event?: string; body?: { reason?: string; threadId?: number } }) => {
          if (m.type === 'event' && m.event === 'stopped' && m.body?.reason === 'breakpoint') stopped?.(m.body.threadId ?? 0);
        },
      }),
    });
    const started = new Promise<vscode.DebugSession>((resolve) => { const d = vscode.debug.onDidStartDebugSession((s) => { d.dispose(); resolve(s); }); });
    try {
      assert.equal(await vscode.commands.executeCommand('ipcScope.gallery.step', 'pipe'), true);
      const session = await started;
      assert.equal(session.type, 'ipcscope');
      assert.equal(session.configuration.ipcScopeDemo, 'pipe');
      assert.equal(session.configuration.program, join(root(), 'demos', 'pipe', 'build', 'pipe-eof'), 'the program that holds pipe-eof.c');
      assert.deepEqual(session.configuration.stopAt, { file: stopFile, line: pipe.manifest.stopAt.line });
      const tid = await Promise.race([firstStop, new Promise<number>((_, reject) => setTimeout(() => reject(new Error('no stop at the stopAt line within 60 s')), 60_000))]);
      const st = await session.customRequest('stackTrace', { threadId: tid }) as { stackFrames: { source?: { path?: string }; line: number }[] };
      const frame = st.stackFrames.find((f) => f.source?.path?.endsWith(pipe.manifest.stopAt.file));
      assert.ok(frame, JSON.stringify(st.stackFrames.map((f) => [f.source?.path, f.line])));
      // The adapter moves a line without code to the next one with code (up to 3 lines on).
      assert.ok(frame.line >= pipe.manifest.stopAt.line && frame.line <= pipe.manifest.stopAt.line + 3, `stopped at line ${frame.line}`);
      await vscode.debug.stopDebugging(session);
    } finally { tracker.dispose(); }
  });
});

describe('walkthrough: Learn IPC with IPC Scope', () => {
  it('is contributed with steps from a pipe to copy-on-write to a deadlock, each with media in English and Korean', () => {
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { walkthroughs: { id: string; title: string; steps: { id: string; description: string; media: { svg: string } }[] }[] } };
    const w = pkg.contributes.walkthroughs.find((x) => x.id === 'learnIpc');
    assert.ok(w, 'walkthrough learnIpc');
    assert.deepEqual(w.steps.map((s) => s.id), ['pipe', 'timeline', 'cow', 'deadlock', 'gallery']);
    // The manifest is localized by the time we read it: real text, and links that trace the demos.
    assert.doesNotMatch(w.title, /^%/);
    const links = w.steps.map((s) => s.description).join('\n');
    for (const d of ['pipe', 'cow', 'deadlock']) assert.ok(links.includes(`command:ipcScope.gallery.trace?%5B%22${d}%22%5D`), d);
    assert.ok(links.includes('command:ipcScope.showTimeline'));
    for (const s of w.steps) {
      assert.ok(existsSync(join(root(), s.media.svg)), s.media.svg);
      assert.ok(existsSync(join(root(), s.media.svg.replace(/\/(en|ko)\//, '/ko/'))));
      assert.ok(existsSync(join(root(), s.media.svg.replace(/\/(en|ko)\//, '/en/'))));
    }
  });

  it('opens with workbench.action.openWalkthrough', async () => {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#learnIpc`, false);
    await waitFor('the walkthrough editor', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /Learn IPC|IPC 배우기|Walkthrough|Welcome|시작/i.test(t.label)), 10_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
