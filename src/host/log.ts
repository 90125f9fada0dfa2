// The IPC Scope output channel: session lifecycle, ports and notes. Never the collector's secret.
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function initLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('IPC Scope', { log: true });
  return channel;
}

export const log = {
  info: (m: string) => initLog().info(m),
  warn: (m: string) => initLog().warn(m),
  error: (m: string) => initLog().error(m),
};
