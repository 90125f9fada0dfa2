// A synthetic trace of any size as an EventSource with EventStore's column accessors, for the webview bench and
// the timelineData tests: a process tree whose threads talk over pipes (write → read with byte counts), take a
// shared mutex (uncontended and contended, with unlock), signal each other (kill → handler) and open/close files.
// Deterministic (seeded), compact (≈ 20 bytes per event) so 10M events fit; arguments are derived on demand.
import type { ConnectionInfo, EventSource, TraceEvent } from '../../src/common/traceEvent';
import type { Phase } from '../../src/common/vocabulary';
import { KINDS, argIndex, enumValue, kindId } from '../../src/common/vocabulary';

const K = {
  procStart: kindId('proc_start'), procExit: kindId('proc_exit'), threadStart: kindId('thread_start'), write: kindId('write'), read: kindId('read'),
  mutexLock: kindId('mutex_lock'), mutexUnlock: kindId('mutex_unlock'), kill: kindId('kill'), handler: kindId('signal_handler'),
  open: kindId('open'), close: kindId('close'), poll: kindId('poll'), fork: kindId('fork'),
};
const NARGS = new Uint8Array(256);
const ARGNAMES: string[][] = [];
for (const k of KINDS) { NARGS[k.id] = k.args.length; ARGNAMES[k.id] = [...k.args]; }
const OTYPE_PIPE = BigInt(enumValue('otype', 'pipe'));
const OTYPE_FILE = BigInt(enumValue('otype', 'file'));
const RW = { fd: argIndex('read', 'fd'), count: argIndex('read', 'count'), otype: argIndex('read', 'otype'), dev: argIndex('read', 'dev'), ino: argIndex('read', 'ino') };
const ORIGIN = 1_000_000_000_000n; // 1000 s of uptime

export interface SyntheticOptions { events: number; processes?: number; threadsPerProcess?: number; seed?: number }

export class SyntheticTrace implements EventSource {
  readonly count: number;
  private readonly kind: Uint16Array;
  private readonly phase: Uint8Array;
  private readonly thread: Uint16Array;
  private readonly ts: Float64Array; // integer ns offsets from ORIGIN (exact below 2^53)
  private readonly result: Int32Array;
  private readonly obj: Uint32Array; // pipe / file / mutex / signal-target number the args derive from
  private readonly pids: number[] = [];
  private readonly tids: number[] = [];
  private readonly ppids: number[] = [];
  private n = 0;

