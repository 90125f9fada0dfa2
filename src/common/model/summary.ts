// The `ipcscope summary --json` object (documented field by field in docs/summary.md) and its human form.
// Nanosecond values are decimal strings (JSON numbers cannot hold them exactly); counts and byte totals are numbers.
import { kindById } from '../vocabulary';
import { findings as computeFindings, waitForGraph } from './analysis';
import { CallSiteResolver } from './callsites';
import type { TraceModel } from './model';
import { FLOW_KINDS, type FlowKind } from './types';

export const SUMMARY_VERSION = 1;

export interface SummaryEventRef { index: number; pid: number; tid: number; ts: string; kind: string }
export interface Summary {
  version: number;
  events: number;
  dropped: number;
  startNs: string | null;
  endNs: string | null;
  byKind: Record<string, number>;
  processes: { pid: number; ppid: number; argv: string[]; exe: string; startNs: string; endNs: string | null; exitCode: number | null; signal: number | null; threads: number }[];
  objects: Record<string, number>;
  flows: Record<FlowKind, number>;
  bytes: Record<FlowKind, number>;
  signals: { sig: number; sent: number; delivered: number }[];
  locks: {
    name: string; key: string; kind: string; acquisitions: number; contended: number; waitNs: string; maxWaitNs: string; holdNs: string; maxHoldNs: string;
    topWaiters: { pid: number; tid: number; count: number; waitNs: string }[];
    topHolders: { pid: number; tid: number; count: number; holdNs: string }[];
    callSites: { address: string; site: string; count: number }[];
  }[];
  waits: { count: number; open: number; totalNs: string; byKind: Record<string, { count: number; totalNs: string; maxNs: string }> };
  pageFaults: { minor: number; major: number; perPid: Record<string, { minor: number; major: number }> };
  pages: { pid: number; present: number; private: number; shared: number; copied: number; method: string | null }[];
  deadlocks: number;
  findings: { kind: string; severity: string; message: string; events: SummaryEventRef[] }[];
}

export interface SummaryOptions { /** Resolve lock call sites with addr2line (default true). */ callSites?: boolean; /** Top waiters/holders/call sites per lock (default 5). */ top?: number }

export function summarize(m: TraceModel, opts: SummaryOptions = {}): Summary {
  const top = opts.top ?? 5;
  const ns = (v: bigint | undefined) => (v === undefined ? null : v.toString());
  const ref = (i: number): SummaryEventRef => {
    const e = m.source.get(i);
    return { index: i, pid: e.pid, tid: e.tid, ts: e.ts.toString(), kind: kindById(e.kind)?.name ?? String(e.kind) };
  };
  const byKind: Record<string, number> = {};
  for (const [k, n] of [...m.byKind].sort((a, b) => a[0] - b[0])) byKind[kindById(k)?.name ?? String(k)] = n;
  const flows = Object.fromEntries(FLOW_KINDS.map((k) => [k, 0])) as Record<FlowKind, number>;
  for (const f of m.flows) flows[f.kind]++;
  const bytes = Object.fromEntries(FLOW_KINDS.map((k) => [k, m.bytesByKind.get(k) ?? 0])) as Record<FlowKind, number>;
  const objects: Record<string, number> = {};
  for (const o of m.objects.values()) if (o.type !== 'file' && o.type !== 'other') objects[o.type] = (objects[o.type] ?? 0) + 1;
  const resolver = opts.callSites === false ? undefined : new CallSiteResolver(m);
  const locks = m.lockStats().sort((a, b) => (b.waitNs > a.waitNs ? 1 : b.waitNs < a.waitNs ? -1 : b.acquisitions - a.acquisitions)).map((s) => ({
    name: s.name, key: s.key, kind: s.kind, acquisitions: s.acquisitions, contended: s.contended,
    waitNs: s.waitNs.toString(), maxWaitNs: s.maxWaitNs.toString(), holdNs: s.holdNs.toString(), maxHoldNs: s.maxHoldNs.toString(),
    topWaiters: [...s.waiters.values()].sort((a, b) => (b.waitNs > a.waitNs ? 1 : -1)).slice(0, top).map((w) => ({ pid: w.pid, tid: w.tid, count: w.count, waitNs: w.waitNs.toString() })),
    topHolders: [...s.holders.values()].sort((a, b) => (b.holdNs > a.holdNs ? 1 : -1)).slice(0, top).map((h) => ({ pid: h.pid, tid: h.tid, count: h.count, holdNs: h.holdNs.toString() })),
    callSites: [...s.callers.entries()].sort((a, b) => b[1].count - a[1].count).slice(0, top).map(([addr, c]) => ({
      address: '0x' + addr.toString(16), site: resolver ? resolver.forEvent(c.index).text : '0x' + addr.toString(16), count: c.count,
    })),
  }));
  const waitKinds: Summary['waits']['byKind'] = {};
  let total = 0n, open = 0;
  const maxes = new Map<string, bigint>(), totals = new Map<string, bigint>();
  for (const w of m.waits) {
    const name = kindById(w.kind)?.name ?? String(w.kind);
    const entry = waitKinds[name] ?? (waitKinds[name] = { count: 0, totalNs: '0', maxNs: '0' });
    entry.count++;
    if (w.t1 === undefined) { open++; continue; }
    const d = w.t1 - w.t0;
    total += d;
    totals.set(name, (totals.get(name) ?? 0n) + d);
    if (d > (maxes.get(name) ?? 0n)) maxes.set(name, d);
  }
  for (const [name, e] of Object.entries(waitKinds)) { e.totalNs = (totals.get(name) ?? 0n).toString(); e.maxNs = (maxes.get(name) ?? 0n).toString(); }
  let minor = 0, major = 0;
  const perPid: Record<string, { minor: number; major: number }> = {};
  for (const [pid, c] of m.pages.faultCounts) { minor += c.minor; major += c.major; perPid[pid] = { ...c }; }
  const end = m.lastNs ?? 0n;
  const pages = [...new Set(m.pages.trackList().map((t) => t.pid))].sort((a, b) => a - b).map((pid) => {
    const c = m.pages.countsAt(pid, end);
    return { pid, present: c.present, private: c.private, shared: c.shared, copied: c.copied, method: c.method ?? null };
  });
  const fs = computeFindings(m);
  return {
    version: SUMMARY_VERSION,
    events: m.eventsProcessed,
    dropped: m.dropped + ((m.source as { dropped?: number }).dropped ?? 0),
    startNs: ns(m.firstNs), endNs: ns(m.lastNs),
    byKind,
    processes: [...m.processes.values()].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.pid - b.pid)).map((p) => ({
      pid: p.pid, ppid: p.ppid, argv: p.argv, exe: p.exe, startNs: p.startNs.toString(), endNs: ns(p.endNs),
      exitCode: p.exitCode ?? null, signal: p.signal ?? null, threads: p.threads.size,
    })),
    objects, flows, bytes,
    signals: m.signalStats().map((s) => ({ ...s })),
    locks,
    waits: { count: m.waits.length, open, totalNs: total.toString(), byKind: waitKinds },
    pageFaults: { minor, major, perPid },
    pages,
    deadlocks: waitForGraph(m).deadlocks.length,
    findings: fs.map((f) => ({ kind: f.kind, severity: f.severity, message: f.message, events: f.events.filter((i) => i >= 0).map(ref) })),
  };
}

