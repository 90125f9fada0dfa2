// What "trace this file" means: C sources are compiled with debug info first (ipcScope.buildCommand), Python
// and shell scripts run under their interpreter, anything executable runs as is.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { formatArgs } from '../common/shellArgs';

/** A program the user asked to trace: remembered for Trace Last Program Again. */
export interface ProgramSpec {
  /** The file the user picked (source, script or executable). */
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The session's name when not the file's (the Demo Gallery names sessions after demos). */
  readonly label?: string;
  /** Overrides ipcScope.pageFaults for this program (the gallery's memory demos need the faults). */
  readonly pageFaults?: boolean;
}

export interface LaunchPlan {
  readonly command: string;
  readonly args: string[];
  /** A shell command line to run first (C sources), with its output path. */
  readonly build?: { readonly commandLine: string; readonly output: string };
  readonly label: string;
}

/** POSIX shell quoting for values substituted into the build command. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function buildOutputPath(source: string): string {
  // Outside the workspace so tracing never litters the user's folder; stable per source so rebuilds reuse it.
  const dir = join(tmpdir(), 'ipc-scope-build', createHash('sha256').update(source).digest('hex').slice(0, 12));
  mkdirSync(dir, { recursive: true });
  return join(dir, basename(source, extname(source)));
}

/** How a run is named in the Sessions view: the file and, when there are any, its arguments (shortened). */
export function programLabel(spec: ProgramSpec): string {
  const args = formatArgs(spec.args);
  if (!args) return basename(spec.file);
  return `${basename(spec.file)} ${args.length > 40 ? `${args.slice(0, 39)}…` : args}`;
}

export function planLaunch(spec: ProgramSpec, buildCommand: string): LaunchPlan {
  const file = spec.file;
  const ext = extname(file).toLowerCase();
  const label = basename(file);
  let st;
  try { st = statSync(file); } catch { throw new Error(`${file} does not exist`); }
  if (!st.isFile()) throw new Error(`${file} is not a file`);
  if (ext === '.c') {
    const output = buildOutputPath(file);
    const commandLine = buildCommand.replace(/\$\{file\}/g, shellQuote(file)).replace(/\$\{output\}/g, shellQuote(output));
    return { command: output, args: [...spec.args], build: { commandLine, output }, label };
  }
  if (ext === '.py') return { command: 'python3', args: [file, ...spec.args], label };
  if (ext === '.sh') return { command: 'sh', args: [file, ...spec.args], label };
  try { accessSync(file, constants.X_OK); } catch {
    throw new Error(`${label} is neither executable nor a C source, Python or shell script`);
  }
  return { command: file, args: [...spec.args], label };
}

/** Runs the build command line through /bin/sh in the source's folder, streaming its output. */
export function runBuild(commandLine: string, cwd: string, onOutput: (text: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', commandLine], { cwd: cwd || dirname(commandLine), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => onOutput(d.toString()));
    child.stderr.on('data', (d: Buffer) => onOutput(d.toString()));
    child.on('error', (e) => { onOutput(`${e.message}\n`); resolve(127); });
    child.on('close', (code) => resolve(code ?? 1));
  });
}
