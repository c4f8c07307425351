# SPDX-License-Identifier: BSD-3-Clause
"""Pictures of fields with matplotlib: |E| on the cortex with the coil outline
and the target marked, and axial / coronal / sagittal slices through a NIfTI
field.

The functions read the files that ``tmsfield place --out DIR`` (and
``tmsfield simulate --gifti / --nifti``) write — ``cortex.surf.gii`` +
``cortex.func.gii`` (|E| per vertex, V/m), ``placement.json`` (pose, coil file,
target) and ``magnE.nii.gz`` — with nibabel and numpy only, so they work
without the C library.  The command ``tmsfield render`` draws the same pictures
in C (``docs/pictures.md``).

Conventions as in the C library's pictures (``render.h``): orthographic views
— ``coil`` (from outside along the coil's z axis, the coil's +y up so the handle
points down), ``left``, ``right``, ``top``, ``front``, ``back`` (head axes RAS,
as MNI); colour map viridis from 0 to the 99.9th percentile of the values
drawn unless ``vmin`` / ``vmax`` are given; Lambert shading with a light at the
viewer (0.3 + 0.7 |n . d|); slices in the neurological convention (the
subject's right on the right).  Coordinates in the plots are millimetres in
the picture plane (x along direction x up, y along up).

Example::

    from tmsfield.plot import plot_cortex, plot_slices
    plot_cortex("build/M1", out="m1.png")          # after: tmsfield place ... --out build/M1
    plot_slices("build/M1", out="m1-slices.png")
"""
from __future__ import annotations

import json
import os
import re
import struct
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["plot_cortex", "plot_slices", "CortexPlot", "SlicesPlot", "view_axes", "read_placement",
           "coil_points"]

PathLike = Union[str, "os.PathLike[str]"]

_VIEWS = {
    "left": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "right": ((-1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
    "top": ((0.0, 0.0, -1.0), (0.0, 1.0, 0.0)),
    "front": ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0)),
    "back": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
}


class CortexPlot(NamedTuple):
    """What :func:`plot_cortex` drew (coordinates in mm in the picture plane)."""
    figure: "object"                #: the matplotlib Figure
    ax: "object"                    #: its Axes with the cortex
    vmin: float                     #: colour range, V/m
    vmax: float
    hotspot_mm: np.ndarray          #: the visible vertex with the largest |E| (head mm)
    hotspot_xy: np.ndarray          #: its position in the picture plane
    hotspot_V_per_m: float
    coil_centre_xy: Optional[np.ndarray]  #: the coil centre projected (None without a pose)
    target_xy: Optional[np.ndarray]       #: the target projected (None without one)
    direction: np.ndarray           #: camera axes (unit vectors, head frame)
    up: np.ndarray


class SlicesPlot(NamedTuple):
    """What :func:`plot_slices` drew."""
    figure: "object"                #: the matplotlib Figure
    axes: Tuple["object", "object", "object"]  #: axial, coronal, sagittal
    point_mm: np.ndarray            #: where the planes cross (head mm)
    vmin: float
    vmax: float
    max_V_per_m: float              #: the largest voxel


