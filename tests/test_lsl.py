"""The Lab Streaming Layer outlet, resolved and read by a real LSL inlet on this machine."""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import numpy as np
import pytest

from myotwitch.events import Twitch
from myotwitch.live.lsl import LslOutlet
from myotwitch.sources import SampleBlock
from test_end_to_end import run, synthetic_csv

pylsl = pytest.importorskip("pylsl")


@pytest.mark.slow  # waits for a real LSL inlet on loopback
def test_signal_and_markers_reach_an_inlet():
    name = f"myotwitch-test-{uuid.uuid4().hex[:8]}"
    outlet = LslOutlet(name=name)
    outlet.open(SimpleNamespace(fields={"uid": "abc"}, board="sim", firmware="fw"), 1000)
    try:
        (signal,) = pylsl.resolve_byprop("name", name, timeout=10)
        (markers,) = pylsl.resolve_byprop("name", f"{name}-markers", timeout=10)
        assert (signal.type(), signal.nominal_srate(), signal.channel_count()) == ("EMG", 1000.0, 1)
        assert (markers.type(), markers.nominal_srate()) == ("Markers", pylsl.IRREGULAR_RATE)
        inlet, marker_inlet = pylsl.StreamInlet(signal), pylsl.StreamInlet(markers)
        inlet.open_stream(timeout=10)
        marker_inlet.open_stream(timeout=10)
        channel = inlet.info(timeout=10).desc().child("channels").child("channel")
        assert (channel.child_value("label"), channel.child_value("unit")) == ("EMG", "microvolts")
        time.sleep(0.3)  # the outlet learns of its consumers
        for i in range(0, 1000, 50):
            twitch = [Twitch(500, 495, 505, peak_uv=42.0, noise_uv=2.0)] if i == 500 else []
            outlet.push(SampleBlock(i, np.arange(i, i + 50, dtype=float)), twitch)
        got, stamps = [], []
        deadline = time.monotonic() + 10
        while len(got) < 1000 and time.monotonic() < deadline:
            chunk, ts = inlet.pull_chunk(timeout=1.0, max_samples=2000)
            got += [c[0] for c in chunk]
            stamps += ts
        assert got == list(range(1000))
        marker, stamp = marker_inlet.pull_sample(timeout=10)
        assert marker == ["twitch 42.0 uV"]
        # Stamped at its sample (index 500: 0.5 s after the first), not when it was pushed
        # (the blocks were pushed within milliseconds here).
        assert stamp - stamps[0] == pytest.approx(0.5, abs=0.01)
    finally:
        outlet.close()


def test_live_with_lsl_runs(tmp_path):
    path, _ = synthetic_csv(tmp_path, duration_s=3, seed=67)
    code, printed = run(["live", "--source", str(path), "--speed", "0", "--lsl", "--format", "jsonl",
                         "--out", str(tmp_path / "s"), "--db", str(tmp_path / "l.sqlite")])
    assert code == 0 and printed[-1]["samples"] == 3000
