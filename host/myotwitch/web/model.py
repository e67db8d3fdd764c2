"""The page's side of a session: what the session handed over (blocks, events, a status snapshot) in,
JSON-ready messages for each open page out. Runs in the web server's thread; no IO and no clock of its
own (times come in with the items), so tests drive it directly.

With several channels (`channels` > 1) each channel has its own filtered trace, candidates and decisions
(`ChannelTrace`); an update then carries `traces` (one list of columns per channel) instead of
`columns`, its markers carry `channel`, and the status counts twitches per channel. One channel's
messages are as they were.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from myotwitch.dsp.filters import StreamingSosFilter, design_bandpass_sos, design_mains_sos
from myotwitch.web.feed import MATCH_S, CandidateFinder, ColumnDecimator, DecisionMatcher

BACKLOG_S = 120.0  # filtered signal kept for a page that opens or changes its window (the page offers up to 60 s)
DEFAULT_COLUMNS_PER_S = 100.0  # until the page says how wide it is
SILENT_S = 1.0  # no block for this long while the session runs: the board is away (unplugged, reconnecting)
KEEP_MARKERS = 500  # candidates and decisions kept for a page that opens late


@dataclass
class Handed:
    """One block as the session handed it over, with the status read at that moment."""

    start_index: int
    samples_uv: np.ndarray
    lost_before: int
    status: dict
    arrival_epoch_s: float  # wall clock when the session handed it over (for the page's clock and latencies)
    arrival_s: float  # monotonic clock, for "no samples for N s"
    channels_uv: np.ndarray | None = None  # (channels, n) from a board of several channels


class ChannelTrace:
    """One channel's filtered signal (kept BACKLOG_S for pages that open late), its view-side candidates
    and the detector's decisions matched to them."""

    def __init__(self, rate_hz: float, bandpass: np.ndarray) -> None:
        self.rate_hz = rate_hz
        self._bandpass = bandpass
        self._mains_hz: tuple[float, ...] | None = None
        self._filter = StreamingSosFilter(bandpass)
        self.finder = CandidateFinder(rate_hz)
        self.matcher = DecisionMatcher(rate_hz)
        self.backlog: deque[tuple[int, np.ndarray]] = deque()
        self._backlog_samples = 0
        self.next_index: int | None = None
        self.fresh: list[tuple[int, np.ndarray]] = []  # filtered since the last message

    def add(self, start_index: int, samples_uv: np.ndarray, mains_hz, threshold_uv: float | None) -> list:
        """Filter a block; returns the candidates it completes."""
        n = len(samples_uv)
        if mains_hz is not None and tuple(mains_hz) != self._mains_hz:
            self._mains_hz = tuple(mains_hz)  # the detector measured the mains: notch it here too
            sos = np.vstack([self._bandpass, design_mains_sos(self.rate_hz, self._mains_hz)])
            self._filter = StreamingSosFilter(sos)
            self.finder.restart(start_index)
        if self.next_index is not None and start_index != self.next_index:
            self._filter.reset()  # a gap (lost, or dropped by the view): no filter ringing across it
            self.finder.restart(start_index)
        self.next_index = start_index + n
        if n == 0:
            return []
        y = self._filter.process(np.asarray(samples_uv, dtype=np.float64))
        self.fresh.append((start_index, y))
        self.backlog.append((start_index, y))
        self._backlog_samples += n
        while self._backlog_samples - len(self.backlog[0][1]) >= BACKLOG_S * self.rate_hz:
            self._backlog_samples -= len(self.backlog.popleft()[1])
        return self.finder.add(start_index, y, threshold_uv)


@dataclass
class Page:
    """What the model knows of one open page."""

    decimators: list[ColumnDecimator]  # one per channel
    reset: bool = True  # the next message replaces the page's trace (it opened, or changed its window)


