"""The whole path: recording -> firmware in the MicroPython Unix port -> pty -> pyserial -> host -> SQLite."""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
import threading
import time

import numpy as np
import pytest

from conftest import DEMO_EDF
from myotwitch.cli import main
from myotwitch.errors import MyotwitchError
from myotwitch.recordings import open_recording
from myotwitch.sources.serial_source import SerialSource
from myotwitch.sources.simboard import SimBoard
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

TRUTH = json.loads(DEMO_EDF.with_suffix(".truth.json").read_text())["twitches"]


def run(argv):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def read_edf(path):
    import pyedflib

    class Edf:
        pass

    edf = Edf()
    with pyedflib.EdfReader(str(path)) as f:
        edf.samples = f.readSignal(0)
        edf.rate_hz = f.getSampleFrequency(0)
        edf.onsets_s, edf.durations_s, edf.texts = f.readAnnotations()
    return edf


def synthetic_csv(tmp_path, **kw):
    src = SyntheticSource(SyntheticConfig(**kw))
    path = tmp_path / "sig.csv"
    t = np.arange(src.n_samples) / src.rate_hz
    np.savetxt(path, np.column_stack([t, src.signal_uv]), fmt="%.6f", delimiter=",", header="time_s,emg_uv",
               comments="")
    return path, src


def test_demo_through_a_real_pty(tmp_path):
    db = tmp_path / "log.sqlite"
    code, events = run(["demo", "--speed", "0", "--format", "jsonl", "--db", str(db)])
    assert code == 0
    summary = events[-1]
    assert summary["type"] == "summary"
    # Every frame the firmware sent was decoded; nothing lost, nothing broken.
    assert summary["frames"] == summary["frames_sent"] == 60_000 // 50
    assert summary["samples"] == summary["samples_produced"] == 60_000
    assert summary["lost_samples"] == summary["device_lost_samples"] == summary["crc_errors"] == 0
    assert summary["firmware"].startswith("myotwitch-fw ") and summary["board"] == "sim"
    assert summary["port"].startswith("/dev/")
    # A twitch near every injected time (the 12-bit simulated ADC quantises the signal on the way),
    # or, where two were injected 10-110 ms apart, one twitch flagged as a doublet.
    twitches = [e for e in events if e["type"] == "twitch"]
    found = np.array([e["t_s"] for e in twitches])
    doublet_seconds = [e["t_s"] + e["doublet_ms"] / 1000 for e in twitches if e["doublet_ms"]]
    for t in TRUTH:
        near = np.min(np.abs(found - t["t_s"])) <= 0.010
        assert near or np.min(np.abs(np.array(doublet_seconds) - t["t_s"])) <= 0.010, t
    # Everything else is the real background's own small potentials: all far below the injected 25-150 µV.
    injected = np.array([t["t_s"] for t in TRUTH])
    extra = [e for e in twitches if np.min(np.abs(injected - e["t_s"])) > 0.010]
    assert all(e["peak_uv"] < 15.0 for e in extra) and len(extra) <= 30
    assert summary["twitches"] == len(found) and summary["episodes"] >= 3
    # The log holds the same session.
    with sqlite3.connect(db) as con:
        (n,) = con.execute("SELECT COUNT(*) FROM twitches WHERE session_id = ?", (summary["session"],)).fetchone()
        row = con.execute("SELECT samples, lost_samples, twitches, firmware FROM sessions WHERE id = ?",
                          (summary["session"],)).fetchone()
    assert n == len(found)
    assert row == (60_000, 0, len(found), summary["firmware"])


@pytest.mark.slow  # real time
def test_demo_is_paced_at_the_recording_rate(tmp_path):
    path, _ = synthetic_csv(tmp_path, duration_s=6, seed=41)
    start = time.monotonic()
    code, events = run(["demo", "--recording", str(path), "--speed", "4", "--format", "jsonl",
                        "--db", str(tmp_path / "l.sqlite")])
    elapsed_s = time.monotonic() - start
    assert code == 0 and events[-1]["samples"] == 6000 and events[-1]["lost_samples"] == 0
    # 6 s of signal at 4x cannot arrive sooner than 1.5 s (a lower bound only: slow machines take longer).
    assert elapsed_s >= 1.4


