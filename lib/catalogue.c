/*
 * SPDX-License-Identifier: BSD-3-Clause
 * catalogue.c: coils found by name in the shipped data, TMSF_COIL_PATH and
 * directories added by the caller (include/tmsfield/catalogue.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tmsf-impl.h"

#ifndef TMSF_DATA_DIR_INSTALLED
#define TMSF_DATA_DIR_INSTALLED "/usr/local/share/tmsfield"
#endif

#define MAX_DEPTH 4          /* subdirectory levels scanned below a directory */
#define CCD_HEAD_BYTES 65536 /* a .ccd header and count line must fit in this */
#define NEAR_MAX 5

enum { RANK_DIRECTORY = 0, RANK_ENV = 1, RANK_DATA = 2 };
static const char *const rank_names[] = {"directory", "TMSF_COIL_PATH", "data"};

typedef struct entry {
  char *name, *coilname, *brand, *stimulator, *path, *waveform;
  const char *format;
  double didt_max; /* A/s, NAN when unknown */
  int64_t num_elements;
  int rank;
  int64_t seq;
  dev_t dev;
  ino_t ino;
} entry;

typedef struct skipped {
  char *path, *reason;
} skipped;

struct tmsf_catalogue {
  tmsf_context *ctx;
  tmsf_context *scan_ctx; /* for tmsf_coil_read of scanned files: keeps ctx's error clean */
  int n, cap;
  entry *e;
  int ns, scap;
  skipped *s;
  int64_t seq;
};

int tmsf_get_data_dir(const char **dir) {
  if (!dir) return TMSF_ERR_ARGUMENT;
  const char *env = getenv("TMSF_DATA_DIR");
  struct stat st;
  if (env && env[0])
    *dir = env;
  else if (stat(TMSF_DATA_DIR_INSTALLED, &st) == 0 && S_ISDIR(st.st_mode))
    *dir = TMSF_DATA_DIR_INSTALLED;
  else if (stat(TMSF_DATA_DIR_SOURCE, &st) == 0 && S_ISDIR(st.st_mode))
    *dir = TMSF_DATA_DIR_SOURCE; /* an uninstalled build */
  else
    *dir = TMSF_DATA_DIR_INSTALLED;
  return TMSF_SUCCESS;
}

static void entry_free(entry *e) {
  free(e->name);
  free(e->coilname);
  free(e->brand);
  free(e->stimulator);
  free(e->path);
  free(e->waveform);
}

int tmsf_catalogue_destroy(tmsf_catalogue **catalogue) {
  if (!catalogue || !*catalogue) return TMSF_SUCCESS;
  tmsf_catalogue *c = *catalogue;
  for (int i = 0; i < c->n; i++) entry_free(&c->e[i]);
  for (int i = 0; i < c->ns; i++) {
    free(c->s[i].path);
    free(c->s[i].reason);
  }
  free(c->e);
  free(c->s);
  tmsf_context_destroy(&c->scan_ctx);
  free(c);
  *catalogue = NULL;
  return TMSF_SUCCESS;
}

