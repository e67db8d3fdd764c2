"""CSV recordings as people export them: one sample per row, in µV unless a unit says otherwise.

Read: UTF-8 (with or without a BOM), UTF-16 (with a BOM, or told by its NUL
bytes), other bytes as Latin-1; `,` `;` or tab between columns (or a first
line `sep=;` as spreadsheets write it); decimal commas where they cannot be a
separator (`;` or tab between columns, or quoted); CRLF line ends; comment
lines (`#`, `%`) above an optional header row, and an optional units row
under it.

A column is the time when its name says so (`time`, `t`, `timestamp`) and its
unit, if any, is a time unit (`time_s`, `time_ms`, `t (s)`, or a units row),
or when its unit is one of time whatever its name (`ms`, `Elapsed (s)`):
it gives the rate, is checked on every row, and is never taken as the signal.
A step of about one sample period is normal; a longer step is a jump whose
missing samples are yielded as NaN (counted as lost, reported as a gap); a
step back, a repeated time, a time that is not a number, or times that run
off the rate of the first rows (steps of 1.4 periods, each alone passing as
one) are an error. The signal is the first other column (`sample`/`index`
counters are skipped); an empty cell in it is a missing sample (NaN),
anything else not a number is an error naming the line.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import math
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from myotwitch.recordings import (
    _UNIT_TO_UV,
    DEFAULT_BLOCK_SAMPLES,
    MAX_GAP_S,
    MAX_TOTAL_GAP_S,
    NOT_EMG_LABEL,
    Recording,
    RecordingError,
    nan_blocks,
    rechunk,
)

_MAX_LINE_CHARS = 4096  # a row of samples is a few dozen characters: a longer line is not one
_CHUNK_CHARS = 1 << 16
_PROBE_ROWS = 1000  # rows read when the file is opened, to find its layout and rate
_TIME_NAMES = ("time", "t", "timestamp", "elapsed")
_INDEX_NAMES = ("sample", "samples", "index", "n", "sample_index", "sample_number")
_TIME_UNITS_S = {"s": 1.0, "sec": 1.0, "secs": 1.0, "seconds": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6,
                 "μs": 1e-6}
# Time may run off the rate found in the first rows by this much (1 % of the time elapsed, and 0.1 s):
# room for a rate rounded to a whole number (0.1 %) and a logger's clock, none for a rate that changes
_DRIFT_FRACTION = 0.01
_DRIFT_S = 0.1
_BRACKETED = re.compile(r"^(.*?)\s*[\(\[]\s*([^\)\]]*)\s*[\)\]]$")


@dataclass(frozen=True)
class Dialect:
    encoding: str
    delimiter: str
    decimal_comma: bool  # a comma inside a value is its decimal point


@dataclass
class _Layout:
    """Where things are in the file, found when it is opened."""

    dialect: Dialect
    skip_rows: int  # non-empty rows before the samples (header, units row, `sep=` line)
    n_columns: int
    value_column: int
    time_column: int | None
    time_scale_s: float  # the time column's unit in seconds
    scale_to_uv: float
    # The signal columns after the first: (column, header label, unit or None), for several channels
    more_signals: tuple[tuple[int, str, str | None], ...] = ()


def _is_comment(text: str) -> bool:
    """A line a logger writes above its header: `# device ...`, `%Sample Rate = ...` (OpenBCI)."""
    return text.lstrip().startswith(("#", "%"))


def _dialect_of(path: Path, head: bytes) -> Dialect:
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif b"\0" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > 0.4 * len(head) / 2 and even < 0.05 * len(head) / 2:
            encoding = "utf-16-le"
        elif even > 0.4 * len(head) / 2 and odd < 0.05 * len(head) / 2:
            encoding = "utf-16-be"
        else:
            raise RecordingError(f"{path}: holds NUL bytes: not a text file of samples")
    else:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "latin-1"  # what a spreadsheet writes when it does not write UTF-8; µ is 0xB5
    first = head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()
    line = next((ln for ln in first if ln.strip() and not _is_comment(ln)), "")
    if line.lower().startswith("sep=") and len(line.strip()) == 5:
        delimiter = line.strip()[4]
    else:
        delimiter = next((d for d in ("\t", ";", ",") if d in line), ",")
    return Dialect(encoding, delimiter, decimal_comma=delimiter != ",")


def _rows(path: Path, dialect: Dialect) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each non-empty row; lines longer than a row of samples can be are refused."""

    def lines(f) -> Iterator[list[str]]:
        """The lines a chunk at a time, what is left of a line held over: never more than a line's limit."""
        rest = ""
        while chunk := f.read(_CHUNK_CHARS):
            parts = (rest + chunk).splitlines(keepends=True)
            rest = parts.pop()  # perhaps unfinished (a "\r" too: its "\n" may come in the next chunk)
            if len(rest) > _MAX_LINE_CHARS:
                raise RecordingError(f"{path}: a line longer than {_MAX_LINE_CHARS} characters: not rows of samples")
            yield parts
        if rest:
            yield [rest]

    try:
        with path.open(encoding=dialect.encoding, errors="replace", newline="") as f:
            reader = csv.reader(itertools.chain.from_iterable(lines(f)), delimiter=dialect.delimiter,
                                skipinitialspace=True)
            first = True
            for row in reader:
                # Cells keep their spaces (float() ignores them); a row of nothing but separators is no row
                if row and (row[0].strip() or any(c.strip() for c in row)):
                    if first:
                        row[0], first = row[0].lstrip("\ufeff"), False
                    yield reader.line_num, row
    except csv.Error as exc:
        raise RecordingError(f"{path}: not readable as CSV: {exc}") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from None