def view_axes(view: str, pose_mm: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Camera axes (direction into the scene, up) of a view; ``coil`` needs the
    4x4 head-from-coil pose (direction = its z column, up = its y column made
    perpendicular)."""
    if view == "coil":
        if pose_mm is None:
            raise ValueError("the coil view needs a coil pose")
        P = np.asarray(pose_mm, float)
        d = P[:3, 2] / np.linalg.norm(P[:3, 2])
        u = P[:3, 1] - (P[:3, 1] @ d) * d
        return d, u / np.linalg.norm(u)
    if view not in _VIEWS:
        raise ValueError("unknown view %r; expected coil, left, right, top, front or back" % view)
    d, u = _VIEWS[view]
    return np.array(d), np.array(u)


def read_placement(path: PathLike) -> dict:
    """The report ``tmsfield place --out DIR`` writes (DIR or DIR/placement.json),
    as a dict; ``pose`` becomes a 4x4 array (mm) and the directory is added as
    ``_dir``.  Bare ``nan`` values (a coil without a dI/dt max) read as NaN."""
    p = os.fspath(path)
    if os.path.isdir(p):
        p = os.path.join(p, "placement.json")
    with open(p) as f:
        text = re.sub(r"\b(-?)nan\b", r"NaN", f.read())
    rep = json.loads(text)
    if "pose" in rep:
        rep["pose"] = np.asarray(rep["pose"], float)
        if rep["pose"].shape != (4, 4):
            raise ValueError("%s: \"pose\" is not a 4x4 matrix" % p)
    rep["_dir"] = os.path.dirname(os.path.abspath(p))
    return rep


def _read_stl(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Vertices (3 per corner, unshared) and triangles of an STL file, binary or ASCII."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) >= 84:
        n = struct.unpack("<I", data[80:84])[0]
        if len(data) == 84 + 50 * n:
            rec = np.frombuffer(data, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]),
                                count=n, offset=84)
            v = rec["v"].reshape(-1, 3).astype(float)
            return v, np.arange(3 * n).reshape(n, 3)
    words = data.decode("ascii", "replace").split()
    v = []
    for i, w in enumerate(words):
        if w == "vertex":
            v.append([float(words[i + 1]), float(words[i + 2]), float(words[i + 3])])
    v = np.asarray(v, float).reshape(-1, 3)
    n = len(v) // 3
    return v[:3 * n], np.arange(3 * n).reshape(n, 3)


def _read_ccd_positions(path: str) -> np.ndarray:
    """Dipole positions (m, coil frame) of a SimNIBS .ccd file: after the header
    lines, rows "x y z mx my mz"."""
    pts = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 6:
                try:
                    pts.append([float(x) for x in parts[:3]])
                except ValueError:
                    pass
    return np.asarray(pts, float).reshape(-1, 3)


def coil_points(coil_file: PathLike, pose_mm: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Points of the coil in head mm for its outline: the casing (the .stl beside
    the coil file, mm, with its triangles) when there is one, else the dipole
    positions of a .ccd file (triangles None); empty when neither is readable."""
    coil_file = os.fspath(coil_file)
    P = np.asarray(pose_mm, float)
    stl = re.sub(r"(\.nii\.gz|\.[^./]*)$", "", coil_file) + ".stl"
    if os.path.exists(stl):
        v, t = _read_stl(stl)
        return v @ P[:3, :3].T + P[:3, 3], t
    if coil_file.endswith(".ccd") and os.path.exists(coil_file):
        v = _read_ccd_positions(coil_file) * 1e3
        return v @ P[:3, :3].T + P[:3, 3], None
    return np.zeros((0, 3)), None


def _outline(ax, xy: np.ndarray, tris: Optional[np.ndarray], radius_mm: float, extent) -> None:
    """The silhouette of projected points (discs of radius_mm, then a closing) or
    of projected triangles (filled off-screen with Agg), drawn as a white line
    with a dark halo: the contour of a 0.5 mm occupancy grid."""
    if len(xy) == 0:
        return
    h = 0.5
    x0, x1, y0, y1 = extent
    nx, ny = int(np.ceil((x1 - x0) / h)) + 1, int(np.ceil((y1 - y0) / h)) + 1
    if tris is not None:
        # fill the projected triangles on an off-screen canvas of one pixel per cell
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.collections import PolyCollection
        from matplotlib.figure import Figure
        f = Figure(figsize=(nx / 100.0, ny / 100.0), dpi=100)
        FigureCanvasAgg(f)
        a = f.add_axes((0, 0, 1, 1))
        a.set_axis_off()
        a.set_xlim(x0 - h / 2, x0 + h * (nx - 0.5))
        a.set_ylim(y0 - h / 2, y0 + h * (ny - 0.5))
        a.add_collection(PolyCollection(xy[tris], facecolors="black", edgecolors="black", linewidths=0.5))
        f.canvas.draw()
        buf = np.asarray(f.canvas.buffer_rgba())[::-1, :, 0]
        grid = np.zeros((ny, nx), bool)
        hh, ww = min(ny, buf.shape[0]), min(nx, buf.shape[1])
        grid[:hh, :ww] = buf[:hh, :ww] < 128
        r = 0
    else:
        grid = np.zeros((ny, nx), bool)
        r = int(np.ceil(3.5 * radius_mm / h))  # discs of radius r + e, e = 2.5 radius
        ix = np.clip(np.rint((xy[:, 0] - x0) / h).astype(int), 0, nx - 1)
        iy = np.clip(np.rint((xy[:, 1] - y0) / h).astype(int), 0, ny - 1)
        grid[iy, ix] = True

    def dilate(g, rad):
        out = g.copy()
        for dy in range(-rad, rad + 1):
            for dx in range(-rad, rad + 1):
                if dx * dx + dy * dy > rad * rad:
                    continue
                out[max(dy, 0):ny + min(dy, 0), max(dx, 0):nx + min(dx, 0)] |= \
                    g[max(-dy, 0):ny + min(-dy, 0), max(-dx, 0):nx + min(-dx, 0)]
        return out

    if r:
        grid = dilate(grid, r)
        e = int(np.ceil(2.5 * radius_mm / h))
        grid = ~dilate(~grid, e)  # erosion by e
    xs, ys = x0 + h * np.arange(nx), y0 + h * np.arange(ny)
    ax.contour(xs, ys, grid.astype(float), levels=[0.5], colors=["#141414"], linewidths=3.2, zorder=4)
    ax.contour(xs, ys, grid.astype(float), levels=[0.5], colors=["white"], linewidths=1.4, zorder=5)


def _gifti_pair(surface: PathLike, values: Optional[Union[PathLike, np.ndarray]]):
    import nibabel as nib
    s = nib.load(os.fspath(surface))
    pts = tri = None
    for d in s.darrays:
        if d.intent == nib.nifti1.intent_codes["NIFTI_INTENT_POINTSET"]:
            pts = np.asarray(d.data, float)
        elif d.intent == nib.nifti1.intent_codes["NIFTI_INTENT_TRIANGLE"]:
            tri = np.asarray(d.data, np.int64)
    if pts is None or tri is None:
        raise ValueError("%s: expected a GIfTI surface with a POINTSET and a TRIANGLE array" % surface)
    if values is None:
        raise ValueError("no |E| values: give values= (a .func.gii or an array per vertex)")
    if isinstance(values, np.ndarray):
        v = np.asarray(values, float)
    else:
        v = np.asarray(nib.load(os.fspath(values)).darrays[0].data, float)
    if v.shape != (len(pts),):
        raise ValueError("%d values for %d vertices" % (v.size, len(pts)))
    return pts, tri, v


def plot_cortex(source: Optional[PathLike] = None, *, surface: Optional[PathLike] = None,
                values: Optional[Union[PathLike, np.ndarray]] = None, placement: Optional[PathLike] = None,
                pose_mm: Optional[np.ndarray] = None, target_mm: Optional[Sequence[float]] = None,
                coil_file: Optional[PathLike] = None, view: Optional[str] = None,
                vmin: Optional[float] = None, vmax: Optional[float] = None, cmap: str = "viridis",
                shading: bool = True, outline_radius_mm: float = 4.0, title: Optional[str] = None,
                figsize: Optional[Tuple[float, float]] = None, dpi: int = 100, ax=None,
                out: Optional[PathLike] = None) -> CortexPlot:
    """|E| on the cortex, seen from outside, with the coil outline and the target.

    ``source``: a directory written by ``tmsfield place --out DIR`` (its
    cortex.surf.gii, cortex.func.gii and placement.json), or a GIfTI prefix
    (``PREFIX.surf.gii`` + ``PREFIX.func.gii`` as ``simulate --gifti PREFIX``
    writes).  Or give ``surface`` (.surf.gii) and ``values`` (.func.gii or an
    array per vertex), and optionally ``placement`` (a placement.json or its
    directory), or ``pose_mm`` (4x4 head-from-coil, mm), ``target_mm`` and
    ``coil_file`` (the outline: its .stl casing, else its .ccd dipoles).

    ``view``: ``coil`` (default with a pose), ``left``, ``right``, ``top``
    (default without), ``front``, ``back``.  Triangles are painted far to
    near (back faces culled), each in the colour of the mean of its vertex
    values, Lambert-shaded.  ``figsize`` (inches; default 9 wide and as tall
    as the scene needs), ``dpi``; ``ax``: draw into these Axes instead of a
    new figure.  ``out``: save the figure there (PNG by the extension).
    Returns a :class:`CortexPlot`; its hotspot is the vertex with the largest
    value among those not hidden (within 2 mm of the nearest surface along
    the view).
    """
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    rep = None
    if source is not None:
        s = os.fspath(source)
        if os.path.isdir(s):
            surface = surface or os.path.join(s, "cortex.surf.gii")
            values = values if values is not None else os.path.join(s, "cortex.func.gii")
            if placement is None and os.path.exists(os.path.join(s, "placement.json")):
                placement = s
        else:
            surface = surface or s + ".surf.gii"
            values = values if values is not None else s + ".func.gii"
    if surface is None:
        raise ValueError("give a placement directory, a GIfTI prefix, or surface= and values=")
    if placement is not None:
        rep = read_placement(placement)
        if pose_mm is None and "pose" in rep:
            pose_mm = rep["pose"]
        if target_mm is None and "target_gm_mm" in rep:
            target_mm = rep["target_gm_mm"]
        if coil_file is None and rep.get("coil_file"):
            cf = rep["coil_file"]
            coil_file = cf if os.path.isabs(cf) or os.path.exists(cf) else os.path.join(rep["_dir"], cf)
    X, T, v = _gifti_pair(surface, values)
    if view is None:
        view = "coil" if pose_mm is not None else "top"
    d, u = view_axes(view, pose_mm)
    r = np.cross(d, u)

    # faces: normals (outward as the GIfTI writer orients them), back faces culled
    a, b, c = X[T[:, 0]], X[T[:, 1]], X[T[:, 2]]
    n = np.cross(b - a, c - a)
    nl = np.linalg.norm(n, axis=1)
    ok = nl > 0
    n[ok] /= nl[ok, None]
    front = ok & (n @ d <= 0.0)
    T, n = T[front], n[front]
    fv = v[T].mean(axis=1)
    depth = X[T].mean(axis=1) @ d
    order = np.argsort(-depth, kind="stable")  # far first
    T, n, fv = T[order], n[order], fv[order]
    xy = np.stack([X @ r, X @ u], axis=1)
    lo = 0.0 if vmin is None else float(vmin)
    hi = float(np.nanpercentile(v, 99.9)) if vmax is None else float(vmax)
    if not hi > lo:
        hi = lo + 1.0
    norm = Normalize(lo, hi, clip=True)
    cm = matplotlib.colormaps[cmap] if hasattr(matplotlib, "colormaps") else plt.get_cmap(cmap)
    rgba = cm(norm(fv))
    if shading:
        rgba[:, :3] *= (0.3 + 0.7 * np.abs(n @ d))[:, None]

    pts = [xy]
    coil_xy = cxy = ct = None
    if pose_mm is not None:
        P = np.asarray(pose_mm, float)
        cc = P[:3, 3]
        coil_xy = np.array([cc @ r, cc @ u])
        pts.append(coil_xy[None])
        if coil_file is not None:
            cp, ct = coil_points(coil_file, P)
            if len(cp):
                cxy = np.stack([cp @ r, cp @ u], axis=1)
                pts.append(cxy)
    target_xy = None
    if target_mm is not None:
        t = np.asarray(target_mm, float)
        target_xy = np.array([t @ r, t @ u])
        pts.append(target_xy[None])
    allp = np.concatenate(pts)
    pad = 0.03 * max(np.ptp(allp[:, 0]), np.ptp(allp[:, 1])) + 2.0
    extent = (allp[:, 0].min() - pad, allp[:, 0].max() + pad, allp[:, 1].min() - pad, allp[:, 1].max() + pad)
    if ax is None:
        if figsize is None:  # 9 inches wide, as tall as the scene needs (with the colour bar)
            aspect = (extent[3] - extent[2]) / (extent[1] - extent[0])
            figsize = (9.0, float(np.clip(7.6 * aspect + 0.9, 4.0, 12.0)))
        fig, ax = plt.subplots(figsize=figsize, dpi=dpi, constrained_layout=True)
    else:
        fig = ax.figure
    ax.add_collection(PolyCollection(xy[T], facecolors=rgba, edgecolors="none", antialiaseds=False, zorder=1))
    if cxy is not None:
        _outline(ax, cxy, ct, outline_radius_mm, extent)
    if coil_xy is not None:
        ax.plot(*coil_xy, marker="P", ms=11, mfc="white", mec="#141414", mew=1.2, zorder=6, ls="none")
    if target_xy is not None:
        ax.plot(*target_xy, marker="o", ms=13, mfc="none", mec="#e61e28", mew=2.5, zorder=7, ls="none")
        ax.plot(*target_xy, marker="+", ms=7, mec="#e61e28", mew=2.0, zorder=7, ls="none")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    ax.set_xlabel("mm")
    ax.set_ylabel("mm")
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cm)
    fig.colorbar(sm, ax=ax, label="|E| (V/m)", fraction=0.046, pad=0.04)
    if title is None:
        parts = ["|E| on the cortex"]
        if rep is not None:
            if rep.get("target"):
                parts.append(str(rep["target"]))
            if rep.get("coil"):
                parts.append(str(rep["coil"]))
            m = rep.get("mso_percent")
            if isinstance(m, (int, float)) and np.isfinite(m):
                parts.append("%.1f %%MSO" % m)
        parts.append("view " + view)
        title = "  ".join(parts)
    ax.set_title(title)

    # the hotspot: the front-facing vertex with the largest value that is not hidden
    # (nearest surface along the view within 2 mm of the picture-plane point)
    vis = np.unique(T.ravel())
    k = vis[np.argsort(-v[vis])][:50]
    hot = k[0]
    for i in k:
        dd = np.linalg.norm(xy[vis] - xy[i], axis=1) < 2.0
        if (X[i] @ d) <= (X[vis[dd]] @ d).min() + 2.0:
            hot = i
            break
    if out is not None:
        fig.savefig(os.fspath(out), dpi=dpi)
    return CortexPlot(fig, ax, lo, hi, X[hot].copy(), xy[hot].copy(), float(v[hot]), coil_xy, target_xy, d, u)


