/*
 * SPDX-License-Identifier: BSD-3-Clause
 * simulation.h: the FEM problem for one head — set up once, solve per pose.
 *
 * Physics (quasi-static): E = -dA/dt - grad(phi) with
 * div(sigma grad phi) = -div(sigma dA/dt) in the head and no normal current
 * through its surface.  First-order (P1) tetrahedra; the right-hand side uses
 * the element average of the nodal dA/dt; phi is fixed at one node.
 *
 *   tmsf_simulation_create(ctx, mesh, &sim);
 *   tmsf_simulation_set_solver(sim, "amg");         // optional, default "auto"
 *   tmsf_simulation_setup(sim);                      // assembly + solver setup
 *   for each pose: tmsf_simulation_solve(sim, coil, pose, didt, &field);
 */
#ifndef TMSFIELD_SIMULATION_H
#define TMSFIELD_SIMULATION_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Quantities a simulation reports (seconds are wall clock). */
typedef enum tmsf_simulation_info {
  TMSF_SIM_ASSEMBLY_SECONDS = 0,  /**< stiffness assembly (setup) */
  TMSF_SIM_SETUP_SECONDS = 1,     /**< solver setup */
  TMSF_SIM_PRIMARY_SECONDS = 2,   /**< last solve: dA/dt at the nodes */
  TMSF_SIM_RHS_SECONDS = 3,       /**< last solve: right-hand side */
  TMSF_SIM_SOLVE_SECONDS = 4,     /**< last solve: linear solve */
  TMSF_SIM_FIELD_SECONDS = 5,     /**< last solve: E per element */
  TMSF_SIM_ITERATIONS = 6,        /**< last solve: solver iterations */
  TMSF_SIM_RESIDUAL = 7,          /**< last solve: relative residual */
  TMSF_SIM_NODES_OUTSIDE_COIL_GRID = 8, /**< last solve: nodes outside a grid coil's samples */
  TMSF_SIM_MATRIX_NONZEROS = 9,   /**< nonzeros of the assembled matrix */
  TMSF_SIM_MEMORY_BYTES = 10,     /**< bytes held by the simulation (matrix, solver, buffers) */
  TMSF_SIM_ENERGY_TOLERANCE = 11, /**< the solver's energy tolerance of the field rule (0: residual rule) */
  TMSF_SIM_PRIMARY_METHOD = 12,   /**< last solve: 1 direct dipole sum, 2 tabulated (grid) */
  TMSF_SIM_PRIMARY_GRID_SECONDS = 13, /**< last solve: seconds spent tabulating the coil (0: reused) */
  TMSF_SIM_PRIMARY_GRID_ERROR = 14,   /**< last solve: the table's relative L2 error measured at
                                           2,000 nodes against the direct sum */
} tmsf_simulation_info;

/** How the primary field of a dipole coil reaches the mesh nodes. */
typedef enum tmsf_primary_method {
  TMSF_PRIMARY_AUTO = 0,   /**< grid for meshes of 50,000 nodes or more with single-precision
                                coils from the coil's second pose on (at once in a
                                solve_many batch), direct otherwise (the default) */
  TMSF_PRIMARY_DIRECT = 1, /**< the dipole sum at every node */
  TMSF_PRIMARY_GRID = 2,   /**< the coil tabulated once on graded grids in its frame (2 mm
                                near the coil, coarser with depth) and interpolated
                                (tricubic) for every pose: ~10x faster per pose at 1M
                                tetrahedra.  Each pose measures the table's error at 2,000
                                nodes against the direct sum and falls back to the direct
                                sum above 3e-5 relative L2 (Magstim 70 mm: 7.9e-6); nodes
                                the grids do not reach always get the direct sum */
} tmsf_primary_method;

/** Create a simulation on a mesh (borrowed: it must outlive the simulation). */
TMSF_EXPORT int tmsf_simulation_create(tmsf_context *ctx, const tmsf_mesh *mesh,
                                       tmsf_simulation **sim);

/** Destroy (accepts NULL; sets *sim = NULL). Fields it produced stay valid. */
TMSF_EXPORT int tmsf_simulation_destroy(tmsf_simulation **sim);

/**
 * Choose the linear solver by name (see solver.h), or "auto" (the default):
 * at setup "petsc" when running on several MPI ranks, "cholmod" for systems of
 * up to 20,000 unknowns, otherwise "amg" — or "cg" when the multigrid
 * hierarchy would not fit in the available memory.  Call before
 * tmsf_simulation_setup (calling it later discards the setup).
 */
TMSF_EXPORT int tmsf_simulation_set_solver(tmsf_simulation *sim, const char *name);

