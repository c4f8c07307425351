/*
 * SPDX-License-Identifier: BSD-3-Clause
 * cmd-protocol.c: `tmsfield protocol` — a stimulation protocol (preset or
 * custom) with its pulse times, per-pulse %MSO, dI/dt and field at the target,
 * as a summary or JSON (docs/protocol-json.md).  Public API only.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tmsfield/tmsfield.h>

#include "cli-common.h"
#include "commands.h"

#define MAXV 64

static void usage(FILE *f) {
  fprintf(f,
          "usage: tmsfield protocol (--preset NAME | --custom NAME --rate HZ --bursts N) [timing]\n"
          "         (--mso P[,P2] | (--rmt P | --amt P) --percent-mt Q[,Q2] | --didt A_PER_US[,..]\n"
          "          | --field V_PER_M[,..])\n"
          "         [--coil FILE | --didt-max A_PER_US] [--vpm-per-mso X [--metric LABEL]]\n"
          "         [--max-mso P] [--max-rate HZ] [--clamp] [--json] [--out FILE.json] [--pulses]\n"
          "\n"
          "Pulse times, session duration, stimulator output (%%MSO), dI/dt and field at the\n"
          "target of a stimulation protocol.  A session is TRAINS trains of BURSTS bursts\n"
          "(RATE bursts per second); a burst is PULSES-PER-BURST pulses (BURST-RATE Hz, or\n"
          "ISI apart); trains are separated by ITI seconds after each train's on-time.\n"
          "\n"
          "presets (tmsfield protocol --list):\n"
          "  itbs       iTBS 600: 3 pulses at 50 Hz, 5 Hz, 2 s on / 8 s off, 20 trains, 190 s\n"
          "             (Huang et al., Neuron 2005)\n"
          "  itbs1200   prolonged iTBS, 40 trains (Gamboa et al., Exp Brain Res 2010)\n"
          "  ctbs       cTBS 600: 40 s continuous (Huang 2005); ctbs300: 20 s;\n"
          "  ctbs1200   prolonged cTBS, 80 s (Gamboa 2010)\n"
          "  rtms10     10 Hz, 4 s on / 26 s off, 75 trains, 3000 pulses, 37.5 min\n"
          "             (O'Reardon et al., Biol Psychiatry 2007)\n"
          "  rtms10-m1  10 Hz M1 for neuropathic pain, 20 x 5 s, 55 s off, 1000 pulses\n"
          "  rtms20-m1  20 Hz M1 for neuropathic pain, 20 x 4 s, 84 s off, 1600 pulses\n"
          "             (Lefaucheur et al., Clin Neurophysiol 2020 guidelines, level A)\n"
          "  rtms1      1 Hz, one train of 900 pulses (15 min)\n"
          "  sici, icf  paired pulse, ISI 3 ms / 10 ms, 20 pairs 5 s apart (Kujirai 1993)\n"
          "\n"
          "timing (override a preset, or define a --custom protocol):\n"
          "  --rate HZ            bursts per second in a train (the rTMS frequency)\n"
          "  --bursts N           bursts per train (pulses per train for rTMS)\n"
          "  --trains N           number of trains\n"
          "  --iti S              pause after each train's on-time, s\n"
          "  --pulses-per-burst N 1 rTMS, 3 theta burst, 2 paired pulse\n"
          "  --burst-rate HZ      pulse rate inside a burst (50 for theta burst)\n"
          "  --isi MS             interval between the pulses of a burst, ms (paired pulse)\n"
          "  --duration-rule R    cycles: trains x (on-time + ITI) (O'Reardon 37.5 min, cTBS 40 s);\n"
          "                       onsets: first to last train onset (Huang 2005 iTBS 190 s)\n"
          "intensity (one value, or one per pulse of a burst: conditioning,test):\n"
          "  --mso P              stimulator output, %% of maximum\n"
          "  --rmt P | --amt P    resting / active motor threshold in %%MSO, with\n"
          "  --percent-mt Q       intensity in %% of that threshold (alias --percent-rmt)\n"
          "  --didt A_PER_US      dI/dt of the coil current (needs --coil or --didt-max)\n"
          "  --field V_PER_M      field at the target (needs --vpm-per-mso)\n"
          "stimulator and target:\n"
          "  --coil FILE          coil file; its dIdtmax gives dI/dt at 100 %%MSO\n"
          "  --didt-max A_PER_US  dI/dt at 100 %%MSO (e.g. 155.33 for MagVenture MC-B70)\n"
          "  --vpm-per-mso X      field at the target per %%MSO, V/m (from 'tmsfield dose')\n"
          "  --metric LABEL       what that field is, e.g. 'mean |E| in ROI'\n"
          "  --max-mso P          output limit (default 100); above it is an error ...\n"
          "  --clamp              ... unless clamped to the limit\n"
          "  --max-rate HZ        fastest pulse rate the stimulator delivers (default: unchecked)\n"
          "output:\n"
          "  --json               print the JSON (schema docs/protocol-json.md) instead of a summary\n"
          "  --out FILE.json      write the JSON (only on success)\n"
          "  --pulses             list every pulse in the summary\n"
          "  --quiet              no summary (with --json: only the JSON; with --out: only the file)\n"
          "\n"
          "Exit codes: 0 success, 1 library error (e.g. an output beyond --max-mso without\n"
          "--clamp), 2 usage error.\n"
          "\n"
          "examples:\n"
          "  tmsfield protocol --preset itbs --rmt 50 --percent-mt 80 --didt-max 155.33\n"
          "  tmsfield protocol --preset itbs --rmt 45 --percent-mt 120 \\\n"
          "      --coil data/coils/drakaki2022/MagVenture_MC-B70.ccd \\\n"
          "      --vpm-per-mso 1.1 --metric 'mean |E| in DLPFC' --out itbs.json\n"
          "  tmsfield protocol --preset rtms10 --mso 60 --json\n"
          "  tmsfield protocol --preset sici --rmt 45 --percent-mt 80,120 --pulses\n"
          "  tmsfield protocol --custom 5hz-m1 --rate 5 --bursts 50 --trains 10 --iti 50 --mso 55\n");
}

static int fail_usage(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tmsfield protocol: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see 'tmsfield protocol --help')\n");
  va_end(ap);
  return EXIT_USAGE;
}

static int fail_lib(tmsf_context *ctx, int status) {
  const char *msg = ctx ? tmsf_context_last_error(ctx) : "";
  fprintf(stderr, "tmsfield protocol: error: %s\n", msg && *msg ? msg : tmsf_status_string(status));
  return EXIT_LIB;
}

static int parse_num(const char *s, double *v) {
  char *end;
  errno = 0;
  *v = strtod(s, &end);
  return end != s && *end == '\0' && !errno && isfinite(*v);
}

static int parse_int(const char *s, int *v) {
  char *end;
  errno = 0;
  long l = strtol(s, &end, 10);
  if (end == s || *end || errno || l < 1 || l > 100000000L) return 0;
  *v = (int)l;
  return 1;
}

/* comma-separated numbers, at most MAXV */
static int parse_list(const char *s, double *v, int *n) {
  *n = 0;
  const char *p = s;
  while (*n < MAXV) {
    char *end;
    errno = 0;
    v[*n] = strtod(p, &end);
    if (end == p || errno || !isfinite(v[*n])) return 0;
    (*n)++;
    if (*end == '\0') return 1;
    if (*end != ',') return 0;
    p = end + 1;
  }
  return 0;
}

