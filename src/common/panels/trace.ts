// Shared helpers for the panel data builders: the process images of a trace, hex and ns strings, blob text.
import type { ConnectionInfo, EventSource, TraceEvent } from '../traceEvent';

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

export const hex = (v: bigint): string => `0x${v.toString(16)}`;
/** Decimal string of a nanosecond time: how bigint times cross JSON (never as floats). */
export const nsString = (v: bigint): string => v.toString(10);

export function blobText(e: TraceEvent): string {
  return e.blob ? new TextDecoder().decode(e.blob) : '';
}
