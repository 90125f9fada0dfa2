// Chrome trace-event JSON export (`traceEvents`), for tools that read only that format. Same layout as the
// Perfetto export; flows become `s`/`f` pairs bound to the enclosing slices. The format's `ts` is microseconds as a
// JSON number (its own rule); we count from the first event so the doubles keep nanosecond precision.
import type { TraceModel } from './model';
import { layout } from './exportPerfetto';

export function chromeTrace(m: TraceModel): { traceEvents: Record<string, unknown>[]; displayTimeUnit: string; otherData: Record<string, string> } {
  const { tracks, events } = layout(m);
  const t0 = m.firstNs ?? 0n;
  const us = (ts: bigint) => Number(ts - t0) / 1000;
  const out: Record<string, unknown>[] = [];
  for (const t of tracks) {
    if (t.tid === undefined) out.push({ ph: 'M', name: 'process_name', pid: t.pid, tid: 0, args: { name: `${t.name} (${t.pid})` } });
    else out.push({ ph: 'M', name: 'thread_name', pid: t.pid, tid: t.tid, args: { name: t.name } });
  }
  for (const e of events) {
    const base = { pid: e.pid, tid: e.tid, ts: us(e.ts) };
    if (e.type === 'E') { out.push({ ...base, ph: 'E' }); continue; }
    out.push(e.type === 'B' ? { ...base, ph: 'B', name: e.name, cat: e.cat, args: e.args } : { ...base, ph: 'i', s: 't', name: e.name, cat: e.cat, args: e.args });
    for (const id of e.flowOut) out.push({ ...base, ph: 's', id, name: 'flow', cat: 'flow' });
    for (const id of e.flowIn) out.push({ ...base, ph: 'f', bp: 'e', id, name: 'flow', cat: 'flow' });
  }
  return { traceEvents: out, displayTimeUnit: 'ns', otherData: { clock: 'CLOCK_MONOTONIC', originNs: t0.toString(), tool: 'ipc-scope' } };
}
