#!/usr/bin/env python3
"""Decode the shim's file sink (IPCSCOPE=file=PATH writes PATH.<pid>, one file per process, the raw messages of
docs/protocol.md back to back) into one line per event, and check those lines against an expectation file.

  decode.py PATH                 print every event of PATH.* merged by timestamp
  decode.py PATH --check EXPECT  print, then check (exit 1 and say which line failed)
  decode.py PATH --full          also print each event's timestamp and caller (and binary blobs in hex)
  decode.py PATH --out FILE      print to FILE
  decode.py PATH --stats         print only: events=N fixed_messages=N compact_messages=N bytes=N (the events
                                 go to --out FILE if given)

Line format (what expectation regexes match):
  pid=P tid=T kind=write phase=end result=5 err=0 flags=0 fd=4 count=5 otype=pipe ... blob="hello"
  pid=P kind=hello origin=fork ppid=Q exe=/path argv=a,b
  pid=P kind=bye emitted=N dropped=N
Enumerated arguments print as names (origin=fork, how=waitpid); blobs as a quoted, escaped string (\\0 for NUL)
or blob_len=N for binary page snapshots.
EVENTS in both encodings (0 fixed, 1 compact) are read. Raw format errors (bad magic, wrong record size, unknown
kind, nargs mismatch, a compact record breaking a rule of docs/protocol.md) are reported as errors."""
import glob
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = json.load(open(os.path.join(HERE, '..', '..', 'src', 'common', 'events.json')))
KINDS = {k['id']: k for k in VOCAB['kinds']}
PHASES = {v: k for k, v in VOCAB['phases'].items()}
ENUMS = VOCAB['enums']
HEXISH = re.compile(r'^(start|end|addr|ip|handler|oldHandler|startRoutine|mapStart|mapEnd|mutex|cond|rwlock|lock|sem|handle)$')
BINARY_BLOB_KINDS = {'page_snapshot', 'select', 'poll', 'epoll_wait', 'semop'}


class DecodeError(Exception):
    pass


def esc(b):
    out = []
    for c in b:
        if c == 0:
            out.append('\\0')
        elif c == 0x22 or c == 0x5c:
            out.append('\\' + chr(c))
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        elif c == 10:
            out.append('\\n')
        else:
            out.append('\\x%02x' % c)
    return ''.join(out)


def fmt_arg(name_spec, value):
    name, _, enum = name_spec.partition(':')
    if enum and enum in ENUMS:
        vals = ENUMS[enum]
        return '%s=%s' % (name, vals[value] if value < len(vals) else str(value))
    if HEXISH.search(name):
        return '%s=0x%x' % (name, value)
    if value >= 1 << 63:
        value -= 1 << 64
    return '%s=%d' % (name, value)


def event_line(pid, tid, k, phase, result, err, flags, args, blob, ts, caller, full):
    parts = ['pid=%d' % pid, 'tid=%d' % tid, 'kind=%s' % k['name'], 'phase=%s' % PHASES[phase],
             'result=%d' % result, 'err=%d' % err, 'flags=%d' % flags]
    parts += [fmt_arg(a, v) for a, v in zip(k['args'], args)]
    blen = len(blob)
    if blen:
        if k['name'] in BINARY_BLOB_KINDS:
            parts.append('blob_len=%d' % blen)
        if k['name'] == 'page_snapshot':
            # Summaries of the raw entries: pages present (bit 63), swapped (bit 62), and mapped more than once.
            n = args[3]
            ents = struct.unpack_from('<%dQ' % n, blob, 0) if len(blob) >= 8 * n else ()
            parts.append('present=%d' % sum(1 for e in ents if e >> 63))
            parts.append('swapped=%d' % sum(1 for e in ents if (e >> 62) & 1))
            if args[7] and len(blob) >= 9 * n:
                parts.append('multimapped=%d' % sum(1 for c in blob[8 * n: 9 * n] if c > 1))
        else:
            parts.append('blob="%s"' % esc(blob))
    if full:  # everything a record holds, for comparing two encodings of one run
        parts.append('ts=%d caller=0x%x' % (ts, caller))
        if k['name'] in BINARY_BLOB_KINDS:
            parts.append('blob=%s' % blob.hex())
    return (ts, ' '.join(parts), blob if k['name'] == 'page_snapshot' else None)


