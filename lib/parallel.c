/*
 * SPDX-License-Identifier: BSD-3-Clause
 * parallel.c: MPI start-up and rank queries for programs that run the
 * distributed solver under mpirun; without PETSc a single process.
 */
#include "tmsf-impl.h"

#if TMSF_HAVE_PETSC
#include <mpi.h>
#endif

int tmsf_parallel_init(int *argc, char ***argv) {
#if TMSF_HAVE_PETSC
  return tmsf_petsc_ensure_initialized(argc, argv);
#else
  (void)argc;
  (void)argv;
  return TMSF_SUCCESS;
#endif
}

int tmsf_parallel_rank(int *rank, int *size) {
  if (rank) *rank = 0;
  if (size) *size = 1;
#if TMSF_HAVE_PETSC
  int init = 0;
  MPI_Initialized(&init);
  if (init) {
    if (rank) MPI_Comm_rank(MPI_COMM_WORLD, rank);
    if (size) MPI_Comm_size(MPI_COMM_WORLD, size);
  }
#endif
  return TMSF_SUCCESS;
}
