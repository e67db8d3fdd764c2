"""A session's folder, written while it streams, and its EDF+ at the end.

    DIR/session.json   what the session is: rate, start time, board, source (written first)
    DIR/samples.f32    every sample in µV as little-endian float32, one per stream index;
                       NaN where a sample was lost (an unplug, a gap on the wire): never filled in.
                       With several channels (session.json: "channels": N, "muscles": [...]), one
                       float32 per channel per stream index, interleaved in channel order (sample set
                       0 of channels 0..N-1, then set 1, ...); NaN where one channel's sample was lost
    DIR/events.jsonl   the same JSON-lines objects `myotwitch analyze --format jsonl` prints,
                       plus gap and mark events, one line as each is found
    DIR/session.edf    EDF+ written at the end from the three files above: one signal per channel,
                       labelled "EMG <muscle>"; annotations of one channel's events name it

Raw samples and events are written through to the operating system after
every block (a kill -9 loses nothing that was written) and fsynced about once
a second (a power cut loses at most about a second). If a session never
reached its end, `write_session_edf(DIR)` makes its EDF+ from those files
alone; `myotwitch report DIR` does so by itself.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event, Gap
from myotwitch.serialize import annotation, to_json
from myotwitch.sources import SampleBlock

SESSION_JSON = "session.json"
SAMPLES_F32 = "samples.f32"
EVENTS_JSONL = "events.jsonl"
SESSION_EDF = "session.edf"
_SAMPLE = np.dtype("<f4")
# Short data records keep the padding after the last sample small and give
# room for many annotations: edflib stores one annotation per annotation
# signal per record and silently drops the rest (checked with pyedflib 0.1.42).
_RECORD_DURATIONS_S = (0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
_MAX_ANNOTATION_SIGNALS = 64  # EDF+ limit in edflib
_EDF_CHUNK_RECORDS = 2000
_MAX_CHANNELS = 16  # more than any board has: a session.json saying more is not believed
SAMPLES_LAYOUT = "interleaved: one float32 per channel per stream index, in channel order; NaN where lost"
# With several channels, a sample set is written once every channel has reached it. A channel that falls
# further behind than this has the sets it lacks written as NaN (lost), so what is held stays bounded.
MAX_LAG_S = 10.0


class SessionRecorder:
    """Streams one session into DIR. Use `add_block` (several channels: `add_blocks`), `add_events` (and
    `add_json`), then `close`. `muscles` names each channel's muscle when there are several."""

    def __init__(self, out_dir: str | os.PathLike, rate_hz: float, meta: dict,
                 sync_every_s: float = 1.0, clock: Callable[[], float] = time.monotonic,
                 muscles: list[str] | None = None) -> None:
        self.dir = Path(out_dir)
        self.rate_hz = float(rate_hz)
        self._clock = clock
        self._sync_every_s = sync_every_s
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if (self.dir / SAMPLES_F32).exists():
                raise MyotwitchError(f"{self.dir} already holds a session: choose another --out folder")
            self.meta = dict(meta, rate_hz=self.rate_hz, unit="uV", format=1)
            if muscles is not None and len(muscles) > 1:  # one channel's session.json stays as it was
                self.meta.update(channels=len(muscles), muscles=list(muscles), samples_layout=SAMPLES_LAYOUT)
            _write_json(self.dir / SESSION_JSON, self.meta)
            # Open for the session's life (written as blocks come), closed by close(): no with-block fits.
            self._samples = open(self.dir / SAMPLES_F32, "wb")  # noqa: SIM115
            self._events = open(self.dir / EVENTS_JSONL, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise MyotwitchError(f"cannot write the session folder {self.dir}: {exc.strerror}") from None
        self.samples_written = 0  # stream indices on disk, lost ones (NaN) included
        self._max_lag_samples = max(1, round(MAX_LAG_S * self.rate_hz))
        self._start_channels(self.meta.get("channels", 1))
        self._last_sync = clock()

    def _start_channels(self, channels: int) -> None:
        """Per-channel state, nothing written yet."""
        self._held = [np.zeros(0, dtype=_SAMPLE) for _ in range(channels)]  # per channel, from samples_written
        self._written_as_lost = [0] * channels  # per channel: the sets before this were written NaN for it
        self.late_samples = [0] * channels  # per channel: samples that came after their set was written as lost

    def set_start(self, start_utc: datetime) -> None:
        """Wall-clock time of the first sample (the host's clock when it arrived, less its frame's length)."""
        self.meta["start_utc"] = start_utc.astimezone(UTC).isoformat(timespec="milliseconds")
        self._guard(lambda: _write_json(self.dir / SESSION_JSON, self.meta))

    def add_block(self, block: SampleBlock) -> None:
        """A block of the stream: one channel's samples, or a board's sample sets (`channels_uv`, protocol v2)."""
        if block.channels_uv is not None:
            if len(self._held) == 1 and self.samples_written == 0 and not len(self._held[0]):
                self._become_multichannel(len(block.channels_uv))  # the board's first frame says how many
            self.add_blocks(block.per_channel())
            return
        if len(self._held) > 1:
            raise ValueError("a session of several channels takes add_blocks (one block or None per channel)")
        missing = block.start_index - self.samples_written
        if missing < 0:
            raise ValueError(f"block at {block.start_index} overlaps what is written ({self.samples_written})")
        data = np.asarray(block.samples_uv, dtype=_SAMPLE)
        if missing:
            data = np.concatenate((np.full(missing, np.nan, dtype=_SAMPLE), data))
        self._guard(lambda: self._samples.write(data.tobytes()))
        self.samples_written += len(data)

    def _become_multichannel(self, channels: int) -> None:
        """A board with several channels, known from its first block: session.json says how they are laid out."""
        muscles = self.meta.get("muscles")
        named = muscles if isinstance(muscles, list) and len(muscles) == channels else [None] * channels
        self.meta.update(channels=channels, muscles=named, samples_layout=SAMPLES_LAYOUT)
        self._guard(lambda: _write_json(self.dir / SESSION_JSON, self.meta))
        self._start_channels(channels)

    def add_blocks(self, blocks: Sequence[SampleBlock | None]) -> None:
        """One block (or None) per channel, as MultiMonitor.feed takes them; the channels need not be in step.
        Sample sets every channel has reached are written; a channel's samples missing in between are NaN."""
        if len(blocks) != len(self._held):
            raise ValueError(f"{len(blocks)} blocks for {len(self._held)} channels")
        for c, block in enumerate(blocks):
            if block is None:
                continue
            data = np.asarray(block.samples_uv, dtype=_SAMPLE)
            end = self.samples_written + len(self._held[c])
            missing = block.start_index - end
            if missing < 0:  # only sets just written as lost for this channel (it lagged) may come again
                if end > self._written_as_lost[c]:
                    raise ValueError(f"channel {c}: block at {block.start_index} overlaps what is written ({end})")
                late = min(-missing, len(data))
                self.late_samples[c] += late  # counted: their sets are on disk with NaN for this channel
                data, missing = data[late:], 0
            self._held[c] = np.concatenate((self._held[c], np.full(missing, np.nan, dtype=_SAMPLE), data))
        self._write_sets(final=False)

    def _write_sets(self, final: bool) -> None:
        """Write the sample sets every channel has reached (final: all, NaN where a channel has none)."""
        lengths = [len(h) for h in self._held]
        ready = max(lengths) if final else max(min(lengths), max(lengths) - self._max_lag_samples)
        if ready <= 0:
            return
        for c, n in enumerate(lengths):
            if n < ready:  # lost for this channel: never filled in
                self._held[c] = np.concatenate((self._held[c], np.full(ready - n, np.nan, dtype=_SAMPLE)))
                self._written_as_lost[c] = self.samples_written + ready
        sets = np.stack([h[:ready] for h in self._held], axis=1)
        self._held = [h[ready:] for h in self._held]
        self._guard(lambda: self._samples.write(sets.tobytes()))
        self.samples_written += ready

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
        self._samples.flush()
        self._events.flush()
        now = self._clock()
        if now - self._last_sync >= self._sync_every_s:
            os.fsync(self._samples.fileno())
            os.fsync(self._events.fileno())
            self._last_sync = now

    def close(self) -> None:
        if len(self._held) > 1:
            self._write_sets(final=True)
        for f in (self._samples, self._events):
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


def session_channels(meta: dict) -> list[str | None]:
    """The muscle of each channel a session.json describes (None where not named): one entry for a session of
    one channel. The file is untrusted: a channel count that is not a small whole number is an error."""
    channels = meta.get("channels", 1)
    if not isinstance(channels, int) or isinstance(channels, bool) or not 1 <= channels <= _MAX_CHANNELS:
        raise MyotwitchError(f"session.json says {channels!r} channels: not a number from 1 to {_MAX_CHANNELS}")
    if channels == 1:
        return [meta["muscle"] if isinstance(meta.get("muscle"), str) else None]
    muscles = meta.get("muscles")
    muscles = muscles if isinstance(muscles, list) and len(muscles) == channels else [None] * channels
    return [m if isinstance(m, str) else None for m in muscles]


def write_session_edf(out_dir: str | os.PathLike) -> Path:
    """Write DIR/session.edf from DIR's raw samples and events; returns its path.

    One signal per channel, labelled "EMG <muscle>" (cut to EDF's 16 characters).
    Lost samples are written as 0 µV inside a `gap` annotation that covers them
    exactly (EDF+C has no way to leave them out; a gap of one channel names it);
    the last record is padded with 0 µV after the last sample, annotated `padding`.
    """
    import pyedflib

    out_dir = Path(out_dir)
    meta = read_meta(out_dir)
    rate_hz = float(meta["rate_hz"])
    muscles = session_channels(meta)
    channels = len(muscles)
    raw_path = out_dir / SAMPLES_F32
    try:
        # a crash can cut the last value (or sample set) short: left out
        sets = raw_path.stat().st_size // (_SAMPLE.itemsize * channels)
        raw = np.memmap(raw_path, dtype=_SAMPLE, mode="r", shape=(sets, channels)) if sets \
            else np.zeros((0, channels), dtype=_SAMPLE)
    except OSError as exc:
        raise MyotwitchError(f"cannot read {raw_path}: {exc.strerror}") from None
    if len(raw) == 0:
        raise MyotwitchError(f"{out_dir}: no samples were recorded, so there is no EDF+ to write")
    record_s = next((d for d in _RECORD_DURATIONS_S if abs(rate_hz * d - round(rate_hz * d)) < 1e-9), None)
    if record_s is None:
        raise MyotwitchError(f"EDF+ needs a whole number of samples per record: {rate_hz:g} Hz has none")
    per_record = round(rate_hz * record_s)
    records = math.ceil(len(raw) / per_record)

    events = read_events(out_dir)
    annotations = [a for a in map(annotation, [e for e in events if e["type"] != "gap"]) if a is not None]
    annotations += [a for a in map(annotation, _all_gap_events(raw, rate_hz, events, muscles)) if a is not None]
    if records * per_record > len(raw):
        annotations.append((len(raw) / rate_hz, (records * per_record - len(raw)) / rate_hz, "padding (not recorded)"))
    annotation_signals = min(_MAX_ANNOTATION_SIGNALS, max(1, math.ceil(len(annotations) / records) + 1))

    path = out_dir / SESSION_EDF
    tmp = out_dir / (SESSION_EDF + ".tmp")
    writer = pyedflib.EdfWriter(str(tmp), channels, file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        for c, muscle in enumerate(muscles):
            low, high = _finite_range(raw[:, c])
            # Whole µV outward: the header field holds 8 characters, and a rounded-in limit would clip.
            writer.setSignalHeader(c, {
                "label": f"EMG {muscle or 'surface'}"[:16], "dimension": "uV",
                "sample_frequency": rate_hz, "physical_max": math.floor(high) + 1.0,
                "physical_min": math.ceil(low) - 1.0, "digital_max": 32767, "digital_min": -32768,
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
            chunk = np.asarray(raw[first : first + per_record * _EDF_CHUNK_RECORDS], dtype=np.float64)
            chunk = np.nan_to_num(chunk, nan=0.0)
            whole = math.ceil(len(chunk) / per_record) * per_record
            chunk = np.concatenate((chunk, np.zeros((whole - len(chunk), channels))))
            for r in range(0, whole, per_record):
                for c in range(channels):  # a data record holds each signal's samples in turn
                    writer.writePhysicalSamples(np.ascontiguousarray(chunk[r : r + per_record, c]))
        for onset_s, duration_s, text in sorted(annotations):
            writer.writeAnnotation(onset_s, duration_s, text)
    finally:
        writer.close()
    if not edf_complete(tmp):  # the C library does not report a failed write (a full disk)
        tmp.unlink(missing_ok=True)
        raise MyotwitchError(f"{path} could not be written completely (is the disk full?)")
    os.replace(tmp, path)
    return path


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
    """Runs of NaN in one channel of the raw file as gap events: the raw file is the truth on what was lost,
    the events the session logged say why."""
    gaps: list[dict] = []
    for first in range(0, len(raw), 1 << 22):
        lost = np.isnan(raw[first : first + (1 << 22)]).view(np.int8)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], lost, [0]))))
        for s, e in zip((edges[0::2] + first).tolist(), (edges[1::2] + first).tolist(), strict=True):
            if gaps and gaps[-1]["_end"] == s:  # a run crossing the chunk boundary
                gaps[-1]["_end"] = e
            else:
                gaps.append({"_start": s, "_end": e})
    return [to_json(Gap(g["_start"], g["_end"] - g["_start"], str(why.get(g["_start"]) or "samples lost")), rate_hz)
            for g in gaps]


def _all_gap_events(raw: np.ndarray, rate_hz: float, events: list[dict], muscles: list[str | None]) -> list[dict]:
    """The gap events of every channel: a run lost on all channels at once (an unplug) is one gap, a run lost
    on some channels only is a gap naming each of them."""
    def why_of(channel: int | None) -> dict[int, object]:
        return {round(e["start_s"] * rate_hz): e.get("why") for e in events
                if e["type"] == "gap" and e.get("channel") in (None, channel)}

    if len(muscles) == 1:
        return _gap_events(raw[:, 0], rate_hz, why_of(0))
    per_channel = [_gap_events(raw[:, c], rate_hz, why_of(c)) for c in range(len(muscles))]
    runs = [{(g["start_s"], g["end_s"]) for g in gaps} for gaps in per_channel]
    on_all = set.intersection(*runs)
    out = [g for g in _gap_events(raw[:, 0], rate_hz, why_of(None)) if (g["start_s"], g["end_s"]) in on_all]
    for c, gaps in enumerate(per_channel):
        out += [dict(g, channel=c, muscle=muscles[c]) for g in gaps if (g["start_s"], g["end_s"]) not in on_all]
    return out


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
