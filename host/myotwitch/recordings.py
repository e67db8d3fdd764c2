"""Read recordings in blocks of µV: CSV, EDF/EDF+/BDF and WFDB (format 16).

Every reader streams: a recording is never loaded whole, so hours of signal
use the memory of one block. Bad files raise MyotwitchError with what is
wrong and where, never a bare traceback. Values that are not numbers (NaN,
infinity) are passed on as they are: the replay source skips them as gaps.
"""

from __future__ import annotations

import contextlib
import csv
import math
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError

DEFAULT_BLOCK_SAMPLES = 65536
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1000.0, "v": 1e6, "nv": 1e-3}
FORMATS = ".csv, .edf, .bdf, .hea (WFDB)"


@dataclass
class Recording:
    path: Path
    format: str
    rate_hz: float
    n_samples: int | None  # None where only reading to the end tells (CSV)
    label: str

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        raise NotImplementedError

    @property
    def duration_s(self) -> float | None:
        return None if self.n_samples is None else self.n_samples / self.rate_hz


def open_recording(path: str | os.PathLike, rate_hz: float | None = None) -> Recording:
    """Open a recording by its extension; `rate_hz` is needed for CSV without a time_s column."""
    path = Path(path)
    if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
        raise MyotwitchError(f"--rate must be a positive number of Hz, not {rate_hz}")
    if not path.exists():
        raise MyotwitchError(f"{path}: no such file")
    if path.is_dir():
        raise MyotwitchError(f"{path}: is a folder, not a recording")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _open_csv(path, rate_hz)
    if suffix in (".edf", ".bdf"):
        return _open_edf(path)
    if suffix == ".hea":
        return _open_wfdb(path)
    raise MyotwitchError(f"{path}: unknown recording format '{suffix or path.name}' (expected {FORMATS})")


def unit_scale_to_uv(unit: str) -> float:
    try:
        return _UNIT_TO_UV[unit.strip().lower()]
    except KeyError:
        raise MyotwitchError(f"unknown physical unit '{unit}' (expected uV, mV or V)") from None


# -- CSV -------------------------------------------------------------------


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@dataclass
class _CsvRecording(Recording):
    value_column: int = 0
    has_header: bool = False

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        with self.path.open(newline="", encoding="utf-8", errors="replace") as f:
            reader = csv.reader(f)
            if self.has_header:
                next(reader, None)
            values: list[float] = []
            for row in reader:
                if not row or not "".join(row).strip():
                    continue
                try:
                    values.append(float(row[self.value_column]))
                except (ValueError, IndexError):
                    raise MyotwitchError(
                        f"{self.path}: line {reader.line_num}: not a number in column {self.value_column + 1}: {row!r:.60}"
                    ) from None
                if len(values) == block_samples:
                    yield np.array(values)
                    values = []
            if values:
                yield np.array(values)


def _open_csv(path: Path, rate_hz: float | None) -> Recording:
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            rows = []
            for row in csv.reader(f):
                if row and "".join(row).strip():
                    rows.append(row)
                if len(rows) >= 1001:
                    break
    except OSError as exc:
        raise MyotwitchError(f"{path}: cannot read: {exc.strerror}") from None
    if not rows:
        raise MyotwitchError(f"{path}: empty file, no samples")
    header = None if all(_is_number(c) for c in rows[0]) else [c.strip().lower() for c in rows[0]]
    data_rows = rows[1:] if header else rows
    if not data_rows:
        raise MyotwitchError(f"{path}: a header but no samples")
    time_column = None
    if header:
        if "time_s" in header:
            time_column = header.index("time_s")
        candidates = [i for i, name in enumerate(header) if i != time_column]
        if not candidates:
            raise MyotwitchError(f"{path}: no signal column beside time_s")
        value_column = candidates[0]
        label = rows[0][value_column].strip()
    else:
        if len(rows[0]) != 1:
            raise MyotwitchError(f"{path}: {len(rows[0])} columns and no header: name them (time_s, emg_uv)")
        value_column, label = 0, "emg"
    if time_column is not None:
        try:
            times_s = np.array([float(r[time_column]) for r in data_rows])
        except (ValueError, IndexError):
            raise MyotwitchError(f"{path}: time_s column holds a value that is not a number") from None
        steps_s = np.diff(times_s)
        if len(steps_s) == 0 or not np.all(steps_s > 0):
            raise MyotwitchError(f"{path}: time_s must increase from row to row, over at least two rows")
        csv_rate_hz = 1.0 / float(np.median(steps_s))
        # Timestamps printed with a few decimals give 999.9999 for 1000: a rate
        # within 0.1 % of a whole number is that number.
        if abs(csv_rate_hz - round(csv_rate_hz)) < 1e-3 * csv_rate_hz:
            csv_rate_hz = float(round(csv_rate_hz))
        if rate_hz is not None and abs(csv_rate_hz - rate_hz) > 0.01 * rate_hz:
            raise MyotwitchError(f"{path}: time_s says {csv_rate_hz:.1f} Hz but --rate says {rate_hz:g} Hz")
        rate_hz = csv_rate_hz
    if rate_hz is None:
        raise MyotwitchError(f"{path}: no time_s column, so give the sampling rate with --rate HZ")
    return _CsvRecording(path, "csv", float(rate_hz), None, label, value_column, header is not None)


