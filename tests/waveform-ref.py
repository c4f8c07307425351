#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
# waveform-ref.py: independent reference values for tests/t-waveform.c, from
# numpy (Debian python3-numpy):  /usr/bin/python3 tests/waveform-ref.py
# For each shipped .tsv and both columns: the stored peak |dI/dt| and its
# time, the 1 % duration (linear-interpolated crossings), the current
# reversal (running trapezoidal integral) and w(t) at a few times (np.interp).
import os
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ["MagVenture_MC-B70.tsv", "Magstim_D70.tsv", "Magstim_DCC.tsv"]
TIMES = [-1e-5, 1.05e-6, 5.003e-5, 1.2345e-4, 2.5e-4]

for f in FILES:
    d = np.loadtxt(os.path.join(ROOT, "data/coils/drakaki2022", f))
    t = d[:, 0]
    for col, label in ((1, "measured"), (2, "fit")):
        y = d[:, col]
        i = int(np.argmax(np.abs(y)))
        peak = abs(y[i])
        w = y / peak
        above = np.nonzero(np.abs(w) >= 0.01)[0]
        a, b = above[0], above[-1]
        # crossing of |w| = 0.01 on the segment before the first / after the last sample above
        def cross(i0, i1):
            lvl = 0.01 * np.sign(w[i1])
            return np.interp(lvl, sorted([w[i0], w[i1]]),
                             [t[i0], t[i1]] if w[i0] < w[i1] else [t[i1], t[i0]])
        start = cross(a - 1, a) if a > 0 else t[a]
        end = cross(b + 1, b) if b < len(t) - 1 else t[b]
        current = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(t))])
        hi, lo = current.max(), -current.min()
        reversal = min(hi, lo) / max(hi, lo)
        vals = np.interp(TIMES, t, w, left=0.0, right=0.0)
        print('  {"%s", "%s", %.17g, %.17g, %.17g, %.17g, %.17g, "%s",\n   {%s}},' % (
            f, label, peak, t[i], start, end, reversal,
            "biphasic" if reversal >= 0.2 else "monophasic",
            ", ".join("%.17g" % v for v in vals)))
