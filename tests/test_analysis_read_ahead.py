"""A recording read and conditioned one block ahead in a second thread gives what one thread gives, in the same
order: events, gaps, summary, warnings, and an error part way through the file."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from conftest import ROOT
from myotwitch import analysis, batch
from myotwitch import read_ahead as read_ahead_module
from myotwitch.analysis import analyze_file
from myotwitch.cli import main
from myotwitch.events import Gap, Twitch
from myotwitch.sources import synthetic as syn
from myotwitch.sources.replay import ReplaySource
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

sys.path.insert(0, str(ROOT / "tools"))

import recording_files as rf

RATE_HZ = 2000.0


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 3,000 samples (1.5 s), so a minute of signal is forty blocks for the thread to run ahead by."""
    monkeypatch.setattr(ReplaySource.__init__, "__defaults__", (3000,))


@pytest.fixture
def spy(monkeypatch):
    """Counts the analyses that went through the read-ahead thread."""
    calls = []
    real = read_ahead_module.read_ahead

    def counting(items, depth=1):
        calls.append(depth)
        return real(items, depth)

    monkeypatch.setattr(read_ahead_module, "read_ahead", counting)
    return calls


def _twitches(seconds: float, seed: int, mains_hz: float) -> np.ndarray:
    x = SyntheticSource(SyntheticConfig(rate_hz=RATE_HZ, duration_s=seconds, peak_sigma_range=(8, 40),
                                        twitch_rate_per_min=40, seed=seed)).signal_uv.copy()
    syn.add_mains(x, RATE_HZ, mains_hz, 10.0)
    return x


@pytest.fixture(scope="module")
def edf_plus_d(tmp_path_factory):
    """60 s of 16-bit counts at 2 kHz with 60 Hz mains, in 0.5 s records, paused between some (one pause inside
    the first 2 s, where the mains lines are chosen)."""
    counts = np.round(_twitches(60, seed=21, mains_hz=60.0) * 4).astype(np.int64)  # 0.25 µV a count
    record_s, onsets, t = 0.5, [], 0.0
    for r in range(len(counts) // 1000):
        onsets.append(t)
        t += record_s + (0.25 if r in (2, 30, 31, 77) else 0.0)
    path = tmp_path_factory.mktemp("edfd") / "paused.edf"
    path.write_bytes(rf.edf_bytes([counts], rate_hz=RATE_HZ, record_s=record_s, record_onsets_s=onsets,
                                  physical=(-8192.0, 8191.75), digital=(-32768, 32767)))
    return path


@pytest.fixture(scope="module")
def csv_with_invalid_values(tmp_path_factory):
    """50 s at 2 kHz with 50 Hz mains and runs of NaN: in the mains probe, across a block's end, a block long."""
    x = _twitches(50, seed=22, mains_hz=50.0)
    for first, count in ((2500, 30), (8990, 20), (30000, 3000), (61000, 7000), (99990, 10)):
        x[first : first + count] = np.nan
    path = tmp_path_factory.mktemp("csv") / "invalid.csv"
    np.savetxt(path, x, fmt="%.3f", header="emg_uv", comments="")
    return path


@pytest.mark.parametrize("which", ["edf_plus_d", "csv_with_invalid_values"])
def test_read_ahead_gives_the_same_events_in_the_same_order(which, request, spy):
    path = request.getfixturevalue(which)
    one = analyze_file(path, RATE_HZ, read_ahead=False)
    assert spy == []
    ahead = analyze_file(path, RATE_HZ, read_ahead=True)
    assert spy == [1]  # this one did run the thread
    assert sum(isinstance(e, Twitch) for e in one.events) >= 10
    assert sum(isinstance(e, Gap) for e in one.events) >= 4
    assert ahead.events == one.events  # every event, in order: gaps where one thread reports them
    assert ahead.summary == one.summary and ahead.warnings == one.warnings
    assert one.summary["mains_hz"] == ([60.0] if which == "edf_plus_d" else [50.0])


def test_an_error_part_way_through_the_file_is_the_same_one_line_after_the_same_events(tmp_path, monkeypatch, capsys):
    x = _twitches(40, seed=23, mains_hz=50.0)
    lines = [f"{v:.3f}\n" for v in x]
    lines[70000] = "12.5oops\n"  # 35 s in: a line the reader refuses while reading
    path = tmp_path / "damaged.csv"
    path.write_text("emg_uv\n" + "".join(lines))
    runs = []
    for ahead in (False, True):
        monkeypatch.setattr(analysis, "read_ahead_by_default", lambda ahead=ahead: ahead)
        out = io.StringIO()
        code = main(["analyze", str(path), "--rate", "2000", "--format", "jsonl"], stdout=out)
        runs.append((code, out.getvalue(), capsys.readouterr().err))
    assert runs[0][0] == 1 and "line 70002" in runs[0][2] and len(runs[0][2].splitlines()) == 1
    assert runs[0][1].count('"twitch"') >= 10  # the events before the damage were written
    assert runs[1] == runs[0]


def test_a_batch_worker_runs_one_thread(csv_with_invalid_values, monkeypatch, spy):
    monkeypatch.setattr(read_ahead_module, "usable_cores", lambda: 2)
    assert analysis.read_ahead_by_default()
    result = batch.analyze_one(batch.Task(str(csv_with_invalid_values), RATE_HZ))
    assert not result.error and result.summary["twitches"] >= 10
    assert spy == []  # the worker's analysis did not start the thread: the workers are one per core already
    with analysis.one_thread():
        assert not analysis.read_ahead_by_default()
    assert analysis.read_ahead_by_default()


def test_one_core_runs_one_thread(monkeypatch):
    monkeypatch.setattr(read_ahead_module, "usable_cores", lambda: 1)
    assert not analysis.read_ahead_by_default()
