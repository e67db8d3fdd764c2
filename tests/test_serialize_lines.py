"""analyze's JSON lines written straight from a twitch's or a rejection's fields: the bytes json.dumps gives."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from myotwitch.dsp.events import Reason
from myotwitch.events import ChannelEvent, Episode, Rejected, Twitch
from myotwitch.serialize import to_json, to_json_line

indices = st.integers(min_value=0, max_value=10**12)
# Floats of every kind the detector or a test may hand over: NaN and infinities (an SNR over a zero floor),
# integers where a float is expected, and numpy floats (round() keeps their type).
# Python floats of the sizes analyze writes (written without round(): see serialize._rounded) the most often.
sizes = st.one_of(st.floats(-1e4, 1e4), st.floats(-1e15, 1e15), st.floats(allow_nan=True, allow_infinity=True),
                  st.integers(-10**6, 10**6), st.floats(-1e6, 1e6).map(np.float64))
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


# Decimal ties and near-ties (round() takes the double's exact value, not the decimal it was typed as), signed
# zeros, the smallest and the largest sizes written in fixed notation, and the first ones past them.
EDGES = [0.125, 0.375, 2.675, 1.005, 0.00005, -0.00005, 0.0, -0.0, -0.004, 5e-324, 0.1 + 0.2, 123456.78905,
         999999999999999.9, 1e15, -1e15, 1e16, 36000.00005, 17.999999999999996,
         99999999999.99995, 1e11, 999999999999.9995, 9999999999999.995, 99999999999999.95, 1e14]


@pytest.mark.parametrize("size", EDGES)
def test_rounding_edges_are_written_as_json_dumps_writes_them(size):
    for rate_hz in (2000.0, 3.0, 7.0):
        for event in (Twitch(12345, 12300, 12400, size, abs(size) or 1.0, 3), Rejected(12345, size, Reason.ECHO)):
            assert to_json_line(event, rate_hz) == json.dumps(to_json(event, rate_hz)), (size, rate_hz)
