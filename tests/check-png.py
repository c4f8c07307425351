#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""check-png.py FILE [WIDTH HEIGHT]: FILE is a valid 8-bit RGB, non-interlaced PNG (signature,
every chunk's CRC-32, IHDR, IDAT inflated to exactly one filter byte + 3 W bytes per row, the five
filter types of the PNG specification undone, nothing after IEND), of that size when given, whose
colours vary (more than 200 distinct colours among every 7th pixel).  Exit status 0 when it is.
Only the standard library (zlib, struct)."""
import struct, sys, zlib
path = sys.argv[1]
d = open(path, 'rb').read()
assert d[:8] == b'\x89PNG\r\n\x1a\n', 'PNG signature'
p, idat, w = 8, b'', None
while p < len(d):
    n, = struct.unpack('>I', d[p:p + 4]); t = d[p + 4:p + 8]; body = d[p + 8:p + 8 + n]
    crc, = struct.unpack('>I', d[p + 8 + n:p + 12 + n])
    assert zlib.crc32(t + body) & 0xffffffff == crc, 'CRC of chunk %r' % t
    if t == b'IHDR':
        w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        assert (depth, ctype, interlace) == (8, 2, 0), '8-bit RGB, not interlaced'
    elif t == b'IDAT':
        idat += body
    p += 12 + n
    if t == b'IEND':
        break
assert p == len(d), 'nothing after IEND'
if len(sys.argv) > 3:
    assert (w, h) == (int(sys.argv[2]), int(sys.argv[3])), 'size %dx%d' % (w, h)
raw, stride, prev, colours = zlib.decompress(idat), 3 * w, bytearray(3 * w), set()
assert len(raw) == h * (stride + 1), 'scanline bytes'
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - 3] if i >= 3 else 0; b = prev[i]; c = prev[i - 3] if i >= 3 else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            q = a + b - c; pa, pb, pc = abs(q - a), abs(q - b), abs(q - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        else: assert f == 0, 'filter type %d' % f
    colours.update(bytes(line[i:i + 3]) for i in range(0, stride, 3 * 7))
    prev = line
assert len(colours) > 200, 'only %d distinct colours' % len(colours)
print('%s: %dx%d, CRCs valid, %d colours (every 7th pixel)' % (path, w, h, len(colours)))