def _number(text: str, decimal_comma: bool) -> float | None:
    """The cell's value; None if it is not a number. Quoted cells may hold a decimal comma."""
    try:
        return float(text)
    except ValueError:
        pass
    if "," in text and (decimal_comma or text.count(",") == 1) and "." not in text:
        try:
            return float(text.replace(",", "."))
        except ValueError:
            return None
    return None


def _name_and_unit(name: str) -> tuple[str, str | None]:
    """'time_ms' -> ('time', 'ms'), 'EMG (mV)' -> ('emg', 'mv'), 'ms' -> ('time', 'ms'), 'emg' -> ('emg', None)."""
    name = name.strip().lower()
    if name in _TIME_UNITS_S:
        return "time", name  # a column named by its unit of time alone
    m = _BRACKETED.match(name)
    if m:
        return m.group(1).strip(), m.group(2).strip()
    base, _, unit = name.rpartition("_")
    if base and (unit in _TIME_UNITS_S or unit in _UNIT_TO_UV or base in _TIME_NAMES):
        return base, unit
    return name, None


def _is_unit(cell: str) -> bool:
    unit = cell.strip().strip("()[]").strip().lower()
    return unit in _TIME_UNITS_S or unit in _UNIT_TO_UV


def _layout(path: Path, dialect: Dialect, probe: list[tuple[int, list[str]]]) -> tuple[_Layout, str]:
    # Rows before the header: a spreadsheet's `sep=;` line, then a logger's comment lines
    lead_rows = 1 if probe and probe[0][1][0].lower().startswith("sep=") and len(probe[0][1]) <= 2 else 0
    while lead_rows < len(probe) and _is_comment(probe[lead_rows][1][0]):
        lead_rows += 1
    rows = [r for _, r in probe[lead_rows:]]
    if not rows:
        raise RecordingError(f"{path}: empty file, no samples")
    first = rows[0]
    header = None if all(_number(c, dialect.decimal_comma) is not None for c in first) else first
    if header is None:
        if len(first) != 1:
            raise RecordingError(f"{path}: {len(first)} columns and no header: name them (time_s, emg_uv)")
        return _Layout(dialect, lead_rows, 1, 0, None, 1.0, 1.0), "emg"
    names = [_name_and_unit(c) for c in header]
    header_rows = 1
    units = [c.strip().strip("()[]").strip().lower() for c in rows[1]] if len(rows) > 1 else []
    if len(units) == len(header) and any(units) and all(_is_unit(u) or not u for u in units):
        names = [(base, unit if unit is not None else (u or None))
                 for (base, unit), u in zip(names, units, strict=True)]
        header_rows = 2
    skip = lead_rows + header_rows
    if len(probe) <= skip:
        raise RecordingError(f"{path}: a header but no samples")
    time_column, time_scale_s = None, 1.0
    for i, (base, unit) in enumerate(names):
        # The time by its name (in any unit but a voltage) or by its unit of time, whatever its name
        if (base in _TIME_NAMES and unit not in _UNIT_TO_UV) or unit in _TIME_UNITS_S:
            if unit is not None and unit not in _TIME_UNITS_S:
                raise RecordingError(f"{path}: the time column '{header[i].strip()}' is in '{unit}': not a unit of "
                                     "time understood (s, ms, us)")
            time_column, time_scale_s = i, _TIME_UNITS_S[unit] if unit else 1.0
            break
    signal = [i for i, (base, _) in enumerate(names) if i != time_column and base not in _INDEX_NAMES]
    if not signal:
        raise RecordingError(f"{path}: no signal column beside " + ("the time" if time_column is not None
                                                                   else "the sample counter"))
    value_column = signal[0]
    unit = names[value_column][1]
    if unit is not None and unit not in _UNIT_TO_UV:
        raise RecordingError(f"{path}: the signal column '{header[value_column].strip()}' is in '{unit}': not a unit "
                             "understood (uV, mV, V)")
    scale = _UNIT_TO_UV[unit] if unit else 1.0
    label = header[value_column].strip()
    n_columns = len(header)
    if len(probe[skip][1]) == n_columns + 1 and not probe[skip][1][-1].strip():
        n_columns += 1  # rows that end with a separator the header does not: an empty last column
    more = tuple((i, header[i].strip(), names[i][1]) for i in signal[1:])
    return _Layout(dialect, skip, n_columns, value_column, time_column, time_scale_s, scale, more), label


