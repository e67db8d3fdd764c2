"""`myotwitch analyze` of a recording imports what the analysis needs, not the live or batch machinery: start-up is
part of every analyze's time (a fifth of a 1-hour file's, most of it numpy's)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

# The live session (and its store, recorder, pyserial) and the process pool of batch runs (multiprocessing,
# concurrent.futures, logging): about 30 ms of a 0.2 s start-up, measured.
# numpy.ma: what np.median imports for its NaN check (8 ms); the mains choice takes streaming.medians instead.
NOT_FOR_A_RECORDING = ("myotwitch.live.session", "myotwitch.sources.capture", "myotwitch.store", "serial",
                       "multiprocessing", "concurrent.futures", "logging", "numpy.ma")


def test_analyze_of_a_recording_imports_no_live_or_batch_machinery(tmp_path):
    path = tmp_path / "rest.csv"
    x = np.random.default_rng(2).normal(0, 2, 12_000)
    path.write_text("".join(f"{v:.3f}\n" for v in x))
    script = ("import sys, io, contextlib\nfrom myotwitch.cli import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              "    code = main(['analyze', sys.argv[1], '--rate', '1000', '--format', 'jsonl'])\n"
              "print('exit', code, 'imported:', *sorted(sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=False, capture_output=True, text=True,
                          timeout=120)
    last = done.stderr.strip().splitlines()[-1].split()
    assert last[:3] == ["exit", "0", "imported:"], done.stderr[-500:]
    imported = set(last[3:])
    assert "myotwitch.dsp.detector" in imported  # the analysis ran
    assert {m for m in imported if any(m == n or m.startswith(n + ".") for n in NOT_FOR_A_RECORDING)} == set()
