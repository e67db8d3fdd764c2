"""Where a twitch is placed in time: at the potential's peak in the recording, not the filter's delayed copy."""

from __future__ import annotations

import numpy as np
import pytest
from myotwitch.dsp.detector import Twitch, TwitchDetector
from myotwitch.sources import synthetic as syn


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0, 4000.0])
@pytest.mark.parametrize("mains_hz", [None, 50.0, 60.0])
def test_a_twitch_is_at_the_raw_peak_within_1_ms(rate_hz, mains_hz):
    # Issue 13 item 6: the causal band-pass delays the filtered peak by about 4 ms; t_s (peak_index) must be
    # the potential's largest phase in the raw trace, so offline, live and EDF+ annotations line up with it.
    rng = np.random.default_rng(int(rate_hz) + int(mains_hz or 0))
    x = rng.normal(0.0, 2.0, int(40 * rate_hz))
    if mains_hz:
        syn.add_mains(x, rate_hz, mains_hz, 20.0)
    # Units of 8-30 ms, bi- and triphasic. A biphasic unit's two phases are the same size: its peak is either.
    units = [syn.motor_unit_potential(rate_hz, rng.uniform(8, 30), 2 + k % 2, rng) for k in range(6)]
    at = [int(s * rate_hz) for s in np.arange(3.0, 38.0, 1.3)]
    peaks = []  # the raw peak, and where the other phase of the same size peaks (biphasic units)
    for k, i in enumerate(at):
        unit = units[k % len(units)]
        syn.add_potential(x, i, unit, rng.uniform(8, 30) * 2.0)
        centre = int(np.argmax(np.abs(unit)))
        other = int(np.argmax(-np.sign(unit[centre]) * unit))
        peaks.append((i, i + other - centre if k % 2 == 0 else i))
    det = TwitchDetector(rate_hz)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    tolerance = round(0.001 * rate_hz)
    errors = [min(min(abs(t.peak_index - i), abs(t.peak_index - j)) for t in twitches) for i, j in peaks]
    assert max(errors) <= tolerance, errors
    for t in twitches:
        assert t.onset_index <= t.peak_index <= t.end_index
