// Host ↔ webview messages of the page-table, lock and IPC-map panels (the timeline's are in webviewProtocol.ts).
// Same conventions: a `ready` handshake, discriminated unions on `type`, ns times as decimal strings in JSON and
// as BigInt64Array in bulk data. Typed arrays cross as ArrayBuffers (toWire/fromWire), which VS Code transfers
// without JSON.
import type { MappingInfo, PageCountersPacked, PageGridPacked, ProcessPages } from './pages';
import type { LockOrderInversion, LockSortKey, LockStats, LockTimelinePacked, WaitForGraph } from './locks';
import type { MapData } from './map';

export const PANEL_PROTOCOL_VERSION = 1;
export type PanelKind = 'pages' | 'locks' | 'map';
export const PANEL_VIEW_TYPES: Record<PanelKind, string> = { pages: 'ipcScope.pages', locks: 'ipcScope.locks', map: 'ipcScope.map' };

/** What the panels link to: the timeline's time cursor and selection (shared by all views). */
export type PanelSelection =
  | { readonly type: 'process'; readonly pid: number }
  | { readonly type: 'thread'; readonly pid: number; readonly tid: number }
  | { readonly type: 'object'; readonly key: string; readonly label: string }
  | { readonly type: 'edge'; readonly from: string; readonly to: string }
  | { readonly type: 'lock'; readonly key: string; readonly name: string };

/** Shared header of every panel's init message. */
export interface PanelHeader {
  readonly protocol: number;
  readonly title: string;
  readonly live: boolean;
  /** 'en' or 'ko' (vscode.env.language). */
  readonly locale: string;
  readonly startNs: string;
  readonly endNs: string;
  readonly cursorNs: string | null;
  /** Bumped whenever the data was rebuilt (live sessions grow). */
  readonly generation: number;
}

export interface PagesInit { readonly header: PanelHeader; readonly processes: readonly ProcessPages[] }
export interface PagesGrids {
  readonly mappingId: string;
  /** This process's grid first, then the fork partner's grid of the same virtual range (when it has one). */
  readonly grids: readonly PageGridPacked[];
  readonly counters: readonly PageCountersPacked[];
  readonly mappings: readonly (MappingInfo | undefined)[];
}
export interface LocksInit {
  readonly header: PanelHeader;
  readonly locks: readonly LockStats[];
  readonly inversions: readonly LockOrderInversion[];
  readonly firstDeadlockNs: string | null;
}

export type ToPanelMessage =
  | { readonly type: 'pagesInit'; readonly init: PagesInit }
  | { readonly type: 'pagesGrids'; readonly data: PagesGrids }
  | { readonly type: 'locksInit'; readonly init: LocksInit }
  | { readonly type: 'lockTimeline'; readonly timeline: LockTimelinePacked | null; readonly key: string }
  | { readonly type: 'waitFor'; readonly graph: WaitForGraph }
  | { readonly type: 'mapInit'; readonly header: PanelHeader; readonly data: MapData }
  | { readonly type: 'cursor'; readonly ns: string }
  | { readonly type: 'selection'; readonly selection: PanelSelection | null }
  | { readonly type: 'note'; readonly level: 'info' | 'warning' | 'error'; readonly message: string }
  | { readonly type: 'sessionEnded' };

export type FromPanelMessage =
  | { readonly type: 'ready'; readonly protocol: number }
  | { readonly type: 'requestGrids'; readonly mappingId: string }
  | { readonly type: 'requestLockTimeline'; readonly key: string }
  | { readonly type: 'requestWaitFor'; readonly ns: string }
  | { readonly type: 'setCursor'; readonly ns: string }
  | { readonly type: 'select'; readonly selection: PanelSelection | null }
  | { readonly type: 'openSource'; readonly file: string; readonly line: number }
  | { readonly type: 'snapshotNow'; readonly conn: number }
  | { readonly type: 'sort'; readonly by: LockSortKey }
  | { readonly type: 'log'; readonly level: 'info' | 'warning' | 'error'; readonly message: string };

const isNs = (v: unknown) => typeof v === 'string' && /^-?\d{1,20}$/.test(v);

/** Checks a message from a webview (untrusted input to the host); throws a clear error. */
export function parseFromPanel(data: unknown): FromPanelMessage {
  if (typeof data !== 'object' || data === null) throw new Error('panel message is not an object');
  const m = data as Record<string, unknown>;
  const need = (ok: boolean, what: string) => { if (!ok) throw new Error(`${String(m.type)}: ${what}`); };
  switch (m.type) {
    case 'ready': need(typeof m.protocol === 'number', 'protocol must be a number'); break;
    case 'requestGrids': need(typeof m.mappingId === 'string', 'mappingId must be a string'); break;
    case 'requestLockTimeline': need(typeof m.key === 'string', 'key must be a string'); break;
    case 'requestWaitFor': case 'setCursor': need(isNs(m.ns), 'ns must be a decimal string'); break;
    case 'select': need(m.selection === null || (typeof m.selection === 'object' && typeof (m.selection as { type?: unknown }).type === 'string'), 'selection must be an object or null'); break;
    case 'openSource': need(typeof m.file === 'string' && Number.isInteger(m.line), 'file must be a string and line an integer'); break;
    case 'snapshotNow': need(Number.isInteger(m.conn), 'conn must be an integer'); break;
    case 'sort': need(typeof m.by === 'string', 'by must be a string'); break;
    case 'log': need(typeof m.message === 'string', 'message must be a string'); break;
    default: throw new Error(`unknown panel message type ${JSON.stringify(m.type)}`);
  }
  return m as unknown as FromPanelMessage;
}

type TypedArrayName = 'Uint8Array' | 'Int32Array' | 'BigInt64Array' | 'BigUint64Array' | 'Float64Array' | 'Uint16Array' | 'Uint32Array';
interface WireTyped { readonly $typed: TypedArrayName; readonly buffer: ArrayBuffer }
const CTORS: Record<TypedArrayName, new (b: ArrayBuffer) => ArrayBufferView> = {
  Uint8Array, Int32Array, BigInt64Array, BigUint64Array, Float64Array, Uint16Array, Uint32Array,
};

/** Replaces every typed array in a message with its own ArrayBuffer (transferable, no JSON of numbers). */
export function toWire<T>(value: T): unknown {
  if (ArrayBuffer.isView(value)) {
    const name = value.constructor.name as TypedArrayName;
    if (!(name in CTORS)) throw new Error(`toWire: unsupported ${name}`);
    const copy = value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer;
    return { $typed: name, buffer: copy } satisfies WireTyped;
  }
  if (typeof value === 'bigint') throw new Error('toWire: bigint outside a typed array (send decimal strings)');
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

/** Inverse of toWire. */
export function fromWire<T>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => fromWire(v)) as T;
  if (value && typeof value === 'object') {
    const w = value as Partial<WireTyped>;
    if (typeof w.$typed === 'string' && w.buffer instanceof ArrayBuffer) return new CTORS[w.$typed as TypedArrayName](w.buffer) as T;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromWire(v);
    return out as T;
  }
  return value as T;
}