@dataclass
class ViewModel:
    rate_hz: float
    peak_sigma: float
    info: dict = field(default_factory=dict)  # board, muscle (or muscles, one per channel): shown in the header
    pages: dict[int, Page] = field(default_factory=dict)
    channels: int = 1

    def __post_init__(self) -> None:
        bandpass = design_bandpass_sos(self.rate_hz)
        self.traces = [ChannelTrace(self.rate_hz, bandpass) for _ in range(self.channels)]
        self._markers: deque[dict] = deque(maxlen=KEEP_MARKERS)  # candidates and decisions, for late pages
        self._new_markers: list[dict] = []
        self._new_events: list[dict] = []
        self._twitch_times_s: deque[float] = deque(maxlen=100_000)
        self._channel_twitch_times_s: list[deque[float]] = [deque(maxlen=100_000) for _ in self.traces]
        self.status: dict = {}
        self.start_epoch_s: float | None = None  # wall clock of sample index 0
        self.last_arrival_s: float | None = None
        self.view_dropped_blocks = 0
        self.ended = False

    # -- input -------------------------------------------------------------
    def add_block(self, item: Handed) -> None:
        n = len(item.samples_uv)
        # The wall clock of sample 0: the block that arrived soonest after its last sample tells it best
        # (a block is sent when full, then waits in buffers, never the other way round).
        anchor = item.arrival_epoch_s - (item.start_index + n) / self.rate_hz
        if self.start_epoch_s is None or anchor < self.start_epoch_s:
            self.start_epoch_s = anchor
        self.last_arrival_s = item.arrival_s
        self.status = item.status
        several = self.channels > 1
        rows = item.channels_uv if several and item.channels_uv is not None else [item.samples_uv]
        # Each channel's candidates stand out of its own noise floor (channel 0's when that is all there is).
        floors = item.status.get("channel_noise_uv") or [item.status.get("noise_uv")] * len(rows)
        for c, (trace, row) in enumerate(zip(self.traces, rows, strict=False)):
            noise_uv = floors[c] if c < len(floors) else None
            threshold = None if noise_uv is None else self.peak_sigma * noise_uv
            for k in trace.add(item.start_index, row, item.status.get("mains_hz"), threshold):
                trace.matcher.add(k)
                peak_s = k.peak_index / self.rate_hz
                marker = {"kind": "candidate", "id": k.id, "index": k.peak_index, "uv": k.peak_uv,
                          "sampled_epoch_s": self.start_epoch_s + peak_s, "seen_epoch_s": item.arrival_epoch_s}
                self._marker({**marker, "channel": c} if several else marker)

    def add_events(self, events: list[dict], decided_epoch_s: float) -> None:
        for e in events:
            kind = e.get("type")
            if kind in ("twitch", "rejected"):
                index = round(e["t_s"] * self.rate_hz)
                verdict = "twitch" if kind == "twitch" else "rejected"
                channel = e.get("channel", 0)
                if not (isinstance(channel, int) and 0 <= channel < len(self.traces)):
                    continue
                c = self.traces[channel].matcher.decide(index, verdict)
                if kind == "twitch":
                    self._twitch_times_s.append(e["t_s"])
                    self._channel_twitch_times_s[channel].append(e["t_s"])
                marker = {"kind": verdict, "id": None if c is None else c.id, "index": index,
                          "uv": e.get("peak_uv"), "snr": e.get("snr"), "reason": e.get("reason"),
                          "decided_epoch_s": decided_epoch_s}
                self._marker({**marker, "channel": channel} if self.channels > 1 else marker)
            elif kind in ("mark", "gap", "episode", "activity", "signal", "stream"):
                self._new_events.append(e)

    def _marker(self, m: dict) -> None:
        self._markers.append(m)
        self._new_markers.append(m)

    # -- pages -------------------------------------------------------------
    def open_page(self, page_id: int, columns_per_s: float = DEFAULT_COLUMNS_PER_S) -> None:
        spc = self._samples_per_column(columns_per_s)
        self.pages[page_id] = Page([ColumnDecimator(spc) for _ in self.traces])

    def set_columns_per_s(self, page_id: int, columns_per_s: float) -> None:
        if page_id in self.pages:
            self.open_page(page_id, columns_per_s)

    def close_page(self, page_id: int) -> None:
        self.pages.pop(page_id, None)

    def _samples_per_column(self, columns_per_s: float) -> int:
        if not math.isfinite(columns_per_s) or columns_per_s <= 0:
            columns_per_s = DEFAULT_COLUMNS_PER_S
        return max(1, round(self.rate_hz / min(columns_per_s, self.rate_hz)))

    def messages(self, now_s: float) -> dict[int, dict]:
        """One message per open page with what is new for it; clears what was new."""
        status = self.status_now(now_s)
        out = {}
        for page_id, page in self.pages.items():
            if page.reset:
                markers = list(self._markers)
                events: list[dict] = []
            else:
                markers, events = self._new_markers, self._new_events
            traces = []
            for trace, decimator in zip(self.traces, page.decimators, strict=True):
                columns = []
                for start_index, y in (trace.backlog if page.reset else trace.fresh):
                    columns += decimator.add(start_index, y)
                traces.append(columns)
            shown = {"traces": traces} if self.channels > 1 else {"columns": traces[0]}
            out[page_id] = {"type": "update", "reset": page.reset, "samples_per_column":
                            page.decimators[0].samples_per_column, **shown, "markers": markers,
                            "events": events, "status": status}
            page.reset = False
        for trace in self.traces:
            trace.fresh = []
        self._new_markers, self._new_events = [], []
        return out

    def hello(self) -> dict:
        return {"type": "hello", "rate_hz": self.rate_hz, "match_ms": MATCH_S * 1000,
                "peak_sigma": self.peak_sigma, **({"channels": self.channels} if self.channels > 1 else {}),
                **self.info}

    def status_now(self, now_s: float) -> dict:
        s = dict(self.status)
        end_s = (self.traces[0].next_index or 0) / self.rate_hz
        s["elapsed_s"] = round(end_s, 3)
        s["twitches"] = len(self._twitch_times_s)
        s["twitches_last_min"] = sum(1 for t in self._twitch_times_s if t > end_s - 60.0)
        s["per_min"] = round(len(self._twitch_times_s) / (end_s / 60.0), 2) if end_s > 0 else 0.0
        if self.channels > 1:
            s["channel_twitches"] = [len(t) for t in self._channel_twitch_times_s]
            s["channel_twitches_last_min"] = [sum(1 for x in t if x > end_s - 60.0)
                                              for t in self._channel_twitch_times_s]
        s["start_epoch_s"] = self.start_epoch_s
        s["view_dropped_blocks"] = self.view_dropped_blocks
        silent_s = None if self.last_arrival_s is None else now_s - self.last_arrival_s
        if self.ended:
            s["connection"] = "ended"
        elif self.last_arrival_s is None:
            s["connection"] = "waiting"
        elif silent_s is not None and silent_s > SILENT_S:
            s["connection"] = "disconnected"  # the session is looking for the board again meanwhile
            s["silent_s"] = round(silent_s, 1)
        else:
            s["connection"] = "receiving"
        return s
