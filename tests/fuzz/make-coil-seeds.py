#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# make-coil-seeds.py: (re)generate the seed corpora corpus-tcd/ (SimNIBS .tcd
# JSON coils) and corpus-nifti-coil/ (A-field NIfTI-1 images) of the fuzz
# targets fuzz-tcd and fuzz-nifti-coil.  Standard library + numpy only.
#
# .tcd seeds: the first rows of the two shipped .tcd coils' elements
# (tests/data/coils, re-encoded as base64 of zlib float64 and as JSON lists),
# stimulator lists, deformations (rot2p and translations), a grid element,
# raw (uncompressed) base64.  NIfTI seeds: 4-D X x Y x Z x 3 and 5-D
# X x Y x Z x S x 3 images, float32 / float64 / int16 with scaling, plain and
# gzipped, sform or qform only.  Regression inputs (regress-*) are kept.
import base64
import gzip
import json
import os
import struct
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def b64z(a):
    return base64.b64encode(zlib.compress(np.ascontiguousarray(a, dtype="<f8").tobytes())).decode()


def b64raw(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode()


def arr(v):
    return np.frombuffer(zlib.decompress(base64.b64decode(v)), dtype="<f8").reshape(-1, 3)


def tcd_seeds(out):
    os.makedirs(out, exist_ok=True)
    two = json.load(open(os.path.join(ROOT, "tests/data/coils/two_stimulator_example_coil.tcd")))
    h1 = json.load(open(os.path.join(ROOT, "tests/data/coils/Brainsway_H1.tcd")))
    seeds = {}
    # the two-stimulator coil, 40 segments per element, compressed
    c = {k: v for k, v in two.items() if k != "coilElementList"}
    c["coilElementList"] = []
    for e in two["coilElementList"]:
        e = dict(e)
        e["points"] = b64z(arr(e["points"])[:40])
        e["values"] = b64z(arr(e["values"])[:40])
        c["coilElementList"].append(e)
    seeds["two_stim_b64z.tcd"] = json.dumps(c)
    # the same as JSON lists, 12 rows
    for e, src in zip(c["coilElementList"], two["coilElementList"]):
        e["points"] = arr(src["points"])[:12].round(6).tolist()
        e["values"] = arr(src["values"])[:12].round(6).tolist()
    seeds["two_stim_lists.tcd"] = json.dumps(c, indent=1)
    # H1: three elements with deformations, 25 rows each, casings dropped
    c = {k: h1[k] for k in ("name", "brand", "version", "limits", "resolution", "stimulatorList",
                            "deformRangeList")}
    c["deformList"] = h1["deformList"][:2] + [{"deformRange": 2, "type": "z"}]
    c["deformRangeList"] = [dict(r) for r in c["deformRangeList"]]
    c["deformRangeList"][0]["initial"] = 10
    c["coilElementList"] = []
    for i, e in enumerate(h1["coilElementList"][:3]):
        e = {k: v for k, v in e.items() if k != "elementCasing"}
        e["points"] = b64z(arr(e["points"])[:25])
        e["values"] = b64raw(arr(e["values"])[:25])
        if i == 0:
            e["deformations"] = [2]
        c["coilElementList"].append(e)
    c["coilModels"] = [{"points": [[0, 0, 0], [1, 0, 0], [0, 1, 0]], "faces": [[0, 1, 2]]}]
    c["coilCasing"] = 0
    seeds["h1_deformed.tcd"] = json.dumps(c)
    # dipoles and a small grid
    g = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            for k in range(2):
                g[i, j, k] = (1e-7 * i, 2e-7 * j, -1e-7 * k)
    seeds["dipoles_grid.tcd"] = json.dumps({
        "name": "dg", "stimulatorList": [{"name": "a", "brand": "b", "maxdIdt": 1.5e8,
                                          "waveformList": [{"name": "w", "time": [0, 1e-4], "signal": [0, 1]}]}],
        "coilElementList": [
            {"name": "d", "stimulator": 0, "type": 1, "points": [[0, 0, -5], [10, 0, -5]],
             "values": [[0, 0, 1e-3], [0, 0, -1e-3]]},
            {"name": "g", "stimulator": 0, "type": 3, "data": g.tolist(),
             "affine": [[10, 0, 0, -5], [0, 10, 0, -10], [0, 0, 10, 5], [0, 0, 0, 1]]}]})
    seeds["minimal.tcd"] = '{"coilElementList":[{"type":2,"stimulator":0,"points":[[0,0,0]],"values":[[1,0,0]]}]}'
    for name, text in seeds.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text)


def nifti(shape, data, dtype_code, bitpix, np_dtype, slope=0.0, sform=True, qform=True):
    hdr = bytearray(348)
    struct.pack_into("<i", hdr, 0, 348)
    dim = [len(shape)] + list(shape) + [1] * (7 - len(shape))
    struct.pack_into("<8h", hdr, 40, *dim)
    struct.pack_into("<hh", hdr, 70, dtype_code, bitpix)
    struct.pack_into("<8f", hdr, 76, 1.0, 5.0, 5.0, 5.0, 0, 0, 0, 0)
    struct.pack_into("<f", hdr, 108, 352.0)
    struct.pack_into("<ff", hdr, 112, slope, 0.0)
    hdr[123] = 2  # xyzt_units: mm
    struct.pack_into("<hh", hdr, 252, 1 if qform else 0, 1 if sform else 0)
    struct.pack_into("<6f", hdr, 256, 0, 0, 0, -10.0, -10.0, 0.0)  # quatern b c d, qoffset
    struct.pack_into("<4f", hdr, 280, 5, 0, 0, -10)
    struct.pack_into("<4f", hdr, 296, 0, 5, 0, -10)
    struct.pack_into("<4f", hdr, 312, 0, 0, 5, 0)
    hdr[344:348] = b"n+1\0"
    raw = np.asarray(data, dtype=np_dtype).transpose().tobytes()  # x fastest (Fortran order)
    return bytes(hdr) + b"\0\0\0\0" + raw


def nifti_seeds(out):
    os.makedirs(out, exist_ok=True)
    x, y, z = np.meshgrid(np.arange(3), np.arange(3), np.arange(2), indexing="ij")
    A = np.stack([1e-7 * x, 2e-7 * y, -1e-7 * z], axis=-1)  # 3 x 3 x 2 x 3
    seeds = {
        "a4d_f32.nii": nifti((3, 3, 2, 3), A, 16, 32, "<f4"),
        "a4d_f64_qform.nii": nifti((3, 3, 2, 3), A, 64, 64, "<f8", sform=False),
        "a4d_i16_scaled.nii": nifti((3, 3, 2, 3), np.round(A * 1e7), 4, 16, "<i2", slope=1e-7),
        "a5d_two_stim.nii": nifti((3, 3, 2, 2, 3), np.stack([A, -A], axis=3), 16, 32, "<f4"),
        "a5d_one_stim.nii": nifti((3, 3, 2, 1, 3), A[:, :, :, None, :], 16, 32, "<f4", qform=False),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "a5d_two_stim.nii.gz"), "wb") as f:
        f.write(gzip.compress(seeds["a5d_two_stim.nii"], mtime=0))
    with open(os.path.join(out, "a4d_f32.nii.gz"), "wb") as f:
        f.write(gzip.compress(seeds["a4d_f32.nii"], mtime=0))


if __name__ == "__main__":
    tcd_seeds(os.path.join(HERE, "corpus-tcd"))
    nifti_seeds(os.path.join(HERE, "corpus-nifti-coil"))