# -- EDF / EDF+ / BDF --------------------------------------------------------


@dataclass
class _EdfLayout:
    """Where one signal's samples lie in an EDF/BDF file's data records (pyedflib checked the header)."""

    header_bytes: int
    sample_bytes: int  # 2 for EDF, 3 for BDF
    record_samples: int  # all signals' samples in one data record, annotations included
    offset_samples: int  # where this signal starts within a record
    samples_per_record: int
    records: int
    # physical = bit_value * (digital + offset), as the EDF library computes it
    bit_value: float
    offset: float


def _edf_layout(path: Path, signal: int) -> _EdfLayout:
    """The data-record layout of the `signal`-th ordinary (non-annotation) signal, from the header."""
    try:
        return _parse_edf_layout(path, signal)
    except (ValueError, IndexError, ZeroDivisionError):
        # The EDF library accepted this header when the file was opened: it changed since, or the two disagree.
        raise MyotwitchError(f"{path}: EDF header not readable (has the file changed since it was opened?)") from None
    except OSError as exc:
        raise MyotwitchError(f"{path}: cannot read: {exc.strerror}") from None


def _parse_edf_layout(path: Path, signal: int) -> _EdfLayout:
    with path.open("rb") as f:
        head = f.read(256)
        ns = int(head[252:256].decode("ascii").strip())
        fields = f.read(256 * ns)

    def field(offset: int, width: int, i: int) -> str:
        start = ns * offset + i * width
        return fields[start : start + width].decode("ascii", errors="replace").strip()

    labels = [field(0, 16, i) for i in range(ns)]
    spr = [int(field(216, 8, i)) for i in range(ns)]
    ordinary = [i for i, label in enumerate(labels) if label not in ("EDF Annotations", "BDF Annotations")]
    i = ordinary[signal]
    sample_bytes = 3 if path.suffix.lower() == ".bdf" else 2
    record_samples = sum(spr)
    header_bytes = 256 * (ns + 1)
    records = int(head[236:244].decode("ascii").strip())
    available = (path.stat().st_size - header_bytes) // (record_samples * sample_bytes)
    if records < 0 or records > available:
        records = available
    pmin, pmax = float(field(104, 8, i)), float(field(112, 8, i))
    dmin, dmax = float(field(120, 8, i)), float(field(128, 8, i))
    if dmax == dmin or pmax == pmin:
        raise MyotwitchError(f"{path}: signal {labels[i]!r} has no range (digital {dmin:g}..{dmax:g}, "
                             f"physical {pmin:g}..{pmax:g}): its samples cannot be turned into volts")
    bit_value = (pmax - pmin) / (dmax - dmin)
    return _EdfLayout(header_bytes, sample_bytes, record_samples, sum(spr[:i]), spr[i], records,
                      bit_value, pmax / bit_value - dmax)


@dataclass
class _EdfRecording(Recording):
    signal_index: int = 0
    scale_to_uv: float = 1.0

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        """Straight from the data records with numpy (the EDF library's reader costs about ten times as much)."""
        lay = _edf_layout(self.path, self.signal_index)
        if lay.records < 1:
            return
        raw = np.memmap(self.path, dtype=np.uint8, mode="r", offset=lay.header_bytes,
                        shape=(lay.records, lay.record_samples * lay.sample_bytes))
        first = lay.offset_samples * lay.sample_bytes
        per_record = lay.samples_per_record
        total = min(self.n_samples or 0, lay.records * per_record)
        for start in range(0, total, block_samples):
            stop = min(total, start + block_samples)
            r0, r1 = start // per_record, (stop - 1) // per_record + 1
            part = raw[r0:r1, first : first + per_record * lay.sample_bytes]
            if lay.sample_bytes == 2:
                digital = np.ascontiguousarray(part).view("<i2").reshape(-1)
            else:
                b = np.ascontiguousarray(part).reshape(-1, 3).astype(np.int32)
                digital = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
                digital = np.where(digital >= 1 << 23, digital - (1 << 24), digital)
            digital = digital[start - r0 * per_record : stop - r0 * per_record]
            yield lay.bit_value * (digital + lay.offset) * self.scale_to_uv