typedef struct opts {
  const char *preset, *custom, *coil, *out, *metric, *mt_kind, *rule;
  double rate, burst_rate, isi_ms, iti, didt_max_A_per_us, vpm, max_mso, max_rate, mt;
  int have_rate, have_burst_rate, have_isi, have_iti, have_didt_max, have_vpm, have_max_mso,
      have_max_rate, have_mt;
  int bursts, trains, ppb;
  tmsf_intensity_unit unit;
  int nvals;
  double vals[MAXV];
  int clamp, json, pulses, list, quiet;
} opts;

static int set_intensity(opts *o, tmsf_intensity_unit unit, const char *opt, const char *val) {
  if (o->unit) return fail_usage("give one of --mso, --percent-mt, --didt, --field (got %s as well)", opt);
  if (!parse_list(val, o->vals, &o->nvals))
    return fail_usage("%s expects a number or comma-separated numbers, got '%s'", opt, val);
  o->unit = unit;
  if (unit == TMSF_INTENSITY_DIDT)
    for (int i = 0; i < o->nvals; i++) o->vals[i] *= 1e6; /* A/us -> A/s */
  return 0;
}

static int parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof(*o));
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return -1;
    }
    if (!strcmp(a, "--list")) { o->list = 1; continue; }
    if (!strcmp(a, "--clamp")) { o->clamp = 1; continue; }
    if (!strcmp(a, "--json")) { o->json = 1; continue; }
    if (!strcmp(a, "--pulses")) { o->pulses = 1; continue; }
    if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) { o->quiet = 1; continue; }
    if (a[0] != '-' || a[1] != '-') return fail_usage("unexpected argument '%s'", a);
    if (i + 1 >= argc) return fail_usage("option %s needs a value", a);
    const char *v = argv[++i];
    int rc = 0;
    if (!strcmp(a, "--preset")) o->preset = v;
    else if (!strcmp(a, "--custom")) o->custom = v;
    else if (!strcmp(a, "--coil")) o->coil = v;
    else if (!strcmp(a, "--out")) o->out = v;
    else if (!strcmp(a, "--metric")) o->metric = v;
    else if (!strcmp(a, "--duration-rule")) o->rule = v;
    else if (!strcmp(a, "--rate")) {
      if (!parse_num(v, &o->rate) || o->rate <= 0) return fail_usage("--rate expects Hz > 0, got '%s'", v);
      o->have_rate = 1;
    } else if (!strcmp(a, "--burst-rate")) {
      if (!parse_num(v, &o->burst_rate) || o->burst_rate <= 0)
        return fail_usage("--burst-rate expects Hz > 0, got '%s'", v);
      o->have_burst_rate = 1;
    } else if (!strcmp(a, "--isi")) {
      if (!parse_num(v, &o->isi_ms) || o->isi_ms <= 0) return fail_usage("--isi expects ms > 0, got '%s'", v);
      o->have_isi = 1;
    } else if (!strcmp(a, "--iti")) {
      if (!parse_num(v, &o->iti) || o->iti < 0) return fail_usage("--iti expects s >= 0, got '%s'", v);
      o->have_iti = 1;
    } else if (!strcmp(a, "--bursts")) {
      if (!parse_int(v, &o->bursts)) return fail_usage("--bursts expects a whole number >= 1, got '%s'", v);
    } else if (!strcmp(a, "--trains")) {
      if (!parse_int(v, &o->trains)) return fail_usage("--trains expects a whole number >= 1, got '%s'", v);
    } else if (!strcmp(a, "--pulses-per-burst")) {
      if (!parse_int(v, &o->ppb) || o->ppb > MAXV)
        return fail_usage("--pulses-per-burst expects 1..%d, got '%s'", MAXV, v);
    } else if (!strcmp(a, "--mso")) rc = set_intensity(o, TMSF_INTENSITY_PERCENT_MSO, a, v);
    else if (!strcmp(a, "--percent-mt") || !strcmp(a, "--percent-rmt") || !strcmp(a, "--percent-amt"))
      rc = set_intensity(o, TMSF_INTENSITY_PERCENT_MT, a, v);
    else if (!strcmp(a, "--didt")) rc = set_intensity(o, TMSF_INTENSITY_DIDT, a, v);
    else if (!strcmp(a, "--field")) rc = set_intensity(o, TMSF_INTENSITY_FIELD, a, v);
    else if (!strcmp(a, "--rmt") || !strcmp(a, "--amt")) {
      if (o->have_mt) return fail_usage("give one of --rmt and --amt");
      if (!parse_num(v, &o->mt)) return fail_usage("%s expects %%MSO, got '%s'", a, v);
      o->mt_kind = !strcmp(a, "--rmt") ? "RMT" : "AMT";
      o->have_mt = 1;
    } else if (!strcmp(a, "--didt-max")) {
      if (!parse_num(v, &o->didt_max_A_per_us)) return fail_usage("--didt-max expects A/us, got '%s'", v);
      o->have_didt_max = 1;
    } else if (!strcmp(a, "--vpm-per-mso")) {
      if (!parse_num(v, &o->vpm)) return fail_usage("--vpm-per-mso expects V/m per %%MSO, got '%s'", v);
      o->have_vpm = 1;
    } else if (!strcmp(a, "--max-mso")) {
      if (!parse_num(v, &o->max_mso)) return fail_usage("--max-mso expects %%MSO, got '%s'", v);
      o->have_max_mso = 1;
    } else if (!strcmp(a, "--max-rate")) {
      if (!parse_num(v, &o->max_rate) || o->max_rate <= 0)
        return fail_usage("--max-rate expects Hz > 0, got '%s'", v);
      o->have_max_rate = 1;
    } else return fail_usage("unknown option '%s'", a);
    if (rc) return rc;
  }
  if (o->list) return 0;
  if (!o->preset == !o->custom) return fail_usage("give either --preset NAME or --custom NAME");
  if (o->custom && (!o->have_rate || !o->bursts))
    return fail_usage("a --custom protocol needs at least --rate HZ and --bursts N");
  if (o->have_burst_rate && o->have_isi) return fail_usage("give one of --burst-rate and --isi");
  if (!o->unit)
    return fail_usage("give the intensity: --mso P, --rmt P with --percent-mt Q, --didt or --field");
  if (o->unit == TMSF_INTENSITY_PERCENT_MT && !o->have_mt)
    return fail_usage("--percent-mt needs the motor threshold: --rmt P or --amt P (%%MSO)");
  if (o->have_mt && o->unit != TMSF_INTENSITY_PERCENT_MT)
    return fail_usage("--%s goes with --percent-mt", o->mt_kind[0] == 'R' ? "rmt" : "amt");
  if (o->unit == TMSF_INTENSITY_DIDT && !o->coil && !o->have_didt_max)
    return fail_usage("--didt needs the coil's dI/dt max: --coil FILE or --didt-max A_PER_US");
  if (o->unit == TMSF_INTENSITY_FIELD && !o->have_vpm)
    return fail_usage("--field needs --vpm-per-mso X (field at the target per %%MSO)");
  if (o->metric && !o->have_vpm) return fail_usage("--metric goes with --vpm-per-mso");
  if (o->rule && strcmp(o->rule, "cycles") && strcmp(o->rule, "onsets"))
    return fail_usage("--duration-rule expects cycles or onsets, got '%s'", o->rule);
  return 0;
}

