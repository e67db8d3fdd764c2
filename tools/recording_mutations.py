"""A mutation check of `myotwitch analyze`: valid variants of each format, and corruptions of them.

    .venv/bin/python tools/recording_mutations.py [--random N]

Each case writes one recording (as a clinical or consumer tool, or a
spreadsheet, writes it; or damaged) and runs `myotwitch analyze` on it in this
process, fds 1 and 2 captured, so a library's stray output is seen too. The
verdict of a case is one of:
  ok              what the case expects: a valid variant exits 0, finds the 5
                  potentials and reads the very samples written; a file with a
                  gap exits 0 with the gap's samples counted; a corruption
                  exits 1 with one line `myotwitch: error: ...`
  traceback       an exception escaped main()
  silent misread  exit 0 where the data are wrong, or the potentials/samples
                  not what was written
  wrong reason    exit 1, but not the message expected
  stray output    anything on stdout/stderr besides myotwitch's own lines
  hang            (the script only) no answer within 30 s
tests/test_recording_mutations.py runs the same cases (a seeded sample of the
random ones) and expects every verdict to be ok.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
if "--before" not in sys.argv:
    sys.path.insert(0, str(ROOT / "host"))

import recording_files as rf

X_UV = rf.signal_uv()  # 0.01 µV steps
XI_UV = rf.signal_uv(integers=True)
N = len(X_UV)


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], list[str]]  # writes the file(s) in a folder; returns the arguments after `analyze`
    expect: str  # "valid", "gap", "refuse" or "usage"
    samples: np.ndarray | None = None  # what a valid file must read as (µV), NaN where samples are missing
    says: str = ""  # a fragment of the error expected
    gap_samples: int = 0
    tolerance_uv: float = 0.0  # 0: read exactly
    potentials: int = 5


@dataclass
class Result:
    code: int | None
    stderr: str
    stray: str
    events: list[dict] = field(default_factory=list)
    read: np.ndarray | None = None
    error: str = ""  # the traceback, if one escaped


# -- writers ---------------------------------------------------------------------


def _text(name: str, text: str, encoding: str = "utf-8", args: tuple[str, ...] = ()) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / name).write_bytes(text.encode(encoding))
        return [str(d / name), *args]
    return make


def _bytes(name: str, data: bytes, args: tuple[str, ...] = ()) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / name).write_bytes(data)
        return [str(d / name), *args]
    return make


def _csv_text(x: np.ndarray = X_UV, sep: str = ",", head: str = "time_s,emg_uv\n", time_scale: float = 1.0,
              decimals: int = 4, comma: bool = False, end: str = "\n", times: np.ndarray | None = None,
              quote: bool = False, value_fmt: str = "{:.2f}") -> str:
    t = np.arange(len(x)) / rf.RATE_HZ if times is None else times
    rows = []
    for a, b in zip(t * time_scale, x):
        ta, vb = f"{a:.{decimals}f}", value_fmt.format(b)
        if comma:
            ta, vb = ta.replace(".", ","), vb.replace(".", ",")
        if quote:
            ta, vb = f'"{ta}"', f'"{vb}"'
        rows.append(f"{ta}{sep}{vb}")
    return head.replace("\n", end) + end.join(rows) + end


def _values_only(x: np.ndarray = X_UV, head: str = "", fmt: str = "{:.2f}") -> str:
    return head + "".join(fmt.format(v) + "\n" for v in x)


def _edf(name: str, counts: list[np.ndarray], args: tuple[str, ...] = (), **kw) -> Callable[[Path], list[str]]:
    return _bytes(name, rf.edf_bytes([np.asarray(c, dtype=np.int64) for c in counts], **kw), args)


def _edf_patched(name: str, patch: Callable[[bytearray], bytes | bytearray], **kw) -> Callable[[Path], list[str]]:
    data = bytearray(rf.edf_bytes([(X_UV * 100).round().astype(np.int64)], physical=(-327.68, 327.67), **kw))
    return _bytes(name, bytes(patch(data)))


def _set(offset: int, text: bytes) -> Callable[[bytearray], bytearray]:
    def patch(data: bytearray) -> bytearray:
        data[offset : offset + len(text)] = text
        return data
    return patch


# A 1-signal EDF's signal fields start at 256; each field of one signal is its width long.
_SIG = {"label": 256, "unit": 256 + 96, "pmin": 256 + 104, "pmax": 256 + 112, "dmin": 256 + 120,
        "dmax": 256 + 128, "spr": 256 + 216}


def _wfdb(header: str, dat: bytes | None) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / "r.hea").write_text(header)
        if dat is not None:
            (d / "r.dat").write_bytes(dat)
        return [str(d / "r.hea")]
    return make


def _wfdb_valid(signals: list[np.ndarray], gain: str, adc_zero: int = 0) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        return [str(rf.wfdb_files(d, "r", signals, gain=gain, adc_zero=adc_zero))]
    return make


_XI_DAT = XI_UV.astype("<i2").tobytes()


def _edf_d_onsets() -> list[float]:
    """1 s records, with a 1 s pause after the 12th (between the potentials at 10 s and 13.5 s)."""
    return [float(r) for r in range(12)] + [float(r + 1) for r in range(12, 20)]


def _with_gap(x: np.ndarray, at: int, missing: int) -> np.ndarray:
    return np.concatenate((x[:at], np.full(missing, np.nan), x[at:]))


def _late_time(change: Callable[[list[str]], None]) -> Callable[[Path], list[str]]:
    """A valid time_s CSV whose time column goes wrong after 5 s (beyond any first-rows check)."""
    def make(d: Path) -> list[str]:
        lines = _csv_text().splitlines()
        change(lines)
        (d / "late.csv").write_text("\n".join(lines) + "\n")
        return [str(d / "late.csv")]
    return make


def _swap(lines: list[str]) -> None:
    lines[5001], lines[5002] = lines[5002], lines[5001]


def _duplicate(lines: list[str]) -> None:
    lines[5002] = lines[5001].split(",")[0] + "," + lines[5002].split(",")[1]


def _word(lines: list[str]) -> None:
    lines[5002] = "abc," + lines[5002].split(",")[1]


def _inf_every_half_second() -> str:
    x = X_UV.astype(object)
    x[250::500] = float("inf")  # between the potentials
    return _csv_text(np.asarray(x, dtype=float))


_JUMP_AT = 15000
_JUMP_TIMES = np.concatenate((np.arange(_JUMP_AT), np.arange(_JUMP_AT, N) + 2000)) / rf.RATE_HZ
# 1.4 ms steps from 5 s: each alone passes as one sample period, together they run off the 1 kHz rate
_STRETCHED_TIMES = np.concatenate((np.arange(5000), 5000 + 1.4 * np.arange(N - 5000))) / rf.RATE_HZ

VALID = [
    Case("CSV time_s,emg_uv", _text("a.csv", _csv_text()), "valid", X_UV),
    Case("CSV with a UTF-8 BOM", _text("bom.csv", "\ufeff" + _csv_text()), "valid", X_UV),
    Case("CSV ; with decimal commas (European spreadsheet)",
         _text("eu.csv", _csv_text(sep=";", head="time_s;emg_uv\n", comma=True)), "valid", X_UV),
    Case("CSV tab-separated", _text("tab.csv", _csv_text(sep="\t", head="time_s\temg_uv\n")), "valid", X_UV),
    Case("CSV UTF-16 with BOM, tabs (spreadsheet 'Unicode text')",
         _text("u16.csv", _csv_text(sep="\t", head="time_s\temg_uv\n"), "utf-16"), "valid", X_UV),
    Case("CSV UTF-16-LE without BOM", _text("u16le.csv", _csv_text(), "utf-16-le"), "valid", X_UV),
    Case("CSV with a units row", _text("units.csv", _csv_text(head="Time,EMG\ns,uV\n")), "valid", X_UV),
    Case("CSV with CRLF line ends", _text("crlf.csv", _csv_text(end="\r\n")), "valid", X_UV),
    Case("CSV time_ms, with --rate", _text("ms.csv", _csv_text(head="time_ms,emg_uv\n", time_scale=1000, decimals=1),
                                           args=("--rate", "1000")), "valid", X_UV),
    Case("CSV t column", _text("t.csv", _csv_text(head="t,emg_uv\n")), "valid", X_UV),
    Case("CSV one column, --rate", _text("one.csv", _values_only(head="emg_uv\n"), args=("--rate", "1000")),
         "valid", X_UV),
    Case("CSV one column, no header, --rate", _text("bare.csv", _values_only(), args=("--rate", "1000")),
         "valid", X_UV),
    Case("CSV in mV (emg_mv)", _text("mv.csv", _csv_text(X_UV / 1000, head="time_s,emg_mv\n",
                                                         value_fmt="{:.5f}")), "valid", X_UV, tolerance_uv=1e-9),
    Case("CSV quoted decimal commas, ',' between", _text("q.csv", _csv_text(comma=True, quote=True)), "valid", X_UV),
    Case("CSV with a sep=; line", _text("sep.csv", "sep=;\n" + _csv_text(sep=";", head="time_s;emg_uv\n")),
         "valid", X_UV),
    Case("CSV Latin-1 'Time (s)','EMG (µV)'", _text("l1.csv", _csv_text(head="Time (s),EMG (µV)\n"), "latin-1"),
         "valid", X_UV),
    Case("CSV of integers (quantized)", _text("int.csv", _csv_text(XI_UV, value_fmt="{:.0f}")), "valid", XI_UV),
    Case("CSV sample,time_s,emg_uv", _text("idx.csv", "sample,time_s,emg_uv\n" + "".join(
        f"{i},{i / 1000:.4f},{v:.2f}\n" for i, v in enumerate(X_UV))), "valid", X_UV),
    Case("EDF 16-bit counts (quantized)", _edf("q.edf", [XI_UV]), "valid", XI_UV),
    Case("BDF 24-bit counts (quantized)", _edf("q.bdf", [XI_UV], bdf=True), "valid", XI_UV),
    Case("EDF named .bdf", _edf("edf-named.bdf", [XI_UV]), "valid", XI_UV),
    Case("BDF named .edf", _edf("bdf-named.edf", [XI_UV], bdf=True), "valid", XI_UV),
    Case("EDF 0.01 µV steps", _edf("f.edf", [(X_UV * 100).round()], physical=(-327.68, 327.67)), "valid", X_UV,
         tolerance_uv=1e-6),
    Case("EDF+C with annotations, 2 signals", _edf("c.edf", [XI_UV, XI_UV[::-1]], annotations=True), "valid", XI_UV),
    Case("BDF+C, mV", _edf("c.bdf", [XI_UV], bdf=True, annotations=True, units="mV",
                           physical=(-100.0, 100.0), digital=(-100000, 100000)), "valid", XI_UV, tolerance_uv=1e-9),
    Case("EDF, 0.5 s records", _edf("half.edf", [XI_UV], record_s=0.5), "valid", XI_UV),
    Case("WFDB format 16, 1/uV", _wfdb_valid([XI_UV], "1/uV"), "valid", XI_UV),
    Case("WFDB 2 signals interleaved", _wfdb_valid([XI_UV, -XI_UV], "1/uV"), "valid", XI_UV),
    Case("WFDB 1000(5)/mV, ADC zero", _wfdb_valid([XI_UV + 5], "1000(5)/mV", adc_zero=5), "valid", XI_UV,
         tolerance_uv=1e-9),
    Case("EDF+D: a 1 s pause between its records", _edf("d.edf", [XI_UV], record_onsets_s=_edf_d_onsets()), "gap",
         _with_gap(XI_UV, 12000, 1000), gap_samples=1000),
    Case("BDF+D: a 1 s pause, named .edf", _edf("d2.edf", [XI_UV], bdf=True, record_onsets_s=_edf_d_onsets()), "gap",
         _with_gap(XI_UV, 12000, 1000), gap_samples=1000),
    Case("CSV time_s jumping 2 s at 15 s", _text("jump.csv", _csv_text(times=_JUMP_TIMES)), "gap",
         _with_gap(X_UV, _JUMP_AT, 2000), gap_samples=2000),
]

CORRUPT = [
    # WFDB
    Case("WFDB empty .dat", _wfdb("r 1 1000 20000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", b""), "refuse", says="empty"),
    Case("WFDB .dat of an odd byte count", _wfdb("r 1 1000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT + b"\0"),
         "refuse", says="not a whole number of samples"),
    Case("WFDB record line 'r 0 2000 40000'", _wfdb("r 0 2000 40000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT),
         "refuse", says="0 signals"),
    Case("WFDB gain '.'", _wfdb("r 1 1000\nr.dat 16 . 16 0 0 0 0 EMG\n", _XI_DAT), "refuse", says="gain"),
    Case("WFDB gain '-'", _wfdb("r 1 1000\nr.dat 16 - 16 0 0 0 0 EMG\n", _XI_DAT), "refuse", says="gain"),
    Case("WFDB gain '2000(-)/mV'", _wfdb("r 1 1000\nr.dat 16 2000(-)/mV 16 0 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="gain"),
    Case("WFDB ADC zero 'abc'", _wfdb("r 1 1000\nr.dat 16 1/uV 16 abc 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="ADC zero"),
    Case("WFDB data file '../r.dat'", _wfdb("r 1 1000\n../r.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="not a plain file name"),
    Case("WFDB rate 0", _wfdb("r 1 0\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT), "refuse", says="impossible"),
    Case("WFDB rate 'fast'", _wfdb("r 1 fast\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="sampling rate"),
    Case("WFDB 2 signals, 1 signal line", _wfdb("r 2 1000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="2 signals but 1 signal line"),
    Case("WFDB format 212", _wfdb("r 1 1000\nr.dat 212 1/uV 12 0 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="format 212"),
    Case("WFDB more samples declared than held", _wfdb("r 1 1000 90000\nr.dat 16 1/uV 16 0 0 0 0 EMG\n", _XI_DAT),
         "refuse", says="cut short"),
    Case("WFDB gain in furlongs", _wfdb("r 1 1000\nr.dat 16 1/furlong 16 0 0 0 0 EMG\n", _XI_DAT), "refuse",
         says="unknown physical unit"),
    Case("WFDB header only a record line", _wfdb("r 1 1000\n", _XI_DAT), "refuse", says="not a WFDB header"),
    Case("WFDB data file is a folder", _wfdb("r 1 1000\n.. 16 1/uV 16 0 0 0 0 EMG\n", None), "refuse",
         says="not a plain file name"),
    # EDF / BDF
    Case("EDF 0 bytes", _bytes("e.edf", b""), "refuse", says="not an EDF or BDF file"),
    Case("EDF cut at 100 bytes", _edf_patched("c.edf", lambda d: d[:100]), "refuse", says="cut short"),
    Case("EDF cut at 300 bytes", _edf_patched("c.edf", lambda d: d[:300]), "refuse", says="cut short"),
    Case("EDF cut inside its data", _edf_patched("c.edf", lambda d: d[: len(d) // 2 + 7]), "refuse",
         says="cut short"),
    Case("EDF with bytes after its last record", _edf_patched("c.edf", lambda d: d + b"x" * 10), "refuse",
         says="10 bytes more than"),
    Case("random bytes named .edf", _bytes("r.edf", np.random.default_rng(2).bytes(5000)), "refuse",
         says="not an EDF or BDF file"),
    Case("PNG named .edf", _bytes("p.edf", b"\x89PNG\r\n\x1a\n" + bytes(1000)), "refuse",
         says="not an EDF or BDF file"),
    Case("EDF 0 signals", _edf_patched("c.edf", _set(252, b"0   ")), "refuse", says="0 signals"),
    Case("EDF 9999 signals", _edf_patched("c.edf", _set(252, b"9999")), "refuse", says="cut short"),
    Case("EDF signals 'xx'", _edf_patched("c.edf", _set(252, b"xx  ")), "refuse", says="number of signals"),
    Case("EDF header size wrong", _edf_patched("c.edf", _set(184, b"768     ")), "refuse", says="header"),
    Case("EDF record duration 0", _edf_patched("c.edf", _set(244, b"0       ")), "refuse", says="hold no signal"),
    Case("EDF record duration 'abc'", _edf_patched("c.edf", _set(244, b"abc     ")), "refuse",
         says="record duration"),
    Case("EDF record duration 'nan'", _edf_patched("c.edf", _set(244, b"nan     ")), "refuse",
         says="record duration"),
    Case("EDF 0 records", _edf_patched("c.edf", _set(236, b"0       ")), "refuse", says="data records"),
    Case("EDF 99 records announced, 20 held", _edf_patched("c.edf", _set(236, b"99      ")), "refuse",
         says="cut short"),
    Case("EDF 0 samples per record", _edf_patched("c.edf", _set(_SIG["spr"], b"0       ")), "refuse",
         says="samples per record"),
    Case("EDF samples per record 'x'", _edf_patched("c.edf", _set(_SIG["spr"], b"x       ")), "refuse",
         says="number of samples"),
    Case("EDF digital min = max", _edf_patched("c.edf", _set(_SIG["dmin"], b"32767   ")), "refuse",
         says="not below its maximum"),
    Case("EDF digital range beyond 16 bits", _edf_patched("c.edf", _set(_SIG["dmax"], b"99999   ")), "refuse",
         says="digital range"),
    Case("EDF physical min = max", _edf_patched("c.edf", _set(_SIG["pmin"], b"327.67  ")), "refuse",
         says="no range"),
    Case("EDF unit 'furlong'", _edf_patched("c.edf", _set(_SIG["unit"], b"furlong ")), "refuse",
         says="unknown physical unit"),
    Case("EDF+D without an annotation signal", _edf_patched("c.edf", _set(192, b"EDF+D")), "refuse",
         says="annotation signal"),
    Case("EDF+D record without its time-keeping TAL",
         _bytes("d.edf", rf.edf_bytes([XI_UV.astype(np.int64)], record_onsets_s=_edf_d_onsets())
                .replace(b"+5\x14\x14", b"x5\x14\x14")), "refuse", says="time-keeping"),
    Case("EDF+D records going back in time",
         _edf("d.edf", [XI_UV], record_onsets_s=[0, 1, 2, 1.5] + [float(r) for r in range(4, 20)]), "refuse",
         says="before the previous record ends"),
    Case("EDF+D a record 10^9 s later", _edf("d.edf", [XI_UV], record_onsets_s=[0, 1e9] + [1e9 + r for r in range(
        1, 19)]), "refuse", says="more than a day"),
    Case("EDF+D 20 pauses of 23 h", _edf("d.edf", [XI_UV], record_onsets_s=[r * 23 * 3600.0 + r for r in range(20)]),
         "refuse", says="more than a week"),
    Case("EDF only an annotation signal",
         _bytes("a.edf", rf.edf_bytes([XI_UV.astype(np.int64)], annotations=True)
                .replace(b"EMG1            ", b"EDF Annotations ", 1)), "refuse", says="only annotations"),
    # CSV
    Case("CSV 0 bytes", _bytes("e.csv", b""), "refuse", says="empty file"),
    Case("CSV of NUL bytes", _bytes("n.csv", bytes(1000)), "refuse", says="NUL bytes"),
    Case("random bytes named .csv", _bytes("r.csv", np.random.default_rng(5).bytes(3000)), "refuse", says=""),
    Case("CSV header only", _text("h.csv", "time_s,emg_uv\n"), "refuse", says="no samples"),
    Case("CSV time_s backwards (rows swapped at 5 s)", _late_time(_swap), "refuse", says="time goes back"),
    Case("CSV time_s repeated at 5 s", _late_time(_duplicate), "refuse", says="does not advance"),
    Case("CSV time_s not a number at 5 s", _late_time(_word), "refuse", says="is not a number"),
    Case("CSV time_s stepping 1.4 ms from 5 s", _text("stretch.csv", _csv_text(times=_STRETCHED_TIMES)), "refuse",
         says="does the rate change within the file"),
    Case("CSV unquoted decimal commas under a header", _text("dc.csv", _values_only(head="emg_uv\n").replace(".", ","),
                                                             args=("--rate", "1000")), "refuse",
         says="decimal commas"),
    Case("CSV time_s,emg_uv with decimal commas and ','", _text("dc2.csv", _csv_text(comma=True)), "refuse",
         says="decimal commas"),
    Case("CSV one column, no rate", _text("one.csv", _values_only(head="emg_uv\n")), "refuse", says="--rate"),
    Case("CSV time in minutes", _text("min.csv", _csv_text(head="time (min),emg_uv\n")), "refuse",
         says="not a unit of time"),
    Case("CSV signal in 'counts'", _text("cnt.csv", _csv_text(head="time_s,emg (counts)\n")), "refuse",
         says="not a unit"),
    Case("CSV time_s only", _text("to.csv", "time_s\n" + "".join(f"{i / 1000:.3f}\n" for i in range(3000))),
         "refuse", says="no signal column"),
    Case("CSV a 100 000-character line", _text("long.csv", "emg_uv\n" + "1" * 100_000 + "\n",
                                               args=("--rate", "1000")), "refuse", says="longer than"),
    Case("CSV time jumping 23 h every 1 s", _text("jumps.csv", _csv_text(times=np.arange(N) / rf.RATE_HZ
                                                                    + (np.arange(N) // 1000) * 23 * 3600.0)),
         "refuse", says="more than a week"),
    Case("CSV words for values", _text("w.csv", "time_s,emg_uv\n0,abc\n0.001,def\n"), "refuse",
         says="not a number"),
    Case("CSV time_s says 1000 Hz, --rate 2000", _text("r.csv", _csv_text(), args=("--rate", "2000")), "refuse",
         says="1000.0 Hz"),
    Case("CSV value infinity every 0.5 s", _text("inf.csv", _inf_every_half_second()), "refuse",
         says="no stretch of 1 s without a gap"),
    Case("CSV --rate 499", _text("one.csv", _values_only(head="emg_uv\n"), args=("--rate", "499")), "usage"),
]


def _random_cases(n: int, seed: int = 14) -> list[Case]:
    """Seeded damage to valid files: bytes of the header overwritten, and cuts; each must be read or refused."""
    rng = np.random.default_rng(seed)
    sources: list[tuple[str, bytes, int]] = [
        ("edf", rf.edf_bytes([XI_UV.astype(np.int64)], annotations=True), 768),
        ("bdf", rf.edf_bytes([XI_UV.astype(np.int64)], bdf=True), 512),
        ("edf", rf.edf_bytes([XI_UV.astype(np.int64)], record_onsets_s=_edf_d_onsets()), 768),
        ("csv", _csv_text().encode(), 300),
        ("csv", _csv_text(sep=";", head="time_s;emg_uv\n", comma=True).encode(), 300),
    ]
    cases = []
    for k in range(n):
        suffix, data, header = sources[k % len(sources)]
        damaged = bytearray(data)
        if rng.random() < 0.3:
            damaged = damaged[: int(rng.integers(0, len(data)))]
            what = f"cut at byte {len(damaged)}"
        else:
            at = rng.integers(0, header, int(rng.integers(1, 4)))
            for i in at:
                damaged[int(i)] = int(rng.choice(list(b"0123456789 .-+x\xff\x14\0,;\n")))
            what = f"header bytes {sorted(int(i) for i in at)} changed"
        cases.append(Case(f"{suffix} #{k}: {what}", _bytes(f"m{k}.{suffix}", bytes(damaged)), "any"))
    return cases


# -- running and judging -----------------------------------------------------------


@contextlib.contextmanager
def _captured_fds() -> object:
    """What anything (C libraries too) writes on fds 1 and 2 meanwhile, in a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        box: dict[str, str] = {}
        try:
            yield box
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            box["text"] = sink.read().decode(errors="replace")


