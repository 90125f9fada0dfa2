// Tile cache: data fetching (async, by power-of-two level and tile index) kept apart from drawing (sync). A tile
// arrives as packed buffers; it is unpacked once into draw-ready arrays (ns offsets as doubles for pixel math, cells
// sorted by class so a frame fills each colour in one pass) and kept in an LRU.
import { TILE_BUCKETS, type PackedTile, type TileFilter } from '../../src/common/webviewProtocol';

export interface DrawTile {
  readonly level: number;
  readonly index: number;
  readonly generation: number;
  /** Relative ns of the tile's first bucket and the bucket width. */
  readonly start: number;
  readonly bucketNs: number;
  readonly end: number;
  readonly cellN: number;
  readonly cellLane: Uint16Array;
  readonly cellBucket: Uint16Array;
  readonly cellCount: Uint32Array;
  readonly cellClass: Uint8Array;
  readonly cellFlags: Uint8Array;
  readonly cellEvent: Uint32Array;
  /** Cell indices grouped by class: cells of class c are order[classStart[c] .. classStart[c+1]). */
  readonly order: Uint32Array;
  readonly classStart: Int32Array;
  /**
   * Runs of adjacent buckets of one lane and class, drawn as one rectangle (a zoomed-out lane is mostly runs):
   * runs of class c are [runClassStart[c], runClassStart[c+1]); each has its first cell and its length in buckets.
   */
  readonly runCell: Uint32Array;
  readonly runLen: Uint16Array;
  readonly runClassStart: Int32Array;
  readonly spanN: number;
  readonly spanLane: Uint16Array;
  readonly spanStyle: Uint8Array;
  readonly spanClass: Uint8Array;
  readonly spanKind: Uint16Array;
  readonly spanS: Float64Array;
  readonly spanE: Float64Array;
  readonly spanBegin: Uint32Array;
  readonly spanEndEvent: Uint32Array;
  readonly flowN: number;
  readonly flowFrom: Uint16Array;
  readonly flowTo: Uint16Array;
  readonly flowCount: Uint32Array;
  readonly flowBytes: Float64Array;
  readonly flowS: Float64Array;
  readonly flowE: Float64Array;
  readonly flowEvent: Uint32Array;
  readonly flowToEvent: Uint32Array;
}

const toNumbers = (buf: ArrayBuffer): Float64Array => {
  const b = new BigInt64Array(buf);
  const out = new Float64Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = Number(b[i]);
  return out;
};

export function unpackTile(t: PackedTile, classes: number): DrawTile {
  const B = 2 ** t.level;
  const start = t.index * TILE_BUCKETS * B;
  const cellClass = new Uint8Array(t.cellClass);
  const classStart = new Int32Array(classes + 1);
  for (let i = 0; i < cellClass.length; i++) classStart[cellClass[i] + 1]++;
  for (let c = 0; c < classes; c++) classStart[c + 1] += classStart[c];
  const fill = classStart.slice();
  const order = new Uint32Array(cellClass.length);
  for (let i = 0; i < cellClass.length; i++) order[fill[cellClass[i]]++] = i;
  const cellLane = new Uint16Array(t.cellLane), cellBucket = new Uint16Array(t.cellBucket), cellCount = new Uint32Array(t.cellCounts);
  const runCell: number[] = [], runLen: number[] = [];
  const runClassStart = new Int32Array(classes + 1);
  for (let c = 0; c < classes; c++) {
    const part = order.subarray(classStart[c], classStart[c + 1]);
    part.sort((a, b) => cellLane[a] * TILE_BUCKETS + cellBucket[a] - (cellLane[b] * TILE_BUCKETS + cellBucket[b]));
    runClassStart[c] = runCell.length;
    for (let k = 0; k < part.length; k++) {
      const i = part[k], r = runCell.length - 1;
      // a lone single event stays its own tick; adjacent busy buckets merge
      if (r >= runClassStart[c] && cellLane[runCell[r]] === cellLane[i] && cellBucket[runCell[r]] + runLen[r] === cellBucket[i] &&
        (cellCount[i] > 1 || runLen[r] > 1 || cellCount[runCell[r]] > 1)) runLen[r]++;
      else { runCell.push(i); runLen.push(1); }
    }
  }
  runClassStart[classes] = runCell.length;
  return {
    level: t.level, index: t.index, generation: t.generation, start, bucketNs: B, end: start + TILE_BUCKETS * B,
    cellN: t.cellCount, cellLane, cellBucket, cellCount,
    cellClass, cellFlags: new Uint8Array(t.cellFlags), cellEvent: new Uint32Array(t.cellEvent), order, classStart,
    runCell: Uint32Array.from(runCell), runLen: Uint16Array.from(runLen), runClassStart,
    spanN: t.spanCount, spanLane: new Uint16Array(t.spanLane), spanStyle: new Uint8Array(t.spanStyle), spanClass: new Uint8Array(t.spanClass),
    spanKind: new Uint16Array(t.spanKind), spanS: toNumbers(t.spanStart), spanE: toNumbers(t.spanEnd), spanBegin: new Uint32Array(t.spanBegin),
    spanEndEvent: new Uint32Array(t.spanEndEvent),
    flowN: t.flowCount, flowFrom: new Uint16Array(t.flowFrom), flowTo: new Uint16Array(t.flowTo), flowCount: new Uint32Array(t.flowCounts),
    flowBytes: toNumbers(t.flowBytes), flowS: toNumbers(t.flowFromNs), flowE: toNumbers(t.flowToNs), flowEvent: new Uint32Array(t.flowEvent),
    flowToEvent: new Uint32Array(t.flowToEvent),
  };
}

export function filterKey(f: TileFilter): string {
  return `${[...f.hiddenClasses].sort().join(',')}|${[...f.hiddenKinds].sort().join(',')}|${f.objects ? f.objects.join(',') : '*'}`;
}

export class TileCache {
  private readonly tiles = new Map<string, DrawTile>();
  private readonly inflight = new Set<string>();
  loaded = 0;
  constructor(private readonly capacity = 160) {}

  static key(fk: string, level: number, index: number): string { return `${fk}#${level}#${index}`; }
  get(key: string): DrawTile | undefined {
    const t = this.tiles.get(key);
    if (t) { this.tiles.delete(key); this.tiles.set(key, t); } // LRU touch
    return t;
  }
  peek(key: string): DrawTile | undefined { return this.tiles.get(key); }
  isInflight(key: string): boolean { return this.inflight.has(key); }
  get inflightCount(): number { return this.inflight.size; }
  begin(key: string): void { this.inflight.add(key); }
  fail(key: string): void { this.inflight.delete(key); }
  put(key: string, t: DrawTile): void {
    this.inflight.delete(key);
    this.tiles.delete(key);
    this.tiles.set(key, t);
    this.loaded++;
    while (this.tiles.size > this.capacity) this.tiles.delete(this.tiles.keys().next().value as string);
  }
  clear(): void { this.tiles.clear(); this.inflight.clear(); }
  get size(): number { return this.tiles.size; }
}