@dataclass
class _CsvRecording(Recording):
    layout: _Layout | None = None

    def _width_error(self, line: int, row: list[str]) -> RecordingError:
        lay = self.layout
        assert lay is not None
        hint = " (decimal commas? with ',' between columns they must be quoted, or use ';')" \
            if lay.dialect.delimiter == "," and len(row) > lay.n_columns else ""
        return RecordingError(f"{self.path}: line {line}: {len(row)} field{'s' if len(row) != 1 else ''} where the "
                              f"first row has {lay.n_columns}{hint}: {row!r:.60}")

    def _cell(self, line: int, row: list[str], column: int) -> float | None:
        lay = self.layout
        assert lay is not None
        if len(row) != lay.n_columns:
            raise self._width_error(line, row)
        return _number(row[column].strip(), lay.dialect.decimal_comma)

    def _odd_value(self, line: int, cell: str) -> float:
        """A signal cell float() did not read: a decimal comma, an empty cell (a missing sample), or an error."""
        lay = self.layout
        assert lay is not None
        value = _number(cell.strip(), lay.dialect.decimal_comma)
        if value is not None:
            return value
        if not cell.strip():
            return math.nan  # counted as lost, never filled in
        raise RecordingError(f"{self.path}: line {line}: not a number in column {lay.value_column + 1}: "
                             f"{cell.strip()!r:.40}")

    def _odd_time(self, line: int, cell: str) -> float:
        lay = self.layout
        assert lay is not None
        value = _number(cell.strip(), lay.dialect.decimal_comma)
        if value is None:
            raise RecordingError(f"{self.path}: line {line}: the time {cell.strip()!r:.40} is not a number")
        return value

    def blocks(self, block_samples: int = DEFAULT_BLOCK_SAMPLES) -> Iterator[np.ndarray]:
        return rechunk(self._pieces(block_samples), block_samples)

    def _pieces(self, block_samples: int) -> Iterator[np.ndarray]:
        """The rows parsed one by one (the Python part kept small); the time checked a chunk at a time with numpy."""
        lay = self.layout
        assert lay is not None
        n_columns, value_column, time_column = lay.n_columns, lay.value_column, lay.time_column
        self.gaps.clear()  # found again on each reading
        chunk_rows = max(block_samples, 4096)
        values: list[float] = []
        times: list[float] = []
        lines: list[int] = []
        checker = self._time_checker()
        next(checker)
        rows = _rows(self.path, lay.dialect)
        for _ in range(lay.skip_rows):
            next(rows, None)
        for line, row in rows:
            if len(row) != n_columns:
                raise self._width_error(line, row)
            cell = row[value_column]
            try:
                values.append(float(cell))
            except ValueError:
                values.append(self._odd_value(line, cell))
            if time_column is not None:
                cell = row[time_column]
                try:
                    times.append(float(cell))
                except ValueError:
                    times.append(self._odd_time(line, cell))
                lines.append(line)
            if len(values) >= chunk_rows:
                yield from _expanded(checker.send((values, times, lines)), block_samples)
                values, times, lines = [], [], []
        if values:
            yield from _expanded(checker.send((values, times, lines)), block_samples)

    def _time_checker(self) -> Generator[list[np.ndarray | int], tuple[list, list, list], None]:
        """Sent (values, times, lines) chunk by chunk, answers the pieces to yield: the values in µV, split
        where time jumps, with the count of missing samples between; raises where time goes back or stalls."""
        lay = self.layout
        assert lay is not None
        period_s = 1.0 / self.rate_hz
        previous_s: float | None = None
        first_s = 0.0  # the first row's time: sample 0
        index = 0  # of the next sample
        lost = 0
        pieces: list[np.ndarray | int] = []
        while True:
            values, times, lines = yield pieces
            x = np.array(values) * lay.scale_to_uv
            if lay.time_column is None:
                pieces, index = [x], index + len(x)
                continue
            t = np.array(times) * lay.time_scale_s
            if not np.isfinite(t).all():
                k = int(np.flatnonzero(~np.isfinite(t))[0])
                raise RecordingError(f"{self.path}: line {lines[k]}: the time '{times[k]}' is not a number")
            if previous_s is None:
                first_s = float(t[0])
            full = t if previous_s is None else np.concatenate(([previous_s], t))
            steps = np.diff(full) / period_s
            first = 1 if previous_s is None else 0  # steps[i] leads to row i + first
            stalls = np.flatnonzero(steps < 0.5)
            if len(stalls):
                i = int(stalls[0])
                what = "goes back" if steps[i] < 0 else "does not advance"
                raise RecordingError(f"{self.path}: line {lines[i + first]}: time {what} ({full[i + 1]:.6g} s after "
                                     f"{full[i]:.6g} s; {period_s * 1e3:.4g} ms steps expected)")
            jumps = np.flatnonzero(steps >= 1.5)
            self._check_drift(t, first_s, index, steps, jumps, first, lines)
            pieces = []
            start = 0
            for i in jumps.tolist():
                if steps[i] * period_s > MAX_GAP_S:
                    raise RecordingError(f"{self.path}: line {lines[i + first]}: time jumps "
                                         f"{full[i + 1] - full[i]:.6g} s: more than a day, is the time column right?")
                row = i + first
                missing = round(float(steps[i])) - 1
                lost += missing
                if lost * period_s > MAX_TOTAL_GAP_S:
                    raise RecordingError(f"{self.path}: line {lines[row]}: the jumps in time add up to more than a "
                                         "week: is the time column right?")
                pieces.append(x[start:row])
                index += row - start
                self.gaps.append((index, missing))
                pieces.append(missing)
                index += missing
                start = row
            pieces.append(x[start:])
            index += len(x) - start
            previous_s = float(t[-1])


    def _check_drift(self, t: np.ndarray, first_s: float, index: int, steps: np.ndarray, jumps: np.ndarray,
                     first: int, lines: list[int]) -> None:
        """Raise where a row's time runs off the time its sample index gives: steps of 0.6 or 1.4 periods
        each pass as one period, yet add up to a rate that is not the file's."""
        period_s = 1.0 / self.rate_hz
        missing = np.zeros(len(t))
        missing[jumps + first] = np.round(steps[jumps]) - 1
        sample_index = index + np.arange(len(t)) + np.cumsum(missing)
        off_s = t - (first_s + sample_index * period_s)
        elapsed_s = t - first_s
        bad = np.flatnonzero(np.abs(off_s) > _DRIFT_FRACTION * elapsed_s + _DRIFT_S)
        if len(bad):
            k = int(bad[0])
            raise RecordingError(f"{self.path}: line {lines[k]}: time is {off_s[k]:+.3g} s off the {self.rate_hz:g} Hz "
                                 f"its first rows give, after {elapsed_s[k]:.6g} s: does the rate change within the "
                                 "file?")


