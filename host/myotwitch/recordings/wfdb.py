"""WFDB records (PhysioNet): a `.hea` header and a format-16 `.dat` file beside it.

The header's record line is `name nsig [fs [nsamp ...]]`, then one line per
signal: `file format [gain[(baseline)][/unit] [resolution [adc_zero [...
description]]]]`. Signals stored in the same file are interleaved sample by
sample, 16-bit little-endian. Only the first signal is read. Every field is
checked before it is used; the data file's size is checked against the
header (an empty or cut `.dat` is refused, never memory-mapped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myotwitch.recordings import (
    DEFAULT_BLOCK_SAMPLES,
    Recording,
    RecordingError,
    header_integer,
    header_number,
    unit_scale_to_uv,
)

_BYTES_PER_SAMPLE = 2  # format 16
_MAX_SIGNALS = 4096
_MAX_HEADER_BYTES = 1 << 20  # a header is a few lines; a bigger file named .hea is not read whole
_MAX_RATE_HZ = 1e6
_DEFAULT_GAIN_PER_UNIT = 200.0  # WFDB's default when the gain is 0 or missing
_GAIN = re.compile(r"^(?P<gain>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\((?P<baseline>[-+]?\d+)\))?"
                   r"(?:/(?P<unit>\S+))?$")


@dataclass
class _WfdbRecording(Recording):
    dat_path: Path = Path()
    signals_in_file: int = 1
    signal_in_file: int = 0
    baseline_counts: int = 0
    uv_per_count: float = 5.0

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        frame_bytes = _BYTES_PER_SAMPLE * self.signals_in_file
        total = self.n_samples or 0
        try:
            with self.dat_path.open("rb") as f:
                for start in range(0, total, block_samples):
                    count = min(block_samples, total - start)
                    f.seek(start * frame_bytes)
                    data = f.read(count * frame_bytes)
                    if len(data) != count * frame_bytes:
                        raise RecordingError(f"{self.dat_path}: ends after {start + len(data) // frame_bytes} "
                                             f"samples though it held {total} when opened (changed since?)")
                    frames = np.frombuffer(data, dtype="<i2").reshape(count, self.signals_in_file)
                    raw = frames[:, self.signal_in_file].astype(np.float64)
                    yield (raw - self.baseline_counts) * self.uv_per_count
        except OSError as exc:
            raise RecordingError(f"{self.dat_path}: cannot read: {exc.strerror}") from None


def _number(text: str, what: str, path: Path) -> float:
    return header_number(text, what, str(path))


def _integer(text: str, what: str, path: Path) -> int:
    return header_integer(text, what, str(path))


def _data_file(path: Path, name: str) -> Path:
    """The data file named in the header: a plain name beside the header, nothing that leaves its folder."""
    if name in ("", ".", "..", "-") or "/" in name or "\\" in name or "\0" in name:
        raise RecordingError(f"{path}: its data file '{name}' is not a plain file name beside the header")
    return path.parent / name


def open_wfdb(path: Path) -> Recording:
    try:
        with path.open("rb") as f:
            text = f.read(_MAX_HEADER_BYTES).decode("ascii", errors="replace")
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from None
    lines = [ln.split() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln[0].startswith("#")]
    if len(lines) < 2 or len(lines[0]) < 2:
        raise RecordingError(f"{path}: not a WFDB header (a record line, then one line per signal)")
    record = lines[0]
    if "/" in record[0]:
        raise RecordingError(f"{path}: a multi-segment WFDB record is not supported (read one segment's .hea)")
    n_signals = _integer(record[1], "number of signals", path)
    if not 1 <= n_signals <= _MAX_SIGNALS:
        raise RecordingError(f"{path}: the record line says {n_signals} signals (1 to {_MAX_SIGNALS} readable)")
    rate_hz = 250.0  # WFDB's default
    if len(record) > 2:
        rate_hz = _number(record[2].split("/")[0].split("(")[0], "sampling rate", path)
    if not 0 < rate_hz <= _MAX_RATE_HZ:
        raise RecordingError(f"{path}: the sampling rate {rate_hz:g} Hz is impossible")
    n_declared = _integer(record[3], "number of samples", path) if len(record) > 3 else None
    if n_declared is not None and n_declared < 0:
        raise RecordingError(f"{path}: the record line says {n_declared} samples")
    signal_lines = lines[1 : 1 + n_signals]
    if len(signal_lines) < n_signals or any(len(s) < 2 for s in signal_lines):
        raise RecordingError(f"{path}: the record line says {n_signals} signals but {len(signal_lines)} signal "
                             f"line{'s' if len(signal_lines) != 1 else ''} (file name and format) follow")
    fields = signal_lines[0]
    dat_name, fmt = fields[0], fields[1]
    if fmt != "16":
        raise RecordingError(f"{path}: WFDB format {fmt} is not supported (only format 16)")
    in_same_file = [s for s in signal_lines if s[0] == dat_name]
    other_formats = sorted({s[1] for s in in_same_file} - {"16"})
    if other_formats:
        raise RecordingError(f"{path}: '{dat_name}' mixes format 16 with format {other_formats[0]}")
    gain, baseline, unit = _DEFAULT_GAIN_PER_UNIT, None, "mV"
    if len(fields) > 2:
        m = _GAIN.match(fields[2])
        if not m:
            raise RecordingError(f"{path}: cannot read the gain field '{fields[2]}' (expected e.g. 200 or "
                                 "2000(0)/mV)")
        gain = _number(m.group("gain"), "gain", path) or _DEFAULT_GAIN_PER_UNIT
        unit = m.group("unit") or "mV"
        if m.group("baseline") is not None:
            baseline = int(m.group("baseline"))
    adc_zero = _integer(fields[4], "ADC zero", path) if len(fields) > 4 else 0
    if baseline is None:
        baseline = adc_zero  # WFDB: the baseline is the ADC zero unless given in the gain field
    scale_to_uv = unit_scale_to_uv(unit, path)
    dat_path = _data_file(path, dat_name)
    if not dat_path.is_file():
        raise RecordingError(f"{path}: its data file '{dat_name}' is not beside it")
    frame_bytes = _BYTES_PER_SAMPLE * len(in_same_file)
    size = dat_path.stat().st_size
    if size == 0:
        raise RecordingError(f"{dat_path}: empty, no samples")
    if size % frame_bytes:
        raise RecordingError(f"{dat_path}: {size} bytes, not a whole number of samples ({frame_bytes} bytes each "
                             f"for {len(in_same_file)} format-16 signal{'s' if len(in_same_file) > 1 else ''}): "
                             "cut short?")
    available = size // frame_bytes
    if n_declared is not None and n_declared > available:
        raise RecordingError(f"{dat_path}: holds {available} samples but its header says {n_declared}: cut short?")
    n_samples = n_declared or available  # 0 in the header means "not given"
    label = " ".join(fields[8:]) if len(fields) > 8 else "signal 1"
    return _WfdbRecording(path, "wfdb", rate_hz, n_samples, label, dat_path=dat_path,
                          signals_in_file=len(in_same_file), signal_in_file=0, baseline_counts=baseline,
                          uv_per_count=scale_to_uv / gain)
