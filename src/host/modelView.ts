// What the tree views show, derived from a session's store (and, when it lands, the trace model): plain data,
// no vscode types, so the views only decide presentation. Incremental: each call consumes only new events.
import { basename } from 'node:path';
import type { EventStore } from '../common/store';
import type { ConnectionInfo } from '../common/traceEvent';

export interface ProcessNode {
  readonly pid: number;
  readonly ppid: number;
  /** Program name of the newest image (after exec). */
  readonly name: string;
  readonly exe: string;
  readonly argv: readonly string[];
  /** Thread ids seen, main thread first. */
  readonly threads: readonly number[];
  readonly events: number;
  readonly children: ProcessNode[];
}

interface ProcessAcc { pid: number; ppid: number; image: ConnectionInfo; tids: Set<number>; events: number }

/** Keeps the process/thread tree of one store up to date, scanning only events appended since the last call. */
export class ProcessTreeBuilder {
  private scanned = 0;
  private readonly procs = new Map<number, ProcessAcc>();
  private connsSeen = 0;

  constructor(private readonly store: EventStore) {}

  roots(): ProcessNode[] {
    const conns = this.store.connections();
    for (; this.connsSeen < conns.length; this.connsSeen++) {
      const c = conns[this.connsSeen];
      const p = this.procs.get(c.pid);
      // A later image of the same pid (exec) names the process; the parent stays the first one's.
      if (p) { if (c.startNs >= p.image.startNs) p.image = c; } else this.procs.set(c.pid, { pid: c.pid, ppid: c.ppid, image: c, tids: new Set([c.tid]), events: 0 });
    }
    const n = this.store.count;
    for (let i = this.scanned; i < n; i++) {
      const p = this.procs.get(this.store.pidAt(i));
      if (p) { p.events++; p.tids.add(this.store.tidAt(i)); }
    }
    this.scanned = n;
    const nodes = new Map<number, ProcessNode>();
    for (const p of this.procs.values()) {
      const threads = [...p.tids].sort((a, b) => (a === p.pid ? -1 : b === p.pid ? 1 : a - b));
      nodes.set(p.pid, { pid: p.pid, ppid: p.ppid, name: basename(p.image.argv[0] || p.image.exe || String(p.pid)), exe: p.image.exe,
        argv: p.image.argv, threads, events: p.events, children: [] });
    }
    const roots: ProcessNode[] = [];
    for (const node of nodes.values()) {
      const parent = nodes.get(node.ppid);
      if (parent && parent !== node) parent.children.push(node); else roots.push(node);
    }
    const byPid = (a: ProcessNode, b: ProcessNode) => a.pid - b.pid;
    for (const node of nodes.values()) node.children.sort(byPid);
    return roots.sort(byPid);
  }
}

export interface ObjectUser { readonly pid: number; readonly name: string; readonly role: string }
export interface ObjectNode { readonly id: number; readonly type: string; readonly label: string; readonly users: readonly ObjectUser[] }
export interface FindingNode { readonly severity: 'error' | 'warning' | 'info'; readonly title: string; readonly detail: string; readonly eventIndex?: number }
