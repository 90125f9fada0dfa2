// Where two fields of the running kernel's `struct task_struct` are, read from its BTF (/sys/kernel/btf/vmlinux,
// include/uapi/linux/btf.h): the shim's page-fault filter for the pid scope (native/src/perf.c) reads a faulting
// task's real_parent->tgid with bpf_probe_read_kernel, so a fork child is sampled from its first fault on. The layout
// differs between kernel builds (configuration, randomized structs), so it is looked up, never assumed.
import { readFileSync } from 'node:fs';

export interface TaskOffsets { realParent: number; tgid: number }

const KIND_STRUCT = 4, KIND_UNION = 5;

/** Bytes after a type's 12-byte head, by kind; undefined for a kind this reader does not know. */
function extraBytes(kind: number, vlen: number): number | undefined {
  switch (kind) {
    case 1: case 14: case 17: return 4; // INT, VAR, DECL_TAG
    case 3: return 12; // ARRAY
    case 4: case 5: case 15: case 19: return 12 * vlen; // STRUCT, UNION, DATASEC, ENUM64
    case 6: case 13: return 8 * vlen; // ENUM, FUNC_PROTO
    case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: return 0;
    default: return undefined;
  }
}

/** The byte offsets of task_struct's real_parent and tgid in a BTF blob, or why they cannot be had. */
export function taskOffsetsFromBtf(b: Buffer): TaskOffsets | { why: string } {
  if (b.length < 24 || b.readUInt16LE(0) !== 0xeb9f) return { why: 'not BTF (bad magic)' };
  const hdrLen = b.readUInt32LE(4), typeOff = b.readUInt32LE(8), typeLen = b.readUInt32LE(12);
  const strOff = b.readUInt32LE(16), strLen = b.readUInt32LE(20);
  const types = hdrLen + typeOff, strs = hdrLen + strOff;
  if (types + typeLen > b.length || strs + strLen > b.length) return { why: 'BTF sections past the end' };
  const name = (off: number) => { const s = strs + off, e = b.indexOf(0, s); return b.toString('latin1', s, e < 0 ? s : e); };
  const at: number[] = [0]; // type id -> offset of its head (id 0 is void)
  for (let p = types; p + 12 <= types + typeLen;) {
    const info = b.readUInt32LE(p + 4), extra = extraBytes((info >>> 24) & 0x1f, info & 0xffff);
    if (extra === undefined) return { why: `unknown BTF kind ${(info >>> 24) & 0x1f}` };
    at.push(p);
    p += 12 + extra;
  }
  /** Members of struct/union id (anonymous struct and union members looked into), name -> byte offset. */
  const find = (id: number, want: string, base: number, depth: number): number | undefined => {
    const p = at[id];
    if (p === undefined || depth > 4) return undefined;
    const info = b.readUInt32LE(p + 4), kind = (info >>> 24) & 0x1f, vlen = info & 0xffff, bitfields = info >>> 31;
    if (kind !== KIND_STRUCT && kind !== KIND_UNION) return undefined;
    for (let m = 0; m < vlen; m++) {
      const q = p + 12 + 12 * m, n = b.readUInt32LE(q), type = b.readUInt32LE(q + 4), raw = b.readUInt32LE(q + 8);
      const bits = bitfields ? raw & 0xffffff : raw;
      if (n === 0) {
        const inner = find(type, want, base + bits / 8, depth + 1);
        if (inner !== undefined) return inner;
      } else if (name(n) === want && bits % 8 === 0) return base + bits / 8;
    }
    return undefined;
  };
  for (let id = 1; id < at.length; id++) {
    const p = at[id], info = b.readUInt32LE(p + 4);
    if (((info >>> 24) & 0x1f) !== KIND_STRUCT || name(b.readUInt32LE(p)) !== 'task_struct') continue;
    const realParent = find(id, 'real_parent', 0, 0), tgid = find(id, 'tgid', 0, 0);
    if (realParent === undefined || tgid === undefined) return { why: 'task_struct has no real_parent or tgid member' };
    return { realParent, tgid };
  }
  return { why: 'no struct task_struct in the BTF' };
}

let cached: TaskOffsets | { why: string } | undefined;

/** The running kernel's offsets (read once per process), or why not. */
export function kernelTaskOffsets(): TaskOffsets | { why: string } {
  if (!cached) {
    try { cached = taskOffsetsFromBtf(readFileSync('/sys/kernel/btf/vmlinux')); } catch (e) {
      const err = e as NodeJS.ErrnoException;
      cached = { why: `cannot read /sys/kernel/btf/vmlinux (${err.code ?? err.message})` };
    }
  }
  return cached;
}
