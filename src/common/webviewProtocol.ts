// Host ↔ webview messages, typed once (the hexeditor pattern): two discriminated unions on `type`, a ready
// handshake, and request/reply ids. Bulk data crosses as ArrayBuffers (VS Code transfers them without JSON);
// nanosecond times cross as decimal strings in JSON and as BigInt64Array in buffers, never as floats.
// Imports neither vscode nor the DOM: the host, the webview, the test harness and the bench all use it.

/** Bumped when a message changes shape, so a restored webview from an older build asks for a reload. */
export const WEBVIEW_PROTOCOL_VERSION = 1;

/** Buckets per tile: a tile at level k covers TILE_BUCKETS · 2^k ns, one bucket ≈ one pixel. */
export const TILE_BUCKETS = 1024;

/** Decimal string of a nanosecond count (bigint on both sides). */
export type NsString = string;

export type SpanStyle = 0 | 1 | 2 | 3;
/** How a span is drawn: a blocking call, waiting for a lock, holding a lock, running a signal handler. */
export const SPAN_STYLE = { blocking: 0, wait: 1, hold: 2, handler: 3 } as const;

export interface LaneInfo {
  /** Row order top to bottom (process tree order, threads nested under their process). */
  readonly id: number;
  readonly kind: 'process' | 'thread';
  readonly pid: number;
  readonly tid: number;
  /** 0 for the first process, +1 per process-tree level; threads are one deeper than their process. */
  readonly depth: number;
  readonly label: string;
  /** Lane id of the process lane a thread lane belongs to (its own id for a process lane). */
  readonly processLane: number;
  readonly startNs: NsString;
  readonly endNs: NsString | null;
}

export interface ObjectInfo {
  readonly id: number;
  /** otype name (pipe, fifo, socket_unix, mqueue, shm, mutex, …). */
  readonly type: string;
  readonly label: string;
}

/** Everything the webview needs before it asks for tiles. Small: no per-event data. */
export interface TimelineHeader {
  readonly title: string;
  readonly live: boolean;
  /** Origin of all relative times in tiles (CLOCK_MONOTONIC ns of the first event). */
  readonly originNs: NsString;
  /** Trace extent relative to the origin. */
  readonly durationNs: NsString;
  readonly eventCount: number;
  readonly lanes: readonly LaneInfo[];
  readonly objects: readonly ObjectInfo[];
  /** Kind id → name and class, from the vocabulary (so the webview needs no JSON import of its own). */
  readonly kinds: readonly { id: number; name: string; cls: string }[];
  readonly classes: readonly string[];
  /** Bumped whenever data changed (live append): tiles from an older generation are stale. */
  readonly generation: number;
  /** The .ipctrace behind the timeline (saved in the webview state so the panel serializer can reopen it). */
  readonly traceFile?: string;
}

/** Filters the host applies when it builds tiles (process filtering is lane hiding, done in the webview). */
export interface TileFilter {
  /** Kind classes to hide. */
  readonly hiddenClasses: readonly string[];
  /** Kind ids to hide. */
  readonly hiddenKinds: readonly number[];
  /** When set, only events on these objects (ObjectInfo ids). */
  readonly objects: readonly number[] | null;
}

export interface TileRequest {
  /** log2 of the bucket size in ns. */
  readonly level: number;
  /** Tile index: covers [index · TILE_BUCKETS · 2^level, (index+1) · TILE_BUCKETS · 2^level) relative ns. */
  readonly index: number;
  readonly filter: TileFilter;
}

/**
 * A packed tile (one ArrayBuffer each, little-endian typed-array views; see timelineData.ts `packTile`):
 *  cells  — aggregated marks: lane u16, bucket u16, count u32, class u8, flags u8 (1 error, 2 has span part), first event u32
 *  spans  — spans at least one bucket wide: lane u16, style u8, class u8, kind u16, start/end BigInt64 rel ns, begin/end event u32
 *  flows  — arrows: from lane u16, to lane u16, count u32, bytes BigInt64, from/to rel ns BigInt64, first write/read event u32
 */
