// demos/pipe: bytes flow parent → child in order; two pipes carry 42 out and 84 back; free | awk; EOF only when
// every write end is closed, and the model's finding for the reader that holds its own write end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arg, blobText } from '../helpers/record';
import { byTime, bytesOf, context, evs, flows, forkedChildren, ioBytes, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

describe('pipe: parent-child', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('pipe', partCommand('pipe', 'parent-child'), (run) => {
    test('50 bytes flow from parent to child through the pipe; the child\'s last read returns 0 (EOF) after the close', () => {
      const r = run();
      const parent = proc(r, './build/pipe');
      const [child] = forkedChildren(r, parent);
      assert.ok(child, context(r));
      const f = flows(r, 'pipe', parent.pid, child.pid);
      assert.equal(bytesOf(f), 19 + 22 + 9, 'three messages, 50 bytes');
      assert.equal(flows(r, 'pipe', child.pid, parent.pid).length, 0, 'one direction only');
      const reads = evs(r, 'read', { pid: child.pid }).filter((e) => e.phase !== 1).sort(byTime);
      const last = reads[reads.length - 1];
      assert.equal(last.result, 0n, 'EOF');
      const closeW = evs(r, 'close', { pid: parent.pid }).filter((e) => e.ts < last.ts).sort(byTime).pop();
      assert.ok(closeW, 'the parent closed its write end before the EOF');
    });
  });
});

describe('pipe: bidirectional', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('pipe', partCommand('pipe', 'bidirectional'), (run) => {
    test('"42" flows parent → child through one pipe and "84" child → parent through the other', () => {
      const r = run();
      const parent = proc(r, './build/pipe-bidirectional');
      const [child] = forkedChildren(r, parent);
      const out = flows(r, 'pipe', parent.pid, child.pid), back = flows(r, 'pipe', child.pid, parent.pid);
      assert.equal(bytesOf(out), 3, '"42\\0"');
      assert.equal(bytesOf(back), 3, '"84\\0"');
      assert.notEqual(out[0].object, back[0].object, 'two different pipes');
      const text = (pid: number) => evs(r, 'read', { pid }).filter((e) => e.phase !== 1 && e.result > 0n).sort(byTime).map(blobText).join('');
      assert.equal(text(child.pid), '42\0');
      assert.equal(text(parent.pid), '84\0');
      assert.ok(out[0].to.ts < back[0].from.ts, 'the answer is sent after the question arrived');
    });
  });
});

describe('pipe: pipeline', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('pipe', partCommand('pipe', 'pipeline'), (run) => {
    test('free\'s output flows to awk through the shell\'s pipe: free holds the write end, awk the read end', () => {
      const r = run();
      const free = proc(r, 'free'), awk = proc(r, '(NR==2){print $2}');
      const pipe = [...r.model.objects.values()].find((o) => o.type === 'pipe'
        && o.fds.some((f) => f.pid === free.pid && f.end === 'w') && o.fds.some((f) => f.pid === awk.pid && f.end === 'r'));
      assert.ok(pipe, `no pipe from free to awk\n${context(r)}`);
      const [dev, ino] = pipe.key.split(':');
      const got = ioBytes(r, 'read', awk.pid, (e) => String(arg(e, 'read', 'dev')) === dev && String(arg(e, 'read', 'ino')) === ino);
      assert.ok(got > 100, `awk read ${got} bytes from the pipe`);
      // free prints through stdio; the shim records those writes too, so the flow is complete.
      assert.equal(bytesOf(flows(r, 'pipe', free.pid, awk.pid)), got, 'every byte awk read came from free');
      assert.match(r.stdout.trim(), /^\d+$/);
    });
  });
});

describe('pipe: eof', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('pipe', partCommand('pipe', 'eof'), (run) => {
    test('the reader closed its write end, so its read returns 0 once the writer closes', () => {
      const r = run();
      const [reader] = forkedChildren(r, proc(r, './build/pipe-eof'));
      const reads = evs(r, 'read', { pid: reader.pid }).filter((e) => e.phase !== 1).sort(byTime);
      assert.equal(reads[reads.length - 1].result, 0n, context(r));
      assert.ok(!r.summary.findings.some((f) => f.kind === 'pipe-write-end-in-reader'));
    });
  });
});

describe('pipe: eof-bug', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('pipe', partCommand('pipe', 'eof-bug'), (run) => {
    test('the reader keeps a write end: its read never returns 0, and the model names the bug', () => {
      const r = run();
      const [reader] = forkedChildren(r, proc(r, './build/pipe-eof'));
      assert.match(r.stdout, /NO EOF after 1 s/, context(r));
      const reads = evs(r, 'read', { pid: reader.pid });
      assert.ok(reads.some((e) => e.phase === 1), 'the reader blocked in read');
      assert.ok(reads.every((e) => e.phase === 1 || e.result !== 0n), 'no read returned 0 (EOF)');
      const finding = r.summary.findings.find((f) => f.kind === 'pipe-write-end-in-reader');
      assert.ok(finding, `findings: ${JSON.stringify(r.summary.findings.map((f) => f.kind))}`);
      assert.ok(finding.events.some((e) => e.pid === reader.pid), 'the finding points at the reader');
    });
  });
});

wholeRun('pipe');
