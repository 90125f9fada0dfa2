// The `ipcscope` debug adapter: steps a traced program one IPC call at a time (issue 6, docs/stepping.md).
// Plain Node on @vscode/debugadapter (no vscode import): the extension runs it inline, tests talk DAP to it.
//
// The shim holds threads (native/src/pause.c); this adapter decides when: it starts the collector and the program
// with pausing on, pushes breakpoints to every process as it connects, turns one thread's stop into an all-stop of
// every process, and follows messages through the trace model (Step Into after a write stops where those bytes are
// read). Step Back moves a cursor through the recorded history without touching the processes.
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath, basename, join } from 'node:path';
import {
  LoggingDebugSession, InitializedEvent, StoppedEvent, TerminatedEvent, ExitedEvent, ThreadEvent, OutputEvent,
  BreakpointEvent, ContinuedEvent, Thread, StackFrame, Scope, Source, Handles, Event,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Collector } from '../collector';
import { TracedProcess } from '../launcher';
import type { TraceEvent, ConnectionInfo } from '../traceEvent';
import { TraceModel, CallSiteResolver, waitForGraph } from '../model';
import { argIndex, kindById, kindId, ENUMS, PHASE } from '../vocabulary';
import {
  kindForFunction, EXCEPTION_FILTERS, CONTENDED_BIT, kindWords, Condition, readLineTable, rangesForLine,
  kindName, type LineTable, type LineRange,
} from './breakpoints';
import { callLabel, callVariables, namedArgs, procSignals, procPages, type Var } from './describe';

export interface IpcScopeLaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** Program to run (C binary, Python or shell script: scripts run through their #! interpreter). */
  program: string;
  args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  stopOnEntry?: boolean;
  pageFaults?: boolean;
  /** Exception filters to enable from the start (EXCEPTION_FILTERS ids), in addition to the Breakpoints pane. */
  stopOn?: string[];
  /** Also stream the recording to this .ipctrace file. */
  traceFile?: string;
  /** A source line to stop at from the start (a demo's `stopAt`), besides the Breakpoints pane's. */
  stopAt?: { file: string; line: number };
}

/** What the host (or a test) learns about the session: a debug session is a trace session that can pause. */
export interface IpcScopeSessionHooks {
  started?(collector: Collector, program: TracedProcess, args: IpcScopeLaunchArguments): void;
  /** The timeline cursor: the event a stop or a step back points at. */
  cursor?(index: number, ts: bigint): void;
  ended?(collector: Collector): void;
}

const K = {
  paused: kindId('paused'), resumed: kindId('resumed'), procStart: kindId('proc_start'), threadExit: kindId('thread_exit'), procExit: kindId('proc_exit'),
  read: kindId('read'), write: kindId('write'), kill: kindId('kill'), tgkill: kindId('tgkill'), sigqueue: kindId('sigqueue'),
  raise: kindId('raise'), handler: kindId('signal_handler'), mutexLock: kindId('mutex_lock'), mutexUnlock: kindId('mutex_unlock'),
  semPost: kindId('sem_post'), semWait: kindId('sem_wait'), pageFault: kindId('page_fault'), fork: kindId('fork'),
  mqSend: kindId('mq_send'), mqReceive: kindId('mq_receive'),
};
const REASONS = ENUMS.pauseReason;
const SNAPSHOT_PAUSE = ENUMS.snapshotReason.indexOf('pause');

interface ConnState {
  info: ConnectionInfo;
  open: boolean;
  /** Release generation the shim reported in its last REPLY: a `paused` from an older one is already released. */
  minGen: bigint;
  /** Commands in flight: `paused` events that arrive meanwhile wait for their REPLY to be judged. */
  inFlight: number;
  deferred: number[];
  configured: Promise<void>;
}
interface ThreadState {
  pid: number; tid: number; conn: number; name?: string;
  paused?: { index: number; kind: number; reason: string; stopId: bigint };
  blockedOn?: number;
  exited?: boolean;
}
interface Stop { reason: string; tid: number; focus?: number; text?: string }
type Action =
  | { type: 'step'; tid: number }
  | { type: 'follow'; tid: number; match: (e: TraceEvent) => boolean; what: string; tempKinds: number[] };
interface FrameRef { tid: number; index?: number; kind?: number; pid: number; history?: boolean }
const FAULT_ADDR = argIndex('page_fault', 'addr');
interface FunctionBp { kind: number; condition?: Condition }
/** pyHashes: a Python script's line (the shim matches its Python location: FNV-1a 64 of the path, and of its real path). */
interface SourceBp { file: string; line: number; ranges: LineRange[]; condition?: Condition; pyHashes?: bigint[] }

export class IpcScopeDebugSession extends LoggingDebugSession {
  private collector?: Collector;
  private program?: TracedProcess;
  private model?: TraceModel;
  private resolver?: CallSiteResolver;
  private args?: IpcScopeLaunchArguments;
  private programPath = '';
  private rootPid = 0;
  private conns = new Map<number, ConnState>();
  private threads = new Map<number, ThreadState>();
  private stopped?: Stop;
  /** The last decisions about paused threads and commands, for the `stops` console command (why it stopped or not). */
  private decisions: string[] = [];
  private stopRequest?: Stop;
  private action?: Action;
  private cursor?: number;
  private configDone!: Promise<void>;
  private configDoneResolve!: () => void;
  private frames = new Handles<FrameRef>();
  private vars = new Handles<Var[]>();
  private lineTable?: LineTable | Error;
  private sourceBps = new Map<string, SourceBp[]>();
  private functionBps: FunctionBp[] = [];
  private filters = new Set<string>();
  private entryHandled = false;
  /** The connection of the first image, whose entry stop judgePaused handled. */
  private entryConn?: ConnState;
  private terminated = false;
  private unsubscribe?: () => void;
  private bpId = 1;

