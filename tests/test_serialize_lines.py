"""analyze's JSON lines written straight from a twitch's or a rejection's fields: the bytes json.dumps gives."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from myotwitch.dsp.events import Reason
from myotwitch.events import ChannelEvent, Episode, Rejected, Twitch
from myotwitch.serialize import to_json, to_json_line

indices = st.integers(min_value=0, max_value=10**12)
# Floats of every kind the detector or a test may hand over: NaN and infinities (an SNR over a zero floor),
# integers where a float is expected, and numpy floats (round() keeps their type).
sizes = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                  st.floats(-1e6, 1e6).map(np.float64))
rates = st.sampled_from([250.0, 1000.0, 2000.0, 2048.0, 4000.0, 333.3])


@given(indices, st.integers(0, 400), st.integers(0, 400), sizes, sizes, st.none() | st.integers(0, 100), rates)
def test_a_twitchs_line_is_json_dumps_of_its_object(peak, before, after, peak_uv, noise_uv, doublet, rate_hz):
    event = Twitch(peak, peak - before, peak + after, peak_uv, noise_uv, doublet)
    with np.errstate(all="ignore"):  # numpy floats at the extremes: an SNR that overflows is inf, as intended
        assert to_json_line(event, rate_hz) == json.dumps(to_json(event, rate_hz))


@given(indices, sizes, st.sampled_from(list(Reason)), rates)
def test_a_rejections_line_is_json_dumps_of_its_object(peak, peak_uv, reason, rate_hz):
    event = Rejected(peak, peak_uv, reason)
    with np.errstate(all="ignore"):
        assert to_json_line(event, rate_hz) == json.dumps(to_json(event, rate_hz))


def test_other_events_go_through_their_object():
    for event in (Episode(start_index=4001, end_index=10001, count=4, median_peak_uv=30.0, max_peak_uv=42.1),
                  ChannelEvent(1, Twitch(4001, 3990, 4019, 42.1, 2.0), "right APB")):
        assert to_json_line(event, 2000.0) == json.dumps(to_json(event, 2000.0))
