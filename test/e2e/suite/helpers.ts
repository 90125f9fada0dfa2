// Shared helpers for the extension-host tests: the extension's API, the fixture workspace, polling.
import * as vscode from 'vscode';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IpcScopeApi } from '../../../src/extension';

export const EXTENSION_ID = 'ipc-scope.ipc-scope';

export async function api(): Promise<IpcScopeApi> {
  const ext = vscode.extensions.getExtension<IpcScopeApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.isActive ? ext.exports : ext.activate();
}

export function workspace(): string {
  const w = process.env.IPCSCOPE_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!w) throw new Error('no test workspace');
  return w;
}

export const fixture = (name: string) => join(workspace(), name);

/** Polls `cond` every 50 ms until it returns a truthy value or `ms` pass. */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, ms = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a pid is running (a zombie is not). */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

export interface StoppedBody { reason: string; threadId: number }

/** Resolves with the first `stopped` event any ipcscope debug session sends (through a debug adapter tracker);
 * dispose() the returned tracker when done. */
export function nextIpcScopeStop(): { stopped: Promise<{ session: vscode.DebugSession; body: StoppedBody }>; tracker: vscode.Disposable } {
  let resolveStop!: (v: { session: vscode.DebugSession; body: StoppedBody }) => void;
  const stopped = new Promise<{ session: vscode.DebugSession; body: StoppedBody }>((r) => { resolveStop = r; });
  const tracker = vscode.debug.registerDebugAdapterTrackerFactory('ipcscope', {
    createDebugAdapterTracker: (session) => ({
      onDidSendMessage: (m: { type: string; event?: string; body?: StoppedBody }) => { if (m.type === 'event' && m.event === 'stopped' && m.body) resolveStop({ session, body: m.body }); },
    }),
  });
  return { stopped, tracker };
}
