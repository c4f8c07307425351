#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent reference for the .tcd reader and the line-segment primary field.

Decodes a .tcd coil (SimNIBS 4 JSON) with the Python standard library and numpy
only -- json, base64, zlib, frombuffer('<f8').reshape(-1, 3) -- and writes the
vector potential per ampere of coil current, summed over all line-segment
elements of the coil (each stimulator at 1 A),
    A(r) = mu0/(4 pi) sum_k dl_k / |r - r_k|,   mu0/(4 pi) = 1e-7 T m / A,
with r_k = points (mm -> m) and dl_k = values (mm -> m), at points in the coil
frame chosen at random (seed fixed) within the coil's limits and at least
15 mm from every segment.  Every deformation must be at its initial value 0
(then it is the identity); the script refuses otherwise.

Usage: make-tcd-reference.py COIL.tcd OUT.txt [NUM_POINTS]
Output: one line per point, "x y z Ax Ay Az" (m, T m / A), %.17g.
"""
import base64
import json
import sys
import zlib

import numpy as np


def vec3(v):
    if isinstance(v, str):
        raw = base64.b64decode(v)
        try:
            raw = zlib.decompress(raw)
        except zlib.error:
            pass
        return np.frombuffer(raw, dtype="<f8").reshape(-1, 3)
    return np.asarray(v, dtype=float).reshape(-1, 3)


def main():
    src, out = sys.argv[1], sys.argv[2]
    npts = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    coil = json.load(open(src))
    for r in coil.get("deformRangeList", []):
        assert r["initial"] == 0, "deformations must be at 0"
    P, L = [], []
    for e in coil["coilElementList"]:
        assert e["type"] == 2, "line segments only"
        P.append(vec3(e["points"]) * 1e-3)
        L.append(vec3(e["values"]) * 1e-3)
    P, L = np.vstack(P), np.vstack(L)
    lim = np.asarray(coil["limits"], dtype=float) * 1e-3
    rng = np.random.default_rng(20261126)
    pts = []
    while len(pts) < npts:
        r = lim[:, 0] + (lim[:, 1] - lim[:, 0]) * rng.random(3)
        if np.min(np.linalg.norm(P - r, axis=1)) >= 0.015:
            pts.append(r)
    with open(out, "w") as f:
        f.write("# %s: A per ampere of all segments (make-tcd-reference.py); x y z [m] Ax Ay Az [T m/A]\n" % src.split("/")[-1])
        for r in pts:
            A = 1e-7 * np.sum(L / np.linalg.norm(r - P, axis=1)[:, None], axis=0)
            f.write(" ".join("%.17g" % v for v in (*r, *A)) + "\n")


if __name__ == "__main__":
    main()