const ms = (s: string) => (Number(BigInt(s) / 1000n) / 1000).toFixed(3) + ' ms';

/** The human summary. */
export function formatSummary(s: Summary): string {
  const L: string[] = [];
  const dur = s.startNs && s.endNs ? ms((BigInt(s.endNs) - BigInt(s.startNs)).toString()) : '0 ms';
  L.push(`${s.events} events over ${dur}, ${s.dropped} dropped`);
  L.push('', `processes (${s.processes.length}):`);
  for (const p of s.processes) {
    const how = p.signal !== null ? `killed by signal ${p.signal}` : p.exitCode !== null ? `exit ${p.exitCode}` : 'running/unknown';
    L.push(`  ${String(p.pid).padStart(7)}  ppid ${String(p.ppid).padEnd(7)} ${how.padEnd(20)} ${p.threads} thread(s)  ${p.argv.join(' ')}`);
  }
  L.push('', 'flows:');
  for (const k of Object.keys(s.flows) as FlowKind[]) if (s.flows[k]) L.push(`  ${k.padEnd(7)} ${String(s.flows[k]).padStart(8)}  ${s.bytes[k] ? `${s.bytes[k]} bytes` : ''}`);
  if (s.signals.length) { L.push('', 'signals:'); for (const g of s.signals) L.push(`  ${String(g.sig).padStart(3)}: ${g.sent} sent, ${g.delivered} delivered`); }
  if (s.locks.length) {
    L.push('', 'locks (by total wait):');
    for (const l of s.locks.slice(0, 20)) L.push(`  ${l.name}: ${l.acquisitions} acquired, ${l.contended} contended, wait ${ms(l.waitNs)} (max ${ms(l.maxWaitNs)}), max hold ${ms(l.maxHoldNs)}${l.callSites[0] ? `, mostly at ${l.callSites[0].site}` : ''}`);
  }
  if (s.waits.count) L.push('', `waits: ${s.waits.count} (${s.waits.open} never ended), ${ms(s.waits.totalNs)} blocked in total`);
  if (s.pageFaults.minor + s.pageFaults.major) L.push('', `page faults: ${s.pageFaults.minor} minor, ${s.pageFaults.major} major`);
  for (const p of s.pages) L.push(`  pid ${p.pid}: ${p.present} pages present, ${p.private} private (${p.copied} copied), ${p.shared} shared [${p.method ?? 'no snapshot'}]`);
  L.push('', s.findings.length ? `findings (${s.findings.length}):` : 'findings: none');
  for (const f of s.findings) L.push(`  [${f.severity}] ${f.kind}: ${f.message}`);
  return L.join('\n') + '\n';
}
