"""Bad inputs tried against the command line, and what each gets: the table in docs/bad-inputs.md.

    .venv/bin/python tools/bad_inputs.py > docs/bad-inputs.md

Each case makes a file (or a session folder) in a scratch folder and runs one
`myotwitch` command on it in this process. tests/test_bad_inputs.py runs the
same cases, checks each exit code and message, that no traceback escapes, and
that the table in docs/ is what this prints.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from myotwitch.cli import main  # noqa: E402

DEMO_EDF = ROOT / "host" / "myotwitch" / "data" / "demo_forearm_rest.edf"


@dataclass(frozen=True)
class Case:
    name: str  # what the input is, as the table says it
    make: Callable[[Path], list[str]]  # makes the input in a folder, returns the command's arguments
    code: int  # the exit code expected
    says: str  # a fragment of the message expected (stderr)


def _noise_uv(seconds: float, rate_hz: int = 1000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(seconds * rate_hz)
    return np.arange(n) / rate_hz, rng.normal(0, 5, n)


def _csv(path: Path, t: np.ndarray, values) -> Path:
    path.write_text("time_s,emg_uv\n" + "\n".join(f"{a:.4f},{b}" for a, b in zip(t, values)) + "\n")
    return path


def _write(name: str, data: bytes) -> Callable[[Path], list[str]]:
    def make(d: Path) -> list[str]:
        (d / name).write_bytes(data)
        return ["analyze", str(d / name)]
    return make


def _demo_cut(keep: Callable[[int], int]) -> Callable[[Path], list[str]]:
    """The bundled EDF+ cut to keep(its length) bytes."""
    def make(d: Path) -> list[str]:
        data = DEMO_EDF.read_bytes()
        return _write("cut.edf", data[: keep(len(data))])(d)
    return make


def _csv_case(values_for: Callable[[np.ndarray, np.ndarray], list], seconds: float = 20.0):
    def make(d: Path) -> list[str]:
        t, x = _noise_uv(seconds)
        return ["analyze", str(_csv(d / "rec.csv", t, values_for(t, x)))]
    return make


def _session(tamper: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    """A real 5 s session folder (live from a CSV), then damaged."""
    def make(d: Path) -> list[str]:
        t, x = _noise_uv(5)
        src = _csv(d / "src.csv", t, x)
        out = d / "session"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert main(["live", "--source", str(src), "--speed", "0", "--out", str(out), "--db", str(d / "l.sqlite"),
                         "--format", "jsonl"]) == 0
        tamper(out)
        return ["report", str(out), "--db", str(d / "l.sqlite")]
    return make


def _crashed(out: Path, raw_bytes: int) -> None:
    """As after a crash: no EDF+ yet (the report writes it), the raw file cut to raw_bytes."""
    (out / "session.edf").unlink()
    os.truncate(out / "samples.f32", raw_bytes)


def _bad_events(out: Path) -> None:
    with (out / "events.jsonl").open("a") as f:
        f.write('{"type": "activity", "start_s": 1.0}\n')  # hand-edited: end_s and duration_s gone
        f.write('{"type": "twitch", "t_s": "soon", "peak_uv": 5}\n')
        f.write('{"type": "episode", "start_s": 1, "end_s": 2, "count": 1e999}\n')
        f.write("[1, 2, 3]\n{not json\n")


CASES = [
    Case("empty CSV (0 bytes)", _write("empty.csv", b""), 1, "empty file, no samples"),
    Case("empty EDF (0 bytes)", _write("empty.edf", b""), 1, "not an EDF or BDF file"),
    Case("EDF cut inside its header", _demo_cut(lambda n: 300), 1, "EDF header cut short"),
    Case("EDF cut inside its data", _demo_cut(lambda n: n // 2 + 7), 1, "cut short?"),
    Case("random bytes named .edf", _write("noise.edf", np.random.default_rng(2).bytes(5000)), 1,
         "not an EDF or BDF file"),
    Case("a PNG image named .edf", _write("image.edf", b"\x89PNG\r\n\x1a\n" + bytes(1000)), 1,
         "not an EDF or BDF file"),
    Case("a text file (.txt)", _write("notes.txt", b"hello"), 1, "a header but no samples"),
    Case("an MP3 (.mp3)", _write("song.mp3", b"ID3" + bytes(100)), 1, "unknown recording format"),
    Case("NUL bytes named .csv", _write("nul.csv", bytes(1000)), 1, "holds NUL bytes"),
    Case("CSV header, no rows", _write("head.csv", b"time_s,emg_uv\n"), 1, "a header but no samples"),
    Case("CSV with words for values", _write("words.csv", b"time_s,emg_uv\n0,abc\n0.001,def\n"), 1,
         "not a number in column 2"),
    Case("CSV rows of different lengths", _write("jagged.csv", b"time_s,emg_uv\n0,1\n0.001\n0.002,1,2,3\n"), 1,
         "line 3: 1 field where the first row has 2"),
    Case("CSV time going backwards",
         lambda d: ["analyze", str(_csv(d / "back.csv", -_noise_uv(3)[0], _noise_uv(3)[1]))], 1,
         "time goes back"),
    Case("CSV 10 samples long", lambda d: ["analyze", str(_csv(d / "short.csv", *_noise_uv(0.01)))], 1,
         "too short to estimate the noise floor"),
    Case("CSV all zeros (flat: lead off)", _csv_case(lambda t, x: np.zeros(len(t))), 1, "the signal is flat"),
    Case("CSV in volts, not µV (5 µV of noise as 0.000005)", _csv_case(lambda t, x: [f"{v * 1e-6:.9f}" for v in x]), 1,
         "or values in V or mV, not µV?"),
    Case("CSV in millivolts, not µV (5 µV of noise as 0.005)", _csv_case(lambda t, x: [f"{v * 1e-3:.6f}" for v in x]),
         1, "or values in V or mV, not µV?"),
    Case("CSV of a smooth ramp (no noise at all)", _csv_case(lambda t, x: 10 * t), 0, "far below any electrode's"),
    Case("CSV at 100 Hz", lambda d: ["analyze", str(_csv(d / "slow.csv", *_noise_uv(20, rate_hz=100)))], 1,
         "sampling rate 100 Hz is not supported"),
    Case("CSV all NaN", _csv_case(lambda t, x: ["nan"] * len(t)), 1, "no samples that are numbers"),
    Case("CSV all 1e308 (enormous)", _csv_case(lambda t, x: [1e308] * len(t)), 1, "no samples that are numbers"),
    Case("CSV with 2 s of NaN in 20 s", _csv_case(lambda t, x: np.where((t > 5) & (t < 7), np.nan, x)), 0,
         "1.999 s of values that are not numbers or beyond ±10 V were skipped"),
    Case("CSV with 2 s of infinity in 20 s", _csv_case(lambda t, x: np.where((t > 5) & (t < 7), np.inf, x)), 0,
         "were skipped in 1 place "),
    Case("CSV with 4 values of 1e300 µV", _csv_case(lambda t, x: np.where(np.arange(len(t)) % 5000 == 0, 1e300, x)),
         0, "were skipped in 4 places"),
    Case("WFDB header without its .dat", _write("rec.hea", b"rec 1 1000 10000\nrec.dat 16 200 16 0 0 0 0 emg\n"), 1,
         "is not beside it"),
    Case("a folder given as a recording", lambda d: ["analyze", str(d)], 2, "is a folder"),
    Case("one recording with --jobs (a batch option)", lambda d: ["analyze", str(DEMO_EDF), "--jobs", "2"], 2,
         "--jobs analyzes a batch: it needs --out DIR"),
    Case("--rate for an EDF, which gives its own", lambda d: ["analyze", str(DEMO_EDF), "--rate", "2000"], 0,
         "--rate 2000 not used"),
    Case("a board flash does not know", lambda d: ["flash", "--board", "arduino", "--dry-run"], 2, "unknown board"),
    Case("check of a recording that does not exist", lambda d: ["check", "--source", str(d / "nothing.edf")], 1,
         "no such file"),
    Case("a file that does not exist", lambda d: ["analyze", str(d / "nothing.edf")], 1, "no such file"),
    Case("session folder: session.json corrupt", _session(lambda o: (o / "session.json").write_text("{rate")), 1,
         "is unreadable"),
    Case("session folder: session.json without a rate",
         _session(lambda o: (o / "session.json").write_text(json.dumps({"rate_hz": "fast"}))), 1,
         "does not say the sampling rate"),
    Case("session folder: raw samples cut mid-value",
         _session(lambda o: _crashed(o, (o / "samples.f32").stat().st_size - 3)), 0, "did not end cleanly"),
    Case("session folder: raw samples empty", _session(lambda o: _crashed(o, 0)), 1, "no samples were recorded"),
    Case("session folder: hand-edited events (fields missing, strings for numbers, not JSON)",
         _session(_bad_events), 0, ""),
    Case("a session folder that is not one", lambda d: ["report", str(d)], 1, "not a myotwitch session folder"),
]


def run_case(case: Case, folder: Path) -> tuple[int, str, str]:
    """(exit code, stderr, the myotwitch command) of the case; an exception escaping main() propagates."""
    argv = case.make(folder)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue(), argv[0]


def table() -> str:
    lines = ["# Bad inputs and what each gets", "",
             "Generated by `tools/bad_inputs.py` (tests/test_bad_inputs.py checks every row and that this",
             "file is current). Exit code 1 means nothing was analyzed; 0 with a warning means the rest was; 2 means",
             "the command line cannot be carried out as given (nothing was tried).", "",
             "| input | command | exit code | message |", "|---|---|---|---|"]
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            code, err, command = run_case(case, folder)
            message = pick_message(err).replace(str(folder), "DIR").replace(f"{ROOT}/", "").replace("|", "\\|")
        lines.append(f"| {case.name} | `myotwitch {command}` | {code} | {message} |")
    return "\n".join(lines + _recordings_table()) + "\n"


def _recordings_table() -> list[str]:
    """The fixed cases of tools/recording_mutations.py: recordings as tools write them, and damaged."""
    import recording_mutations as mutations

    lines = ["", "## Recordings as tools and spreadsheets write them, and damaged", "",
             "Generated from `tools/recording_mutations.py` (tests/test_recording_mutations.py runs every case,",
             "and 40 seeded random corruptions besides). Each file holds 20 s at 1 kHz with 5 potentials;",
             "\"read\" means the samples read are exactly those written (within 1e-9 µV where a unit is",
             "converted) and the 5 potentials were found.", "",
             "| input | `myotwitch analyze` | exit code | message |", "|---|---|---|---|"]
    for case in mutations.VALID + mutations.CORRUPT:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            result = mutations.run_case(case, folder)
            verdict = mutations.verdict(case, result)
        if case.expect in ("valid", "gap") and verdict == "ok":
            message = "read, 5 potentials found" + (f", {case.gap_samples} samples missing listed as a gap"
                                                    if case.gap_samples else "")
        elif case.expect == "usage":
            message = (result.stderr.strip().splitlines() or ["(none)"])[-1]
        else:
            message = pick_message(result.stderr) if verdict == "ok" else f"{verdict}: {pick_message(result.stderr)}"
        message = message.replace(str(folder), "DIR").replace("|", "\\|")
        lines.append(f"| {case.name} | {case.expect} | {result.code} | {message} |")
    return lines


def pick_message(stderr: str) -> str:
    """The line a person reads first: an error, else a warning, else the first line, else (none)."""
    lines = stderr.splitlines()
    for word in ("error:", "warning:"):
        for line in lines:
            if word in line:
                return line
    return lines[0] if lines else "(none)"


if __name__ == "__main__":
    sys.stdout.write(table())
