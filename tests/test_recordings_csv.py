"""The CSV reader: the dialects people export, a time column recognised and checked on every row."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from myotwitch.errors import MyotwitchError
from myotwitch.recordings import open_recording


def read_all(rec, block=1000):
    return np.concatenate(list(rec.blocks(block)))


@st.composite
def exports(draw):
    """Whole-µV samples (quantized, the normal case) written as a spreadsheet or logger might."""
    values = draw(st.lists(st.integers(-(10**6), 10**6), min_size=2, max_size=300))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    time = draw(st.sampled_from([None, ("time_s", 1.0), ("time_ms", 1000.0), ("t", 1.0), ("Time (s)", 1.0)]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    units_row = time is not None and draw(st.booleans())
    fractional = draw(st.booleans())  # x.0 or x,0 (decimal comma where ';' or tab separates)
    return values, sep, time, encoding, end, units_row, fractional, draw(st.integers(1, 100))


@settings(max_examples=80, deadline=None)
@given(exports())
def test_integer_csv_exports_read_exactly(tmp_path_factory, e):
    values, sep, time, encoding, end, units_row, fractional, block = e
    rows = []
    if time is not None:
        rows.append(f"{time[0]}{sep}EMG")
        if units_row:
            rows.append(f"{'s' if time[1] == 1.0 else 'ms'}{sep}uV")
    for i, v in enumerate(values):
        value = f"{v}.0" if fractional else str(v)
        if fractional and sep != "," and time is not None:  # one column of "1,0": two columns or a decimal?
            value = value.replace(".", ",")
        rows.append(f"{i * time[1] / 1000:.3f}{sep}{value}" if time is not None else value)
    p = tmp_path_factory.mktemp("csv") / "r.csv"
    p.write_bytes((end.join(rows) + end).encode(encoding))
    rec = open_recording(p, None if time is not None else 1000.0)
    assert rec.rate_hz == 1000.0
    assert np.array_equal(read_all(rec, block), values)  # never the time column, never truncated at a comma


def time_csv(n: int = 3000, change=None, head: str = "time_s,emg_uv") -> str:
    lines = [head] + [f"{i / 1000:.3f},{i % 17}" for i in range(n)]
    if change:
        change(lines)
    return "\n".join(lines) + "\n"


def test_time_ms_with_rate_is_time_not_signal(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("time_ms,emg_uv\n" + "".join(f"{i},{i % 5}\n" for i in range(2000)))
    rec = open_recording(p, 1000.0)
    assert rec.label == "emg_uv" and read_all(rec).tolist() == [i % 5 for i in range(2000)]


@pytest.mark.parametrize("header, scale", [
    ("ms,emg", 1000), ("seconds,emg", 1), ("Elapsed time (s),EMG (uV)", 1), ("Zeit [ms],EMG", 1000),
])
@pytest.mark.parametrize("rate_hz", [None, 1000.0])
def test_a_column_in_a_unit_of_time_is_the_time(tmp_path, header, scale, rate_hz):
    # Named by its unit alone, it is still the time: never the signal, even with the rate given
    p = tmp_path / "r.csv"
    p.write_text(header + "\n" + "".join(f"{i * scale / 1000:g},{i % 7}\n" for i in range(2000)))
    rec = open_recording(p, rate_hz)
    assert rec.rate_hz == 1000.0 and read_all(rec).tolist() == [i % 7 for i in range(2000)]


@pytest.mark.parametrize("comments", ["# exported by a logger, v1.2; 2026\n", "%Sample Rate = 1000 Hz\n% 2 lines\n"])
def test_comment_lines_above_the_header_are_skipped(tmp_path, comments):
    p = tmp_path / "r.csv"
    p.write_text(comments + "time_s\temg_uv\n" + "".join(f"{i / 1000:.3f}\t{i % 7}\n" for i in range(2000)))
    rec = open_recording(p)
    assert rec.rate_hz == 1000.0 and rec.label == "emg_uv" and read_all(rec).tolist() == [i % 7 for i in range(2000)]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_rows_ending_with_a_separator_the_header_lacks_are_read(tmp_path, sep):
    # Loggers write "t,v," on every row under a "time_s,emg_uv" header: an empty last column, not decimal commas
    p = tmp_path / "r.csv"
    p.write_text(f"time_s{sep}emg_uv\n" + "".join(f"{i / 1000:.3f}{sep}{i % 7}{sep}\n" for i in range(2000)))
    rec = open_recording(p)
    assert rec.rate_hz == 1000.0 and read_all(rec).tolist() == [i % 7 for i in range(2000)]


@pytest.mark.parametrize("row", [1500, 2999])  # beyond the 1000 rows read when the file is opened
@pytest.mark.parametrize("change, message", [
    (lambda ls, k: ls.__setitem__(k, ls[k - 1].split(",")[0] + ",1"), "time does not advance"),
    (lambda ls, k: ls.__setitem__(k, "abc,1"), "the time 'abc' is not a number"),
    (lambda ls, k: ls.__setitem__(k, "nan,1"), "the time 'nan' is not a number"),
    (lambda ls, k: ls.__setitem__(k, "0.5,1"), "time goes back"),
])
def test_time_is_checked_on_every_row(tmp_path, row, change, message):
    p = tmp_path / "r.csv"
    p.write_text(time_csv(change=lambda ls: change(ls, row)))
    rec = open_recording(p)
    with pytest.raises(MyotwitchError, match=f"line {row + 1}: {message}"):
        read_all(rec)


def test_a_jump_in_time_is_counted_as_missing_samples(tmp_path):
    p = tmp_path / "r.csv"
    times = [i for i in range(1500)] + [i + 2000 for i in range(1500, 3000)]  # ms: 2 s missing after 1.499 s
    p.write_text("time_ms,emg_uv\n" + "".join(f"{t},{i % 9}\n" for i, t in enumerate(times)))
    rec = open_recording(p)
    x = read_all(rec, 700)
    assert len(x) == 5000 and np.isnan(x[1500:3500]).all()
    assert rec.gaps == [(1500, 2000)]  # what analyze reports as missing from the file, not as invalid values
    assert np.array_equal(x[~np.isnan(x)], [i % 9 for i in range(3000)])


@pytest.mark.parametrize("step_ms", [1.4, 0.6])
def test_time_running_off_its_rate_is_refused(tmp_path, step_ms):
    # 1 kHz for the 1000 rows read when opening, then 1.4 ms (or 0.6 ms) steps: each step alone looks like
    # one sample period, yet read at 1 kHz the samples would drift 0.4 ms a row from their own times
    times_ms = [i for i in range(2000)] + [2000 + step_ms * i for i in range(1, 3000)]
    p = tmp_path / "r.csv"
    p.write_text("time_ms,emg_uv\n" + "".join(f"{t:.1f},{i % 9}\n" for i, t in enumerate(times_ms)))
    rec = open_recording(p)
    assert rec.rate_hz == 1000.0
    with pytest.raises(MyotwitchError, match=r"line \d+: time is .* s off the 1000 Hz .* after 2\.\d+ s"):
        read_all(rec)


def test_time_within_a_rounded_rate_is_read(tmp_path):
    # 1000.4 Hz timestamps give a 1000 Hz rate (within 0.1 %): 20 s drift 8 ms, no error
    p = tmp_path / "r.csv"
    p.write_text("time_s,emg_uv\n" + "".join(f"{i / 1000.4:.6f},{i % 9}\n" for i in range(20_000)))
    rec = open_recording(p)
    assert rec.rate_hz == 1000.0 and read_all(rec).tolist() == [i % 9 for i in range(20_000)] and rec.gaps == []


def test_an_empty_cell_is_a_missing_sample(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("time_s,emg_uv\n0.000,1\n0.001,\n0.002,3\n")
    assert np.array_equal(read_all(open_recording(p)), [1, np.nan, 3], equal_nan=True)


@pytest.mark.parametrize("content, rate, message", [
    ("emg_uv\n1,5\n2,5\n", 1000.0, "line 2: 2 fields where the first row has 1 .decimal commas"),
    ("time_s,emg_uv\n0,000,1,5\n", None, "4 fields where the first row has 2"),
    ("time (h),emg\n0,1\n1,2\n", None, "not a unit of time"),
    ("emg (adc)\n1\n2\n", 1000.0, "not a unit understood"),
    ("\0\0\0\0\0\0", 1000.0, "NUL bytes"),
    ("emg_uv\n" + "9" * 5000 + "\n", 1000.0, "longer than 4096"),
    ("emg\n1\n2\n", None, "no time column"),
])
def test_csv_refused_with_the_real_reason(tmp_path, content, rate, message):
    p = tmp_path / "r.csv"
    p.write_text(content)
    with pytest.raises(MyotwitchError, match=message):
        read_all(open_recording(p, rate))


def test_units_row_in_mv_is_scaled(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("time;EMG\n(s);(mV)\n0,000;0,5\n0,001;-0,25\n0,002;1\n")
    rec = open_recording(p)
    assert rec.rate_hz == 1000.0 and read_all(rec).tolist() == [500.0, -250.0, 1000.0]


def test_crlf_rows_across_read_chunks_keep_their_values_and_line_numbers(tmp_path):
    # 50 000 rows: many 64 KiB reads and 4096-row time checks, a CRLF cut between two reads somewhere
    rows = ["time_s,emg_uv"] + [f"{i / 1000:.3f},{i % 7}" for i in range(50_000)]
    p = tmp_path / "r.csv"
    p.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    assert np.array_equal(read_all(open_recording(p), 999), np.arange(50_000) % 7)
    rows[40_001] = rows[40_000]  # line 40 002 repeats the time of line 40 001
    p.write_bytes(("\r\n".join(rows) + "\r\n").encode())
    with pytest.raises(MyotwitchError, match="line 40002: time does not advance"):
        read_all(open_recording(p))


def test_spaces_around_names_units_and_values(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(" Time ; EMG \n ( s ) ; ( mV ) \n 0,000 ; 0,5 \n 0,001 ; -0,25 \n")
    rec = open_recording(p)
    assert rec.label == "EMG" and rec.rate_hz == 1000.0 and read_all(rec).tolist() == [500.0, -250.0]