  constructor(opts: SyntheticOptions) {
    const N = opts.events;
    this.kind = new Uint16Array(N); this.phase = new Uint8Array(N); this.thread = new Uint16Array(N);
    this.ts = new Float64Array(N); this.result = new Int32Array(N); this.obj = new Uint32Array(N);
    const P = opts.processes ?? 8, T = opts.threadsPerProcess ?? 2;
    let seed = opts.seed ?? 1;
    const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x80000000; };
    const clock: number[] = [];
    for (let p = 0; p < P; p++) {
      for (let t = 0; t < T; t++) {
        this.pids.push(1000 + p); this.tids.push(t === 0 ? 1000 + p : 5000 + p * T + t); this.ppids.push(p === 0 ? 1 : 1000 + Math.floor((p - 1) / 2));
        clock.push(p * 20_000 + t * 3_000);
      }
    }
    const th = clock.length;
    const push = (thread: number, kind: number, phase: number, obj: number, result: number) => {
      if (this.n >= N) return;
      const i = this.n++;
      this.kind[i] = kind; this.phase[i] = phase; this.thread[i] = thread; this.ts[i] = clock[thread]; this.obj[i] = obj; this.result[i] = result;
    };
    // Every process starts (proc_start), its other threads start; then rounds of traffic.
    for (let j = 0; j < th; j++) push(j, this.tids[j] === this.pids[j] ? K.procStart : K.threadStart, 0, 0, 0);
    const reserve = th; // room for proc_exit at the end
    let round = 0;
    while (this.n < N - reserve) {
      const w = Math.floor(rnd() * th);
      let r = Math.floor(rnd() * th);
      if (this.pids[r] === this.pids[w]) r = (r + T) % th;
      const pipe = (Math.min(this.pids[w], this.pids[r]) * 131 + Math.max(this.pids[w], this.pids[r])) % 100_000;
      const bytes = 16 + Math.floor(rnd() * 240);
      // reader blocks first, writer writes, reader wakes
      const rStart = Math.max(clock[r], clock[w] - 2_000);
      clock[r] = rStart; push(r, K.read, 1, pipe, 0);
      clock[w] += 300 + Math.floor(rnd() * 2_000); push(w, K.write, 1, pipe, 0);
      clock[w] += 500 + Math.floor(rnd() * 1_500); push(w, K.write, 2, pipe, bytes);
      clock[r] = Math.max(clock[r], clock[w]) + 700; push(r, K.read, 2, pipe, bytes);
      const x = rnd();
      if (x < 0.25) { // mutex: contended wait, hold, unlock
        const m = this.pids[w] % 4;
        clock[w] += 200; push(w, K.mutexLock, 1, m, 0);
        clock[w] += 1_000 + Math.floor(rnd() * 20_000); push(w, K.mutexLock, 2, m, 0);
        clock[w] += 3_000 + Math.floor(rnd() * 10_000); push(w, K.mutexUnlock, 0, m, 0);
      } else if (x < 0.45) {
        const m = this.pids[r] % 4;
        clock[r] += 200; push(r, K.mutexLock, 0, m, 0);
        clock[r] += 2_000 + Math.floor(rnd() * 4_000); push(r, K.mutexUnlock, 0, m, 0);
      } else if (x < 0.5) {
        clock[w] += 500; push(w, K.kill, 0, r, 0);
        clock[r] = Math.max(clock[r], clock[w]) + 4_000; push(r, K.handler, 1, w, 0);
        clock[r] += 6_000; push(r, K.handler, 2, w, 0);
      } else if (x < 0.6) {
        clock[w] += 400; push(w, K.open, 0, 200_000 + (round % 50), 3);
        clock[w] += 4_000; push(w, K.close, 0, 200_000 + (round % 50), 0);
      } else if (x < 0.7) {
        clock[r] += 300; push(r, K.poll, 1, 0, 0);
        clock[r] += 10_000 + Math.floor(rnd() * 50_000); push(r, K.poll, 2, 0, 1);
      }
      clock[w] += 1_000 + Math.floor(rnd() * 4_000);
      clock[r] += 500 + Math.floor(rnd() * 2_000);
      round++;
    }
    const end = Math.max(...clock) + 10_000;
    for (let j = 0; j < th; j++) if (this.tids[j] === this.pids[j]) { clock[j] = end; push(j, K.procExit, 0, 0, 0); }
    this.count = this.n;
  }

  connections(): readonly ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    for (let j = 0; j < this.pids.length; j++) if (this.tids[j] === this.pids[j]) {
      const pid = this.pids[j];
      out.push({ conn: out.length + 1, pid, ppid: this.ppids[j], tid: pid, origin: pid === 1000 ? 'initial' : 'fork', session: 'synthetic',
        exe: pid === 1000 ? '/usr/bin/server' : `/usr/bin/worker-${pid - 1000}`, cwd: '/', argv: [], startNs: ORIGIN + BigInt(this.ts[0]), shim: 'synthetic' });
    }
    return out;
  }

  kindAt(i: number): number { return this.kind[i]; }
  phaseAt(i: number): number { return this.phase[i]; }
  pidAt(i: number): number { return this.pids[this.thread[i]]; }
  tidAt(i: number): number { return this.tids[this.thread[i]]; }
  tsAt(i: number): bigint { return ORIGIN + BigInt(this.ts[i]); }
  tsNumberAt(i: number): number { return Number(ORIGIN) + this.ts[i]; }
  errAt(_i: number): number { return 0; }
  resultAt(i: number): bigint { return BigInt(this.result[i]); }
  flagsAt(_i: number): number { return 0; }
  blobAt(i: number): Uint8Array | undefined {
    const k = this.kind[i];
    if ((k === K.write || k === K.read) && this.phase[i] === 2) return new TextEncoder().encode(`msg ${i} over pipe ${this.obj[i]}\n`.slice(0, this.result[i]));
    if (k === K.open) return new TextEncoder().encode(`/tmp/data-${this.obj[i]}.txt`);
    if (k === K.procStart) return new TextEncoder().encode(`${this.tidAt(i) === 1000 ? '/usr/bin/server' : `/usr/bin/worker-${this.pidAt(i) - 1000}`}\0/\0`);
    return undefined;
  }
  argAt(i: number, j: number): bigint {
    const k = this.kind[i], o = this.obj[i];
    const name = ARGNAMES[k]?.[j];
    if (name === undefined) throw new RangeError(`event ${i} has no argument ${j}`);
    if (k === K.write || k === K.read) {
      if (j === RW.fd) return k === K.read ? 3n : 4n;
      if (j === RW.count) return k === K.read ? 4096n : BigInt(this.result[i] || 64);
      if (j === RW.otype) return OTYPE_PIPE;
      if (j === RW.dev) return 14n;
      if (j === RW.ino) return BigInt(10_000 + o);
      return 0n;
    }
    if (k === K.open || k === K.close) {
      if (name === 'otype') return OTYPE_FILE;
      if (name === 'dev') return 2049n;
      if (name === 'ino') return BigInt(o);
      if (name === 'fd') return 3n;
      return 0n;
    }
    if (k === K.mutexLock || k === K.mutexUnlock) return name === 'mutex' ? 0x7f0000001000n + BigInt(o) * 64n : 0n;
    if (k === K.kill) return name === 'pid' ? BigInt(this.pids[o]) : name === 'sig' ? 10n : 0n;
    if (k === K.handler) return name === 'sig' ? 10n : name === 'senderPid' ? BigInt(this.pids[o]) : 0n;
    if (k === K.procStart) return name === 'ppid' ? BigInt(this.ppids[this.thread[i]]) : 0n;
    return 0n;
  }
  get(i: number): TraceEvent {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`no event ${i}`);
    const nargs = NARGS[this.kind[i]];
    const args: bigint[] = [];
    for (let j = 0; j < nargs; j++) args.push(this.argAt(i, j));
    return {
      index: i, kind: this.kind[i], phase: this.phase[i] as Phase, flags: 0, pid: this.pidAt(i), tid: this.tidAt(i), err: 0,
      ts: this.tsAt(i), result: this.resultAt(i), caller: 0x401000n + BigInt(this.kind[i]), args, blob: this.blobAt(i), conn: 1,
    };
  }
}
