# SPDX-License-Identifier: BSD-3-Clause
"""Low-level ctypes layer: finding libtmsfield.so, the function prototypes and
the mirrors of the public C structs that cross the boundary.

Nothing here is public API; the classes of the package use it.  Every struct
below mirrors one of include/tmsfield/*.h field by field; the test
``test_layout.py`` compares ``ctypes.sizeof`` and every field offset with the
C compiler's ``sizeof``/``offsetof`` (printed by ``bindings/python/layout.c``,
built by meson), and the enum values and array bounds with the C constants.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_int,
                    c_int32, c_int64, c_size_t, c_void_p)
from pathlib import Path
from typing import List, Optional

# ---------------------------------------------------------------------------
# Constants (checked against the C headers by test_layout.py)
# ---------------------------------------------------------------------------
REGION_MAX_TAGS = 32
METRIC_NAME_LEN = 96
METRIC_DESCRIPTION_LEN = 160
DOSE_NAME_LEN = 256
PLACEMENT_TOP_MAX = 64
HEAD_PATH_MAX = 4096
PLACEMENT_DIDT = 1e6
PLACEMENT_GRID_SPACING = 0.003
SURFACE_GM = 1002


# ---------------------------------------------------------------------------
# Struct mirrors
# ---------------------------------------------------------------------------
class tmsf_metric(Structure):
    """dose.h: tmsf_metric."""
    _fields_ = [("kind", c_int),
                ("percentile", c_double),
                ("direction", c_double * 3),
                ("surface_tag", c_int32)]


class tmsf_dose_result(Structure):
    """dose.h: tmsf_dose_result."""
    _fields_ = [("metric", tmsf_metric),
                ("metric_name", c_char * METRIC_NAME_LEN),
                ("metric_description", c_char * METRIC_DESCRIPTION_LEN),
                ("region_kind", c_int),
                ("region_centre_m", c_double * 3),
                ("region_radius_m", c_double),
                ("region_num_tags", c_int),
                ("region_tags", c_int32 * REGION_MAX_TAGS),
                ("region_num_elements", c_int64),
                ("region_volume_m3", c_double),
                ("coil_name", c_char * DOSE_NAME_LEN),
                ("head_from_coil_m", c_double * 16),
                ("didt_max_A_per_s", c_double),
                ("metric_per_A_per_us_V_per_m", c_double),
                ("target_V_per_m", c_double),
                ("didt_A_per_s", c_double),
                ("mso_percent", c_double),
                ("beyond_limit", c_int)]


class tmsf_search_params(Structure):
    """search.h: tmsf_search_params."""
    _fields_ = [("radius_m", c_double),
                ("spacing_m", c_double),
                ("angle_min_deg", c_double),
                ("angle_max_deg", c_double),
                ("angle_step_deg", c_double),
                ("distance_m", c_double),
                ("normal_smoothing_m", c_double),
                ("reference_direction", c_double * 3),
                ("margin_m", c_double),
                ("casing_spacing_m", c_double)]


#: placement.h: tmsf_progress_fn
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_char_p, c_double)


class tmsf_placement_options(Structure):
    """placement.h: tmsf_placement_options."""
    _fields_ = [("method", c_int),
                ("top_n", c_int),
                ("refine", c_int),
                ("refine_starts", c_int),
                ("rerank", c_int),
                ("grid_spacing_m", c_double),
                ("progress", PROGRESS_FN),
                ("progress_user", c_void_p)]


class tmsf_placement_result(Structure):
    """placement.h: tmsf_placement_result."""
    _fields_ = [("pose", c_double * 16),
                ("u_m", c_double),
                ("v_m", c_double),
                ("angle_deg", c_double),
                ("objective", c_double),
                ("objective_direct", c_double),
                ("num_top", c_int),
                ("top_pose", (c_double * 16) * PLACEMENT_TOP_MAX),
                ("top_objective", c_double * PLACEMENT_TOP_MAX),
                ("num_evaluated", c_int64),
                ("num_refine_evaluations", c_int64),
                ("num_direct_solves", c_int64),
                ("time_prepare_s", c_double),
                ("time_search_s", c_double),
                ("time_refine_s", c_double),
                ("time_rerank_s", c_double),
                ("poses_per_second", c_double)]


class tmsf_target_info(Structure):
    """targets.h: tmsf_target_info."""
    _fields_ = [("name", c_char_p),
                ("description", c_char_p),
                ("mni_mm", c_double * 3),
                ("citation", c_char_p)]


class tmsf_coil_info(Structure):
    """catalogue.h: tmsf_coil_info."""
    _fields_ = [("name", c_char_p),
                ("coilname", c_char_p),
                ("brand", c_char_p),
                ("stimulator", c_char_p),
                ("didt_max_A_per_s", c_double),
                ("num_elements", c_int64),
                ("path", c_char_p),
                ("format", c_char_p),
                ("source", c_char_p),
                ("waveform_path", c_char_p)]


class tmsf_head_info(Structure):
    """head.h: tmsf_head_info."""
    _fields_ = [("kind", c_int),
                ("builtin", c_int),
                ("source", c_char * HEAD_PATH_MAX),
                ("preset", c_char * 64),
                ("cache_path", c_char * HEAD_PATH_MAX),
                ("cache_exists", c_int),
                ("from_cache", c_int),
                ("cache_rebuilt", c_int),
                ("cache_written", c_int),
                ("mesh_time_s", c_double)]


class tmsf_protocol_timing(Structure):
    """protocol.h: tmsf_protocol_timing."""
    _fields_ = [("pulses_per_burst", c_int32),
                ("pulse_interval_s", c_double),
                ("bursts_per_train", c_int32),
                ("burst_interval_s", c_double),
                ("num_trains", c_int32),
                ("inter_train_interval_s", c_double),
                ("duration_rule", c_int)]


class tmsf_hdf5_metadata(Structure):
    """output.h: tmsf_hdf5_metadata."""
    _fields_ = [("coil_name", c_char * 256),
                ("have_pose", c_int),
                ("head_from_coil_m", c_double * 16),
                ("didt_A_per_s", c_double),
                ("library_version", c_char * 32),
                ("date", c_char * 32)]


#: Every mirrored struct, by its C name (test_layout.py walks this).
STRUCTS = {cls.__name__: cls for cls in (
    tmsf_metric, tmsf_dose_result, tmsf_search_params, tmsf_placement_options,
    tmsf_placement_result, tmsf_target_info, tmsf_coil_info, tmsf_head_info,
    tmsf_protocol_timing, tmsf_hdf5_metadata)}

# ---------------------------------------------------------------------------
# Finding the shared library
# ---------------------------------------------------------------------------
_PKG_DIR = Path(__file__).resolve().parent
_LIB_NAMES = ("libtmsfield.so", "libtmsfield.dylib", "tmsfield.dll")


def candidate_paths() -> List[str]:
    """Where the library is looked for, in order (see find_library)."""
    out: List[str] = []
    env = os.environ.get("TMSF_LIBRARY")
    if env:
        return [env]
    # 1. an install: a copy beside the package, or the path meson install recorded
    for name in _LIB_NAMES:
        out += [str(p) for p in sorted(_PKG_DIR.glob(name + "*"))]
    try:
        from . import _install  # type: ignore[attr-defined]  # written by meson install
        out.append(str(_install.LIBRARY))
    except ImportError:
        pass
    # 2. the build tree: <repo>/build*/lib (bindings/python/tmsfield -> <repo>)
    root = _PKG_DIR.parent.parent.parent
    builds = [root / "build"] + sorted(p for p in root.glob("build*")
                                       if p.name != "build" and "fuzz" not in p.name)
    for b in builds:
        for name in _LIB_NAMES:
            out.append(str(b / "lib" / name))
    return out


def find_library() -> str:
    """Path of libtmsfield: $TMSF_LIBRARY when set (and nothing else), else a
    libtmsfield.so* next to the package or the path recorded by ``meson
    install`` (tmsfield/_install.py), else the build tree the package sits in
    (<repo>/build/lib, then other <repo>/build*/lib without "fuzz" in the
    name: the sanitizer build cannot be loaded into Python), else the system
    linker path (ctypes.util.find_library)."""
    cands = candidate_paths()
    for c in cands:
        if os.path.isfile(c):
            return c
    if os.environ.get("TMSF_LIBRARY"):
        raise ImportError(f"tmsfield: TMSF_LIBRARY={os.environ['TMSF_LIBRARY']} is not a file")
    sys_lib = ctypes.util.find_library("tmsfield")
    if sys_lib:
        return sys_lib
    raise ImportError("tmsfield: libtmsfield.so not found; build it (meson setup build && "
                      "ninja -C build) or set TMSF_LIBRARY to its path.  Looked in: "
                      + ", ".join(cands))


LIBRARY_PATH = find_library()
lib = ctypes.CDLL(LIBRARY_PATH)

# ---------------------------------------------------------------------------
# Prototypes.  Handles are c_void_p; arrays in and out are passed as c_void_p
# (numpy .ctypes.data); borrowed array outputs are POINTER(c_void_p).
# ---------------------------------------------------------------------------
H = c_void_p                 # an opaque handle
HP = POINTER(c_void_p)       # tmsf_x ** (out handle or destroy)
A = c_void_p                 # an array (data pointer)
AP = POINTER(c_void_p)       # const T ** (borrowed array out)
S = c_char_p                 # a string in
SP = POINTER(c_char_p)       # const char ** out
I = c_int
IP = POINTER(c_int)
I32 = c_int32
I64 = c_int64
I64P = POINTER(c_int64)
D = c_double
DP = POINTER(c_double)

_PROTOTYPES = {
    # common.h, context.h
    "tmsf_status_string": (c_char_p, [I]),
    "tmsf_version": (c_char_p, []),
    "tmsf_build_info": (c_char_p, []),
    "tmsf_context_create": (I, [HP]),
    "tmsf_context_destroy": (I, [HP]),
    "tmsf_context_set_threads": (I, [H, I]),
    "tmsf_context_get_threads": (I, [H, IP]),
    "tmsf_context_last_error": (c_char_p, [H]),
    "tmsf_context_last_status": (I, [H]),
    "tmsf_context_clear_error": (I, [H]),
    # mesh.h
    "tmsf_mesh_read": (I, [H, S, HP]),
    "tmsf_mesh_create": (I, [H, I64, A, I64, A, A, I64, A, A, HP]),
    "tmsf_mesh_destroy": (I, [HP]),
    "tmsf_mesh_get_sizes": (I, [H, I64P, I64P, I64P]),
    "tmsf_mesh_get_nodes": (I, [H, AP]),
    "tmsf_mesh_get_tetrahedra": (I, [H, AP, AP]),
    "tmsf_mesh_get_triangles": (I, [H, AP, AP]),
    "tmsf_mesh_get_tags": (I, [H, IP, AP]),
    "tmsf_mesh_get_volumes": (I, [H, A]),
    "tmsf_mesh_get_bounds": (I, [H, A, A]),
    "tmsf_mesh_get_mean_edge": (I, [H, DP]),
    "tmsf_conductivity_default": (I, [I32, DP]),
    "tmsf_mesh_set_conductivity": (I, [H, I32, D]),
    "tmsf_mesh_get_conductivity": (I, [H, I32, DP]),
    "tmsf_mesh_write": (I, [H, H, S]),
    "tmsf_mesh_get_scalp": (I, [H, I64P, AP, AP]),
    "tmsf_mesh_locate": (I, [H, I64, A, A]),
    # head.h
    "tmsf_head_open_ex": (I, [H, S, S, POINTER(tmsf_head_info), HP]),
    "tmsf_head_query": (I, [H, S, S, POINTER(tmsf_head_info)]),
    "tmsf_head_get_cache_dir": (I, [A, c_size_t]),
    # coil.h
    "tmsf_coil_read": (I, [H, S, HP]),
    "tmsf_coil_create_dipoles": (I, [H, I64, A, A, HP]),
    "tmsf_coil_create_segments": (I, [H, I64, A, A, HP]),
    "tmsf_coil_destroy": (I, [HP]),
    "tmsf_coil_get_num_elements": (I, [H, IP]),
    "tmsf_coil_get_element": (I, [H, I, IP, IP, I64P, SP]),
    "tmsf_coil_get_element_data": (I, [H, I, AP, AP]),
    "tmsf_coil_get_num_stimulators": (I, [H, IP]),
    "tmsf_coil_get_stimulator": (I, [H, I, SP, SP, DP]),
    "tmsf_coil_get_kind": (I, [H, IP]),
    "tmsf_coil_get_num_dipoles": (I, [H, I64P]),
    "tmsf_coil_get_dipoles": (I, [H, AP, AP]),
    "tmsf_coil_get_name": (I, [H, SP]),
    "tmsf_coil_get_didt_max": (I, [H, DP]),
    "tmsf_coil_set_didt_max": (I, [H, D]),
    "tmsf_coil_set_precision": (I, [H, I]),
    "tmsf_coil_get_num_header_keys": (I, [H, IP]),
    "tmsf_coil_get_header_key": (I, [H, I, SP, SP]),
    "tmsf_coil_primary_field": (I, [H, A, D, I64, A, A, I64P]),
    "tmsf_coil_write_ccd": (I, [H, S]),
    # catalogue.h
    "tmsf_get_data_dir": (I, [SP]),
    "tmsf_catalogue_create": (I, [H, HP]),
    "tmsf_catalogue_create_empty": (I, [H, HP]),
    "tmsf_catalogue_destroy": (I, [HP]),
    "tmsf_catalogue_add_directory": (I, [H, S]),
    "tmsf_catalogue_get_num_coils": (I, [H, IP]),
    "tmsf_catalogue_get_coil_info": (I, [H, I, POINTER(tmsf_coil_info)]),
    "tmsf_catalogue_find": (I, [H, S, IP]),
    "tmsf_catalogue_open_coil": (I, [H, I, HP]),
    "tmsf_catalogue_get_num_skipped": (I, [H, IP]),
    "tmsf_catalogue_get_skipped": (I, [H, I, SP, SP]),
    "tmsf_coil_open": (I, [H, S, HP]),
    # pose.h
    "tmsf_pose_check": (I, [H, A]),
    "tmsf_pose_from_centre": (I, [H, A, A, D, A]),
    # simulation.h
    "tmsf_simulation_create": (I, [H, H, HP]),
    "tmsf_simulation_destroy": (I, [HP]),
    "tmsf_simulation_set_solver": (I, [H, S]),
    "tmsf_simulation_set_field_tolerance": (I, [H, D]),
    "tmsf_simulation_set_tolerance": (I, [H, D]),
    "tmsf_simulation_set_primary_method": (I, [H, I]),
    "tmsf_simulation_get_solver": (I, [H, SP]),
    "tmsf_simulation_setup": (I, [H]),
    "tmsf_simulation_solve": (I, [H, H, A, D, HP]),
    "tmsf_simulation_solve_many": (I, [H, H, I, A, A, A]),
    "tmsf_simulation_get_info": (I, [H, I, DP]),
    # field.h
    "tmsf_field_destroy": (I, [HP]),
    "tmsf_field_get_didt": (I, [H, DP]),
    "tmsf_field_get_E": (I, [H, AP]),
    "tmsf_field_get_potential": (I, [H, AP]),
    "tmsf_field_get_magnE": (I, [H, A]),
    "tmsf_field_get_J": (I, [H, A]),
    "tmsf_field_get_magnJ": (I, [H, A]),
    "tmsf_field_get_conductivity": (I, [H, AP]),
    "tmsf_field_recover_nodal": (I, [H, I32, A]),
    "tmsf_field_sample": (I, [H, I, I64, A, A, A]),
    "tmsf_field_magnE_percentiles": (I, [H, I32, I, A, A]),
    # output.h
    "tmsf_field_resample_grid": (I, [H, I, A, A, A, I, I, A]),
    "tmsf_field_write_nifti": (I, [H, I, S, A, I, I, S]),
    "tmsf_field_write_nifti_grid": (I, [H, I, A, A, A, I, I, S]),
    "tmsf_field_write_hdf5": (I, [H, H, A, A, I, S]),
    "tmsf_hdf5_read": (I, [H, S, HP, HP, POINTER(tmsf_hdf5_metadata)]),
    "tmsf_field_write_gifti": (I, [H, I, I32, S]),
    # region.h
    "tmsf_region_create_sphere": (I, [H, A, D, I, A, HP]),
    "tmsf_region_create_elements": (I, [H, I64, A, HP]),
    "tmsf_region_destroy": (I, [HP]),
    "tmsf_region_get_kind": (I, [H, IP]),
    "tmsf_region_get_sphere": (I, [H, A, DP]),
    "tmsf_region_get_tags": (I, [H, IP, AP]),
    "tmsf_region_get_elements": (I, [H, I64P, AP]),
    "tmsf_region_get_volume": (I, [H, DP]),
    "tmsf_region_get_normals": (I, [H, I32, AP]),
    # dose.h
    "tmsf_dose_mso_to_didt": (I, [H, D, I, DP, IP]),
    "tmsf_dose_didt_to_mso": (I, [H, D, I, DP, IP]),
    "tmsf_metric_parse": (I, [H, S, POINTER(tmsf_metric)]),
    "tmsf_metric_check": (I, [H, POINTER(tmsf_metric)]),
    "tmsf_metric_name": (I, [POINTER(tmsf_metric), A, c_size_t]),
    "tmsf_metric_describe": (I, [POINTER(tmsf_metric), A, c_size_t]),
    "tmsf_metric_evaluate": (I, [POINTER(tmsf_metric), H, H, DP]),
    "tmsf_dose_for_target": (I, [H, H, A, H, POINTER(tmsf_metric), D,
                                 POINTER(tmsf_dose_result)]),
    "tmsf_dose_from_field": (I, [H, H, A, H, POINTER(tmsf_metric), D,
                                 POINTER(tmsf_dose_result)]),
    "tmsf_dose_transfer": (I, [H, H, A, H, D, H, A, H, POINTER(tmsf_metric),
                               POINTER(tmsf_dose_result), POINTER(tmsf_dose_result)]),
    "tmsf_dose_result_to_json": (I, [POINTER(tmsf_dose_result), A, c_size_t,
                                     POINTER(c_size_t)]),
    # search.h
    "tmsf_casing_create": (I, [H, I64, A, I64, A, HP]),
    "tmsf_casing_read_stl": (I, [H, S, D, HP]),
    "tmsf_casing_find_for_coil": (I, [H, S, HP]),
    "tmsf_casing_get_sizes": (I, [H, I64P, I64P]),
    "tmsf_casing_get_vertices": (I, [H, AP]),
    "tmsf_casing_get_triangles": (I, [H, AP]),
    "tmsf_casing_destroy": (I, [HP]),
    "tmsf_search_params_default": (I, [POINTER(tmsf_search_params)]),
    "tmsf_search_create": (I, [H, A, POINTER(tmsf_search_params), H, H, HP]),
    "tmsf_search_destroy": (I, [HP]),
    "tmsf_search_get_params": (I, [H, POINTER(tmsf_search_params)]),
    "tmsf_search_get_projection": (I, [H, A, A, A, A]),
    "tmsf_search_get_num_positions": (I, [H, I64P]),
    "tmsf_search_get_num_angles": (I, [H, I64P]),
    "tmsf_search_get_num_poses": (I, [H, I64P]),
    "tmsf_search_get_num_dropped": (I, [H, I64P, I64P]),
    "tmsf_search_get_num_test_points": (I, [H, I64P]),
    "tmsf_search_get_positions": (I, [H, AP, AP, AP]),
    "tmsf_search_get_angles": (I, [H, AP]),
    "tmsf_search_get_poses": (I, [H, AP, AP, AP, AP]),
    "tmsf_search_pose_at": (I, [H, D, D, D, A]),
    "tmsf_search_pose_clearance": (I, [H, A, DP, IP]),
    "tmsf_search_signed_distance": (I, [H, I64, A, A]),
    # placement.h
    "tmsf_placement_options_default": (I, [POINTER(tmsf_placement_options)]),
    "tmsf_placement_create": (I, [H, H, HP]),
    "tmsf_placement_destroy": (I, [HP]),
    "tmsf_placement_add_target": (I, [H, H, POINTER(tmsf_metric), D]),
    "tmsf_placement_add_avoid": (I, [H, H, D]),
    "tmsf_placement_add_focality": (I, [H, D, D]),
    "tmsf_placement_prepare": (I, [H, I64, A, D, D]),
    "tmsf_placement_prepare_search": (I, [H, H, D]),
    "tmsf_placement_evaluate": (I, [H, I, I64, A, A, A]),
    "tmsf_placement_get_num_terms": (I, [H, IP]),
    "tmsf_placement_run": (I, [H, H, POINTER(tmsf_placement_options),
                               POINTER(tmsf_placement_result)]),
    "tmsf_placement_get_info": (I, [H, I, DP]),
    # targets.h
    "tmsf_target_get_num": (I, [IP]),
    "tmsf_target_get_info": (I, [I, POINTER(tmsf_target_info)]),
    "tmsf_target_find": (I, [H, S, IP]),
    "tmsf_target_mni_to_head": (I, [A, A, A]),
    "tmsf_nifti_get_affine": (I, [H, S, A]),
    "tmsf_target_project": (I, [H, A, I32, A, DP, I64P]),
    "tmsf_target_region": (I, [H, A, D, A, HP]),
    # surface.h
    "tmsf_surface_create": (I, [H, I32, HP]),
    "tmsf_surface_destroy": (I, [HP]),
    "tmsf_surface_get_sizes": (I, [H, I64P, I64P]),
    "tmsf_surface_get_vertices": (I, [H, AP]),
    "tmsf_surface_get_triangles": (I, [H, AP]),
    "tmsf_surface_get_mesh_nodes": (I, [H, AP]),
    "tmsf_surface_get_vertex_normals": (I, [H, AP]),
    "tmsf_surface_get_triangle_normals": (I, [H, AP]),
    "tmsf_surface_get_area": (I, [H, DP]),
    "tmsf_surface_nearest": (I, [H, I64, A, A, A, A]),
    # protocol.h
    "tmsf_protocol_preset_list": (I, [IP, POINTER(POINTER(c_char_p))]),
    "tmsf_protocol_create_preset": (I, [H, S, HP]),
    "tmsf_protocol_create": (I, [H, S, POINTER(tmsf_protocol_timing), HP]),
    "tmsf_protocol_destroy": (I, [HP]),
    "tmsf_protocol_set_timing": (I, [H, POINTER(tmsf_protocol_timing)]),
    "tmsf_protocol_get_timing": (I, [H, POINTER(tmsf_protocol_timing)]),
    "tmsf_protocol_set_name": (I, [H, S]),
    "tmsf_protocol_set_description": (I, [H, S]),
    "tmsf_protocol_set_source": (I, [H, S]),
    "tmsf_protocol_get_info": (I, [H, SP, SP, SP, SP]),
    "tmsf_protocol_set_intensity": (I, [H, I, I, A]),
    "tmsf_protocol_set_motor_threshold": (I, [H, S, D]),
    "tmsf_protocol_set_didt_max": (I, [H, D]),
    "tmsf_protocol_set_coil": (I, [H, H]),
    "tmsf_protocol_set_field_per_mso": (I, [H, D, S]),
    "tmsf_protocol_set_limits": (I, [H, D, D, I]),
    "tmsf_protocol_build": (I, [H]),
    "tmsf_protocol_get_num_pulses": (I, [H, I64P]),
    "tmsf_protocol_get_pulses": (I, [H, AP, AP, AP, AP]),
    "tmsf_protocol_get_duration": (I, [H, DP, DP]),
    "tmsf_protocol_get_num_clamped": (I, [H, I64P]),
    "tmsf_protocol_get_json": (I, [H, SP]),
    "tmsf_protocol_write_json": (I, [H, S]),
    # navigator.h
    "tmsf_nnav_write_localite": (I, [H, S, I, A, A, I]),
    "tmsf_nnav_read_localite": (I, [H, S, IP, AP, AP, IP]),
    "tmsf_nnav_write_brainsight": (I, [H, S, I, A, A, I]),
    "tmsf_nnav_read_brainsight": (I, [H, S, I, IP, AP, AP, IP]),
    "tmsf_nnav_free": (I, [I, AP, AP]),
}

for _name, (_res, _args) in _PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args
del _name, _res, _args, _fn

# void functions without a status
lib.tmsf_pose_to_mm.restype = None
lib.tmsf_pose_to_mm.argtypes = [A, A]
lib.tmsf_pose_from_mm.restype = None
lib.tmsf_pose_from_mm.argtypes = [A, A]
# functions returning a borrowed handle
lib.tmsf_mesh_get_context.restype = c_void_p
lib.tmsf_mesh_get_context.argtypes = [H]


def has(name: str) -> bool:
    """Whether the loaded library exports a symbol (newer functions)."""
    return hasattr(lib, name)


def decode(b: Optional[bytes]) -> str:
    """C string (bytes or None) to str."""
    return b.decode("utf-8", "replace") if b else ""


def encode(s: "str | os.PathLike[str] | None") -> Optional[bytes]:
    """str or path to a C string (None stays NULL)."""
    if s is None:
        return None
    return os.fsencode(s if isinstance(s, (str, bytes, os.PathLike)) else str(s))
