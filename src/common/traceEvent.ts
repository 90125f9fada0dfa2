// One decoded event, as the model, the CLI and the views read it. Stores keep events in columns (see store.ts);
// this object form is what a query hands out. Nanosecond times are bigint: never floats.
import type { Phase } from './vocabulary';

export interface TraceEvent {
  /** Position in the store (arrival order, not time order). */
  readonly index: number;
  readonly kind: number;
  readonly phase: Phase;
  readonly flags: number;
  readonly pid: number;
  readonly tid: number;
  /** errno, 0 when the call succeeded. */
  readonly err: number;
  /** CLOCK_MONOTONIC nanoseconds. */
  readonly ts: bigint;
  readonly result: bigint;
  /** Return address of the intercepted call. */
  readonly caller: bigint;
  /** Arguments in the order events.json declares (unsigned 64-bit; reinterpret with BigInt.asIntN(64, …) where signed). */
  readonly args: readonly bigint[];
  readonly blob?: Uint8Array;
  /** The collector connection (one per process image) it came from. */
  readonly conn: number;
}

/** Process image metadata from a connection's HELLO (docs/protocol.md). */
export interface ConnectionInfo {
  readonly conn: number;
  readonly pid: number;
  readonly ppid: number;
  readonly tid: number;
  readonly origin: 'initial' | 'fork' | 'exec' | 'spawn' | string;
  readonly session: string;
  readonly exe: string;
  readonly cwd: string;
  readonly argv: readonly string[];
  readonly startNs: bigint;
  readonly shim: string;
}

/** What every event source (live collector store, trace file reader) offers the model and the views. */
export interface EventSource {
  readonly count: number;
  get(index: number): TraceEvent;
  connections(): readonly ConnectionInfo[];
  /** Called for each batch of newly stored events (live sources); returns an unsubscribe function. */
  onAppend?(listener: (first: number, count: number) => void): () => void;
}
