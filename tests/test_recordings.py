"""Reading recordings: CSV, EDF+/BDF, WFDB; and clear errors for bad files."""

from __future__ import annotations

import sys

import numpy as np
import pyedflib
import pytest
from conftest import DATA, DEMO_EDF, ROOT
from myotwitch.errors import MyotwitchError
from myotwitch.recordings import open_recording


def read_all(rec, block=1000):
    return np.concatenate(list(rec.blocks(block)))


def test_csv_with_time_column(tmp_path):
    p = tmp_path / "r.csv"
    t = np.arange(3000) / 2000.0
    p.write_text("time_s,emg_uv\n" + "".join(f"{a:.6f},{b}\n" for a, b in zip(t, np.arange(3000) % 7)))
    rec = open_recording(p)
    assert rec.rate_hz == pytest.approx(2000.0)
    assert read_all(rec, 999).tolist() == (np.arange(3000) % 7).tolist()


def test_csv_single_column_needs_rate(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("1.5\n-2\n3e1\n")
    with pytest.raises(MyotwitchError, match="no time column") as caught:
        open_recording(p)
    assert caught.value.needs_rate and "--rate" not in str(caught.value)  # the CLI names its flag
    assert read_all(open_recording(p, 500.0)).tolist() == [1.5, -2.0, 30.0]


def test_csv_header_without_time(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("emg_uv\n1\n2\n")
    rec = open_recording(p, 1000)
    assert rec.label == "emg_uv" and read_all(rec).tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "empty"),
        ("emg_uv\n", "no samples"),
        ("1\n2\nabc\n", "line 3"),
        ("1,2\n3,4\n", "no header"),
        ("time_s,emg_uv\n0.0,1\n0.0,2\n", "line 3: time does not advance"),
    ],
)
def test_bad_csv_files_say_what_is_wrong(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_text(content)
    with pytest.raises(MyotwitchError, match=message):
        rec = open_recording(p, 1000)
        read_all(rec)


def test_missing_unknown_and_folder(tmp_path):
    with pytest.raises(MyotwitchError, match="no such file"):
        open_recording(tmp_path / "nope.csv")
    (tmp_path / "x.mp3").write_bytes(b"ID3")
    with pytest.raises(MyotwitchError, match="unknown recording format"):
        open_recording(tmp_path / "x.mp3")
    with pytest.raises(MyotwitchError, match="folder"):
        open_recording(tmp_path)


def test_corrupt_edf_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.edf"
    p.write_bytes(b"0       " + b"x" * 300)
    with pytest.raises(MyotwitchError, match="number of signals 'xxxx' is not a whole number"):
        open_recording(p)


def test_bundled_demo_edf():
    rec = open_recording(DEMO_EDF)
    assert rec.format == "edf" and rec.rate_hz == 1000.0 and rec.n_samples == 60_000
    x = read_all(rec, 7000)
    assert len(x) == 60_000 and np.abs(x).max() < 3000


def test_bdf_in_mv_is_scaled_to_uv(tmp_path):
    p = tmp_path / "r.bdf"
    w = pyedflib.EdfWriter(str(p), 1, file_type=pyedflib.FILETYPE_BDFPLUS)
    w.setSignalHeaders([{"label": "EMG", "dimension": "mV", "sample_frequency": 500, "physical_max": 10.0,
                         "physical_min": -10.0, "digital_max": 8388607, "digital_min": -8388608}])
    w.writeSamples([np.full(1000, 0.25)])
    w.close()
    rec = open_recording(p)
    assert rec.format == "bdf" and rec.rate_hz == 500.0
    assert np.allclose(read_all(rec), 250.0, atol=0.01)


@pytest.mark.parametrize("file_type, suffix", [(pyedflib.FILETYPE_EDF, ".edf"), (pyedflib.FILETYPE_EDFPLUS, ".edf"),
                                               (pyedflib.FILETYPE_BDFPLUS, ".bdf")])
def test_edf_blocks_are_exactly_what_the_edf_library_reads(tmp_path, file_type, suffix):
    # The blocks come straight from the data records (numpy): a second signal
    # at another rate and an annotation signal share each record with ours.
    p = tmp_path / f"r{suffix}"
    rng = np.random.default_rng(3)
    bdf = suffix == ".bdf"
    w = pyedflib.EdfWriter(str(p), 2, file_type=file_type)
    w.setSignalHeaders([
        {"label": "EMG", "dimension": "mV", "sample_frequency": 500, "physical_max": 5.0, "physical_min": -5.0,
         "digital_max": 8388607 if bdf else 32767, "digital_min": -8388608 if bdf else -32768},
        {"label": "ACC", "dimension": "g", "sample_frequency": 100, "physical_max": 2.0, "physical_min": -2.0,
         "digital_max": 32767, "digital_min": -32768}])
    w.writeSamples([np.clip(rng.normal(0, 1.5, 500 * 37), -5, 5), rng.uniform(-1, 1, 100 * 37)])
    if file_type != pyedflib.FILETYPE_EDF:
        for k in range(5):
            w.writeAnnotation(k * 3.0, -1, f"note {k}")
    w.close()
    with pyedflib.EdfReader(str(p)) as f:
        expected = f.readSignal(0) * 1000.0
    rec = open_recording(p)
    for block in (65536, 500, 777, 1):
        assert np.array_equal(read_all(rec, block), expected), block


def test_edf_cut_after_opening_is_a_clear_error(tmp_path):
    p = tmp_path / "r.edf"
    w = pyedflib.EdfWriter(str(p), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([{"label": "EMG", "dimension": "uV", "sample_frequency": 1000, "physical_max": 500.0,
                         "physical_min": -500.0, "digital_max": 32767, "digital_min": -32768}])
    w.writeSamples([np.zeros(3000)])
    w.close()
    rec = open_recording(p)
    p.write_bytes(p.read_bytes()[:-1000])
    with pytest.raises(MyotwitchError, match="changed since"):
        read_all(rec)


def test_wfdb_record_from_physionet():
    rec = open_recording(DATA / "physionet-emgdb" / "emg_healthy.hea")
    assert rec.rate_hz == 4000.0 and rec.n_samples == 50860 and rec.label == "EMG"
    x = read_all(rec, 4096)
    raw = np.fromfile(DATA / "physionet-emgdb" / "emg_healthy.dat", "<i2")
    assert len(x) == 50860
    assert np.allclose(x, raw[:50860] / 10000.0 * 1000.0)  # 10000 adu/mV, in µV


def test_wfdb_with_unsupported_format(tmp_path):
    (tmp_path / "r.hea").write_text("r 1 1000 10\nr.dat 212 200/mV 12 0 0 0 0 EMG\n")
    (tmp_path / "r.dat").write_bytes(bytes(30))
    with pytest.raises(MyotwitchError, match="format 212"):
        open_recording(tmp_path / "r.hea")


def test_the_format_comes_from_the_content(tmp_path):
    # An EDF named .csv is an EDF; a CSV named .edf is refused for what its first bytes are
    sys.path.insert(0, str(ROOT / "tools"))
    import recording_files as rf

    (tmp_path / "r.csv").write_bytes(rf.edf_bytes([np.arange(-50, 50)], rate_hz=100))
    rec = open_recording(tmp_path / "r.csv")
    assert rec.format == "edf" and read_all(rec).tolist() == list(range(-50, 50))
    (tmp_path / "r.edf").write_text("time_s,emg_uv\n0,1\n")
    with pytest.raises(MyotwitchError, match="not an EDF or BDF file .it starts with b'time_s,e'"):
        open_recording(tmp_path / "r.edf")
