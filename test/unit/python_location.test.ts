// python_location semantics on a hand-built sequence (docs/events.md kind 12): it applies to the thread's following
// events until the next one; line 0 ends it; other threads keep their own; an exec (proc_start) in the thread ends
// it. The model (call sites) and the timeline's details pane must agree. Real recordings: integration/python_location.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArraySource } from '../fixtures/model/source';
import { CallSiteResolver, TraceModel } from '../../src/common/model';
import { TimelineData } from '../../src/common/timelineData';

test('python_location applies to the thread\'s following events until the next one, line 0 or an exec', () => {
  const s = new ArraySource().connect(10, 1, ['python3', 'a.py'], 0n);
  const loc = (tid: number, ts: number, line: number, file = '/w/a.py') => s.ev('python_location', 'instant', 10, tid, ts, { line }, line ? { blob: file } : {});
  const w = (tid: number, ts: number) => s.ev('write', 'instant', 10, tid, ts, { fd: 1, count: 1 }, { result: 1 });
  const before = w(10, 1); // start-up: no location yet
  loc(10, 2, 7);
  const a = w(10, 3), b = w(10, 4); // both on line 7 (the GIL's mutex events inside os.write are like b)
  loc(11, 5, 20, '/w/b.py');
  const other = w(11, 6); // another thread: its own location
  const c = w(10, 7); // still line 7: thread 11's location is not thread 10's
  loc(10, 8, 0);
  const d = w(10, 9); // line 0: none any more
  loc(10, 10, 9);
  s.ev('proc_start', 'instant', 10, 10, 11, { ppid: 1 }, { blob: '/bin/sh\0' });
  const afterExec = w(10, 12); // the exec'd image is not the Python code
  const m = new TraceModel(s);
  m.update({ flush: true });
  const at = (i: number) => { const p = m.pythonLocation(i); return p ? `${p.file}:${p.line}` : null; };
  assert.deepEqual([before, a, b, other, c, d, afterExec].map(at), [null, '/w/a.py:7', '/w/a.py:7', '/w/b.py:20', '/w/a.py:7', null, null]);
  const sites = new CallSiteResolver(m);
  assert.deepEqual([sites.forEvent(b).source, sites.forEvent(b).text], ['python', '/w/a.py:7']);
  const td = new TimelineData(s);
  const src = (i: number) => { const x = td.details(i).source; return x ? `${x.file}:${x.line}` : null; };
  assert.deepEqual([before, a, b, other, c, d, afterExec].map(src), [null, '/w/a.py:7', '/w/a.py:7', '/w/b.py:20', '/w/a.py:7', null, null]);
});
