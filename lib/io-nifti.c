/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-nifti.c: A-field coils stored as NIfTI images, read with niftilib (header)
 * and its znz layer (voxel data, so that NaN and Inf are reported, not zeroed).
 *
 * Layout (SimNIBS "A-field" coil files): the magnetic vector potential per
 * ampere of coil current, in T m / A, in the coil frame, sampled on a grid
 * whose sform (or qform) maps voxel indices to coil-frame millimetres, as
 *   4-D  X x Y x Z x 3          one stimulator (SimNIBS 3 and 4), or
 *   5-D  X x Y x Z x S x 3      S stimulators (SimNIBS 4, TmsCoil.write_nifti:
 *                               numpy data[x, y, z, s, c], the per-stimulator
 *                               A-fields stacked on the 4th axis; S = 1 is
 *                               also the NIfTI vector-intent layout).
 * In file order x runs fastest, then y, z, the stimulator, and the component
 * slowest.  Stimulator s becomes grid element s driven by stimulator s; the
 * file holds no stimulator names or dI/dt limits.  The writer produces the
 * 4-D layout for one stimulator and the 5-D one for several, float32,
 * NIfTI-1, with sform and qform (code 1) in millimetres.
 */
#include <string.h>
#include <unistd.h>

#include "tmsf-impl.h"

#if TMSF_HAVE_NIFTI
#include <nifti2_io.h>

static double voxel_value(int datatype, const void *d, size_t i) {
  switch (datatype) {
  case DT_FLOAT32: return ((const float *)d)[i];
  case DT_FLOAT64: return ((const double *)d)[i];
  case DT_INT8: return ((const int8_t *)d)[i];
  case DT_UINT8: return ((const uint8_t *)d)[i];
  case DT_INT16: return ((const int16_t *)d)[i];
  case DT_UINT16: return ((const uint16_t *)d)[i];
  case DT_INT32: return ((const int32_t *)d)[i];
  case DT_UINT32: return ((const uint32_t *)d)[i];
  default: return NAN;
  }
}

/* The voxel data as stored (niftilib's loader would replace NaN and Inf by 0
 * silently, hiding a corrupt file): read through niftilib's znz layer from
 * the image file at its offset, byte-swapped to this machine's order. */
static int read_raw(tmsf_context *ctx, const char *path, const nifti_image *im, size_t bytes, void **out) {
  *out = NULL;
  znzFile fp = znzopen(im->iname, "rb", nifti_is_gzfile(im->iname));
  if (znz_isnull(fp)) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open the image data in %s", path, im->iname);
  /* the buffer grows with the data actually read (doubling from 1 MB), so
   * that a header announcing more voxels than the file holds costs no more
   * memory than the file */
  size_t cap = bytes < ((size_t)1 << 20) ? (bytes ? bytes : 1) : ((size_t)1 << 20);
  unsigned char *buf = malloc(cap);
  if (!buf) {
    znzclose(fp);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu bytes of voxel data", path, bytes);
  }
  size_t got = 0;
  /* znzseek returns fseek's 0 for plain files and gzseek's new offset for gzip */
  if (znzseek(fp, (znz_off_t)im->iname_offset, SEEK_SET) >= 0) {
    while (got < bytes) {
      if (got == cap) {
        size_t nc = cap * 2 < bytes ? cap * 2 : bytes;
        unsigned char *nb = realloc(buf, nc);
        if (!nb) {
          free(buf);
          znzclose(fp);
          return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for %zu bytes of voxel data", path, bytes);
        }
        buf = nb;
        cap = nc;
      }
      size_t want = cap - got > ((size_t)1 << 30) ? ((size_t)1 << 30) : cap - got;
      size_t n = znzread(buf + got, 1, want, fp);
      if (n == 0) break;
      got += n;
    }
  }
  znzclose(fp);
  if (got != bytes) {
    free(buf);
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: voxel data truncated: the header announces %lld voxels of %d bytes "
                      "(%zu bytes from offset %lld), the file holds %zu",
                      path, (long long)im->nvox, im->nbyper, bytes, (long long)im->iname_offset, got);
  }
  if (im->nbyper > 1 && im->byteorder != nifti_short_order())
    nifti_swap_Nbytes((int64_t)(bytes / (size_t)im->nbyper), im->nbyper, buf);
  *out = buf;
  return TMSF_SUCCESS;
}