def decode_records(body, pid, out, full=False):
    if len(body) < 8:
        raise DecodeError('EVENTS body of %d bytes (needs count and encoding)' % len(body))
    count, encoding = struct.unpack_from('<II', body, 0)
    if encoding == 1:
        return decode_compact(body, pid, out, full)
    if encoding != 0:
        raise DecodeError('unknown EVENTS encoding %d' % encoding)
    off = 8
    for i in range(count):
        if off + 40 > len(body):
            raise DecodeError('record %d runs past the message' % i)
        kind, phase, nargs, blen, flags, tid, err, ts, result, caller = struct.unpack_from('<HBBHHIiQqQ', body, off)
        size = 40 + 8 * nargs + ((blen + 7) & ~7)
        if off + size > len(body):
            raise DecodeError('record %d (kind %d) runs past the message' % (i, kind))
        k = KINDS.get(kind)
        if not k:
            raise DecodeError('unknown kind %d' % kind)
        if nargs != len(k['args']):
            raise DecodeError('kind %s has %d args, record says %d' % (k['name'], len(k['args']), nargs))
        if phase not in PHASES:
            raise DecodeError('bad phase %d' % phase)
        args = struct.unpack_from('<%dQ' % nargs, body, off + 40)
        blob = body[off + 40 + 8 * nargs: off + 40 + 8 * nargs + blen]
        out.append(event_line(pid, tid, k, phase, result, err, flags, args, blob, ts, caller, full))
        off += size
    if off != len(body):
        raise DecodeError('%d trailing bytes after %d records' % (len(body) - off, count))


class Compact:
    """Reader of one encoding-1 message body (docs/protocol.md "Event records, encoding 1"): every rule checked."""

    def __init__(self, body):
        self.body = body
        self.off = 16
        self.rec = 0

    def fail(self, what):
        raise DecodeError('compact record %d (offset %d): %s' % (self.rec, self.off, what))

    def uv(self, field, limit=1 << 64):
        v = 0
        for i in range(10):
            if self.off >= len(self.body):
                self.fail('%s runs past the end of the message' % field)
            b = self.body[self.off]
            self.off += 1
            v |= (b & 0x7f) << (7 * i)
            if not b & 0x80:
                if v >= limit:
                    self.fail('%s %d out of range (< %d)' % (field, v, limit))
                return v
        self.fail('%s varint longer than 10 bytes' % field)

    def sv(self, field, lo, hi):
        z = self.uv(field)
        v = (z >> 1) ^ -(z & 1)
        if not lo <= v <= hi:
            self.fail('%s %d out of range [%d, %d]' % (field, v, lo, hi))
        return v


