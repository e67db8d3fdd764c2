"""`myotwitch check`: each finding on a signal made to have (or not have) that fault, through main(argv)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from myotwitch import builds, check
from myotwitch.cli import main
from myotwitch.errors import MyotwitchError
from myotwitch.sources import SampleBlock

RATE_HZ = 1000


def run(argv):
    out = io.StringIO()
    code = main(["check", "--no-prompt", "--format", "jsonl", *argv], stdout=out)
    return code, {f["name"]: f for f in map(json.loads, out.getvalue().splitlines())}


def write_recording(path, x_uv):
    t = np.arange(len(x_uv)) / RATE_HZ
    np.savetxt(path, np.column_stack([t, x_uv]), fmt="%.6f", delimiter=",", header="time_s,emg_uv", comments="")
    return str(path)


def rest(seconds, sigma_uv=2.0, seed=1):
    return np.random.default_rng(seed).normal(0, sigma_uv, round(seconds * RATE_HZ))


def test_a_build_that_works_passes_every_check(tmp_path):
    x = np.concatenate([rest(10), rest(5, sigma_uv=60.0, seed=2)])  # relaxed, then a contraction
    code, found = run(["--source", write_recording(tmp_path / "ok.csv", x), "--sensor", "oymotion", "--board", "pico"])
    assert code == 0, found
    assert all(f["ok"] for f in found.values())
    assert set(found) == {"flat", "railed", "mains", "noise floor", "flex"}
    assert found["flex"]["value"] == pytest.approx(30, rel=0.2)
    best, worst = builds.expected_floor_uv(1000, builds.BOARDS["pico"])
    assert best / 2 <= found["noise floor"]["value"] <= 2 * worst


def test_no_contraction_is_reported(tmp_path, capsys):
    code, found = run(["--source", write_recording(tmp_path / "rest.csv", rest(15))])
    assert code == 1 and not found["flex"]["ok"] and found["flex"]["value"] == pytest.approx(1, abs=0.2)
    assert capsys.readouterr().err.strip().endswith("check found 1 problem: flex")


def test_flat_signal(tmp_path):
    code, found = run(["--source", write_recording(tmp_path / "flat.csv", np.full(15 * RATE_HZ, 3.0)),
                       "--sensor", "myoware2", "--board", "pico"])
    assert code == 1 and not found["flat"]["ok"] and "electrode off" in found["flat"]["text"]


def test_railed_signal(tmp_path):
    board = builds.BOARDS["pico"]
    step = builds.uv_per_count(2420, board)  # a BioAmp: ±682 µV before the ADC clips
    low, high = -2048 * step, 2047 * step
    x = np.clip(np.concatenate([rest(10), rest(5, sigma_uv=60.0)]) + np.where(np.arange(15000) % 1000 < 20, 900, 0),
                low, high)
    code, found = run(["--source", write_recording(tmp_path / "railed.csv", x), "--sensor", "bioamp",
                       "--board", "pico", "--flex", "5"])
    assert code == 1 and not found["railed"]["ok"]
    assert found["railed"]["value"] == pytest.approx(0.02, rel=0.1)  # 20 of every 1000 samples


def test_mains_hum(tmp_path):
    t = np.arange(15 * RATE_HZ) / RATE_HZ
    x = np.concatenate([rest(10), rest(5, sigma_uv=60.0)]) + 20 * np.sin(2 * np.pi * 50 * t)
    code, found = run(["--source", write_recording(tmp_path / "hum.csv", x)])
    assert code == 1 and not found["mains"]["ok"]
    assert "50 Hz" in found["mains"]["text"] and found["mains"]["value"] == pytest.approx(20 / np.sqrt(2), rel=0.05)


def test_a_floor_below_what_the_build_resolves_points_at_the_gain(tmp_path):
    # A MyoWare on a Pico cannot show a 2 µV-sigma rest through 4 µV counts: the µV scale is off (gain 1000 set?).
    x = np.concatenate([rest(10), rest(5, sigma_uv=60.0)])
    code, found = run(["--source", write_recording(tmp_path / "r.csv", x), "--sensor", "myoware2", "--board", "pico"])
    assert code == 1 and not found["noise floor"]["ok"] and "gain" in found["noise floor"]["text"]


def test_the_simulated_board_passes_and_a_wrong_gain_is_named():
    # The sim board reports gain 1000 (an OYMotion-like front end): right for oymotion, 5x off for a MyoWare.
    code, found = run(["--source", "sim", "--speed", "0", "--sensor", "oymotion", "--flex", "0"])
    assert code == 0, found
    assert found["gain"]["ok"] and found["noise floor"]["ok"] and found["railed"]["ok"]
    code, found = run(["--source", "sim", "--speed", "0", "--sensor", "myoware2", "--flex", "0"])
    assert code == 1 and not found["gain"]["ok"]
    assert "5x too small" in found["gain"]["text"] and "--sensor myoware2" in found["gain"]["text"]


def test_the_simulated_board_is_not_asked_to_squeeze(capsys):
    """The sim plays a rest recording: a flex phase there could only fail, so it is left out and said so."""
    code, found = run(["--source", "sim", "--speed", "0", "--relax", "3"])  # --flex at its default, 5 s
    assert code == 0 and "flex" not in found, found
    assert "the simulated board cannot be squeezed" in capsys.readouterr().err


def test_phases_are_cut_by_sample_count_and_losses_counted():
    blocks = [SampleBlock(i * 300, np.full(300, float(i)), lost_before=5 if i == 2 else 0) for i in range(20)]
    flexed = []
    phases = check.collect(iter(blocks), RATE_HZ, relax_s=2.0, flex_s=1.0, on_flex=lambda: flexed.append(True))
    assert sum(map(len, phases.relax_uv)) == 2000 and sum(map(len, phases.flex_uv)) == 1000
    assert flexed == [True] and phases.lost_samples == 5
    with pytest.raises(MyotwitchError, match="the stream ended after 1.2 s"):
        check.collect(iter(blocks[:4]), RATE_HZ, relax_s=2.0, flex_s=1.0, on_flex=lambda: None)
