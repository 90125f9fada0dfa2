// Commands from the collector to a live shim: every command gets its REPLY, also when several arrive in one read
// (the debug adapter sends breakpoints, pause and snapshot requests back to back; the shim once kept a single
// pending command, so the earlier ones of a burst were lost and timed out).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Collector } from '../../src/common/collector';
import { TracedProcess } from '../../src/common/launcher';
import { whyNoShim } from '../helpers/record';

const skip = whyNoShim();

test('a burst of commands to one process: each answered, none lost; past the queue a clear refusal, not silence', { skip, timeout: 60_000 }, async () => {
  const c = await Collector.start({ pageFaults: false });
  const p = TracedProcess.launch({ command: 'sleep', args: ['5'], collector: c, stdio: 'pipe' });
  try {
    const conn = await new Promise<number>((res) => {
      const live = c.liveConnections();
      if (live.length) res(live[0].conn);
      else c.once('connection', (info: { conn: number }) => res(info.conn));
    });
    // Ten at once: all must be answered with success.
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => c.sendCommand(conn, i % 3 ? 'flush' : 'snapshot', i % 3 ? [] : [3n], 20_000)));
    assert.deepEqual(burst.map((r) => r.status), Array(10).fill(0));
    // Far more than the shim queues: every one still gets a REPLY; any refused says why.
    const flood = await Promise.all(Array.from({ length: 100 }, () => c.sendCommand(conn, 'flush', [], 20_000)));
    for (const r of flood) if (r.status !== 0) assert.match(String((r.json as { message?: string }).message), /too many commands queued/);
    assert.ok(flood.filter((r) => r.status === 0).length >= 32, 'at least a queue\'s worth succeeded');
  } finally {
    await p.stop('SIGKILL');
    await c.close();
  }
});
