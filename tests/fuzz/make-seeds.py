#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# make-seeds.py: (re)generate the fuzz seed corpora corpus-msh/ and corpus-ccd/.
#
# Usage: python3 tests/fuzz/make-seeds.py [--gmsh /usr/bin/gmsh]
# Hand-written seeds are produced here; the cube meshes need gmsh (4 formats of
# a 10 mm cube with 24 tetrahedra and 24 scalp triangles).  Regression inputs
# found by the campaigns (corpus-*/regress-*) are kept as they are.
import argparse
import os
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

CUBE_GEO = """lc = 20;
Point(1) = {0,0,0,lc}; Point(2) = {10,0,0,lc}; Point(3) = {10,10,0,lc}; Point(4) = {0,10,0,lc};
Point(5) = {0,0,10,lc}; Point(6) = {10,0,10,lc}; Point(7) = {10,10,10,lc}; Point(8) = {0,10,10,lc};
Line(1) = {1,2}; Line(2) = {2,3}; Line(3) = {3,4}; Line(4) = {4,1};
Line(5) = {5,6}; Line(6) = {6,7}; Line(7) = {7,8}; Line(8) = {8,5};
Line(9) = {1,5}; Line(10) = {2,6}; Line(11) = {3,7}; Line(12) = {4,8};
Curve Loop(1) = {1,2,3,4}; Plane Surface(1) = {1};
Curve Loop(2) = {5,6,7,8}; Plane Surface(2) = {2};
Curve Loop(3) = {1,10,-5,-9}; Plane Surface(3) = {3};
Curve Loop(4) = {2,11,-6,-10}; Plane Surface(4) = {4};
Curve Loop(5) = {3,12,-7,-11}; Plane Surface(5) = {5};
Curve Loop(6) = {4,9,-8,-12}; Plane Surface(6) = {6};
Surface Loop(1) = {1,2,3,4,5,6}; Volume(1) = {1};
Physical Surface(1005) = {1,2,3,4,5,6};
Physical Volume(5) = {1};
"""

# One tetrahedron (positively oriented in Gmsh's order) and one face triangle.
TET_NODES = [(1, 0.0, 0.0, 0.0), (2, 10.0, 0.0, 0.0), (3, 0.0, 10.0, 0.0), (4, 0.0, 0.0, 10.0)]


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def msh22_ascii_tet():
    s = "$MeshFormat\n2.2 0 8\n$EndMeshFormat\n"
    s += '$PhysicalNames\n2\n2 1005 "scalp"\n3 5 "skin"\n$EndPhysicalNames\n'
    s += "$Nodes\n4\n" + "".join("%d %g %g %g\n" % n for n in TET_NODES) + "$EndNodes\n"
    s += "$Elements\n3\n1 15 2 0 1 1\n2 2 2 1005 1 1 3 2\n3 4 2 5 1 1 2 3 4\n$EndElements\n"
    s += '$NodeData\n1\n"phi"\n1\n0.0\n3\n0\n1\n4\n1 0\n2 1\n3 2\n4 3\n$EndNodeData\n'
    return s.encode()


def msh22_binary_tet(endian):
    e = "<" if endian == "little" else ">"
    b = b"$MeshFormat\n2.2 1 8\n" + struct.pack(e + "i", 1) + b"\n$EndMeshFormat\n"
    b += b"$Nodes\n4\n"
    for n in TET_NODES:
        b += struct.pack(e + "iddd", *n)
    b += b"\n$EndNodes\n$Elements\n2\n"
    b += struct.pack(e + "3i", 2, 1, 2) + struct.pack(e + "6i", 1, 1005, 1, 1, 3, 2)
    b += struct.pack(e + "3i", 4, 1, 2) + struct.pack(e + "7i", 2, 5, 1, 1, 2, 3, 4)
    b += b"\n$EndElements\n"
    return b


def msh41_ascii_tet():
    s = "$MeshFormat\n4.1 0 8\n$EndMeshFormat\n"
    s += "$Entities\n0 0 1 1\n1 0 0 0 10 10 0 1 1005 0\n1 0 0 0 10 10 10 1 5 1 1\n$EndEntities\n"
    s += "$Nodes\n1 4 1 4\n3 1 0 4\n1\n2\n3\n4\n"
    s += "".join("%g %g %g\n" % n[1:] for n in TET_NODES) + "$EndNodes\n"
    s += "$Elements\n2 2 1 2\n2 1 2 1\n1 1 3 2\n3 1 4 1\n2 1 2 3 4\n$EndElements\n"
    return s.encode()


def msh41_binary_tet(endian):
    e = "<" if endian == "little" else ">"
    b = b"$MeshFormat\n4.1 1 8\n" + struct.pack(e + "i", 1) + b"\n$EndMeshFormat\n"
    b += b"$Entities\n" + struct.pack(e + "4Q", 0, 0, 1, 1)
    b += struct.pack(e + "i6dQi Q", 1, 0, 0, 0, 10, 10, 0, 1, 1005, 0)
    b += struct.pack(e + "i6dQi Qi", 1, 0, 0, 0, 10, 10, 10, 1, 5, 1, 1)
    b += b"\n$EndEntities\n$Nodes\n" + struct.pack(e + "4Q", 1, 4, 1, 4)
    b += struct.pack(e + "3iQ", 3, 1, 0, 4) + struct.pack(e + "4Q", 1, 2, 3, 4)
    for n in TET_NODES:
        b += struct.pack(e + "3d", *n[1:])
    b += b"\n$EndNodes\n$Elements\n" + struct.pack(e + "4Q", 2, 2, 1, 2)
    b += struct.pack(e + "3iQ", 2, 1, 2, 1) + struct.pack(e + "4Q", 1, 1, 3, 2)
    b += struct.pack(e + "3iQ", 3, 1, 4, 1) + struct.pack(e + "5Q", 2, 1, 2, 3, 4)
    b += b"\n$EndElements\n"
    return b


