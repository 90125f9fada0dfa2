// Words for the ipcscope debug adapter: a traced call as one line (`write(fd 4 → pipe:[81234], 64 bytes)`), its
// arguments decoded for the Variables pane, and a process's signals and page counts from /proc. No vscode import.
import { readFileSync } from 'node:fs';
import type { TraceEvent } from '../traceEvent';
import { kindById, enumName, PHASE } from '../vocabulary';
import { signalName } from './breakpoints';

const IO_KINDS = new Set(['read', 'write']);

/** Named arguments of an event (events.json order), enum values still numeric. */
export function namedArgs(e: TraceEvent): Map<string, bigint> {
  const k = kindById(e.kind);
  const m = new Map<string, bigint>();
  k?.args.forEach((a, i) => m.set(a, e.args[i] ?? 0n));
  if (e.phase === PHASE.end || e.phase === PHASE.instant) m.set('result', e.result);
  return m;
}

function objectName(otype: string, ino: bigint): string {
  return ino ? `${otype}:[${ino}]` : otype;
}

/** One line for a call: `write(fd 4 → pipe:[81234], 64 bytes)`; completed calls add `= result`. */
export function callLabel(e: TraceEvent | undefined, kind: number): string {
  const k = kindById(kind);
  const name = k?.name ?? `kind ${kind}`;
  if (!e || e.kind !== kind) return `${name}(…)`;
  const a = namedArgs(e);
  let body: string;
  if (IO_KINDS.has(name)) {
    const how = enumName(name === 'read' ? 'readHow' : 'writeHow', Number(a.get('how') ?? 0n));
    const arrow = name === 'write' ? '→' : '←';
    const ot = enumName('otype', Number(a.get('otype') ?? 0n));
    body = `${how}(fd ${BigInt.asIntN(64, a.get('fd') ?? 0n)} ${arrow} ${objectName(ot, a.get('ino') ?? 0n)}, ${a.get('count')} bytes)`;
    return e.phase === PHASE.end ? `${body} = ${BigInt.asIntN(64, e.result)}` : body;
  }
  const parts: string[] = [];
  k!.args.forEach((arg, i) => {
    if (arg === 'dev' || arg === 'ino' || arg === 'otype') return;
    const v = e.args[i] ?? 0n;
    const en = k!.argEnums[i];
    if (en) parts.push(`${arg}=${enumName(en, Number(v))}`);
    else if (arg === 'sig') parts.push(signalName(Number(v)));
    else if (/mutex|rwlock|cond|sem|spin|addr|handler|start/i.test(arg)) parts.push(`${arg}=0x${v.toString(16)}`);
    else parts.push(`${arg}=${BigInt.asIntN(64, v)}`);
  });
  body = `${name}(${parts.join(', ')})`;
  const showResult = e.phase === PHASE.end || (e.phase === PHASE.instant && e.result !== 0n);
  return showResult ? `${body} = ${BigInt.asIntN(64, e.result)}` : body;
}

export interface Var { name: string; value: string; children?: Var[] }

/** The Variables pane's view of a call's arguments: fds as objects, buffers as text and hex, enums by name. */
export function callVariables(e: TraceEvent, fdObject: (fd: number) => string | undefined): Var[] {
  const k = kindById(e.kind);
  if (!k) return [];
  const out: Var[] = [];
  k.args.forEach((arg, i) => {
    const v = e.args[i] ?? 0n;
    const en = k.argEnums[i];
    if (arg === 'fd' || arg === 'epfd') {
      const fd = Number(BigInt.asIntN(64, v));
      const obj = fdObject(fd);
      out.push({ name: arg, value: `${fd}${obj ? ` → ${obj}` : ''}`, children: [{ name: 'number', value: String(fd) }, { name: 'object', value: obj ?? '(unknown)' }] });
    } else if (en) out.push({ name: arg, value: enumName(en, Number(v)) });
    else if (arg === 'sig') out.push({ name: arg, value: `${signalName(Number(v))} (${v})` });
    else if (arg === 'flags' || arg === 'oflag') out.push({ name: arg, value: openFlags(Number(v)) });
    else if (/mutex|rwlock|cond|sem|spin|addr|handler|start|ino|dev/i.test(arg)) out.push({ name: arg, value: `0x${v.toString(16)}` });
    else out.push({ name: arg, value: String(BigInt.asIntN(64, v)) });
  });
  if (e.phase !== PHASE.begin) out.push({ name: 'result', value: String(BigInt.asIntN(64, e.result)) + (e.err ? ` (errno ${e.err})` : '') });
  if (e.blob && e.blob.length) out.push(bufferVar('data', e.blob));
  return out;
}

export function bufferVar(name: string, b: Uint8Array): Var {
  const text = Buffer.from(b).toString('latin1').replace(/[^\x20-\x7e]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : '.'));
  const hex = Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();
  return { name, value: JSON.stringify(text), children: [{ name: 'text', value: JSON.stringify(text) }, { name: 'hex', value: hex }, { name: 'length', value: String(b.length) }] };
}

const O_FLAGS: [number, string][] = [[0o1, 'O_WRONLY'], [0o2, 'O_RDWR'], [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'], [0o2000000, 'O_CLOEXEC']];
export function openFlags(f: number): string {
  const names = O_FLAGS.filter(([bit]) => f & bit).map(([, n]) => n);
  if (!(f & 3)) names.unshift('O_RDONLY');
  return `${names.join('|')} (0x${f.toString(16)})`;
}

/** Pending, blocked and caught signals of a live process, from /proc/PID/status. */
export function procSignals(pid: number): Var[] {
  let status: string;
  try { status = readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return [{ name: 'signals', value: '(process gone)' }]; }
  const field = (k: string): bigint => { const m = new RegExp(`^${k}:\\s*([0-9a-f]+)`, 'm').exec(status); return m ? BigInt('0x' + m[1]) : 0n; };
  const names = (mask: bigint): string => { const l: string[] = []; for (let s = 1; s <= 64; s++) if (mask >> BigInt(s - 1) & 1n) l.push(signalName(s)); return l.length ? l.join(' ') : '(none)'; };
  return [
    { name: 'pending (thread)', value: names(field('SigPnd')) },
    { name: 'pending (process)', value: names(field('ShdPnd')) },
    { name: 'blocked', value: names(field('SigBlk')) },
    { name: 'caught', value: names(field('SigCgt')) },
    { name: 'state', value: /^State:\s*(.*)$/m.exec(status)?.[1] ?? '?' },
  ];
}

/** Shared and private resident pages of a live process (smaps_rollup). */
export function procPages(pid: number): Var[] {
  let s: string;
  try { s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'); } catch { return [{ name: 'pages', value: '(process gone)' }]; }
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s*(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  const pages = (n: number): string => `${n / 4} pages (${n} kB)`;
  return [
    { name: 'shared', value: pages(kb('Shared_Clean') + kb('Shared_Dirty')) },
    { name: 'private', value: pages(kb('Private_Clean') + kb('Private_Dirty')) },
    { name: 'resident', value: pages(kb('Rss')) },
  ];
}
