// The `ipcscope` debug adapter served over TCP inside the test process, one IpcScopeDebugSession per client
// connection, for DebugClient conversations (@vscode/debugadapter-testsupport).
import { createServer, type AddressInfo } from 'node:net';
import { IpcScopeDebugSession } from '../../src/common/debug/session';

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
