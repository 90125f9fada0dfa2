// What the timeline's messages mean to the page/locks/map panels: the shared time cursor and selection. Plain Node
// (the host's PanelLinks carries the result; tests check the mapping on real traces).
import type { EventSource } from '../traceEvent';
import type { FromWebviewMessage } from '../webviewProtocol';
import type { PanelSelection } from './protocol';

export interface TimelineLink {
  /** Where the shared cursor goes (absolute ns), if the message moves it. */
  readonly cursorNs?: bigint;
  /** The selection the panels show, if the message changes it (null clears it). */
  readonly selection?: PanelSelection | null;
}

/**
 * A timeline message as a cursor move and/or selection: a click on the ruler moves the cursor; selecting an event
 * moves the cursor to that event's time and selects its thread (so the panels show the state when it happened).
 */
export function timelineLink(source: EventSource | undefined, m: FromWebviewMessage): TimelineLink | undefined {
  if (m.type === 'cursor') return { cursorNs: BigInt(m.ns) };
  if (m.type !== 'selected') return undefined;
  if (m.index === null) return { selection: null };
  if (!source || m.index < 0 || m.index >= source.count) return undefined;
  const e = source.get(m.index);
  return { cursorNs: e.ts, selection: { type: 'thread', pid: e.pid, tid: e.tid } };
}