def decode_compact(body, pid, out, full):
    if len(body) < 16:
        raise DecodeError('compact EVENTS body of %d bytes (needs count, encoding and base timestamp)' % len(body))
    count, _, base = struct.unpack_from('<IIQ', body, 0)
    c = Compact(body)
    ts, kind, tid = base, None, None
    prev = {}  # kind -> [caller, args...] of its previous record in this message
    prev_blob = {}  # kind -> its previous blob in this message (blob length 0 repeats it)
    for i in range(count):
        c.rec = i
        if c.off >= len(body):
            c.fail('message ends after %d of %d records' % (i, count))
        head = body[c.off]
        c.off += 1
        phase = head & 3
        if phase not in PHASES:
            c.fail('bad phase %d' % phase)
        if head & 4:
            if kind is None:
                c.fail('the first record carries K (same kind as the previous)')
        else:
            kind = c.uv('kind', 1 << 16)
        if head & 8:
            tid = c.uv('tid', 1 << 32)
        elif tid is None:
            c.fail('the first record carries no tid (T)')
        ts += c.sv('delta ts', -(1 << 53) + 1, (1 << 53) - 1)
        if not 0 <= ts < 1 << 64:
            c.fail('timestamp %d out of range' % ts)
        flags = c.uv('flags', 1 << 16) if head & 16 else 0
        err = c.sv('errno', -(1 << 31), (1 << 31) - 1) if head & 32 else 0
        result = c.sv('result', -(1 << 63), (1 << 63) - 1) if head & 64 else 0
        k = KINDS.get(kind)
        if not k:
            c.fail('unknown kind %d' % kind)
        nargs = len(k['args'])
        row = prev.get(kind) or [0] * (1 + nargs)
        vals = [c.uv('caller')] + [c.uv('argument %d' % a) for a in range(nargs)]
        row = [v ^ p for v, p in zip(vals, row)]
        prev[kind] = row
        blob = b''
        if head & 128:
            blen = c.uv('blob length', 1 << 16)
            if blen == 0:
                if kind not in prev_blob:
                    c.fail('blob length 0 (a repeat) with no earlier blob of this kind in the message')
                blob = prev_blob[kind]
            else:
                if c.off + blen > len(body):
                    c.fail('blob of %d bytes runs past the end of the message' % blen)
                blob = body[c.off: c.off + blen]
                c.off += blen
                prev_blob[kind] = blob
        out.append(event_line(pid, tid, k, phase, result, err, flags, row[1:], blob, ts, row[0], full))
    if c.off != len(body):
        raise DecodeError('%d trailing bytes after %d compact records' % (len(body) - c.off, count))


STATS = {'messages': {0: 0, 1: 0}, 'bytes': 0, 'events': 0}


def decode_file(path, full=False):
    data = open(path, 'rb').read()
    STATS['bytes'] += len(data)
    off = 0
    out = []
    pid = None
    last_ts = 0
    expect_seq = 0
    while off < len(data):
        if off + 16 > len(data):
            raise DecodeError('%s: cut-off message header at %d' % (path, off))
        magic, ver, mtype, blen, seq = struct.unpack_from('<IHHII', data, off)
        if magic != 0x53435049 or ver != 1:
            raise DecodeError('%s: bad magic/version at offset %d' % (path, off))
        body = data[off + 16: off + 16 + blen]
        if len(body) != blen:
            raise DecodeError('%s: cut-off message body at %d' % (path, off))
        if mtype == 1:
            expect_seq = 0
            h = json.loads(body.decode('utf-8'))
            pid = h['pid']
            last_ts = int(h['startNs'])
            out.append((last_ts, 'pid=%d tid=%d kind=hello origin=%s ppid=%d exe=%s argv=%s' % (
                pid, h['tid'], h['origin'], h['ppid'], h['exe'], ','.join(h['argv'])), None))
        elif pid is None:
            raise DecodeError('%s: message type %d before HELLO' % (path, mtype))
        elif mtype == 3:
            evs = []
            decode_records(body, pid, evs, full)
            STATS['messages'][struct.unpack_from('<I', body, 4)[0]] += 1
            STATS['events'] += len(evs)
            out.extend(evs)
            if evs:
                last_ts = max(last_ts, max(e[0] for e in evs))
        elif mtype == 5:
            emitted, dropped = struct.unpack_from('<QQ', body, 0)
            out.append((last_ts, 'pid=%d kind=bye emitted=%d dropped=%d' % (pid, emitted, dropped), None))
        elif mtype == 7:
            rid, status = struct.unpack_from('<Qi', body, 0)
            out.append((last_ts, 'pid=%d kind=reply id=%d status=%d json=%s' % (pid, rid, status, body[16:].decode('utf-8')), None))
        else:
            raise DecodeError('%s: unexpected message type %d' % (path, mtype))
        if seq != expect_seq:
            raise DecodeError('%s: sequence %d, expected %d (lost message)' % (path, seq, expect_seq))
        expect_seq += 1
        off += 16 + blen
    return out


