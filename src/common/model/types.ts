// The model's answers, as plain data. Times are CLOCK_MONOTONIC nanoseconds (bigint); `index` fields are event
// positions in the EventSource.
import type { Endpoint } from './matchers';
export type { Endpoint } from './matchers';

export type FlowKind = 'pipe' | 'fifo' | 'socket' | 'mq' | 'signal' | 'lock' | 'fd';
export const FLOW_KINDS: readonly FlowKind[] = ['pipe', 'fifo', 'socket', 'mq', 'signal', 'lock', 'fd'];

export interface Flow {
  readonly id: number;
  readonly kind: FlowKind;
  /** Key of the IPC object the flow went through (see IpcObject.key). */
  readonly object: string;
  readonly from: Endpoint;
  readonly to: Endpoint;
  /** Bytes carried (0 for signals, lock hand-offs and passed fds). */
  readonly bytes: number;
  /** Signal number, message priority, … where it applies. */
  readonly detail?: number;
}

export interface ImageInfo { readonly conn: number; readonly exe: string; readonly cwd: string; readonly argv: readonly string[]; readonly startNs: bigint }

export interface ThreadInfo { readonly pid: number; readonly tid: number; startNs: bigint; endNs?: bigint }

export interface ProcessInfo {
  readonly pid: number;
  ppid: number;
  argv: string[];
  exe: string;
  readonly images: ImageInfo[];
  startNs: bigint;
  endNs?: bigint;
  exitCode?: number;
  /** The signal that killed it. */
  signal?: number;
  /** How it ended ('exit', 'fatal_signal', 'killed' when only the parent's wait() told, …), undefined while running. */
  endHow?: string;
  readonly children: number[];
  readonly threads: Map<number, ThreadInfo>;
}

export type FdEnd = 'r' | 'w' | 'rw';
/** One fd of one process over an interval: which process held which fd when. */
export interface FdInterval {
  readonly pid: number;
  readonly fd: number;
  readonly object: string;
  end: FdEnd;
  cloexec: boolean;
  readonly from: bigint;
  readonly fromIndex: number;
  /** How the process got it: open, pipe, socket, accept, dup, fork, exec (kept across), scm_rights, … */
  readonly how: string;
  to?: bigint;
  toIndex?: number;
}

export type ObjectType = 'pipe' | 'fifo' | 'socket' | 'mq' | 'sysv-mq' | 'shm' | 'shared-mapping' | 'semaphore' | 'mutex' | 'rwlock'
  | 'spinlock' | 'condvar' | 'filelock' | 'eventfd' | 'epoll' | 'file' | 'other';

export interface IpcObject {
  readonly key: string;
  type: ObjectType;
  name: string;
  firstNs: bigint;
  lastNs: bigint;
  readonly pids: Set<number>;
  /** Event indices that touched it, in processing (time) order (a view: read it again after the model updates). */
  readonly events: Int32Array;
  readonly fds: FdInterval[];
  /** Socket peer object key, when known. */
  peer?: string;
  /** Socket type (SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5), when known. */
  sockType?: number;
}

export interface Wait {
  readonly pid: number;
  readonly tid: number;
  readonly kind: number;
  /** What it waited on (object key), when known. */
  readonly object?: string;
  readonly begin: number;
  end: number;
  readonly t0: bigint;
  t1?: bigint;
  /** Who it waited for, where knowable: the lock holder(s) when it began. */
  holders?: { pid: number; tid: number }[];
  /** Who ended the wait: the writer whose bytes it read, the thread that released the lock, … */
  by?: Endpoint;
  /** poll/select/epoll_wait: the fds it watched when it began (epoll: the instance's interest list then). */
  watches?: WatchedFd[];
  /** Some watched fds are not known (the blob was cut at 512 entries, or an fd the model never saw opened). */
  watchesIncomplete?: boolean;
}

/** One fd a readiness wait watched: `in` readable (or hang-up), `out` writable. */
export interface WatchedFd { readonly fd: number; readonly object?: string; readonly dir: 'in' | 'out' | 'inout'; readonly data?: bigint }

export type Severity = 'error' | 'warning' | 'info';
export interface Finding {
  readonly kind: string;
  readonly severity: Severity;
  readonly message: string;
  /** Event indices that prove it. */
  readonly events: number[];
  readonly pids: number[];
}

export interface LockStats {
  readonly key: string;
  readonly kind: 'mutex' | 'rwlock' | 'spinlock' | 'semaphore' | 'filelock';
  name: string;
  acquisitions: number;
  contended: number;
  waitNs: bigint;
  maxWaitNs: bigint;
  holdNs: bigint;
  maxHoldNs: bigint;
  readonly waiters: Map<string, { pid: number; tid: number; count: number; waitNs: bigint }>;
  readonly holders: Map<string, { pid: number; tid: number; count: number; holdNs: bigint }>;
  /** Return address of each acquisition → count (with the pid whose mappings resolve it). */
  readonly callers: Map<bigint, { pid: number; count: number; index: number }>;
  /** Attempts that did not acquire: failed trylocks, timed waits that gave up. */
  failed?: number;
}

export type PageState = 0 | 1 | 2 | 3 | 4;
export const PAGE_STATE_NAMES = ['absent', 'private', 'shared', 'copied', 'swapped'] as const;
export type SharingMethod = 'mapcount' | 'pfn' | 'exclusive-bit';

export interface PageCounts { present: number; private: number; shared: number; copied: number; absent: number; swapped: number }

export interface SignalStats { sig: number; sent: number; delivered: number }

/** One hold of a lock by a thread (file locks: by a process, tid = pid), for the lock panel's own timeline. */
export interface LockHold { readonly lock: string; readonly pid: number; readonly tid: number; readonly t0: bigint; readonly index: number; t1?: bigint; endIndex?: number }
