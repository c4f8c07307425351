# SPDX-License-Identifier: BSD-3-Clause
"""Shared set-up of the examples: the head (the small test sphere by default,
the built-in Colin27 head with ``--head default``), the targets, the region
and the search space, and the placement of a coil over a target.

On the sphere (SimNIBS's sphere3.msh: radii 85/90/95 mm, tags 3/4/5) the inner
ball, tag 3, plays the grey matter; "M1" and "DLPFC" are points 80 mm from
the centre (below the 85 mm surface of the inner ball), and the search is
coarse (8 mm around the target, 4 mm steps, 30 degree angles) so that an
example runs in seconds.  On a head the targets come from the library's table
(MNI mm; the built-in head is in MNI space) and the search uses the
library's defaults (20 mm, 2 mm, 5 degrees).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Sequence

try:
    import tmsfield as tf
except ImportError:  # running from a source checkout without PYTHONPATH
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tmsfield as tf

import numpy as np

#: Stand-ins for the cortical targets on the test sphere (head frame, mm).
SPHERE_TARGETS_MM = {"M1": (20.0, 0.0, 78.0), "DLPFC": (-15.0, 35.0, 70.0)}


@dataclass
class Setup:
    """A head and how to place coils on it."""
    mesh: "tf.Mesh"
    tags: List[int]                 #: tissue tags of the target regions
    radius_m: float                 #: target region radius
    search: "tf.SearchParams"       #: search space parameters
    sphere: bool                    #: the test sphere (targets are stand-ins)
    spec: str
    extra: Dict[str, Any] = field(default_factory=dict)

    def target_m(self, name: str) -> np.ndarray:
        """A target in head metres: a stand-in on the sphere, else the
        library's table (MNI mm, identity mapping for the built-in head) or
        "X,Y,Z" in head mm."""
        if "," in name:
            return np.array([float(v) for v in name.split(",")]) * 1e-3
        if self.sphere:
            return np.array(SPHERE_TARGETS_MM[name.upper()]) * 1e-3
        return tf.find_target(name, self.mesh.context).head_m()


def add_arguments(p: argparse.ArgumentParser, coil: bool = True) -> None:
    """Options every example takes."""
    p.add_argument("--head", default=None,
                   help="head: 'default' (built-in Colin27 head, meshed and cached at first "
                        "use), a .msh or a label volume; default: the small test sphere")
    if coil:
        p.add_argument("--coil", default="MagVenture_MC-B70",
                       help="coil name or file (default MagVenture_MC-B70)")
    p.add_argument("--objective", default="meanvec",
                   help="metric on the target region: meanvec (|mean E|), mean, p99, normal, ...")
    p.add_argument("--threads", type=int, default=0, help="threads (0: OpenMP default)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def setup(args: argparse.Namespace) -> Setup:
    """Open the head chosen by --head (the sphere by default)."""
    tf.default_context().threads = args.threads
    if args.head is None:
        path = os.path.join(tf.data_dir(), "spheres", "sphere3.msh")
        mesh = tf.Mesh.read(path)
        prm = tf.SearchParams(radius_m=0.008, spacing_m=0.004, angle_step_deg=30.0)
        return Setup(mesh, [3], 0.010, prm, True, path)
    if args.head == "default" or not args.head.endswith(".msh"):
        info = tf.head_query(args.head)
        if not info.cache_exists and not args.json:
            print(f"meshing the head {info.source} (first use, ~30 s) ...", file=sys.stderr)
    mesh = tf.Mesh.open_head(args.head)
    return Setup(mesh, [2], 0.005, tf.SearchParams(), False, args.head)


def place(s: Setup, sim: "tf.Simulation", coil: "tf.Coil", target_m: Sequence[float],
          metric: str = "meanvec", method: str = "fast") -> Dict[str, Any]:
    """Place a coil over a target: the region (the tissue within the radius
    of the target's projection), the search space (with the coil's casing),
    and the placement's result."""
    region = tf.Region.target(s.mesh, target_m, s.radius_m, s.tags)
    search = tf.Search(s.mesh, target_m, s.search, casing=coil.casing(), coil=coil)
    pl = tf.Placement(sim, coil)
    pl.add_target(region, metric)
    res = pl.run(search, method=method)
    return {"region": region, "search": search, "result": res}


def emit(args: argparse.Namespace, result: Dict[str, Any], lines: Sequence[str]) -> None:
    """Print the result as JSON (--json) or as lines for people."""
    if args.json:
        print(json.dumps(result, indent=1, default=_jsonable))
    else:
        print("\n".join(lines))


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    raise TypeError(f"not JSON serialisable: {type(x)}")


def mm(v: Any) -> List[float]:
    """A position in metres as a list in mm (rounded to 1e-6 mm)."""
    return [round(float(x) * 1e3, 6) for x in np.asarray(v).reshape(-1)]
