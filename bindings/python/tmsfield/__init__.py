# SPDX-License-Identifier: BSD-3-Clause
"""tmsfield: TMS electric fields by finite elements, coil placement and
dosing — Python bindings over the C library libtmsfield.

How the bindings are built
--------------------------
**ctypes over the shared library** ``libtmsfield.so``: no compilation step,
no build-time dependency on Python headers, and the package runs on Debian's
``/usr/bin/python3`` with only ``python3-numpy``.  The library is located by,
in order: the environment variable ``TMSF_LIBRARY`` (a path to the .so; when
set, nothing else is tried); a ``libtmsfield.so*`` next to the package or the
path recorded by ``meson install`` in ``tmsfield/_install.py``; the build tree
the package sits in (``<repo>/build/lib``); the system linker path.
``tmsfield.LIBRARY_PATH`` says which file was loaded.

The C structs that cross the boundary (tmsf_metric, tmsf_dose_result,
tmsf_search_params, tmsf_placement_options, tmsf_placement_result,
tmsf_target_info, tmsf_coil_info, tmsf_head_info, tmsf_protocol_timing,
tmsf_hdf5_metadata) are mirrored field by field in ``tmsfield._lib``; the test
suite compares every size and field offset with the C compiler's (a small C
program, ``bindings/python/layout.c``, built by meson), so the mirrors cannot
drift from the headers unnoticed.

Conventions
-----------
* SI units as in the C API (metres, V/m, A/s, S/m); poses are 4x4
  head-from-coil matrices (SimNIBS's matsimnibs) with the translation in
  metres (:func:`pose_to_mm` / :func:`pose_from_mm` convert).
* Arrays the library owns come back as read-only numpy views without a copy
  (``mesh.nodes``, ``mesh.tetrahedra``, ``field.E``, ``coil.dipole_positions``,
  ``search.poses``, ...); a view keeps the memory it shows alive.
* A failed C call raises :class:`Error` with ``.status`` (a :class:`Status`)
  and the library's message (which names the file, line or record).
* Objects are freed deterministically by ``close()`` or a ``with`` block, and
  otherwise by the garbage collector; children keep their parents alive (a
  Field its Mesh, a Placement its Simulation, Coil and Regions, every object
  its Context), so the C rule "destroy children first" always holds.
* Threads: one :class:`Context` per thread (the default context is
  per-thread); ``Context(threads=N)`` sets OpenMP threads inside calls.  The
  GIL is released during C calls.

Quick start::

    import tmsfield as tf
    mesh = tf.Mesh.read("data/spheres/sphere3.msh")
    coil = tf.Coil.open("MagVenture_MC-B70")
    sim = tf.Simulation(mesh).setup()
    pose = mesh.pose_from_centre([0, 0, 0.095], [0, 1, 0], 0.004)
    field = sim.solve(coil, pose, didt_A_per_s=1e6)
    print(field.magnE.max())
"""
from __future__ import annotations

from ._core import (Context, Error, Status, check_pose, default_context, live_handles,
                    pose_from_mm, pose_to_mm, status_string)
from ._lib import LIBRARY_PATH, PLACEMENT_DIDT
from ._lib import lib as _clib
from .coil import Casing, Catalogue, Coil, CoilElement, CoilInfo, coils, data_dir
from .dose import Dose, DoseResult
from .mesh import HeadInfo, Mesh, Surface, default_conductivity, head_cache_dir, head_query
from .navigator import (NavigatorPoses, read_brainsight, read_localite, write_brainsight,
                        write_localite)
from .placement import (Method, Placement, PlacementInfo, PlacementResult, Search,
                        SearchParams)
from .protocol import (DurationRule, IntensityUnit, Protocol, ProtocolTiming,
                       protocol_presets)
from .region import Metric, MetricKind, Region
from .simulation import Field, Hdf5Metadata, SimInfo, Simulation
from .targets import Target, find_target, mni_to_head, nifti_affine, targets


def version() -> str:
    """Version of the loaded C library ("MAJOR.MINOR.PATCH")."""
    return _clib.tmsf_version().decode()


def build_info() -> str:
    """How the loaded library was built, e.g. "openmp=yes hdf5=yes ..."."""
    return _clib.tmsf_build_info().decode()


__version__ = version()

__all__ = [
    "Casing", "Catalogue", "Coil", "CoilElement", "CoilInfo", "Context", "Dose", "DoseResult",
    "DurationRule", "Error", "Field", "Hdf5Metadata", "HeadInfo", "IntensityUnit", "LIBRARY_PATH",
    "Mesh", "Method", "Metric", "MetricKind", "NavigatorPoses", "PLACEMENT_DIDT", "Placement",
    "PlacementInfo", "PlacementResult", "Protocol", "ProtocolTiming", "Region", "Search",
    "SearchParams", "SimInfo", "Simulation", "Status", "Surface", "Target", "build_info",
    "check_pose", "coils", "data_dir", "default_conductivity", "default_context", "find_target",
    "head_cache_dir", "head_query", "live_handles", "mni_to_head", "nifti_affine",
    "pose_from_mm", "pose_to_mm", "protocol_presets", "read_brainsight", "read_localite",
    "status_string", "targets", "version", "write_brainsight", "write_localite",
]