def test_demo_duration_stops_early(tmp_path):
    code, events = run(["demo", "--speed", "0", "--duration", "10", "--format", "jsonl",
                        "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    assert events[-1]["seconds"] == 10.0 and events[-1]["samples"] == 10_000
    # Stopped before the board's END: its counters are those of its last STATS (one a second).
    assert 180 <= events[-1]["frames_sent"] <= events[-1]["frames"] and events[-1]["device_lost_samples"] == 0


def test_live_on_the_simulated_boards_port(tmp_path):
    path, src = synthetic_csv(tmp_path, duration_s=30, peak_sigma_range=(20, 40), seed=42)
    with SimBoard(open_recording(path), speed=0) as board:
        code, events = run(["live", "--port", board.port, "--format", "jsonl", "--db", str(tmp_path / "l.sqlite")])
    assert code == 0
    found = np.array([e["t_s"] for e in events if e["type"] == "twitch"])
    assert len(found) == len(src.true_times_s)
    assert np.all(np.abs(found - src.true_times_s) <= 0.01)


def test_board_refuses_a_rate_it_cannot_play(tmp_path, capsys):
    path, _ = synthetic_csv(tmp_path, duration_s=3, seed=43)
    with SimBoard(open_recording(path), speed=0) as board:
        code, _ = run(["live", "--port", board.port, "--rate", "2000", "--db", str(tmp_path / "l.sqlite")])
    assert code == 1
    assert "refused 'RATE 2000': unsupported rate" in capsys.readouterr().err


def test_no_firmware_on_the_port_is_a_clear_error():
    # The wait for a hello on an injected clock: 0.1 s a reading, so 0.3 s pass in three reads of the port.
    readings = itertools.count(0.0, 0.1)
    source = SerialSource("loop://", answer_timeout_s=0.3, clock=lambda: next(readings))
    with pytest.raises(MyotwitchError, match="no myotwitch firmware answered on loop://"):
        source.open()


def test_host_sees_the_firmware_hello_fields(tmp_path):
    path, _ = synthetic_csv(tmp_path, duration_s=2, rate_hz=500, seed=44)
    with SimBoard(open_recording(path), speed=0) as board:
        source = SerialSource(board.port)
        info = source.open()
        source.close()
    assert (info.board, info.rate_hz, info.adc_bits, info.vref_mv, info.gain) == ("sim", 500, 12, 3300, 1000.0)
    assert info.fields["upy"].startswith("1.")


def test_capture_replays_to_the_same_twitches(tmp_path):
    cap = tmp_path / "session.mtwcap"
    code, live = run(["demo", "--speed", "0", "--format", "jsonl", "--db", str(tmp_path / "l.sqlite"),
                      "--capture", str(cap)])
    assert code == 0 and cap.stat().st_size > 60_000
    code, replayed = run(["analyze", str(cap), "--format", "jsonl"])
    assert code == 0
    twitches = [e for e in live if e["type"] == "twitch"]
    assert twitches and [e for e in replayed if e["type"] == "twitch"] == twitches
    assert replayed[-1]["samples"] == 60_000 and replayed[-1]["lost_samples"] == 0


def test_capture_without_hello_is_a_clear_error(tmp_path, capsys):
    cap = tmp_path / "junk.mtwcap"
    cap.write_bytes(b"\x00" * 1000)
    code, _ = run(["analyze", str(cap)])
    assert code == 1 and "no hello frame" in capsys.readouterr().err


@pytest.mark.slow  # 11 s: waits out the silence timeout
def test_port_that_disappears_keeps_what_was_logged(tmp_path, capsys):
    """The board is lost for good: after --give-up-after, what was found is logged and recorded, exit 1."""
    path, _ = synthetic_csv(tmp_path, duration_s=120, peak_sigma_range=(20, 40), twitch_rate_per_min=30, seed=45)
    db = tmp_path / "l.sqlite"
    with SimBoard(open_recording(path), speed=1.0) as board:
        killer = threading.Timer(9.0, board._end_process)  # the 'user' pulls the cable for good after ~8 s
        killer.start()
        try:
            code, events = run(["live", "--port", board.port, "--format", "jsonl", "--db", str(db),
                                "--out", str(tmp_path / "s"), "--give-up-after", "1"])
        finally:
            killer.cancel()
    assert code == 1
    summary = events[-1]
    assert summary["type"] == "summary" and "did not come back" in summary["error"]
    assert 7.0 <= summary["seconds"] < 30
    with sqlite3.connect(db) as con:
        row = con.execute("SELECT ended_utc, samples, twitches FROM sessions").fetchone()
    assert row[0] is not None and row[1] == summary["samples"] and row[2] == summary["twitches"]
    assert "did not come back" in capsys.readouterr().err
    edf = read_edf(tmp_path / "s" / "session.edf")
    assert len(edf.samples) >= summary["samples"]
