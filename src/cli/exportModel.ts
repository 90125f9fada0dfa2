// `ipcscope export --format perfetto|chrome`: the formats that need the trace model (flows, slices), registered in
// export.ts's FORMATS table.
import type { Writable } from 'node:stream';
import type { EventStore } from '../common/store';
import { TraceModel, encodePerfetto, chromeTrace } from '../common/model';

function model(store: EventStore): TraceModel {
  const m = new TraceModel(store);
  m.update({ flush: true });
  return m;
}
function write(out: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise((res, rej) => out.write(data, (e) => (e ? rej(e) : res())));
}

export const perfetto = {
  async write(store: EventStore, out: Writable): Promise<void> { await write(out, encodePerfetto(model(store)).bytes); },
};
export const chrome = {
  async write(store: EventStore, out: Writable): Promise<void> { await write(out, JSON.stringify(chromeTrace(model(store)))); },
};
