"""The EDF/BDF reader: sample width from the header's bytes, EDF+D records placed by their TALs, exact counts."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from myotwitch.errors import MyotwitchError
from myotwitch.recordings import open_recording

sys.path.insert(0, str(ROOT / "tools"))

import recording_files as rf


def read_all(rec, block=1000):
    return np.concatenate(list(rec.blocks(block)))


@st.composite
def edf_files(draw):
    """Integer counts over the whole digital range of EDF (16-bit) or BDF (24-bit), in records of any size."""
    bdf = draw(st.booleans())
    bits = 24 if bdf else 16
    spr = draw(st.integers(1, 40))
    records = draw(st.integers(1, 12))
    counts = draw(st.lists(st.integers(-(1 << (bits - 1)), (1 << (bits - 1)) - 1), min_size=spr * records,
                           max_size=spr * records))
    suffix = draw(st.sampled_from([".edf", ".bdf", ".rec"]))  # the name says nothing: the header decides
    return bdf, spr, np.array(counts, dtype=np.int64), suffix, draw(st.booleans()), draw(st.integers(1, 300))


@settings(max_examples=60, deadline=None)
@given(edf_files())
def test_quantized_edf_and_bdf_read_exactly(tmp_path_factory, f):
    bdf, spr, counts, suffix, annotations, block = f
    p = tmp_path_factory.mktemp("edf") / f"r{suffix}"
    p.write_bytes(rf.edf_bytes([counts], rate_hz=spr, record_s=1.0, bdf=bdf, annotations=annotations))
    rec = open_recording(p)
    assert rec.format == ("bdf" if bdf else "edf") and rec.rate_hz == spr and rec.n_samples == len(counts)
    x = read_all(rec, block)
    assert np.array_equal(x, counts)  # 1 µV per count: the very integers
    assert all(len(b) == block for b in list(rec.blocks(block))[:-1])


@pytest.mark.parametrize("bdf, name", [(True, "r.edf"), (False, "r.bdf")])
def test_the_sample_width_comes_from_the_header_not_the_name(tmp_path, bdf, name):
    counts = np.arange(-3000, 3000, 7)
    p = tmp_path / name
    p.write_bytes(rf.edf_bytes([counts], rate_hz=len(counts), bdf=bdf))
    rec = open_recording(p)
    assert rec.format == ("bdf" if bdf else "edf")
    assert np.array_equal(read_all(rec), counts)


@st.composite
def discontinuous(draw):
    records = draw(st.integers(2, 10))
    pauses = draw(st.lists(st.integers(0, 3), min_size=records - 1, max_size=records - 1))  # in records
    return records, pauses, draw(st.booleans()), draw(st.integers(1, 50))


@settings(max_examples=40, deadline=None)
@given(discontinuous())
def test_edf_plus_d_places_records_by_their_time_and_leaves_nan_between(tmp_path_factory, d):
    records, pauses, bdf, block = d
    spr, record_s = 5, 0.5  # 10 Hz
    counts = np.arange(records * spr) + 1
    onsets = [0.0]
    for pause in pauses:
        onsets.append(onsets[-1] + record_s * (1 + pause))
    p = tmp_path_factory.mktemp("edfd") / "d.edf"
    p.write_bytes(rf.edf_bytes([counts], rate_hz=10, record_s=record_s, bdf=bdf, record_onsets_s=onsets))
    rec = open_recording(p)
    expected = []
    for r in range(records):
        if r:
            expected += [np.nan] * (pauses[r - 1] * spr)
        expected += list(counts[r * spr : (r + 1) * spr])
    x = read_all(rec, block)
    assert np.array_equal(x, np.array(expected), equal_nan=True)
    assert rec.n_samples == len(expected)
    assert sum(n for _, n in rec.gaps) == sum(pauses) * spr
    for first, n in rec.gaps:
        assert np.isnan(x[first : first + n]).all() and not np.isnan(x[first - 1]) and not np.isnan(x[first + n])


def test_edf_with_unknown_record_count_is_read_from_its_size(tmp_path):
    counts = np.arange(100)
    data = bytearray(rf.edf_bytes([counts], rate_hz=10))
    data[236:244] = b"-1      "  # as a recorder writes it until the file is closed
    (tmp_path / "r.edf").write_bytes(bytes(data))
    assert np.array_equal(read_all(open_recording(tmp_path / "r.edf")), counts)


def test_edf_cut_after_opening_says_so(tmp_path):
    p = tmp_path / "r.edf"
    p.write_bytes(rf.edf_bytes([np.arange(4000)], rate_hz=1000))
    rec = open_recording(p)
    p.write_bytes(p.read_bytes()[:-3000])
    with pytest.raises(MyotwitchError, match="changed since"):
        read_all(rec)


def test_a_header_byte_that_is_a_newline_still_gives_one_line(tmp_path):
    data = bytearray(rf.edf_bytes([np.arange(1000)], rate_hz=1000))
    data[252:256] = b"1\n2 "
    (tmp_path / "r.edf").write_bytes(bytes(data))
    with pytest.raises(MyotwitchError) as caught:
        open_recording(tmp_path / "r.edf")
    assert "\n" not in str(caught.value) and "number of signals" in str(caught.value)


@pytest.mark.parametrize("count, read, message", [
    (b"+1  ", True, ""),  # a signed count is read as the other header integers are
    (b"-1  ", False, "header says -1 signals"),
    (b"1x  ", False, "number of signals '1x' is not a whole number"),
])
def test_the_signal_count_field_is_read_or_refused_for_what_it_holds(tmp_path, count, read, message):
    data = bytearray(rf.edf_bytes([np.arange(-50, 50)], rate_hz=100))
    data[252:256] = count
    p = tmp_path / "r.edf"
    p.write_bytes(bytes(data))
    if read:
        assert read_all(open_recording(p)).tolist() == list(range(-50, 50))
    else:
        with pytest.raises(MyotwitchError, match=message):
            open_recording(p)
