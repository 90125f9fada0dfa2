// What the tree views show, derived from a session's TraceModel: plain data, no vscode types, so the views
// only decide presentation.
import { basename } from 'node:path';
import { findings as modelFindings, type TraceModel } from '../common/model';

export interface ProcessNode {
  readonly pid: number;
  readonly ppid: number;
  /** Program name of the newest image (after exec). */
  readonly name: string;
  readonly argv: readonly string[];
  /** Thread ids seen, main thread first. */
  readonly threads: readonly number[];
  /** 'running', 'exit 0', 'killed by signal 9', … */
  readonly status: string;
  readonly running: boolean;
  readonly children: ProcessNode[];
}

export function processTree(m: TraceModel): ProcessNode[] {
  const nodes = new Map<number, ProcessNode>();
  for (const p of m.processes.values()) {
    const threads = [...p.threads.keys()].sort((a, b) => (a === p.pid ? -1 : b === p.pid ? 1 : a - b));
    if (!threads.includes(p.pid)) threads.unshift(p.pid);
    const status = p.endHow === undefined ? 'running'
      : p.signal !== undefined ? `signal ${p.signal}` : p.exitCode !== undefined ? `exit ${p.exitCode}` : p.endHow;
    nodes.set(p.pid, { pid: p.pid, ppid: p.ppid, name: basename(p.argv[0] || p.exe || String(p.pid)), argv: p.argv, threads,
      status, running: p.endHow === undefined, children: [] });
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

export interface ObjectUser { readonly pid: number; readonly name: string; readonly role: string }
export interface ObjectNode {
  readonly key: string;
  readonly type: string;
  readonly label: string;
  readonly users: readonly ObjectUser[];
  /** The first event that touched it (selecting the object reveals it in the timeline). */
  readonly firstEvent: number | undefined;
  readonly eventCount: number;
}

// Plain files and epoll sets are not IPC; they stay in the model but not in the IPC Objects view.
const NOT_IPC = new Set(['file', 'epoll', 'other']);

export function ipcObjects(m: TraceModel): ObjectNode[] {
  const out: ObjectNode[] = [];
  for (const o of m.objects.values()) {
    if (NOT_IPC.has(o.type)) continue;
    const roles = new Map<number, Set<string>>();
    for (const f of o.fds) {
      const r = roles.get(f.pid) ?? new Set<string>();
      r.add(f.end === 'r' ? 'reads' : f.end === 'w' ? 'writes' : 'reads/writes');
      roles.set(f.pid, r);
    }
    const users = [...o.pids].sort((a, b) => a - b).map((pid) => {
      const p = m.processes.get(pid);
      return { pid, name: basename(p?.argv[0] || p?.exe || String(pid)), role: [...(roles.get(pid) ?? [])].join(', ') };
    });
    out.push({ key: o.key, type: o.type, label: o.name || `${o.type} ${o.key}`, users, firstEvent: o.events[0], eventCount: o.events.length });
  }
  return out;
}

export interface FindingNode { readonly severity: 'error' | 'warning' | 'info'; readonly title: string; readonly detail: string; readonly eventIndex?: number }

export function findingNodes(m: TraceModel): FindingNode[] {
  return modelFindings(m).map((f) => ({ severity: f.severity, title: f.message, detail: f.kind, eventIndex: f.events[0] }));
}
