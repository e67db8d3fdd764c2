"""One monitoring session: blocks from a source in, events out to the screen, the store,
the session folder (raw samples, events.jsonl, EDF+ at the end) and optionally LSL.

The loop only moves data: the detector, the recorder and the store do the
work, and the live view renders snapshots in its own thread, so acquisition
never waits for the screen. The view (and LSL) get every block as it comes;
the detector, the recorder and the store get the blocks ~0.25 s at a time
(`batching.py`), so they wake a few times a second instead of once a frame.
"""

from __future__ import annotations

import math
import queue
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event, Gap, Mark, StreamNote
from myotwitch.live.batching import BATCH_S, BlockBatcher
from myotwitch.live.channels import LiveChannels, channel_names
from myotwitch.monitor import Monitor
from myotwitch.recorder import SessionRecorder, write_session_edf
from myotwitch.serialize import store_rows, summary_json
from myotwitch.sources import SampleBlock
from myotwitch.sources.base import Board
from myotwitch.store import Store

SEQUENCE_GAP = "samples lost on the way (frame sequence gap)"
PAUSE_S = 1.0  # frames this much later than their samples' span: a paused stream, noted


def lost_gap(block: SampleBlock, gaps: list[tuple[int, int, str]]) -> Gap:
    """The samples missing before a block, with their cause where the board's source knows it."""
    first = block.start_index - block.lost_before
    why = next((w for f, _, w in gaps if f == first), block.lost_why or SEQUENCE_GAP)
    return Gap(first, block.lost_before, why)


def noise_note(block: SampleBlock) -> StreamNote:
    """Bytes of line noise the decoder skipped before a block."""
    return StreamNote(block.start_index, "noise", block.skipped_bytes,
                      f"{block.skipped_bytes} bytes of line noise skipped")
CLOCK_NOTE_PPM = 2000  # a board clock this far (0.2 %) from the computer's: noted


@dataclass(frozen=True)
class SessionOptions:
    kind: str  # demo or live
    db_path: Path
    out_dir: Path
    duration_s: float | None = None
    muscle: str | None = None  # one channel's muscle
    muscles: tuple[str, ...] = ()  # a multi-channel board's, one per channel (--muscle given several times)
    labels: tuple[str, ...] = ()  # the names of the channels when no muscle is given: a played recording's signals
    speed: float = 1.0  # the source's pace against real time (a replay's or the simulated board's); 0 = unpaced


def storage_message(exc: object, options: SessionOptions, kept_s: float) -> str:
    """What a user needs when the session cannot be written (a full disk, usually)."""
    return (f"could not write the session ({exc}): is the disk full? Recording stopped after {kept_s:.1f} s; "
            f"what was written is kept in {options.out_dir} and {options.db_path}")


