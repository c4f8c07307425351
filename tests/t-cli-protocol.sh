#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# t-cli-protocol.sh: `tmsfield protocol` — iTBS 600 reports 190 s, 600 pulses and
# the per-pulse intensity; its JSON (parsed back with Python's json module)
# carries the pulse list; rTMS 10 Hz 3000 pulses 37.5 min; paired pulse with two
# intensities; requests beyond the stimulator fail (exit 1) naming the protocol,
# the pulse and the limit, and write no --out; usage errors exit 2; --help runs.
set -u
TMSFIELD=$1
SRC=${TMSF_SOURCE_DIR:-.}
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }

# 1. iTBS 600 at 80 % of RMT 50 %MSO, MC-B70-like 155.33 A/us, 1.25 V/m per %MSO
"$TMSFIELD" protocol --preset itbs --rmt 50 --percent-rmt 80 --didt-max 155.33 \
  --vpm-per-mso 1.25 --metric 'mean |E| in ROI' --out "$tmp/itbs.json" > "$tmp/itbs.txt" 2>&1
rc=$?
check '[ $rc -eq 0 ]' "iTBS exits 0 ($(head -3 "$tmp/itbs.txt"))"
check 'grep -q "^pulses     600$" "$tmp/itbs.txt"' "summary: 600 pulses"
check 'grep -q "^duration   190 s nominal" "$tmp/itbs.txt"' "summary: 190 s nominal"
check 'grep -q "first to last pulse 191.84 s" "$tmp/itbs.txt"' "summary: span 191.84 s"
check 'grep -q "^intensity  40 %MSO = 80 % of RMT 50 %MSO, dI/dt 62.13 A/us, E 50 V/m" "$tmp/itbs.txt"' \
  "summary: per-pulse intensity 40 %MSO, 62.13 A/us, 50 V/m"
check '[ -s "$tmp/itbs.json" ]' "--out written"
if [ -x "$PY" ]; then
  "$PY" - "$tmp/itbs.json" > "$tmp/py.txt" 2>&1 <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
err = []
def want(c, m):
    if not c: err.append(m)
want(d["format"] == "tmsfield-protocol" and d["version"] == 1, "format/version")
want(d["name"] == "itbs" and "Huang" in d["source"], "name/source")
p = d["parameters"]
want((p["pulses_per_burst"], p["bursts_per_train"], p["num_trains"]) == (3, 10, 20), "parameters")
want(abs(p["pulse_interval_s"] - 0.02) < 1e-15 and abs(p["burst_interval_s"] - 0.2) < 1e-15, "intervals")
want(p["duration_rule"] == "train_onsets", "rule")
t = d["totals"]
want(t["num_pulses"] == 600 and abs(t["duration_nominal_s"] - 190) < 1e-9, "totals")
want(abs(t["span_s"] - 191.84) < 1e-9 and t["num_clamped"] == 0, "span/clamped")
want(d["intensity"]["unit"] == "percent_mt" and d["intensity"]["values"] == [80], "intensity")
want(d["intensity"]["motor_threshold"] == {"kind": "RMT", "percent_mso": 50}, "motor threshold")
want(d["stimulator"]["didt_max_A_per_s"] == 155.33e6 and d["stimulator"]["clamp"] is False, "stimulator")
want(d["field"]["metric"] == "mean |E| in ROI" and d["field"]["V_per_m_per_percent_mso"] == 1.25, "field")
ps = d["pulses"]
want(len(ps) == 600, "600 pulses")
ref = [10.0 * tr + 0.2 * b + 0.02 * k for tr in range(20) for b in range(10) for k in range(3)]
bad = [i for i, (q, r) in enumerate(zip(ps, ref)) if abs(q["t_s"] - r) > 1e-12]
want(not bad, "pulse times differ at %s" % bad[:5])
want(all(abs(q["percent_mso"] - 40) < 1e-12 and abs(q["didt_A_per_s"] - 0.4 * 155.33e6) < 1e-3
         and abs(q["E_V_per_m"] - 50) < 1e-12 for q in ps), "per-pulse intensity")
print("\n".join(err) if err else "ok")
PYEOF
  check 'grep -qx ok "$tmp/py.txt"' "JSON parsed back: $(head -5 "$tmp/py.txt")"
else
  echo "FAIL: $PY not found"; fail=1
fi

# 2. --json on stdout is the same document
"$TMSFIELD" protocol --preset itbs --rmt 50 --percent-rmt 80 --didt-max 155.33 \
  --vpm-per-mso 1.25 --metric 'mean |E| in ROI' --json > "$tmp/stdout.json" 2>&1
check '[ $? -eq 0 ] && cmp -s "$tmp/stdout.json" "$tmp/itbs.json"' "--json equals --out"

# 3. O'Reardon 10 Hz: 3000 pulses, 37.5 min
"$TMSFIELD" protocol --preset rtms10 --mso 60 > "$tmp/r.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "^pulses     3000$" "$tmp/r.txt"' "rtms10: 3000 pulses"
check 'grep -q "^duration   2250 s nominal (37 min 30 s)" "$tmp/r.txt"' "rtms10: 37.5 min"

# 4. cTBS 600: 40 s; prolonged: 1200 pulses
"$TMSFIELD" protocol --preset ctbs --amt 40 --percent-mt 80 > "$tmp/c.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "^pulses     600$" "$tmp/c.txt" && grep -q "^duration   40 s nominal" "$tmp/c.txt"' \
  "ctbs: 600 pulses, 40 s"
