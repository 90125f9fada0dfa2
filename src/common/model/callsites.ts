// Call sites: a return address mapped through the process's recorded mappings to binary + file offset, then to
// function and file:line with binutils' addr2line (one batched run per binary, cached per binary path and build
// id). Symbols only where there is no line information; the raw address where there is neither. Python targets:
// the thread's last python_location before an event names its Python file and line instead.
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { TraceModel } from './model';

export interface CallSite {
  readonly address: bigint;
  readonly binary?: string;
  readonly function?: string;
  readonly file?: string;
  readonly line?: number;
  /** 'python' | 'dwarf' (file:line) | 'symbol' | 'raw' */
  readonly source: 'python' | 'dwarf' | 'symbol' | 'raw';
  /** "func (file.c:12)", "func+binary", or "0x…". */
  readonly text: string;
}

interface BinaryInfo { type: number; key: string }
const execFileAsync = promisify(execFile);

export class CallSiteResolver {
  private cache = new Map<string, Map<bigint, CallSite>>();
  private binInfo = new Map<string, BinaryInfo | null>();
  constructor(private readonly model: TraceModel, private readonly addr2line = 'addr2line') {}

  /** Resolves event `index`'s caller (its Python location when one was recorded). */
  forEvent(index: number): CallSite {
    const py = this.model.pythonLocation(index);
    const e = this.model.source.get(index);
    if (py) return { address: e.caller, file: py.file, line: py.line, source: 'python', text: `${py.file}:${py.line}` };
    return this.resolve(e.pid, [e.caller])[0];
  }

  /** Resolves many addresses of one process at once (one addr2line run per binary). */
  resolve(pid: number, addrs: bigint[]): CallSite[] {
    const maps = this.model.imageMappings(pid);
    const byBin = new Map<string, { addr: bigint; rel: bigint; i: number }[]>();
    const out: CallSite[] = addrs.map((a) => raw(a));
    addrs.forEach((a, i) => {
      const m = maps.find((x) => a >= x.start && a < x.end);
      if (!m) return;
      const info = this.info(m.path);
      if (!info) { out[i] = { address: a, binary: m.path, source: 'raw', text: `${m.path}+0x${(a - m.start + m.offset).toString(16)}` }; return; }
      // ET_EXEC binaries are linked at their run address; shared objects and PIEs by file offset from the load base.
      const rel = info.type === 2 ? a : a - m.start + m.offset;
      let l = byBin.get(m.path);
      if (!l) byBin.set(m.path, (l = []));
      l.push({ addr: a, rel, i });
    });
    for (const [bin, list] of byBin) {
      const key = this.binInfo.get(bin)!.key;
      let c = this.cache.get(key);
      if (!c) this.cache.set(key, (c = new Map()));
      // The return address points after the call; look up the call instruction itself (address − 1).
      const missing = [...new Set(list.map((x) => x.rel).filter((r) => !c!.has(r)))];
      if (missing.length) this.run(bin, missing, c);
      for (const x of list) { const s = c.get(x.rel); if (s) out[x.i] = { ...s, address: x.addr }; }
    }
    return out;
  }

  /**
   * The call site of `addr` in `pid` when it is known already, else undefined; never runs anything (a live view asks
   * this on every refresh and hands the misses to resolveAsync). An address outside every mapping is raw.
   */
  cached(pid: number, addr: bigint): CallSite | undefined {
    const m = this.model.imageMappings(pid).find((x) => addr >= x.start && addr < x.end);
    if (!m) return raw(addr);
    const info = this.binInfo.get(m.path);
    if (info === undefined) return undefined;
    if (info === null) return { address: addr, binary: m.path, source: 'raw', text: `${m.path}+0x${(addr - m.start + m.offset).toString(16)}` };
    const s = this.cache.get(info.key)?.get(info.type === 2 ? addr : addr - m.start + m.offset);
    return s && { ...s, address: addr };
  }

