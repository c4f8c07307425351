#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# make-stl-seeds.py: (re)generate the seed corpus corpus-stl/ of fuzz-stl
# (Python 3 standard library only).
#
# Usage: python3 tests/fuzz/make-stl-seeds.py
# Seeds: a tetrahedron in binary and ASCII, the binary with a header that
# begins with "solid", a cube in ASCII with CRLF line ends and upper-case
# keywords, two solids in one ASCII file, a one-triangle file without a
# trailing newline, and the first 12 triangles of the shipped MC-B70 casing.
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus-stl")

TETRA_V = [(0, 0, 0), (10, 0, 0), (0, 20, 0), (0, 0, -5.5)]
TETRA_T = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]
CUBE_V = [(x, y, z) for z in (0, 10) for y in (0, 10) for x in (0, 10)]
CUBE_T = [(0, 2, 1), (1, 2, 3), (4, 5, 6), (5, 7, 6), (0, 1, 4), (1, 5, 4),
          (2, 6, 3), (3, 6, 7), (0, 4, 2), (2, 4, 6), (1, 3, 5), (3, 7, 5)]


def binary(tris, header=b""):
    out = bytearray(header.ljust(80, b"\0")[:80])
    out += struct.pack("<I", len(tris))
    for t in tris:
        out += struct.pack("<3f", 0, 0, 0)
        for v in t:
            out += struct.pack("<3f", *v)
        out += b"\0\0"
    return bytes(out)


def ascii_stl(tris, name="s", eol="\n", upper=False):
    kw = (lambda w: w.upper()) if upper else (lambda w: w)
    lines = ["%s %s" % (kw("solid"), name)]
    for t in tris:
        lines.append("  %s %s 0 0 1" % (kw("facet"), kw("normal")))
        lines.append("    %s %s" % (kw("outer"), kw("loop")))
        for v in t:
            lines.append("      %s %r %r %r" % ((kw("vertex"),) + tuple(float(c) for c in v)))
        lines.append("    " + kw("endloop"))
        lines.append("  " + kw("endfacet"))
    lines.append("%s %s" % (kw("endsolid"), name))
    return (eol.join(lines) + eol).encode()


def soup(v, t):
    return [tuple(v[i] for i in tri) for tri in t]


def main():
    os.makedirs(OUT, exist_ok=True)
    tetra, cube = soup(TETRA_V, TETRA_T), soup(CUBE_V, CUBE_T)
    seeds = {
        "tetra-binary.stl": binary(tetra),
        "tetra-binary-solid-header.stl": binary(tetra, b"solid but binary"),
        "tetra-ascii.stl": ascii_stl(tetra, "tetra"),
        "cube-ascii-crlf-upper.stl": ascii_stl(cube, "cube", "\r\n", True),
        "two-solids.stl": ascii_stl(tetra, "a") + ascii_stl(cube[:4], "b"),
        "one-no-newline.stl": ascii_stl(tetra[:1], "x").rstrip(b"\n"),
    }
    with open(os.path.join(ROOT, "data", "coils", "drakaki2022", "MagVenture_MC-B70.stl"), "rb") as f:
        data = f.read()
    seeds["mc-b70-12.stl"] = data[:80] + struct.pack("<I", 12) + data[84:84 + 12 * 50]
    for name, content in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(content)


if __name__ == "__main__":
    main()
