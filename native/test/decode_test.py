#!/usr/bin/env python3
"""decode.py's compact (encoding 1) reader against hand-built message bodies: a valid one decodes to the expected
fields (XOR against the same kind's previous record, K/T state, zigzag), and every rule of docs/protocol.md broken
in turn gives a DecodeError that says what is wrong. Run by run.sh (d_decode)."""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decode  # noqa: E402

KIND = {k['name']: k for k in decode.VOCAB['kinds']}
UNLOCK, LOCK = KIND['mutex_unlock'], KIND['mutex_lock']
assert len(UNLOCK['args']) == 1 and len(LOCK['args']) == 2, 'the test assumes mutex_unlock(1 arg), mutex_lock(2)'


def uv(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def sv(v):
    return uv((v << 1) ^ (v >> 63) if v < 0 else v << 1)


def body(count, recs, base=1000):
    return struct.pack('<IIQ', count, 1, base) + b''.join(recs)


def full(b):
    out = []
    decode.decode_records(b, 7, out, full=True)
    return [line for _, line, _ in out]


# A valid message: unlock (T, result -1, errno 22, flags 1), unlock again (K, same tid, caller and mutex XOR'd to 0),
# lock on another tid (kind, T, negative Δts) with a blob, then the lock's end repeating that blob (length 0).
good = body(4, [
    bytes([0 | 8 | 16 | 32 | 64]) + uv(UNLOCK['id']) + uv(42) + sv(0) + uv(1) + sv(22) + sv(-1) + uv(0x401000) + uv(0x7f00),
    bytes([0 | 4]) + sv(5) + uv(0) + uv(0),
    bytes([1 | 8 | 128]) + uv(LOCK['id']) + uv(43) + sv(-3) + uv(0x402000) + uv(0x7f00) + uv(9) + uv(3) + b'abc',
    bytes([2 | 4 | 128]) + sv(4) + uv(0) + uv(0) + uv(0) + uv(0),  # same kind, blob length 0: "abc" again
])
lines = full(good)
assert len(lines) == 4, lines
assert 'tid=42 kind=mutex_unlock phase=instant result=-1 err=22 flags=1' in lines[0], lines[0]
assert 'ts=1000 caller=0x401000' in lines[0], lines[0]
assert 'tid=42 kind=mutex_unlock phase=instant result=0 err=0 flags=0' in lines[1], lines[1]
assert 'ts=1005 caller=0x401000' in lines[1] and '=0x7f00' in lines[1], lines[1]
assert 'tid=43 kind=mutex_lock phase=begin' in lines[2] and 'ts=1002 caller=0x402000' in lines[2], lines[2]
assert 'blob="abc"' in lines[2], lines[2]
assert 'tid=43 kind=mutex_lock phase=end' in lines[3] and 'ts=1006' in lines[3] and 'blob="abc"' in lines[3], lines[3]

BAD = [
    ('first record carries K', body(1, [bytes([4 | 8]) + uv(42) + sv(0) + uv(0) + uv(0)]), 'carries K'),
    ('first record without T', body(1, [bytes([0]) + uv(UNLOCK['id']) + sv(0) + uv(0) + uv(0)]), 'no tid'),
    ('phase 3', body(1, [bytes([3 | 8]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(0) + uv(0)]), 'bad phase'),
    ('unknown kind', body(1, [bytes([8]) + uv(60000) + uv(1) + sv(0) + uv(0) + uv(0)]), 'unknown kind'),
    ('varint of 11 bytes', body(1, [bytes([8]) + uv(UNLOCK['id']) + uv(1) + sv(0) + b'\x80' * 10 + b'\x00' + uv(0)]),
     'longer than 10'),
    ('caller beyond 64 bits', body(1, [bytes([8]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(1 << 64) + uv(0)]),
     'out of range'),
    ('flags beyond 16 bits', body(1, [bytes([8 | 16]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(1 << 16) + uv(0) + uv(0)]),
     'flags'),
    ('errno beyond i32', body(1, [bytes([8 | 32]) + uv(UNLOCK['id']) + uv(1) + sv(0) + sv(1 << 31) + uv(0) + uv(0)]),
     'errno'),
    ('delta ts of 2^53', body(1, [bytes([8]) + uv(UNLOCK['id']) + uv(1) + sv(1 << 53) + uv(0) + uv(0)]), 'delta ts'),
    ('tid beyond 32 bits', body(1, [bytes([8]) + uv(UNLOCK['id']) + uv(1 << 32) + sv(0) + uv(0) + uv(0)]), 'tid'),
    ('blob repeat with no blob before', body(1, [bytes([8 | 128]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(0) + uv(0) + uv(0)]),
     'no earlier blob of this kind'),
    ('blob repeat of another kind', body(2, [bytes([8 | 128]) + uv(LOCK['id']) + uv(1) + sv(0) + uv(0) + uv(0) + uv(0) + uv(1) + b'x',
                                              bytes([128]) + uv(UNLOCK['id']) + sv(0) + uv(0) + uv(0) + uv(0)]),
     'no earlier blob of this kind'),
    ('blob past the end', body(1, [bytes([8 | 128]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(0) + uv(0) + uv(5) + b'ab']),
     'runs past'),
    ('record cut off', body(1, [bytes([8]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(0)]), 'runs past the end'),
    ('fewer records than counted', body(2, [bytes([8]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(0) + uv(0)]),
     'ends after 1 of 2'),
    ('trailing bytes', body(1, [bytes([8]) + uv(UNLOCK['id']) + uv(1) + sv(0) + uv(0) + uv(0) + b'\x00']), 'trailing'),
    ('short body', struct.pack('<II', 0, 1), 'needs count, encoding and base'),
    ('encoding 2', struct.pack('<IIQ', 0, 2, 0), 'unknown EVENTS encoding 2'),
]
for what, b, says in BAD:
    try:
        full(b)
    except decode.DecodeError as e:
        assert says in str(e), '%s: error says %r, expected %r' % (what, str(e), says)
    else:
        raise AssertionError('%s: decoded without error' % what)
print('decode_test: 1 valid message, %d malformed ones rejected' % len(BAD))
