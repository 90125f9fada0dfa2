// A session: a live recording (Collector + TracedProcess + the session's terminal, streaming to a temp .ipctrace so
// Export can copy it) or an opened .ipctrace file. Both hand the views and the timeline one EventStore.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Collector } from '../common/collector';
import { TracedProcess, type ExitInfo } from '../common/launcher';
import type { EventStore } from '../common/store';
import { readTraceFile } from '../common/traceFile';
import type { ConnectionInfo } from '../common/traceEvent';
import { TraceModel } from '../common/model';
import { planLaunch, programLabel, runBuild, type ProgramSpec } from './programs';
import { ProgramTerminal } from './programTerminal';
import { LiveModel } from './liveModel';
import type { IpcScopeSettings } from './settings';
import { log } from './log';

export type SessionState = 'building' | 'running' | 'stopping' | 'exited' | 'failed' | 'opened';

export interface SessionStats { readonly events: number; readonly dropped: number; readonly eventsPerSecond: number; readonly connections: number }

let nextSessionNumber = 1;

export class TraceSession implements vscode.Disposable {
  readonly id = `s${nextSessionNumber++}`;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Fired (throttled) when the state or the data changed. */
  readonly onDidChange = this.changeEmitter.event;
  private readonly endEmitter = new vscode.EventEmitter<void>();
  readonly onDidEnd = this.endEmitter.event;
  state: SessionState;
  /** Set when the session failed or the program could not start: shown in the Sessions view. */
  error: string | undefined;
  exit: ExitInfo | undefined;
  store: EventStore | undefined;
  collector: Collector | undefined;
  process: TracedProcess | undefined;
  terminal: ProgramTerminal | undefined;
  /** The .ipctrace behind this session: the opened file, or the temp file a live session streams to. */
  traceFile: string | undefined;
  readonly startedAt = Date.now();
  private changeTimer: NodeJS.Timeout | undefined;
  private finishing: Promise<void> | undefined;
  private readonly tempDir: string | undefined;
  private mainExited = false;
  private model: TraceModel | undefined;
  private liveModel: LiveModel | undefined;
  private modelFlushed = false;
  private disposed = false;

  private constructor(readonly label: string, readonly live: boolean, readonly program?: ProgramSpec, tempDir?: string) {
    this.state = live ? 'building' : 'opened';
    this.tempDir = tempDir;
  }

  get running(): boolean { return this.state === 'building' || this.state === 'running' || this.state === 'stopping'; }

  /** Records `spec` under the shim. Resolves once the program runs (or failed to build/start: state 'failed'). */
  static async record(spec: ProgramSpec, settings: IpcScopeSettings): Promise<TraceSession> {
    const tempDir = join(tmpdir(), 'ipc-scope-sessions', randomBytes(6).toString('hex'));
    mkdirSync(tempDir, { recursive: true });
    const s = new TraceSession(spec.label ?? programLabel(spec), true, spec, tempDir);
    s.terminal = new ProgramTerminal(vscode.l10n.t('IPC Scope: {0}', s.label), (text) => s.process?.write(text), () => s.process?.endInput(), () => { void s.stop(); });
    s.terminal.terminal.show(true);
    try {
      await s.start(spec, settings);
    } catch (e) {
      s.fail(e instanceof Error ? e.message : String(e));
    }
    return s;
  }

  /** A debug session's recording (issue 6): the ipcscope debug adapter started the collector and the program; as a
   * session it shows in the views and the timeline like any recording. Stopping it stops the debuggee. */
  static adopt(label: string, collector: Collector, proc: TracedProcess, traceFile: string | undefined, program?: ProgramSpec): TraceSession {
    const s = new TraceSession(label, true, program);
    s.collector = collector;
    s.store = collector.store;
    s.process = proc;
    s.traceFile = traceFile;
    s.state = 'running';
    collector.on('events', () => s.changed());
    collector.on('connection', () => s.changed());
    collector.on('closed', () => { s.changed(); s.maybeFinish(); });
    void proc.exited.then((x) => { s.exit = x; s.mainExited = true; s.maybeFinish(); });
    s.changed(true);
    return s;
  }

  /** Opens a .ipctrace file (read-only). Throws a clear error when the file is not a trace. */
  static async open(file: string, maxEvents?: number): Promise<TraceSession> {
    const s = new TraceSession(basename(file), false);
    s.traceFile = file;
    s.store = await readTraceFile(file, { maxEvents });
    log.info(`opened ${file}: ${s.store.count} events, ${s.store.connections().length} process images`);
    return s;
  }

