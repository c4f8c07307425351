/*
 * tmsfield — TMS electric fields by finite elements.
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * common.h: export macro, status codes, opaque handle types.
 *
 * Conventions used by every header of the public API:
 *   - Every function returns an int status (TMSF_SUCCESS == 0) and writes its
 *     results through its last arguments.  On failure the context that the
 *     object belongs to keeps a message (tmsf_context_last_error) naming the
 *     file, line or record and what was expected.
 *   - Physical quantities are SI and carry their unit in the parameter name
 *     (points_m, didt_A_per_s, sigma_S_per_m).  Mesh files are millimetres;
 *     the readers and the command-line tool convert at the edge.
 *   - Objects are created by tmsf_<object>_create/read and released by
 *     tmsf_<object>_destroy(&obj), which accepts NULL and clears the pointer.
 *   - "Borrowed" pointers returned by getters stay valid until the object is
 *     destroyed and must not be freed by the caller.
 *   - Thread safety: one context per thread.  Objects may be read by several
 *     threads at once (const functions), but calls that take a non-const
 *     handle must not run concurrently on the same handle.  Parallelism is
 *     inside calls (OpenMP), set per context with tmsf_context_set_threads.
 *   - The library never prints, aborts or exits.
 */
#ifndef TMSFIELD_COMMON_H
#define TMSFIELD_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <tmsfield/config.h>

#if defined(_WIN32) && defined(TMSF_BUILDING_LIBRARY) && !defined(TMSF_STATIC)
#define TMSF_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define TMSF_EXPORT __attribute__((visibility("default")))
#else
#define TMSF_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes and their messages come from one list, so that a code can
 * never lose its text.  X(name, value, message)
 */
#define TMSF_STATUS_LIST(X)                                                    \
  X(TMSF_SUCCESS, 0, "success")                                                \
  X(TMSF_ERR_ARGUMENT, 1, "invalid argument")                                  \
  X(TMSF_ERR_MEMORY, 2, "out of memory")                                       \
  X(TMSF_ERR_IO, 3, "cannot read or write file")                               \
  X(TMSF_ERR_FORMAT, 4, "malformed input file")                                \
  X(TMSF_ERR_MESH, 5, "invalid mesh")                                          \
  X(TMSF_ERR_POSE, 6, "invalid coil pose")                                     \
  X(TMSF_ERR_CONVERGENCE, 7, "solver did not converge")                        \
  X(TMSF_ERR_NUMERIC, 8, "numerical failure")                                  \
  X(TMSF_ERR_UNSUPPORTED, 9, "not supported by this build")                    \
  X(TMSF_ERR_NOT_FOUND, 10, "not found")                                       \
  X(TMSF_ERR_STATE, 11, "call out of order")                                   \
  X(TMSF_ERR_CONDUCTIVITY, 12, "missing or invalid conductivity")              \
  X(TMSF_ERR_LIMIT, 13, "beyond the stimulator's limit")                      \
  X(TMSF_ERR_CANCELLED, 14, "cancelled by the caller")

typedef enum tmsf_status {
#define TMSF_STATUS_ENUM_(name, value, msg) name = value,
  TMSF_STATUS_LIST(TMSF_STATUS_ENUM_)
#undef TMSF_STATUS_ENUM_
} tmsf_status;

/** Text for a status code ("unknown status" for codes not in the list). */
TMSF_EXPORT const char *tmsf_status_string(int status);

/** Opaque handles. */
typedef struct tmsf_context tmsf_context;
typedef struct tmsf_mesh tmsf_mesh;
typedef struct tmsf_coil tmsf_coil;
typedef struct tmsf_simulation tmsf_simulation;
typedef struct tmsf_field tmsf_field;
typedef struct tmsf_solver tmsf_solver;
typedef struct tmsf_region tmsf_region;
typedef struct tmsf_coilset tmsf_coilset;

/** mu0 / (4 pi) in T m / A (exact before the 2019 SI redefinition, within 1e-9 after). */
#define TMSF_CONST_MKSA_MU0_OVER_4PI 1e-7

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_COMMON_H */