def decode(prefix, full=False):
    files = sorted(f for f in glob.glob(glob.escape(prefix) + '.*') if re.search(r'\.\d+$', f))
    events = []
    for f in files:
        events.extend(decode_file(f, full))
    events.sort(key=lambda e: e[0])  # stable: one thread's order is kept
    return events


def check(lines, expect_path):
    """Expectation file: one rule a line; blank lines and lines starting with # are ignored.
      REGEX          some event line matches, after the line matched by the previous such rule (in order)
      !REGEX         no event line matches
      count>=N REGEX at least N lines match (also count<=N, count==N)
      --             the following in-order rules start again from the first line (one chain per process: events
                     of different processes have no order unless one caused the other)
    Named groups (?P<name>…) of a matched in-order rule are remembered; later rules say ${name} for that text.
    Rules for the run itself (read by run.sh, ignored here): exit N, stderr REGEX, env K=V, noenv, args …"""
    failures = []
    pos = 0
    captured = {}  # (?P<name>…) groups of matched in-order rules; later rules use them as ${name}
    for raw in open(expect_path):
        rule = raw.rstrip('\n')
        if rule.strip() == '--':  # a new in-order chain (another process) starts again from the first line
            pos = 0
            continue
        if not rule.strip() or rule.startswith('#') or re.match(r'^(exit|stderr|env|noenv|args|nostderr|notrace|ipcscope|collector)\b', rule):
            continue
        missing = [n for n in re.findall(r'\$\{(\w+)\}', rule) if n not in captured]
        if missing:
            failures.append('%s: ${%s} was not captured by an earlier rule' % (rule, missing[0]))
            continue
        rule = re.sub(r'\$\{(\w+)\}', lambda m: re.escape(captured[m.group(1)]), rule)
        m = re.match(r'^count(>=|<=|==)(\d+)\s+(.*)$', rule)
        if m:
            op, n, rx = m.group(1), int(m.group(2)), re.compile(m.group(3))
            c = sum(1 for l in lines if rx.search(l))
            ok = c >= n if op == '>=' else c <= n if op == '<=' else c == n
            if not ok:
                failures.append('%s: %d lines match' % (rule, c))
            continue
        if rule.startswith('!'):
            rx = re.compile(rule[1:])
            bad = [l for l in lines if rx.search(l)]
            if bad:
                failures.append('%s: matched %s' % (rule, bad[0]))
            continue
        rx = re.compile(rule)
        for i in range(pos, len(lines)):
            m = rx.search(lines[i])
            if m:
                pos = i + 1
                captured.update({k: v for k, v in m.groupdict().items() if v is not None})
                break
        else:
            earlier = any(rx.search(l) for l in lines[:pos])
            failures.append('%s: no matching line%s' % (rule, ' after the previous rule (one matches earlier)' if earlier else ''))
    return failures


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    try:
        events = decode(argv[1], '--full' in argv)
    except (DecodeError, ValueError, KeyError) as e:
        print('decode error: %s' % e)
        return 1
    lines = [e[1] for e in events]
    if '--stats' in argv:  # for run.sh's encoding comparisons
        print('events=%d fixed_messages=%d compact_messages=%d bytes=%d' % (
            STATS['events'], STATS['messages'][0], STATS['messages'][1], STATS['bytes']))
        if '--out' not in argv:
            return 0
    out = sys.stdout
    if '--out' in argv:
        out = open(argv[argv.index('--out') + 1], 'w')
    for l in lines:
        out.write(l + '\n')
    if '--check' in argv:
        fails = check(lines, argv[argv.index('--check') + 1])
        for f in fails:
            print('expectation failed: %s' % f)
        return 1 if fails else 0
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
