"""Read recordings in blocks of µV: CSV, EDF/EDF+/EDF+D/BDF and WFDB (format 16).

One module per format (`csvfile`, `edf`, `wfdb`); this one holds what they
share: the `Recording` interface, the units, and `open_recording`, which
picks the reader from the file's first bytes (an EDF named .bdf is read as
EDF), the name deciding only where the content cannot (CSV, WFDB headers).

Every reader streams: a recording is never loaded whole, so hours of signal
use the memory of one block. Each validates a header field before using it;
a bad file raises MyotwitchError saying what is wrong with the data and
where, never a bare traceback, and never which command-line flag to pass
(the CLI adds that). Samples a file does not hold (the gaps between an
EDF+D file's records, a jump in a CSV's time column) are yielded as NaN: the
replay source counts them as lost and reports them as gaps, never fills them in.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError

DEFAULT_BLOCK_SAMPLES = 65536
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1000.0, "v": 1e6, "nv": 1e-3}
FORMATS = ".csv (also .tsv, .txt), .edf, .bdf (EDF, EDF+, EDF+D, BDF, BDF+), .hea (WFDB), .mtwcap (a raw capture)"
# A gap longer than this in a file's own time-keeping is taken as a corrupt time, not a pause:
# replaying it as lost samples would take minutes for nothing.
MAX_GAP_S = 24 * 3600.0
# Labels of signals that are not surface EMG, as EDF files from sleep and EEG labs and CSV exports name
# them (`_` separates words too: ecg_uv): with several signals these are skipped, and said so
NOT_EMG_LABEL = re.compile(r"(?<![a-z0-9])(ecg|ekg|eeg|eog|resp[a-z]*|temp[a-z]*|spo2|sao2|pleth[a-z]*|pulse|hr|"
                           r"acc[a-z]*|gyro[a-z]*|event|status|trigger|marker)(?![a-z0-9])", re.IGNORECASE)
MAX_TOTAL_GAP_S = 7 * MAX_GAP_S  # all of a file's pauses together: a week (a minute or two to skip at 20 kHz)


class RecordingError(MyotwitchError):
    """What is wrong with a recording's data; `needs_rate` when giving the sampling rate would help."""

    def __init__(self, message: str, needs_rate: bool = False) -> None:
        # One line, whatever bytes of the file the message quotes
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))
        self.needs_rate = needs_rate


@dataclass
class Recording:
    path: Path
    format: str
    rate_hz: float
    n_samples: int | None  # None where only reading to the end tells (CSV)
    label: str
    # (first index, count) of samples the file says are missing: an EDF+D's pauses, known when it is opened;
    # a CSV's jumps in time, found while it is read
    gaps: list[tuple[int, int]] = field(default_factory=list, kw_only=True)

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        raise NotImplementedError

    @property
    def duration_s(self) -> float | None:
        return None if self.n_samples is None else self.n_samples / self.rate_hz


def unit_scale_to_uv(unit: str, path: Path | None = None) -> float:
    try:
        return _UNIT_TO_UV[unit.strip().lower()]
    except KeyError:
        where = f"{path}: " if path is not None else ""
        raise RecordingError(f"{where}unknown physical unit '{unit}' (expected uV, mV or V)") from None


INTEGER = re.compile(r"^[-+]?\d+$")


def header_number(text: str, what: str, where: str) -> float:
    """A header field that must be a finite number; `where` begins the error (the file, and which header)."""
    try:
        value = float(text)
    except ValueError:
        raise RecordingError(f"{where}: the {what} '{text}' is not a number") from None
    if not math.isfinite(value):
        raise RecordingError(f"{where}: the {what} '{text}' is not a finite number")
    return value


def header_integer(text: str, what: str, where: str) -> int:
    """A header field that must be a whole number (a sign allowed); `where` begins the error."""
    if not INTEGER.fullmatch(text):
        raise RecordingError(f"{where}: the {what} '{text}' is not a whole number")
    return int(text)


def nan_blocks(count: int, block_samples: int) -> Iterator[np.ndarray]:
    """`count` missing samples as NaN blocks of at most `block_samples`."""
    for start in range(0, count, block_samples):
        yield np.full(min(block_samples, count - start), np.nan)