export interface PackedTile {
  readonly level: number;
  readonly index: number;
  readonly generation: number;
  readonly cellCount: number;
  readonly spanCount: number;
  readonly flowCount: number;
  readonly cellLane: ArrayBuffer;     // Uint16Array
  readonly cellBucket: ArrayBuffer;   // Uint16Array
  readonly cellCounts: ArrayBuffer; // Uint32Array
  readonly cellClass: ArrayBuffer;    // Uint8Array
  readonly cellFlags: ArrayBuffer;    // Uint8Array
  readonly cellEvent: ArrayBuffer;    // Uint32Array
  readonly spanLane: ArrayBuffer;     // Uint16Array
  readonly spanStyle: ArrayBuffer;    // Uint8Array
  readonly spanClass: ArrayBuffer;    // Uint8Array
  readonly spanKind: ArrayBuffer;     // Uint16Array
  readonly spanStart: ArrayBuffer;    // BigInt64Array, rel ns
  readonly spanEnd: ArrayBuffer;      // BigInt64Array, rel ns
  readonly spanBegin: ArrayBuffer;    // Uint32Array, event index
  readonly spanEndEvent: ArrayBuffer; // Uint32Array, event index (0xffffffff: still open)
  readonly flowFrom: ArrayBuffer;     // Uint16Array, lane
  readonly flowTo: ArrayBuffer;       // Uint16Array, lane
  readonly flowCounts: ArrayBuffer;   // Uint32Array
  readonly flowBytes: ArrayBuffer;    // BigInt64Array
  readonly flowFromNs: ArrayBuffer;   // BigInt64Array, rel ns
  readonly flowToNs: ArrayBuffer;     // BigInt64Array, rel ns
  readonly flowEvent: ArrayBuffer;    // Uint32Array, first write event
  readonly flowToEvent: ArrayBuffer;  // Uint32Array, first read event
}

export interface NamedValue { readonly name: string; readonly value: string }

/** One event (or a begin/end pair) explained for the details pane. */
export interface EventDetails {
  readonly index: number;
  readonly endIndex: number | null;
  readonly call: string;
  readonly cls: string;
  readonly phase: 'instant' | 'span' | 'open span';
  readonly startNs: NsString;
  readonly endNs: NsString | null;
  readonly durationNs: NsString | null;
  readonly args: readonly NamedValue[];
  readonly result: string;
  readonly errno: number;
  readonly errnoName: string | null;
  readonly payloadText: string | null;
  readonly payloadHex: string | null;
  readonly payloadTruncated: boolean;
  readonly object: string | null;
  readonly objectId: number | null;
  readonly pid: number;
  readonly tid: number;
  readonly process: string;
  readonly lane: number;
  readonly source: { readonly file: string; readonly line: number } | null;
  readonly caller: string;
  /** Events linked by flows (writer ↔ reader, sender → handler, unlock → lock). */
  readonly related: readonly { readonly index: number; readonly label: string }[];
}

export interface SearchHit { readonly index: number; readonly lane: number; readonly ns: NsString; readonly label: string }

// ---- requests the webview makes (each answered by one `reply` with the same id) ----
export type WebviewRequest =
  | { readonly type: 'tile'; readonly tile: TileRequest }
  | { readonly type: 'details'; readonly index: number }
  | { readonly type: 'search'; readonly text: string; readonly limit: number }
  | { readonly type: 'locate'; readonly index: number };

export type WebviewReply =
  | { readonly type: 'tile'; readonly tile: PackedTile }
  | { readonly type: 'details'; readonly details: EventDetails }
  | { readonly type: 'search'; readonly hits: readonly SearchHit[]; readonly total: number }
  | { readonly type: 'locate'; readonly lane: number; readonly startNs: NsString; readonly endNs: NsString };

export type RequestOf<T extends WebviewRequest['type']> = Extract<WebviewRequest, { type: T }>;
export type ReplyOf<T extends WebviewReply['type']> = Extract<WebviewReply, { type: T }>;

/** What the panel reveals when a tree view item is selected in the editor. */
export type RevealTarget =
  | { readonly type: 'event'; readonly index: number }
  | { readonly type: 'process'; readonly pid: number }
  | { readonly type: 'object'; readonly objectId: number }
  | { readonly type: 'time'; readonly startNs: NsString; readonly endNs: NsString };

export type ToWebviewMessage =
  /** Answer to `ready` (and sent again when the trace is replaced): the header, tiles follow on request. */
  | { readonly type: 'init'; readonly protocol: number; readonly header: TimelineHeader }
  /** Live session: the trace grew; the header (lanes, duration, generation) replaces the old one. */
  | { readonly type: 'grow'; readonly header: TimelineHeader }
  | { readonly type: 'reply'; readonly inReplyTo: number; readonly reply: WebviewReply }
  | { readonly type: 'replyError'; readonly inReplyTo: number; readonly message: string }
  | { readonly type: 'reveal'; readonly target: RevealTarget }
  /** The shared time cursor moved in another view (page/locks/map panels): absolute ns, null to clear. */
  | { readonly type: 'cursor'; readonly ns: NsString | null }
  | { readonly type: 'sessionEnded' };