@contextlib.contextmanager
def _c_stdout_to_stderr() -> Iterator[None]:
    """The EDF library prints some complaints (a file's size) with C's printf on fd 1, where
    `--format jsonl` output goes: send them to stderr instead."""
    if os.name != "posix":
        yield
        return
    import ctypes

    libc = ctypes.CDLL(None)
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        libc.fflush(None)  # C's buffer goes out while fd 1 is still stderr
        os.dup2(saved, 1)
        os.close(saved)


def _open_edf(path: Path) -> Recording:
    import pyedflib  # reads EDF, EDF+ and BDF, with their annotations

    try:
        with _c_stdout_to_stderr():
            reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise MyotwitchError(f"{path}: not a readable EDF/BDF file ({exc})") from None
    try:
        if reader.signals_in_file < 1:
            raise MyotwitchError(f"{path}: no signal in this EDF file")
        rate_hz = float(reader.getSampleFrequency(0))
        n_samples = int(reader.getNSamples()[0])
        label = reader.getLabel(0).strip() or "signal 1"
        unit = reader.getPhysicalDimension(0).strip() or "uV"
    finally:
        reader.close()
    if not rate_hz > 0:
        raise MyotwitchError(f"{path}: sampling rate {rate_hz} Hz is not usable")
    fmt = "bdf" if path.suffix.lower() == ".bdf" else "edf"
    return _EdfRecording(path, fmt, rate_hz, n_samples, label, 0, unit_scale_to_uv(unit))


# -- WFDB --------------------------------------------------------------------

_WFDB_GAIN = re.compile(r"^([0-9.eE+-]+)(?:\(([-0-9]+)\))?(?:/(\S+))?$")


@dataclass
class _WfdbRecording(Recording):
    dat_path: Path = Path()
    n_signals: int = 1
    gain_per_unit: float = 200.0
    baseline_counts: int = 0
    scale_to_uv: float = 1000.0

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        counts = np.memmap(self.dat_path, dtype="<i2", mode="r")
        usable = min(len(counts) // self.n_signals, self.n_samples or 0)
        for start in range(0, usable, block_samples):
            stop = min(usable, start + block_samples)
            raw = np.asarray(counts[start * self.n_signals : stop * self.n_signals : self.n_signals], dtype=np.float64)
            yield (raw - self.baseline_counts) / self.gain_per_unit * self.scale_to_uv


def _open_wfdb(path: Path) -> Recording:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="ascii", errors="replace").splitlines()]
    except OSError as exc:
        raise MyotwitchError(f"{path}: cannot read: {exc.strerror}") from None
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    try:
        record = lines[0].split()
        n_signals = int(record[1])
        rate_hz = float(record[2].split("/")[0]) if len(record) > 2 else 250.0
        n_samples = int(record[3]) if len(record) > 3 else None
        fields = lines[1].split()
        dat_name, fmt = fields[0], fields[1]
    except (IndexError, ValueError):
        raise MyotwitchError(f"{path}: not a WFDB header (record line, then one line per signal)") from None
    if fmt != "16":
        raise MyotwitchError(f"{path}: WFDB format {fmt} is not supported (only format 16)")
    gain, baseline, unit = 200.0, 0, "mV"
    m = None
    if len(fields) > 2:
        m = _WFDB_GAIN.match(fields[2])
        if not m:
            raise MyotwitchError(f"{path}: cannot read the gain field '{fields[2]}'")
        gain = float(m.group(1)) or 200.0
        unit = m.group(3) or "mV"
    if len(fields) > 4:
        baseline = int(fields[4])  # ADC zero
    if m and m.group(2) is not None:
        baseline = int(m.group(2))
    dat_path = path.with_name(dat_name)
    if dat_path.name != dat_name or not dat_path.exists():
        raise MyotwitchError(f"{path}: its data file '{dat_name}' is not beside it")
    available = dat_path.stat().st_size // (2 * n_signals)
    n_samples = available if n_samples is None else min(n_samples, available)
    if not rate_hz > 0 or n_signals < 1:
        raise MyotwitchError(f"{path}: impossible rate or signal count")
    label = " ".join(fields[8:]) if len(fields) > 8 else "signal 1"
    return _WfdbRecording(path, "wfdb", rate_hz, n_samples, label, dat_path, n_signals, gain, baseline,
                          unit_scale_to_uv(unit))
