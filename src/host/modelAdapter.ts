// IPC objects and findings of a session, from the trace model (src/common/model), kept per session and updated
// incrementally as events arrive.
import type { TraceSession } from './session';
import type { ObjectNode, FindingNode } from './modelView';

export function sessionObjects(_s: TraceSession): ObjectNode[] { return []; }
export function sessionFindings(_s: TraceSession): FindingNode[] { return []; }
