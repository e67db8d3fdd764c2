"""EDF, EDF+ (continuous and discontinuous: EDF+C, EDF+D), BDF and BDF+, read with numpy.

The sample width comes from the header's first bytes, never from the file's
name: EDF starts with "0       " (16-bit samples), BDF with 0xFF "BIOSEMI"
(24-bit). Every header field is checked before it is used, and the data must
be the whole number of records the header announces.

An EDF+D file's records need not follow each other: each record's first
annotation (its time-keeping TAL, `+onset\\x14\\x14`) says when it starts. The
samples between one record's end and the next one's start are missing: they
are yielded as NaN, which the replay source counts as lost and reports as a
gap. No library is involved (pyedflib refuses EDF+D and prints to stdout).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from myotwitch.recordings import (
    _UNIT_TO_UV,
    BDF_MAGIC,
    DEFAULT_BLOCK_SAMPLES,
    EDF_MAGIC,
    INTEGER,
    MAX_GAP_S,
    MAX_TOTAL_GAP_S,
    NOT_EMG_LABEL,
    Recording,
    RecordingError,
    header_integer,
    header_number,
    nan_blocks,
    rechunk,
    unit_scale_to_uv,
)

_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")
_DIGITAL_RANGE = {2: (-32768, 32767), 3: (-(1 << 23), (1 << 23) - 1)}
_TIME_KEEPING = re.compile(rb"^([+-]\d+(?:\.\d*)?)\x14\x14")


@dataclass
class EdfHeader:
    """What the reader needs from an EDF/BDF header, checked."""

    sample_bytes: int  # 2 for EDF, 3 for BDF
    header_bytes: int
    records: int
    record_s: float
    discontinuous: bool  # EDF+D / BDF+D
    labels: list[str]
    units: list[str]
    samples_per_record: list[int]
    physical: list[tuple[float, float]]  # (min, max)
    digital: list[tuple[int, int]]  # (min, max)

    @property
    def record_bytes(self) -> int:
        return sum(self.samples_per_record) * self.sample_bytes

    def offset_bytes(self, signal: int) -> int:
        """Where the signal's samples start within a record."""
        return sum(self.samples_per_record[:signal]) * self.sample_bytes


def _field(text: str, what: str, path: Path) -> float:
    return header_number(text, what, f"{path}: EDF header")


def _int_field(text: str, what: str, path: Path) -> int:
    return header_integer(text, what, f"{path}: EDF header")


