// Types of editor.mjs for the TypeScript tests that import it.
import type { BrowserContext } from 'playwright-core';

export const NODE_VERSION: string;
export const CODE_SERVER_VERSION: string;
export interface EditorPaths { cache: string; nodePrefix: string; nodeDir: string; codeServerPrefix: string; node: string; codeServerEntry: string; chromium: string }
export function cacheDir(): string;
export function editorPaths(): EditorPaths;
export function ensureEditor(): EditorPaths;
export function freePort(): Promise<number>;
export function pidsWithToken(token: string): number[];
export const QUIET_SETTINGS: Record<string, unknown>;
export interface CodeServerOptions {
  port?: number; trust?: boolean; settings?: Record<string, unknown>; env?: NodeJS.ProcessEnv; logFile?: string; echo?: boolean;
  keep?: boolean; tmpRoot?: string; vsix?: string;
}
export interface CodeServer {
  port: number; base: string; root: string; userDataDir: string; extensionsDir: string; pid: number; token: string;
  output(): string;
  workbenchUrl(o?: { folder?: string; extensionDevelopmentPath?: string; extensionTestsPath?: string }): string;
  stop(): Promise<void>;
}
export function startCodeServer(opts?: CodeServerOptions): Promise<CodeServer>;
export function launchChromium(opts?: { headless?: boolean; viewport?: { width: number; height: number }; args?: string[] }): Promise<{ context: BrowserContext; close(): Promise<void> }>;
