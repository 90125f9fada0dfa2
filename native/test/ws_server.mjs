#!/usr/bin/env node
// A small real collector for the shim's websocket tests (npm `ws`, as the product's collector uses): listens on
// 127.0.0.1, checks the secret (401) and the absence of Origin (403) and the subprotocol, answers HELLO with
// WELCOME, and appends every message of each connection, as received, to PREFIX.<pid> — the same layout the
// file sink writes, so test/decode.py checks both the same way. REPLY messages are kept too.
//
//   node ws_server.mjs PREFIX [--command snapshot|flush] [--stall MS] [--pause-then-vanish]
// prints "PORT SECRET" on its first stdout line; on SIGTERM it waits (≤ 3 s) for open connections to close.
import { WebSocketServer } from 'ws';
import { appendFileSync } from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';

const prefix = process.argv[2];
const commandArg = process.argv.indexOf('--command');
const command = commandArg > 0 ? process.argv[commandArg + 1] : null;
const stallArg = process.argv.indexOf('--stall'); // stop reading for N ms after the first WELCOME (back-pressure)
let stallMs = stallArg > 0 ? Number(process.argv[stallArg + 1]) : 0;
// --pause-then-vanish: send COMMAND pause (hold every thread) and drop the connection 300 ms later (a crashed UI)
const vanish = process.argv.includes('--pause-then-vanish');
const sendError = process.argv.includes('--error'); // an ERROR message right after WELCOME (the shim prints it)
const secret = randomBytes(32).toString('hex');
const MAGIC = 0x53435049;

function header(type, bodyLen, seq) {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(MAGIC, 0);
  h.writeUInt16LE(1, 4);
  h.writeUInt16LE(type, 6);
  h.writeUInt32LE(bodyLen, 8);
  h.writeUInt32LE(seq, 12);
  return h;
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  path: '/ipcscope',
  handleProtocols: (protocols) => (protocols.has('ipcscope.v1') ? 'ipcscope.v1' : false),
  verifyClient: (info, cb) => {
    if (info.req.headers.origin !== undefined) return cb(false, 403, 'Origin not allowed');
    const got = Buffer.from(String(info.req.headers['x-ipcscope-secret'] ?? ''));
    const want = Buffer.from(secret);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return cb(false, 401, 'bad secret');
    cb(true);
  },
});
let open = 0;
let nextConn = 1;
wss.on('connection', (ws) => {
  open++;
  let file = null;
  let seq = 0;
  const conn = nextConn++;
  ws.on('message', (data, isBinary) => {
    const buf = Buffer.from(data);
    if (!isBinary || buf.length < 16 || buf.readUInt32LE(0) !== MAGIC) {
      console.error(`connection ${conn}: malformed message`);
      ws.close(1007);
      return;
    }
    const type = buf.readUInt16LE(6);
    if (type === 1) {
      const hello = JSON.parse(buf.subarray(16).toString('utf8'));
      file = `${prefix}.${hello.pid}`;
      const body = Buffer.from(JSON.stringify({ session: hello.session, connection: conn, payloadBytes: 64, pageFaults: true }));
      ws.send(Buffer.concat([header(2, body.length, seq++), body]));
      if (sendError) {
        const e = Buffer.from('test error from the collector');
        ws.send(Buffer.concat([header(6, e.length, seq++), e]));
      }
      if (vanish) {
        const c = Buffer.alloc(48);
        c.writeUInt32LE(2, 0); // pause
        c.writeBigUInt64LE(9n, 8);
        ws.send(Buffer.concat([header(4, c.length, seq++), c]));
        setTimeout(() => ws.terminate(), 300);
      }
      if (stallMs > 0) {
        ws._socket.pause(); // a stuck collector: the kernel buffers fill, the shim's sends block
        setTimeout(() => ws._socket.resume(), stallMs);
        stallMs = 0;
      }
      if (command) {
        // COMMAND: u32 command, u32 reserved, u64 request id, u64 arg0..arg3
        const c = Buffer.alloc(48);
        c.writeUInt32LE(command === 'snapshot' ? 1 : 6, 0);
        c.writeBigUInt64LE(7n, 8);
        c.writeBigUInt64LE(3n, 16); // snapshot reason: request
        ws.send(Buffer.concat([header(4, c.length, seq++), c]));
      }
    }
    if (file) appendFileSync(file, buf);
  });
  ws.on('close', () => {
    open--;
  });
});
wss.on('listening', () => {
  process.stdout.write(`${wss.address().port} ${secret}\n`);
});
process.on('SIGTERM', () => {
  const t0 = Date.now();
  const check = () => {
    if (open === 0 || Date.now() - t0 > 3000) {
      wss.close();
      process.exit(0);
    }
    setTimeout(check, 20);
  };
  setTimeout(check, 50);
});
