"""`myotwitch analyze` of files with several EMG signals, through main(argv), and single-signal files unchanged."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest

from conftest import ROOT
from myotwitch.cli import main
from test_channels import RATE_HZ, scene

sys.path.insert(0, str(ROOT / "tools"))

import recording_files as rf

SECONDS = 24.0
CSV_SECONDS = 14.0  # the CSVs' scene: 3 twitches and 2 common-mode potentials, written and parsed row by row


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    """Three EMG signals (twitches in the first, crosstalk in the second, common-mode in all) and an ECG signal."""
    x, twitches, common = scene(seconds=SECONDS)
    counts = np.round(x).astype(np.int64)
    ecg = np.zeros(counts.shape[1], dtype=np.int64)
    path = tmp_path_factory.mktemp("multi") / "three.edf"
    path.write_bytes(rf.edf_bytes([counts[0], counts[1], ecg, counts[2]], rate_hz=RATE_HZ, annotations=True,
                                  labels=["EMG APB", "EMG FDI", "ECG", "EMG FCR"]))
    return path, twitches, common


def analyze(*argv: str) -> tuple[int, list[dict] | str]:
    out = io.StringIO()
    code = main(["analyze", *argv], stdout=out)
    text = out.getvalue()
    return code, [json.loads(line) for line in text.splitlines()] if "jsonl" in argv else text


def test_every_emg_signal_is_analysed_and_its_events_name_it(three, capsys):
    path, twitches, common = three
    code, lines = analyze(str(path), "--format", "jsonl")
    assert code == 0
    events = [e for e in lines if e["type"] != "summary"]
    assert events and all(e["channel"] in (0, 1, 2) for e in events)
    assert {e["muscle"] for e in events} <= {"EMG APB", "EMG FDI", "EMG FCR"}
    found = [e for e in events if e["type"] == "twitch"]
    # Each twitch once, on the channel where it is largest; the common-mode potentials nowhere.
    assert len(found) == len(twitches)
    assert {e["channel"] for e in found} == {0}
    assert all(min(abs(e["t_s"] * RATE_HZ - t) for t in twitches) < 40 for e in found)
    assert sum(e["reason"] == "artifact: common-mode" for e in events if e["type"] == "rejected") >= len(common)
    summary = lines[-1]
    assert summary["type"] == "summary" and summary["twitches"] == len(twitches)
    assert [(c["channel"], c["muscle"], c["twitches"]) for c in summary["channels"]] == [
        (0, "EMG APB", len(twitches)), (1, "EMG FDI", 0), (2, "EMG FCR", 0)]
    assert summary["skipped_signals"] == ["signal 3 'ECG': its label says it is not EMG"]
    assert "skipped signal 3 'ECG'" in capsys.readouterr().err


def test_muscles_named_one_per_signal_and_the_summary_says_what_supplies_them(three):
    path, twitches, _ = three
    code, lines = analyze(str(path), "--format", "jsonl", "--muscle", "right APB", "--muscle", "right FDI",
                          "--muscle", "right FCR")
    assert code == 0
    assert {e["muscle"] for e in lines[:-1] if e["type"] == "twitch"} == {"right APB"}
    apb = lines[-1]["channels"][0]
    assert (apb["muscle"], apb["nerve"], apb["roots"]) == ("right APB", "median", "C8-T1")
    code, text = analyze(str(path), "--muscle", "right APB", "--muscle", "right FDI", "--muscle", "elbow thing")
    assert code == 0
    assert f"[0] right APB: {len(twitches)} twitches, 1 episode" in text
    assert "supplied by the median nerve, roots C8-T1" in text and "supplied by the ulnar nerve" in text
    assert "[2] elbow thing: 0 twitches" in text and "elbow thing: 0 twitches, 0 episodes, noise floor " in text
    assert ", 5 seen on other channels too" in text
    # Each channel's noise floor, as in the JSON, and what was not counted, summed over the channels.
    floors = [c["noise_uv"] for c in lines[-1]["channels"]]
    assert all(f"noise floor {f:.2f} µV" in text for f in floors)
    not_counted = [line for line in text.splitlines() if line.startswith("  not counted")]
    rejected = {}
    for c in lines[-1]["channels"]:
        for why, n in c["rejected"].items():
            rejected[why] = rejected.get(why, 0) + n
    assert len(not_counted) == 1 and not_counted[0].endswith("(all channels)")
    assert all(f"{n} {why}" in not_counted[0] for why, n in rejected.items())


def test_a_muscle_name_missing_is_a_one_line_error(three, capsys):
    path, _, _ = three
    code, _ = analyze(str(path), "--muscle", "right APB")
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "1 muscle name for 3 EMG signals" in err


def test_csv_signal_columns_are_channels(tmp_path):
    x, twitches, _ = scene(seconds=CSV_SECONDS)
    path = tmp_path / "two.csv"
    rows = "\n".join(f"{i / RATE_HZ:.4f},{a:.1f},{b:.1f}" for i, (a, b) in enumerate(zip(x[0], x[1], strict=True)))
    path.write_text("time_s,left_apb_uv,left_fdi_uv\n" + rows + "\n")
    code, lines = analyze(str(path), "--format", "jsonl")
    assert code == 0
    found = [e for e in lines if e["type"] == "twitch"]
    assert len(found) == len(twitches) and {(e["channel"], e["muscle"]) for e in found} == {(0, "left_apb_uv")}
    assert [c["muscle"] for c in lines[-1]["channels"]] == ["left_apb_uv", "left_fdi_uv"]
    crosstalk = [e for e in lines if e["type"] == "rejected" and e["reason"] == "crosstalk"]
    assert crosstalk and {e["channel"] for e in crosstalk} == {1}


def test_a_batch_of_multichannel_files_gives_its_rows(three, tmp_path):
    path, twitches, _ = three
    out = tmp_path / "batch"
    assert main(["analyze", str(path), "--out", str(out)], stdout=io.StringIO()) == 0
    rows = (out / "summary.csv").read_text().splitlines()
    header, row = rows[0].split(","), rows[1].split(",")
    got = dict(zip(header, row, strict=True))
    assert got["status"] == "ok" and int(got["twitches"]) == len(twitches)
    assert float(got["duration_s"]) == SECONDS and int(got["samples"]) == SECONDS * RATE_HZ


def test_csv_columns_that_say_they_are_not_emg_are_skipped_and_said(tmp_path, capsys):
    x, _, _ = scene(seconds=CSV_SECONDS)
    path = tmp_path / "with_ecg.csv"
    rows = "\n".join(f"{i / RATE_HZ:.4f},{a:.1f},{b:.1f},{c:.1f},0.98"
                     for i, (a, b, c) in enumerate(zip(x[0], x[1], x[2], strict=True)))
    path.write_text("time_s,apb_uv,ecg_uv,fdi_uv,accel_g\n" + rows + "\n")
    code, lines = analyze(str(path), "--format", "jsonl")
    assert code == 0
    assert [c["muscle"] for c in lines[-1]["channels"]] == ["apb_uv", "fdi_uv"]
    assert lines[-1]["skipped_signals"] == ["column 3 'ecg_uv': its name says it is not EMG",
                                            "column 5 'accel_g': its name says it is not EMG"]
    assert "skipped column 5 'accel_g'" in capsys.readouterr().err


def test_a_gap_in_one_column_is_that_channels_alone(tmp_path):
    x, twitches, _ = scene(seconds=CSV_SECONDS)
    path = tmp_path / "gap.csv"
    rows = "\n".join(f"{i / RATE_HZ:.4f},{a:.1f}," + ("" if 10_000 < i < 10_100 else f"{b:.1f}")
                     for i, (a, b) in enumerate(zip(x[0], x[1], strict=True)))
    path.write_text("time_s,apb_uv,fdi_uv\n" + rows + "\n")
    code, lines = analyze(str(path), "--format", "jsonl")
    assert code == 0
    gaps = [e for e in lines if e["type"] == "gap"]
    assert [(g["channel"], g["muscle"], g["start_s"], g["samples"]) for g in gaps] == [(1, "fdi_uv", 5.0005, 99)]
    summary = lines[-1]
    assert [c["lost_samples"] for c in summary["channels"]] == [0, 99]
    assert (summary["samples"], summary["lost_samples"]) == (len(x[0]), 0)  # the fullest channel's
    assert summary["channels"][0]["twitches"] == len(twitches)


def test_one_signal_gives_no_channel_keys(tmp_path):
    """One channel cannot tell the common-mode potentials from twitches: it counts both, as before."""
    x, twitches, common = scene(seconds=SECONDS)
    path = tmp_path / "one.edf"
    path.write_bytes(rf.edf_bytes([np.round(x[0]).astype(np.int64)], rate_hz=RATE_HZ))
    code, lines = analyze(str(path), "--format", "jsonl")
    assert code == 0 and len([e for e in lines if e["type"] == "twitch"]) == len(twitches) + len(common)
    assert not [e for e in lines if "channel" in e or "muscle" in e]
    code, lines = analyze(str(path), "--format", "jsonl", "--muscle", "left FDI")
    assert not [e for e in lines[:-1] if "muscle" in e]
    assert (lines[-1]["muscle"], lines[-1]["nerve"]) == ("left FDI", "ulnar")


def test_muscles_command_lists_the_table_and_a_preset(capsys):
    out = io.StringIO()
    assert main(["muscles", "--preset", "carpal-tunnel"], stdout=out) == 0
    text = out.getvalue()
    assert "channel 0: abductor pollicis brevis (median nerve, roots C8-T1)" in text
    assert "--muscle 'apb' --muscle 'fdi' --muscle 'fcr'" in text and "not a diagnosis" in text
    out = io.StringIO()
    assert main(["muscles", "--format", "jsonl"], stdout=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {"muscle": "tibialis anterior", "nerve": "deep peroneal (fibular)", "roots": "L4-L5"}.items() <= \
        next(r for r in rows if r["muscle"] == "tibialis anterior").items()
    assert main(["muscles", "--preset", "nowhere"], stdout=io.StringIO()) == 2
    assert "no preset 'nowhere'" in capsys.readouterr().err


def test_live_takes_one_muscle_as_before_and_refuses_several(capsys):
    from myotwitch.cli.parser import build_parser

    args = build_parser().parse_args(["live", "--source", "sim", "--muscle", "left FDI"])
    assert args.muscle == ["left FDI"]
    code = main(["demo", "--speed", "0", "--duration", "1", "--no-view", "--muscle", "a", "--muscle", "b"],
                stdout=io.StringIO())
    assert code == 1 and "2 muscles named, but this session streams one channel" in capsys.readouterr().err


def test_the_live_view_gets_the_one_muscle_name(monkeypatch, tmp_path):
    """--muscle is a list now: the views still get the name, not the list."""
    from myotwitch.live import view

    seen = []

    class Recorded(view.LiveView):
        def __init__(self, *args, muscle=None, **kwargs):
            seen.append(muscle)
            super().__init__(*args, muscle=muscle, **kwargs)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(view, "LiveView", Recorded)
    code = main(["demo", "--speed", "0", "--duration", "1", "--muscle", "left FDI", "--out", str(tmp_path / "s"),
                 "--db", str(tmp_path / "db.sqlite")], stdout=Terminal())
    assert code == 0 and seen == ["left FDI"]
