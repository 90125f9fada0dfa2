// Code and data addresses of a traced image to "function file:line" and variable names, with binutils' addr2line
// and nm (one run per binary for all addresses at once). Mappings come from the trace's `mapping` events; a PIE or
// shared object is relocated through its ELF program headers.
import { execFile } from 'node:child_process';
import { closeSync, openSync, readSync, existsSync } from 'node:fs';
import { promisify } from 'node:util';
import type { EventSource } from '../traceEvent';
import { argIndex, kindId } from '../vocabulary';
import type { ResolveOptions, SourceLine } from './locks';
import { CallSiteResolver } from '../model/callsites';
import type { TraceModel } from '../model/model';

const run = promisify(execFile);
interface Mapping { start: bigint; end: bigint; offset: bigint; path: string }

interface ElfInfo { dyn: boolean; loads: { offset: bigint; vaddr: bigint; filesz: bigint; memsz: bigint }[] }
/** ELF type and PT_LOAD segments (64-bit little-endian only: the shim runs on x86-64/aarch64 Linux). */
export function readElf(path: string): ElfInfo | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const h = Buffer.alloc(64);
    if (readSync(fd, h, 0, 64, 0) < 64 || h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2 || h[5] !== 1) return undefined;
    const type = h.readUInt16LE(16), phoff = h.readBigUInt64LE(32), phentsize = h.readUInt16LE(54), phnum = h.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, Number(phoff));
    const loads: ElfInfo['loads'] = [];
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (ph.readUInt32LE(o) === 1) loads.push({ offset: ph.readBigUInt64LE(o + 8), vaddr: ph.readBigUInt64LE(o + 16), filesz: ph.readBigUInt64LE(o + 32), memsz: ph.readBigUInt64LE(o + 40) });
    }
    return { dyn: type === 3, loads };
  } catch { return undefined; } finally { if (fd !== undefined) closeSync(fd); }
}

export class Symbolizer {
  private maps = new Map<number, Mapping[]>();
  private code = new Map<string, SourceLine>();
  private data = new Map<string, string>();
  private elf = new Map<string, ElfInfo | undefined>();
  private nmCache = new Map<string, { addr: bigint; size: bigint; name: string }[]>();

  private forkParent = new Map<number, number>();
  /** Events read so far (a live source grows; update() reads only what came since). */
  private scanned = 0;
  /** Data addresses looked up in their binary's symbols (found or not): not looked up again. */
  private dataTried = new Set<string>();

  constructor(private readonly source: EventSource) { this.update(); }

  /** Reads the mappings and connections the source got since the last call (cheap when nothing is new). */
  update(): void {
    const source = this.source;
    const images = source.connections();
    for (const c of images) {
      if ((c.origin !== 'fork' && c.origin !== 'vfork') || this.forkParent.has(c.conn)) continue;
      const p = images.filter((x) => x.pid === c.ppid && x.startNs <= c.startNs).sort((a, b) => (a.startNs > b.startNs ? -1 : 1))[0];
      if (p) this.forkParent.set(c.conn, p.conn);
    }
    const k = kindId('mapping');
    const [s, e, off] = [argIndex('mapping', 'start'), argIndex('mapping', 'end'), argIndex('mapping', 'offset')];
    const kindAt = (source as EventSource & { kindAt?(i: number): number }).kindAt?.bind(source);
    const end = source.count;
    for (let i = this.scanned; i < end; i++) {
      if (kindAt && kindAt(i) !== k) continue;
      const ev = source.get(i);
      if (ev.kind !== k || !ev.blob) continue;
      const path = new TextDecoder().decode(ev.blob);
      if (!path.startsWith('/')) continue;
      const list = this.maps.get(ev.conn) ?? this.maps.set(ev.conn, []).get(ev.conn)!;
      if (!list.some((m) => m.start === ev.args[s])) list.push({ start: ev.args[s], end: ev.args[e], offset: ev.args[off], path });
    }
    this.scanned = end;
  }