def _expanded(pieces: list[np.ndarray | int], block_samples: int) -> Iterator[np.ndarray]:
    """The pieces, a count of missing samples becoming NaN blocks (made one at a time: a gap can be long)."""
    for piece in pieces:
        if isinstance(piece, int):
            yield from nan_blocks(piece, block_samples)
        else:
            yield piece


def open_csv(path: Path, rate_hz: float | None) -> Recording:
    try:
        with path.open("rb") as f:
            head = f.read(_MAX_LINE_CHARS * 4)
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read: {exc.strerror}") from None
    if not head.strip():
        raise RecordingError(f"{path}: empty file, no samples")
    dialect = _dialect_of(path, head)
    probe = []
    for item in _rows(path, dialect):
        probe.append(item)
        if len(probe) > _PROBE_ROWS + 2:
            break
    lay, label = _layout(path, dialect, probe)
    if lay.time_column is not None:
        rec = _CsvRecording(path, "csv", 1.0, None, label, layout=lay)
        times_s = []
        for line, row in probe[lay.skip_rows:]:
            t = rec._cell(line, row, lay.time_column)
            if t is None or not math.isfinite(t):
                raise RecordingError(f"{path}: line {line}: the time {row[lay.time_column]!r:.40} is not a number")
            times_s.append(t * lay.time_scale_s)
        steps_s = np.diff(times_s)
        positive = steps_s[steps_s > 0]
        if len(positive) == 0:
            if len(steps_s) == 0:
                raise RecordingError(f"{path}: one row only: a time column needs at least two rows to give a rate")
            line = probe[lay.skip_rows + 1][0]
            raise RecordingError(f"{path}: line {line}: time " + ("goes back" if steps_s[0] < 0 else "does not advance")
                                 + f" ({times_s[1]:.6g} s after {times_s[0]:.6g} s), and never advances after")
        csv_rate_hz = 1.0 / float(np.median(positive))
        # Timestamps printed with a few decimals give 999.9999 for 1000: a rate
        # within 0.1 % of a whole number is that number.
        if abs(csv_rate_hz - round(csv_rate_hz)) < 1e-3 * csv_rate_hz:
            csv_rate_hz = float(round(csv_rate_hz))
        if rate_hz is not None and abs(csv_rate_hz - rate_hz) > 0.01 * rate_hz:
            raise RecordingError(f"{path}: the time column says {csv_rate_hz:.1f} Hz but the rate given is "
                                 f"{rate_hz:g} Hz")
        rate_hz = csv_rate_hz
    if rate_hz is None:
        raise RecordingError(f"{path}: no time column (time_s, time_ms or t), so its sampling rate is unknown",
                             needs_rate=True)
    return _CsvRecording(path, "csv", float(rate_hz), None, label, layout=lay)


def open_csv_signals(path: Path, rate_hz: float | None) -> tuple[list[Recording], list[str]]:
    """Every signal column as its own recording (time and sample-counter columns are not signals), and
    why each other column was skipped (a unit that is not a voltage)."""
    first = open_csv(path, rate_hz)
    assert isinstance(first, _CsvRecording) and first.layout is not None
    kept: list[Recording] = [first]
    skipped: list[str] = []
    for column, label, unit in first.layout.more_signals:
        if NOT_EMG_LABEL.search(label):
            skipped.append(f"column {column + 1} {label!r}: its name says it is not EMG")
            continue
        if unit is not None and unit not in _UNIT_TO_UV:
            skipped.append(f"column {column + 1} {label!r}: in {unit!r}, not a voltage")
            continue
        layout = replace(first.layout, value_column=column, scale_to_uv=_UNIT_TO_UV[unit] if unit else 1.0)
        kept.append(replace(first, label=label, layout=layout, gaps=[]))
    return kept, skipped
