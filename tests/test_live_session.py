"""Live sessions end to end: the simulated board (real firmware, Unix port) through a real pty
into the host, written to a session folder with an EDF+ that reads back."""

from __future__ import annotations

import io
import json
import sqlite3
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import DEMO_EDF
from myotwitch.cli import main
from myotwitch.recordings import open_recording
from myotwitch.sources.simboard import SIM_ADC_BITS, SIM_GAIN, SIM_VREF_MV
from test_end_to_end import read_edf, run, synthetic_csv


def sim_uv(recording_samples_uv: np.ndarray) -> np.ndarray:
    """What the simulated 12-bit board reports for a signal: quantised to its ADC, clipped at its rails."""
    lsb_uv = SIM_VREF_MV * 1000.0 / (SIM_GAIN * (1 << SIM_ADC_BITS))
    counts = np.clip(np.round(recording_samples_uv / lsb_uv) + (1 << (SIM_ADC_BITS - 1)), 0, (1 << SIM_ADC_BITS) - 1)
    return (counts - (1 << (SIM_ADC_BITS - 1))) * lsb_uv


def recording_samples(path) -> np.ndarray:
    return np.concatenate(list(open_recording(path).blocks()))


def test_the_live_contract_sim_to_edf_and_events(tmp_path):
    """`live --source sim --speed 0 --duration 60 --out DIR`: session.edf and events.jsonl, as promised."""
    out = tmp_path / "session"
    code, printed = run(["live", "--source", "sim", "--speed", "0", "--duration", "60", "--out", str(out),
                         "--format", "jsonl", "--db", str(tmp_path / "log.sqlite")])
    assert code == 0
    summary = printed[-1]
    assert summary["samples"] == 60_000 and summary["lost_samples"] == 0 and summary["out_dir"] == str(out)
    # The sim board's clock is its timer's: frames exactly 50 ms of device time apart.
    assert summary["device_rate_hz"] == pytest.approx(1000, abs=1e-3) and summary["device_jitter_us_max"] == 0
    # The board's own counters arrive in its STATS status each second, without an END.
    assert summary["device_lost_samples"] == 0 and summary["device_short_writes"] == 0
    assert 1100 <= summary["frames_sent"] <= 1200 and summary["device_fifo_overruns"] == 0

    logged = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert [e for e in logged if e["type"] != "summary"] == printed[:-1]  # the same objects analyze prints
    twitches = [e for e in logged if e["type"] == "twitch"]
    truth = json.loads(DEMO_EDF.with_suffix(".truth.json").read_text())["twitches"]
    assert len(twitches) >= len(truth)

    edf = read_edf(out / "session.edf")
    assert edf.rate_hz == 1000
    expected = sim_uv(recording_samples(DEMO_EDF))
    lsb_uv = SIM_VREF_MV * 1000.0 / (SIM_GAIN * (1 << SIM_ADC_BITS))
    assert len(edf.samples) == 60_000  # 1000 Hz fills whole 50 ms records: no padding
    assert np.max(np.abs(edf.samples - expected)) < lsb_uv / 10  # the same samples, to EDF's 16-bit step

    twitch_notes = [(o, t) for o, t in zip(edf.onsets_s, edf.texts) if t.startswith("twitch")]
    assert len(twitch_notes) == len(twitches)
    assert np.allclose([o for o, _ in twitch_notes], [e["t_s"] for e in twitches], atol=1e-3)
    episodes = [e for e in logged if e["type"] == "episode"]
    assert sum(t.startswith("episode") for t in edf.texts) == len(episodes) > 0

    with sqlite3.connect(tmp_path / "log.sqlite") as db:
        row = db.execute("SELECT out_dir, twitches, samples FROM sessions").fetchone()
    assert row == (str(out.resolve()), len(twitches), 60_000)


@pytest.mark.parametrize("fault, why", [(["--sim-unplug-at", "4", "--sim-unplug-for", "1.5"], "unplugged"),
                                        (["--sim-reset-at", "4"], "restarted")])
