// Call sites: a return address mapped through the process's recorded mappings to binary + file offset, then to
// function and file:line with binutils' addr2line (one batched run per binary, cached per binary path and build
// id). Symbols only where there is no line information; the raw address where there is neither. Python targets:
// the thread's last python_location before an event names its Python file and line instead.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
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

  private run(bin: string, rels: bigint[], cache: Map<bigint, CallSite>): void {
    let text = '';
    try {
      text = execFileSync(this.addr2line, ['-f', '-C', '-e', bin, ...rels.map((r) => '0x' + (r > 0n ? r - 1n : r).toString(16))],
        { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch { /* no addr2line or unreadable binary: the addresses stay raw */ }
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
      const fd = openSync(path, 'r');
      const head = Buffer.alloc(64);
      readSync(fd, head, 0, 64, 0);
      closeSync(fd);
      if (head.readUInt32BE(0) === 0x7f454c46) {
        let id = '';
        try { id = /Build ID: ([0-9a-f]+)/.exec(execFileSync('readelf', ['-n', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))?.[1] ?? ''; } catch { /* no readelf */ }
        const st = statSync(path);
        r = { type: head.readUInt16LE(16), key: `${path}#${id || `${st.size}:${st.mtimeMs}`}` };
      }
    } catch { r = null; }
    this.binInfo.set(path, r);
    return r;
  }
}

function raw(a: bigint): CallSite { return { address: a, source: 'raw', text: '0x' + a.toString(16) }; }
