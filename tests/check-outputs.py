#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent checks of tmsfield's output files with h5py, nibabel and numpy.

  check-outputs.py --h5 FILE.h5                       layout of docs/hdf5-layout.md
  check-outputs.py --h5 FILE.h5 --gifti PREFIX --surface-tag T [--recovered]
                                                      GIfTI against the HDF5 mesh/field
  check-outputs.py --nifti FILE.nii.gz --ref REF.nii.gz [--vector]
                                                      grid and affines equal the reference's
Exit 0 when every check passes, 1 otherwise (each failure printed).
"""
import argparse
import sys

import numpy as np

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)


def check_h5(path):
    import h5py
    f = h5py.File(path, "r")
    a = f.attrs
    check(a["format"] == "tmsfield-hdf5", "format attribute")
    check(int(a["format_version"]) == 1, "format_version")
    for k in ("library_version", "date", "coil_name", "length_units", "field_units"):
        check(isinstance(a[k], str), "string attribute " + k)
    check(a["length_units"] == "mm" and a["field_units"] == "V/m", "units")
    nodes = f["mesh/nodes"][()]
    tets = f["mesh/tetrahedra"][()]
    ttag = f["mesh/tetrahedron_tags"][()]
    tris = f["mesh/triangles"][()]
    rtag = f["mesh/triangle_tags"][()]
    E = f["fields/E"][()]
    magnE = f["fields/magnE"][()]
    sigma = f["fields/conductivity"][()]
    phi = f["fields/potential"][()]
    nn, ne = len(nodes), len(tets)
    check(nodes.dtype == np.float64 and nodes.shape == (nn, 3), "nodes float64 N x 3")
    check(tets.dtype == np.int32 and tets.shape == (ne, 4), "tetrahedra int32 M x 4")
    check(ttag.shape == (ne,) and rtag.shape == (len(tris),), "tag shapes")
    check(tets.min() >= 0 and tets.max() < nn and (len(tris) == 0 or (tris.min() >= 0 and tris.max() < nn)),
          "0-based indices in range")
    check(E.shape == (ne, 3) and magnE.shape == (ne,) and sigma.shape == (ne,) and phi.shape == (nn,),
          "field shapes")
    check(np.allclose(magnE, np.sqrt((E * E).sum(axis=1)), rtol=1e-14, atol=0), "magnE = |E|")
    check(f["fields/E"].attrs["units"] == "V/m" and f["mesh/nodes"].attrs["units"] == "mm", "dataset units")
    # tetrahedra positively oriented (mm)
    p = nodes[tets]
    vol = np.einsum("ij,ij->i", np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), p[:, 3] - p[:, 0])
    check((vol > 0).all(), "positive tetrahedra")
    tags = a["conductivity_tags"]
    sig = a["conductivity_S_per_m"]
    check(sorted(tags.tolist()) == sorted(set(ttag.tolist())), "a conductivity for every tetrahedron tag")
    for t, s in zip(tags, sig):
        check(np.all(sigma[ttag == t] == s), "per-element conductivity of tag %d = %g" % (t, s))
    if "head_from_coil_mm" in a:
        P = a["head_from_coil_mm"]
        R = P[:3, :3]
        check(P.shape == (4, 4) and np.allclose(R @ R.T, np.eye(3), atol=1e-9), "pose: rotation")
    if "E_nodal" in f["fields"]:
        for name, d in f["fields/E_nodal"].items():
            t = int(name.split("_")[1])
            touched = np.zeros(nn, bool)
            touched[tets[ttag == t].ravel()] = True
            v = d[()]
            check(np.isfinite(v[touched]).all() and np.isnan(v[~touched]).all(), "E_nodal/%s NaN exactly off tissue" % name)
    print("h5py: %s: %d nodes, %d tetrahedra, %d triangles, median |E| %.4g V/m" % (path, nn, ne, len(tris), np.median(magnE)))
    return f


def check_gifti(prefix, f, surface_tag, recovered):
    import nibabel as nib
    surf = nib.load(prefix + ".surf.gii")
    func = nib.load(prefix + ".func.gii")
    coords, faces = surf.agg_data(("pointset", "triangle"))
    vals = func.darrays[0].data
    nodes = f["mesh/nodes"][()]
    tets = f["mesh/tetrahedra"][()]
    ttag = f["mesh/tetrahedron_tags"][()]
    tris = f["mesh/triangles"][()]
    rtag = f["mesh/triangle_tags"][()]
    E = f["fields/E"][()]
    sel = tris[rtag == surface_tag]
    verts = np.unique(sel)
    check(len(coords) == len(verts) and len(vals) == len(verts), "vertex count %d = %d" % (len(coords), len(verts)))
    check(len(faces) == len(sel), "triangle count")
    check(np.array_equal(coords, nodes[verts].astype(np.float32)), "coordinates = mesh nodes (mm, float32)")
    # the same triangles (as vertex sets)
    got = np.sort(verts[faces], axis=1)
    want = np.sort(sel, axis=1)
    check(np.array_equal(got[np.lexsort(got.T[::-1])], want[np.lexsort(want.T[::-1])]), "same triangles")
    if not recovered:
        # |E| of the tissue-side tetrahedron of each triangle, area-weighted per vertex
        tissue = surface_tag - 1000
        face_key = {}
        for e, t in enumerate(tets):
            if ttag[e] != tissue:
                continue
            for skip in range(4):
                k = tuple(sorted(np.delete(t, skip)))
                face_key[k] = e
        mag = np.sqrt((E * E).sum(axis=1))
        num = np.zeros(len(nodes))
        den = np.zeros(len(nodes))
        for tri in sel:
            e = face_key.get(tuple(sorted(tri)), -1)
            check(e >= 0, "triangle has a tetrahedron of tissue %d" % tissue)
            p = nodes[tri]
            area = 0.5 * np.linalg.norm(np.cross(p[1] - p[0], p[2] - p[0]))
            num[tri] += area * mag[e]
            den[tri] += area
        expect = (num[verts] / den[verts]).astype(np.float32)
        err = np.max(np.abs(vals - expect) / expect)
        check(err < 1e-5, "area-weighted |E| per vertex (worst relative %.3g)" % err)
        # the faces point away from the tissue: the outward normal's sign
        c = nodes[verts].mean(axis=0)
        n = np.cross(coords[faces[:, 1]] - coords[faces[:, 0]], coords[faces[:, 2]] - coords[faces[:, 0]])
        out = (np.einsum("ij,ij->i", n, coords[faces].mean(axis=1) - c) > 0).mean()
        print("gifti: %.3f of faces point outward from the surface's centre" % out)
    else:
        check(np.isfinite(vals).all() and (vals >= 0).all(), "recovered |E| finite")
    print("nibabel: %s: %d vertices, %d triangles, |E| %.4g .. %.4g V/m" % (prefix, len(coords), len(faces), vals.min(), vals.max()))


def check_nifti(path, ref, vector):
    import nibabel as nib
    o = nib.load(path)
    r = nib.load(ref)
    check(o.shape[:3] == r.shape[:3], "grid %s vs %s" % (o.shape, r.shape))
    check(len(o.shape) == (4 if vector else 3) and (not vector or o.shape[3] == 3), "shape %s" % (o.shape,))
    check(o.get_data_dtype() == np.float32, "float32")
    so, co = o.header.get_sform(coded=True)
    sr, cr = r.header.get_sform(coded=True)
    check(int(co) == int(cr) and (so is None and sr is None or np.array_equal(so, sr)), "sform equals the reference's")
    qo, cqo = o.header.get_qform(coded=True)
    qr, cqr = r.header.get_qform(coded=True)
    check(int(cqo) == int(cqr) and (qo is None and qr is None or np.array_equal(qo, qr)), "qform equals the reference's")
    check(np.array_equal(o.header.get_zooms()[:3], r.header.get_zooms()[:3]), "voxel sizes")
    d = np.asarray(o.dataobj)
    check(np.isfinite(d).all(), "finite voxels")
    print("nibabel: %s: shape %s, %d non-zero voxels, max %.4g V/m" % (path, o.shape, int((d != 0).sum()), float(np.abs(d).max())))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--h5")
    ap.add_argument("--gifti")
    ap.add_argument("--surface-tag", type=int, default=1002)
    ap.add_argument("--recovered", action="store_true")
    ap.add_argument("--nifti")
    ap.add_argument("--ref")
    ap.add_argument("--vector", action="store_true")
    a = ap.parse_args()
    f = check_h5(a.h5) if a.h5 else None
    if a.gifti:
        check_gifti(a.gifti, f, a.surface_tag, a.recovered)
    if a.nifti:
        check_nifti(a.nifti, a.ref, a.vector)
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