  constructor(private readonly hooks: IpcScopeSessionHooks = {}) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.resetConfig();
  }

  private resetConfig(): void {
    this.configDone = new Promise((res) => (this.configDoneResolve = res));
  }

  // ------------------------------------------------------------------ configuration

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsStepBack: true,
      supportsRestartRequest: true,
      supportsTerminateRequest: true,
      supportsEvaluateForHovers: false,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((f) => ({ filter: f.filter, label: f.label, description: f.description, default: false })),
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: IpcScopeLaunchArguments): Promise<void> {
    try {
      this.args = args;
      const cwd = args.cwd ?? process.cwd();
      const prog = isAbsolute(args.program) ? args.program : args.program.includes('/') ? resolvePath(cwd, args.program) : onPath(args.program);
      if (!existsSync(prog)) throw new Error(`program ${prog} does not exist`);
      this.programPath = realpathSync(prog);
      for (const f of args.stopOn ?? []) {
        if (!EXCEPTION_FILTERS.some((d) => d.filter === f)) throw new Error(`stopOn: unknown event class '${f}' (known: ${EXCEPTION_FILTERS.map((d) => d.filter).join(', ')})`);
        this.filters.add(f);
      }
      if (args.stopAt && /\.py$/i.test(args.stopAt.file)) {
        // A Python demo's line (cow.py:48): matched by the shim against the script's Python location.
        const list: SourceBp[] = [], out: DebugProtocol.Breakpoint[] = [];
        this.pythonBreakpoint(resolvePath(args.cwd ?? process.cwd(), args.stopAt.file), { line: args.stopAt.line }, list, out);
        if (list.length) this.sourceBps.set(`stopAt:${args.stopAt.file}`, list);
      } else if (args.stopAt) {
        const t = this.table();
        const r = t instanceof Error ? undefined : rangesForLine(t, args.stopAt.file, args.stopAt.line);
        if (r) this.sourceBps.set(`stopAt:${args.stopAt.file}`, [{ ...r, file: basename(args.stopAt.file) }]);
        else this.log(`stopAt ${args.stopAt.file}:${args.stopAt.line}: ${t instanceof Error ? t.message : 'no code at that line'}`);
      }
      this.sendEvent(new InitializedEvent());
      await this.configDone;
      await this.startProgram();
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, 1, `ipcscope: ${(e as Error).message}`);
      this.sendEvent(new TerminatedEvent());
    }
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.configDoneResolve();
    this.sendResponse(response);
  }

  private async startProgram(): Promise<void> {
    const args = this.args!;
    // Page faults and the page tables after each fork go together: the copy-on-write filter and the page-table panel
    // judge a fault by the state its page had in the snapshot before it.
    const pages = args.pageFaults ?? this.filters.has('cow');
    const collector = await Collector.start({ pageFaults: pages, snapshots: pages, traceFile: args.traceFile,
      meta: { command: [args.program, ...(args.args ?? [])], debug: true } });
    this.collector = collector;
    this.model = new TraceModel(collector.store);
    this.resolver = new CallSiteResolver(this.model, symbolizer());
    collector.on('connection', (info: ConnectionInfo) => this.onConnection(info));
    collector.on('closed', (conn: number) => this.onClosed(conn));
    this.unsubscribe = collector.store.onAppend((first, count) => { for (let i = first; i < first + count; i++) this.onEvent(i); });
    const env = { ...(args.env ?? {}) };
    // pause=2: every image (the first, each one exec'd or spawned later, each fork child) stops at its first traced
    // call, so its breakpoints are in place before it runs on.
    const envFor = collector.envFor.bind(collector);
    collector.envFor = (extra?: NodeJS.ProcessEnv) => { const e = envFor(extra); e.IPCSCOPE = e.IPCSCOPE!.replace('pause=0', 'pause=2'); return e; };
    const program = TracedProcess.launch({ command: this.programPath, args: args.args ?? [], cwd: args.cwd, env, collector, stdio: 'pipe' });
    this.program = program;
    this.rootPid = program.pid;
    program.on('stdout', (d: Buffer) => this.sendEvent(new OutputEvent(d.toString(), 'stdout')));
    program.on('stderr', (d: Buffer) => this.sendEvent(new OutputEvent(d.toString(), 'stderr')));
    this.programDone = false;
    void program.exited.then((x) => {
      if (this.program !== program) return; // a Restart replaced it
      this.programDone = true;
      this.sendEvent(new ExitedEvent(x.code ?? 128));
      void this.maybeTerminated();
    });
    this.hooks.started?.(collector, program, args);
  }

  /** The launched program (its pid) has exited: an exec keeps the pid, so its closing connection is no end. */
  private programDone = false;

  /** paused events of all-stop holds waiting for the event of the thread that caused them (judgePaused). */
  private allStopWaits = new Map<number, number>();

  private async maybeTerminated(): Promise<void> {
    // Ends when the program and every traced descendant are gone.
    if (!this.programDone) return;
    for (let i = 0; i < 100 && this.collector && this.collector.liveConnections().length; i++) await sleep(50);
    if (!this.terminated && this.program) {
      this.terminated = true;
      // A run that ends without ever stopping although breakpoints were set: say so, with the adapter's decisions,
      // rather than leave the user guessing whether the line was reached.
      if (!this.everStopped && (this.functionBps.length || [...this.sourceBps.values()].some((l) => l.length)))
        this.log(`the program ended without stopping at a breakpoint. Stop decisions:\n${this.decisions.slice(-30).join('\n') || '(no thread paused in the shim)'}`);
      this.sendEvent(new TerminatedEvent());
    }
  }

  private onConnection(info: ConnectionInfo): void {
    const st: ConnState = { info, open: true, minGen: 0n, inFlight: 0, deferred: [], configured: Promise.resolve() };
    this.conns.set(info.conn, st);
    this.thread(info.pid, info.tid, info.conn);
    st.configured = this.pushBreakpoints(st).then(async () => {
      // A process that appears while everything is stopped stops too.
      if (this.stopped || this.stopRequest) await this.command(st, 'pause', [BigInt(REASONS.indexOf('allStop'))]);
    }).catch((e) => this.log(`breakpoints for pid ${info.pid}: ${(e as Error).message}`));
  }

  private onClosed(conn: number): void {
    const st = this.conns.get(conn);
    if (st) st.open = false;
    for (const t of this.threads.values()) if (t.conn === conn && !t.exited) { t.exited = true; this.sendEvent(new ThreadEvent('exited', t.tid)); }
    if (this.program && this.collector && !this.collector.liveConnections().length) void this.maybeTerminated();
  }

  private note(msg: string): void {
    const t0 = this.startedAt ?? (this.startedAt = Date.now());
    this.decisions.push(`+${Date.now() - t0} ms ${msg}`);
    if (this.decisions.length > 300) this.decisions.splice(0, 100);
  }
  private startedAt?: number;
  private everStopped = false;

  private log(msg: string): void { this.sendEvent(new OutputEvent(`ipcscope: ${msg}\n`, 'console')); }

  /** Sends a command and keeps the release generation its REPLY reports. */
  private async command(st: ConnState, cmd: string, args: bigint[] = []): Promise<void> {
    if (!st.open || !this.collector) return;
    st.inFlight++;
    try {
      const r = await this.collector.sendCommand(st.info.conn, cmd, args, 10_000);
      const j = r.json as { gen?: number; message?: string };
      if (r.status !== 0) throw new Error(`${cmd}: ${j.message ?? `status ${r.status}`}`);
      if (typeof j.gen === 'number' && BigInt(j.gen) > st.minGen) st.minGen = BigInt(j.gen);
    } catch (e) {
      if (st.open && !this.terminated) this.log(`pid ${st.info.pid}: ${(e as Error).message}`);
      this.note(`pid ${st.info.pid}: ${cmd} failed: ${(e as Error).message}`);
    } finally {
      st.inFlight--;
      if (!st.inFlight && st.deferred.length) { const d = st.deferred.splice(0); for (const i of d) this.judgePaused(i); }
    }
  }

  private liveConns(): ConnState[] { return [...this.conns.values()].filter((c) => c.open); }

  // ------------------------------------------------------------------ breakpoints

  private kindSet(): Set<number> {
    const s = new Set<number>(this.functionBps.map((b) => b.kind));
    for (const f of EXCEPTION_FILTERS) if (this.filters.has(f.filter)) {
      for (const k of f.kinds ?? []) s.add(kindId(k));
      if (f.contended) s.add(CONTENDED_BIT);
    }
    if (this.action?.type === 'follow') for (const k of this.action.tempKinds) s.add(k);
    return s;
  }

  private async pushBreakpoints(st: ConnState): Promise<void> {
    const words = kindWords(this.kindSet());
    await this.command(st, 'set_breakpoints', [0n]);
    for (let i = 0; i < 4; i++) if (words[i]) await this.command(st, 'set_breakpoints', [1n, BigInt(i), words[i]]);
    // Python lines: any image may run the script (python3 itself, or a child it starts).
    for (const list of this.sourceBps.values()) for (const b of list) for (const h of b.pyHashes ?? []) await this.command(st, 'set_breakpoints', [4n, BigInt(b.line), h]);
    // Source ranges are link-time addresses of the launched program: only its own images can use them.
    let exe = '';
    try { exe = realpathSync(st.info.exe); } catch { exe = st.info.exe; }
    if (exe !== this.programPath) return;
    for (const list of this.sourceBps.values()) for (const b of list) for (const r of b.ranges) await this.command(st, 'set_breakpoints', [3n, r.lo, r.hi]);
  }

  private pushAll(): Promise<unknown> { return Promise.all(this.liveConns().map((c) => this.pushBreakpoints(c))); }

  private table(): LineTable | Error {
    if (!this.lineTable) {
      try { this.lineTable = readLineTable(this.programPath); } catch (e) { this.lineTable = e as Error; }
    }
    return this.lineTable;
  }

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    const path = args.source.path ?? args.source.name ?? '';
    const out: DebugProtocol.Breakpoint[] = [];
    const list: SourceBp[] = [];
    const t = /\.py$/i.test(path) ? new Error('') : this.programPath ? this.table() : new Error('the program is not known yet');
    for (const b of args.breakpoints ?? []) {
      if (/\.py$/i.test(path)) { this.pythonBreakpoint(path, b, list, out); continue; }
      if (t instanceof Error) { out.push({ id: this.bpId++, verified: false, line: b.line, message: t.message }); continue; }
      const r = rangesForLine(t, path, b.line);
      if (!r) {
        out.push({ id: this.bpId++, verified: false, line: b.line, message: `${basename(path)}:${b.line} has no code in ${basename(this.programPath)} (built with -g?), so it makes no traced call` });
        continue;
      }
      let condition: Condition | undefined;
      if (b.condition) {
        try { condition = Condition.parse(b.condition); } catch (e) { out.push({ id: this.bpId++, verified: false, line: b.line, message: (e as Error).message }); continue; }
      }
      list.push({ ...r, file: basename(path), condition });
      out.push({ id: this.bpId++, verified: true, line: r.line, message: condition ? `stops at the first traced call this line makes when ${b.condition!.trim()}` : 'stops at the first traced call this line makes' });
    }
    this.sourceBps.set(path, list);
    await this.pushAll();
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override async setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    const out: DebugProtocol.Breakpoint[] = [];
    this.functionBps = [];
    for (const b of args.breakpoints) {
      const k = kindForFunction(b.name);
      if ('error' in k) { out.push({ id: this.bpId++, verified: false, message: k.error }); continue; }
      let condition: Condition | undefined;
      if (b.condition) {
        try { condition = Condition.parse(b.condition); } catch (e) { out.push({ id: this.bpId++, verified: false, message: (e as Error).message }); continue; }
      }
      this.functionBps.push({ kind: k.kind, condition });
      out.push({ id: this.bpId++, verified: true, message: `stops at every ${kindName(k.kind)} event` });
    }
    await this.pushAll();
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override async setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): Promise<void> {
    this.filters = new Set([...(this.args?.stopOn ?? []), ...args.filters]);
    await this.pushAll();
    this.sendResponse(response);
  }

  // ------------------------------------------------------------------ events from the processes

  private thread(pid: number, tid: number, conn: number): ThreadState {
    let t = this.threads.get(tid);
    if (!t || t.pid !== pid) {
      t = { pid, tid, conn };
      this.threads.set(tid, t);
      this.sendEvent(new ThreadEvent('started', tid));
    } else if (t.exited && t.conn !== conn) {
      // The same thread after an exec (its old image's connection closed): alive again in the new image.
      t.exited = false;
      t.paused = t.blockedOn = undefined;
      this.sendEvent(new ThreadEvent('started', tid));
    }
    t.conn = conn;
    return t;
  }

  private onEvent(i: number): void {
    // Column reads first: a busy program sends many events and most need no object.
    const store = this.collector!.store;
    const kind = store.kindAt(i), phase = store.phaseAt(i), pid = store.pidAt(i), tid = store.tidAt(i);
    let t = this.threads.get(tid);
    if (!t || t.pid !== pid || kind === K.procStart) t = this.thread(pid, tid, store.get(i).conn);
    if (kind === K.paused) {
      const e = store.get(i);
      t.paused = { index: i, kind: Number(e.args[0]), reason: REASONS[Number(e.args[1])] ?? 'pause', stopId: e.args[2] };
      const st = this.conns.get(e.conn);
      if (st && st.inFlight) st.deferred.push(i);
      else this.judgePaused(i);
      return;
    }
    if (kind === K.resumed) {
      if (t.paused && t.paused.stopId === store.argAt(i, 0)) t.paused = undefined;
      return;
    }
    if (kind === K.threadExit) { t.exited = true; this.sendEvent(new ThreadEvent('exited', t.tid)); return; }
    if (phase === PHASE.begin && kindById(kind)?.blocking) {
      t.blockedOn = i;
      if (this.filters.has('deadlock') && !this.stopped) this.scheduleDeadlockCheck();
    }
    else if (phase === PHASE.end && t.blockedOn !== undefined) t.blockedOn = undefined;
    if (this.stopped) return;
    // Follow a message / step out: the matching event stops everything.
    const a = this.action;
    if (a?.type === 'follow') {
      const e = store.get(i);
      if (a.match(e)) { this.requestStop({ reason: 'step', tid: e.tid, focus: i, text: a.what }); return; }
    }
    if (this.filters.size && this.watchKinds().has(kind)) this.watchFilters(store.get(i), i);
  }

  private deadlockTimer?: NodeJS.Timeout;
  /** The deadlock filter: after a thread blocks, the model's wait-for graph (a little later, so the other side's
   * events are in). Threads in a cycle never reach another traced call, so the stop is reported at once. */
  private scheduleDeadlockCheck(): void {
    this.deadlockTimer ??= setTimeout(() => {
      this.deadlockTimer = undefined;
      if (this.stopped || !this.model || this.terminated) return;
      this.model.update({ flush: true });
      const d = waitForGraph(this.model).deadlocks[0];
      if (!d) return;
      const w = d.waits[0];
      const text = `Deadlock detected: ${d.waits.map((x) => `${x.pid}/${x.tid} waits in ${kindName(x.kind)}`).join(' → ')}`;
      this.requestStop({ reason: 'exception', tid: w.tid, focus: w.begin, text });
      if (!this.stopped) this.reportStop({ reason: 'exception', tid: w.tid, focus: w.begin, text });
    }, 200);
  }

  private watchKindSet?: { filters: Set<string>; kinds: Set<number> };
  private watchKinds(): Set<number> {
    if (this.watchKindSet?.filters !== this.filters) {
      const kinds = new Set<number>();
      for (const f of EXCEPTION_FILTERS) if (this.filters.has(f.filter)) for (const n of f.watch ?? []) kinds.add(kindId(n));
      this.watchKindSet = { filters: this.filters, kinds };
    }
    return this.watchKindSet.kinds;
  }

  private watchFilters(e: TraceEvent, i: number): void {
    if (!this.filters.size) return;
    const name = kindById(e.kind)?.name ?? '';
    for (const f of EXCEPTION_FILTERS) {
      if (!this.filters.has(f.filter) || !f.watch?.includes(name)) continue;
      if (e.phase === PHASE.end && name !== 'exec') continue;
      if (f.filter === 'cow') { this.queueCow(i); continue; }
      this.requestStop({ reason: 'exception', tid: e.tid, focus: i, text: f.label });
      return;
    }
  }

  /** Page faults waiting for the copy-on-write verdict: a fault can arrive before the page-table snapshot its process
   * took at the fork (perf samples and the snapshot travel separately), so the verdict waits for the snapshot. */
  private cowQueue: { index: number; since: number }[] = [];
  private cowTimer?: NodeJS.Timeout;

  private queueCow(i: number): void {
    if (!this.judgeOneCow(i, Date.now())) return;
    if (this.cowQueue.length < 100_000) this.cowQueue.push({ index: i, since: Date.now() });
    this.cowTimer ??= setTimeout(() => this.judgeCowQueue(), 20);
  }

  /** False when decided (a stop was requested, or it was no copy-on-write break); true when it must wait. */
  private judgeOneCow(i: number, since: number): boolean {
    const store = this.collector?.store;
    if (!store || this.stopped || this.stopRequest || this.terminated) return false;
    this.model!.update();
    const e = store.get(i);
    const verdict = this.cowFault(e, Date.now() - since > 1000);
    if (verdict === undefined) return true;
    if (verdict) {
      this.cowQueue = [];
      this.requestStop({ reason: 'exception', tid: e.tid, focus: i, text: EXCEPTION_FILTERS.find((f) => f.filter === 'cow')!.label });
    }
    return false;
  }

  private judgeCowQueue(): void {
    this.cowTimer = undefined;
    const waiting = this.cowQueue;
    this.cowQueue = [];
    for (let k = 0; k < waiting.length; k++) {
      if (this.judgeOneCow(waiting[k].index, waiting[k].since)) this.cowQueue.push(waiting[k]);
      else if (this.stopRequest || this.stopped || this.terminated) { this.cowQueue = []; return; }
    }
    if (this.cowQueue.length) this.cowTimer = setTimeout(() => this.judgeCowQueue(), 20);
  }

  /** Was this fault a copy-on-write break? Only a process that shares pages with a relative can have one (a fork
   * child of a traced parent, or a parent with live children). Then exact where a page-table snapshot (taken after
   * every fork) covers the page: it was shared just before the fault; a fault outside the snapshotted mappings is
   * not one we can show. Undefined while the process's snapshot may still be on its way; after `late` without any
   * snapshot (snapshots off), the relative alone decides. */
  private cowFault(e: TraceEvent, late: boolean): boolean | undefined {
    const m = this.model!;
    const p = m.processes.get(e.pid);
    if (!p) return late ? false : undefined;
    const forkedBy = m.processes.get(p.ppid);
    const related = (forkedBy?.children.includes(e.pid) && p.startNs <= e.ts) || p.children.some((k) => { const c = m.processes.get(k); return !!c && c.startNs <= e.ts && (c.endNs === undefined || c.endNs > e.ts); });
    if (!related) return false;
    const known = m.pages.stateBefore(e.pid, e.args[FAULT_ADDR], e.ts);
    if (known !== undefined) return known === 2;
    if (m.pages.trackList(e.pid).length) return false;
    return late ? true : undefined;
  }

  /** Decides what a `paused` event means: a new stop, part of the current all-stop, or a stop to skip. */
  private judgePaused(i: number): void {
    const e = this.collector!.store.get(i);
    const st = this.conns.get(e.conn);
    const t = this.threads.get(e.tid)!;
    const what = `#${i} pid ${e.pid} tid ${e.tid} paused (${t.paused?.index === i ? t.paused.reason : '?'}) at ${kindName(Number(e.args[0]))}`;
    if (!t.paused || t.paused.index !== i) { this.note(`${what}: already resumed`); return; }
    // Stopped before our last release: already running again.
    if (st && (e.args[2] >> 32n) < st.minGen) { this.note(`${what}: generation ${e.args[2] >> 32n} < ${st.minGen}, released since`); return; }
    const reason = t.paused.reason;
    this.note(what);
    if (reason === 'entry' && this.entryHandled) {
      // Other threads held by the first image's entry stop (created before its first traced call) belong to it.
      // A later image (exec, spawn, fork) holds at its first traced call until its breakpoints are in place: release it.
      if (st && st !== this.entryConn) void this.imageEntry(st, t, i);
      return;
    }
    if (reason === 'entry' && !this.entryHandled && e.pid === this.rootPid) {
      this.entryHandled = true;
      this.entryConn = st;
      void (async () => {
        await st?.configured;
        if (this.args?.stopOnEntry) { this.reportStop({ reason: 'entry', tid: e.tid }); return; }
        if (this.stopped) return;
        const bp = this.entryBreakpoint(t, e.pid, e.tid);
        if (bp) this.reportStop({ reason: bp, tid: e.tid });
        else { this.note('entry: no breakpoint on the first call, resuming'); await this.resumeAll(); }
      })();
      return;
    }
    if (this.stopped) { this.note('  joins the all-stop'); return; }
    if (this.stopRequest) { this.reportStop(this.stopRequest.tid ? this.stopRequest : { ...this.stopRequest, tid: e.tid }); return; }
    const a = this.action;
    if (reason === 'step' && a?.type === 'step' && a.tid === e.tid) { this.reportStop({ reason: 'step', tid: e.tid }); return; }
    if (reason === 'kind') {
      const kind = t.paused.kind;
      if (a?.type === 'follow' && a.tempKinds.includes(kind)) { this.reportStop({ reason: 'step', tid: e.tid, text: a.what }); return; }
      const filter = EXCEPTION_FILTERS.find((f) => this.filters.has(f.filter) && (f.kinds?.includes(kindName(kind)) || (f.contended && this.isContended(t))));
      const fbs = this.functionBps.filter((b) => b.kind === kind);
      if (fbs.length) {
        const pending = this.pendingEvent(t);
        const ctx = { args: pending ? namedArgs(pending) : new Map<string, bigint>(), pid: e.pid, tid: e.tid, rootPid: this.rootPid };
        // Unknown arguments (the call emits its event after the pause point) count as a match: better one stop too many.
        if (fbs.some((b) => !b.condition || b.condition.test(ctx) !== false)) { this.reportStop({ reason: 'function breakpoint', tid: e.tid }); return; }
        if (!filter) { this.note('  function breakpoint condition false: released'); if (st) void this.release(st); return; }
      }
      if (filter) { this.reportStop({ reason: 'exception', tid: e.tid, text: filter.label }); return; }
      this.note('  a kind nobody asks for now: released');
      if (st) void this.release(st);
      return;
    }
    if (reason === 'breakpoint') {
      if (this.sourceConditionHolds(t, e.pid, e.tid)) this.reportStop({ reason: 'breakpoint', tid: e.tid });
      else { this.note('  breakpoint condition false: released'); if (st) void this.release(st); }
      return;
    }
    if (reason === 'allStop' && !this.stopRequest) {
      // Held because another thread of its process stopped in the shim (a breakpoint, a filter, a step): that
      // thread's paused event names the reason but may be drained after this one. Judge that one, or wait for it.
      const cause = [...this.threads.values()].find((o) => o !== t && o.conn === t.conn && !o.exited && o.paused && o.paused.reason !== 'allStop' && o.paused.reason !== 'entry');
      if (cause) { this.judgePaused(cause.paused!.index); return; }
      const tries = (this.allStopWaits.get(i) ?? 0) + 1;
      if (tries <= 10) { this.allStopWaits.set(i, tries); setTimeout(() => this.judgePaused(i), 50).unref(); return; }
    }
    if (reason === 'allStop' || reason === 'pause') { this.reportStop({ reason: 'pause', tid: e.tid }); return; }
    this.reportStop({ reason, tid: e.tid });
  }

  /** A later image held at its first traced call: a breakpoint on that call stops, otherwise it runs on once its
   * breakpoints are in place. While everything is stopped it stays held; Continue releases it with the rest. */
  private async imageEntry(st: ConnState, t: ThreadState, i: number): Promise<void> {
    await st.configured;
    if (t.paused?.index !== i) return;
    if (this.stopped || this.stopRequest) { this.note('  a new image joins the all-stop'); return; }
    const bp = this.entryBreakpoint(t, t.pid, t.tid);
    if (bp) { this.reportStop({ reason: bp, tid: t.tid }); return; }
    this.note('  new image: no breakpoint on its first call, released');
    await this.release(st);
  }

  private isContended(t: ThreadState): boolean {
    const p = this.pendingEvent(t);
    return !!p && p.kind === K.mutexLock && p.phase === PHASE.begin;
  }

  /** The begin event of the call a paused thread is held before (searched back a little), if it emitted one. */
  private pendingEvent(t: ThreadState): TraceEvent | undefined {
    const store = this.collector!.store;
    const stop = t.paused?.index ?? t.blockedOn;
    if (stop === undefined) return undefined;
    if (!t.paused) return store.get(stop);
    for (let i = stop - 1, n = 0; i >= 0 && n < 5000; i--, n++) {
      if (store.tidAt(i) !== t.tid || store.pidAt(i) !== t.pid) continue;
      const k = store.kindAt(i);
      if (k === K.paused || k === K.resumed) return undefined;
      if (k === t.paused.kind && store.phaseAt(i) === PHASE.begin) return store.get(i);
      return undefined; // the thread's last event is something else: the call emits its event after the pause point
    }
    return undefined;
  }

  /** A thread the shim stopped at a source line: does one of the breakpoints on the lines of its stack hold? The
   * shim matches address ranges only; conditions (`fd == 4`, `pid == child`) are judged here, on the pending call's
   * arguments. An unknown argument counts as a match (one stop too many beats a missed one). */
  private sourceConditionHolds(t: ThreadState, pid: number, tid: number): boolean {
    const all = [...this.sourceBps.values()].flat();
    if (!all.some((b) => b.condition)) return true;
    const lines = this.stopLines(t, pid);
    const hit = all.filter((b) => lines.has(`${b.file}:${b.line}`));
    if (!hit.length) return true; // the shim matched a range the resolver places elsewhere (inlined code): stop
    const ctx = this.conditionContext(t, pid, tid);
    return hit.some((b) => !b.condition || b.condition.test(ctx) !== false);
  }

  /** file:line of every frame of a paused thread's stack (and its Python line), as breakpoints name them. */
  private stopLines(t: ThreadState, pid: number): Set<string> {
    const store = this.collector!.store;
    this.model!.update({ flush: true }); // the process's mappings, for the resolver
    const paused = store.get(t.paused!.index);
    const addrs = paused.blob ? readAddrs(paused.blob) : [paused.caller];
    const lines = new Set(this.resolver!.resolve(pid, addrs).filter((s) => s.file && s.line).map((s) => `${basename(s.file!)}:${s.line}`));
    const py = this.model!.pythonLocation(t.paused!.index);
    if (py) lines.add(`${basename(py.file)}:${py.line}`);
    return lines;
  }

  private conditionContext(t: ThreadState, pid: number, tid: number) {
    const pending = this.pendingEvent(t);
    return { args: pending ? namedArgs(pending) : new Map<string, bigint>(), pid, tid, rootPid: this.rootPid };
  }

  /** The entry stop holds the program at its first traced call; releasing it would pass over a breakpoint on that
   * very call (the shim checks breakpoints once, before it held the thread for the entry). */
  private entryBreakpoint(t: ThreadState, pid: number, tid: number): 'breakpoint' | 'function breakpoint' | undefined {
    if (!t.paused) return undefined;
    const ctx = this.conditionContext(t, pid, tid);
    if (this.functionBps.some((b) => b.kind === t.paused!.kind && (!b.condition || b.condition.test(ctx) !== false))) return 'function breakpoint';
    const all = [...this.sourceBps.values()].flat();
    if (!all.length) return undefined;
    const lines = this.stopLines(t, pid);
    return all.some((b) => lines.has(`${b.file}:${b.line}`) && (!b.condition || b.condition.test(ctx) !== false)) ? 'breakpoint' : undefined;
  }

  private requestStop(s: Stop): void {
    if (this.stopped || this.stopRequest) return;
    this.stopRequest = s;
    const pausedAlready = [...this.threads.values()].find((t) => t.paused && !t.exited && this.conns.get(t.conn)?.open);
    for (const c of this.liveConns()) void this.command(c, 'pause', [BigInt(REASONS.indexOf(s.reason === 'pause' ? 'pause' : 'allStop'))]);
    if (pausedAlready) { this.reportStop(s.tid ? s : { ...s, tid: pausedAlready.tid }); return; }
    // Threads blocked in a call (or all gone) never reach a traced call to pause at: report the stop anyway, with
    // them shown blocked, rather than never.
    setTimeout(() => {
      if (this.stopRequest !== s || this.stopped || this.terminated) return;
      const any = [...this.threads.values()].find((t) => !t.exited) ?? [...this.threads.values()][0];
      this.reportStop(s.tid || !any ? s : { ...s, tid: any.tid });
    }, 500).unref();
  }

  private reportStop(s: Stop): void {
    if (this.stopped) return;
    this.note(`stop reported: ${s.reason} on tid ${s.tid}${s.text ? ` (${s.text})` : ''}`);
    const hadTempKinds = this.action?.type === 'follow' && this.action.tempKinds.length > 0;
    this.stopped = s;
    this.everStopped = true;
    this.stopRequest = undefined;
    this.action = undefined;
    this.cursor = undefined;
    // All-stop across processes: everyone else stops at their next traced call. Then each process's page table as
    // paused, for the page-table panel; sent after the pause REPLY so the snapshot shows the process as held.
    for (const c of this.liveConns()) void this.command(c, 'pause', [BigInt(REASONS.indexOf('allStop'))]).then(() => this.snapshotAtStop(c, s));
    if (hadTempKinds) void this.pushAll();
    this.model!.update({ flush: true });
    const ev = new StoppedEvent(s.reason, s.tid, s.text) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    if (s.text) ev.body.description = s.text;
    this.sendEvent(ev);
    const idx = s.focus ?? this.threads.get(s.tid)?.paused?.index;
    if (idx !== undefined && idx < this.collector!.store.count) {
      const ts = this.collector!.store.tsAt(idx);
      this.hooks.cursor?.(idx, ts);
      // The editor's timeline follows every stop, not only Step Back (src/host/debug/register.ts reveals it).
      this.sendEvent(new Event('ipcScope.cursor', { index: idx, ts: ts.toString(), history: false }));
    }
  }

  /** Fire-and-forget: the shim's sender thread answers while program threads are held, so this cannot wait on them. */
  private snapshotAtStop(st: ConnState, s: Stop): void {
    if (!st.open || this.stopped !== s || !this.collector) return;
    this.collector.sendCommand(st.info.conn, 'snapshot', [BigInt(SNAPSHOT_PAUSE)], 10_000)
      .catch((e) => { if (st.open && !this.terminated) this.log(`pid ${st.info.pid}: snapshot at stop: ${(e as Error).message}`); });
  }

  /** Lets one process go on after a stop nobody is shown (a condition that did not hold), keeping a pending step of
   * one of its threads. */
  private release(st: ConnState): Promise<void> {
    const a = this.action;
    if (a?.type === 'step' && this.threads.get(a.tid)?.conn === st.info.conn) return this.command(st, 'step', [BigInt(a.tid), 0n]);
    return this.command(st, 'resume');
  }

  private async resumeAll(except?: ConnState, step?: { st: ConnState; tid: number; only: boolean }): Promise<void> {
    this.stopped = undefined;
    this.cursor = undefined;
    this.frames.reset();
    this.vars.reset();
    const tasks = this.liveConns().map((c) => {
      if (c === except) return Promise.resolve();
      if (step && c === step.st) return this.command(c, 'step', [BigInt(step.tid), step.only ? 1n : 0n]);
      return this.command(c, 'resume');
    });
    await Promise.all(tasks);
  }

  // ------------------------------------------------------------------ execution control

  protected override async continueRequest(response: DebugProtocol.ContinueResponse): Promise<void> {
    this.action = undefined;
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
    await this.resumeAll();
  }

  protected override async nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    this.sendResponse(response);
    if (this.cursor !== undefined) { this.moveCursor(+1); return; }
    await this.stepThread(args.threadId, !!args.singleThread);
  }

  private async stepThread(tid: number, only: boolean): Promise<void> {
    const t = this.threads.get(tid);
    const st = t && this.conns.get(t.conn);
    if (!t || !st || !st.open) { await this.resumeAll(); return; }
    this.action = { type: 'step', tid };
    await this.resumeAll(undefined, { st, tid, only });
  }

  protected override async stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    this.sendResponse(response);
    if (this.cursor !== undefined) { this.moveCursor(+1); return; }
    const t = this.threads.get(args.threadId);
    const follow = t && this.followFor(t);
    if (!t || !follow) { await this.stepThread(args.threadId, false); return; }
    this.action = follow;
    if (follow.tempKinds.length) await this.pushAll();
    await this.resumeAll();
  }

  /** Step Into: where the pending call's message goes. After a write, the read that consumes those bytes in another
   * thread or process; after kill/raise, the handler; after an unlock or a post, the next acquisition. */
  private followFor(t: ThreadState): Extract<Action, { type: 'follow' }> | undefined {
    const kind = t.paused?.kind ?? -1;
    const p = this.pendingEvent(t);
    const since = t.paused?.index ?? 0;
    const tid = t.tid;
    if (kind === K.write && p) {
      const a = namedArgs(p), dev = a.get('dev'), ino = a.get('ino');
      if (!ino) return undefined;
      return { type: 'follow', tid, tempKinds: [], what: `the read of the bytes written by pid ${t.pid}`,
        match: (e) => e.index > since && e.kind === K.read && e.phase !== PHASE.begin && e.result > 0n && e.tid !== tid
          && e.args[3] === dev && e.args[4] === ino };
    }
    if (kind === K.kill || kind === K.tgkill || kind === K.sigqueue || kind === K.raise)
      return { type: 'follow', tid, tempKinds: [K.handler], what: 'the signal handler', match: (e) => e.index > since && e.kind === K.handler && e.phase === PHASE.begin };
    if (kind === K.mutexUnlock || kind === K.semPost) {
      const addr = p?.args[0] ?? undefined;
      const want = kind === K.mutexUnlock ? K.mutexLock : K.semWait;
      return { type: 'follow', tid, tempKinds: [], what: 'the next acquisition',
        match: (e) => e.index > since && e.kind === want && e.phase !== PHASE.begin && e.tid !== tid && (addr === undefined || e.args[0] === addr) };
    }
    if (kind === K.mqSend)
      return { type: 'follow', tid, tempKinds: [], what: 'the receive of the message', match: (e) => e.index > since && e.kind === K.mqReceive && e.phase !== PHASE.begin && e.tid !== tid };
    return undefined;
  }

  protected override async stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    this.sendResponse(response);
    const t = this.threads.get(args.threadId);
    const kind = t?.paused?.kind ?? (t?.blockedOn !== undefined ? this.collector!.store.kindAt(t.blockedOn) : undefined);
    if (!t || kind === undefined) { await this.resumeAll(); return; }
    const since = t.paused?.index ?? t.blockedOn ?? 0;
    this.action = { type: 'follow', tid: t.tid, tempKinds: [], what: `${kindName(kind)} returned`,
      match: (e) => e.index > since && e.tid === t.tid && e.kind === kind && e.phase !== PHASE.begin };
    await this.resumeAll();
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    if (this.stopped) return;
    this.requestStop({ reason: 'pause', tid: 0 });
  }

  // Step Back / Reverse Continue: a cursor through the recorded history; the processes stay as they are.
  private interesting(i: number): boolean {
    const store = this.collector!.store;
    const k = kindById(store.kindAt(i));
    return !!k && k.cls !== 'meta' && k.name !== 'page_fault' && k.name !== 'page_snapshot' && store.phaseAt(i) !== PHASE.end;
  }

  private moveCursor(dir: 1 | -1, untilKinds?: Set<number>): void {
    const store = this.collector!.store;
    const live = this.stopped?.focus ?? this.threads.get(this.stopped?.tid ?? -1)?.paused?.index ?? store.count;
    let i = this.cursor ?? live;
    for (;;) {
      i += dir;
      if (i < 0) { i = this.firstInteresting(); break; }
      if (i >= live) { this.cursor = undefined; break; }
      if (this.interesting(i) && (!untilKinds || untilKinds.has(store.kindAt(i)))) { this.cursor = i; break; }
    }
    if (i < 0) this.cursor = undefined;
    this.frames.reset();
    this.vars.reset();
    const at = this.cursor;
    const tid = at !== undefined ? store.tidAt(at) : this.stopped?.tid ?? 0;
    if (at !== undefined) this.threads.get(tid) ?? this.thread(store.pidAt(at), tid, store.get(at).conn);
    const ev = new StoppedEvent('step', tid, at !== undefined ? 'history' : undefined) as DebugProtocol.StoppedEvent;
    ev.body.allThreadsStopped = true;
    ev.body.description = at !== undefined ? `history: event ${at}` : 'back at the live stop';
    this.sendEvent(ev);
    const idx = at ?? live;
    if (idx < store.count) {
      this.hooks.cursor?.(idx, store.tsAt(idx));
      this.sendEvent(new Event('ipcScope.cursor', { index: idx, ts: store.tsAt(idx).toString(), history: at !== undefined }));
    }
  }

  private firstInteresting(): number {
    const n = this.collector!.store.count;
    for (let i = 0; i < n; i++) if (this.interesting(i)) return i;
    return -1;
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.sendResponse(response);
    if (!this.stopped) return;
    this.moveCursor(-1);
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.sendResponse(response);
    if (!this.stopped) return;
    const kinds = new Set(this.functionBps.map((b) => b.kind));
    this.moveCursor(-1, kinds.size ? kinds : new Set([-1]));
    if (this.cursor === undefined) this.moveCursor(-1); // nothing matched: to the start of the trace
  }

  // ------------------------------------------------------------------ what is shown

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    if (this.stopped) await this.settleAllStop();
    const list: Thread[] = [];
    for (const t of this.threads.values()) {
      if (t.exited) continue;
      list.push(new Thread(t.tid, this.threadName(t)));
    }
    if (!list.length) list.push(new Thread(this.rootPid || 1, `pid ${this.rootPid} (starting)`));
    response.body = { threads: list };
    this.sendResponse(response);
  }

  /**
   * While stopped, lets the all-stop reach what it is about to reach before the thread list is drawn: a child forked
   * just before the stop that has not connected yet (it stops at its first traced call once it does), and threads
   * still on their way to their next traced call. Bounded: a thread busy outside traced calls never gets there.
   */
  private async settleAllStop(): Promise<void> {
    const m = this.model;
    if (!m) return;
    m.update({ flush: true });
    const connected = new Set([...this.conns.values()].filter((c) => c.open).map((c) => c.info.pid));
    // Only children forked in the last second of the trace: one that never connects (an exec of a static binary)
    // must not slow every later stop.
    const store = this.collector!.store;
    const recent = store.count ? store.tsAt(store.count - 1) - 1_000_000_000n : 0n;
    const unconnected = () => [...m.processes.values()].some((p) => p.endNs === undefined && p.startNs >= recent && connected.has(p.ppid) && !this.seenPid(p.pid));
    const running = () => [...this.threads.values()].some((t) => !t.exited && !t.paused && t.blockedOn === undefined && this.conns.get(t.conn)?.open);
    const until = Date.now() + 1000, runningUntil = Date.now() + 250;
    while (this.stopped && !this.terminated && Date.now() < until && (unconnected() || (Date.now() < runningUntil && running()))) await sleep(10);
  }

  private seenPid(pid: number): boolean {
    for (const c of this.conns.values()) if (c.info.pid === pid) return true;
    return false;
  }

  private role(pid: number): string {
    if (pid === this.rootPid) return basename(this.programPath) || 'main';
    const info = [...this.conns.values()].reverse().find((c) => c.info.pid === pid)?.info;
    if (info && info.origin === 'exec') return basename(info.exe);
    return 'child';
  }

  private threadName(t: ThreadState): string {
    let state = 'running';
    if (t.paused) state = `paused at ${kindName(t.paused.kind)}`;
    else if (t.blockedOn !== undefined) {
      const b = this.collector!.store.get(t.blockedOn);
      state = `blocked in ${callLabel(b, b.kind)}`;
    }
    return `pid ${t.pid} ${this.role(t.pid)} · tid ${t.tid} — ${state}`;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const t = this.threads.get(args.threadId);
    const frames: StackFrame[] = [];
    const store = this.collector?.store;
    if (t && store) {
      if (this.cursor !== undefined && store.tidAt(this.cursor) === t.tid) {
        const e = store.get(this.cursor);
        frames.push(this.frameFor({ tid: t.tid, pid: t.pid, index: e.index, kind: e.kind, history: true }, `⟲ ${callLabel(e, e.kind)}`, [e.caller]));
      } else {
        if (this.stopped?.focus !== undefined && this.stopped.tid === t.tid) {
          const e = store.get(this.stopped.focus);
          frames.push(this.frameFor({ tid: t.tid, pid: t.pid, index: e.index, kind: e.kind }, `${callLabel(e, e.kind)}${this.stopped.text ? ` — ${this.stopped.text}` : ''}`, [e.caller]));
        }
        if (t.paused) {
          const pe = this.pendingEvent(t);
          const paused = store.get(t.paused.index);
          const addrs = paused.blob ? readAddrs(paused.blob) : [paused.caller];
          // A handler's "caller" is the handler itself (its entry, not a return address): resolve it as one.
          if (t.paused.kind === K.handler && addrs.length) addrs[0] += 1n;
          frames.push(...this.framesFor({ tid: t.tid, pid: t.pid, index: pe?.index, kind: t.paused.kind }, callLabel(pe, t.paused.kind), addrs, t.paused.index));
        } else if (t.blockedOn !== undefined) {
          const b = store.get(t.blockedOn);
          frames.push(this.frameFor({ tid: t.tid, pid: t.pid, index: b.index, kind: b.kind }, `${callLabel(b, b.kind)} (blocked)`, [b.caller]));
        } else if (!frames.length) {
          frames.push(new StackFrame(this.frames.create({ tid: t.tid, pid: t.pid }), 'running (between traced calls)'));
        }
      }
    }
    const start = args.startFrame ?? 0, levels = args.levels ?? frames.length;
    response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private frameFor(ref: FrameRef, label: string, addrs: bigint[]): StackFrame { return this.framesFor(ref, label, addrs)[0]; }

  /**
   * The call as the top frame at its caller's line, then the caller's callers, symbolized. A Python target's top frame
   * is its Python file:line (the thread's python_location before event `at`, default the frame's event) instead of
   * libpython's C code.
   */
  private framesFor(ref: FrameRef, label: string, addrs: bigint[], at = ref.index): StackFrame[] {
    const sites = this.resolver!.resolve(ref.pid, addrs.length ? addrs : [0n])
      .filter((s, k) => k === 0 || !s.binary?.endsWith('libipcscope.so')); // the shim's own frames (its main wrapper)
    const py = at !== undefined ? this.pythonSite(at) : undefined;
    if (py) sites[0] = { address: sites[0].address, file: py.file, line: py.line, source: 'python', text: `${py.file}:${py.line}` };
    return sites.map((s, k) => {
      const f = new StackFrame(this.frames.create(k === 0 ? ref : { tid: ref.tid, pid: ref.pid }), k === 0 ? label : (s.function ?? s.text));
      if (s.file && s.line && existsSync(s.file)) {
        f.source = new Source(basename(s.file), this.convertDebuggerPathToClient(s.file));
        f.line = this.convertDebuggerLineToClient(s.line);
        f.column = 1;
      } else (f as DebugProtocol.StackFrame).presentationHint = 'subtle';
      return f;
    });
  }

  /** A breakpoint on a line of a Python script: the shim stops the first traced call made from it (no line table). */
  private pythonBreakpoint(clientPath: string, b: DebugProtocol.SourceBreakpoint, list: SourceBp[], out: DebugProtocol.Breakpoint[]): void {
    // A remote client (code-server) names sources by URI (vscode-remote://host/abs/path): the shim knows the path.
    let path = clientPath;
    if (/^[a-z][\w+.-]*:\/\//i.test(path)) try { path = decodeURIComponent(new URL(path).pathname); } catch { /* keep it */ }
    let condition: Condition | undefined;
    if (b.condition) {
      try { condition = Condition.parse(b.condition); } catch (e) { out.push({ id: this.bpId++, verified: false, line: b.line, message: (e as Error).message }); return; }
    }
    const paths = new Set([resolvePath(path)]);
    try { paths.add(realpathSync(path)); } catch { /* not there (yet): its own name only */ }
    list.push({ file: basename(path), line: b.line, ranges: [], condition, pyHashes: [...paths].map(fnv1a64) });
    out.push({ id: this.bpId++, verified: true, line: b.line, message: condition ? `stops at the first traced call this line makes when ${b.condition!.trim()}` : 'stops at the first traced call this line makes' });
  }

  /** The Python file:line event `index` was made from, when its thread sent one (Python targets). */
  private pythonSite(index: number): { file: string; line: number } | undefined {
    if (!this.model || index >= this.model.source.count) return undefined;
    this.model.update({ flush: true }); // the python_location just before the stop may not be in the model yet
    return this.model.pythonLocation(index);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const ref = this.frames.get(args.frameId);
    const scopes: Scope[] = [];
    if (ref && this.collector) {
      this.model!.update({ flush: true });
      if (ref.index !== undefined) scopes.push(new Scope(`Call: ${kindName(ref.kind ?? 0)}`, this.vars.create(this.callVars(ref)), false));
      else if (ref.kind !== undefined) scopes.push(new Scope(`Call: ${kindName(ref.kind)}`, this.vars.create([{ name: 'arguments', value: 'recorded when the call runs (this call emits its event after the pause point)' }]), false));
      scopes.push(new Scope(`Process ${ref.pid}`, this.vars.create(this.processVars(ref.pid)), false));
      scopes.push(new Scope('Locks', this.vars.create(this.lockVars()), false));
    }
    response.body = { scopes };
    this.sendResponse(response);
  }

  private fdObject(pid: number, fd: number): string | undefined {
    const p = this.model!.processAt(pid, this.nowNs());
    const f = p?.fds.find((x) => x.fd === fd && x.to === undefined);
    if (!f) return undefined;
    return `${this.objectLabel(f.object)} (${f.end})`;
  }

  /** `pipe:[81234]` (the kernel's own spelling) for unnamed objects, the name otherwise. */
  private objectLabel(key: string): string {
    const o = this.model!.objects.get(key);
    if (o?.name) return o.name;
    const ino = /(\d+)$/.exec(key)?.[1];
    return o && ino ? `${o.type}:[${ino}]` : key;
  }

  private nowNs(): bigint {
    const s = this.collector!.store;
    return s.count ? s.tsAt(s.count - 1) + 1n : 0n;
  }

  private callVars(ref: FrameRef): Var[] {
    const e = this.collector!.store.get(ref.index!);
    const vars = callVariables(e, (fd) => this.fdObject(e.pid, fd));
    vars.unshift({ name: 'call', value: callLabel(e, e.kind) }, { name: 'pid', value: `${e.pid} (${this.role(e.pid)})` }, { name: 'tid', value: String(e.tid) });
    if (e.kind === K.mutexLock) {
      const l = this.model!.locks.get(this.model!.lockKey(e.pid, e.args[0]));
      const holders = l ? [...l.holders.values()].filter((h) => h.tid !== e.tid) : [];
      vars.push({ name: 'holder', value: holders.length ? holders.map((h) => `pid ${h.pid} tid ${h.tid}`).join(', ') : '(free)' });
    }
    if (ref.history) vars.push({ name: 'history', value: `event ${e.index} at ${e.ts} ns (the processes are still where they stopped)` });
    return vars;
  }

  private processVars(pid: number): Var[] {
    const p = this.model!.processAt(pid, this.nowNs());
    const fds: Var[] = (p?.fds ?? []).filter((f) => f.to === undefined).sort((a, b) => a.fd - b.fd)
      .map((f) => ({ name: `fd ${f.fd}`, value: `${this.objectLabel(f.object)} (${f.end}, ${f.how}${f.cloexec ? ', cloexec' : ''})` }));
    const info = this.model!.processes.get(pid);
    return [
      { name: 'command', value: info ? info.argv.join(' ') : '?' },
      { name: 'parent', value: String(info?.ppid ?? '?') },
      { name: 'fds', value: `${fds.length} open`, children: fds },
      { name: 'signals', value: '/proc status', children: procSignals(pid) },
      { name: 'pages', value: 'shared / private', children: procPages(pid) },
    ];
  }

  private lockVars(): Var[] {
    const out: Var[] = [];
    for (const [key, l] of this.model!.locks) {
      if (!l.holders.size) continue;
      out.push({ name: l.stats.name || key, value: `held by ${[...l.holders.values()].map((h) => `pid ${h.pid} tid ${h.tid}`).join(', ')}` });
    }
    for (const t of this.threads.values()) {
      if (t.exited || t.blockedOn === undefined) continue;
      const b = this.collector!.store.get(t.blockedOn);
      if (kindById(b.kind)?.cls === 'lock') out.push({ name: `tid ${t.tid} waits`, value: callLabel(b, b.kind) });
    }
    if (!out.length) out.push({ name: 'locks', value: '(none held)' });
    return out;
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const list = this.vars.get(args.variablesReference) ?? [];
    response.body = { variables: list.map((v) => ({ name: v.name, value: v.value, variablesReference: v.children?.length ? this.vars.create(v.children) : 0 })) };
    this.sendResponse(response);
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    try {
      response.body = { result: this.console(args.expression.trim()), variablesReference: 0 };
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, 2, (e as Error).message);
    }
  }

  /** Debug console commands, answered from the trace model. */
  private console(cmd: string): string {
    if (!this.collector) throw new Error('no program is running');
    this.model!.update({ flush: true });
    const [word, ...rest] = cmd.split(/\s+/);
    const store = this.collector.store;
    if (word === 'events') {
      const n = Math.min(Number(rest[0] ?? 20) || 20, 500);
      const lines: string[] = [];
      for (let i = Math.max(0, store.count - n); i < store.count; i++) {
        const e = store.get(i);
        lines.push(`#${i} ${e.ts} pid ${e.pid} tid ${e.tid} ${['', 'begin ', 'end '][e.phase]}${callLabel(e, e.kind)}`);
      }
      return lines.join('\n');
    }
    if (word === 'fds') {
      const pid = Number(rest[0] ?? this.rootPid);
      if (!this.model!.processes.has(pid)) throw new Error(`fds: no traced process ${rest[0]}`);
      return this.processVars(pid)[2].children!.map((v) => `${v.name}: ${v.value}`).join('\n') || '(no open fds)';
    }
    if (word === 'stops') return this.decisions.join('\n') || '(no stop decisions yet)';
    if (word === 'locks') return this.lockVars().map((v) => `${v.name}: ${v.value}`).join('\n');
    if (word === 'pages') {
      const pid = Number(rest[0]);
      if (!this.model!.processes.has(pid) || !rest[1]) throw new Error('usage: pages PID ADDR (ADDR in hex)');
      const addr = BigInt(rest[1].startsWith('0x') ? rest[1] : `0x${rest[1]}`) & ~0xfffn;
      let faults = 0;
      for (let i = 0; i < store.count; i++) if (store.kindAt(i) === K.pageFault && store.pidAt(i) === pid && (store.argAt(i, 0) & ~0xfffn) === addr) faults++;
      const counts = this.model!.pages.faultCounts.get(pid);
      return `page 0x${addr.toString(16)} of pid ${pid}: ${faults} recorded fault(s); process faults minor ${counts?.minor ?? 0}, major ${counts?.major ?? 0}\n` +
        procPages(pid).map((v) => `${v.name}: ${v.value}`).join('\n');
    }
    throw new Error(`unknown command '${word}': events [N], fds PID, locks, pages PID ADDR, stops`);
  }

  // ------------------------------------------------------------------ ending

  private async stopProgram(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const c = this.collector, p = this.program;
    this.program = undefined;
    if (p) await p.stop('SIGKILL', 0); // held threads cannot run their SIGTERM handlers anyway: nothing is left
    if (c) { await c.close(); this.hooks.ended?.(c); }
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse): Promise<void> {
    this.terminated = true;
    await this.stopProgram();
    this.sendResponse(response);
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    this.terminated = true;
    await this.stopProgram();
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override async restartRequest(response: DebugProtocol.RestartResponse): Promise<void> {
    await this.stopProgram();
    this.conns.clear();
    for (const t of this.threads.values()) if (!t.exited) this.sendEvent(new ThreadEvent('exited', t.tid));
    this.threads.clear();
    this.stopped = this.stopRequest = this.action = this.cursor = undefined;
    this.entryHandled = this.everStopped = false;
    this.entryConn = undefined;
    this.lineTable = undefined;
    try {
      await this.startProgram();
      this.sendResponse(response);
      this.sendEvent(new ContinuedEvent(this.rootPid, true));
    } catch (e) {
      this.sendErrorResponse(response, 3, `ipcscope: restart: ${(e as Error).message}`);
    }
  }

  /** For tests and the host: the live collector (undefined before launch and after the end). */
  get liveCollector(): Collector | undefined { return this.collector; }
  get processIds(): number[] { return [...new Set([...this.conns.values()].map((c) => c.info.pid))]; }
}

function readAddrs(b: Uint8Array): bigint[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: bigint[] = [];
  for (let o = 0; o + 8 <= b.byteLength; o += 8) out.push(v.getBigUint64(o, true));
  return out;
}

/** FNV-1a 64 of a path's UTF-8 bytes: how a Python breakpoint names its script to the shim (hooks_python.c). */
function fnv1a64(path: string): bigint {
  let h = 14695981039346656037n;
  for (const byte of Buffer.from(path, 'utf8')) h = ((h ^ BigInt(byte)) * 1099511628211n) & 0xffffffffffffffffn;
  return h;
}

/** A command name looked up on PATH (python3, sh), or the name itself when it is not there. */
function onPath(name: string): string {
  for (const d of (process.env.PATH ?? '/usr/bin:/bin').split(':')) if (d && existsSync(join(d, name))) return join(d, name);
  return name;
}

/** binutils 2.40's addr2line names the CU's main file for lines of DWARF 5 headers (demo.h:22 shown as pipe.c:22);
 * llvm-addr2line reads them right and prints the same format. */
let symbolizerPath: string | undefined;
function symbolizer(): string {
  if (symbolizerPath === undefined) {
    symbolizerPath = 'addr2line';
    for (const d of (process.env.PATH ?? '/usr/bin').split(':')) if (d && existsSync(join(d, 'llvm-addr2line'))) { symbolizerPath = join(d, 'llvm-addr2line'); break; }
  }
  return symbolizerPath;
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