def default_out_dir(base: Path, now: datetime | None = None) -> Path:
    """base/sessions/YYYY-MM-DD_HH-MM-SS, with -2, -3... if taken."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    path = base / "sessions" / stamp
    n = 2
    while path.exists():
        path = base / "sessions" / f"{stamp}-{n}"
        n += 1
    return path


class Session:
    """Run with `run(source, monitor_for)`; returns the summary dict. Marks arrive through `marks`
    (a queue of labels). If the stream ended on an error, everything up to it is saved, the summary
    is returned, and the error is left in `failure` for the caller to raise after showing it."""

    def __init__(self, options: SessionOptions, emit: Callable[[Event, float], None],
                 say: Callable[[str], None] = lambda message: None, view=None, lsl=None,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.options = options
        self.emit = emit
        self.say = say
        self.view = view
        self.lsl = lsl
        self.marks: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._clock = clock
        self._wall_clock = wall_clock
        self.failure: MyotwitchError | None = None

    def run(self, source: Board, monitor_for: Callable[[float], Monitor]) -> dict:
        """With a board of several channels, `monitor_for` is not used: one detector per channel and the
        cross-channel rules (live/channels.py) detect, and every event names its channel and muscle."""
        info = source.open()
        if info.adc_bits:  # a board (a recording has no ADC to speak of)
            self.say(f"{info.board} board, firmware {info.firmware}, {info.rate_hz} Hz, {info.adc_bits}-bit ADC")
        o = self.options
        rate_hz = float(info.rate_hz)
        channels = int(getattr(info, "channels", 1))
        monitor: Monitor | LiveChannels
        try:
            if channels > 1:
                muscles = channel_names(channels, list(o.muscles) or None, list(o.labels) or None)
                monitor = LiveChannels(rate_hz, muscles, getattr(info, "skew_ns", 0) / 1e9)
                self.say(f"{channels} channels, one detector each: "
                         + ", ".join(f"[{c}] {m}" for c, m in enumerate(muscles)))
            else:
                if len(o.muscles) > 1:
                    raise MyotwitchError(f"{len(o.muscles)} muscles named, but this session streams one channel: "
                                         "name one")
                muscles = []
                monitor = monitor_for(rate_hz)
        except MyotwitchError:
            source.close()
            raise
        muscle = o.muscle if channels == 1 else None
        meta = {"kind": o.kind, "source": source.description, "board": info.board, "firmware": info.firmware,
                "board_id": info.fields.get("uid"), "gain": getattr(info, "gain", None), "muscle": muscle}
        try:
            recorder = SessionRecorder(o.out_dir, rate_hz, meta, muscles=muscles or None)  # EDF+ signal labels
            store = Store(o.db_path)
            session = store.begin_session(o.kind, source.description, rate_hz, info.board, info.firmware,
                                          out_dir=str(o.out_dir.resolve()))
        except (OSError, sqlite3.Error) as exc:
            source.close()
            raise MyotwitchError(f"cannot start the session in {o.out_dir} and {o.db_path}: {exc}") from None
        self.say(f"recording into {o.out_dir}")
        limit = math.inf if o.duration_s is None else o.duration_s * rate_hz
        interrupted, failure = False, None
        if self.view is not None:
            self.view.begin(info, monitor)
        if self.lsl is not None:
            self.lsl.open(info, rate_hz)
        source.start()
        self.say("streaming" + ("" if o.duration_s is None else f" for {o.duration_s:g} s") + "; Ctrl-C stops")
        started = False
        last_arrival = None
        # The detector and the recorder get ~0.25 s at a time (a few wake-ups a second, not one a frame);
        # the view and LSL get every block as it comes, so the page's candidates stay prompt.
        batcher = BlockBatcher(max(1, round(BATCH_S * rate_hz * max(o.speed, 1.0))))

        def step(batch: SampleBlock | None, after: list[Event]) -> list[Event]:
            """Detect in `batch`, write it, log its events and then `after` (stream notes, marks), in order."""
            events = ([] if batch is None else monitor.feed(batch)) + after
            try:
                if batch is not None:
                    recorder.add_block(batch)
                self._log(events, store, session, recorder)
                recorder.flush()
            except (OSError, sqlite3.Error) as exc:  # a full disk, a folder gone, a log locked
                raise MyotwitchError(storage_message(exc, o, recorder.samples_written / rate_hz)) from None
            return events

        try:
            for block in source.blocks():
                room = limit - (block.start_index + len(block.samples_uv))
                if room < 0:  # --duration ends inside this block: keep exactly up to it
                    keep = max(0, len(block.samples_uv) + int(room))
                    block = replace(block, samples_uv=block.samples_uv[:keep],
                                    channels_uv=None if block.channels_uv is None else block.channels_uv[:, :keep])
                if not started:
                    started = True
                    first_s = (block.start_index + len(block.samples_uv)) / rate_hz
                    recorder.set_start(self._wall_clock() - timedelta(seconds=first_s))
                now = self._clock()
                stream = self._stream_events(block, source, rate_hz,
                                             None if last_arrival is None else now - last_arrival)
                last_arrival = now
                events: list[Event] = []
                if stream or not batcher.joins(block):  # what is held comes first: events stay in order
                    events += step(batcher.take(), stream)
                batch = batcher.add(block, now)
                marks = self._marks(block.start_index + len(block.samples_uv))
                if marks and batch is None:  # a mark lands after the samples it follows
                    batch = batcher.take()
                if batch is not None or marks:
                    events += step(batch, marks)
                if self.view is not None:
                    self.view.update(block, events, source)
                if self.lsl is not None:
                    self.lsl.push(block, events)
                if room <= 0:
                    break
        except KeyboardInterrupt:
            interrupted = True
        except MyotwitchError as exc:
            failure = exc
        finally:
            source.close()
            if self.view is not None:
                self.view.end()
        held = batcher.take()  # at the end, after an error or Ctrl-C: what is held is detected and written too
        if held is not None:
            try:
                step(held, [])
            except MyotwitchError as exc:
                failure = failure or exc
        end_index = recorder.samples_written
        final = monitor.finish() + self._marks(end_index)
        effective = source.stream_clock.effective_rate_hz() if source.stream_clock else None
        drift_ppm = None
        if effective is not None and o.speed > 0:
            drift_ppm = round((effective / (rate_hz * o.speed) - 1) * 1e6)
            if abs(drift_ppm) >= CLOCK_NOTE_PPM:
                way = "fast" if drift_ppm > 0 else "slow"
                final.append(StreamNote(0, "clock", drift_ppm, f"board clock {abs(drift_ppm) / 1e4:.2f} % {way} "
                                          "against this computer's: times here are the board's"))
        stats = source.stats
        device = source.device_clock
        device_rate = device.effective_rate_hz() if device is not None else None
        device_jitter = device.rms_jitter_us() if device is not None else None
        end = source.board_counters  # the board's last STATS or END, summed over connections
        summary = {
            "seconds": round((monitor.samples + monitor.lost_samples) / rate_hz, 3),
            "frames": stats.frames,
            "samples": monitor.samples,
            "lost_samples": monitor.lost_samples,
            "crc_errors": stats.crc_errors,
            "skipped_bytes": stats.skipped_bytes,
            "saturated_frames": stats.saturated_frames,
            "flat_frames": stats.flat_frames,
            **monitor.summary(),
            "firmware": info.firmware,
            "board": info.board,
            "rate_hz": rate_hz,
            "effective_rate_hz": None if effective is None else round(effective, 3),
            "clock_drift_ppm": drift_ppm,  # the board's clock against the computer's, pace of the source allowed for
            # From the board's own per-frame µs times: a soft timer dropping ticks shows here.
            "device_rate_hz": None if device_rate is None else round(device_rate, 3),
            "device_jitter_us_rms": None if device_jitter is None else round(device_jitter, 1),
            "device_jitter_us_max": None if device is None or not device.frames else round(device.max_jitter_us, 1),
            "gaps": len(source.gaps),
            "reconnects": source.reconnects,
            "frames_sent": end.get("frames"),
            "samples_produced": end.get("samples"),
            "device_lost_samples": end.get("lost"),
            "device_short_writes": end.get("short_writes"),
            "device_fifo_overruns": end.get("fifo_overruns"),
            "board_errors": list(source.errors),
            "interrupted": interrupted,
            "error": None if failure is None else str(failure),
            "db": str(o.db_path),
            "session": session,
            "out_dir": str(o.out_dir),
        }
        problems: list[str] = []  # what could not be written at the end (a full disk); the rest is kept

        def attempt(step: Callable[[], object]) -> None:
            try:
                step()
            except (OSError, sqlite3.Error) as exc:
                problems.append(str(exc))

        attempt(lambda: self._log(final, store, session, recorder))
        attempt(lambda: recorder.add_json([summary_json(summary)]))
        attempt(recorder.close)
        attempt(lambda: store.end_session(session, samples=monitor.samples, lost_samples=monitor.lost_samples,
                                          crc_errors=stats.crc_errors, twitches=monitor.twitches,
                                          episodes=monitor.episodes, rate_hz_effective=effective,
                                          gaps=len(source.gaps)))
        attempt(store.close)
        if recorder.samples_written:
            self.say("writing the EDF+ file")
            try:
                summary["edf"] = str(write_session_edf(o.out_dir))
            except (OSError, MyotwitchError) as exc:
                problems.append(f"the EDF+ file: {exc}")
        if problems:
            summary["write_errors"] = problems
            if failure is None:
                failure = MyotwitchError(storage_message(problems[0], o, recorder.samples_written / rate_hz))
            self.say(f"could not write everything at the end ({'; '.join(problems)}); once there is room, "
                     f"`myotwitch report {o.out_dir}` writes the EDF+ from what is kept")
        if self.lsl is not None:
            self.lsl.close()
        self.failure = failure
        return summary

    def _stream_events(self, block: SampleBlock, source: Board, rate_hz: float,
                       since_last_s: float | None) -> list[Event]:
        """Gaps with their cause, pauses, and noise skipped before this block."""
        events: list[Event] = []
        if block.lost_before:  # the sources say why, where they can tell
            events.append(lost_gap(block, source.gaps))
        elif self.options.speed > 0 and since_last_s is not None:
            pause_s = since_last_s - len(block.samples_uv) / (rate_hz * self.options.speed)
            if pause_s > PAUSE_S:
                events.append(StreamNote(block.start_index, "pause", round(pause_s, 2),
                                         f"stream paused {pause_s:.1f} s, nothing lost"))
        if block.skipped_bytes:
            events.append(noise_note(block))
        return events

    def _marks(self, at_index: int) -> list[Event]:
        events: list[Event] = []
        while True:
            try:
                label = self.marks.get_nowait()
            except queue.Empty:
                return events
            events.append(Mark(at_index, label))

    def _log(self, events: list[Event], store: Store, session: int, recorder: SessionRecorder) -> None:
        if not events:
            return
        for e in events:
            self.emit(e, recorder.rate_hz)
        recorder.add_events(events)
        rows = store_rows(events, recorder.rate_hz)  # a ChannelEvent's rows carry its channel and muscle
        store.add_twitches(session, rows.twitches)
        store.add_episodes(session, rows.episodes)
        store.add_gaps(session, rows.gaps)
        for m in rows.marks:
            store.add_mark(session, m["t_s"], m["label"], m["note"])
        store.commit()
