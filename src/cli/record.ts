// `ipcscope record [--out FILE] [--no-page-faults] [--payload-bytes N] -- CMD [ARGS…]`
// Runs CMD (and every descendant) under the shim, streams the trace to FILE, prints a summary on stderr and exits
// with CMD's status (128+signal when it was killed). Like `strace -f`, it waits for every traced descendant; SIGINT
// or SIGTERM stops the whole tree and still writes a valid trace (END chunk).
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { constants } from 'node:os';
import { Collector } from '../common/collector';
import { isRunning, LaunchError, TracedProcess, type ExitInfo } from '../common/launcher';
import { formatRecordSummary } from './recordSummary';
import { intOption, parse, UsageError } from './usage';

const HELP = `usage: ipcscope record [options] -- CMD [ARGS...]

Runs CMD under the IPC Scope shim and writes every IPC event of it and its descendants to an .ipctrace file.

options:
  -o, --out FILE         trace file (default ipcscope-<timestamp>.ipctrace in the current directory)
  --payload-bytes N      payload preview bytes per read/write (0-4096, default 64; 0 turns previews off)
  --no-page-faults       do not sample page faults
  --no-snapshots         do not take page-table snapshots
  --max-events N         keep at most N events in memory (later ones are counted as dropped)
  -q, --quiet            no summary on stderr
  -h, --help

Exits with CMD's status (128+signal when CMD was killed); 127 when CMD is not found, 2 on bad usage.
`;

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
}

export function exitStatus(e: ExitInfo): number {
  if (e.code !== null) return e.code;
  const n = e.signal ? (constants.signals as Record<string, number>)[e.signal] : undefined;
  return 128 + (n ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const optArgs = dash >= 0 ? argv.slice(0, dash) : argv;
  const { values, positionals } = parse(optArgs, {
    out: { type: 'string', short: 'o' }, 'payload-bytes': { type: 'string' }, 'no-page-faults': { type: 'boolean' },
    'no-snapshots': { type: 'boolean' }, 'max-events': { type: 'string' }, quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write(HELP); return 0; }
  const command = dash >= 0 ? argv.slice(dash + 1) : positionals;
  if (dash >= 0 && positionals.length) throw new UsageError(`unexpected '${positionals[0]}' before '--'`);
  if (command.length === 0) throw new UsageError(`no command to record (usage: ipcscope record [options] -- CMD [ARGS...])`);
  const payloadBytes = intOption('payload-bytes', values['payload-bytes'], 0, 4096) ?? 64;
  const maxEvents = intOption('max-events', values['max-events'], 1, Number.MAX_SAFE_INTEGER);
  const out = resolve(values.out ?? `ipcscope-${timestamp()}.ipctrace`);

  const t0 = Date.now();
  const collector = await Collector.start({
    traceFile: out, payloadBytes, pageFaults: !values['no-page-faults'], snapshots: !values['no-snapshots'], maxEvents,
    meta: { command },
  });
  let target: TracedProcess;
  try {
    target = TracedProcess.launch({ command: command[0], args: command.slice(1), collector, stdio: 'inherit' });
  } catch (e) {
    await collector.close();
    rmSync(out, { force: true }); // nothing ran: leave no empty trace behind
    if (e instanceof LaunchError) { process.stderr.write(`ipcscope record: ${e.message}\n`); return e.exitCode; }
    throw e;
  }

  let interrupted: NodeJS.Signals | undefined;
  let stopping: Promise<ExitInfo> | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (!interrupted) collector.note('warning', `ipcscope record got ${sig}: stopping the traced tree`);
    interrupted = sig;
    stopping ??= target.stop('SIGTERM');
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onTerm);
  try {
    const exit = await target.exited;
    // Wait, like strace -f, for every traced descendant: live connections, connections still saying HELLO and
    // forked children that have not connected yet.
    for (;;) {
      if (stopping) { await stopping; break; }
      const busy = collector.liveConnections().length > 0 || collector.pendingConnections() > 0 ||
        collector.forkedPids().some((p) => !collector.hasSeenPid(p) && isRunning(p));
      if (!busy) break;
      await sleep(20);
    }
    collector.exitInfo = { code: exit.code, signal: exit.signal };
    // Anything still connected now belongs to a stopped tree: let its last messages arrive.
    await sleep(stopping ? 50 : 0);
    await collector.close();
    if (!values.quiet) {
      process.stderr.write(formatRecordSummary({
        store: collector.store, notes: collector.notes, dropped: collector.totalDropped(), seconds: (Date.now() - t0) / 1000,
        tracePath: collector.traceFileFailed ? undefined : out, mainPid: target.pid, mainExit: exit,
      }));
    }
    return exitStatus(exit);
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onTerm);
  }
}