  /** Binary path and link-time address of a runtime address, or undefined. */
  locate(conn: number, addr: bigint): { path: string; vaddr: bigint } | undefined {
    // A fork child shares its parent's code mappings (the shim sends code mappings at start and exec only).
    for (let c: number | undefined = conn, depth = 0; c !== undefined && depth < 64; c = this.forkParent.get(c), depth++) {
      const r = this.locateIn(c, addr);
      if (r) return r;
    }
    return undefined;
  }

  private locateIn(conn: number, addr: bigint): { path: string; vaddr: bigint } | undefined {
    const list = this.maps.get(conn) ?? [];
    // .bss past the last file page lives in an anonymous mapping right after the binary's: use the binary below it.
    const m = list.find((x) => addr >= x.start && addr < x.end)
      ?? list.filter((x) => x.start <= addr && addr - x.start < 1n << 24n).sort((x, y) => (x.start > y.start ? -1 : 1))[0];
    if (!m) return undefined;
    if (!this.elf.has(m.path)) this.elf.set(m.path, existsSync(m.path) ? readElf(m.path) : undefined);
    const elf = this.elf.get(m.path);
    if (!elf) return undefined;
    const fileOff = addr - m.start + m.offset;
    if (!elf.dyn) return { path: m.path, vaddr: addr };
    const seg = elf.loads.find((l) => fileOff >= l.offset && fileOff < l.offset + l.memsz);
    return { path: m.path, vaddr: seg ? fileOff - seg.offset + seg.vaddr : fileOff };
  }

  /**
   * Resolves return addresses (code) and object addresses (data) in a few addr2line/nm runs. Return addresses
   * point after the call, so the line of `addr - 1` is the calling line.
   */
  async prepare(code: { conn: number; addr: bigint }[], data: { conn: number; addr: bigint }[] = []): Promise<void> {
    const byPath = new Map<string, { key: string; vaddr: bigint }[]>();
    for (const c of code) {
      const key = `${c.conn}:${c.addr}`;
      if (this.code.has(key)) continue;
      const loc = this.locate(c.conn, c.addr - 1n);
      if (!loc) { this.code.set(key, {}); continue; }
      (byPath.get(loc.path) ?? byPath.set(loc.path, []).get(loc.path)!).push({ key, vaddr: loc.vaddr });
    }
    await Promise.all([...byPath].map(async ([path, list]) => {
      try {
        const { stdout } = await run('addr2line', ['-f', '-C', '-e', path, ...list.map((l) => `0x${l.vaddr.toString(16)}`)], { maxBuffer: 64 << 20 });
        const lines = stdout.split('\n');
        list.forEach((l, i) => {
          const func = lines[i * 2], where = lines[i * 2 + 1] ?? '';
          const m = /^(.*):(\d+)/.exec(where);
          this.code.set(l.key, { func: func && func !== '??' ? func : undefined, file: m && m[1] !== '??' ? m[1] : undefined, line: m ? Number(m[2]) : undefined });
        });
      } catch { for (const l of list) this.code.set(l.key, {}); }
    }));
    for (const d of data) {
      const key = `${d.conn}:${d.addr}`;
      if (this.data.has(key)) continue;
      const loc = this.locate(d.conn, d.addr);
      // Outside every binary (a heap or stack mutex): no name now or later while live (a final build starts afresh).
      this.dataTried.add(key);
      if (!loc) continue;
      let syms = this.nmCache.get(loc.path);
      if (!syms) {
        syms = [];
        try {
          const { stdout } = await run('nm', ['-C', '-S', '--defined-only', loc.path], { maxBuffer: 64 << 20 });
          for (const line of stdout.split('\n')) {
            const m = /^([0-9a-f]+) ([0-9a-f]+) [bBdDrRgGsS] (.+)$/.exec(line);
            if (m) syms.push({ addr: BigInt(`0x${m[1]}`), size: BigInt(`0x${m[2]}`), name: m[3] });
          }
        } catch { /* stripped or not a binary: no names */ }
        this.nmCache.set(loc.path, syms);
      }
      const s = syms.find((x) => loc.vaddr >= x.addr && loc.vaddr < x.addr + x.size);
      if (s) this.data.set(key, loc.vaddr === s.addr ? s.name : `${s.name}+${loc.vaddr - s.addr}`);
    }
  }

