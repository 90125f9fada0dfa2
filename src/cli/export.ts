// `ipcscope export --format FORMAT FILE [-o OUT]`: converts an .ipctrace. jsonl lives here; other formats register
// one line in FORMATS (e.g. perfetto: () => import('../common/model/exportPerfetto')).
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { EventStore } from '../common/store';
import { readTraceFile } from '../common/traceFile';
import { kindById, enumName } from '../common/vocabulary';
import { parse, UsageError } from './usage';

/** An export format: writes `store` to `out` (a file stream or stdout). */
export interface ExportFormat { write(store: EventStore, out: Writable): Promise<void> }

const FORMATS: Record<string, { description: string; load: () => Promise<ExportFormat> }> = {
  jsonl: { description: 'one JSON object per event, in time order', load: async () => ({ write: writeJsonl }) },
  perfetto: { description: 'Perfetto protobuf TrackEvent trace with flow arrows (ui.perfetto.dev)', load: async () => (await import('./exportModel')).perfetto },
  chrome: { description: 'Chrome trace-event JSON (chrome://tracing, ui.perfetto.dev; no arrows in Perfetto)', load: async () => (await import('./exportModel')).chrome },
};

const HELP = `usage: ipcscope export --format FORMAT FILE.ipctrace [-o OUT]

formats:
${Object.entries(FORMATS).map(([n, f]) => `  ${n.padEnd(10)} ${f.description}`).join('\n')}

Writes to OUT, or to stdout without -o.
`;

const HEADER_KEYS = new Set(['ts', 'pid', 'tid', 'kind', 'phase', 'result', 'errno', 'caller', 'flags', 'blob', 'blobBase64']);
const PRINTABLE = /^[\x20-\x7e\t\n\r\u00a0-\uffff]*$/u;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/**
 * A u64/i64 as a JSON number when exact, else a decimal string (never a rounded float). Arguments travel as u64:
 * one within 2^53 of 2^64 is a small negative number (fd -1, pid -1 for a group) and is shown as such.
 */
function num(v: bigint): number | string {
  if (v >= 1n << 63n && (1n << 64n) - v <= MAX_SAFE) return Number(v - (1n << 64n));
  return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : v.toString();
}

/** The JSON object of event i: ts (decimal string), pid, tid, kind, phase, result, errno, caller, arguments by name, blob. */
export function eventJson(store: EventStore, i: number): Record<string, unknown> {
  const k = store.kindAt(i);
  const info = kindById(k);
  const o: Record<string, unknown> = {
    ts: store.tsAt(i).toString(), pid: store.pidAt(i), tid: store.tidAt(i), kind: info?.name ?? k,
    phase: ['instant', 'begin', 'end'][store.phaseAt(i)], result: num(store.resultAt(i)), errno: store.errAt(i),
    caller: `0x${store.callerAt(i).toString(16)}`,
  };
  const flags = store.flagsAt(i);
  if (flags) o.flags = flags;
  if (info) {
    info.args.forEach((name, j) => {
      const v = store.argAt(i, j);
      const e = info.argEnums[j];
      // An argument named like a header field (wait's pid, tgkill's tid, open's flags) must not overwrite it.
      o[HEADER_KEYS.has(name) ? `arg.${name}` : name] = e ? enumName(e, Number(v)) : num(v);
    });
  }
  const blob = store.blobAt(i);
  if (blob) {
    let text: string | undefined;
    try { text = utf8.decode(blob); } catch { text = undefined; }
    if (text !== undefined && PRINTABLE.test(text)) o.blob = text;
    else o.blobBase64 = Buffer.from(blob).toString('base64');
  }
  return o;
}

/** Event indices in time order (stable: arrival order breaks ties). */
export function timeOrder(store: EventStore): Uint32Array {
  const idx = new Uint32Array(store.count);
  const ts = new Float64Array(store.count);
  for (let i = 0; i < idx.length; i++) { idx[i] = i; ts[i] = store.tsNumberAt(i); }
  let sorted = true;
  for (let i = 1; i < idx.length && sorted; i++) if (ts[i] < ts[i - 1]) sorted = false;
  if (!sorted) idx.sort((a, b) => ts[a] - ts[b] || a - b);
  return idx;
}

async function writeJsonl(store: EventStore, out: Writable): Promise<void> {
  const order = timeOrder(store);
  let buf = '';
  for (const i of order) {
    buf += `${JSON.stringify(eventJson(store, i))}\n`;
    if (buf.length > 1 << 16) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  if (buf) out.write(buf);
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { format: { type: 'string', short: 'f' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) { process.stdout.write(HELP); return 0; }
  if (!values.format) throw new UsageError(`--format is required (${Object.keys(FORMATS).join(', ')})`);
  const fmt = Object.prototype.hasOwnProperty.call(FORMATS, values.format) ? FORMATS[values.format] : undefined;
  if (!fmt) throw new UsageError(`unknown format '${values.format}' (known: ${Object.keys(FORMATS).join(', ')})`);
  if (positionals.length !== 1) throw new UsageError(`expected one trace file, got ${positionals.length}`);
  const store = await readTraceFile(positionals[0]);
  if (store.cutOff) process.stderr.write(`ipcscope export: warning: ${positionals[0]}: ${store.cutOff}; exporting what is there\n`);
  const writer = await fmt.load();
  if (values.out) {
    const out = createWriteStream(values.out);
    const closed = new Promise<void>((res, rej) => { out.on('close', res); out.on('error', rej); });
    await writer.write(store, out);
    out.end();
    await closed;
  } else {
    await writer.write(store, process.stdout);
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
  }
  return 0;
}