def read_header(path: Path) -> EdfHeader:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(256)
            # The signal fields, as many as the count says and the file holds; a count that is no whole
            # number reads none, and is refused for what it holds below
            count = head[252:256].decode("ascii", errors="replace").strip()
            n_signals = int(count) if INTEGER.fullmatch(count) else 0
            fields = f.read(256 * max(0, min(n_signals, size // 256)))
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from None
    if head[:8] == EDF_MAGIC:
        sample_bytes = 2
    elif head[:8] == BDF_MAGIC:
        sample_bytes = 3
    else:
        raise RecordingError(f"{path}: not an EDF or BDF file (it starts with {head[:8]!r}; EDF starts with "
                             "'0       ', BDF with 0xFF 'BIOSEMI')")
    if len(head) < 256:
        raise RecordingError(f"{path}: EDF header cut short ({len(head)} of its first 256 bytes)")
    text = head.decode("ascii", errors="replace")
    ns = _int_field(text[252:256].strip(), "number of signals", path)
    if ns < 1:
        raise RecordingError(f"{path}: EDF header says {ns} signals")
    header_bytes = 256 * (ns + 1)
    if len(fields) < 256 * ns:
        raise RecordingError(f"{path}: EDF header cut short ({256 + len(fields)} of its {header_bytes} bytes)")
    declared_header = _int_field(text[184:192].strip(), "header size", path)
    if declared_header != header_bytes:
        raise RecordingError(f"{path}: EDF header says it is {declared_header} bytes, but {ns} signal"
                             f"{'s make' if ns != 1 else ' makes'} it {header_bytes}")
    reserved = text[192:236].strip()
    records = _int_field(text[236:244].strip(), "number of data records", path)
    record_s = _field(text[244:252].strip(), "record duration", path)
    if record_s <= 0:
        raise RecordingError(f"{path}: EDF header: records of {record_s:g} s hold no signal")
    ftext = fields.decode("ascii", errors="replace")

    def column(offset: int, width: int) -> list[str]:
        return [ftext[ns * offset + i * width : ns * offset + (i + 1) * width].strip() for i in range(ns)]

    labels = column(0, 16)
    spr = [_int_field(v, f"number of samples in a record of signal {i + 1}", path)
           for i, v in enumerate(column(216, 8))]
    if any(n < 1 for n in spr):
        raise RecordingError(f"{path}: EDF header: a signal with {min(spr)} samples per record")
    physical = list(zip((_field(v, "physical minimum", path) for v in column(104, 8)),
                        (_field(v, "physical maximum", path) for v in column(112, 8)), strict=True))
    digital = list(zip((_int_field(v, "digital minimum", path) for v in column(120, 8)),
                       (_int_field(v, "digital maximum", path) for v in column(128, 8)), strict=True))
    header = EdfHeader(sample_bytes, header_bytes, records, record_s, reserved.startswith(("EDF+D", "BDF+D")),
                       labels, column(96, 8), spr, physical, digital)
    data_bytes = size - header_bytes
    if records == -1 and data_bytes % header.record_bytes == 0:  # -1: "unknown", while being recorded
        header.records = records = data_bytes // header.record_bytes
    if records < 1:
        raise RecordingError(f"{path}: its header says {records} data records")
    expected = records * header.record_bytes
    if data_bytes < expected:
        raise RecordingError(f"{path}: holds {data_bytes / header.record_bytes:.4g} of the {records} data records "
                             "its header announces: cut short?")
    if data_bytes > expected:
        raise RecordingError(f"{path}: {data_bytes - expected} bytes more than the {records} data records its header "
                             "announces: not the file its header describes")
    return header


@dataclass
class _EdfRecording(Recording):
    header: EdfHeader | None = None
    signal_index: int = 0
    scale_to_uv: float = 1.0
    record_starts: list[int] | None = None  # the stream index of each record's first sample (EDF+D), else None

    def _decode(self, data: bytes, records: int) -> np.ndarray:
        """One signal's samples, in µV, from whole data records."""
        h = self.header
        assert h is not None
        spr = h.samples_per_record[self.signal_index]
        first = h.offset_bytes(self.signal_index)
        part = np.frombuffer(data, dtype=np.uint8).reshape(records, h.record_bytes)[
            :, first : first + spr * h.sample_bytes]
        if h.sample_bytes == 2:
            # int16 into the float64 sum below as exactly as int32 would: no widening pass of its own
            digital = np.ascontiguousarray(part).view("<i2").reshape(-1)
        else:
            b = np.ascontiguousarray(part).reshape(-1, 3).astype(np.int32)
            digital = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
            digital = np.where(digital >= 1 << 23, digital - (1 << 24), digital)
        (pmin, pmax), (dmin, dmax) = h.physical[self.signal_index], h.digital[self.signal_index]
        # physical = bit_value * (digital + offset), as the EDF library computes it: the same values to the bit
        bit_value = (pmax - pmin) / (dmax - dmin)
        offset = pmax / bit_value - dmax
        uv = bit_value * (digital + offset)
        return uv if self.scale_to_uv == 1.0 else uv * self.scale_to_uv  # x * 1.0 is x: the pass is skipped

    def _runs(self) -> Iterator[tuple[int, int, int]]:
        """(first record, end record, missing samples before them): runs of records that follow each other."""
        h = self.header
        assert h is not None
        if self.record_starts is None:
            yield 0, h.records, 0
            return
        spr = h.samples_per_record[self.signal_index]
        first, expected = 0, 0
        for r, start in enumerate(self.record_starts):
            if start != expected:
                if r > first:
                    yield first, r, 0
                yield r, r, start - expected
                first = r
            expected = start + spr
        yield first, h.records, 0

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        return rechunk(self._pieces(block_samples), block_samples)

    def _pieces(self, block_samples: int) -> Iterator[np.ndarray]:
        h = self.header
        assert h is not None
        records_per_read = max(1, block_samples // h.samples_per_record[self.signal_index])
        try:
            with self.path.open("rb") as f:
                for r0, r1, missing in self._runs():
                    yield from nan_blocks(missing, block_samples)
                    for r in range(r0, r1, records_per_read):
                        n = min(records_per_read, r1 - r)
                        f.seek(h.header_bytes + r * h.record_bytes)
                        data = f.read(n * h.record_bytes)
                        if len(data) != n * h.record_bytes:
                            raise RecordingError(f"{self.path}: ends inside data record "
                                                 f"{r + 1 + len(data) // h.record_bytes} though it was whole when "
                                                 "opened (changed since?)")
                        yield self._decode(data, n)
        except OSError as exc:
            raise RecordingError(f"{self.path}: cannot read: {exc.strerror}") from None


def _record_starts(path: Path, h: EdfHeader, signal: int) -> tuple[list[int], list[tuple[int, int]]]:
    """Each record's first sample index in the stream, and the gaps, from the records' time-keeping TALs."""
    annotation = next((i for i, label in enumerate(h.labels) if label in _ANNOTATION_LABELS), None)
    if annotation is None:
        raise RecordingError(f"{path}: an EDF+D file without an annotation signal: when its records start is unknown")
    rate_hz = h.samples_per_record[signal] / h.record_s
    spr = h.samples_per_record[signal]
    first = h.offset_bytes(annotation)
    width = h.samples_per_record[annotation] * h.sample_bytes
    starts: list[int] = []
    gaps: list[tuple[int, int]] = []
    onset0 = 0.0
    lost = 0
    with path.open("rb") as f:
        for r in range(h.records):
            f.seek(h.header_bytes + r * h.record_bytes + first)
            m = _TIME_KEEPING.match(f.read(width))
            if not m:
                raise RecordingError(f"{path}: EDF+D data record {r + 1} does not begin with its time-keeping "
                                     "annotation (+seconds, then two 0x14 bytes)")
            onset_s = float(m.group(1))
            if r == 0:
                onset0 = onset_s
            index = round((onset_s - onset0) * rate_hz)
            expected = r * spr + lost
            if index < expected:
                raise RecordingError(f"{path}: EDF+D data record {r + 1} starts at {onset_s:g} s, before the "
                                     "previous record ends")
            if index - expected > MAX_GAP_S * rate_hz:
                raise RecordingError(f"{path}: EDF+D data record {r + 1} starts {(index - expected) / rate_hz:g} s "
                                     "after the previous one ends: more than a day, is its time right?")
            if index > expected:
                gaps.append((expected, index - expected))
                lost += index - expected
                if lost > MAX_TOTAL_GAP_S * rate_hz:
                    raise RecordingError(f"{path}: EDF+D pauses between its records add up to more than a week by "
                                         f"data record {r + 1}: is their time right?")
            starts.append(index)
    return starts, gaps


def open_edf(path: Path) -> Recording:
    h = read_header(path)
    ordinary = [i for i, label in enumerate(h.labels) if label not in _ANNOTATION_LABELS]
    if not ordinary:
        raise RecordingError(f"{path}: no signal in this EDF file, only annotations")
    return _signal_recording(path, h, ordinary[0])


def open_edf_signals(path: Path, min_rate_hz: float) -> tuple[list[Recording], list[str]]:
    """Every EMG signal of the file as its own recording, and why each other signal was skipped.

    Not EMG: annotation signals, a label saying so (ECG, EEG, EOG, respiration, ...), a unit that is not
    a voltage, or a rate below `min_rate_hz`; a signal at another rate than the first EMG signal is
    skipped too (the channels are compared sample by sample)."""
    h = read_header(path)
    kept: list[Recording] = []
    skipped: list[str] = []
    for i, label in enumerate(h.labels):
        if label in _ANNOTATION_LABELS:
            continue
        name = label or f"signal {i + 1}"
        rate_hz = h.samples_per_record[i] / h.record_s
        if NOT_EMG_LABEL.search(label):
            skipped.append(f"signal {i + 1} {name!r}: its label says it is not EMG")
        elif (h.units[i] or "uV").strip().lower() not in _UNIT_TO_UV:
            skipped.append(f"signal {i + 1} {name!r}: in {h.units[i]!r}, not a voltage")
        elif rate_hz < min_rate_hz:
            skipped.append(f"signal {i + 1} {name!r}: {rate_hz:g} Hz, too slow for EMG (at least {min_rate_hz:g})")
        elif kept and rate_hz != kept[0].rate_hz:
            skipped.append(f"signal {i + 1} {name!r}: {rate_hz:g} Hz, not the {kept[0].rate_hz:g} Hz of "
                           f"{kept[0].label!r}")
        else:
            kept.append(_signal_recording(path, h, i, name))
    return kept, skipped


def _signal_recording(path: Path, h: EdfHeader, signal: int, unnamed: str = "signal 1") -> Recording:
    label = h.labels[signal] or unnamed
    (pmin, pmax), (dmin, dmax) = h.physical[signal], h.digital[signal]
    low, high = _DIGITAL_RANGE[h.sample_bytes]
    if dmin >= dmax:
        raise RecordingError(f"{path}: signal {label!r}: digital minimum {dmin} is not below its maximum {dmax}")
    if not low <= dmin < dmax <= high:
        raise RecordingError(f"{path}: signal {label!r}: digital range {dmin}..{dmax} is not within "
                             f"{low}..{high} ({8 * h.sample_bytes}-bit samples)")
    if pmax == pmin:
        raise RecordingError(f"{path}: signal {label!r} has no range (physical {pmin:g}..{pmax:g}): its samples "
                             "cannot be turned into volts")
    scale_to_uv = unit_scale_to_uv(h.units[signal] or "uV", path)
    rate_hz = h.samples_per_record[signal] / h.record_s
    fmt = "bdf" if h.sample_bytes == 3 else "edf"
    n_samples = h.records * h.samples_per_record[signal]
    starts: list[int] | None = None
    gaps: list[tuple[int, int]] = []
    if h.discontinuous:
        starts, gaps = _record_starts(path, h, signal)
        n_samples += sum(count for _, count in gaps)
    return _EdfRecording(path, fmt, rate_hz, n_samples, label, gaps=gaps, header=h, signal_index=signal,
                         scale_to_uv=scale_to_uv, record_starts=starts)