def run_case(case: Case, folder: Path) -> Result:
    from myotwitch.cli import main

    argv = ["analyze", *case.make(folder), "--format", "jsonl"]
    out, err = io.StringIO(), io.StringIO()
    code, error = None, ""
    with _captured_fds() as fds, contextlib.redirect_stderr(err):
        try:
            code = main(argv, stdout=out)
        except SystemExit as exc:  # argparse: usage errors
            code = int(exc.code or 0)
        except Exception:  # noqa: BLE001 - what the check looks for
            error = traceback.format_exc()
    events = []
    for line in out.getvalue().splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    result = Result(code, err.getvalue(), fds["text"], events, error=error)
    if case.samples is not None and code == 0:
        from myotwitch.recordings import open_recording

        rate = argv[argv.index("--rate") + 1] if "--rate" in argv else None
        with contextlib.suppress(Exception):
            rec = open_recording(argv[1], float(rate) if rate else None)
            result.read = np.concatenate(list(rec.blocks(4096)))
    return result


def verdict(case: Case, r: Result) -> str:
    if r.error:
        return "traceback"
    if r.stray.strip() and case.expect != "usage":
        return "stray output"
    if case.expect == "usage":
        return "ok" if r.code == 2 else ("silent misread" if r.code == 0 else "wrong reason")
    if case.expect == "any":
        return "ok" if r.code == 0 or (r.code == 1 and _one_error_line(r.stderr)) else "wrong reason"
    if case.expect == "refuse":
        if r.code == 0:
            return "silent misread"
        return "ok" if r.code == 1 and _one_error_line(r.stderr) and case.says in r.stderr else "wrong reason"
    if r.code != 0:
        return "wrong reason"  # a valid file refused
    # A file of several signals is analysed signal by signal: the case's signal is the first (channel 0).
    first = [e for e in r.events if e.get("channel", 0) == 0]
    twitches = sum(e.get("type") == "twitch" for e in first)
    gaps = sum(e.get("samples", 0) for e in first if e.get("type") == "gap")
    if twitches != case.potentials or gaps != case.gap_samples:
        return "silent misread"
    whys = {e.get("why", "") for e in r.events if e.get("type") == "gap"}
    if case.expect == "gap" and not all(why.startswith("no samples in the file") for why in whys):
        return "wrong reason"  # a pause in the file reported as invalid values
    if case.samples is not None:
        if r.read is None or len(r.read) != len(case.samples):
            return "silent misread"
        same = np.isnan(r.read) == np.isnan(case.samples)
        close = np.abs(np.nan_to_num(r.read) - np.nan_to_num(case.samples)) <= case.tolerance_uv
        if not (same.all() and close.all()):
            return "silent misread"
    return "ok"


def _one_error_line(stderr: str) -> bool:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return len(lines) == 1 and lines[0].startswith("myotwitch: error: ")


def all_cases(random_n: int = 140) -> list[Case]:
    return VALID + CORRUPT + _random_cases(random_n)


def main() -> int:
    import signal

    random_n = int(sys.argv[sys.argv.index("--random") + 1]) if "--random" in sys.argv else 140
    cases = all_cases(random_n)
    tally: dict[str, int] = {}

    def hang(*_: object) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, hang)
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            signal.alarm(30)
            try:
                r = run_case(case, Path(tmp))
                v = verdict(case, r)
            except TimeoutError:
                v, r = "hang", Result(None, "", "")
            finally:
                signal.alarm(0)
        tally[v] = tally.get(v, 0) + 1
        if v != "ok":
            why = (r.error.strip().splitlines() or [""])[-1] or (r.stderr.strip().splitlines() or [""])[-1]
            print(f"{v:15} {case.name}: exit {r.code}: {why[:150]}")
    print(f"{len(cases)} cases: " + ", ".join(f"{n} {v}" for v, n in sorted(tally.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