export type FromWebviewMessage =
  /** Sent once the webview's listeners are installed; the host posts nothing before it. */
  | { readonly type: 'ready'; readonly protocol: number }
  | { readonly type: 'request'; readonly messageId: number; readonly request: WebviewRequest }
  | { readonly type: 'openSource'; readonly file: string; readonly line: number }
  | { readonly type: 'selected'; readonly index: number | null }
  /** The user put the time cursor somewhere (click on the ruler): absolute ns. The panels follow it. */
  | { readonly type: 'cursor'; readonly ns: NsString }
  | { readonly type: 'log'; readonly level: 'info' | 'warning' | 'error'; readonly message: string };

/** Every message type name, declared once (tests and dispatchers iterate it). */
export const TO_WEBVIEW_TYPES = ['init', 'grow', 'reply', 'replyError', 'reveal', 'cursor', 'sessionEnded'] as const satisfies readonly ToWebviewMessage['type'][];
export const FROM_WEBVIEW_TYPES = ['ready', 'request', 'openSource', 'selected', 'cursor', 'log'] as const satisfies readonly FromWebviewMessage['type'][];

/** Checks the shape of a message from the webview (it is untrusted input to the host). */
export function parseFromWebview(data: unknown): FromWebviewMessage {
  if (typeof data !== 'object' || data === null) throw new Error('webview message is not an object');
  const m = data as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      if (typeof m.protocol !== 'number') throw new Error('ready: protocol must be a number');
      return m as unknown as FromWebviewMessage;
    case 'request': {
      if (typeof m.messageId !== 'number') throw new Error('request: messageId must be a number');
      const r = m.request as Record<string, unknown> | undefined;
      if (!r || typeof r !== 'object') throw new Error('request: missing request');
      if (r.type === 'tile') {
        const t = r.tile as Record<string, unknown> | undefined;
        if (!t || !Number.isInteger(t.level) || !Number.isInteger(t.index) || (t.level as number) < 0 || (t.level as number) > 62 || (t.index as number) < 0)
          throw new Error('request tile: level must be an integer 0–62 and index a non-negative integer');
        const f = t.filter as Record<string, unknown> | undefined;
        if (!f || !Array.isArray(f.hiddenClasses) || !Array.isArray(f.hiddenKinds) || !(f.objects === null || Array.isArray(f.objects)))
          throw new Error('request tile: malformed filter');
      } else if (r.type === 'details' || r.type === 'locate') {
        if (!Number.isInteger(r.index) || (r.index as number) < 0) throw new Error(`request ${r.type}: index must be a non-negative integer`);
      } else if (r.type === 'search') {
        if (typeof r.text !== 'string' || !Number.isInteger(r.limit)) throw new Error('request search: text must be a string and limit an integer');
      } else throw new Error(`request: unknown request type ${JSON.stringify(r.type)}`);
      return m as unknown as FromWebviewMessage;
    }
    case 'openSource':
      if (typeof m.file !== 'string' || !Number.isInteger(m.line)) throw new Error('openSource: file must be a string and line an integer');
      return m as unknown as FromWebviewMessage;
    case 'selected':
      if (!(m.index === null || Number.isInteger(m.index))) throw new Error('selected: index must be an integer or null');
      return m as unknown as FromWebviewMessage;
    case 'cursor':
      if (typeof m.ns !== 'string' || !/^\d{1,20}$/.test(m.ns)) throw new Error('cursor: ns must be a decimal string');
      return m as unknown as FromWebviewMessage;
    case 'log':
      if (typeof m.message !== 'string') throw new Error('log: message must be a string');
      return m as unknown as FromWebviewMessage;
    default:
      throw new Error(`unknown webview message type ${JSON.stringify(m.type)}`);
  }
}

/** Relative ns of tile start: index · TILE_BUCKETS · 2^level, exact as bigint. */
export function tileStartNs(level: number, index: number): bigint {
  return BigInt(index) * BigInt(TILE_BUCKETS) << BigInt(level);
}
