// The ipcScope.* settings, read in one place (declared in package.json `contributes.configuration`).
import * as vscode from 'vscode';

export interface IpcScopeSettings {
  readonly payloadBytes: number;
  readonly pageFaults: boolean;
  readonly extraEnv: Readonly<Record<string, string>>;
  readonly buildCommand: string;
  readonly maxEvents: number;
  readonly traceOnStartup: string;
}

export const DEFAULT_BUILD_COMMAND = 'gcc -g -O0 -pthread -o ${output} ${file} -lrt';

export function readSettings(scope?: vscode.ConfigurationScope): IpcScopeSettings {
  const c = vscode.workspace.getConfiguration('ipcScope', scope);
  const extraEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.get<Record<string, unknown>>('extraEnv') ?? {})) {
    // Only strings reach the environment; anything else is a settings mistake we skip rather than stringify.
    if (typeof v === 'string') extraEnv[k] = v;
  }
  return {
    payloadBytes: Math.max(0, Math.min(4096, Math.floor(c.get<number>('payloadBytes') ?? 64))),
    pageFaults: c.get<boolean>('pageFaults') ?? false,
    extraEnv,
    buildCommand: (c.get<string>('buildCommand') ?? '').trim() || DEFAULT_BUILD_COMMAND,
    maxEvents: Math.max(1000, Math.floor(c.get<number>('maxEvents') ?? 10_000_000)),
    traceOnStartup: (c.get<string>('traceOnStartup') ?? '').trim(),
  };
}