  /** Whether prepare() looked `addr` up in its binary's symbols already (a name or none). */
  triedData(conn: number, addr: bigint): boolean { return this.dataTried.has(`${conn}:${addr}`); }

  resolveCode = (conn: number, addr: bigint): SourceLine | undefined => this.code.get(`${conn}:${addr}`);
  resolveData = (conn: number, addr: bigint): string | undefined => this.data.get(`${conn}:${addr}`);
}

/**
 * Lock call sites and data names while a session records. A refresh builds the lock table with what is resolved
 * already (raw addresses for the rest) and never waits: the addresses it missed are resolved in the background, in
 * one batch at a time (async addr2line per binary, nm once per binary), each address once; when a batch brings
 * something new, `version` goes up and `onResolved` fires so the panel refreshes. The caches (per binary in the
 * CallSiteResolver, per image in the Symbolizer) live as long as the session's panel, across refreshes.
 */
export class LiveLockSymbols {
  readonly callSites: CallSiteResolver;
  private readonly sym: Symbolizer;
  private missCode = new Map<number, Set<bigint>>();
  private missData = new Map<string, { conn: number; addr: bigint }>();
  private connOf = new Map<number, number>();
  private running: Promise<void> | undefined;
  /** Goes up each time a batch resolved something (the panel's data is stale until it is rebuilt). */
  version = 0;
  /** Called after a batch resolved something. */
  onResolved?: () => void;
  /** Batches run so far and the addresses they sent to addr2line (tests and logs). */
  readonly stats = { batches: 0, codeResolved: 0 };

  constructor(private readonly model: TraceModel, callSites?: CallSiteResolver) {
    this.callSites = callSites ?? new CallSiteResolver(model);
    this.sym = new Symbolizer(model.source);
  }

  /** What buildLocksData asks: answers from the caches, records each miss for the next batch. */
  options(): ResolveOptions {
    this.sym.update();
    // Data names through the pid's latest image (the symbolizer knows images by connection).
    this.connOf.clear();
    for (const c of [...this.model.source.connections()].sort((a, b) => (a.startNs < b.startNs ? -1 : 1))) this.connOf.set(c.pid, c.conn);
    return {
      resolveCode: (pid, addr) => {
        if (!addr) return undefined;
        const c = this.callSites.cached(pid, addr);
        if (!c) { (this.missCode.get(pid) ?? this.missCode.set(pid, new Set()).get(pid)!).add(addr); return undefined; }
        return { func: c.function, file: c.file, line: c.line };
      },
      resolveData: (pid, addr) => {
        const conn = this.connOf.get(pid);
        if (conn === undefined) return undefined;
        const name = this.sym.resolveData(conn, addr);
        if (name === undefined && !this.sym.triedData(conn, addr)) this.missData.set(`${conn}:${addr}`, { conn, addr });
        return name;
      },
    };
  }

  /** Starts resolving the misses recorded so far, unless a batch is running (its end starts the next). */
  kick(): void {
    if (this.running || (!this.missCode.size && !this.missData.size)) return;
    const code = this.missCode, data = [...this.missData.values()];
    this.missCode = new Map(); this.missData = new Map();
    this.stats.batches++;
    this.running = (async () => {
      let n = 0;
      try {
        n += await this.callSites.resolveAsync(code);
        this.stats.codeResolved += n;
        if (data.length) {
          await this.sym.prepare([], data);
          n += data.filter((d) => this.sym.resolveData(d.conn, d.addr) !== undefined).length;
        }
      } catch { /* a failed run leaves the addresses raw */ }
      this.running = undefined;
      if (n) { this.version++; this.onResolved?.(); }
      this.kick();
    })();
  }

  /** Resolves when no batch is running (tests; the final build). */
  async settled(): Promise<void> { while (this.running) await this.running; }
}
