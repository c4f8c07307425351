/*
 * SPDX-License-Identifier: BSD-3-Clause
 * io-png.c: a PNG writer for the pictures: 8-bit RGB, no interlace, one
 * IDAT chunk compressed with zlib, a per-row filter chosen by the minimum
 * sum of absolute differences (the heuristic the PNG specification
 * recommends), chunk CRCs by zlib's crc32.
 *
 * Format: W3C Portable Network Graphics (PNG) Specification, second edition
 * (ISO/IEC 15948:2003): signature, IHDR, tEXt, IDAT, IEND; filter types 0-4
 * (None, Sub, Up, Average, Paeth) of section 9.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "output-impl.h"
#include "render-impl.h"

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* One chunk: length, type, data, CRC of type and data.  0 on success. */
static int put_chunk(FILE *f, const char type[4], const unsigned char *data, size_t len) {
  unsigned char hdr[8], crc[4];
  put_be32(hdr, (uint32_t)len);
  memcpy(hdr + 4, type, 4);
  uLong c = crc32(0L, Z_NULL, 0);
  c = crc32(c, (const Bytef *)type, 4);
  if (len) c = crc32(c, data, (uInt)len);
  put_be32(crc, (uint32_t)c);
  if (fwrite(hdr, 1, 8, f) != 8) return -1;
  if (len && fwrite(data, 1, len, f) != len) return -1;
  return fwrite(crc, 1, 4, f) == 4 ? 0 : -1;
}

static int paeth(int a, int b, int c) {
  int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/* Filter row (n bytes, bpp 3) against prev (NULL for the first row) into
 * out[0] = type, out[1..n] = filtered bytes; the type with the least sum of
 * |signed byte| wins. */
static void filter_row(const uint8_t *row, const uint8_t *prev, size_t n, unsigned char *out,
                       unsigned char *scratch) {
  const int bpp = 3;
  unsigned long best = (unsigned long)-1;
  for (int type = 0; type <= 4; type++) {
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i++) {
      int a = i >= (size_t)bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
      int c = prev && i >= (size_t)bpp ? prev[i - bpp] : 0, pred = 0;
      switch (type) {
      case 1: pred = a; break;
      case 2: pred = b; break;
      case 3: pred = (a + b) / 2; break;
      case 4: pred = paeth(a, b, c); break;
      default: pred = 0;
      }
      unsigned char v = (unsigned char)(row[i] - pred);
      scratch[i] = v;
      sum += v < 128 ? v : 256u - v;
    }
    if (sum < best) {
      best = sum;
      out[0] = (unsigned char)type;
      memcpy(out + 1, scratch, n);
    }
  }
}

int tmsf_png_write(tmsf_context *ctx, const char *path, int w, int h, const uint8_t *rgb) {
  if (!path || !*path) return TMSF_ERROR(ctx, TMSF_ERR_ARGUMENT, "empty PNG output path");
  size_t stride = (size_t)w * 3, raw_len = (size_t)h * (stride + 1);
  unsigned char *raw = malloc(raw_len), *scratch = malloc(stride);
  uLongf zlen = compressBound((uLong)raw_len);
  unsigned char *z = malloc(zlen);
  char *tmp = NULL;
  FILE *f = NULL;
  int ierr = TMSF_SUCCESS;
  if (!raw || !scratch || !z) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: out of memory for a %d x %d picture", path, w, h);
    goto out;
  }
  for (int y = 0; y < h; y++)
    filter_row(rgb + (size_t)y * stride, y ? rgb + (size_t)(y - 1) * stride : NULL, stride,
               raw + (size_t)y * (stride + 1), scratch);
  if (compress2(z, &zlen, raw, (uLong)raw_len, 9) != Z_OK) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "%s: zlib could not compress the picture", path);
    goto out;
  }
  if ((ierr = tmsf_output_temp_name(ctx, path, ".png", &tmp))) goto out;
  f = fopen(tmp, "wb");
  if (!f) {
    ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
    unlink(tmp);
    goto out;
  }
  {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char ihdr[13];
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* colour type: RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    char text[96];
    int tl = snprintf(text, sizeof(text), "Software%ctmsfield %s", 0, tmsf_version());
    int bad = fwrite(sig, 1, 8, f) != 8;
    bad = bad || put_chunk(f, "IHDR", ihdr, sizeof(ihdr));
    bad = bad || put_chunk(f, "tEXt", (const unsigned char *)text, (size_t)tl);
    bad = bad || put_chunk(f, "IDAT", z, zlen);
    bad = bad || put_chunk(f, "IEND", NULL, 0);
    bad = fclose(f) != 0 || bad;
    f = NULL;
    if (bad) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_IO, "%s: write failed (disk full?)", path);
      unlink(tmp);
      goto out;
    }
  }
  ierr = tmsf_output_commit(ctx, tmp, path);
out:
  free(raw);
  free(scratch);
  free(z);
  free(tmp);
  return ierr;
}
