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
