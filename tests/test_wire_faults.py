"""The decoder under wire faults (benchmarks/wire_faults.py's injectors), property-based, and a bounded fuzz run."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import wire_faults  # noqa: E402
from myotwitch import protocol as P  # noqa: E402


@pytest.mark.parametrize("name", sorted(wire_faults.FAULTS))
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), wrap=st.booleans())
@example(seed=325, wrap=False)  # a CRC-16 collision under truncation
def test_every_intact_frame_recovered_and_every_sample_accounted_for(name, seed, wrap):
    first = P.SEQ_MODULUS - 1000 if wrap else 0
    o = wire_faults.run_fault(wire_faults.FAULTS[name], 60, seed, first)
    assert o.delivered + o.lost == o.produced
    assert o.max_buffer_bytes <= P.MAX_FRAME_BYTES
    # CRC-16 lets about one damaged frame in 65,536 through (seed 325, truncation: a cut frame plus the
    # start of the next passed its CRC). Such a frame can only come from damage, and may swallow the
    # frame it overlaps; without one, every intact frame is recovered.
    assert o.wrong <= o.sent - o.intact
    if o.wrong == 0:
        assert o.intact_recovered == o.intact


def test_the_fault_table_shows_damage_was_done():
    # The injectors really damage the stream (else the property above proves nothing).
    o = wire_faults.run_fault(wire_faults.FAULTS["truncated frames (5 %)"], 400, 3)
    assert o.intact < o.sent and o.lost > 0
    o = wire_faults.run_fault(wire_faults.FAULTS["bit flips (1 byte in 10,000)"], 2000, 3)
    assert o.crc_errors > 0 and o.intact < o.sent
    o = wire_faults.run_fault(wire_faults.FAULTS["duplicated frames (5 %)"], 400, 3)
    assert o.stale_frames > 0 and o.delivered == o.produced


def test_coverage_guided_fuzzing_bounded_run():
    pytest.importorskip("atheris")
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz_decoder.py"), "-runs=20000", "-seed=7"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 20000 runs" in result.stderr
