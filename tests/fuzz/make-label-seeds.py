#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# make-label-seeds.py: write the seed corpus of fuzz-labels (small NIfTI-1 label
# volumes written byte by byte with struct; no NIfTI library needed).
import gzip, os, struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus-labels')
os.makedirs(out, exist_ok=True)

DT = {'uint8': (2, 8, 'B'), 'int16': (4, 16, 'h'), 'int32': (8, 32, 'i'),
      'float32': (16, 32, 'f'), 'uint16': (512, 16, 'H'), 'float64': (64, 64, 'd')}

def nifti(dims, values, dtype='uint8', sform=None, qform=False, pixdim=(1, 1, 1), endian='<'):
    code, bitpix, fmt = DT[dtype]
    h = bytearray(348)
    struct.pack_into(endian + 'i', h, 0, 348)
    d = [len(dims)] + list(dims) + [1] * (7 - len(dims))
    struct.pack_into(endian + '8h', h, 40, *d)
    struct.pack_into(endian + 'hh', h, 70, code, bitpix)
    struct.pack_into(endian + '8f', h, 76, 1.0, *pixdim, 1, 1, 1, 1)
    struct.pack_into(endian + 'f', h, 108, 352.0)
    struct.pack_into(endian + 'f', h, 112, 1.0)
    h[123] = 2  # mm
    if qform:
        struct.pack_into(endian + 'h', h, 252, 1)
        struct.pack_into(endian + '6f', h, 256, 0, 0, 0, -10, -20, -30)
    if sform is not None:
        struct.pack_into(endian + 'h', h, 254, 2)
        struct.pack_into(endian + '12f', h, 280, *sform)
    h[344:348] = b'n+1\0'
    body = struct.pack(endian + '%d%s' % (len(values), fmt), *values)
    return bytes(h) + b'\0\0\0\0' + body

def cube(n, inner, outer):
    v = []
    for k in range(n):
        for j in range(n):
            for i in range(n):
                edge = min(i, j, k, n - 1 - i, n - 1 - j, n - 1 - k)
                v.append(0 if edge == 0 else (inner if edge >= 2 else outer))
    return v

S = [2, 0, 0, -5, 0, 2, 0, -5, 0, 0, 2, -5]
seeds = {
    'uint8-sform.nii': nifti((6, 6, 6), cube(6, 2, 5), 'uint8', sform=S),
    'int16-qform.nii': nifti((5, 5, 5), cube(5, 4, 1), 'int16', qform=True),
    'int32-pixdim.nii': nifti((4, 5, 6), [(i * 7) % 7 for i in range(120)][:119] + [3], 'int32', pixdim=(1.5, 1, 0.5)),
    'float32-integers.nii': nifti((5, 5, 5), [float(x) for x in cube(5, 3, 2)], 'float32', sform=S),
    'uint16-bigendian.nii': nifti((4, 4, 4), cube(4, 9, 6), 'uint16', sform=S, endian='>'),
    'float64-4d1.nii': nifti((4, 4, 4, 1), [float(x) for x in cube(4, 1, 2)], 'float64', qform=True),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
with open(os.path.join(out, 'uint8-sform.nii.gz'), 'wb') as f:
    f.write(gzip.compress(seeds['uint8-sform.nii'], mtime=0))
