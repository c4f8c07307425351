/*
 * SPDX-License-Identifier: BSD-3-Clause
 * context.h: the library context — errors, threads, version and build info.
 */
#ifndef TMSFIELD_CONTEXT_H
#define TMSFIELD_CONTEXT_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Library version as "MAJOR.MINOR.PATCH" (run-time; compare with TMSF_VERSION_STRING). */
TMSF_EXPORT const char *tmsf_version(void);

/**
 * How this copy of the library was built: a static string such as
 * "openmp=yes hdf5=yes nifti=yes solvers=cg".
 */
TMSF_EXPORT const char *tmsf_build_info(void);

/**
 * Create a context.  Every object is created in a context; errors raised by
 * calls on the object are recorded in it.  Use one context per thread.
 * Fails only with TMSF_ERR_MEMORY or TMSF_ERR_ARGUMENT (ctx NULL).
 */
TMSF_EXPORT int tmsf_context_create(tmsf_context **ctx);

/** Destroy a context (accepts NULL or a pointer to NULL; sets *ctx = NULL).
 * Objects created in it must be destroyed first. */
TMSF_EXPORT int tmsf_context_destroy(tmsf_context **ctx);

/**
 * Number of threads used inside calls made with this context's objects.
 * 0 (the default) means OpenMP's default (OMP_NUM_THREADS or all cores).
 * Results do not depend on the thread count beyond rounding; the FEM path is
 * bitwise reproducible for any count.  A build without OpenMP accepts any
 * value and runs serially.
 */
TMSF_EXPORT int tmsf_context_set_threads(tmsf_context *ctx, int num_threads);
TMSF_EXPORT int tmsf_context_get_threads(const tmsf_context *ctx, int *num_threads);

/**
 * The message of the last failed call made with this context (empty string
 * after a success that cleared it; never NULL for a valid context).  Input
 * errors name the file, line or record and what was expected.  The pointer
 * stays valid until the next call on the context or its objects.
 */
TMSF_EXPORT const char *tmsf_context_last_error(const tmsf_context *ctx);

/** Status of the last failed call (TMSF_SUCCESS if none since clear). */
TMSF_EXPORT int tmsf_context_last_status(const tmsf_context *ctx);

/** Source location (library file, line, function) that raised the last
 * error, for bug reports; any output pointer may be NULL. */
TMSF_EXPORT int tmsf_context_last_error_origin(const tmsf_context *ctx, const char **file,
                                               int *line, const char **function);

/** Forget the last error. */
TMSF_EXPORT int tmsf_context_clear_error(tmsf_context *ctx);

/**
 * Progress of a long step: stage names it ("mesh", "setup", "solve"; the
 * placement's stages are listed in placement.h) and fraction is the part
 * done, in [0, 1], non-decreasing within one run of a stage; 1 means the step
 * has finished.  Called on the calling thread, never from inside a parallel
 * region.  Return 0 to go on; non-zero cancels the call at this point (it
 * returns TMSF_ERR_CANCELLED, outputs unset) except at fraction 1, where the
 * return value is ignored.
 */
typedef int (*tmsf_progress_fn)(void *user, const char *stage, double fraction);

/**
 * Report the progress of long steps made with this context's objects to
 * fn(user, stage, fraction); fn NULL (the default) reports nothing.  The
 * library itself never prints: a command-line tool draws a progress bar, a
 * GUI a dialog.  Steps that report, with their stage:
 *
 *   "mesh"   tmsf_mesh_from_labels (and so tmsf_head_open on a label volume
 *            without a cached mesh): after the preparation, CGAL's refinement,
 *            the sliver perturbation and exudation, and the extraction;
 *   "setup"  tmsf_simulation_setup: after the assembly and the solver setup;
 *   "solve"  tmsf_simulation_solve (and a coil set's solve): after the primary
 *            field, the right-hand side, the linear solve and the fields.
 *
 * Each step reports fraction 0 when it starts and 1 when it ends, so a call
 * made inside another (the solves of tmsf_dose_for_target) reports too.
 * tmsf_placement_run reports through its own options instead.  user is
 * passed through unchanged and not owned.
 */
TMSF_EXPORT int tmsf_context_set_progress(tmsf_context *ctx, tmsf_progress_fn fn, void *user);

/** The progress callback and its user pointer (both NULL when none is set);
 * either output may be NULL. */
TMSF_EXPORT int tmsf_context_get_progress(const tmsf_context *ctx, tmsf_progress_fn *fn, void **user);

/**
 * Programs that may run under mpirun (the distributed "petsc" solver) call
 * this first: it initialises MPI and PETSc with the program's arguments when
 * the library was built with PETSc (finalised at exit), and does nothing
 * otherwise.  Calls that use the "petsc" solver are collective: every rank
 * makes them with the same arguments.
 */
TMSF_EXPORT int tmsf_parallel_init(int *argc, char ***argv);

/** This process's MPI rank and the number of ranks (0 and 1 without MPI or
 * before initialisation). */
TMSF_EXPORT int tmsf_parallel_rank(int *rank, int *size);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_CONTEXT_H */