static int supported_datatype(int dt) {
  switch (dt) {
  case DT_FLOAT32: case DT_FLOAT64: case DT_INT8: case DT_UINT8: case DT_INT16:
  case DT_UINT16: case DT_INT32: case DT_UINT32: return 1;
  default: return 0;
  }
}

static uint64_t get_le(const unsigned char *p, int n, int swap) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v |= (uint64_t)p[swap ? n - 1 - i : i] << (8 * i);
  return v;
}

/* The checks niftilib makes, with a message, before it sees the header:
 * niftilib prints its own complaints about dimensions and datatypes to
 * stderr whatever its debug level, and the library must not print. */
static int precheck_header(tmsf_context *ctx, const char *path) {
  znzFile fp = znzopen(path, "rb", nifti_is_gzfile(path));
  if (znz_isnull(fp)) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  unsigned char h[540];
  size_t got = 0;
  while (got < sizeof(h)) {
    size_t n = znzread(h + got, 1, sizeof(h) - got, fp);
    if (n == 0) break;
    got += n;
  }
  znzclose(fp);
  int version = 0, swap = 0;
  for (swap = 0; swap < 2 && !version; swap++) {
    uint64_t size = got >= 4 ? get_le(h, 4, swap) : 0;
    if (size == 348 && got >= 348) version = 1;
    if (size == 540 && got >= 540) version = 2;
  }
  swap--;
  if (!version)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: not a readable NIfTI-1/NIfTI-2 header (size field or length wrong); "
                      "expected an A-field image of X x Y x Z x 3 samples",
                      path);
  int64_t dim[8];
  int datatype;
  for (int i = 0; i < 8; i++)
    dim[i] = version == 1 ? (int16_t)get_le(h + 40 + 2 * i, 2, swap) : (int64_t)get_le(h + 16 + 8 * i, 8, swap);
  datatype = version == 1 ? (int16_t)get_le(h + 70, 2, swap) : (int16_t)get_le(h + 12, 2, swap);
  if (dim[0] < 1 || dim[0] > 7)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: dim[0] (number of dimensions) is %lld; expected 4 "
                      "(X x Y x Z x 3) or 5 (X x Y x Z x S x 3)",
                      path, (long long)dim[0]);
  for (int i = 1; i <= dim[0]; i++)
    if (dim[i] < 1)
      return TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: dim[%d] is %lld; expected a positive size",
                        path, i, (long long)dim[i]);
  if (!supported_datatype(datatype))
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: datatype code %d is not supported; expected a real scalar type "
                      "(float32 or float64)",
                      path, datatype);
  return TMSF_SUCCESS;
}

