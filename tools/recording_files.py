"""Recording files written byte by byte, as other tools write them: for the readers' tests and mutations.

Independent of the readers (no import of myotwitch.recordings): an EDF/BDF
writer with discontinuous records (EDF+D), a WFDB format-16 writer, and a
20 s signal with 5 potentials the detector finds, in float and integer form.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

RATE_HZ = 1000
SECONDS = 20
POTENTIAL_S = (3.0, 6.5, 10.0, 13.5, 17.0)  # where the 5 potentials peak


def signal_uv(integers: bool = False, seed: int = 4) -> np.ndarray:
    """20 s at 1 kHz: 3 µV rest noise and 5 biphasic 150 µV potentials (10 ms); whole µV if `integers`."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, RATE_HZ * SECONDS)
    t = np.linspace(-3, 3, 10)
    shape = -t * np.exp(-0.5 * t * t)
    shape = 150.0 * shape / np.abs(shape).max()
    for peak_s in POTENTIAL_S:
        i = int(peak_s * RATE_HZ)
        x[i - 5 : i + 5] += shape
    # Rounded to 0.01 µV: every reader's format holds it exactly (CSV as printed, EDF and WFDB as counts)
    return np.round(x) if integers else np.round(x, 2)


def _number(value: float) -> str:
    """As EDF headers and TALs write numbers: no exponent, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _field(value, width: int) -> bytes:
    text = (_number(value) if isinstance(value, float) else str(value)).encode("ascii")
    if len(text) > width:
        raise ValueError(f"{value!r} does not fit in {width} characters")
    return text.ljust(width)


def edf_bytes(signals: Sequence[np.ndarray], rate_hz: float = RATE_HZ, record_s: float = 1.0, *, bdf: bool = False,
              units: str = "uV", physical: tuple[float, float] | None = None,
              digital: tuple[int, int] | None = None, record_onsets_s: Sequence[float] | None = None,
              annotations: bool = False, labels: Sequence[str] | None = None) -> bytes:
    """An EDF (or BDF) file of the signals, each given as digital counts (integers).

    `record_onsets_s` makes an EDF+D (each record's time-keeping TAL says when it starts); `annotations`
    an EDF+C with an annotation signal. physical/digital default to the counts' own range, 1 unit per count.
    """
    spr = round(rate_hz * record_s)
    n_records = len(signals[0]) // spr
    low, high = (-(1 << 23), (1 << 23) - 1) if bdf else (-32768, 32767)
    dmin, dmax = digital or (low, high)
    pmin, pmax = physical or (float(dmin), float(dmax))
    has_tal = annotations or record_onsets_s is not None
    tal_bytes = 60
    tal_samples = -(-tal_bytes // (3 if bdf else 2))
    labels = list(labels or [f"EMG{i + 1}" for i in range(len(signals))])
    all_labels = labels + (["BDF Annotations" if bdf else "EDF Annotations"] if has_tal else [])
    ns = len(all_labels)
    spr_all = [spr] * len(signals) + ([tal_samples] if has_tal else [])
    reserved = ("BDF+" if bdf else "EDF+") + ("D" if record_onsets_s is not None else "C") if has_tal else \
        ("24BIT" if bdf else "")
    head = (b"\xffBIOSEMI" if bdf else b"0       ") + _field("X X X X", 80) + _field("Startdate X X X X", 80) \
        + b"01.01.26" + b"00.00.00" + _field(256 * (ns + 1), 8) + _field(reserved, 44) + _field(n_records, 8) \
        + _field(float(record_s), 8) + _field(ns, 4)
    cols = [[_field(x, 16) for x in all_labels], [_field("", 80)] * ns,
            [_field(units, 8)] * len(signals) + [_field("", 8)] * has_tal,
            [_field(pmin, 8)] * len(signals) + [_field(-1, 8)] * has_tal,
            [_field(pmax, 8)] * len(signals) + [_field(1, 8)] * has_tal,
            [_field(dmin, 8)] * len(signals) + [_field(low, 8)] * has_tal,
            [_field(dmax, 8)] * len(signals) + [_field(high, 8)] * has_tal,
            [_field("", 80)] * ns, [_field(n, 8) for n in spr_all], [_field("", 32)] * ns]
    head += b"".join(b"".join(c) for c in cols)
    body = bytearray()
    for r in range(n_records):
        for s in signals:
            counts = np.asarray(s[r * spr : (r + 1) * spr], dtype=np.int64)
            if bdf:
                u = (counts & 0xFFFFFF).astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
                body += u.tobytes()
            else:
                body += counts.astype("<i2").tobytes()
        if has_tal:
            onset = record_onsets_s[r] if record_onsets_s is not None else r * record_s
            tal = f"+{_number(float(onset))}".encode() + b"\x14\x14\x00"
            body += tal.ljust(tal_samples * (3 if bdf else 2), b"\x00")
    return head + bytes(body)


def wfdb_files(folder: Path, name: str, signals: Sequence[np.ndarray], gain: str = "1/uV",
               adc_zero: int = 0, rate_hz: float = RATE_HZ) -> Path:
    """A WFDB record: `name.hea` and `name.dat` (format 16, signals interleaved); returns the .hea."""
    counts = np.stack([np.asarray(s) for s in signals], axis=1).astype("<i2")
    (folder / f"{name}.dat").write_bytes(counts.tobytes())
    lines = [f"{name} {len(signals)} {rate_hz:g} {len(counts)}"]
    lines += [f"{name}.dat 16 {gain} 16 {adc_zero} 0 0 0 EMG{i + 1}" for i in range(len(signals))]
    (folder / f"{name}.hea").write_text("\n".join(lines) + "\n")
    return folder / f"{name}.hea"
