/*
 * SPDX-License-Identifier: BSD-3-Clause
 * coilset.h: several coils fired together (paired-coil and multi-locus
 * setups): each entry a coil at its own pose driven at its own dI/dt.
 *
 * The quasi-static problem is linear in the primary field, so the fields
 * superpose: the set's primary dA/dt is the sum of the entries' at every mesh
 * node, and one solve gives the field of all of them together, equal to the
 * sum of the separate fields (up to the solver's tolerance; exactly with a
 * direct solver).
 */
#ifndef TMSFIELD_COILSET_H
#define TMSFIELD_COILSET_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Create an empty set (errors of its calls go to ctx). */
TMSF_EXPORT int tmsf_coilset_create(tmsf_context *ctx, tmsf_coilset **set);

/** Destroy (accepts NULL; sets *set = NULL).  The coils are not destroyed. */
TMSF_EXPORT int tmsf_coilset_destroy(tmsf_coilset **set);

/**
 * Add an entry: coil (borrowed: it must outlive the set) at head_from_coil_m
 * (checked: tmsf_pose_check) driven at didt_A_per_s (finite; any sign: a
 * negative dI/dt reverses the current).  *index (may be NULL) receives the
 * entry's index, 0 for the first.  A coil may appear in several entries.
 * The entry drives every stimulator of a multi-stimulator coil at this dI/dt;
 * tmsf_coilset_add_stimulator drives one of them.
 */
TMSF_EXPORT int tmsf_coilset_add(tmsf_coilset *set, const tmsf_coil *coil,
                                 const double head_from_coil_m[16], double didt_A_per_s,
                                 int *index);

/**
 * Add an entry that drives stimulator `stimulator` (0-based; see
 * tmsf_coil_get_num_stimulators) of a multi-stimulator coil alone, the
 * coil's other stimulators at 0; stimulator -1 is tmsf_coilset_add.  Each
 * channel of a multi-channel coil gets its own entry and dI/dt.
 */
TMSF_EXPORT int tmsf_coilset_add_stimulator(tmsf_coilset *set, const tmsf_coil *coil,
                                            int stimulator, const double head_from_coil_m[16],
                                            double didt_A_per_s, int *index);

/** Number of entries. */
TMSF_EXPORT int tmsf_coilset_get_size(const tmsf_coilset *set, int *num_entries);

/** One entry; any output pointer may be NULL. */
TMSF_EXPORT int tmsf_coilset_get_entry(const tmsf_coilset *set, int index, const tmsf_coil **coil,
                                       double head_from_coil_m[16], double *didt_A_per_s);

/** Change the dI/dt of one entry (finite). */
TMSF_EXPORT int tmsf_coilset_set_didt(tmsf_coilset *set, int index, double didt_A_per_s);

/**
 * The set's primary field at points (head frame, m): the sum over entries of
 * tmsf_coil_primary_field.  num_outside (may be NULL) receives the points
 * outside grid coils' samples, summed over entries.
 */
TMSF_EXPORT int tmsf_coilset_primary_field(const tmsf_coilset *set, int64_t num_points,
                                           const double *points_m, double *dadt_V_per_m,
                                           int64_t *num_outside);

/**
 * The field of all entries fired together: their primary fields summed at
 * the mesh nodes, one solve (the path of tmsf_simulation_solve, with its
 * warm start and statistics).  The field's dI/dt (tmsf_field_get_didt) is
 * NaN for two or more entries (one per entry), the entry's for one.  An empty set fails with TMSF_ERR_ARGUMENT.
 */
TMSF_EXPORT int tmsf_simulation_solve_set(tmsf_simulation *sim, const tmsf_coilset *set,
                                          tmsf_field **field);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_COILSET_H */
