"""The WFDB reader: every header field checked before use, the .dat's size checked, format-16 counts exact."""

from __future__ import annotations

import sys
from pathlib import Path

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
def records(draw):
    n = draw(st.integers(1, 300))
    signals = draw(st.integers(1, 3))
    columns = [np.array(draw(st.lists(st.integers(-32768, 32767), min_size=n, max_size=n))) for _ in range(signals)]
    baseline = draw(st.integers(-1000, 1000))
    return columns, baseline, draw(st.booleans()), draw(st.integers(1, 400))


@pytest.mark.slow  # hypothesis examples
@settings(max_examples=60, deadline=None)
@given(records())
def test_quantized_format_16_reads_exactly(tmp_path_factory, r):
    columns, baseline, in_gain_field, block = r
    folder = tmp_path_factory.mktemp("wfdb")
    gain = f"1({baseline})/uV" if in_gain_field else "1/uV"
    hea = rf.wfdb_files(folder, "r", columns, gain=gain, adc_zero=baseline)
    rec = open_recording(hea)
    assert rec.n_samples == len(columns[0])
    assert np.array_equal(read_all(rec, block), columns[0] - baseline)  # the first signal, interleaved with others


@pytest.mark.parametrize("header, dat, message", [
    ("r 1 1000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", b"", "empty"),
    ("r 1 1000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", b"\0" * 7, "not a whole number of samples"),
    ("r 2 1000\nr.dat 16 1/uV 16 0 0 0 0 EMG\nr.dat 16 1/uV 16 0 0 0 0 ACC\n", b"\0" * 6,
     "4 bytes each for 2 format-16 signals"),
    ("r 0 2000 40000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", b"\0" * 8, "0 signals"),
    ("r 1 1000\nr.dat 16 . 16 0 0 0 0 EMG\n", b"\0" * 8, "gain field '.'"),
    ("r 1 1000\nr.dat 16 - 16 0 0 0 0 EMG\n", b"\0" * 8, "gain field '-'"),
    ("r 1 1000\nr.dat 16 2000(-)/mV 16 0 0 0 0 EMG\n", b"\0" * 8, "gain field"),
    ("r 1 1000\nr.dat 16 1/uV 16 abc 0 0 0 EMG\n", b"\0" * 8, "ADC zero 'abc'"),
    ("r 1 1000\n../r.dat 16 1/uV 16 0 0 0 0 EMG\n", b"\0" * 8, "not a plain file name"),
    ("r 1 1000 9\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", b"\0" * 8, "holds 4 samples but its header says 9"),
    ("r 1 -5\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", b"\0" * 8, "impossible"),
    ("r 1 1000\nr.dat 16 1/parsec 16 0 0 0 0 EMG\n", b"\0" * 8, "r.hea: unknown physical unit 'parsec'"),
])
def test_bad_headers_and_data_files_say_what_is_wrong(tmp_path, header, dat, message):
    (tmp_path / "r.hea").write_text(header)
    (tmp_path / "r.dat").write_bytes(dat)
    with pytest.raises(MyotwitchError, match=message.replace("(", r"\(").replace(".", r"\.")):
        open_recording(tmp_path / "r.hea")


def test_dat_cut_after_opening_says_so(tmp_path):
    hea = rf.wfdb_files(tmp_path, "r", [np.arange(5000)], gain="1/uV")
    rec = open_recording(hea)
    (tmp_path / "r.dat").write_bytes(b"\0" * 100)
    with pytest.raises(MyotwitchError, match="changed since"):
        read_all(rec)


def test_the_dat_file_given_points_to_its_header(tmp_path):
    rf.wfdb_files(tmp_path, "r", [np.arange(10)], gain="1/uV")
    with pytest.raises(MyotwitchError, match="open its header, r.hea"):
        open_recording(tmp_path / "r.dat")


def test_a_big_header_file_is_not_read_whole(tmp_path, monkeypatch):
    # A header is a few lines: of a 3 MiB file named .hea no read takes more than its first MiB (the
    # format sniffer reads 512 bytes besides), and a record whose lines come first still opens
    hea = rf.wfdb_files(tmp_path, "r", [np.arange(10)], gain="1/uV")
    with hea.open("a") as f:
        f.write(("# " + "x" * 1021 + "\n") * 3 * 1024)
    read_bytes: list[int] = []
    path_open = Path.open

    class Counted:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def read(self, size=-1):
            data = self.f.read(size)
            read_bytes.append(len(data))
            return data

    def spied_open(self, *args, **kwargs):
        f = path_open(self, *args, **kwargs)
        return Counted(f) if self.suffix == ".hea" else f

    monkeypatch.setattr(Path, "open", spied_open)
    rec = open_recording(hea)
    assert hea.stat().st_size > 3 << 20 and max(read_bytes) == 1 << 20
    assert read_all(rec).tolist() == list(range(10))
