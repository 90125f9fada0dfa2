// The short summary `ipcscope record` prints on stderr: processes (argv, exit status), events by kind, IPC objects
// (distinct dev/ino per object type), drops and notes.
import type { EventStore, SessionNote } from '../common/store';
import { ENUMS, KINDS, kindById, kindId, MAX_KIND_ID } from '../common/vocabulary';

const PROC_EXIT = kindId('proc_exit');
const FATAL = kindId('fatal_signal');

/** Per kind: where its otype/dev/ino arguments are, or the fixed object type it creates. */
const OBJECT_ARGS: ({ otype: number | string; dev: number; ino: number } | undefined)[] = new Array(MAX_KIND_ID + 1);
for (const k of KINDS) {
  const dev = k.args.indexOf('dev'), ino = k.args.indexOf('ino'), ot = k.args.indexOf('otype');
  if (dev < 0 || ino < 0) continue;
  const fixed: Record<string, string> = { pipe: 'pipe', mq_open: 'mqueue', mq_send: 'mqueue', mq_receive: 'mqueue', shm_open: 'shm',
    epoll_create: 'epoll', eventfd: 'eventfd', socket: 'socket', flock: 'locked file', fcntl_lock: 'locked file', lockf: 'locked file' };
  if (ot >= 0) OBJECT_ARGS[k.id] = { otype: ot, dev, ino };
  else if (fixed[k.name]) OBJECT_ARGS[k.id] = { otype: fixed[k.name], dev, ino };
}
const NOT_IPC = new Set(['unknown', 'file', 'dir', 'chrdev', 'blockdev', 'tty']);

export function signalName(sig: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
    10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM' };
  return names[sig] ?? `signal ${sig}`;
}

export interface RecordSummaryInput {
  store: EventStore; notes: readonly SessionNote[]; dropped: number; tracePath?: string; seconds: number;
  mainPid?: number; mainExit?: { code: number | null; signal: string | null };
}

export function formatRecordSummary(s: RecordSummaryInput): string {
  const { store } = s;
  const byKind = new Map<number, number>();
  const objects = new Map<string, Set<string>>();
  const exitOf = new Map<number, string>(); // conn → status text
  for (let i = 0; i < store.count; i++) {
    const k = store.kindAt(i);
    byKind.set(k, (byKind.get(k) ?? 0) + 1);
    const o = OBJECT_ARGS[k];
    if (o) {
      const otype = typeof o.otype === 'number' ? ENUMS.otype[store.argSmallAt(i, o.otype)] ?? 'unknown' : o.otype;
      const ino = store.argAt(i, o.ino);
      if (!NOT_IPC.has(otype) && ino !== 0n) {
        let set = objects.get(otype);
        if (!set) objects.set(otype, set = new Set());
        set.add(`${store.argAt(i, o.dev)}:${ino}`);
      }
    }
    if (k === PROC_EXIT) {
      const how = ENUMS.exitHow[store.argSmallAt(i, 1)] ?? '?';
      const st = Number(store.argAt(i, 0));
      exitOf.set(store.connAt(i), how === 'fatal_signal' ? `killed by ${signalName(st)}` : `exit ${st}`);
    } else if (k === FATAL) exitOf.set(store.connAt(i), `killed by ${signalName(Number(store.argAt(i, 0)))}`);
  }
  const lines: string[] = [];
  const conns = store.connections();
  const pids = new Set(conns.map((c) => c.pid));
  lines.push(`ipcscope: recorded ${store.count} events from ${pids.size} process${pids.size === 1 ? '' : 'es'} (${conns.length} images) in ${s.seconds.toFixed(2)} s${s.tracePath ? ` -> ${s.tracePath}` : ''}`);
  if (conns.length) lines.push('  processes:');
  for (const c of conns) {
    const closed = store.closed.get(c.conn);
    let status = exitOf.get(c.conn);
    if (c.pid === s.mainPid && s.mainExit && !conns.some((d) => d.pid === c.pid && d.conn > c.conn))
      status = s.mainExit.signal ? `killed by ${s.mainExit.signal}` : `exit ${s.mainExit.code}`;
    if (!status) status = closed ? (closed.bye ? (closed.reason === 'bye' ? 'ended' : closed.reason) : 'ended abnormally (no BYE)') : 'still running at the end';
    if (closed?.bye && closed.reason === 'bye' && conns.some((d) => d.pid === c.pid && d.conn > c.conn && d.origin === 'exec')) status = 'exec';
    const argv = c.argv.length ? c.argv.join(' ') : c.exe;
    lines.push(`    ${String(c.pid).padStart(7)}  ${c.origin.padEnd(7)} ${argv.length > 60 ? `${argv.slice(0, 57)}...` : argv.padEnd(60)}  ${status}`);
  }
  const kinds = [...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${kindById(k)?.name ?? k} ${n}`);
  if (kinds.length) lines.push(`  events by kind: ${kinds.join(', ')}`);
  const objs = [...objects.entries()].sort().map(([t, set]) => `${t} ${set.size}`);
  lines.push(`  IPC objects: ${objs.length ? objs.join(', ') : 'none'}`);
  lines.push(`  dropped: ${s.dropped}`);
  for (const n of s.notes) lines.push(`  ${n.level}: ${n.message}`);
  return `${lines.join('\n')}\n`;
}