def gmsh_cubes(gmsh, out):
    with tempfile.TemporaryDirectory() as tmp:
        geo = os.path.join(tmp, "cube.geo")
        with open(geo, "w") as f:
            f.write(CUBE_GEO)
        runs = [
            ("cube_v22_ascii.msh", ["-format", "msh22"]),
            ("cube_v22_binary.msh", ["-format", "msh22", "-bin"]),
            ("cube_v41_ascii.msh", ["-format", "msh41"]),
            ("cube_v41_binary.msh", ["-format", "msh41", "-bin"]),
            ("cube_v22_ascii_all.msh", ["-format", "msh22", "-save_all"]),
            ("cube_v41_ascii_param.msh", ["-format", "msh41", "-save_all", "-setnumber", "Mesh.SaveParametric", "1"]),
            ("cube_v41_binary_param.msh", ["-format", "msh41", "-bin", "-save_all", "-setnumber", "Mesh.SaveParametric", "1"]),
        ]
        for name, args in runs:
            subprocess.run([gmsh, "-3", geo, "-v", "0"] + args + ["-o", os.path.join(out, name)],
                           check=True, stdout=subprocess.DEVNULL)


CCD_TEST = os.path.join(ROOT, "tests", "data", "testcoil.ccd")
CCD_MAGSTIM = os.path.join(ROOT, "data", "coils", "Magstim_70mm_Fig8.ccd")


def ccd_seeds(out):
    shutil.copyfile(CCD_TEST, os.path.join(out, "testcoil.ccd"))
    with open(CCD_TEST) as f:
        lines = f.read().splitlines()
    hdr, rows = lines[0], lines[3:]
    write(os.path.join(out, "testcoil_crlf.ccd"), ("\r\n".join(lines) + "\r\n").encode())
    write(os.path.join(out, "minimal.ccd"), b"#\n1\n0 0 0 1 0 0\n")
    write(os.path.join(out, "no_keys.ccd"),
          ("# plain.ccd version 1.0 number of elements\n2\n# comment\n" + "\n".join(rows[:2]) + "\n").encode())
    write(os.path.join(out, "comments_blanks.ccd"),
          (hdr + "\n\n# count next\n4\n\n# rows\n" + rows[0] + "\n# mid\n\n" + "\n".join(rows[1:]) + "\n").encode())
    write(os.path.join(out, "commas_tabs.ccd"),
          ("# c; dIdtmax=1.5e2 ;coilname=;brand=x=y\n2\n" + rows[0].replace(" ", ",") + "\n" +
           rows[1].replace(" ", "\t") + "\n").encode())
    with open(CCD_MAGSTIM) as f:
        mag = f.read().splitlines()
    write(os.path.join(out, "magstim_head.ccd"), (mag[0] + "\n40\n" + "\n".join(mag[2:43]) + "\n").encode())


TSV_DIR = os.path.join(ROOT, "data", "coils", "drakaki2022")


def tsv_seeds(out):
    # fuzz-tsv reads the first byte as the column choice (0: measured, 1: fit,
    # 2: "measured", 3: "A", 4: "MagPro_X100_fit"), the rest as the file.
    for name in ("MagVenture_MC-B70", "Magstim_D70", "Magstim_DCC"):
        with open(os.path.join(TSV_DIR, name + ".tsv")) as f:
            lines = f.read().splitlines()
        # the header and 60 rows around the pulse start (t = -1 us .. 5 us)
        head = "\n".join([lines[0]] + lines[191:251]) + "\n"
        write(os.path.join(out, name + "_head.tsv"), b"\x00" + head.encode())
        write(os.path.join(out, name + "_fit.tsv"), b"\x01" + head.encode())
    write(os.path.join(out, "crlf_comments.tsv"),
          b"\x03# Time\tA\r\n# comment\r\n\r\n0\t0\r\n1e-6\t1\r\n2e-6\t-0.5\r\n3e-6 0\r\n")
    write(os.path.join(out, "spaces.tsv"), b"\x02# Time A B_fit\n0 0 0\n1e-6 1 0.9\n2e-6 -1 -0.8\n")
    write(os.path.join(out, "two_rows.tsv"), b"\x00#Time\tx\n0\t1\n1\t0\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gmsh", default=shutil.which("gmsh"))
    a = ap.parse_args()
    msh = os.path.join(HERE, "corpus-msh")
    ccd = os.path.join(HERE, "corpus-ccd")
    os.makedirs(msh, exist_ok=True)
    os.makedirs(ccd, exist_ok=True)
    write(os.path.join(msh, "tet_v22_ascii.msh"), msh22_ascii_tet())
    write(os.path.join(msh, "tet_v22_binary_le.msh"), msh22_binary_tet("little"))
    write(os.path.join(msh, "tet_v22_binary_be.msh"), msh22_binary_tet("big"))
    write(os.path.join(msh, "tet_v41_ascii.msh"), msh41_ascii_tet())
    write(os.path.join(msh, "tet_v41_binary_le.msh"), msh41_binary_tet("little"))
    write(os.path.join(msh, "tet_v41_binary_be.msh"), msh41_binary_tet("big"))
    if a.gmsh:
        gmsh_cubes(a.gmsh, msh)
    else:
        print("make-seeds: gmsh not found; cube meshes not regenerated")
    ccd_seeds(ccd)
    tsv = os.path.join(HERE, "corpus-tsv")
    os.makedirs(tsv, exist_ok=True)
    tsv_seeds(tsv)


if __name__ == "__main__":
    main()