/**
 * Stopping rule in terms of the field (the default, with rel_E = 1e-4): the
 * iterative solvers stop when E is within rel_E of the fully converged FEM
 * solution in relative L2 (volume-weighted) norm.  How: the A-norm of the
 * potential error equals the sigma-weighted L2 norm of the error in E
 * exactly; the solver estimates it from the conjugate-gradient coefficients
 * (tmsf_solver_solve_energy), relative to ||E||_sigma, which follows exactly
 * from the right-hand side and the iterate; and the unweighted relative error
 * is at most sqrt(sigma_max / sigma_min) times the sigma-weighted one, a
 * worst case (all of the error in the least conducting tissue, all of the
 * field in the best conducting one) that the solver tolerance,
 * rel_E / sqrt(sigma_max / sigma_min), covers (TMSF_SIM_ENERGY_TOLERANCE
 * reports it).  Measured on the 1.1M-tetrahedron sphere: 1e-4 asked, 2e-7 to
 * 1e-6 obtained.  Solvers without this rule (direct ones, "petsc") report 0
 * and use their own: "cholmod" solves exactly, "petsc" stops at the residual
 * tolerance (tmsf_simulation_set_tolerance, default 1e-10).
 */
TMSF_EXPORT int tmsf_simulation_set_field_tolerance(tmsf_simulation *sim, double rel_E);

/** The residual rule instead: ||b - K phi|| <= rtol ||b|| (the reference
 * tool's rule, with its rtol 1e-10).  The last of the two setters wins. */
TMSF_EXPORT int tmsf_simulation_set_tolerance(tmsf_simulation *sim, double rtol);

/** Choose how the primary field of dipole coils is evaluated (default AUTO). */
TMSF_EXPORT int tmsf_simulation_set_primary_method(tmsf_simulation *sim, tmsf_primary_method method);

/** The solver in use after setup (what "auto" chose), or the one requested
 * before setup.  Borrowed string. */
TMSF_EXPORT int tmsf_simulation_get_solver(const tmsf_simulation *sim, const char **name);

/**
 * Assemble the stiffness matrix with the mesh's current conductivities and
 * set up the solver.  Every tetrahedron tag needs a conductivity (defaults or
 * tmsf_mesh_set_conductivity); a missing one fails with TMSF_ERR_CONDUCTIVITY
 * naming the tag and its element count.  Calling it again re-reads the
 * conductivities.  Deterministic: the matrix is bitwise the same for any
 * thread count.
 */
TMSF_EXPORT int tmsf_simulation_setup(tmsf_simulation *sim);

/**
 * Field of one coil pose.  head_from_coil_m is checked (tmsf_pose_check);
 * didt_A_per_s is the rate of change of the coil current.  The previous
 * solution of this simulation is the initial guess (scaled to the new dI/dt),
 * so nearby poses converge faster.  *field is a new object owned by the
 * caller.
 */
TMSF_EXPORT int tmsf_simulation_solve(tmsf_simulation *sim, const tmsf_coil *coil,
                                      const double head_from_coil_m[16], double didt_A_per_s,
                                      tmsf_field **field);

/**
 * Fields of several poses at once: the right-hand sides are solved together
 * (one block solve: a factorisation is applied to all at once, iterative
 * solvers share each pass over the matrix).  head_from_coil_m holds 16 values
 * per pose, didt_A_per_s one per pose; fields receives num_poses new objects
 * (all NULL on failure).  Each starts from the projection on the last solutions
 * of this simulation, like tmsf_simulation_solve.
 */
TMSF_EXPORT int tmsf_simulation_solve_many(tmsf_simulation *sim, const tmsf_coil *coil,
                                           int num_poses, const double *head_from_coil_m,
                                           const double *didt_A_per_s, tmsf_field **fields);

/**
 * The assembled system, for programs that bring their own solver or compare
 * solvers: the n x n stiffness matrix in CSR form (borrowed; valid until the
 * next setup or destroy) in the solver's numbering, in which unknown i is mesh
 * node mesh_node[i] (tmsf_simulation_get_node_order).  The grounded unknown's
 * row and column hold only the diagonal, and its right-hand side entry is 0.
 */
TMSF_EXPORT int tmsf_simulation_get_matrix(const tmsf_simulation *sim, int64_t *n,
                                           const int64_t **row_ptr, const int32_t **cols,
                                           const double **vals);
TMSF_EXPORT int tmsf_simulation_get_node_order(const tmsf_simulation *sim,
                                               const int32_t **mesh_node);

/** Right-hand side of one pose in the solver's numbering: n values in A,
 * b_i = -sum_e sigma_e V_e a_e . grad N_i (a_e: element mean of dA/dt). */
TMSF_EXPORT int tmsf_simulation_rhs(tmsf_simulation *sim, const tmsf_coil *coil,
                                    const double head_from_coil_m[16], double didt_A_per_s,
                                    double *b);

/** The field of one pose from a potential phi (V, solver numbering) computed
 * elsewhere, e.g. by an external solver of tmsf_simulation_get_matrix.  The
 * primary field computed by a preceding tmsf_simulation_rhs for the same coil,
 * pose and dI/dt is reused. */
TMSF_EXPORT int tmsf_simulation_field_from_potential(tmsf_simulation *sim, const tmsf_coil *coil,
                                                     const double head_from_coil_m[16],
                                                     double didt_A_per_s, const double *phi,
                                                     tmsf_field **field);

/** Read a reported quantity (see tmsf_simulation_info). */
TMSF_EXPORT int tmsf_simulation_get_info(const tmsf_simulation *sim, tmsf_simulation_info what,
                                         double *value);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_SIMULATION_H */
