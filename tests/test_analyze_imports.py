"""`myotwitch analyze` of a recording imports what the analysis needs, not the live or batch machinery: start-up is
part of every analyze's time (a fifth of a 1-hour file's, most of it numpy's)."""

from __future__ import annotations

import subprocess
import sys

from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

# The live session (and its store, recorder, pyserial) and the process pool of batch runs (multiprocessing,
# concurrent.futures, logging): about 30 ms of a 0.2 s start-up, measured.
# numpy.ma: what np.median (its NaN check) and np.unique import on their first call (8 ms); the mains choice, the
# candidates and the episodes do without them.
NOT_FOR_A_RECORDING = ("myotwitch.live.session", "myotwitch.sources.capture", "myotwitch.store", "serial",
                       "multiprocessing", "concurrent.futures", "logging", "numpy.ma")


def test_analyze_of_a_recording_imports_no_live_or_batch_machinery(tmp_path):
    path = tmp_path / "twitches.csv"
    x = SyntheticSource(SyntheticConfig(rate_hz=2000.0, duration_s=60, twitch_rate_per_min=40, seed=4)).signal_uv
    path.write_text("".join(f"{v:.3f}\n" for v in x))
    script = ("import sys, io, contextlib, json\nfrom myotwitch.cli import main\nout = io.StringIO()\n"
              "with contextlib.redirect_stdout(out):\n"
              "    code = main(['analyze', sys.argv[1], '--rate', '2000', '--format', 'jsonl'])\n"
              "summary = json.loads(out.getvalue().splitlines()[-1])\n"
              "print('exit', code, summary['twitches'], summary['episodes'], *sorted(sys.modules), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], check=False, capture_output=True, text=True,
                          timeout=120)
    last = done.stderr.strip().splitlines()[-1].split()
    assert last[:2] == ["exit", "0"], done.stderr[-500:]
    # The whole analysis ran: twitches found, measured and grouped into episodes.
    assert int(last[2]) >= 20 and int(last[3]) >= 1
    imported = set(last[4:])
    assert {m for m in imported if any(m == n or m.startswith(n + ".") for n in NOT_FOR_A_RECORDING)} == set()
