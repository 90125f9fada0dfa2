// The collector: a websocket server on 127.0.0.1 that every traced process image connects to (docs/protocol.md).
// It checks the secret and Origin before the upgrade, answers HELLO with WELCOME, stores EVENTS in the EventStore and
// streams them to the .ipctrace file, and matches COMMAND/REPLY. A malformed message costs only its own connection
// (ERROR, close 1007, a note); the session and every other connection carry on.
import { EventEmitter } from 'node:events';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import {
  decodeMessage, encodeCommand, encodeJson, MessageType, ProtocolError, MAX_MESSAGE_BYTES, SECRET_HEADER, SUBPROTOCOL,
  type HelloJson,
} from './protocol';
import { EventStore, type ClosedInfo, type EndSummary, type SessionNote } from './store';
import type { ConnectionInfo } from './traceEvent';
import { TraceFileWriter } from './traceFile';
import { loopBudget } from './loopBudget';
import { ENUMS, kindId, VOCABULARY_VERSION } from './vocabulary';
import { pythonHookDir, shimPath } from './launcher';
import { kernelTaskOffsets } from './btf';
import { type CgroupKind, FAULT_SCOPE_ENV, SessionCgroup } from './cgroup';
import { COLLECTOR_CPUS_ENV, CollectorCpus } from './cpuAffinity';

/** Environment variable: `inherit` keeps each process's sender thread on the CPUs of the program (benchmarks compare);
 * by default the shim moves it to the CPUs the program's affinity leaves out, if any (native/src/runtime.c). */
export const SENDER_CPUS_ENV = 'IPCSCOPE_SENDER_CPUS';
import { version as packageVersion } from '../../package.json';

export type { SessionNote } from './store';

export interface CollectorOptions {
  port?: number; sessionId?: string; payloadBytes?: number; pageFaults?: boolean; snapshots?: boolean;
  /** Stream the .ipctrace here while recording. */
  traceFile?: string; maxEvents?: number; meta?: Record<string, unknown>;
  /** Inbox weight (bytes; EVENTS weighed by their records) past which every connection is paused (default
   *  INBOX_HIGH_BYTES; they resume below a quarter of it). */
  inboxHighBytes?: number;
  /** Ingest slice per turn in ms (default INGEST_SLICE_MS; 0: one frame per turn). */
  ingestSliceMs?: number;
  /** How the shim encodes EVENTS (docs/protocol.md): compact (default) or fixed records, for comparison. */
  wire?: 'compact' | 'fixed';
  /** Move this process off the CPUs the traced program is pinned to while it is (src/common/cpuAffinity.ts); default
   *  true unless IPCSCOPE_COLLECTOR_CPUS=inherit. */
  moveOffProgramCpus?: boolean;
}

export const TOOL_VERSION: string = packageVersion;
/**
 * Message handling per turn of the event loop. Received frames only join the inbox (in arrival order); the inbox is
 * worked off in slices of at most this many ms (less when the turn's loopBudget is spent), one per turn (setImmediate),
 * so neither a burst of frames from one socket read nor a backlog (the host was busy, or starved of CPU) runs as one
 * long task that blocks the extension host.
 */
export const INGEST_SLICE_MS = 6;
/**
 * Past this much waiting in the inbox every connection is paused (back-pressure: the kernel's socket buffers fill,
 * then the shim's rings, then the shim waits and at last drops and counts); below a quarter of it they resume.
 * Measured in bytes, an EVENTS message weighing at least INBOX_BYTES_PER_EVENT per record: what a message costs to
 * handle follows its records, and a compact one carries ten times the records of a fixed one in its bytes, so a
 * byte limit alone let 16 MB of compact records (3 M events, 100 ms of work) pile up, and the pause that followed
 * outlasted what the shim then waited before dropping (20 ms).
 */
export const INBOX_HIGH_BYTES = 16 << 20;
export const INBOX_BYTES_PER_EVENT = 52;