check 'grep -q "32 %MSO = 80 % of AMT 40 %MSO" "$tmp/c.txt"' "ctbs: 80 % AMT"
"$TMSFIELD" protocol --preset ctbs1200 --mso 30 > "$tmp/c2.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "^pulses     1200$" "$tmp/c2.txt" && grep -q "^duration   80 s" "$tmp/c2.txt"' \
  "ctbs1200: 1200 pulses, 80 s"

# 5. paired pulse: two intensities, 3 ms apart; a custom ISI
"$TMSFIELD" protocol --preset sici --rmt 45 --percent-mt 80,120 --didt-max 100 --pulses > "$tmp/s.txt" 2>&1
check '[ $? -eq 0 ] && grep -qE "^ +2 +0\.003000 +54\.000 +54\.0000" "$tmp/s.txt"' "sici: test pulse at 3 ms, 54 %MSO"
check 'grep -qE "^ +1 +0\.000000 +36\.000 +36\.0000" "$tmp/s.txt"' "sici: conditioning pulse 36 %MSO"
check 'grep -qE "^ +40 +95\.003000" "$tmp/s.txt"' "sici: --pulses lists all 40"
"$TMSFIELD" protocol --preset icf --isi 15 --mso 30,60 --json > "$tmp/i.json" 2>&1
check '[ $? -eq 0 ] && "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); p=d[\"pulses\"]; sys.exit(not (abs(p[1][\"t_s\"]-0.015)<1e-15 and p[1][\"percent_mso\"]==60 and p[0][\"percent_mso\"]==30))" "$tmp/i.json"' \
  "icf --isi 15 with 30,60 %MSO"

# 6. a custom protocol: 5 Hz, 50 pulses per train, 10 trains, 50 s pause
"$TMSFIELD" protocol --custom 5hz --rate 5 --bursts 50 --trains 10 --iti 50 --mso 55 > "$tmp/u.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "^pulses     500$" "$tmp/u.txt" && grep -q "^duration   600 s" "$tmp/u.txt"' \
  "custom 5 Hz: 500 pulses, 10 x 60 s"

# 7. beyond the stimulator: 120 % of RMT 90 %MSO = 108 %MSO fails, writes nothing
"$TMSFIELD" protocol --preset itbs --rmt 90 --percent-rmt 120 --didt-max 155.33 --out "$tmp/bad.json" > "$tmp/b.txt" 2>&1
rc=$?
check '[ $rc -eq 1 ]' "108 %MSO exits 1 (got $rc)"
check 'grep -q "protocol .itbs.: pulse 1 of 600" "$tmp/b.txt" && grep -q "108 %MSO" "$tmp/b.txt" && grep -q "limit of 100 %MSO" "$tmp/b.txt"' \
  "error names protocol, pulse, value, limit: $(cat "$tmp/b.txt")"
check '[ ! -e "$tmp/bad.json" ]' "no --out after a failure"
"$TMSFIELD" protocol --preset itbs --rmt 90 --percent-rmt 120 --clamp > "$tmp/cl.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "^clamped    600 pulse(s) to 100 %MSO" "$tmp/cl.txt"' "--clamp clamps"
"$TMSFIELD" protocol --preset rtms10 --didt 170 --coil "$SRC/tests/data/testcoil.ccd" > "$tmp/d.txt" 2>&1
rc=$?
check '[ $rc -eq 1 ] && grep -q "dI/dt 170 A/us with a dI/dt max of 100 A/us" "$tmp/d.txt"' \
  "dI/dt above the coil's max fails: $(cat "$tmp/d.txt")"
"$TMSFIELD" protocol --preset itbs --mso 50 --max-rate 30 > "$tmp/mr.txt" 2>&1
check '[ $? -eq 1 ] && grep -q "20 ms (50 Hz), shorter than the stimulator" "$tmp/mr.txt"' "--max-rate 30 rejects 50 Hz bursts"

# 8. usage errors exit 2
for args in "--preset itbs" "--preset itbs --percent-mt 80" "--preset nosuch --mso 10" \
            "--preset itbs --mso abc" "--custom x --mso 10" "--preset sici --mso 1,2,3" \
            "--preset itbs --field 50" "--preset itbs --mso 50 --bogus 1"; do
  # shellcheck disable=SC2086
  "$TMSFIELD" protocol $args > "$tmp/u.txt" 2>&1
  rc=$?
  if [ "$args" = "--preset nosuch --mso 10" ]; then
    check '[ $rc -eq 1 ] && grep -q "unknown protocol preset .nosuch." "$tmp/u.txt"' "unknown preset exits 1"
  else
    check '[ $rc -eq 2 ]' "usage error exits 2: $args (got $rc: $(head -1 "$tmp/u.txt"))"
  fi
done

# 9. --help and --list
"$TMSFIELD" protocol --help > "$tmp/h.txt" 2>&1
check '[ $? -eq 0 ] && grep -q "examples:" "$tmp/h.txt"' "--help"
"$TMSFIELD" protocol --list > "$tmp/l.txt" 2>&1
check '[ $? -eq 0 ] && [ "$(wc -l < "$tmp/l.txt")" -eq 11 ] && grep -q "^itbs " "$tmp/l.txt"' "--list: 11 presets"
# the examples of --help run (the one with a coil from ../shared/data is covered by 1.)
check '"$TMSFIELD" protocol --preset rtms10 --mso 60 --json > /dev/null' "help example: rtms10 --json"
check '"$TMSFIELD" protocol --preset sici --rmt 45 --percent-mt 80,120 --pulses > /dev/null' "help example: sici"
check '"$TMSFIELD" protocol --custom 5hz-m1 --rate 5 --bursts 50 --trains 10 --iti 50 --mso 55 > /dev/null' \
  "help example: custom"

exit $fail
