#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make-msh-data-seeds.py: seeds for fuzz-msh-data (Gmsh meshes with element data "E"),
written to corpus-msh-data/: the 10 mm cube of corpus-msh in 2.2 ASCII and 4.1 ASCII with an
ASCII $ElementData "E" (and a "magnE" block before it), and the 2.2 binary cube with a binary
"E" block (little endian, int32 ids then 3 doubles).  Only the standard library."""
import os
import re
import struct

here = os.path.dirname(os.path.abspath(__file__))
src, out = os.path.join(here, "corpus-msh"), os.path.join(here, "corpus-msh-data")
os.makedirs(out, exist_ok=True)


def element_ids(text, v4):
    body = text.split("$Elements")[1].split("$EndElements")[0].split("\n")[1:]
    ids = []
    if not v4:
        for line in body[1:]:
            if line.strip():
                ids.append(int(line.split()[0]))
        return ids
    i = 1
    while i < len(body):
        if not body[i].strip():
            i += 1
            continue
        dim, tag, typ, n = map(int, body[i].split())
        for line in body[i + 1:i + 1 + n]:
            ids.append(int(line.split()[0]))
        i += 1 + n
    return ids


def ascii_block(name, ids, ncomp):
    rows = ["%d %s" % (e, " ".join("%.6g" % (0.1 * e + c) for c in range(ncomp))) for e in ids]
    return '$ElementData\n1\n"%s"\n1\n0.0\n3\n0\n%d\n%d\n%s\n$EndElementData\n' % (name, ncomp, len(ids), "\n".join(rows))


for name, v4 in (("cube_v22_ascii.msh", False), ("cube_v41_ascii.msh", True)):
    text = open(os.path.join(src, name)).read()
    ids = element_ids(text, v4)
    with open(os.path.join(out, name.replace(".msh", "_E.msh")), "w") as f:
        f.write(text.rstrip("\n") + "\n" + ascii_block("magnE", ids, 1) + ascii_block("E", ids, 3))

data = open(os.path.join(src, "cube_v22_binary.msh"), "rb").read()
text = open(os.path.join(src, "cube_v22_ascii.msh")).read()
ids = element_ids(text, False)
blk = b'$ElementData\n1\n"E"\n1\n0.0\n3\n0\n3\n%d\n' % len(ids)
blk += b"".join(struct.pack("<i3d", e, 1.0 * e, -2.0, 0.5) for e in ids) + b"\n$EndElementData\n"
with open(os.path.join(out, "cube_v22_binary_E.msh"), "wb") as f:
    f.write(data.rstrip(b"\n") + b"\n" + blk)
print("wrote", sorted(os.listdir(out)))
