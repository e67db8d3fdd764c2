"""The analysis of one file as a program calls it: the events and summary `myotwitch analyze` prints."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from myotwitch.analysis import analyze_file
from myotwitch.cli import main
from myotwitch.errors import MyotwitchError
from myotwitch.events import Gap, SignalIssue
from myotwitch.serialize import to_json
from myotwitch.sources.replay import NAN_GAP
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource


@pytest.fixture(scope="module")
def csv_with_dropout(tmp_path_factory):
    """20 s of synthetic twitches at 1 kHz with a 0.5 s dropout (NaN) at 10 s, written once for the tests that
    read it."""
    src = SyntheticSource(SyntheticConfig(duration_s=20, peak_sigma_range=(15, 30), twitch_rate_per_min=20, seed=5))
    x = src.signal_uv.copy()
    x[10_000:10_500] = np.nan
    path = tmp_path_factory.mktemp("dropout") / "dropout.csv"
    np.savetxt(path, x, fmt="%.3f", header="emg_uv", comments="")
    return path


def test_analyze_file_returns_what_the_command_prints(csv_with_dropout):
    result = analyze_file(csv_with_dropout, rate_hz=1000)
    out = io.StringIO()
    assert main(["analyze", str(csv_with_dropout), "--rate", "1000", "--format", "jsonl"], stdout=out) == 0
    printed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [to_json(e, result.rate_hz) for e in result.events] == printed[:-1]
    assert dict({"type": "summary"}, **result.summary) == printed[-1]


def test_a_dropout_is_a_gap_counted_as_lost_never_filled(csv_with_dropout):
    result = analyze_file(csv_with_dropout, rate_hz=1000)
    gaps = [e for e in result.events if isinstance(e, Gap)]
    assert gaps == [Gap(10_000, 500, NAN_GAP)]
    assert result.summary["lost_samples"] == 500 and result.summary["samples"] == 19_500
    assert len(result.warnings) == 1 and "0.500 s" in result.warnings[0]


def test_too_short_a_file_says_so(tmp_path):
    path = tmp_path / "short.csv"
    np.savetxt(path, np.random.default_rng(0).normal(0, 2, 500), fmt="%.3f", header="emg_uv", comments="")
    with pytest.raises(MyotwitchError, match="too short to estimate the noise floor"):
        analyze_file(path, rate_hz=1000)


def noisy_capture() -> bytes:
    """A version 2 capture of 4 s at 1 kHz: hello, OK to START, 80 data frames of noise around mid-scale."""
    from myotwitch import protocol as P
    from test_protocol_capture import HELLO, START, Recorder

    rng = np.random.default_rng(3)
    r = Recorder()
    r.read(0.1, HELLO)
    r.read(0.2, START)
    for k in range(80):
        counts = np.clip(2048 + rng.normal(0, 20, 50), 0, 4095).astype(np.uint16)
        r.read(1.0 + k * 0.05, P.encode_data(50 * k, 50_000 * k, 0, counts, P.FORMAT_PACKED12))
        r.clock(1.0 + k * 0.05 + 0.001)
    return r.file.getvalue()


def test_a_capture_is_told_by_its_first_bytes_not_its_name(tmp_path):
    capture = noisy_capture()
    outputs = []
    for name in ("board.mtwcap", "board.bin"):
        path = tmp_path / name
        path.write_bytes(capture)
        out = io.StringIO()
        assert main(["analyze", str(path), "--format", "jsonl"], stdout=out) == 0
        summary = json.loads(out.getvalue().splitlines()[-1])
        assert summary["samples"] == 4000 and summary["frames"] == 80 and summary["lost_samples"] == 0
        outputs.append({k: v for k, v in summary.items() if k != "path"})
    assert outputs[0] == outputs[1]


def test_a_capture_given_where_a_recording_of_samples_is_needed_says_so(tmp_path, capsys):
    path = tmp_path / "board.bin"
    path.write_bytes(noisy_capture())
    assert main(["demo", "--recording", str(path), "--speed", "0"]) == 1
    err = capsys.readouterr().err
    assert "a raw capture of a board's bytes" in err and len(err.strip().splitlines()) == 1


def test_a_twitch_in_the_filters_settling_after_a_gap_is_not_lost_unsaid(tmp_path):
    """After lost samples the filters restart and nothing can be detected for settle_s: that stretch is kept,
    not analysed, and said (a signal event and skipped_s), so a twitch in it is not dropped silently."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 5.0, 12_000)
    unit = synthetic_unit()
    x[6_100 : 6_100 + len(unit)] += 40 * unit / np.max(np.abs(unit))  # 0.1 s after the lost sample
    x[6_000] = np.nan
    path = tmp_path / "gap.csv"
    np.savetxt(path, x, fmt="%.3f", header="emg_uv", comments="")
    result = analyze_file(path, rate_hz=1000)
    settling = [e for e in result.events if isinstance(e, SignalIssue) and e.kind == "settling"]
    assert [(e.start_index, e.end_index) for e in settling] == [(6_001, 6_200)]
    assert result.summary["skipped_s"]["settling"] == pytest.approx(0.2)


def synthetic_unit() -> np.ndarray:
    from myotwitch.sources.synthetic import motor_unit_potential

    return motor_unit_potential(1000, 12.0, 2, np.random.default_rng(1))