int tmsf_catalogue_create_empty(tmsf_context *ctx, tmsf_catalogue **catalogue) {
  if (!ctx || !catalogue) return TMSF_ERR_ARGUMENT;
  *catalogue = calloc(1, sizeof(**catalogue));
  if (!*catalogue) return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  (*catalogue)->ctx = ctx;
  if (tmsf_context_create(&(*catalogue)->scan_ctx)) {
    tmsf_catalogue_destroy(catalogue);
    return TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  tmsf_context_set_threads((*catalogue)->scan_ctx, 1);
  return TMSF_SUCCESS;
}

/* Record a file left out; only out-of-memory is an error. */
static int add_skipped(tmsf_catalogue *c, const char *path, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int add_skipped(tmsf_catalogue *c, const char *path, const char *fmt, ...) {
  char reason[TMSF_MSG_LEN];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof(reason), fmt, ap);
  va_end(ap);
  if (c->ns == c->scap) {
    int nc = c->scap ? 2 * c->scap : 8;
    skipped *ns = realloc(c->s, (size_t)nc * sizeof(*ns));
    if (!ns) return TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
    c->s = ns;
    c->scap = nc;
  }
  skipped *s = &c->s[c->ns];
  s->path = tmsf_strdup(path);
  s->reason = tmsf_strdup(reason);
  if (!s->path || !s->reason) {
    free(s->path), free(s->reason);
    return TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  c->ns++;
  return TMSF_SUCCESS;
}

/* Coil format from the file name (case-insensitive), NULL when not a coil file;
 * *ext_len receives the extension's length. */
static const char *coil_format(const char *name, size_t *ext_len) {
  static const struct {
    const char *ext, *format;
  } exts[] = {{".nii.gz", "nifti"}, {".ccd", "ccd"}, {".tcd", "tcd"}, {".nii", "nifti"}};
  size_t len = strlen(name);
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
    size_t el = strlen(exts[i].ext);
    if (len > el && strcasecmp(name + len - el, exts[i].ext) == 0) {
      *ext_len = el;
      return exts[i].format;
    }
  }
  return NULL;
}

static char *dup_range(const char *s, const char *e) {
  while (s < e && isspace((unsigned char)*s)) s++;
  while (e > s && isspace((unsigned char)e[-1])) e--;
  char *d = malloc((size_t)(e - s) + 1);
  if (!d) return NULL;
  memcpy(d, s, (size_t)(e - s));
  d[e - s] = '\0';
  return d;
}

/* Scan the header and count line of a .ccd file into en (same rules as
 * io-ccd.c).  TMSF_ERR_FORMAT: skip, with the reason in reason. */
static int scan_ccd(const char *path, entry *en, char *reason, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(reason, cap, "%s: cannot open: %s", path, strerror(errno));
    return TMSF_ERR_FORMAT;
  }
  char *buf = malloc(CCD_HEAD_BYTES + 1);
  if (!buf) {
    fclose(f);
    return TMSF_ERR_MEMORY;
  }
  size_t n = fread(buf, 1, CCD_HEAD_BYTES, f);
  int read_error = ferror(f);
  fclose(f);
  int ierr = TMSF_ERR_FORMAT;
  if (read_error) {
    snprintf(reason, cap, "%s: read error", path);
    goto done;
  }
  buf[n] = '\0';
  if (memchr(buf, '\0', n)) {
    snprintf(reason, cap, "%s: contains NUL bytes; expected a .ccd text file", path);
    goto done;
  }
  const char *end = buf + n, *s = buf;
  const char *nl = memchr(s, '\n', n);
  if (!nl && n == CCD_HEAD_BYTES) {
    snprintf(reason, cap, "%s:1: header line longer than %d bytes", path, CCD_HEAD_BYTES);
    goto done;
  }
  const char *e = nl ? nl : end;
  if (e > s && e[-1] == '\r') e--;
  if (s == e || *s != '#') {
    snprintf(reason, cap, "%s:1: expected a header line starting with '#'", path);
    goto done;
  }
  /* key=value fields after the first ';' */
  const char *q = memchr(s, ';', (size_t)(e - s));
  while (q && q < e) {
    const char *f0 = q + 1;
    const char *semi = memchr(f0, ';', (size_t)(e - f0));
    const char *fe = semi ? semi : e;
    const char *eq = memchr(f0, '=', (size_t)(fe - f0));
    if (eq) {
      char *k = dup_range(f0, eq), *v = dup_range(eq + 1, fe);
      if (!k || !v) {
        free(k), free(v);
        ierr = TMSF_ERR_MEMORY;
        goto done;
      }
      char **slot = NULL;
      if (strcmp(k, "brand") == 0) slot = &en->brand;
      if (strcmp(k, "stimulator") == 0) slot = &en->stimulator;
      if (strcmp(k, "coilname") == 0) slot = &en->coilname;
      if (strcmp(k, "dIdtmax") == 0) {
        char *endp;
        double x = strtod(v, &endp);
        if (endp == v || !isfinite(x) || !(x > 0.0)) {
          snprintf(reason, cap, "%s:1: dIdtmax='%.40s'; expected a positive number in A/us", path, v);
          free(k), free(v);
          goto done;
        }
        en->didt_max = x * 1e6; /* A/us -> A/s */
      }
      if (slot && v[0]) {
        free(*slot);
        *slot = v;
        v = NULL;
      }
      free(k), free(v);
    } else if (f0 < fe) {
      const char *a = f0;
      while (a < fe && isspace((unsigned char)*a)) a++;
      if (a < fe) {
        snprintf(reason, cap, "%s:1: header field '%.*s' has no '='; expected key=value", path,
                 (int)(fe - a < 40 ? fe - a : 40), a);
        goto done;
      }
    }
    q = semi;
  }
  /* Count line: the first line after the header that is neither blank nor a comment. */
  long long line = 1;
  const char *p = nl ? nl + 1 : end;
  while (p < end) {
    const char *ls = p, *ln = memchr(p, '\n', (size_t)(end - p));
    if (!ln && n == CCD_HEAD_BYTES) break; /* cut by the read limit */
    const char *le = ln ? ln : end;
    p = ln ? ln + 1 : end;
    line++;
    while (ls < le && isspace((unsigned char)*ls)) ls++;
    if (ls == le || *ls == '#') continue;
    char *tok = dup_range(ls, le);
    if (!tok) {
      ierr = TMSF_ERR_MEMORY;
      goto done;
    }
    char *endp;
    double x = strtod(tok, &endp);
    while (*endp && isspace((unsigned char)*endp)) endp++;
    if (endp == tok || *endp != '\0' || x != floor(x) || x < 1 || x > 1e8) {
      snprintf(reason, cap,
               "%s:%lld: expected the number of dipoles (a positive integer), found '%.40s'", path,
               line, tok);
      free(tok);
      goto done;
    }
    free(tok);
    en->num_elements = (int64_t)x;
    ierr = TMSF_SUCCESS;
    goto done;
  }
  snprintf(reason, cap, "%s:%lld: no dipole count line after the header%s", path, line,
           n == CCD_HEAD_BYTES ? " within the first 64 KiB" : "");
done:
  free(buf);
  return ierr;
}