int tmsf_nifti_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  *coil = NULL;
  FILE *probe = fopen(path, "rb");
  if (!probe) return TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for reading", path);
  fclose(probe);
  nifti_set_debug_level(0); /* niftilib must not print */
  TMSF_CALL(precheck_header(ctx, path));
  nifti_image *im = nifti_image_read(path, 0);
  if (!im)
    return TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: not a readable NIfTI-1/NIfTI-2 header (niftilib rejected it); expected "
                      "an A-field image of X x Y x Z x 3 samples",
                      path);
  int ierr = TMSF_SUCCESS;
  int64_t nx = im->nx, ny = im->ny, nz = im->nz, ncomp = 0, nstim = 1;
  if (im->ndim == 4 && im->nt == 3) {
    ncomp = 3;
  } else if (im->ndim == 5 && im->nt >= 1 && im->nt <= TMSF_COIL_MAX_STIMULATORS && im->nu == 3) {
    ncomp = 3;
    nstim = im->nt;
  }
  if (ncomp != 3 || nx < 2 || ny < 2 || nz < 2) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: image dimensions %lld x %lld x %lld x %lld x %lld (ndim %lld); "
                      "expected X x Y x Z x 3, or X x Y x Z x S x 3 for S = 1..%d stimulators, "
                      "with X, Y, Z >= 2",
                      path, (long long)im->nx, (long long)im->ny, (long long)im->nz,
                      (long long)im->nt, (long long)im->nu, (long long)im->ndim,
                      TMSF_COIL_MAX_STIMULATORS);
    goto out;
  }
  if ((uint64_t)nx * (uint64_t)ny * (uint64_t)nz > ((uint64_t)1 << 31)) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT, "%s: header: grid of %lld x %lld x %lld voxels is too large (limit 2^31)",
                      path, (long long)nx, (long long)ny, (long long)nz);
    goto out;
  }
  switch (im->datatype) {
  case DT_FLOAT32: case DT_FLOAT64: case DT_INT8: case DT_UINT8: case DT_INT16:
  case DT_UINT16: case DT_INT32: case DT_UINT32: break;
  default:
    ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                      "%s: header: datatype code %d is not supported; expected a real scalar type "
                      "(float32 or float64)",
                      path, im->datatype);
    goto out;
  }
  /* grid affine: sform if set, else qform, else pixdim */
  double M[16] = {0};
  {
    const nifti_dmat44 *A = im->sform_code > 0 ? &im->sto_xyz : im->qform_code > 0 ? &im->qto_xyz : NULL;
    double scale = 1e-3; /* mm -> m */
    if (im->xyz_units == NIFTI_UNITS_METER) scale = 1.0;
    if (im->xyz_units == NIFTI_UNITS_MICRON) scale = 1e-6;
    for (int r = 0; r < 3; r++)
      for (int c = 0; c < 4; c++)
        M[4 * r + c] = scale * (A ? A->m[r][c] : (r == c ? im->pixdim[r + 1] : 0.0));
    M[15] = 1.0;
  }
  {
    const size_t nvox = (size_t)nx * (size_t)ny * (size_t)nz;
    void *raw;
    ierr = read_raw(ctx, path, im, 3 * (size_t)nstim * nvox * (size_t)im->nbyper, &raw);
    if (ierr) goto out;
    double *buf = tmsf_malloc_array(nvox * 3, sizeof(double));
    tmsf_coil *c = NULL;
    if (!buf || tmsf_coil_alloc(ctx, &c)) {
      free(raw);
      free(buf);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", path);
      goto out;
    }
    double slope = im->scl_slope != 0.0 && isfinite(im->scl_slope) ? im->scl_slope : 1.0;
    double inter = isfinite(im->scl_inter) ? im->scl_inter : 0.0;
    for (int64_t st = 0; st < nstim && !ierr; st++) {
      for (size_t comp = 0; comp < 3 && !ierr; comp++)
        for (size_t vox = 0; vox < nvox; vox++) {
          /* file order: x, y, z, stimulator, component */
          size_t i = (comp * (size_t)nstim + (size_t)st) * nvox + vox;
          double v = voxel_value(im->datatype, raw, i) * slope + inter;
          if (!isfinite(v)) {
            char which[48] = "";
            if (nstim > 1) snprintf(which, sizeof(which), " of stimulator %lld", (long long)st);
            ierr = TMSF_ERROR(ctx, TMSF_ERR_FORMAT,
                              "%s: voxel (%zu, %zu, %zu) component %zu%s is not finite; "
                              "expected finite A values in T m / A",
                              path, vox % (size_t)nx, (vox / (size_t)nx) % (size_t)ny,
                              vox / ((size_t)nx * (size_t)ny), comp, which);
            break;
          }
          buf[comp * nvox + vox] = v;
        }
      if (ierr) break;
      int64_t dims[3] = {nx, ny, nz};
      char ename[48];
      if (nstim > 1) snprintf(ename, sizeof(ename), "stimulator %lld", (long long)st);
      ierr = tmsf_coil_add_grid(c, (int)st, nstim > 1 ? ename : "grid", dims, buf, M);
      if (ierr) {
        char msg[TMSF_MSG_LEN];
        snprintf(msg, sizeof(msg), "%s", ctx->message);
        ierr = TMSF_ERROR(ctx, ierr == TMSF_ERR_MEMORY ? ierr : TMSF_ERR_FORMAT, "%s: %s", path, msg);
      }
    }
    free(buf);
    free(raw);
    if (ierr) {
      tmsf_coil_destroy(&c);
      goto out;
    }
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t len = strlen(b);
    if (len > 7 && strcmp(b + len - 7, ".nii.gz") == 0) len -= 7;
    else if (len > 4 && strcmp(b + len - 4, ".nii") == 0) len -= 4;
    c->name = malloc(len + 1);
    if (!c->name) {
      tmsf_coil_destroy(&c);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory", path);
      goto out;
    }
    memcpy(c->name, b, len);
    c->name[len] = '\0';
    char descrip[81];
    memcpy(descrip, im->descrip, 80);
    descrip[80] = '\0';
    if (descrip[0] && tmsf_coil_add_header(c, "descrip", descrip)) {
      tmsf_coil_destroy(&c);
      ierr = TMSF_ERR_MEMORY;
      goto out;
    }
    *coil = c;
  }