def rechunk(pieces: Iterator[np.ndarray], block_samples: int) -> Iterator[np.ndarray]:
    """The pieces' samples in order, as blocks of exactly `block_samples` (the last one shorter)."""
    pending: list[np.ndarray] = []
    held = 0
    for piece in pieces:
        pending.append(piece)
        held += len(piece)
        if held >= block_samples:
            joined = np.concatenate(pending)
            whole = held - held % block_samples
            for start in range(0, whole, block_samples):
                yield joined[start : start + block_samples]
            pending, held = [joined[whole:]], held - whole
    if held:
        yield np.concatenate(pending)


EDF_MAGIC = b"0       "
BDF_MAGIC = b"\xffBIOSEMI"
# What `--capture` writes (sources/capture.py): every byte the board sent. Version 2 starts with this line;
# version 1 holds the bare bytes, so only its name tells it.
CAPTURE_SUFFIX = ".mtwcap"
CAPTURE_MAGIC = b"MTWCAP2\n"


def sniff_format(path: Path) -> str:
    """'edf', 'wfdb', 'csv' or 'capture' from the first bytes, the name deciding only where the bytes cannot
    (text, a version 1 capture); else RecordingError."""
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from None
    suffix = path.suffix.lower()
    if head.startswith((EDF_MAGIC, BDF_MAGIC)):
        return "edf"
    if head.startswith(CAPTURE_MAGIC) or suffix == CAPTURE_SUFFIX:
        return "capture"
    if suffix in (".edf", ".bdf", ".rec"):
        return "edf"  # the EDF reader says what the first bytes are instead
    if suffix == ".hea":
        return "wfdb"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    if suffix == ".dat" and path.with_suffix(".hea").is_file():
        header = path.with_suffix(".hea").name
        raise RecordingError(f"{path}: the data file of a WFDB record: open its header, {header}")
    raise RecordingError(f"{path}: unknown recording format '{suffix or path.name}' (expected {FORMATS})")


def open_recording(path: str | os.PathLike, rate_hz: float | None = None) -> Recording:
    """Open a recording by its content; `rate_hz` is needed for a CSV without a time column."""
    path = Path(path)
    if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
        raise RecordingError(f"the sampling rate must be a positive number of Hz, not {rate_hz}")
    if not path.exists():
        raise RecordingError(f"{path}: no such file")
    if path.is_dir():
        raise RecordingError(f"{path}: is a folder, not a recording")
    fmt = sniff_format(path)
    if fmt == "capture":
        raise RecordingError(f"{path}: a raw capture of a board's bytes, not a recording of samples: "
                             "`myotwitch analyze` replays it")
    if fmt == "edf":
        from myotwitch.recordings.edf import open_edf

        return open_edf(path)
    if fmt == "wfdb":
        from myotwitch.recordings.wfdb import open_wfdb

        return open_wfdb(path)
    from myotwitch.recordings.csvfile import open_csv

    return open_csv(path, rate_hz)


def open_signals(path: str | os.PathLike, rate_hz: float | None = None,
                 min_rate_hz: float = 0.0) -> tuple[list[Recording], list[str]]:
    """Every EMG signal of a recording, one Recording each, and why each other signal was skipped.

    EDF/BDF: every signal but annotations and those that say they are not EMG (label, unit, rate below
    `min_rate_hz`, or another rate than the first); CSV: every column but the time, a sample counter and
    columns that say they are not EMG (label or unit; the first signal column is read as always).
    A WFDB record gives its first signal, as `open_recording` does."""
    path = Path(path)
    if rate_hz is not None and not (math.isfinite(rate_hz) and rate_hz > 0):
        raise RecordingError(f"the sampling rate must be a positive number of Hz, not {rate_hz}")
    if not path.exists() or path.is_dir():
        return [open_recording(path, rate_hz)], []  # which says what is wrong
    fmt = sniff_format(path)
    if fmt == "edf":
        from myotwitch.recordings.edf import open_edf_signals

        recordings, skipped = open_edf_signals(path, min_rate_hz)
        if not recordings:
            raise RecordingError(f"{path}: no EMG signal in this file (" + "; ".join(skipped or ["only annotations"])
                                 + ")")
        return recordings, skipped
    if fmt == "csv":
        from myotwitch.recordings.csvfile import open_csv_signals

        return open_csv_signals(path, rate_hz)
    return [open_recording(path, rate_hz)], []