def _inv_affine(A: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.asarray(A, float))


def plot_slices(source: PathLike, *, point_mm: Optional[Sequence[float]] = None,
                placement: Optional[PathLike] = None, target_mm: Optional[Sequence[float]] = None,
                vmin: Optional[float] = None, vmax: Optional[float] = None, cmap: str = "viridis",
                title: Optional[str] = None, figsize: Tuple[float, float] = (12.0, 4.4), dpi: int = 100,
                out: Optional[PathLike] = None) -> SlicesPlot:
    """Axial, coronal and sagittal slices of a NIfTI field (|E|, V/m).

    ``source``: the NIfTI file, or a placement directory (its magnE.nii.gz and
    placement.json).  The planes cross at ``point_mm`` (head mm), else the
    placement's grey-matter target (``target_gm_mm``) or ``target_mm``, else
    the largest voxel.  Voxels of value 0 (outside the mesh) are background.
    The target, when given, is marked on the planes within 2 mm of it.
    Sampled at the smallest voxel size by nearest neighbour.  ``out``: save
    the figure there.  Returns a :class:`SlicesPlot`.
    """
    import matplotlib
    import matplotlib.pyplot as plt
    import nibabel as nib
    from matplotlib.colors import Normalize

    s = os.fspath(source)
    rep = None
    if os.path.isdir(s):
        if placement is None and os.path.exists(os.path.join(s, "placement.json")):
            placement = s
        s = os.path.join(s, "magnE.nii.gz")
    if placement is not None:
        rep = read_placement(placement)
        if target_mm is None and "target_gm_mm" in rep:
            target_mm = rep["target_gm_mm"]
    img = nib.load(s)
    data = np.asarray(img.get_fdata(dtype=np.float32))
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError("%s: a %d-D image; expected a 3-D field" % (s, data.ndim))
    A = np.asarray(img.affine, float)
    Ai = _inv_affine(A)
    nz = data != 0
    if nz.any():
        idx = np.argwhere(nz)
        imax = np.unravel_index(np.argmax(np.where(nz, data, -np.inf)), data.shape)
        lo_i, hi_i = idx.min(0) - 0.5, idx.max(0) + 0.5
    else:
        imax = tuple(np.array(data.shape) // 2)
        lo_i, hi_i = np.full(3, -0.5), np.array(data.shape) - 0.5
    corners = np.array([[x, y, z, 1.0] for x in (lo_i[0], hi_i[0]) for y in (lo_i[1], hi_i[1])
                        for z in (lo_i[2], hi_i[2])]) @ A.T
    lo, hi = corners[:, :3].min(0) - 3.0, corners[:, :3].max(0) + 3.0
    maxpt = (A @ np.array([*imax, 1.0]))[:3]
    if point_mm is not None:
        pt = np.asarray(point_mm, float)
    elif target_mm is not None:
        pt = np.asarray(target_mm, float)
    else:
        pt = maxpt
    vals = data[nz]
    lo_v = 0.0 if vmin is None else float(vmin)
    hi_v = (float(np.percentile(vals, 99.9)) if vals.size else 1.0) if vmax is None else float(vmax)
    if not hi_v > lo_v:
        hi_v = lo_v + 1.0
    norm = Normalize(lo_v, hi_v, clip=True)
    cm = matplotlib.colormaps[cmap] if hasattr(matplotlib, "colormaps") else plt.get_cmap(cmap)
    step = float(min(np.linalg.norm(A[:3, :3], axis=0)))
    fig, axes = plt.subplots(1, 3, figsize=figsize, dpi=dpi, constrained_layout=True)
    names = ("axial", "coronal", "sagittal")
    planes = ((0, 1, 2), (0, 2, 1), (1, 2, 0))  # horizontal, vertical, fixed axis
    edges = (("L", "R"), ("L", "R"), ("P", "A"))
    for ax, name, (ia, ib, ic), (el, er) in zip(axes, names, planes, edges):
        ha = np.arange(lo[ia], hi[ia] + step, step)
        vb = np.arange(lo[ib], hi[ib] + step, step)
        G = np.zeros((len(vb), len(ha), 4))
        G[..., ia] = ha[None, :]
        G[..., ib] = vb[:, None]
        G[..., ic] = pt[ic]
        G[..., 3] = 1.0
        q = np.rint(G @ Ai.T)[..., :3].astype(np.int64)
        inside = np.all((q >= 0) & (q < np.array(data.shape)), axis=-1)
        sl = np.full(inside.shape, np.nan)
        qq = q[inside]
        sl[inside] = data[qq[:, 0], qq[:, 1], qq[:, 2]]
        sl[sl == 0] = np.nan
        ax.set_facecolor("black")
        ax.imshow(np.ma.masked_invalid(sl), origin="lower", cmap=cm, norm=norm, interpolation="nearest",
                  extent=(ha[0] - step / 2, ha[-1] + step / 2, vb[0] - step / 2, vb[-1] + step / 2))
        ax.axhline(pt[ib], color="white", lw=0.7, ls=(0, (2, 3)))
        ax.axvline(pt[ia], color="white", lw=0.7, ls=(0, (2, 3)))
        if target_mm is not None and abs(target_mm[ic] - pt[ic]) <= 2.0:
            ax.plot(target_mm[ia], target_mm[ib], marker="o", ms=12, mfc="none", mec="#e61e28", mew=2.2)
        ax.set_title("%s %s = %.1f mm" % (name, "xyz"[ic], pt[ic]), fontsize=10)
        ax.text(0.02, 0.5, el, color="#c8c8c8", transform=ax.transAxes, va="center")
        ax.text(0.98, 0.5, er, color="#c8c8c8", transform=ax.transAxes, va="center", ha="right")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cm)
    fig.colorbar(sm, ax=list(axes), label="|E| (V/m)", fraction=0.025, pad=0.02)
    if title is None:
        title = "|E|%s  %s" % (" " + str(rep["target"]) if rep and rep.get("target") else "", os.path.basename(s))
    fig.suptitle(title)
    if out is not None:
        fig.savefig(os.fspath(out), dpi=dpi)
    return SlicesPlot(fig, tuple(axes), pt, lo_v, hi_v, float(vals.max()) if vals.size else float("nan"))
