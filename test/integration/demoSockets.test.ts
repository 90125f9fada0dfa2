// demos/sockets: the echo servers send back exactly what they receive (bytes out = bytes back, TCP and Unix);
// a socketpair carries data both ways; SCM_RIGHTS hands the parent a new fd for the child's open file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { arg } from '../helpers/record';
import { bytesOf, context, evs, flows, forkedChildren, ioBytes, num, partCommand, proc, recorded, whyNoDemos, wholeRun } from './demoSupport';

describe('sockets: TCP echo', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('sockets', partCommand('sockets', 'tcp'), (run) => {
    test('client → server 32 bytes and server → client the same 32 bytes; the client read back what it wrote', () => {
      const r = run();
      const server = proc(r, './build/tcp_echo_server'), client = proc(r, './build/tcp_echo_client');
      const out = flows(r, 'socket', client.pid, server.pid), back = flows(r, 'socket', server.pid, client.pid);
      const sent = 'hello\nTCP is a byte stream\nquit\n'.length;
      assert.equal(bytesOf(out), sent, context(r));
      assert.equal(bytesOf(back), sent, 'bytes back = bytes out');
      const OTYPE_TCP = 4;
      assert.equal(ioBytes(r, 'write', client.pid, (e) => num(e, 'write', 'otype') === OTYPE_TCP), sent);
      assert.equal(ioBytes(r, 'read', client.pid, (e) => num(e, 'read', 'otype') === OTYPE_TCP), sent);
      assert.ok(evs(r, 'accept', { pid: server.pid }).some((e) => e.err === 0 && e.phase !== 1), 'the server accepted');
      assert.ok(evs(r, 'connect', { pid: client.pid }).some((e) => e.err === 0 && e.phase !== 1), 'the client connected');
    });
  });
});

describe('sockets: Unix domain echo', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('sockets', partCommand('sockets', 'unix'), (run) => {
    test('client → server 47 bytes and back, over one AF_UNIX connection', () => {
      const r = run();
      const server = proc(r, './build/unix_echo');
      const [client] = forkedChildren(r, server);
      const out = flows(r, 'socket', client.pid, server.pid), back = flows(r, 'socket', server.pid, client.pid);
      assert.equal(bytesOf(out), 47, context(r));
      assert.equal(bytesOf(back), 47);
    });
  });
});

describe('sockets: socketpair', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('sockets', partCommand('sockets', 'socketpair'), (run) => {
    test('one socketpair, data both ways: 29 bytes parent → child and 29 bytes child → parent', () => {
      const r = run();
      const parent = proc(r, './build/socketpair');
      const [child] = forkedChildren(r, parent);
      assert.equal(evs(r, 'socketpair', { pid: parent.pid }).length, 1, context(r));
      assert.equal(bytesOf(flows(r, 'socket', parent.pid, child.pid)), 29);
      assert.equal(bytesOf(flows(r, 'socket', child.pid, parent.pid)), 29);
    });
  });
});

describe('sockets: SCM_RIGHTS', { skip: whyNoDemos(), timeout: 120_000 }, () => {
  recorded('sockets', partCommand('sockets', 'scm-rights'), (run) => {
    test('the child sends its file\'s fd, the parent receives a new fd for the same file and reads 41 bytes from it', () => {
      const r = run();
      const parent = proc(r, './build/scm_rights');
      const [child] = forkedChildren(r, parent);
      const sent = evs(r, 'fd_pass', { pid: child.pid, args: { direction: 'send' } });
      const got = evs(r, 'fd_pass', { pid: parent.pid, args: { direction: 'recv' } });
      assert.equal(sent.length, 1, context(r));
      assert.equal(got.length, 1);
      const ino = arg(sent[0], 'fd_pass', 'ino');
      assert.equal(arg(got[0], 'fd_pass', 'ino'), ino, 'the same file on both sides');
      const fd = num(got[0], 'fd_pass', 'fd');
      assert.equal(ioBytes(r, 'read', parent.pid, (e) => num(e, 'read', 'fd') === fd && arg(e, 'read', 'ino') === ino), 41);
      assert.ok(sent[0].ts <= got[0].ts + 1_000_000n, 'sent, then received');
    });
  });
});

wholeRun('sockets');
