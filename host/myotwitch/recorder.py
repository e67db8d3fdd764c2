"""A session's folder, written while it streams, and its EDF+ at the end.

    DIR/session.json   what the session is: rate, start time, board, source (written first)
    DIR/samples.f32    every sample in µV as little-endian float32, one per stream index;
                       NaN where a sample was lost (an unplug, a gap on the wire): never filled in
    DIR/samples.chC.f32  channel C's (C = 1, 2, ...) of a board with several channels, the same way;
                       samples.f32 is channel 0's, and session.json says "channels"
    DIR/events.jsonl   the same JSON-lines objects `myotwitch analyze --format jsonl` prints,
                       plus gap and mark events, one line as each is found
    DIR/session.edf    EDF+ written at the end from the files above: one signal per channel

Raw samples and events are written through to the operating system after
every batch the live session hands over (about 0.25 s: a kill -9 loses at
most that) and fsynced about once a second (a power cut loses at most about
a second). If a session never
reached its end, `write_session_edf(DIR)` makes its EDF+ from those files
alone; `myotwitch report DIR` does so by itself.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event, Gap
from myotwitch.serialize import annotation, to_json
from myotwitch.sources import SampleBlock

SESSION_JSON = "session.json"
SAMPLES_F32 = "samples.f32"


def channel_samples_name(channel: int) -> str:
    """The raw file of a channel: samples.f32 for channel 0, samples.ch1.f32 for channel 1, ..."""
    return SAMPLES_F32 if channel == 0 else f"samples.ch{channel}.f32"

EVENTS_JSONL = "events.jsonl"
SESSION_EDF = "session.edf"
_SAMPLE = np.dtype("<f4")
# Short data records keep the padding after the last sample small and give
# room for many annotations: edflib stores one annotation per annotation
# signal per record and silently drops the rest (checked with pyedflib 0.1.42).
_RECORD_DURATIONS_S = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
_MAX_ANNOTATION_SIGNALS = 64  # EDF+ limit in edflib
_EDF_CHUNK_RECORDS = 2000


class SessionRecorder:
    """Streams one session into DIR. Use `add_block`, `add_events` (and `add_json`), then `close`."""

    def __init__(self, out_dir: str | os.PathLike, rate_hz: float, meta: dict,
                 sync_every_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.dir = Path(out_dir)
        self.rate_hz = float(rate_hz)
        self._clock = clock
        self._sync_every_s = sync_every_s
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if (self.dir / SAMPLES_F32).exists():
                raise MyotwitchError(f"{self.dir} already holds a session: choose another --out folder")
            self.meta = dict(meta, rate_hz=self.rate_hz, unit="uV", format=1)
            _write_json(self.dir / SESSION_JSON, self.meta)
            self._samples = open(self.dir / SAMPLES_F32, "wb")
            self._events = open(self.dir / EVENTS_JSONL, "w", encoding="utf-8")
        except OSError as exc:
            raise MyotwitchError(f"cannot write the session folder {self.dir}: {exc.strerror}") from None
        self.samples_written = 0  # stream indices on disk, lost ones (NaN) included
        self._more: list = []  # the raw files of channels 1, 2, ... (a board with several channels)
        self._last_sync = clock()

    def set_start(self, start_utc: datetime) -> None:
        """Wall-clock time of the first sample (the host's clock when it arrived, less its frame's length)."""
        self.meta["start_utc"] = start_utc.astimezone(timezone.utc).isoformat(timespec="milliseconds")
        self._guard(lambda: _write_json(self.dir / SESSION_JSON, self.meta))

    def add_block(self, block: SampleBlock) -> None:
        missing = block.start_index - self.samples_written
        if missing < 0:
            raise ValueError(f"block at {block.start_index} overlaps what is written ({self.samples_written})")
        rows = [block.samples_uv] if block.channels_uv is None else list(block.channels_uv)
        if len(rows) != 1 + len(self._more):
            if self.samples_written or self._more:
                raise ValueError(f"a block of {len(rows)} channels in a session of {1 + len(self._more)}")
            self._open_channels(len(rows))
        written = 0
        for f, row in zip([self._samples, *self._more], rows, strict=True):
            data = np.asarray(row, dtype=_SAMPLE)
            if missing:
                data = np.concatenate((np.full(missing, np.nan, dtype=_SAMPLE), data))
            self._guard(partial(f.write, data.tobytes()))
            written = len(data)
        self.samples_written += written

    def _open_channels(self, channels: int) -> None:
        """The first block has several channels: a raw file for each beyond channel 0, and say so."""
        try:
            # Open for the session's life, like samples.f32: closed by close().
            self._more = [open(self.dir / channel_samples_name(c), "wb")  # noqa: SIM115
                          for c in range(1, channels)]
        except OSError as exc:
            raise MyotwitchError(f"cannot write the session folder {self.dir}: {exc.strerror}") from None
        self.meta["channels"] = channels
        self._guard(lambda: _write_json(self.dir / SESSION_JSON, self.meta))

    def add_events(self, events: Iterable[Event]) -> None:
        self.add_json(to_json(e, self.rate_hz) for e in events)

    def add_json(self, objects: Iterable[dict]) -> None:
        """JSON objects as they are (the summary; events already in their JSON form)."""
        lines = "".join(json.dumps(o) + "\n" for o in objects)
        if lines:
            self._guard(lambda: self._events.write(lines))

    def flush(self) -> None:
        """Hand what is buffered to the OS; fsync about once a second."""
        self._guard(self._flush)

    def _flush(self) -> None:
        files = [self._samples, *self._more, self._events]
        for f in files:
            f.flush()
        now = self._clock()
        if now - self._last_sync >= self._sync_every_s:
            for f in files:
                os.fsync(f.fileno())
            self._last_sync = now

    def close(self) -> None:
        for f in (self._samples, *self._more, self._events):
            try:
                f.flush()
                os.fsync(f.fileno())
            except OSError:
                pass  # already reported by the write that failed
            finally:
                f.close()

    def _guard(self, write: Callable[[], object]) -> None:
        try:
            write()
        except OSError as exc:  # a full disk: say so; what was written stays readable
            raise MyotwitchError(f"cannot write to {self.dir}: {exc.strerror} "
                                 f"({self.samples_written / self.rate_hz:.1f} s of samples are saved)") from None


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_events(out_dir: str | os.PathLike) -> list[dict]:
    """The events of a session folder. The file is untrusted: a line cut short by a crash, or an
    event lacking a field its annotation uses, is skipped."""
    events = []
    path = Path(out_dir) / EVENTS_JSONL
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and isinstance(event.get("type"), str) and _well_formed(event):
                events.append(event)
    return events


def read_meta(out_dir: str | os.PathLike) -> dict:
    path = Path(out_dir) / SESSION_JSON
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MyotwitchError(f"{out_dir} is not a myotwitch session folder (no {SESSION_JSON})") from None
    except (OSError, ValueError) as exc:
        raise MyotwitchError(f"{path} is unreadable: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("rate_hz"), (int, float)) or meta["rate_hz"] <= 0:
        raise MyotwitchError(f"{path} does not say the sampling rate")
    return meta


def write_session_edf(out_dir: str | os.PathLike) -> Path:
    """Write DIR/session.edf from DIR's raw samples and events; returns its path.

    Lost samples are written as 0 µV inside a `gap` annotation that covers them
    exactly (EDF+C has no way to leave them out); the last record is padded
    with 0 µV after the last sample, annotated `padding`.
    """
    import pyedflib

    out_dir = Path(out_dir)
    meta = read_meta(out_dir)
    rate_hz = float(meta["rate_hz"])
    channels = int(meta.get("channels", 1))
    raws = [_read_raw(out_dir / channel_samples_name(c)) for c in range(channels)]
    # A crash can leave one channel's file a block shorter than another's: all end where the shortest does.
    shortest = min(len(r) for r in raws)
    raws = [r[:shortest] for r in raws]
    raw = raws[0]  # losses (NaN) are the same on every channel: gaps come from channel 0
    if len(raw) == 0:
        raise MyotwitchError(f"{out_dir}: no samples were recorded, so there is no EDF+ to write")
    record_s = next((d for d in _RECORD_DURATIONS_S if abs(rate_hz * d - round(rate_hz * d)) < 1e-9), None)
    if record_s is None:
        raise MyotwitchError(f"EDF+ needs a whole number of samples per record: {rate_hz:g} Hz has none")
    per_record = round(rate_hz * record_s)
    records = math.ceil(len(raw) / per_record)
    # Whole µV outward: the header field holds 8 characters, and a rounded-in limit would clip.
    ranges = [(math.floor(high) + 1.0, math.ceil(low) - 1.0) for low, high in map(_finite_range, raws)]

    events = read_events(out_dir)
    why = {round(e["start_s"] * rate_hz): e.get("why") for e in events if e["type"] == "gap"}
    events = [e for e in events if e["type"] != "gap"] + _gap_events(raw, rate_hz, why)
    annotations = [a for a in map(annotation, events) if a is not None]
    if records * per_record > len(raw):
        annotations.append((len(raw) / rate_hz, (records * per_record - len(raw)) / rate_hz, "padding (not recorded)"))
    annotation_signals = min(_MAX_ANNOTATION_SIGNALS, max(1, math.ceil(len(annotations) / records) + 1))

    path = out_dir / SESSION_EDF
    tmp = out_dir / (SESSION_EDF + ".tmp")
    writer = pyedflib.EdfWriter(str(tmp), channels, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        for c, (physical_max, physical_min) in enumerate(ranges):
            writer.setSignalHeader(c, {
                "label": _signal_label(meta, c, channels), "dimension": "uV",
                "sample_frequency": rate_hz, "physical_max": physical_max, "physical_min": physical_min,
                "digital_max": 32767, "digital_min": -32768,
                "transducer": "surface EMG electrodes"[:80], "prefilter": meta.get("prefilter", "sensor board")[:80],
            })
        # EDF+ header subfields: ASCII, no spaces, at most 80 characters together.
        writer.setEquipment(_edf_word(f"{meta.get('board', '?')}_{meta.get('firmware', '')}")[:40])
        writer.setRecordingAdditional("myotwitch_informs_not_diagnoses")
        if meta.get("start_utc"):
            writer.setStartdatetime(datetime.fromisoformat(meta["start_utc"]).replace(tzinfo=None, microsecond=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "forcing a record duration": intended, rate checked above
            writer.setDatarecordDuration(record_s)
        writer.set_number_of_annotation_signals(annotation_signals)
        for first in range(0, records * per_record, per_record * _EDF_CHUNK_RECORDS):
            chunks = []
            for one in raws:
                chunk = np.asarray(one[first : first + per_record * _EDF_CHUNK_RECORDS], dtype=np.float64)
                chunk = np.nan_to_num(chunk, nan=0.0)
                whole = math.ceil(len(chunk) / per_record) * per_record
                chunks.append(np.concatenate((chunk, np.zeros(whole - len(chunk)))))
            for r in range(0, whole, per_record):
                for chunk in chunks:  # a record holds each signal's samples in turn
                    writer.writePhysicalSamples(chunk[r : r + per_record])
        for onset_s, duration_s, text in sorted(annotations):
            writer.writeAnnotation(onset_s, duration_s, text)
    finally:
        writer.close()
    if not edf_complete(tmp):  # the C library does not report a failed write (a full disk)
        tmp.unlink(missing_ok=True)
        raise MyotwitchError(f"{path} could not be written completely (is the disk full?)")
    os.replace(tmp, path)
    return path


def _read_raw(raw_path: Path) -> np.ndarray:
    try:
        whole = raw_path.stat().st_size // _SAMPLE.itemsize  # a crash can cut the last value short: left out
        return np.memmap(raw_path, dtype=_SAMPLE, mode="r", shape=(whole,)) if whole else np.zeros(0, dtype=_SAMPLE)
    except OSError as exc:
        raise MyotwitchError(f"cannot read {raw_path}: {exc.strerror}") from None


def _signal_label(meta: dict, channel: int, channels: int) -> str:
    """EDF's 16-character label: the muscle named for the channel (`muscles`, else `muscle` for one channel)."""
    muscles = meta.get("muscles") or []
    muscle = muscles[channel] if channel < len(muscles) else (meta.get("muscle") if channels == 1 else None)
    if channels == 1:
        return f"EMG {muscle or 'surface'}"[:16]
    return f"EMG{channel} {muscle or 'surface'}"[:16]


