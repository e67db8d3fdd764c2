"""Host faults: a full disk, and two programs on one port. (kill -9 is in test_live_session.py.)"""

from __future__ import annotations

import json
import resource
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from conftest import DEMO_EDF
from myotwitch.errors import MyotwitchError
from myotwitch.recorder import edf_complete, read_events
from myotwitch.recordings import open_recording
from myotwitch.sources.serial_source import SerialSource
from myotwitch.sources.simboard import SimBoard


@pytest.mark.slow  # 7 s
def test_a_full_disk_stops_with_a_clear_error_and_keeps_what_was_written(tmp_path):
    """The process may write at most 100 kB per file (RLIMIT_FSIZE: writes beyond fail as on a full disk)."""
    out, db = tmp_path / "s", tmp_path / "l.sqlite"

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    result = subprocess.run([sys.executable, "-m", "myotwitch", "live", "--source", str(DEMO_EDF), "--speed", "0",
                             "--out", str(out), "--db", str(db), "--format", "jsonl"],
                            preexec_fn=small_disk, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "is the disk full?" in result.stderr
    assert f"what was written is kept in {out}" in result.stderr
    # What was written is readable: raw samples, events, the log.
    raw = np.fromfile(out / "samples.f32", dtype="<f4")
    assert 1000 < len(raw) < 60_000 and np.isfinite(raw).all()
    events = read_events(out)
    assert any(e["type"] == "twitch" for e in events)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1
    # No half-written EDF+ is left to be mistaken for a good one.
    assert not (out / "session.edf").exists() or edf_complete(out / "session.edf")
    assert not (out / "session.edf.tmp").exists()
    # Once there is room, the report writes the EDF+ from what was kept.
    report = subprocess.run([sys.executable, "-m", "myotwitch", "report", str(out), "--db", str(db)],
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    assert edf_complete(out / "session.edf")
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["error"] and summary["samples"] >= len(raw) - 50


def test_a_second_program_on_the_same_port_gets_a_clear_error(tmp_path):
    with SimBoard(open_recording(DEMO_EDF), speed=0) as board:
        first = SerialSource(board.port)
        first.open()
        try:
            with pytest.raises(MyotwitchError, match="another program has it open"):
                SerialSource(board.port).open()
        finally:
            first.close()
        second = SerialSource(board.port)  # free again once the first closed it
        assert second.open().rate_hz == 1000
        second.close()