  /**
   * Resolves, off the caller's path, whatever of `addrs` (pid → return addresses) is not resolved yet: one async
   * readelf per new binary and one async addr2line per binary for all its new addresses. Later cached() and
   * resolve() calls answer from the cache. Resolves to the number of addresses newly resolved.
   */
  async resolveAsync(addrs: ReadonlyMap<number, Iterable<bigint>>): Promise<number> {
    const byBin = new Map<string, Set<bigint>>();
    const later: { pid: number; addr: bigint }[] = [];
    for (const [pid, list] of addrs) {
      const maps = this.model.imageMappings(pid);
      for (const a of list) {
        const m = maps.find((x) => a >= x.start && a < x.end);
        if (!m) continue;
        if (!this.binInfo.has(m.path)) { later.push({ pid, addr: a }); if (!byBin.has(m.path)) byBin.set(m.path, new Set()); continue; }
        const info = this.binInfo.get(m.path);
        if (!info) continue;
        const rel = info.type === 2 ? a : a - m.start + m.offset;
        if (!this.cache.get(info.key)?.has(rel)) (byBin.get(m.path) ?? byBin.set(m.path, new Set()).get(m.path)!).add(rel);
      }
    }
    // Binaries seen for the first time: their ELF type and build id first, then their addresses.
    await Promise.all([...byBin.keys()].filter((p) => !this.binInfo.has(p)).map((p) => this.infoAsync(p)));
    for (const { pid, addr } of later) {
      const m = this.model.imageMappings(pid).find((x) => addr >= x.start && addr < x.end)!;
      const info = this.binInfo.get(m.path);
      if (info) byBin.get(m.path)!.add(info.type === 2 ? addr : addr - m.start + m.offset);
    }
    let n = 0;
    await Promise.all([...byBin].map(async ([bin, rels]) => {
      const info = this.binInfo.get(bin);
      if (!info) return;
      let c = this.cache.get(info.key);
      if (!c) this.cache.set(info.key, (c = new Map()));
      const missing = [...rels].filter((r) => !c!.has(r) && !this.inFlight.has(`${info.key}@${r}`));
      if (!missing.length) return;
      for (const r of missing) this.inFlight.add(`${info.key}@${r}`);
      try {
        let text = '';
        try {
          text = (await execFileAsync(this.addr2line, ['-f', '-C', '-e', bin, ...missing.map((r) => '0x' + (r > 0n ? r - 1n : r).toString(16))],
            { encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
        } catch { /* no addr2line or unreadable binary: the addresses stay raw */ }
        this.parse(bin, missing, text, c);
        n += missing.length;
      } finally { for (const r of missing) this.inFlight.delete(`${info.key}@${r}`); }
    }));
    return n;
  }
  private readonly inFlight = new Set<string>();

  private run(bin: string, rels: bigint[], cache: Map<bigint, CallSite>): void {
    let text = '';
    try {
      text = execFileSync(this.addr2line, ['-f', '-C', '-e', bin, ...rels.map((r) => '0x' + (r > 0n ? r - 1n : r).toString(16))],
        { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch { /* no addr2line or unreadable binary: the addresses stay raw */ }
    this.parse(bin, rels, text, cache);
  }

  /** addr2line -f output (two lines per address) into the cache. */
  private parse(bin: string, rels: bigint[], text: string, cache: Map<bigint, CallSite>): void {
    const lines = text.split('\n');
    rels.forEach((r, k) => {
      const fn = lines[2 * k] ?? '??', loc = lines[2 * k + 1] ?? '??:0';
      const m = /^(.*):(\d+)(?: \(discriminator \d+\))?$/.exec(loc);
      const file = m && m[1] !== '??' ? m[1] : undefined;
      const line = m ? Number(m[2]) : 0;
      const base = bin.split('/').pop();
      if (file && line > 0) cache.set(r, { address: r, binary: bin, function: fn !== '??' ? fn : undefined, file, line, source: 'dwarf', text: `${fn !== '??' ? fn + ' ' : ''}(${file.split('/').pop()}:${line})` });
      else if (fn !== '??') cache.set(r, { address: r, binary: bin, function: fn, source: 'symbol', text: `${fn} [${base}]` });
      else cache.set(r, { address: r, binary: bin, source: 'raw', text: `${base}+0x${r.toString(16)}` });
    });
  }

  /** ELF type and a cache key: path + GNU build id (or size and mtime when the binary has none). */
  private info(path: string): BinaryInfo | null {
    if (this.binInfo.has(path)) return this.binInfo.get(path)!;
    let r: BinaryInfo | null = null;
    try {
      const type = elfType(path);
      if (type !== null) {
        let notes = '';
        try { notes = execFileSync('readelf', ['-n', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { /* no readelf */ }
        r = binaryInfo(path, type, notes);
      }
    } catch { r = null; }
    this.binInfo.set(path, r);
    return r;
  }

  /** info() without blocking: readelf runs as an async child process. */
  private async infoAsync(path: string): Promise<void> {
    let r: BinaryInfo | null = null;
    try {
      const type = elfType(path);
      if (type !== null) {
        let notes = '';
        try { notes = (await execFileAsync('readelf', ['-n', path], { encoding: 'utf8' })).stdout; } catch { /* no readelf */ }
        r = binaryInfo(path, type, notes);
      }
    } catch { r = null; }
    if (!this.binInfo.has(path)) this.binInfo.set(path, r);
  }
}

function raw(a: bigint): CallSite { return { address: a, source: 'raw', text: '0x' + a.toString(16) }; }

/** The ELF type (e_type) of a file, or null when it is not ELF. */
function elfType(path: string): number | null {
  const head = Buffer.alloc(64);
  const fd = openSync(path, 'r');
  try { readSync(fd, head, 0, 64, 0); } finally { closeSync(fd); }
  return head.readUInt32BE(0) === 0x7f454c46 ? head.readUInt16LE(16) : null;
}

/** A binary's cache key: path + GNU build id from `readelf -n` (or size and mtime when it has none). */
function binaryInfo(path: string, type: number, readelfNotes: string): BinaryInfo {
  const id = /Build ID: ([0-9a-f]+)/.exec(readelfNotes)?.[1] ?? '';
  const st = statSync(path);
  return { type, key: `${path}#${id || `${st.size}:${st.mtimeMs}`}` };
}
