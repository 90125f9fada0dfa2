// Builds small traces for the panel tests the way the shim sends them: records encoded with the real wire encoder
// and appended to a real EventStore (so the decode path is the production one). Used where the behaviour under test
// needs an exact, known sequence (a deadlock at a chosen time, a fault on a chosen page); the recorded-program tests
// beside them run the real demos under the real shim.
import { encodeEventsBody, type EventRecord } from '../../src/common/protocol';
import { EventStore } from '../../src/common/store';
import { argIndex, kindByName, kindId, PHASE } from '../../src/common/vocabulary';

export interface EvOpts { result?: bigint | number; err?: number; caller?: bigint; blob?: Uint8Array | string; phase?: keyof typeof PHASE }

export class TraceBuilder {
  private conns: { conn: number; pid: number; ppid: number; origin: string; exe: string; startNs: bigint; records: EventRecord[] }[] = [];

  /** A process image; returns its connection id. */
  image(pid: number, opts: { ppid?: number; origin?: string; exe?: string; startNs?: bigint } = {}): number {
    const conn = this.conns.length + 1;
    this.conns.push({ conn, pid, ppid: opts.ppid ?? 1, origin: opts.origin ?? 'initial', exe: opts.exe ?? '/usr/bin/demo', startNs: opts.startNs ?? 0n, records: [] });
    return conn;
  }

  /** One event; args by name (missing ones are 0). */
  ev(conn: number, tid: number, kind: string, ts: bigint, args: Record<string, bigint | number> = {}, o: EvOpts = {}): this {
    const info = kindByName(kind)!;
    const a = info.args.map(() => 0n);
    for (const [k, v] of Object.entries(args)) a[argIndex(kind, k)] = BigInt(v);
    const blob = typeof o.blob === 'string' ? new TextEncoder().encode(o.blob) : o.blob;
    this.conns[conn - 1].records.push({ kind: kindId(kind), phase: PHASE[o.phase ?? 'instant'], flags: 0, tid, err: o.err ?? 0, ts,
      result: BigInt(o.result ?? 0), caller: o.caller ?? 0n, args: a, blob });
    return this;
  }

  build(): EventStore {
    const store = new EventStore();
    for (const c of this.conns) {
      store.addConnection({ conn: c.conn, pid: c.pid, ppid: c.ppid, tid: c.pid, origin: c.origin, session: 'test', exe: c.exe, cwd: '/',
        argv: [c.exe], startNs: c.startNs, shim: 'test' });
      // Records of one thread arrive in order; like the shim, send them in time order per connection.
      const recs = [...c.records].sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
      for (let i = 0; i < recs.length; i += 500) store.appendEventsBody(c.conn, c.pid, encodeEventsBody(recs.slice(i, i + 500)));
    }
    return store;
  }
}

/** pagemap entries (little-endian u64 each), then optional map counts, as page_snapshot blobs carry them. */
export function pagemapBlob(entries: bigint[], mapcounts?: number[]): Uint8Array {
  const out = new Uint8Array(entries.length * 8 + (mapcounts ? entries.length : 0));
  const dv = new DataView(out.buffer);
  entries.forEach((e, i) => dv.setBigUint64(i * 8, e, true));
  mapcounts?.forEach((m, i) => { out[entries.length * 8 + i] = m; });
  return out;
}
export const PM = { present: 1n << 63n, exclusive: 1n << 56n, file: 1n << 61n };
