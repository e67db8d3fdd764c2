"""The command line, through main(argv): output contracts, exit codes, error messages."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from myotwitch.cli import main
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource


def run(argv, capsys=None):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue()


def jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture
def synthetic_csv(tmp_path):
    src = SyntheticSource(SyntheticConfig(duration_s=60, peak_sigma_range=(15, 30), twitch_rate_per_min=20, seed=31))
    path = tmp_path / "twitches.csv"
    np.savetxt(path, src.signal_uv, fmt="%.3f", header="emg_uv", comments="")
    return path, src


def test_analyze_jsonl_contract(synthetic_csv):
    path, src = synthetic_csv
    code, text = run(["analyze", str(path), "--rate", "1000", "--format", "jsonl"])
    assert code == 0
    events = jsonl(text)
    twitches = [e for e in events if e["type"] == "twitch"]
    assert events[-1]["type"] == "summary" and events[-1]["twitches"] == len(twitches)
    found = np.array([e["t_s"] for e in twitches])
    for t in src.true_times_s:
        assert np.min(np.abs(found - t)) < 0.01
    assert len(found) == len(src.true_times_s)


def test_analyze_text_has_units_and_disclaimer(synthetic_csv):
    path, _ = synthetic_csv
    code, text = run(["analyze", str(path), "--rate", "1000"])
    assert code == 0
    assert "µV" in text and " ms" in text and "does not diagnose" in text


def test_analyze_time_column_csv(tmp_path):
    src = SyntheticSource(SyntheticConfig(rate_hz=2000, duration_s=20, peak_sigma_range=(20, 30), seed=32))
    t = np.arange(src.n_samples) / 2000.0
    path = tmp_path / "r.csv"
    np.savetxt(path, np.column_stack([t, src.signal_uv]), fmt="%.6f", delimiter=",", header="time_s,emg_uv",
               comments="")
    code, text = run(["analyze", str(path), "--format", "jsonl"])
    assert code == 0
    assert jsonl(text)[-1]["rate_hz"] == pytest.approx(2000.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "/nonexistent/r.csv"], "no such file"),
        (["analyze", "README.md"], "unknown recording format"),
        (["live", "--port", "/dev/nonexistent-myotwitch"], "cannot open /dev/nonexistent-myotwitch"),
        (["demo", "--recording", "/nonexistent.edf"], "no such file"),
    ],
)
def test_runtime_errors_are_one_line_and_exit_1(argv, message, capsys):
    code, _ = run(argv)
    err = capsys.readouterr().err
    assert code == 1
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["analyze"], ["analyze", "x.csv", "--rate", "-5"],
                                  ["demo", "--speed", "fast"], ["live"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_debug_shows_the_traceback():
    from myotwitch.errors import MyotwitchError

    with pytest.raises(MyotwitchError):
        main(["analyze", "/nonexistent/r.csv", "--debug"])
    with pytest.raises(MyotwitchError):
        main(["--debug", "analyze", "/nonexistent/r.csv"])


def test_ports_lists_without_error():
    code, _ = run(["ports"])
    assert code == 0


def test_help_names_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("demo", "live", "analyze", "ports"):
        assert command in text