@pytest.mark.slow  # 12 s each in real time; on a fake clock in test_replug.py
def test_replug_or_reset_mid_stream_gives_one_gap_of_the_right_length(tmp_path, fault, why):
    """The simulated board loses power after 4 s and comes back 1.5 s later on a new pty, its counter at 0;
    or its processor resets after 4 s (the port stays, the firmware says hello again and waits for START).

    The recording stands for the world's signal, which went on while the board
    was off: the samples before the gap must be the recording's first ones,
    the samples after it the recording from where the world was, and the gap
    annotation must say how long that was.
    """
    path, _ = synthetic_csv(tmp_path, duration_s=12, peak_sigma_range=(20, 40), seed=61)
    out = tmp_path / "s"
    code, printed = run(["demo", "--recording", str(path), "--speed", "1", *fault, "--out", str(out),
                         "--format", "jsonl", "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    summary = printed[-1]
    assert summary["reconnects"] == 1 and summary["gaps"] == 1
    edf = read_edf(out / "session.edf")
    gaps = [(o, d, t) for o, d, t in zip(edf.onsets_s, edf.durations_s, edf.texts) if t.startswith("gap")]
    assert len(gaps) == 1
    gap_start_s, gap_s, text = gaps[0]
    assert why in text
    rate = 1000
    first_lost, lost = round(gap_start_s * rate), round(gap_s * rate)
    assert lost == summary["lost_samples"]

    world = sim_uv(recording_samples(path))
    before = edf.samples[:first_lost]
    assert 3500 <= first_lost <= 4000  # what the board sent before the cable went (its last frame may be lost)
    assert np.allclose(before, world[:first_lost], atol=0.05)
    # Where in the world did the board pick up again? The samples after the gap match exactly one place.
    after = edf.samples[first_lost + lost : first_lost + lost + 500]
    errors = [np.max(np.abs(after - world[k : k + len(after)])) for k in range(first_lost, len(world) - len(after))]
    true_resume = first_lost + int(np.argmin(errors))
    assert min(errors) < 0.05
    # The host measured the gap from its own clock: within 60 ms of the truth.
    assert abs((first_lost + lost) - true_resume) <= 60
    # Nothing lost outside the gap: the rest is contiguous.
    tail = edf.samples[first_lost + lost : first_lost + lost + summary["samples"] - first_lost]
    resumed = world[true_resume : true_resume + len(tail)]
    assert len(resumed) == len(tail) and np.allclose(tail, resumed, atol=0.05)


def test_board_is_found_by_usb_id_and_hello(tmp_path, monkeypatch):
    """No --port: known USB ids are tried in turn; a port that does not answer is passed over."""
    path, src = synthetic_csv(tmp_path, duration_s=8, peak_sigma_range=(20, 40), seed=62)
    from myotwitch.sources.simboard import SimBoard
    from serial.tools import list_ports

    with SimBoard(open_recording(path), speed=0) as board:
        fake = [SimpleNamespace(device=str(tmp_path / "not-a-port"), vid=0x0403, pid=0x6001, description="FTDI"),
                SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None, description="n/a"),
                SimpleNamespace(device=board.port, vid=0x2E8A, pid=0x0005, description="Board in FS mode")]
        monkeypatch.setattr(list_ports, "comports", lambda: fake)
        code, printed = run(["live", "--format", "jsonl", "--out", str(tmp_path / "s"),
                             "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    assert printed[-1]["samples"] == src.n_samples
    assert len([e for e in printed if e["type"] == "twitch"]) == len(src.true_times_s)


def test_no_board_names_what_it_saw(monkeypatch, capsys, tmp_path):
    from serial.tools import list_ports

    fake = [SimpleNamespace(device=str(tmp_path / "gone"), vid=0x2E8A, pid=0x0005, description="Board in FS mode"),
            SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None, description="n/a")]
    monkeypatch.setattr(list_ports, "comports", lambda: fake)
    code, _ = run(["live", "--db", str(tmp_path / "l.sqlite")])
    err = capsys.readouterr().err
    assert code == 1
    assert "no myotwitch firmware answered" in err and "2E8A:0005" in err and str(tmp_path / "gone") in err

    monkeypatch.setattr(list_ports, "comports", lambda: fake[1:])
    code, _ = run(["live", "--db", str(tmp_path / "l.sqlite")])
    err = capsys.readouterr().err
    assert code == 1 and "no board found" in err and "/dev/ttyS0" in err and "--port" in err


def test_live_from_a_recording_matches_analyze(tmp_path):
    path, src = synthetic_csv(tmp_path, duration_s=20, peak_sigma_range=(20, 40), seed=63)
    code, live = run(["live", "--source", str(path), "--speed", "0", "--format", "jsonl", "--out", str(tmp_path / "s"),
                      "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    code, offline = run(["analyze", str(path), "--format", "jsonl"])
    assert code == 0
    assert [e for e in live if e["type"] == "twitch"] == [e for e in offline if e["type"] == "twitch"]
    assert len([e for e in live if e["type"] == "twitch"]) == len(src.true_times_s)
    assert len(read_edf(tmp_path / "s" / "session.edf").samples) >= src.n_samples


def test_a_second_session_in_the_same_folder_is_refused(tmp_path, capsys):
    path, _ = synthetic_csv(tmp_path, duration_s=3, seed=64)
    argv = ["live", "--source", str(path), "--speed", "0", "--out", str(tmp_path / "s"), "--db", str(tmp_path / "l"),
            "--format", "jsonl"]
    assert run(argv)[0] == 0
    assert run(argv)[0] == 1
    assert "already holds a session" in capsys.readouterr().err


@pytest.mark.slow  # 3 s of real time
def test_effective_rate_is_stored_beside_the_nominal(tmp_path):
    path, _ = synthetic_csv(tmp_path, duration_s=15, seed=65)
    code, printed = run(["live", "--source", str(path), "--speed", "5", "--format", "jsonl",
                         "--out", str(tmp_path / "s"), "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    # Five times real time: about 5000 samples per second of host clock (a 3 s fit).
    assert printed[-1]["rate_hz"] == 1000 and 4500 < printed[-1]["effective_rate_hz"] < 5500
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        assert db.execute("SELECT rate_hz, rate_hz_effective FROM sessions").fetchone()[1] == pytest.approx(
            printed[-1]["effective_rate_hz"], rel=1e-3)


@pytest.mark.slow  # a demo and its report
def test_report_page_and_plots_from_a_recorded_session(tmp_path, capsys):
    out, db = tmp_path / "s", tmp_path / "l.sqlite"
    code, printed = run(["live", "--source", "sim", "--speed", "0", "--duration", "60", "--out", str(out),
                         "--format", "jsonl", "--db", str(db)])
    assert code == 0
    session = printed[-1]["session"]
    # The person says afterwards what a moment was: it reaches the log, the events and the EDF+.
    assert main(["mark", str(session), "--at", "12.5", "felt-twitch", "--db", str(db)], stdout=io.StringIO()) == 0
    edf = read_edf(out / "session.edf")
    assert [(o, t) for o, t in zip(edf.onsets_s, edf.texts) if t.startswith("mark")] == [(12.5, "mark: felt-twitch")]

    text = io.StringIO()
    assert main(["report", str(session), "--db", str(db)], stdout=text) == 0  # by number, through the log
    page = (out / "report.html").read_text()
    assert "does not diagnose" in page and "does not diagnose" in text.getvalue()
    episodes = [e for e in printed if e["type"] == "episode"]
    twitches = len([e for e in printed if e["type"] == "twitch"])
    # One row per episode, per twitch and for the mark; the figures are in the page (tests/test_report.py).
    assert page.count("<tr><td>") == len(episodes) + twitches + 1 and len(episodes) > 0
    assert page.count("<svg") == 5 and "src=" not in page and not list(out.glob("*.png"))
    assert f"twitches    {twitches} " in text.getvalue()


@pytest.mark.slow  # a demo and its report
def test_report_of_a_session_that_crashed_writes_its_edf_first(tmp_path, capsys):
    out = tmp_path / "s"
    code, _ = run(["live", "--source", "sim", "--speed", "0", "--duration", "20", "--out", str(out),
                   "--format", "jsonl", "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    (out / "session.edf").unlink()  # as after a kill -9: raw samples and events only
    assert main(["report", str(out)], stdout=io.StringIO()) == 0
    assert "did not end cleanly" in capsys.readouterr().err
    assert len(read_edf(out / "session.edf").samples) == 20_000


def test_report_of_something_else_is_a_clear_error(tmp_path, capsys):
    assert run(["report", str(tmp_path / "nowhere")])[0] == 1
    assert "is not a folder" in capsys.readouterr().err
    assert run(["report", str(tmp_path)])[0] == 1
    assert "not a myotwitch session folder" in capsys.readouterr().err


def test_sessions_lists_what_was_recorded(tmp_path):
    db = tmp_path / "l.sqlite"
    path, _ = synthetic_csv(tmp_path, duration_s=4, seed=66)
    for name in ("a", "b"):
        assert run(["live", "--source", str(path), "--speed", "0", "--out", str(tmp_path / name),
                    "--db", str(db), "--format", "jsonl"])[0] == 0
    code, rows = run(["sessions", "--db", str(db), "--format", "jsonl"])
    assert code == 0 and [r["id"] for r in rows] == [1, 2]
    assert [r["out_dir"] for r in rows] == [str((tmp_path / n).resolve()) for n in ("a", "b")]
    assert all(r["samples"] == 4000 and r["ended_utc"] for r in rows)


def test_the_edf_opens_in_mne_with_samples_and_annotations(tmp_path):
    mne = pytest.importorskip("mne")
    out = tmp_path / "s"
    code, printed = run(["live", "--source", "sim", "--speed", "0", "--duration", "30", "--out", str(out),
                         "--format", "jsonl", "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    raw = mne.io.read_raw_edf(out / "session.edf", preload=True, verbose="error")
    assert raw.info["sfreq"] == 1000 and raw.n_times == 30_000
    ours = np.fromfile(out / "samples.f32", "<f4")
    assert np.max(np.abs(raw.get_data()[0] * 1e6 - ours)) < 0.01  # MNE reads volts; the file says µV
    twitches = [e for e in printed if e["type"] == "twitch"]
    mne_twitches = [o for o, d in zip(raw.annotations.onset, raw.annotations.description) if d.startswith("twitch")]
    assert len(mne_twitches) == len(twitches) > 0
    assert np.allclose(mne_twitches, [e["t_s"] for e in twitches], atol=1e-3)


@pytest.mark.slow  # 5 s of real time
def test_kill_9_mid_session_loses_at_most_about_a_second(tmp_path):
    """A real SIGKILL while recording: what was streamed up to about a second before is on disk, readable,
    and `report` writes the EDF+ from it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    path, _ = synthetic_csv(tmp_path, duration_s=60, peak_sigma_range=(20, 40), seed=68)
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "myotwitch", "live", "--source", str(path), "--speed", "1",
                             "--out", str(out), "--db", str(tmp_path / "l.sqlite"), "--format", "jsonl"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not (out / "samples.f32").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    began = time.monotonic()
    time.sleep(3.0)
    streamed_s = time.monotonic() - began
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    on_disk_s = (out / "samples.f32").stat().st_size / 4 / 1000
    assert on_disk_s >= streamed_s - 1.0
    with sqlite3.connect(tmp_path / "l.sqlite") as db:  # the log is readable, the session in it, not ended
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM sessions WHERE ended_utc IS NULL").fetchone()[0] == 1
    assert main(["report", str(out)], stdout=io.StringIO()) == 0
    assert (out / "session.edf").exists() and (out / "report.html").exists()
    assert len(read_edf(out / "session.edf").samples) >= on_disk_s * 1000
