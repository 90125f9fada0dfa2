// Shared helpers for the panel data builders: the process images of a trace and its events in time order.
// Plain Node; builds from any EventSource (live store or trace file), so the CLI, the host and tests share it.
import type { ConnectionInfo, EventSource, TraceEvent } from '../traceEvent';
import { kindId } from '../vocabulary';

/** One process image (one collector connection): a fork child and a post-exec image are separate images. */
export interface ProcessImage {
  readonly conn: number;
  readonly pid: number;
  readonly ppid: number;
  readonly exe: string;
  readonly origin: string;
  readonly startNs: bigint;
}

export function processImages(source: EventSource): ProcessImage[] {
  return source.connections().map((c: ConnectionInfo) => ({
    conn: c.conn, pid: c.pid, ppid: c.ppid, exe: c.exe, origin: c.origin, startNs: c.startNs,
  }));
}

/** Short display name of an image: the executable's base name and pid. */
export function imageLabel(p: ProcessImage): string {
  const base = p.exe.split('/').pop() || '?';
  return `${base} (${p.pid})`;
}

/**
 * The events of the given kinds, stably sorted by timestamp. Records of one thread arrive in order but threads and
 * processes interleave, so every builder that replays state needs this order.
 */
export function eventsOfKinds(source: EventSource, kinds: readonly string[], from = 0): TraceEvent[] {
  const wanted = new Set(kinds.map(kindId));
  const out: TraceEvent[] = [];
  for (let i = from; i < source.count; i++) {
    const e = source.get(i);
    if (wanted.has(e.kind)) out.push(e);
  }
  out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.index - b.index));
  return out;
}

export const hex = (v: bigint): string => `0x${v.toString(16)}`;
/** Decimal string of a nanosecond time: how bigint times cross JSON (never as floats). */
export const nsString = (v: bigint): string => v.toString(10);

export function blobText(e: TraceEvent): string {
  return e.blob ? new TextDecoder().decode(e.blob) : '';
}
