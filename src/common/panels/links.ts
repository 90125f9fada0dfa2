// What the timeline's messages mean to the page/locks/map panels: the shared time cursor and selection. Plain Node
// (the host's PanelLinks carries the result; tests check the mapping on real traces).
import type { EventSource } from '../traceEvent';
import type { TraceModel } from '../model/model';
import { K } from '../model/kinds';
import type { FromWebviewMessage } from '../webviewProtocol';
import type { PanelSelection } from './protocol';

export interface TimelineLink {
  /** Where the shared cursor goes (absolute ns), if the message moves it. */
  readonly cursorNs?: bigint;
  /** The selection the panels show, if the message changes it (null clears it). */
  readonly selection?: PanelSelection | null;
}

const LOCK_KINDS = new Set<number>([K.mutexLock, K.mutexUnlock, K.rwlockLock, K.rwlockUnlock, K.spinLock, K.spinUnlock]);

/**
 * A timeline message as a cursor move and/or selection: a click on the ruler moves the cursor; selecting an event
 * moves the cursor to that event's time and selects its thread (so the panels show the state when it happened), or
 * its lock when it is a lock call and the model knows the lock (the locks panel opens that lock's timeline).
 */
export function timelineLink(source: EventSource | undefined, m: FromWebviewMessage, model?: TraceModel): TimelineLink | undefined {
  if (m.type === 'cursor') return { cursorNs: BigInt(m.ns) };
  if (m.type !== 'selected') return undefined;
  if (m.index === null) return { selection: null };
  if (!source || m.index < 0 || m.index >= source.count) return undefined;
  const e = source.get(m.index);
  if (model && LOCK_KINDS.has(e.kind)) {
    const key = model.lockKey(e.pid, e.args[0]);
    const lock = model.locks.get(key);
    if (lock) return { cursorNs: e.ts, selection: { type: 'lock', key, name: lock.stats.name } };
  }
  return { cursorNs: e.ts, selection: { type: 'thread', pid: e.pid, tid: e.tid } };
}