out:
  nifti_image_free(im);
  return ierr;
}

/* Whether path names a NIfTI file (.nii or .nii.gz); *gz set for .nii.gz. */
static int nifti_name(const char *path, int *gz) {
  size_t len = strlen(path);
  *gz = len > 7 && strcmp(path + len - 7, ".nii.gz") == 0;
  return *gz || (len > 4 && strcmp(path + len - 4, ".nii") == 0);
}

int tmsf_nifti_coil_write(const tmsf_coil *coil, const char *path, const char *descrip) {
  tmsf_context *ctx = coil->ctx;
  int gz;
  if (!nifti_name(path, &gz))
    return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "%s: expected a file name ending in .nii or .nii.gz", path);
  if (coil->num_elements < 1)
    return TMSF_ERROR(ctx, TMSF_ERR_STATE, "coil '%s' has no elements to write", coil->name ? coil->name : "");
  const tmsf_coil_element *e0 = &coil->elements[0];
  for (int i = 0; i < coil->num_elements; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    if (e->kind != TMSF_COIL_GRID)
      return TMSF_ERROR(ctx, TMSF_ERR_STATE,
                        "%s: coil '%s' element %d is not a grid; a NIfTI coil holds grids only "
                        "(tmsf_coil_to_grid samples any coil)",
                        path, coil->name ? coil->name : "", i);
    for (int k = 0; k < 3; k++)
      if (e->dims[k] != e0->dims[k] || e->origin[k] != e0->origin[k] || e->spacing[k] != e0->spacing[k])
        return TMSF_ERROR(ctx, TMSF_ERR_STATE, "%s: grid elements 0 and %d lie on different grids", path, i);
  }
  const int64_t S = coil->num_stimulators > 0 ? coil->num_stimulators : 1;
  const int64_t nx = e0->dims[0], ny = e0->dims[1], nz = e0->dims[2];
  const size_t nvox = (size_t)nx * (size_t)ny * (size_t)nz;
  int64_t dims[8] = {S > 1 ? 5 : 4, nx, ny, nz, S > 1 ? S : 3, S > 1 ? 3 : 1, 1, 1};
  nifti_set_debug_level(0);
  nifti_image *im = nifti_make_new_nim(dims, DT_FLOAT32, 1);
  if (!im) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for the NIfTI image", path);
  float *d = im->data;
  for (int i = 0; i < coil->num_elements; i++) {
    const tmsf_coil_element *e = &coil->elements[i];
    for (size_t comp = 0; comp < 3; comp++)
      for (size_t v = 0; v < nvox; v++)
        d[(comp * (size_t)S + (size_t)e->stimulator) * nvox + v] += e->grid[comp * nvox + v];
  }
  nifti_dmat44 A;
  memset(&A, 0, sizeof(A));
  for (int k = 0; k < 3; k++) {
    A.m[k][k] = e0->spacing[k] * 1e3;
    A.m[k][3] = e0->origin[k] * 1e3;
    im->pixdim[k + 1] = fabs(A.m[k][k]);
  }
  A.m[3][3] = 1.0;
  im->dx = im->pixdim[1], im->dy = im->pixdim[2], im->dz = im->pixdim[3];
  im->xyz_units = NIFTI_UNITS_MM;
  im->sform_code = NIFTI_XFORM_SCANNER_ANAT;
  im->sto_xyz = A;
  im->sto_ijk = nifti_dmat44_inverse(A);
  im->qform_code = NIFTI_XFORM_SCANNER_ANAT;
  im->qto_xyz = A;
  im->qto_ijk = im->sto_ijk;
  {
    double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    nifti_dmat44_to_quatern(A, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);
    im->quatern_b = qb, im->quatern_c = qc, im->quatern_d = qd;
    im->qoffset_x = qx, im->qoffset_y = qy, im->qoffset_z = qz;
    im->qfac = qfac;
  }
  snprintf(im->descrip, sizeof(im->descrip), "%s", descrip ? descrip : "tmsfield A-field, T m/A per ampere");
  /* a temporary name in the same directory, then rename */
  static _Atomic unsigned counter = 0;
  size_t len = strlen(path);
  char *tmp = malloc(len + 64);
  if (!tmp) {
    nifti_image_free(im);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  size_t stem = len - (gz ? 7 : 4);
  snprintf(tmp, len + 64, "%.*s.tmp%ld-%u%s", (int)stem, path, (long)getpid(), counter++, gz ? ".nii.gz" : ".nii");
  int ierr = TMSF_SUCCESS;
  /* niftilib prints when it cannot open the file: try first */
  FILE *probe = fopen(tmp, "wb");
  if (!probe) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for writing (%s)", path, tmp);
  } else {
    fclose(probe);
  }
  if (ierr) {
  } else if (nifti_set_filenames(im, tmp, 0, 1) != 0) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: niftilib rejected the file name", path);
  } else {
    im->nifti_type = NIFTI_FTYPE_NIFTI1_1;
    nifti_image_write(im);
    /* niftilib reports nothing: read the header back */
    nifti_image *chk = nifti_image_read(tmp, 0);
    int ok = chk && chk->nx == nx && chk->ny == ny && chk->nz == nz && chk->nvox == (int64_t)(nvox * 3 * (size_t)S);
    nifti_image_free(chk);
    if (ok) {
      /* the data too: the file's size must hold them (gzip: read to the end) */
      znzFile fp = znzopen(tmp, "rb", gz);
      size_t total = 0;
      if (!znz_isnull(fp)) {
        unsigned char buf[65536];
        size_t n;
        while ((n = znzread(buf, 1, sizeof(buf), fp)) > 0) total += n;
        znzclose(fp);
      }
      ok = total >= 352 + nvox * 3 * (size_t)S * sizeof(float);
    }
    if (!ok || rename(tmp, path) != 0) {
      remove(tmp);
      ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot write the NIfTI file (%s)", path,
                        ok ? "rename failed" : "no complete file was written");
    }
  }
  free(tmp);
  nifti_image_free(im);
  return ierr;
}

#else

int tmsf_nifti_coil_write(const tmsf_coil *coil, const char *path, const char *descrip) {
  (void)descrip;
  return TMSF_ERROR(coil->ctx, TMSF_ERR_UNSUPPORTED,
                    "%s: writing NIfTI coils needs a build with niftilib (Debian: libnifti2-dev)", path);
}

int tmsf_nifti_coil_read(tmsf_context *ctx, const char *path, tmsf_coil **coil) {
  *coil = NULL;
  return TMSF_ERROR(ctx, TMSF_ERR_UNSUPPORTED,
                    "%s: NIfTI coils need a build with niftilib (Debian: libnifti2-dev)", path);
}

#endif