  private async start(spec: ProgramSpec, settings: IpcScopeSettings): Promise<void> {
    const plan = planLaunch(spec, settings.buildCommand);
    const term = this.terminal!;
    if (plan.build) {
      term.write(`$ ${plan.build.commandLine}\n`);
      log.info(`building ${spec.file}: ${plan.build.commandLine}`);
      const code = await runBuild(plan.build.commandLine, spec.cwd, (t) => term.write(t));
      if (code !== 0) throw new Error(vscode.l10n.t('The build command failed with exit code {0}.', code));
    }
    this.traceFile = join(this.tempDir!, `${basename(spec.file).replace(/[^\w.-]/g, '_')}.ipctrace`);
    this.collector = await Collector.start({
      payloadBytes: settings.payloadBytes, pageFaults: spec.pageFaults ?? settings.pageFaults, maxEvents: settings.maxEvents,
      traceFile: this.traceFile, meta: { command: [plan.command, ...plan.args], cwd: spec.cwd },
    });
    this.store = this.collector.store;
    log.info(`session ${this.id}: collector on 127.0.0.1:${this.collector.port}, streaming to ${this.traceFile}`);
    this.collector.on('events', () => this.changed());
    this.collector.on('connection', (c: ConnectionInfo) => { log.info(`session ${this.id}: pid ${c.pid} connected (${c.origin}, ${c.exe})`); this.changed(); });
    this.collector.on('closed', () => { this.changed(); this.maybeFinish(); });
    this.collector.on('note', (n: { level: string; message: string }) => {
      (n.level === 'error' ? log.error : n.level === 'warning' ? log.warn : log.info)(`session ${this.id}: ${n.message}`);
    });
    term.write(`$ ${[plan.command, ...plan.args].join(' ')}\n`);
    const proc = TracedProcess.launch({
      command: plan.command, args: plan.args, cwd: spec.cwd || dirname(spec.file),
      env: { ...settings.extraEnv }, collector: this.collector, stdio: 'pipe',
    });
    this.process = proc;
    this.state = 'running';
    log.info(`session ${this.id}: started ${plan.label} as pid ${proc.pid}`);
    proc.on('stdout', (d: Buffer | string) => term.write(d.toString()));
    proc.on('stderr', (d: Buffer | string) => term.write(d.toString()));
    void proc.exited.then((x) => {
      this.exit = x;
      this.mainExited = true;
      term.write(`\n[${x.signal ? vscode.l10n.t('{0} ended by signal {1}', plan.label, x.signal) : vscode.l10n.t('{0} exited with code {1}', plan.label, String(x.code))}]\n`);
      log.info(`session ${this.id}: pid ${proc.pid} exited (${x.signal ?? x.code})`);
      this.maybeFinish();
    });
    this.changed(true);
  }

  // The recording ends when the program has exited and every traced descendant has disconnected
  // (daemons it left behind keep the session running until Stop).
  private maybeFinish(): void {
    if (!this.mainExited || !this.collector) return;
    if (this.collector.liveConnections().length === 0) void this.finish('exited');
  }

  private fail(message: string): void {
    this.error = message;
    this.state = 'failed';
    this.terminal?.write(`\n${message}\n`);
    log.error(`session ${this.id} (${this.label}): ${message}`);
    void this.finish('failed');
  }

  private finish(state: SessionState): Promise<void> {
    this.finishing ??= (async () => {
      if (this.collector) {
        if (this.exit) this.collector.exitInfo = { code: this.exit.code, signal: this.exit.signal };
        await this.collector.close();
      }
      this.state = state === 'failed' || this.state === 'failed' ? 'failed' : 'exited';
      log.info(`session ${this.id}: ended with ${this.store?.count ?? 0} events`);
      this.changed(true);
      this.endEmitter.fire();
    })();
    return this.finishing;
  }

  /** Stops the program and everything it started (process group and every pid the collector saw). */
  async stop(): Promise<void> {
    if (!this.running) return;
    if (this.state === 'building') { this.fail(vscode.l10n.t('Stopped before the program started.')); return; }
    this.state = 'stopping';
    this.changed(true);
    log.info(`session ${this.id}: stopping`);
    if (this.process) {
      const x = await this.process.stop();
      this.exit ??= x;
      this.mainExited = true;
    }
    await this.finish('exited');
  }

  /** Resolves when the recording has ended (immediately for opened traces). */
  whenEnded(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => { const d = this.onDidEnd(() => { d.dispose(); r(); }); });
  }

  /**
   * The trace model as far as it has got (views call this when they refresh). While recording, a call hands the model
   * the processes connected so far, and the model catches up with the events in bounded steps between turns of the
   * event loop (LiveModel): a whole 250 ms batch at 200k events/s blocked the extension host for hundreds of ms.
   * The views are told (onDidChange) when it has caught up. Once the recording has ended the model is completed
   * (flushed) on the first call.
   */
  currentModel(): TraceModel | undefined {
    if (!this.store) return undefined;
    if (!this.live) {
      this.model ??= new TraceModel(this.store, { live: false });
      this.model.update();
      return this.model;
    }
    this.liveModel ??= new LiveModel(this.store);
    if (this.running) {
      // the processes connected so far now, the events in bounded steps between turns; the views hear when it caught up
      const m = this.liveModel.current();
      if (!this.liveModel.caughtUp) void this.liveModel.catchUp().then(() => { if (!this.disposed) this.changed(); });
      return m;
    } else if (!this.modelFlushed) { this.liveModel.complete(); this.modelFlushed = true; }
    return this.liveModel.model;
  }

  stats(): SessionStats {
    if (this.collector && this.running) {
      const s = this.collector.stats();
      return { events: s.events, dropped: s.dropped, eventsPerSecond: s.eventsPerSecond, connections: s.connections };
    }
    return { events: this.store?.count ?? 0, dropped: this.store?.dropped ?? 0, eventsPerSecond: 0, connections: 0 };
  }

  private changed(now = false): void {
    if (now) { clearTimeout(this.changeTimer); this.changeTimer = undefined; this.changeEmitter.fire(); return; }
    // Events arrive in thousands per second; views refresh at most four times a second.
    this.changeTimer ??= setTimeout(() => { this.changeTimer = undefined; this.changeEmitter.fire(); }, 250);
  }

  dispose(): void {
    void this.stop();
    clearTimeout(this.changeTimer);
    this.changeEmitter.dispose();
    this.endEmitter.dispose();
    this.disposed = true;
    this.model?.dispose();
    this.liveModel?.dispose();
    if (this.tempDir) void this.whenEnded().then(() => rmSync(this.tempDir!, { recursive: true, force: true }));
  }
}
