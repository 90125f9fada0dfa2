// Starting a program under the shim and stopping its whole tree.
// The target runs in its own process group (so a terminal's Ctrl-C reaches only us, and we decide how to stop it);
// stop() signals that group AND every pid the collector saw, because traced programs may setsid() or setpgid().
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { Collector } from './collector';

/** Where the shim is: $IPCSCOPE_SHIM, else native/build or the packaged native/linux-x64 under the package root. */
export function shimPath(): string {
  const forced = process.env.IPCSCOPE_SHIM;
  if (forced) return resolve(forced);
  const dir = packageRoot('libipcscope.so', 'set IPCSCOPE_SHIM to the shim\'s path');
  for (const rel of ['native/build/libipcscope.so', 'native/linux-x64/libipcscope.so'])
    if (existsSync(join(dir, rel))) return join(dir, rel);
  return join(dir, 'native/build/libipcscope.so');
}

/**
 * The directory whose sitecustomize.py installs the shim's Python hook (Python file:line of each call): native/python
 * under the package root, the same in the repository and in the .vsix. $IPCSCOPE_PYTHON_HOOKS overrides it.
 */
export function pythonHookDir(): string {
  const forced = process.env.IPCSCOPE_PYTHON_HOOKS;
  if (forced) return resolve(forced);
  return join(packageRoot('native/python', 'set IPCSCOPE_PYTHON_HOOKS to its path'), 'native/python');
}

/** The ipc-scope package's root: the first directory above this file holding its package.json. */
function packageRoot(what: string, hint: string): string {
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ipc-scope') return dir;
      } catch { /* not our package.json; keep climbing */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`${what}: no ipc-scope package.json above ${__dirname}; ${hint}`);
    dir = up;
  }
}

export interface LaunchOptions {
  command: string; args: string[]; cwd?: string; env?: NodeJS.ProcessEnv; collector: Collector; stdio?: 'inherit' | 'pipe';
}
export interface ExitInfo { code: number | null; signal: string | null }

/** The command could not be started; `exitCode` is what a shell would say (127 not found, 126 not executable). */
export class LaunchError extends Error {
  override name = 'LaunchError';
  constructor(message: string, readonly exitCode: number) { super(message); }
}

function isExecutableFile(p: string): boolean {
  try { return statSync(p).isFile() && (accessSync(p, constants.X_OK), true); } catch { return false; }
}

/** Resolves a command like execvp would, so a missing program gets a clear message before anything is spawned. */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv, cwd: string): string {
  if (command.includes('/')) {
    const p = resolve(cwd, command);
    if (!existsSync(p)) throw new LaunchError(`${command}: no such file`, 127);
    if (!isExecutableFile(p)) throw new LaunchError(`${command}: not an executable file (permission denied)`, 126);
    return p;
  }
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const p = resolve(cwd, dir || '.', command);
    if (isExecutableFile(p)) return p;
  }
  throw new LaunchError(`${command}: command not found (searched PATH)`, 127);
}

/** Whether `pid` is running (a zombie, which still answers signal 0, is not). */
export function isRunning(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  // A zombie still answers signal 0; it is not running.
  try { return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

function signalQuietly(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TracedProcess extends EventEmitter {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  private constructor(private readonly child: ChildProcess, private readonly collector: Collector) {
    super();
    this.pid = child.pid!;
    this.exited = new Promise((res) => {
      child.once('exit', (code, signal) => { this.exitInfo = { code, signal }; res(this.exitInfo); });
      // spawn failures after the checks in launch() (a race with the file vanishing): exit 127 like a shell
      child.once('error', (err) => {
        if (this.exitInfo) return;
        this.exitInfo = { code: 127, signal: null };
        this.emit('stderr', Buffer.from(`ipcscope: ${err.message}\n`));
        res(this.exitInfo);
      });
    });
    child.stdout?.on('data', (d: Buffer) => this.emit('stdout', d));
    child.stderr?.on('data', (d: Buffer) => this.emit('stderr', d));
    // A target that closes its stdin early must not crash us with EPIPE.
    child.stdin?.on('error', () => undefined);
  }

  static launch(opts: LaunchOptions): TracedProcess {
    const cwd = opts.cwd ?? process.cwd();
    const env = opts.collector.envFor(opts.env);
    const file = resolveCommand(opts.command, env, cwd);
    const shim = env.LD_PRELOAD!.split(':')[0];
    if (!existsSync(shim)) throw new LaunchError(`the shim ${shim} does not exist: build it with 'make -C native'`, 127);
    const stdio = opts.stdio ?? 'inherit';
    const child = spawn(file, opts.args, { cwd, env, detached: true, stdio, argv0: opts.command });
    if (child.pid === undefined) throw new LaunchError(`${opts.command}: could not be started`, 127);
    return new TracedProcess(child, opts.collector);
  }

  write(data: string | Uint8Array): void {
    if (!this.child.stdin) throw new Error('write(): the program was launched with stdio "inherit"; use stdio "pipe" to write to it');
    this.child.stdin.write(data);
  }
  /** Closes the program's stdin (pipe mode). */
  endInput(): void { this.child.stdin?.end(); }

  /**
   * Every pid of the tree we know: the group leader, pids with a live connection, and forked children that have not
   * connected yet. A pid whose connections all closed has ended and is left alone: its number may belong to an
   * unrelated process by now.
   */
  private treePids(): number[] {
    const pids = new Set<number>(this.exitInfo ? [] : [this.pid]);
    for (const c of this.collector.liveConnections()) pids.add(c.pid);
    for (const p of this.collector.forkedPids()) if (!this.collector.hasSeenPid(p)) pids.add(p);
    return [...pids];
  }

  /**
   * Processes whose environment carries this session's secret: every traced descendant, including ones that left the
   * process group and whose shim has not connected yet (or whose fork event died with their parent's buffers).
   */
  private sessionPids(): number[] {
    const out: number[] = [];
    let entries: string[];
    try { entries = readdirSync('/proc'); } catch { return out; }
    for (const e of entries) {
      if (!/^\d+$/.test(e)) continue;
      const pid = Number(e);
      if (pid === process.pid) continue;
      try { if (this.collector.ownsEnvironment(readFileSync(`/proc/${e}/environ`, 'latin1'))) out.push(pid); } catch { /* gone, or not ours */ }
    }
    return out;
  }

  private signalTree(sig: NodeJS.Signals): void {
    signalQuietly(-this.pid, sig); // the process group
    for (const p of new Set([...this.treePids(), ...this.sessionPids()])) if (p !== process.pid && isRunning(p)) signalQuietly(p, sig);
  }

  private treeRunning(): boolean {
    return !this.exitInfo || this.treePids().some(isRunning) || this.sessionPids().some(isRunning);
  }

  /** Stops the whole tree: `signal` (SIGTERM) first, SIGKILL after `graceMs`; resolves when all of it is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<ExitInfo> {
    if (this.treeRunning()) {
      this.signalTree(signal);
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && this.treeRunning()) {
        await sleep(20);
        this.signalTree(signal); // processes that appeared meanwhile (a fork in flight) get the same signal
      }
      for (let round = 0; round < 50 && (this.treeRunning() || groupAlive(this.pid)); round++) {
        this.signalTree('SIGKILL');
        await sleep(20);
      }
    }
    return this.exited;
  }
}

/** Whether any process is left in process group `pgid`. */
function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}