/* Fill en from a fully read coil (.tcd, NIfTI). */
static int scan_read(tmsf_catalogue *c, const char *path, entry *en, char *reason, size_t cap) {
  tmsf_coil *coil = NULL;
  tmsf_context_clear_error(c->scan_ctx);
  int ierr = tmsf_coil_read(c->scan_ctx, path, &coil);
  if (ierr == TMSF_ERR_MEMORY) return TMSF_ERR_MEMORY;
  if (ierr) {
    const char *m = tmsf_context_last_error(c->scan_ctx);
    snprintf(reason, cap, "%s", m && m[0] ? m : tmsf_status_string(ierr));
    return TMSF_ERR_FORMAT;
  }
  const char *v = NULL;
  int oom = 0;
  if (tmsf_coil_get_header(coil, "brand", &v) == TMSF_SUCCESS && v[0] && !(en->brand = tmsf_strdup(v)))
    oom = 1;
  if (tmsf_coil_get_header(coil, "stimulator", &v) == TMSF_SUCCESS && v[0] &&
      !(en->stimulator = tmsf_strdup(v)))
    oom = 1;
  /* .tcd files name their stimulator and brand in the stimulator list */
  const char *sname = NULL, *sbrand = NULL;
  double sdidt;
  if (tmsf_coil_get_stimulator(coil, 0, &sname, &sbrand, &sdidt) == TMSF_SUCCESS) {
    if (!en->stimulator && sname && sname[0] && !(en->stimulator = tmsf_strdup(sname))) oom = 1;
  }
  if (tmsf_coil_get_name(coil, &v) == TMSF_SUCCESS && v && !(en->coilname = tmsf_strdup(v))) oom = 1;
  double d;
  if (tmsf_coil_get_didt_max(coil, &d) == TMSF_SUCCESS) en->didt_max = d;
  /* dipoles and line segments over all elements (grids count 0) */
  int ne = 0;
  tmsf_coil_get_num_elements(coil, &ne);
  int64_t count = 0;
  for (int k = 0; k < ne; k++) {
    tmsf_coil_kind kind;
    int64_t m = 0;
    if (tmsf_coil_get_element(coil, k, &kind, NULL, &m, NULL) == TMSF_SUCCESS && kind != TMSF_COIL_GRID)
      count += m;
  }
  en->num_elements = count;
  tmsf_coil_destroy(&coil);
  return oom ? TMSF_ERR_MEMORY : TMSF_SUCCESS;
}

/* The measured pulse waveform beside a coil file: "<name>.tsv" in the same
 * directory, case-insensitive (Drakaki's MagStim_D70.ccd has Magstim_D70.tsv). */