static void print_duration(double s) {
  if (s >= 60.0) printf(" (%d min %g s)", (int)(s / 60.0), s - 60.0 * (int)(s / 60.0));
}

int tmsf_cmd_protocol(int argc, char **argv) {
  opts o;
  int rc = parse(argc, argv, &o);
  if (rc < 0) return 0;
  if (rc) return rc;
  if (cli_parse_only()) return 0;
  if (o.list) {
    int n;
    const char *const *names;
    tmsf_protocol_preset_list(&n, &names);
    tmsf_context *c;
    if (tmsf_context_create(&c)) return EXIT_LIB;
    for (int i = 0; i < n; i++) {
      tmsf_protocol *p;
      const char *desc = "";
      if (!tmsf_protocol_create_preset(c, names[i], &p)) tmsf_protocol_get_info(p, NULL, NULL, &desc, NULL);
      printf("%-10s %s\n", names[i], desc);
      tmsf_protocol_destroy(&p);
    }
    tmsf_context_destroy(&c);
    return 0;
  }

  tmsf_context *ctx = NULL;
  tmsf_protocol *p = NULL;
  tmsf_coil *coil = NULL;
  int st = tmsf_context_create(&ctx);
  if (st) return fail_lib(NULL, st);
  rc = EXIT_LIB;

  tmsf_protocol_timing tm = {1, 0.0, 1, 1.0, 1, 0.0, TMSF_DURATION_TRAIN_CYCLES};
  if (o.preset) {
    if ((st = tmsf_protocol_create_preset(ctx, o.preset, &p))) goto lib_error;
    tmsf_protocol_get_timing(p, &tm);
  }
  if (o.ppb) tm.pulses_per_burst = o.ppb;
  if (o.have_burst_rate) tm.pulse_interval_s = 1.0 / o.burst_rate;
  if (o.have_isi) tm.pulse_interval_s = o.isi_ms * 1e-3;
  if (o.have_rate) tm.burst_interval_s = 1.0 / o.rate;
  if (o.bursts) tm.bursts_per_train = o.bursts;
  if (o.trains) tm.num_trains = o.trains;
  if (o.have_iti) tm.inter_train_interval_s = o.iti;
  if (o.rule) tm.duration_rule = !strcmp(o.rule, "onsets") ? TMSF_DURATION_TRAIN_ONSETS : TMSF_DURATION_TRAIN_CYCLES;
  if (o.custom) {
    if (tm.pulses_per_burst > 1 && !o.have_burst_rate && !o.have_isi) {
      rc = fail_usage("--pulses-per-burst > 1 needs --burst-rate HZ or --isi MS");
      goto done;
    }
    if ((st = tmsf_protocol_create(ctx, o.custom, &tm, &p))) goto lib_error;
  } else if ((st = tmsf_protocol_set_timing(p, &tm))) {
    goto lib_error;
  }
  if (o.nvals != 1 && o.nvals != tm.pulses_per_burst) {
    rc = fail_usage("give 1 intensity or %d (one per pulse of a burst), got %d", (int)tm.pulses_per_burst,
                    o.nvals);
    goto done;
  }
  if (o.coil) {
    if ((st = tmsf_coil_open(ctx, o.coil, &coil))) goto lib_error;
    if (!o.have_didt_max && (st = tmsf_protocol_set_coil(p, coil))) goto lib_error;
  }
  if (o.have_didt_max && (st = tmsf_protocol_set_didt_max(p, o.didt_max_A_per_us * 1e6))) goto lib_error;
  if (o.have_vpm && (st = tmsf_protocol_set_field_per_mso(p, o.vpm, o.metric))) goto lib_error;
  if (o.have_mt && (st = tmsf_protocol_set_motor_threshold(p, o.mt_kind, o.mt))) goto lib_error;
  if ((st = tmsf_protocol_set_limits(p, o.have_max_mso ? o.max_mso : 100.0,
                                     o.have_max_rate ? 1.0 / o.max_rate : 0.0, o.clamp)))
    goto lib_error;
  if ((st = tmsf_protocol_set_intensity(p, o.unit, o.nvals, o.vals))) goto lib_error;
  if ((st = tmsf_protocol_build(p))) goto lib_error;
  if (o.out && (st = tmsf_protocol_write_json(p, o.out))) goto lib_error;

  if (o.json) {
    const char *json;
    if ((st = tmsf_protocol_get_json(p, &json))) goto lib_error;
    printf("%s\n", json);
  } else if (!o.quiet) {
    const char *name, *pre, *desc, *src;
    tmsf_protocol_get_info(p, &name, &pre, &desc, &src);
    int64_t n, nc;
    double nominal, span;
    const double *t, *mso, *didt, *E;
    tmsf_protocol_get_num_pulses(p, &n);
    tmsf_protocol_get_duration(p, &nominal, &span);
    tmsf_protocol_get_num_clamped(p, &nc);
    tmsf_protocol_get_pulses(p, &t, &mso, &didt, &E);
    printf("protocol   %s%s%s%s\n", name, *pre ? " (preset " : "", pre, *pre ? ")" : "");
    if (*desc) printf("           %s\n", desc);
    if (*src) printf("source     %s\n", src);
    printf("timing     %d pulse(s) per burst", (int)tm.pulses_per_burst);
    if (tm.pulses_per_burst > 1) printf(" %g ms apart", tm.pulse_interval_s * 1e3);
    printf(", %d burst(s) per train at %g Hz (%g s on), %d train(s)", (int)tm.bursts_per_train,
           1.0 / tm.burst_interval_s, tm.bursts_per_train * tm.burst_interval_s, (int)tm.num_trains);
    if (tm.num_trains > 1) printf(", %g s between trains", tm.inter_train_interval_s);
    printf("\npulses     %lld\n", (long long)n);
    printf("duration   %g s nominal", nominal);
    print_duration(nominal);
    printf(" [rule: %s]; first to last pulse %g s\n",
           tm.duration_rule == TMSF_DURATION_TRAIN_ONSETS ? "first to last train onset"
                                                          : "trains x (on-time + ITI)",
           span);
    int same = 1; /* one line when every pulse of a burst has the same intensity */
    for (int k = 1; k < tm.pulses_per_burst && k < n; k++) same &= mso[k] == mso[0];
    for (int k = 0; k < (same ? 1 : tm.pulses_per_burst) && k < n; k++) {
      printf("intensity  %.4g %%MSO", mso[k]);
      if (!same) printf(" (pulse %d of each burst)", k + 1);
      if (o.have_mt) printf(" = %g %% of %s %g %%MSO", o.vals[o.nvals == 1 ? 0 : k], o.mt_kind, o.mt);
      if (didt) printf(", dI/dt %.4g A/us", didt[k] * 1e-6);
      if (E) printf(", E %.4g V/m (%s)", E[k], o.metric ? o.metric : "E");
      printf("\n");
    }
    if (nc) printf("clamped    %lld pulse(s) to %g %%MSO\n", (long long)nc, o.have_max_mso ? o.max_mso : 100.0);
    int64_t show = o.pulses ? n : (n < 8 ? n : 8);
    printf("%8s %12s %8s %12s %10s\n", "pulse", "t (s)", "%MSO", "dI/dt A/us", "E (V/m)");
    for (int64_t i = 0; i < show; i++) {
      printf("%8lld %12.6f %8.3f", (long long)(i + 1), t[i], mso[i]);
      if (didt) printf(" %12.4f", didt[i] * 1e-6);
      else printf(" %12s", "-");
      if (E) printf(" %10.4f\n", E[i]);
      else printf(" %10s\n", "-");
    }
    if (show < n) printf("%8s (%lld more; --pulses lists all, --json or --out FILE.json exports)\n", "...",
                         (long long)(n - show));
    if (o.out) printf("wrote      %s\n", o.out);
  }
  rc = 0;
  goto done;
lib_error:
  rc = fail_lib(ctx, st);
done:
  tmsf_coil_destroy(&coil);
  tmsf_protocol_destroy(&p);
  tmsf_context_destroy(&ctx);
  return rc;
}