def edf_complete(path: Path) -> bool:
    """Whether the file is as long as its EDF header says (header bytes + records x record bytes)."""
    try:
        with path.open("rb") as f:
            head = f.read(256)
            header_bytes, records, signals = int(head[184:192]), int(head[236:244]), int(head[252:256])
            f.seek(256 + signals * 216)  # label..prefilter: 16+80+8+8+8+8+8+80 bytes per signal
            per_record = [int(f.read(8)) for _ in range(signals)]
        return header_bytes == 256 * (1 + signals) and \
            path.stat().st_size == header_bytes + records * 2 * sum(per_record)
    except (OSError, ValueError):
        return False


def _edf_word(text: str) -> str:
    return "".join(c if 33 <= ord(c) < 127 else "_" for c in text)


def _finite_range(raw: np.ndarray) -> tuple[float, float]:
    low, high = math.inf, -math.inf
    for first in range(0, len(raw), 1 << 22):
        chunk = raw[first : first + (1 << 22)]
        finite = chunk[np.isfinite(chunk)]
        if len(finite):
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    return (0.0, 0.0) if low > high else (low, high)


def _gap_events(raw: np.ndarray, rate_hz: float, why: dict[int, object]) -> list[dict]:
    """Runs of NaN in the raw file as gap events: the raw file is the truth on what was lost,
    the events the session logged say why."""
    gaps: list[dict] = []
    for first in range(0, len(raw), 1 << 22):
        lost = np.isnan(raw[first : first + (1 << 22)]).view(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], lost, [0]))))
        for s, e in zip((edges[0::2] + first).tolist(), (edges[1::2] + first).tolist()):
            if gaps and gaps[-1]["_end"] == s:  # a run crossing the chunk boundary
                gaps[-1]["_end"] = e
            else:
                gaps.append({"_start": s, "_end": e})
    return [to_json(Gap(g["_start"], g["_end"] - g["_start"], str(why.get(g["_start"]) or "samples lost")), rate_hz)
            for g in gaps]


# The fields each kind of event must carry, as finite numbers and as strings, for its annotation.
_NEEDED_NUMBERS = {"twitch": ("t_s", "peak_uv"), "episode": ("start_s", "end_s", "count"),
                   "activity": ("start_s", "end_s", "duration_s"), "signal": ("start_s", "end_s"),
                   "gap": ("start_s", "end_s"), "mark": ("t_s",), "stream": ("t_s",)}
_NEEDED_STRINGS = {"signal": ("kind",), "mark": ("label",), "stream": ("text",)}


def finite_numbers(event: dict, *keys: str) -> bool:
    """Whether each of keys holds a finite number (events read back from a file are untrusted)."""
    return all(isinstance(event.get(k), (int, float)) and math.isfinite(event[k]) for k in keys)


def _well_formed(event: dict) -> bool:
    kind = event["type"]
    return finite_numbers(event, *_NEEDED_NUMBERS.get(kind, ())) and \
        all(isinstance(event.get(k), str) for k in _NEEDED_STRINGS.get(kind, ()))
