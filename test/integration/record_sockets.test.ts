// `ipcscope record` on real programs: Unix and TCP echo, socketpair with SCM_RIGHTS, an epoll server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arg, blobText, compileC, events, recordProgram, rootPid, whyNoShim } from '../helpers/record';

const skip = whyNoShim();
const FIX = 'test/fixtures/record';
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

for (const kind of ['unix', 'tcp'] as const) {
  test(`a ${kind} socket echo: connect and accept name each other (${kind === 'unix' ? 'peer inodes' : 'mirrored addresses'}), 5 bytes each way`, { skip }, async () => {
    const r = await recordProgram(compileC(`${FIX}/echo_socket.c`), [kind]);
    assert.equal(r.exit.status, 0, r.stderr);
    const s = r.store;
    const server = rootPid(s);
    const client = Number(events(s, 'fork', { pid: server })[0].result);
    const [bind] = events(s, 'bind', { pid: server });
    assert.match(blobText(bind), kind === 'unix' ? /^unix:\/tmp\/ipcscope-echo-\d+\.sock$/ : /^tcp:127\.0\.0\.1:\d+$/);
    const [acc] = events(s, 'accept', { pid: server, phase: 'end' });
    const [con] = events(s, 'connect', { pid: client, phase: 'end' });
    assert.ok(acc && con, 'accept and connect end events');
    assert.equal(con.result, 0n);
    const srvIno = arg(acc, 'accept', 'ino'), cliIno = arg(con, 'connect', 'ino');
    assert.notEqual(srvIno, 0n);
    assert.notEqual(cliIno, 0n);
    if (kind === 'unix') {
      // events.md: accept and connect record the peer's inode (Unix sockets, from sock_diag)
      assert.equal(arg(acc, 'accept', 'peerIno'), cliIno, 'accept names the client socket');
      // connect may finish before the server's accept creates the peer's inode (then 0); the client's later
      // reads and writes name it in `peer`
      assert.ok([0n, srvIno].includes(arg(con, 'connect', 'peerIno')), 'connect names the accepted socket or nothing yet');
    } else {
      // TCP ends are matched by address: the accepted socket's local|remote is the connecting one's remote|local
      assert.match(blobText(con), /^tcp:127\.0\.0\.1:\d+\|tcp:127\.0\.0\.1:\d+$/);
      assert.equal(blobText(acc), blobText(con).split('|').reverse().join('|'));
    }
    const otype = kind === 'unix' ? 'socket_unix' : 'socket_tcp';
    const cw = events(s, 'write', { pid: client, phase: 'end', args: { ino: cliIno, otype } });
    const sr = events(s, 'read', { pid: server, phase: 'end', args: { ino: srvIno, otype } });
    const sw = events(s, 'write', { pid: server, phase: 'end', args: { ino: srvIno, otype } });
    const cr = events(s, 'read', { pid: client, phase: 'end', args: { ino: cliIno, otype } });
    assert.deepEqual([sum(cw.map((e) => e.result)), sum(sr.map((e) => e.result)), sum(sw.map((e) => e.result)), sum(cr.map((e) => e.result))], [5n, 5n, 5n, 5n]);
    if (kind === 'unix') {
      assert.ok(cw.some((e) => arg(e, 'write', 'peer') === srvIno) || cr.some((e) => arg(e, 'read', 'peer') === srvIno),
        'the client\'s data events name the accepted socket as peer');
      assert.ok(sw.every((e) => arg(e, 'write', 'peer') === cliIno), 'the server\'s writes name the client socket as peer');
    }
    assert.equal(cw.map(blobText).join(''), 'ping!');
    assert.equal(cr.map(blobText).join(''), 'ping!');
    r.cleanup();
  });
}

test('socketpair with a pipe fd passed by SCM_RIGHTS: both fd_pass events and the write name the pipe', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/scm_rights.c`));
  assert.equal(r.exit.status, 0, r.stderr);
  assert.equal(r.stdout, 'via passed fd\n');
  const s = r.store;
  const parent = rootPid(s);
  const child = Number(events(s, 'fork', { pid: parent })[0].result);
  const [sp] = events(s, 'socketpair', { pid: parent });
  assert.notEqual(arg(sp, 'socketpair', 'ino0'), arg(sp, 'socketpair', 'ino1'));
  const [pipe] = events(s, 'pipe', { pid: parent });
  const dev = arg(pipe, 'pipe', 'dev'), ino = arg(pipe, 'pipe', 'ino');
  const sent = events(s, 'fd_pass', { pid: parent, args: { direction: 'send' } });
  const got = events(s, 'fd_pass', { pid: child, args: { direction: 'recv' } });
  assert.equal(sent.length, 1);
  assert.equal(got.length, 1);
  assert.deepEqual([arg(sent[0], 'fd_pass', 'dev'), arg(sent[0], 'fd_pass', 'ino'), arg(sent[0], 'fd_pass', 'otype')], [dev, ino, 1n]);
  assert.deepEqual([arg(got[0], 'fd_pass', 'dev'), arg(got[0], 'fd_pass', 'ino'), arg(got[0], 'fd_pass', 'otype')], [dev, ino, 1n]);
  assert.equal(arg(sent[0], 'fd_pass', 'viaIno'), arg(sp, 'socketpair', 'ino0'));
  const passedFd = arg(got[0], 'fd_pass', 'fd');
  const w = events(s, 'write', { pid: child, phase: 'end', args: { fd: passedFd, ino } });
  assert.deepEqual(w.map((e) => e.result), [13n]);
  assert.deepEqual(events(s, 'read', { pid: parent, phase: 'end', args: { ino } }).map((e) => e.result), [13n]);
  r.cleanup();
});

test('an epoll server: three pipes registered, epoll_wait reports them ready, 24 bytes read', { skip }, async () => {
  const r = await recordProgram(compileC(`${FIX}/epoll_server.c`));
  assert.equal(r.exit.status, 0, r.stderr);
  const s = r.store;
  const pid = rootPid(s);
  const [ep] = events(s, 'epoll_create', { pid });
  const epfd = ep.result;
  const adds = events(s, 'epoll_ctl', { pid, args: { epfd, op: 1 } });
  assert.equal(adds.length, 3);
  assert.deepEqual(adds.map((e) => arg(e, 'epoll_ctl', 'otype')), [1n, 1n, 1n]);
  const waits = events(s, 'epoll_wait', { pid, phase: 'end', args: { epfd } });
  assert.ok(waits.length >= 1);
  assert.equal(sum(waits.map((e) => e.result)), 3n, 'three readiness reports in all');
  assert.equal(events(s, 'epoll_wait', { pid, phase: 'begin', args: { epfd } }).length, waits.length);
  const inos = new Set(adds.map((e) => arg(e, 'epoll_ctl', 'ino')));
  const reads = events(s, 'read', { pid, phase: 'end' }).filter((e) => inos.has(arg(e, 'read', 'ino')));
  assert.deepEqual(reads.map((e) => e.result), [8n, 8n, 8n]);
  r.cleanup();
});
