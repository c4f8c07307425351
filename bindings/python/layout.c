/*
 * SPDX-License-Identifier: BSD-3-Clause
 * layout.c: prints, as JSON, the size and field offsets of every C struct
 * the Python bindings mirror with ctypes (bindings/python/tmsfield/_lib.py),
 * and the enum values and array bounds they copy.  The Python test
 * test_layout.py compares them with ctypes.sizeof / Structure.field.offset,
 * so a change of a public struct that the mirror does not follow fails the
 * test suite instead of corrupting memory at run time.
 *
 * Why a program and not an exported function: the layout is a property of
 * the compiler and the headers, not of the library, so the check needs no
 * new public API; and offsets (not only sizes) are checked, which catches
 * two fields swapped or a field of the same size changed in type class.
 */
#include <stddef.h>
#include <stdio.h>

#include <tmsfield/tmsfield.h>

static int first;

static void begin_struct(const char *name, size_t size) {
  printf("%s\n  \"%s\": {\"size\": %zu, \"fields\": {", first ? "" : ",", name, size);
  first = 0;
}

#define BEGIN(T)                                                                                   \
  do {                                                                                             \
    int f_ = 1;                                                                                    \
    begin_struct(#T, sizeof(T));
#define FIELD(T, m)                                                                                \
  printf("%s\"%s\": [%zu, %zu]", f_ ? "" : ", ", #m, offsetof(T, m), sizeof(((T *)0)->m));         \
  f_ = 0;
#define END()                                                                                      \
  printf("}}");                                                                                    \
  }                                                                                                \
  while (0)

int main(void) {
  printf("{\"structs\": {");
  first = 1;
  BEGIN(tmsf_metric)
  FIELD(tmsf_metric, kind) FIELD(tmsf_metric, percentile) FIELD(tmsf_metric, direction)
  FIELD(tmsf_metric, surface_tag)
  END();
  BEGIN(tmsf_dose_result)
  FIELD(tmsf_dose_result, metric) FIELD(tmsf_dose_result, metric_name)
  FIELD(tmsf_dose_result, metric_description) FIELD(tmsf_dose_result, region_kind)
  FIELD(tmsf_dose_result, region_centre_m) FIELD(tmsf_dose_result, region_radius_m)
  FIELD(tmsf_dose_result, region_num_tags) FIELD(tmsf_dose_result, region_tags)
  FIELD(tmsf_dose_result, region_num_elements) FIELD(tmsf_dose_result, region_volume_m3)
  FIELD(tmsf_dose_result, coil_name) FIELD(tmsf_dose_result, head_from_coil_m)
  FIELD(tmsf_dose_result, didt_max_A_per_s) FIELD(tmsf_dose_result, metric_per_A_per_us_V_per_m)
  FIELD(tmsf_dose_result, target_V_per_m) FIELD(tmsf_dose_result, didt_A_per_s)
  FIELD(tmsf_dose_result, mso_percent) FIELD(tmsf_dose_result, beyond_limit)
  END();
  BEGIN(tmsf_search_params)
  FIELD(tmsf_search_params, radius_m) FIELD(tmsf_search_params, spacing_m)
  FIELD(tmsf_search_params, angle_min_deg) FIELD(tmsf_search_params, angle_max_deg)
  FIELD(tmsf_search_params, angle_step_deg) FIELD(tmsf_search_params, distance_m)
  FIELD(tmsf_search_params, normal_smoothing_m) FIELD(tmsf_search_params, reference_direction)
  FIELD(tmsf_search_params, margin_m) FIELD(tmsf_search_params, casing_spacing_m)
  END();
  BEGIN(tmsf_placement_options)
  FIELD(tmsf_placement_options, method) FIELD(tmsf_placement_options, top_n)
  FIELD(tmsf_placement_options, refine) FIELD(tmsf_placement_options, refine_starts)
  FIELD(tmsf_placement_options, rerank) FIELD(tmsf_placement_options, grid_spacing_m)
  FIELD(tmsf_placement_options, progress) FIELD(tmsf_placement_options, progress_user)
  END();
  BEGIN(tmsf_placement_result)
  FIELD(tmsf_placement_result, pose) FIELD(tmsf_placement_result, u_m)
  FIELD(tmsf_placement_result, v_m) FIELD(tmsf_placement_result, angle_deg)
  FIELD(tmsf_placement_result, objective) FIELD(tmsf_placement_result, objective_direct)
  FIELD(tmsf_placement_result, num_top) FIELD(tmsf_placement_result, top_pose)
  FIELD(tmsf_placement_result, top_objective) FIELD(tmsf_placement_result, num_evaluated)
  FIELD(tmsf_placement_result, num_refine_evaluations)
  FIELD(tmsf_placement_result, num_direct_solves) FIELD(tmsf_placement_result, time_prepare_s)
  FIELD(tmsf_placement_result, time_search_s) FIELD(tmsf_placement_result, time_refine_s)
  FIELD(tmsf_placement_result, time_rerank_s) FIELD(tmsf_placement_result, poses_per_second)
  END();
  BEGIN(tmsf_target_info)
  FIELD(tmsf_target_info, name) FIELD(tmsf_target_info, description)
  FIELD(tmsf_target_info, mni_mm) FIELD(tmsf_target_info, citation)
  END();
  BEGIN(tmsf_coil_info)
  FIELD(tmsf_coil_info, name) FIELD(tmsf_coil_info, coilname) FIELD(tmsf_coil_info, brand)
  FIELD(tmsf_coil_info, stimulator) FIELD(tmsf_coil_info, didt_max_A_per_s)
  FIELD(tmsf_coil_info, num_elements) FIELD(tmsf_coil_info, path) FIELD(tmsf_coil_info, format)
  FIELD(tmsf_coil_info, source) FIELD(tmsf_coil_info, waveform_path)
  END();
  BEGIN(tmsf_head_info)
  FIELD(tmsf_head_info, kind) FIELD(tmsf_head_info, builtin) FIELD(tmsf_head_info, source)
  FIELD(tmsf_head_info, preset) FIELD(tmsf_head_info, cache_path)
  FIELD(tmsf_head_info, cache_exists) FIELD(tmsf_head_info, from_cache)
  FIELD(tmsf_head_info, cache_rebuilt) FIELD(tmsf_head_info, cache_written)
  FIELD(tmsf_head_info, mesh_time_s)
  END();
  BEGIN(tmsf_protocol_timing)
  FIELD(tmsf_protocol_timing, pulses_per_burst) FIELD(tmsf_protocol_timing, pulse_interval_s)
  FIELD(tmsf_protocol_timing, bursts_per_train) FIELD(tmsf_protocol_timing, burst_interval_s)
  FIELD(tmsf_protocol_timing, num_trains) FIELD(tmsf_protocol_timing, inter_train_interval_s)
  FIELD(tmsf_protocol_timing, duration_rule)
  END();
  BEGIN(tmsf_hdf5_metadata)
  FIELD(tmsf_hdf5_metadata, coil_name) FIELD(tmsf_hdf5_metadata, have_pose)
  FIELD(tmsf_hdf5_metadata, head_from_coil_m) FIELD(tmsf_hdf5_metadata, didt_A_per_s)
  FIELD(tmsf_hdf5_metadata, library_version) FIELD(tmsf_hdf5_metadata, date)
  END();
  printf("},\n\"constants\": {\n");
#define C(name) printf("  \"%s\": %.17g,\n", #name, (double)(name))
  C(TMSF_REGION_MAX_TAGS);
  C(TMSF_METRIC_NAME_LEN);
  C(TMSF_METRIC_DESCRIPTION_LEN);
  C(TMSF_DOSE_NAME_LEN);
  C(TMSF_PLACEMENT_TOP_MAX);
  C(TMSF_HEAD_PATH_MAX);
  C(TMSF_PLACEMENT_DIDT);
  C(TMSF_PLACEMENT_GRID_SPACING);
  C(TMSF_SURFACE_GM);
  /* enums the package copies */
  C(TMSF_METRIC_MEAN);
  C(TMSF_METRIC_PERCENTILE);
  C(TMSF_METRIC_DIRECTION);
  C(TMSF_METRIC_NORMAL);
  C(TMSF_METRIC_MEAN_VECTOR);
  C(TMSF_PLACEMENT_FAST);
  C(TMSF_PLACEMENT_DIRECT);
  C(TMSF_PLACEMENT_NODAL);
  C(TMSF_PLACEMENT_ADJOINT_SECONDS);
  C(TMSF_PLACEMENT_LAST_OUTSIDE);
  C(TMSF_SIM_ASSEMBLY_SECONDS);
  C(TMSF_SIM_ITERATIONS);
  C(TMSF_SIM_PRIMARY_GRID_ERROR);
  C(TMSF_PRIMARY_AUTO);
  C(TMSF_PRIMARY_DIRECT);
  C(TMSF_PRIMARY_GRID);
  C(TMSF_SAMPLE_ELEMENT);
  C(TMSF_SAMPLE_RECOVERED);
  C(TMSF_OUTPUT_MAGNE);
  C(TMSF_OUTPUT_E);
  C(TMSF_REGION_SPHERE);
  C(TMSF_REGION_ELEMENTS);
  C(TMSF_HEAD_MESH);
  C(TMSF_HEAD_LABELS);
  C(TMSF_COIL_DIPOLES);
  C(TMSF_COIL_SEGMENTS);
  C(TMSF_COIL_GRID);
  C(TMSF_COIL_MIXED);
  C(TMSF_PRECISION_SINGLE);
  C(TMSF_PRECISION_DOUBLE);
  C(TMSF_DOSE_STRICT);
  C(TMSF_DOSE_CLAMP);
  C(TMSF_DURATION_TRAIN_CYCLES);
  C(TMSF_DURATION_TRAIN_ONSETS);
  C(TMSF_INTENSITY_PERCENT_MSO);
  C(TMSF_INTENSITY_PERCENT_MT);
  C(TMSF_INTENSITY_DIDT);
  C(TMSF_INTENSITY_FIELD);
  C(TMSF_NNAV_SPACE_RAS);
  C(TMSF_NNAV_SPACE_LPS);
  C(TMSF_NNAV_SPACE_NIFTI_ALIGNED);
  C(TMSF_NNAV_SPACE_NIFTI_SCANNER);
  C(TMSF_NNAV_TARGETS);
  C(TMSF_NNAV_SAMPLES);
#define STATUS_(name, value, msg) C(name);
  TMSF_STATUS_LIST(STATUS_)
#undef STATUS_
  printf("  \"enum_size\": %zu\n}}\n", sizeof(tmsf_metric_kind));
  return 0;
}