/** An inbox item's weight: its bytes, or for EVENTS at least INBOX_BYTES_PER_EVENT per record (the count at byte 16). */
function inboxWeight(data: RawData, bytes: number): number {
  if (!Buffer.isBuffer(data) || data.length < 24 || data.readUInt16LE(6) !== MessageType.Events) return bytes;
  return Math.max(bytes, data.readUInt32LE(16) * INBOX_BYTES_PER_EVENT);
}
const WS_PATH = '/ipcscope';
const FORK = kindId('fork');
const SPAWN = kindId('spawn');
const DROPPED = kindId('dropped');
const SPAWN_PID_ARG = 0;
const EXEC = kindId('exec');
/** Kinds that start process images: noteUntraced() checks each was heard from. */
const IMAGE_KINDS = new Uint8Array(0x10000);
for (const k of [FORK, SPAWN, EXEC]) IMAGE_KINDS[k] = 1;
/** The kinds the collector itself reads from every batch (scan): forks and spawns, and the shim's drop counts. */
const SCANNED_KINDS = new Uint8Array(0x10000);
for (const k of [FORK, SPAWN, DROPPED]) SCANNED_KINDS[k] = 1;
const DROPPED_TOTAL_ARG = 1;

interface Pending { resolve: (v: { status: number; json: unknown }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
interface ConnState {
  id: number; ws: WebSocket; info?: ConnectionInfo; seqIn: number; seqOut: number;
  bye?: { emitted: bigint; dropped: bigint }; shimDropped: number; pending: Map<bigint, Pending>; failed?: string;
  /** Open until its close is handled (after every frame it sent before); `socketClosed` is set when ws says so. */
  open: boolean; socketClosed: boolean;
  openedAt: number;
}
/** What a connection delivered, handled in arrival order: a frame, a socket error or its close. */
type InboxItem =
  | { st: ConnState; what: 'message'; data: RawData; isBinary: boolean; /** weight in the inbox (inboxWeight) */ bytes: number }
  | { st: ConnState; what: 'error'; error: Error }
  | { st: ConnState; what: 'close'; code: number; reason: string };

export class Collector extends EventEmitter {
  readonly store: EventStore;
  readonly sessionId: string;
  private readonly secret: Buffer;
  private readonly secretHex: string;
  private server!: WebSocketServer;
  private _port = 0;
  private nextConn = 1;
  private nextRequest = 1n;
  private readonly conns = new Map<number, ConnState>();
  private readonly _notes: SessionNote[] = [];
  private writer: TraceFileWriter | undefined;
  private storeFullNoted = false;
  private readonly forked = new Set<number>();
  private readonly rate: { t: number; n: number }[] = [];
  private closing: Promise<void> | undefined;
  /** Frames (and closes) received but not handled yet, from `inboxHead` on. */
  private inbox: InboxItem[] = [];
  private inboxHead = 0;
  private inboxBytes = 0;
  private drainScheduled = false;
  private pausedAll = false;
  private drainedWaiters: (() => void)[] = [];
  /** Ingest slices that ended with frames left for the next turn (the bench reports it). */
  ingestDeferrals = 0;
  /** How often every connection was paused because the inbox passed INBOX_HIGH_BYTES. */
  ingestPauses = 0;
  /** Filled in by the owner (CLI) before close() so the END chunk carries the target's fate. */
  exitInfo: { code: number | null; signal: string | null } = { code: null, signal: null };
  /** The session's cgroups by kind (page faults sampled per CPU for the trees in them, src/common/cgroup.ts): absent
   *  until a target needs one, null when it could not be made. */
  private cgroups = new Map<CgroupKind, SessionCgroup | null>();
  /** Where this process runs while traced programs are pinned (undefined: left alone). */
  private readonly cpus: CollectorCpus | undefined;
  private cpuTimer: NodeJS.Timeout | undefined;
  private cpuCheck: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: CollectorOptions) {
    super();
    this.store = new EventStore({ maxEvents: opts.maxEvents });
    this.store.markKinds(SCANNED_KINDS);
    this.sessionId = opts.sessionId ?? randomBytes(8).toString('hex');
    this.secret = randomBytes(32);
    this.secretHex = this.secret.toString('hex');
    const move = opts.moveOffProgramCpus ?? process.env[COLLECTOR_CPUS_ENV] !== 'inherit';
    this.cpus = move ? new CollectorCpus((level, message) => this.note(level, message)) : undefined;
  }

  /** Where the collector runs (src/common/cpuAffinity.ts): a new image pinned to some of our CPUs moves us at once
   *  (before its WELCOME); every second while images are live, and soon after one closes while we are moved, all live
   *  images are looked at again (a program may pin itself after it started; a pinned one may have ended). */
  private placeCpus(reason: 'hello' | 'close' | 'tick', pid = 0): void {
    const cpus = this.cpus;
    if (!cpus || this.closing) return;
    const live = () => this.liveConnections().map((c) => c.pid);
    switch (reason) {
      case 'hello':
        if (cpus.pinned(pid)) cpus.update(live());
        if (!this.cpuCheck) {
          this.cpuCheck = setInterval(() => this.placeCpus('tick'), 1000);
          this.cpuCheck.unref();
        }
        break;
      case 'tick': {
        const pids = live();
        cpus.update(pids);
        if (!pids.length) { clearInterval(this.cpuCheck); this.cpuCheck = undefined; }
        break;
      }
      case 'close':
        if (cpus.moved && !this.cpuTimer) {
          this.cpuTimer = setTimeout(() => { this.cpuTimer = undefined; if (!this.closing) cpus.update(live()); }, 20);
          this.cpuTimer.unref();
        }
        break;
    }
  }

  static async start(opts: CollectorOptions = {}): Promise<Collector> {
    const c = new Collector(opts);
    if (opts.traceFile) {
      c.writer = await TraceFileWriter.open(opts.traceFile, {
        session: c.sessionId, created: new Date().toISOString(), command: [], cwd: process.cwd(), host: hostname(),
        tool: `ipc-scope ${TOOL_VERSION}`, vocabulary: VOCABULARY_VERSION, ...opts.meta,
      });
      c.writer.onError = (err) => c.note('error',
        `trace file ${opts.traceFile}: write failed (${(err as NodeJS.ErrnoException).code ?? err.message}: ${err.message}); recording continues in memory only`);
    }
    await c.listen(opts.port ?? 0);
    return c;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server = new WebSocketServer({
        host: '127.0.0.1', port, path: WS_PATH, maxPayload: 4 * MAX_MESSAGE_BYTES, perMessageDeflate: false,
        verifyClient: (info, cb) => this.verify(info.req, cb),
        handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      });
      this.server.once('error', reject);
      this.server.once('listening', () => {
        this.server.off('error', reject);
        this.server.on('error', (e) => this.note('error', `collector server: ${e.message}`));
        const addr = this.server.address();
        this._port = typeof addr === 'object' && addr ? addr.port : port;
        resolve();
      });
      this.server.on('connection', (ws) => this.accept(ws));
    });
  }

  private verify(req: IncomingMessage, cb: (ok: boolean, code?: number, message?: string) => void): void {
    // Browsers always send Origin: refusing it keeps every web page out, whatever it guesses.
    if (req.headers.origin !== undefined) { cb(false, 403, 'Origin not allowed'); return; }
    const given = req.headers[SECRET_HEADER];
    const got = Buffer.from(typeof given === 'string' ? given : '', 'utf8');
    const want = Buffer.from(this.secretHex, 'utf8');
    // timingSafeEqual needs equal lengths; compare against ourselves on a length mismatch to keep the time flat.
    const ok = got.length === want.length ? timingSafeEqual(got, want) : (timingSafeEqual(want, want), false);
    if (!ok) { cb(false, 401, 'Unauthorized'); return; }
    const protos = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!protos.includes(SUBPROTOCOL)) { cb(false, 400, `subprotocol ${SUBPROTOCOL} required`); return; }
    cb(true);
  }

  get port(): number { return this._port; }
  get notes(): readonly SessionNote[] { return this._notes; }

  /**
   * The environment for a traced program: LD_PRELOAD (shim prepended), IPCSCOPE, and PYTHONPATH with the Python hook's
   * directory first (the user's entries kept after it), so Python targets record their file:line.
   */
  envFor(extraEnv: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
    const pre = env.LD_PRELOAD;
    env.LD_PRELOAD = pre ? `${shimPath()}:${pre}` : shimPath();
    const py = pythonHookDir();
    env.PYTHONPATH = env.PYTHONPATH ? `${py}:${env.PYTHONPATH}` : py;
    const o = this.opts;
    env.IPCSCOPE = [
      `port=${this._port}`, `secret=${this.secretHex}`, `session=${this.sessionId}`, `payload=${o.payloadBytes ?? 64}`,
      `faults=${o.pageFaults === false ? 0 : 1}`, `snapshots=${o.snapshots === false ? 0 : 1}`, 'pause=0',
      ...(o.wire === 'fixed' ? ['wire=fixed'] : []),
      ...(env[SENDER_CPUS_ENV] === 'inherit' ? ['sendercpus=inherit'] : []),
      // at root: page faults per CPU for every task, filtered by the tree's pids or its cgroup, or cgroup events
      ...(o.pageFaults !== false && env[FAULT_SCOPE_ENV] !== 'task' ? this.faultScopeItems(env[FAULT_SCOPE_ENV] ?? '') : []),
    ].join(';');
    return env;
  }

  /** IPCSCOPE items for the fault scope asked for (FAULT_SCOPE_ENV: '', pid, bpf or cgroup): `pid` (the default
   *  where it can be had) needs a freezer cgroup and the kernel's task_struct offsets, `bpf` and `cgroup` a v2 one.
   *  None (per task, with an info note once) when no session cgroup can be made. */
  private faultScopeItems(scope: string): string[] {
    if (scope === '' || scope === 'pid') {
      const off = kernelTaskOffsets();
      const freezer = 'why' in off ? undefined : this.sessionCgroup('freezer', scope === 'pid');
      if (freezer && !('why' in off)) return [`cgroup=${freezer.dir}`, 'bpf=1', `pidf=${off.realParent}/${off.tgid}`];
      if (scope === 'pid' && 'why' in off) this.noteOnce(`page faults are not filtered by pid (the kernel's task_struct layout is unknown: ${off.why}); by cgroup instead`);
    }
    const v2 = this.sessionCgroup('v2', true);
    return v2 ? [`cgroup=${v2.dir}`, ...(scope === 'cgroup' ? [] : ['bpf=1'])] : [];
  }

  private notedOnce = new Set<string>();
  private noteOnce(message: string): void {
    if (this.notedOnce.has(message)) return;
    this.notedOnce.add(message);
    this.note('info', message);
  }

  /** The session's cgroup of a kind, made at the first target that needs it; undefined (and, when `say`, an info
   *  note) when it cannot be made. */
  private sessionCgroup(kind: CgroupKind, say: boolean): SessionCgroup | undefined {
    if (!this.cgroups.has(kind) && !this.closing) {
      const r = SessionCgroup.create(kind);
      this.cgroups.set(kind, 'cgroup' in r ? r.cgroup : null);
      if ('why' in r && say) {
        this.noteOnce(kind === 'v2' ? `page faults are sampled per task, not per session cgroup: ${r.why}`
          : `page faults are not filtered by pid (no freezer cgroup for the session: ${r.why}); by cgroup instead`);
      }
    }
    return this.cgroups.get(kind) ?? undefined;
  }

  note(level: SessionNote['level'], message: string, conn?: number): void {
    const n: SessionNote = { ts: process.hrtime.bigint(), level, message, ...(conn !== undefined ? { conn } : {}) };
    this._notes.push(n);
    this.writer?.note(n);
    this.emit('note', n);
  }

  private accept(ws: WebSocket): void {
    const st: ConnState = {
      id: this.nextConn++, ws, seqIn: 0, seqOut: 0, shimDropped: 0, pending: new Map(), open: true, socketClosed: false, openedAt: Date.now(),
    };
    this.conns.set(st.id, st);
    if (this.pausedAll) ws.pause();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
      this.enqueue({ st, what: 'message', data, isBinary, bytes: inboxWeight(data, bytes) });
    });
    ws.on('error', (error) => this.enqueue({ st, what: 'error', error }));
    ws.on('close', (code, reason) => { st.socketClosed = true; this.enqueue({ st, what: 'close', code, reason: reason.toString() }); });
  }

  private enqueue(item: InboxItem): void {
    this.inbox.push(item);
    if (item.what === 'message') {
      this.inboxBytes += item.bytes;
      if (!this.pausedAll && this.inboxBytes > (this.opts.inboxHighBytes ?? INBOX_HIGH_BYTES)) {
        this.pausedAll = true;
        this.ingestPauses++;
        for (const c of this.conns.values()) if (!c.socketClosed) c.ws.pause();
      }
    }
    if (!this.drainScheduled) { this.drainScheduled = true; setImmediate(() => this.drain()); }
  }

  /** Handles inbox items in order for up to INGEST_SLICE_MS, then leaves the rest to the next turn. */
  private drain(): void {
    this.drainScheduled = false;
    const t0 = performance.now(), slice = this.opts.ingestSliceMs ?? loopBudget.slice(INGEST_SLICE_MS);
    const inbox = this.inbox;
    try {
      // at least one item per turn, however slow, so the inbox always moves
      if (this.inboxHead < inbox.length) do {
        const item = inbox[this.inboxHead];
        inbox[this.inboxHead++] = undefined as unknown as InboxItem; // let the frame go now, not at compaction
        if (item.what === 'message') { this.inboxBytes -= item.bytes; this.handleMessage(item.st, item.data, item.isBinary); }
        else if (item.what === 'error') this.onSocketError(item.st, item.error);
        else this.onClose(item.st, item.code, item.reason);
      } while (this.inboxHead < inbox.length && performance.now() - t0 < slice);
    } finally {
      if (this.inboxHead === inbox.length) { this.inbox = []; this.inboxHead = 0; }
      else {
        if (this.inboxHead > 4096 && this.inboxHead * 2 > inbox.length) { this.inbox = inbox.slice(this.inboxHead); this.inboxHead = 0; }
        this.ingestDeferrals++;
        this.drainScheduled = true;
        setImmediate(() => this.drain());
      }
      if (this.pausedAll && this.inboxBytes < (this.opts.inboxHighBytes ?? INBOX_HIGH_BYTES) / 4) {
        this.pausedAll = false;
        for (const c of this.conns.values()) if (!c.socketClosed) c.ws.resume();
      }
      if (!this.drainScheduled) for (const w of this.drainedWaiters.splice(0)) w();
    }
  }

  /** Resolves once every frame and close received so far is handled. */
  private drained(): Promise<void> {
    return this.drainScheduled ? new Promise((r) => this.drainedWaiters.push(r)) : Promise.resolve();
  }

  private onSocketError(st: ConnState, err: Error): void {
    if (!st.failed) { st.failed = err.message; this.note('error', `connection ${st.id}${st.info ? ` (pid ${st.info.pid})` : ''}: ${err.message}`, st.id); }
  }

  private reject(st: ConnState, message: string): void {
    st.failed = message;
    const who = st.info ? `pid ${st.info.pid} (connection ${st.id})` : `connection ${st.id}`;
    this.note('error', `${who} sent a malformed message, connection closed: ${message}`, st.id);
    try {
      st.ws.send(encodeJson(MessageType.Error, st.seqOut++, { message }));
      st.ws.close(1007, message.slice(0, 120));
    } catch { st.ws.terminate(); }
  }

  private handleMessage(st: ConnState, data: RawData, isBinary: boolean): void {
    if (st.failed) return;
    if (!isBinary) { this.reject(st, 'text message: every message must be binary'); return; }
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    let msg;
    try { msg = decodeMessage(buf, 'shim', { deferCompact: true }); } catch (e) {
      if (e instanceof ProtocolError) { this.reject(st, e.message); return; }
      throw e;
    }
    if (msg.seq !== st.seqIn)
      this.note('warning', `connection ${st.id}: message sequence ${msg.seq}, expected ${st.seqIn}: ${msg.seq - st.seqIn} messages lost`, st.id);
    st.seqIn = msg.seq + 1;
    if (!st.info && msg.type !== MessageType.Hello) { this.reject(st, `${MessageType[msg.type].toUpperCase()} before HELLO: HELLO must be the first message`); return; }
    switch (msg.type) {
      case MessageType.Hello: {
        if (st.info) { this.reject(st, 'a second HELLO on one connection'); return; }
        this.onHello(st, msg.hello, msg.json);
        break;
      }
      case MessageType.Events: {
        const info = st.info!;
        const first = this.store.count;
        let stored: number;
        try { stored = this.store.appendEventsBody(st.id, info.pid, msg.body); } catch (e) {
          // a malformed compact record: nothing of this message was stored, and none of it goes to the trace file
          if (e instanceof ProtocolError) { this.reject(st, e.message); return; }
          throw e;
        }
        this.writer?.events(st.id, info.pid, msg.body);
        if (stored < msg.count && !this.storeFullNoted) {
          this.storeFullNoted = true;
          this.note('warning', `the store is full (${this.opts.maxEvents} events): further events are counted as dropped, not stored`);
        }
        this.scan(st);
        if (stored) this.emit('events', first, stored);
        this.sampleRate();
        break;
      }
      case MessageType.Bye: st.bye = { emitted: msg.emitted, dropped: msg.dropped }; break;
      case MessageType.Reply: {
        const p = st.pending.get(msg.requestId);
        if (!p) { this.note('warning', `connection ${st.id}: REPLY to unknown request ${msg.requestId}`, st.id); break; }
        st.pending.delete(msg.requestId);
        clearTimeout(p.timer);
        p.resolve({ status: msg.status, json: msg.json });
        break;
      }
      default: break;
    }
  }

  private onHello(st: ConnState, h: HelloJson, json: string): void {
    const info: ConnectionInfo = {
      conn: st.id, pid: h.pid, ppid: h.ppid, tid: h.tid, origin: h.origin, session: h.session, exe: h.exe, cwd: h.cwd,
      argv: h.argv, startNs: BigInt(h.startNs), shim: h.shim,
    };
    if (h.session && h.session !== this.sessionId) this.note('warning', `pid ${h.pid} says session ${h.session}, this is ${this.sessionId}`, st.id);
    st.info = info;
    this.store.addConnection(info);
    this.writer?.connection(info, json);
    // Before the WELCOME the image waits for: a pinned program starts with its CPUs already free of us.
    this.placeCpus('hello', h.pid);
    st.ws.send(encodeJson(MessageType.Welcome, st.seqOut++, {
      session: this.sessionId, connection: st.id, payloadBytes: this.opts.payloadBytes ?? 64, pageFaults: this.opts.pageFaults !== false,
    }));
    this.emit('connection', info);
  }

  /** Picks out what the collector itself needs from new events: children forked (to stop trees) and shim drops. The
   *  store lists the rows of those kinds as it decodes them (markKinds in the constructor). */
  private scan(st: ConnState): void {
    const s = this.store, found = s.marked;
    for (const i of found) {
      const k = s.kindAt(i);
      if (k === FORK) { const r = Number(s.resultAt(i)); if (r > 0) this.forked.add(r); }
      else if (k === SPAWN) { if (s.resultAt(i) === 0n) this.forked.add(Number(s.argAt(i, SPAWN_PID_ARG))); }
      else if (k === DROPPED) st.shimDropped = Math.max(st.shimDropped, Number(s.argAt(i, DROPPED_TOTAL_ARG)));
    }
    found.length = 0;
  }

  private onClose(st: ConnState, code: number, reason: string): void {
    st.open = false;
    for (const p of st.pending.values()) { clearTimeout(p.timer); p.reject(new Error(`connection ${st.id} closed before it replied`)); }
    st.pending.clear();
    if (st.bye) st.shimDropped = Math.max(st.shimDropped, Number(st.bye.dropped));
    if (!st.info) return; // never said HELLO: nothing to account for
    const why = st.failed ?? (st.bye ? 'bye' : `closed without BYE (code ${code}${reason ? `: ${reason}` : ''}): the process ended abnormally`);
    const closed: ClosedInfo = { reason: why, bye: Boolean(st.bye), emitted: String(st.bye?.emitted ?? 0n), dropped: String(st.bye?.dropped ?? 0n) };
    this.store.closed.set(st.id, closed);
    this.writer?.closed(st.id, closed);
    this.emit('closed', st.id, { bye: Boolean(st.bye), reason: why });
    this.placeCpus('close');
  }

  /** Whether a process environment (the NUL-separated text of /proc/PID/environ) carries this session's IPCSCOPE. */
  ownsEnvironment(environ: string): boolean {
    return environ.includes(`secret=${this.secretHex}`);
  }

  liveConnections(): readonly ConnectionInfo[] {
    return [...this.conns.values()].filter((c) => c.open && c.info).map((c) => c.info!);
  }
  /** Connections that are open but have not said HELLO yet (a new process connecting); one silent for `maxAgeMs` no longer counts. */
  pendingConnections(maxAgeMs = 5000): number {
    const since = Date.now() - maxAgeMs;
    return [...this.conns.values()].filter((c) => c.open && !c.info && c.openedAt >= since).length;
  }
  /** Child pids announced by fork/spawn events, for stopping whole trees before their own connection arrives. */
  forkedPids(): readonly number[] { return [...this.forked]; }
  /** Whether some connection (open or closed) came from this pid. */
  hasSeenPid(pid: number): boolean {
    for (const c of this.conns.values()) if (c.info?.pid === pid) return true;
    return false;
  }

  sendCommand(conn: number, command: string, args: bigint[] = [], timeoutMs = 30_000): Promise<{ status: number; json: unknown }> {
    const st = this.conns.get(conn);
    const code = ENUMS.command.indexOf(command);
    if (code < 1) return Promise.reject(new Error(`unknown command '${command}' (known: ${ENUMS.command.slice(1).join(', ')})`));
    if (!st || !st.open || st.socketClosed || !st.info) return Promise.reject(new Error(`connection ${conn} is not open`));
    const id = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { st.pending.delete(id); reject(new Error(`command ${command} to connection ${conn}: no REPLY in ${timeoutMs} ms`)); }, timeoutMs);
      st.pending.set(id, { resolve, reject, timer });
      st.ws.send(encodeCommand(st.seqOut++, code, id, args));
    });
  }

  private sampleRate(): void {
    const t = Date.now();
    const last = this.rate[this.rate.length - 1];
    if (last && t - last.t < 100) return;
    this.rate.push({ t, n: this.store.count });
    while (this.rate.length > 2 && t - this.rate[1].t > 1000) this.rate.shift();
  }

  /** Shim-reported drops (dropped events / BYE) plus events the store refused. */
  totalDropped(): number {
    let d = this.store.dropped;
    for (const c of this.conns.values()) d += c.shimDropped;
    return d;
  }

  stats(): { events: number; dropped: number; connections: number; eventsPerSecond: number; bytesPerEvent: number } {
    this.sampleRate();
    const a = this.rate[0], b = this.rate[this.rate.length - 1];
    const eps = a && b && b.t > a.t ? ((b.n - a.n) * 1000) / (b.t - a.t) : 0;
    return { events: this.store.count, dropped: this.totalDropped(), connections: this.liveConnections().length,
      eventsPerSecond: eps, bytesPerEvent: this.store.bytesPerEvent() };
  }

  /**
   * Says in a note which process images the trace shows starting (a fork's child, a spawned child, a successful exec)
   * but never heard from: the trace has no events of theirs, and without the note it would look complete. Either the
   * shim could not ride in the image (a statically linked program) or the image gave up waiting for the collector
   * (its stderr says so: "ipcscope: not tracing pid N: …").
   */
  private noteUntraced(): void {
    const s = this.store, found: number[] = [];
    s.findKinds(0, s.count, IMAGE_KINDS, found);
    const images = new Map<number, number>(); // pid -> connections
    for (const c of s.connections()) images.set(c.pid, (images.get(c.pid) ?? 0) + 1);
    const execs = new Map<number, { n: number; path: string }>(); // pid -> exec begins not followed by a failure
    const missing: string[] = [];
    for (const i of found) {
      const k = s.kindAt(i);
      if (k === EXEC) {
        const pid = s.pidAt(i), e = execs.get(pid) ?? { n: 0, path: '' };
        if (s.phaseAt(i) === 1) { e.n++; e.path = new TextDecoder().decode(s.blobAt(i) ?? new Uint8Array()).split('\0')[0]; }
        else if (s.phaseAt(i) === 2 && s.errAt(i) !== 0) e.n--;
        execs.set(pid, e);
        continue;
      }
      const child = k === FORK ? Number(s.resultAt(i)) : s.resultAt(i) === 0n ? Number(s.argAt(i, SPAWN_PID_ARG)) : 0;
      if (child > 0 && !images.has(child)) missing.push(`pid ${child} (${k === FORK ? 'forked' : 'spawned'} by ${s.pidAt(i)})`);
    }
    // An image per successful exec, besides the one that made the first exec (the pid's first connection).
    for (const [pid, e] of execs) {
      const have = (images.get(pid) ?? 0) - 1;
      if (e.n > have && images.has(pid)) missing.push(`pid ${pid} after exec of ${e.path || 'a program'}${e.n - have > 1 ? ` (${e.n - have} images)` : ''}`);
    }
    if (!missing.length) return;
    this.note('warning', `${missing.length} process image${missing.length === 1 ? '' : 's'} never connected, so the trace has no events of ` +
      `${missing.length === 1 ? 'it' : 'them'}: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? `, and ${missing.length - 8} more` : ''}. ` +
      'A statically linked program cannot load the shim; otherwise the image gave up waiting for a busy collector ' +
      "(its stderr says 'ipcscope: not tracing pid N').");
  }

  /** Stops the server (closing every connection) and finishes the trace file with its END chunk. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // The target tree has been stopped or has ended: whatever is left in the session's cgroup (a daemon that left
      // the process group and cleared its environment) goes now, and its connection closes like any other.
      for (const cg of this.cgroups.values()) {
        if (!cg) continue;
        const problems = await cg.remove();
        if (problems.length) this.note('warning', `the session's cgroup ${cg.dir} was not removed cleanly: ${problems.join('; ')}`);
      }
      clearTimeout(this.cpuTimer);
      clearInterval(this.cpuCheck);
      this.cpus?.restore(); // back on our own CPUs (the extension host outlives its sessions)
      // Terminated sockets report 'close' a little later: wait for them (bounded) so their CLOSED chunks precede END.
      const open = [...this.conns.values()].filter((c) => !c.socketClosed);
      const allClosed = Promise.all(open.map((c) => new Promise<void>((r) => { if (c.socketClosed) r(); else c.ws.once('close', () => setImmediate(r)); })));
      for (const c of open) c.ws.terminate();
      await Promise.race([allClosed, new Promise((r) => setTimeout(r, 1000))]);
      await new Promise<void>((r) => this.server.close(() => r()));
      await this.drained(); // every frame received before the close is stored and written before END
      this.noteUntraced();
      if (this.writer) {
        const end: EndSummary = { events: this.store.count, dropped: this.totalDropped(), exitCode: this.exitInfo.code,
          signal: this.exitInfo.signal, endNs: process.hrtime.bigint().toString() };
        this.writer.end(end);
        await this.writer.close();
      }
    })();
    return this.closing;
  }

  /** The trace file path, when streaming one. */
  get traceFile(): string | undefined { return this.opts.traceFile; }
  /** Whether writing the trace file failed (the recording is then only in memory). */
  get traceFileFailed(): Error | undefined { return this.writer?.failed; }
}