static char *find_waveform(const char *path, const char *file, size_t ext_len, char *const *names,
                           size_t num_names) {
  size_t stem = strlen(file) - ext_len;
  for (size_t i = 0; i < num_names; i++) {
    if (strlen(names[i]) == stem + 4 && strncasecmp(names[i], file, stem) == 0 &&
        strcasecmp(names[i] + stem, ".tsv") == 0) {
      size_t dir = strlen(path) - strlen(file);
      char *w = malloc(dir + strlen(names[i]) + 1);
      if (w) {
        memcpy(w, path, dir);
        strcpy(w + dir, names[i]);
      }
      return w;
    }
  }
  return tmsf_strdup("");
}

static int add_file(tmsf_catalogue *c, const char *path, const char *file, const struct stat *st,
                    int rank, char *const *names, size_t num_names) {
  size_t ext_len = 0;
  const char *format = coil_format(file, &ext_len);
  if (!format) return TMSF_SUCCESS;
  /* The same file found again (a directory given twice): keep one entry, with
   * the earlier source. */
  for (int i = 0; i < c->n; i++) {
    if (c->e[i].dev == st->st_dev && c->e[i].ino == st->st_ino) {
      if (rank < c->e[i].rank) c->e[i].rank = rank;
      return TMSF_SUCCESS;
    }
  }
  entry en;
  memset(&en, 0, sizeof(en));
  en.didt_max = NAN;
  en.format = format;
  en.rank = rank;
  en.dev = st->st_dev;
  en.ino = st->st_ino;
  char reason[TMSF_MSG_LEN];
  reason[0] = '\0';
  int ierr = strcmp(format, "ccd") == 0 ? scan_ccd(path, &en, reason, sizeof(reason))
                                        : scan_read(c, path, &en, reason, sizeof(reason));
  if (ierr == TMSF_ERR_FORMAT) {
    entry_free(&en);
    return add_skipped(c, path, "%s", reason);
  }
  if (ierr) {
    entry_free(&en);
    return TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  en.path = tmsf_strdup(path);
  en.name = dup_range(file, file + strlen(file) - ext_len);
  if (!en.coilname) en.coilname = tmsf_strdup("");
  if (!en.brand) en.brand = tmsf_strdup("");
  if (!en.stimulator) en.stimulator = tmsf_strdup("");
  en.waveform = find_waveform(path, file, ext_len, names, num_names);
  if (!en.path || !en.name || !en.coilname || !en.brand || !en.stimulator || !en.waveform) {
    entry_free(&en);
    return TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
  }
  if (c->n == c->cap) {
    int nc = c->cap ? 2 * c->cap : 32;
    entry *ne = realloc(c->e, (size_t)nc * sizeof(*ne));
    if (!ne) {
      entry_free(&en);
      return TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
    }
    c->e = ne;
    c->cap = nc;
  }
  en.seq = c->seq++;
  c->e[c->n++] = en;
  return TMSF_SUCCESS;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scan a directory's files and subdirectories in name order.  *opened = 0
 * when the directory itself cannot be opened (errno kept in *err). */
static int scan_dir(tmsf_catalogue *c, const char *dir, int rank, int depth, int *opened, int *err) {
  *opened = 0;
  DIR *d = opendir(dir);
  if (!d) {
    *err = errno;
    return TMSF_SUCCESS;
  }
  *opened = 1;
  char **names = NULL;
  size_t n = 0, cap = 0;
  int ierr = TMSF_SUCCESS;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue; /* ".", "..", hidden files */
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 64;
      char **nn = realloc(names, nc * sizeof(*nn));
      if (!nn) {
        ierr = TMSF_ERR_MEMORY;
        break;
      }
      names = nn;
      cap = nc;
    }
    if (!(names[n] = tmsf_strdup(de->d_name))) {
      ierr = TMSF_ERR_MEMORY;
      break;
    }
    n++;
  }
  closedir(d);
  if (ierr) {
    ierr = TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
    goto done;
  }
  if (n > 1) qsort(names, n, sizeof(*names), cmp_str);
  for (size_t i = 0; i < n && !ierr; i++) {
    size_t len = strlen(dir) + strlen(names[i]) + 2;
    char *path = malloc(len);
    if (!path) {
      ierr = TMSF_ERROR(c->ctx, TMSF_ERR_MEMORY, "out of memory");
      break;
    }
    size_t dl = strlen(dir);
    snprintf(path, len, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", names[i]);
    struct stat st;
    if (stat(path, &st) != 0) {
      size_t el;
      if (coil_format(names[i], &el)) ierr = add_skipped(c, path, "%s: %s", path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
      if (depth < MAX_DEPTH) {
        int sub_opened, sub_err = 0;
        ierr = scan_dir(c, path, rank, depth + 1, &sub_opened, &sub_err);
        if (!ierr && !sub_opened)
          ierr = add_skipped(c, path, "%s: cannot open directory: %s", path, strerror(sub_err));
      }
    } else if (S_ISREG(st.st_mode)) {
      ierr = add_file(c, path, names[i], &st, rank, names, n);
    }
    free(path);
  }
done:
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return ierr;
}

static int cmp_entry(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_entries(tmsf_catalogue *c) {
  if (c->n > 1) qsort(c->e, (size_t)c->n, sizeof(*c->e), cmp_entry);
}

int tmsf_catalogue_add_directory(tmsf_catalogue *catalogue, const char *directory) {
  if (!catalogue) return TMSF_ERR_ARGUMENT;
  if (!directory || !directory[0])
    return TMSF_ERROR(catalogue->ctx, TMSF_ERR_ARGUMENT, "tmsf_catalogue_add_directory: no directory");
  int opened, err = 0;
  int ierr = scan_dir(catalogue, directory, RANK_DIRECTORY, 0, &opened, &err);
  sort_entries(catalogue);
  if (ierr) return ierr;
  if (!opened)
    return TMSF_ERROR(catalogue->ctx, TMSF_ERR_IO, "%s: cannot open coil directory: %s", directory,
                      strerror(err));
  return TMSF_SUCCESS;
}

int tmsf_catalogue_create(tmsf_context *ctx, tmsf_catalogue **catalogue) {
  if (!ctx || !catalogue) return TMSF_ERR_ARGUMENT;
  TMSF_CALL(tmsf_catalogue_create_empty(ctx, catalogue));
  tmsf_catalogue *c = *catalogue;
  int ierr = TMSF_SUCCESS, opened, err = 0;
  const char *env = getenv("TMSF_COIL_PATH");
  if (env) {
    const char *p = env;
    while (!ierr) {
      const char *colon = strchr(p, ':');
      size_t len = colon ? (size_t)(colon - p) : strlen(p);
      if (len > 0) {
        char *dir = malloc(len + 1);
        if (!dir) {
          ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
          break;
        }
        memcpy(dir, p, len);
        dir[len] = '\0';
        ierr = scan_dir(c, dir, RANK_ENV, 0, &opened, &err);
        if (!ierr && !opened)
          ierr = add_skipped(c, dir, "%s (TMSF_COIL_PATH): cannot open directory: %s", dir,
                             strerror(err));
        free(dir);
      }
      if (!colon) break;
      p = colon + 1;
    }
  }
  if (!ierr) {
    const char *data;
    tmsf_get_data_dir(&data);
    size_t len = strlen(data) + sizeof("/coils");
    char *dir = malloc(len);
    if (!dir) {
      ierr = TMSF_ERROR(ctx, TMSF_ERR_MEMORY, "out of memory");
    } else {
      snprintf(dir, len, "%s/coils", data);
      ierr = scan_dir(c, dir, RANK_DATA, 0, &opened, &err);
      if (!ierr && !opened)
        ierr = add_skipped(c, dir, "%s (shipped coils; TMSF_DATA_DIR): cannot open directory: %s",
                           dir, strerror(err));
      free(dir);
    }
  }
  if (ierr) {
    tmsf_catalogue_destroy(catalogue);
    return ierr;
  }
  sort_entries(c);
  return TMSF_SUCCESS;
}

int tmsf_catalogue_get_num_coils(const tmsf_catalogue *catalogue, int *num_coils) {
  if (!catalogue || !num_coils) return TMSF_ERR_ARGUMENT;
  *num_coils = catalogue->n;
  return TMSF_SUCCESS;
}

int tmsf_catalogue_get_coil_info(const tmsf_catalogue *catalogue, int index, tmsf_coil_info *info) {
  if (!catalogue || !info) return TMSF_ERR_ARGUMENT;
  if (index < 0 || index >= catalogue->n)
    return TMSF_ERROR(catalogue->ctx, TMSF_ERR_ARGUMENT, "coil index %d; the catalogue has %d coils",
                      index, catalogue->n);
  const entry *e = &catalogue->e[index];
  info->name = e->name;
  info->coilname = e->coilname;
  info->brand = e->brand;
  info->stimulator = e->stimulator;
  info->didt_max_A_per_s = e->didt_max;
  info->num_elements = e->num_elements;
  info->path = e->path;
  info->format = e->format;
  info->source = rank_names[e->rank];
  info->waveform_path = e->waveform;
  return TMSF_SUCCESS;
}

int tmsf_catalogue_get_num_skipped(const tmsf_catalogue *catalogue, int *num_skipped) {
  if (!catalogue || !num_skipped) return TMSF_ERR_ARGUMENT;
  *num_skipped = catalogue->ns;
  return TMSF_SUCCESS;
}

int tmsf_catalogue_get_skipped(const tmsf_catalogue *catalogue, int index, const char **path,
                               const char **reason) {
  if (!catalogue) return TMSF_ERR_ARGUMENT;
  if (index < 0 || index >= catalogue->ns)
    return TMSF_ERROR(catalogue->ctx, TMSF_ERR_ARGUMENT,
                      "skipped-file index %d; the catalogue skipped %d files", index, catalogue->ns);
  if (path) *path = catalogue->s[index].path;
  if (reason) *reason = catalogue->s[index].reason;
  return TMSF_SUCCESS;
}

/* ------------------------------------------------------------------------- */
/* Lookup                                                                    */
/* ------------------------------------------------------------------------- */

static const char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

/* Preference among files of one name and source: dipoles and line segments
 * are exact, a grid is an interpolation. */
static int format_rank(const char *format) {
  return strcmp(format, "ccd") == 0 ? 0 : strcmp(format, "tcd") == 0 ? 1 : 2;
}

static int fold(int ch, int loose) {
  ch = tolower((unsigned char)ch);
  if (loose && (ch == '-' || ch == ' ')) ch = '_';
  return ch;
}

static int same_name(const char *a, const char *b, int loose) {
  for (; *a && *b; a++, b++)
    if (fold(*a, loose) != fold(*b, loose)) return 0;
  return *a == *b;
}

/* Levenshtein distance of the folded strings (each cut to 127 characters). */
static int edit_distance(const char *a, const char *b) {
  int row[128];
  int la = (int)strnlen(a, 127), lb = (int)strnlen(b, 127);
  for (int j = 0; j <= lb; j++) row[j] = j;
  for (int i = 1; i <= la; i++) {
    int diag = row[0];
    row[0] = i;
    for (int j = 1; j <= lb; j++) {
      int up = row[j];
      int sub = diag + (fold(a[i - 1], 1) != fold(b[j - 1], 1));
      int best = sub < up + 1 ? sub : up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[lb];
}

/* Whether the folded needle occurs in the folded haystack. */
static int contains(const char *hay, const char *needle) {
  size_t ln = strlen(needle), lh = strlen(hay);
  if (ln == 0 || ln > lh) return 0;
  for (size_t i = 0; i + ln <= lh; i++) {
    size_t k = 0;
    while (k < ln && fold(hay[i + k], 1) == fold(needle[k], 1)) k++;
    if (k == ln) return 1;
  }
  return 0;
}

/* "; near matches: A (coilname X), B" or a hint, into buf. */
static void near_matches(const tmsf_catalogue *c, const char *name, char *buf, size_t cap) {
  int best[NEAR_MAX], score[NEAR_MAX], nb = 0;
  int len = (int)strlen(name);
  int limit = len / 3 > 2 ? len / 3 : 2;
  for (int i = 0; i < c->n; i++) {
    const entry *e = &c->e[i];
    int d = edit_distance(name, e->name);
    if (e->coilname[0]) {
      int d2 = edit_distance(name, e->coilname);
      if (d2 < d) d = d2;
    }
    if (contains(e->name, name) || (e->coilname[0] && contains(e->coilname, name))) d = d < 1 ? d : 1;
    if (d > limit) continue;
    /* insert, sorted by distance then catalogue order */
    int pos = nb;
    while (pos > 0 && score[pos - 1] > d) pos--;
    if (pos >= NEAR_MAX) continue;
    int last = nb < NEAR_MAX ? nb : NEAR_MAX - 1;
    for (int k = last; k > pos; k--) {
      best[k] = best[k - 1];
      score[k] = score[k - 1];
    }
    best[pos] = i;
    score[pos] = d;
    if (nb < NEAR_MAX) nb++;
  }
  size_t k = 0;
  if (nb == 0) {
    snprintf(buf, cap, "; no near matches ('tmsfield coils' lists the %d coils)", c->n);
    return;
  }
  k += (size_t)snprintf(buf + k, cap - k, "; near matches: ");
  for (int j = 0; j < nb && k < cap; j++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%s", j ? ", " : "", c->e[best[j]].name);
}

int tmsf_catalogue_find(const tmsf_catalogue *catalogue, const char *name, int *index) {
  if (!catalogue || !index) return TMSF_ERR_ARGUMENT;
  *index = -1;
  if (!name || !name[0])
    return TMSF_ERROR(catalogue->ctx, TMSF_ERR_ARGUMENT, "tmsf_catalogue_find: no coil name");
  /* step 0: the file name with its extension; 1: the name; 2: the coilname;
   * 3, 4: name and coilname with '-', '_' and ' ' taken as equal */
  for (int step = 0; step < 5; step++) {
    int loose = step >= 3, by_coilname = step == 2 || step == 4;
    int first = -1, tie = -1;
    for (int i = 0; i < catalogue->n; i++) {
      const entry *e = &catalogue->e[i];
      const char *s = step == 0 ? base_name(e->path) : by_coilname ? e->coilname : e->name;
      if (!s[0] || !same_name(s, name, loose)) continue;
      if (first >= 0 && e->rank != catalogue->e[first].rank) break; /* sorted by source */
      int better = first < 0 || format_rank(e->format) < format_rank(catalogue->e[first].format);
      if (better) {
        first = i;
        tie = -1;
      } else if (format_rank(e->format) == format_rank(catalogue->e[first].format)) {
        tie = i;
      }
    }
    if (first >= 0 && tie >= 0)
      return TMSF_ERROR(catalogue->ctx, TMSF_ERR_ARGUMENT,
                        "coil name '%s' is ambiguous: %s and %s (both %s files from %s); give "
                        "the path",
                        name, catalogue->e[first].path, catalogue->e[tie].path,
                        catalogue->e[first].format, rank_names[catalogue->e[first].rank]);
    if (first >= 0) {
      *index = first;
      return TMSF_SUCCESS;
    }
  }
  char near[512];
  near_matches(catalogue, name, near, sizeof(near));
  return TMSF_ERROR(catalogue->ctx, TMSF_ERR_NOT_FOUND, "no coil named '%s' among the %d coils of the catalogue%s",
                    name, catalogue->n, near);
}

int tmsf_catalogue_open_coil(const tmsf_catalogue *catalogue, int index, tmsf_coil **coil) {
  if (!catalogue || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  if (index < 0 || index >= catalogue->n)
    return TMSF_ERROR(catalogue->ctx, TMSF_ERR_ARGUMENT, "coil index %d; the catalogue has %d coils",
                      index, catalogue->n);
  return tmsf_coil_read(catalogue->ctx, catalogue->e[index].path, coil);
}

int tmsf_coil_open(tmsf_context *ctx, const char *name_or_path, tmsf_coil **coil) {
  if (!ctx || !name_or_path || !coil) return TMSF_ERR_ARGUMENT;
  *coil = NULL;
  struct stat st;
  if (stat(name_or_path, &st) == 0 && !S_ISDIR(st.st_mode)) return tmsf_coil_read(ctx, name_or_path, coil);
  tmsf_catalogue *cat;
  TMSF_CALL(tmsf_catalogue_create(ctx, &cat));
  int index;
  int ierr = tmsf_catalogue_find(cat, name_or_path, &index);
  if (ierr == TMSF_ERR_NOT_FOUND) {
    char msg[TMSF_MSG_LEN];
    snprintf(msg, sizeof(msg), "%s", tmsf_context_last_error(ctx));
    ierr = TMSF_ERROR(ctx, TMSF_ERR_NOT_FOUND, "'%s' is neither a coil file nor a coil name: %s",
                      name_or_path, msg);
  }
  if (!ierr) ierr = tmsf_catalogue_open_coil(cat, index, coil);
  tmsf_catalogue_destroy(&cat);
  return ierr;
}
