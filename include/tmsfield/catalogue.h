/*
 * SPDX-License-Identifier: BSD-3-Clause
 * catalogue.h: coils found by name — the coil models the project ships
 * (data/coils, among them the 25 measured models of Drakaki et al., Brain
 * Stimulation 2022), the directories of the environment variable
 * TMSF_COIL_PATH and directories added by the caller.
 *
 * Coil files are *.ccd, *.tcd, *.nii and *.nii.gz (case-insensitive), in a
 * directory and its subdirectories (up to 4 levels).  A .ccd file is only
 * scanned: its header line (brand, stimulator, coilname, dIdtmax) and its
 * dipole count line are read, the dipole rows are checked when the coil is
 * opened.  Other formats are read in full with tmsf_coil_read.  Files that do
 * not scan or load are left out and recorded with the reason
 * (tmsf_catalogue_get_skipped).
 *
 * Names: a coil's name is its file name without the extension
 * ("MagVenture_MC-B70"); the header's coilname ("MC-B70") finds it too.
 * Lookup (tmsf_catalogue_find) tries, in this order, the file name with its
 * extension, the name, the coilname, then name and coilname with '-', '_'
 * and ' ' taken as equal, always ignoring case.  When several coils match at
 * the same step the one from the earliest source wins: directories added with
 * tmsf_catalogue_add_directory (in the order added), then TMSF_COIL_PATH (in
 * its order), then the shipped data; within one source .ccd is preferred to
 * .tcd and .tcd to NIfTI (a grid only interpolates the field); two matches
 * of the same format from the same source are an error naming both.
 *
 * The shipped data are found in the directory of the environment variable
 * TMSF_DATA_DIR when set, else in the installation's data directory
 * (<prefix>/share/tmsfield) when it exists, else in the data/ directory of
 * the source tree the library was built from (so that an uninstalled build
 * finds them; tmsf_get_data_dir).
 */
#ifndef TMSFIELD_CATALOGUE_H
#define TMSFIELD_CATALOGUE_H

#include <tmsfield/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque coil catalogue. */
typedef struct tmsf_catalogue tmsf_catalogue;

/** One catalogue entry (tmsf_catalogue_get_coil_info).  Strings are borrowed
 * from the catalogue, never NULL ("" when the file does not say). */
typedef struct tmsf_coil_info {
  const char *name;         /**< file name without extension, e.g. "MagVenture_MC-B70" */
  const char *coilname;     /**< header key coilname (or the coil's name for .tcd/.nii) */
  const char *brand;        /**< header key brand, e.g. "MagVenture" */
  const char *stimulator;   /**< header key stimulator, e.g. "MagPro X100" */
  double didt_max_A_per_s;  /**< dI/dt at 100 % MSO on that stimulator, A/s; NAN if unknown */
  int64_t num_elements;     /**< dipoles and line segments (.ccd: header line 2); 0 for grid coils */
  const char *path;         /**< the file */
  const char *format;       /**< "ccd", "tcd" or "nifti" */
  const char *source;       /**< "directory", "TMSF_COIL_PATH" or "data" */
  const char *waveform_path; /**< measured pulse waveform beside the coil file (same name,
                                  .tsv, case-insensitive; waveform.h), "" when none */
} tmsf_coil_info;

/** The directory of the shipped data: $TMSF_DATA_DIR if set and not empty,
 * else the installation's (compiled in) if it exists, else the build's source
 * tree data/ if that exists, else the installation's.  Borrowed. */
TMSF_EXPORT int tmsf_get_data_dir(const char **dir);

/**
 * A catalogue of the shipped coils (<data dir>/coils) and of the directories
 * in TMSF_COIL_PATH (colon-separated; missing directories are recorded as
 * skipped).  A missing data directory is not an error: the catalogue is then
 * smaller (and records the missing directory as skipped).
 */
TMSF_EXPORT int tmsf_catalogue_create(tmsf_context *ctx, tmsf_catalogue **catalogue);

/** An empty catalogue (no shipped data, no TMSF_COIL_PATH). */
TMSF_EXPORT int tmsf_catalogue_create_empty(tmsf_context *ctx, tmsf_catalogue **catalogue);

/** Destroy a catalogue (accepts NULL; sets *catalogue = NULL). */
TMSF_EXPORT int tmsf_catalogue_destroy(tmsf_catalogue **catalogue);

/**
 * Add the coils of a directory (and its subdirectories).  They take
 * precedence over TMSF_COIL_PATH and the shipped data.  A directory that
 * cannot be opened is an error (TMSF_ERR_IO).  Entry indices and info
 * pointers obtained before this call are invalid after it.
 */
TMSF_EXPORT int tmsf_catalogue_add_directory(tmsf_catalogue *catalogue, const char *directory);

/** Number of coils. */
TMSF_EXPORT int tmsf_catalogue_get_num_coils(const tmsf_catalogue *catalogue, int *num_coils);

/** Entry index (0 .. num_coils - 1), in precedence order (see above), then
 * by directory and file name. */
TMSF_EXPORT int tmsf_catalogue_get_coil_info(const tmsf_catalogue *catalogue, int index,
                                             tmsf_coil_info *info);

/**
 * Index of the coil with this name (rules above).  TMSF_ERR_NOT_FOUND with a
 * message naming up to 5 near matches (edit distance, or names containing
 * the text) when there is none; TMSF_ERR_ARGUMENT when the name is ambiguous.
 */
TMSF_EXPORT int tmsf_catalogue_find(const tmsf_catalogue *catalogue, const char *name, int *index);

/** Read the coil of an entry (tmsf_coil_read; the dI/dt max is the file's). */
TMSF_EXPORT int tmsf_catalogue_open_coil(const tmsf_catalogue *catalogue, int index,
                                         tmsf_coil **coil);

/** Files left out, each with the reason (borrowed strings). */
TMSF_EXPORT int tmsf_catalogue_get_num_skipped(const tmsf_catalogue *catalogue, int *num_skipped);
TMSF_EXPORT int tmsf_catalogue_get_skipped(const tmsf_catalogue *catalogue, int index,
                                           const char **path, const char **reason);

/**
 * Open a coil by file or by name: when name_or_path is an existing file it is
 * read (tmsf_coil_read), otherwise it is looked up in a catalogue built by
 * tmsf_catalogue_create.  Errors name near matches.  Each call scans the
 * catalogue's headers anew (about 0.1 s for the shipped set); for many
 * lookups keep one catalogue and use tmsf_catalogue_find / _open_coil.
 */
TMSF_EXPORT int tmsf_coil_open(tmsf_context *ctx, const char *name_or_path, tmsf_coil **coil);

#ifdef __cplusplus
}
#endif
#endif /* TMSFIELD_CATALOGUE_H */
