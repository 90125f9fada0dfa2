// The `ipcscope` debug adapter served over TCP inside the test process, one IpcScopeDebugSession per client
// connection, and Conversation: a DebugClient (@vscode/debugadapter-testsupport) talking to it.
import { createServer, type AddressInfo } from 'node:net';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { IpcScopeDebugSession, type IpcScopeLaunchArguments } from '../../src/common/debug/session';

export interface AdapterServer {
  readonly port: number;
  /** Every session the server made, in connection order (the last one belongs to the newest client). */
  readonly sessions: IpcScopeDebugSession[];
  close(): void;
}

export async function startAdapterServer(): Promise<AdapterServer> {
  const sessions: IpcScopeDebugSession[] = [];
  const server = createServer((socket) => {
    const s = new IpcScopeDebugSession();
    sessions.push(s);
    s.setRunAsServer(true);
    s.start(socket, socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, sessions, close: () => server.close() };
}

/** Time a DAP request or awaited event may take before the test fails naming it (DebugClient over a socket has none). */
const DAP_WAIT_MS = 60_000;

const openConversations = new Set<Conversation>();

/**
 * One debug session: a DebugClient over TCP to an adapter instance of `server`, stopped events queued, program
 * output kept. Every request and awaited event is bounded, so a lost reply fails the test with its name and the
 * output so far instead of hanging until the suite's budget runs out.
 */
export class Conversation {
  readonly dc = new DebugClient('node', 'unused', 'ipcscope');
  readonly stops: DebugProtocol.StoppedEvent[] = [];
  private waiters: ((e: DebugProtocol.StoppedEvent) => void)[] = [];
  session!: IpcScopeDebugSession;
  output = '';

  constructor(private readonly server: AdapterServer) {
    // DebugClient's typed request methods all go through send(): bound it once here.
    const dc = this.dc as unknown as { send(command: string, args?: unknown): Promise<DebugProtocol.Response> };
    const send = dc.send.bind(dc);
    dc.send = (command, args) => this.bounded(send(command, args), `the '${command}' request`);
  }

  async open(): Promise<void> {
    this.dc.defaultTimeout = 20_000;
    await this.bounded(this.dc.start(this.server.port), 'connecting to the adapter');
    openConversations.add(this);
    this.session = this.server.sessions[this.server.sessions.length - 1];
    this.dc.on('stopped', (e: DebugProtocol.StoppedEvent) => { const w = this.waiters.shift(); if (w) w(e); else this.stops.push(e); });
    this.dc.on('output', (e: DebugProtocol.OutputEvent) => { this.output += e.body.output; });
  }

  /** `p`, or a rejection naming `what` (with the program's output so far) after `ms`. */
  bounded<T>(p: Promise<T>, what: string, ms = DAP_WAIT_MS): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: nothing in ${ms} ms; output so far:\n${this.output}`)), ms); });
    return Promise.race([p, late]).finally(() => clearTimeout(t));
  }

  /** The next event of a type (other than 'stopped', which nextStop queues), bounded. */
  event(type: string, ms = DAP_WAIT_MS): Promise<DebugProtocol.Event> {
    return this.bounded(this.dc.waitForEvent(type, ms), `the '${type}' event`, ms);
  }

  nextStop(timeoutMs = 20_000): Promise<DebugProtocol.StoppedEvent> {
    const q = this.stops.shift();
    if (q) return Promise.resolve(q);
    return new Promise((res, rej) => {
      const waiter = (e: DebugProtocol.StoppedEvent) => { clearTimeout(t); res(e); };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        void this.decisions().then((d) => rej(new Error(`no stopped event in ${timeoutMs} ms; output so far:\n${this.output}\nadapter decisions:\n${d}`)));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The adapter's own account of its stop decisions (the `stops` console command), or why it could not be had. */
  async decisions(): Promise<string> {
    try {
      return (await this.bounded(this.dc.evaluateRequest({ expression: 'stops', context: 'repl' }), 'stops', 5_000)).body.result;
    } catch (e) { return `(${(e as Error).message.split('\n')[0]})`; }
  }

  /** initialize → launch → (initialized) setup → configurationDone. */
  async launch(args: Partial<IpcScopeLaunchArguments> & { program: string }, setup: () => Promise<unknown> = async () => undefined): Promise<void> {
    await this.dc.initializeRequest({ adapterID: 'ipcscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path' });
    const initialized = this.event('initialized');
    const launched = this.dc.launchRequest(args as DebugProtocol.LaunchRequestArguments);
    await initialized;
    await setup();
    await this.dc.configurationDoneRequest();
    await launched;
  }

  async frames(tid: number): Promise<DebugProtocol.StackFrame[]> {
    return (await this.dc.stackTraceRequest({ threadId: tid })).body.stackFrames;
  }

  async variables(frameId: number, scopePrefix: string): Promise<DebugProtocol.Variable[]> {
    const scopes = (await this.dc.scopesRequest({ frameId })).body.scopes;
    const s = scopes.find((x) => x.name.startsWith(scopePrefix));
    if (!s) throw new Error(`no scope ${scopePrefix} among ${scopes.map((x) => x.name).join(', ')}`);
    return (await this.dc.variablesRequest({ variablesReference: s.variablesReference })).body.variables;
  }

  pid(tid: number): number {
    const t = this.session.liveCollector!.store;
    for (let i = t.count - 1; i >= 0; i--) if (t.tidAt(i) === tid) return t.pidAt(i);
    return -1;
  }

  /** Stop (disconnect): afterwards no process of the session is left. */
  async close(): Promise<number[]> {
    openConversations.delete(this);
    const pids = this.session.processIds;
    await this.dc.disconnectRequest({ terminateDebuggee: true });
    await this.dc.stop();
    return pids;
  }
}

export async function conversation(server: AdapterServer): Promise<Conversation> {
  const c = new Conversation(server);
  await c.open();
  return c;
}

/** Ends every conversation a failed test left open, so its programs and collector do not outlive the run. */
export async function closeConversations(): Promise<void> {
  for (const c of [...openConversations]) await c.close().catch(() => undefined);
}
