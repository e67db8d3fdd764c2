"""Candidates: runs where the RMS over energy_window_ms passes detect_sigma x the noise floor, grouped when
closer than the merge gap (phases of one potential), each group measured once complete: its peak (the
largest |filtered| sample), onset and end (where |filtered| last exceeds the delimit threshold), and how many
separate potentials it holds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myotwitch.dsp import streaming
from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.events import Reason


@dataclass
class Candidate:
    peak_index: int
    onset_index: int
    end_index: int
    peak_uv: float  # largest |filtered| excursion
    noise_uv: float
    # Filled in when decided:
    baseline_swing_uv: float = 0.0  # range of the low-passed raw signal around the candidate
    max_jump_uv: float = 0.0  # largest sample-to-sample change of the raw signal
    clipped: bool = False
    features_final: bool = False  # the three above were measured with all their context in hand
    reason: Reason | None = None  # None: a twitch
    doublet_interval_samples: int | None = None
    echo: bool = False  # below the ringing of an earlier, larger candidate (set when it is found)
    potentials: int = 1  # separate potentials above the delimit threshold in the candidate's run
    snippet: np.ndarray | None = None  # filtered signal around the peak, for shape comparisons (when asked)
    # A second discharge of the same unit in the candidate's own run (too close to be a candidate of its own):
    # the other peak's offset from peak_index in samples, and its size. Looked for when asked, in the run's
    # samples [start, end) kept in `run_to_search` until then (None: nothing there could be one).
    merged: tuple[int, float] | None = None
    run_to_search: tuple[int, int] | None = None
    # The run's other peaks that could be the second (same sign, size and interval; larger first), for
    # Features.whole_potential_repeated when `merged` turns out to be a lobe of the first potential.
    merged_others: tuple[tuple[int, float], ...] = ()


class CandidateFinder:
    """Energy runs -> run groups -> Candidate, streaming; the filtered signal is read back from `ring_y`."""

    def __init__(self, config: DetectorConfig, counts: SampleCounts, ring_y: streaming.Ring) -> None:
        self._config = config
        self._counts = counts
        self._ring_y = ring_y
        self.found = 0  # candidates measured so far
        # Candidates being built: an energy run still open, and a finished one within the merge gap.
        self._run_start: int | None = None
        self._run_floor = 0.0
        self._pending: list[int] | None = None  # [first, last] energy-above indices
        self._pending_noise = 0.0
        self._closed: list[tuple[int, int, float]] = []  # complete run groups (first, last, floor), not yet measured

    @property
    def open_from(self) -> int | None:
        """The earliest sample a candidate still being built may peak at (None: nothing open)."""
        opened = [p - self._counts.energy_window for p in
                  (self._pending[0] if self._pending is not None else None, self._run_start) if p is not None]
        return min(opened, default=None)

    def feed(self, abs_start: int, energy_sums: np.ndarray, floors: np.ndarray,
             floors_sq: np.ndarray) -> list[Candidate]:
        """A piece's energy sums and floors (see NoiseFloor) in; the candidates complete so far out."""
        # The RMS over the energy window above detect_sigma x the floor
        above = energy_sums > floors_sq * (self._counts.energy_window * self._config.detect_sigma**2)
        n = len(energy_sums)
        if self._run_start is not None and not above[0]:
            self._end_run_before(abs_start)
        starts, ends = streaming.runs(above)
        if len(starts):
            firsts, lasts, run_floors = starts + abs_start, ends - 1 + abs_start, floors[starts]
            if starts[0] == 0 and self._run_start is not None:  # continues from the previous piece
                firsts[0], run_floors[0] = self._run_start, self._run_floor
            self._run_start = None
            if ends[-1] == n:  # still above at the end: continues in the next piece
                self._add_runs(firsts[:-1], lasts[:-1], run_floors[:-1])
                self._run_start, self._run_floor = int(firsts[-1]), float(run_floors[-1])
            else:
                self._add_runs(firsts, lasts, run_floors)
        if (self._run_start is None and self._pending is not None
                and abs_start + n - 1 - self._pending[1] > self._counts.merge):
            self._queue_pending()
        return self._measure_closed()

    def close(self, processed: int) -> list[Candidate]:
        """End of the stream or a gap at `processed`: what is open is complete."""
        if self._run_start is not None:
            self._end_run_before(processed)
        self._queue_pending()
        return self._measure_closed()

    def _end_run_before(self, index: int) -> None:
        start, self._run_start = self._run_start, None
        if start is not None:
            self._add_runs(np.array([start]), np.array([index - 1]), np.array([self._run_floor]))

    def _add_runs(self, firsts: np.ndarray, lasts: np.ndarray, floors: np.ndarray) -> None:
        """Complete runs above the detection threshold, in index order: runs closer than the merge gap form a
        group (one candidate); the last group stays pending, as a later run may still join it."""
        if not len(firsts):
            return
        p = self._pending
        opens = np.empty(len(firsts), dtype=bool)  # this run starts a new group
        opens[0] = p is None or int(firsts[0]) - p[1] > self._counts.merge
        opens[1:] = firsts[1:] - lasts[:-1] > self._counts.merge
        starts = np.flatnonzero(opens)
        if not len(starts):  # all of them extend the pending group (opens[0] False: there is one)
            assert p is not None
            p[1] = int(lasts[-1])
            return
        if starts[0] > 0:
            assert p is not None
            p[1] = int(lasts[starts[0] - 1])
        self._queue_pending()
        group_lasts = lasts[np.append(starts[1:] - 1, len(firsts) - 1)]
        self._closed.extend(zip(firsts[starts[:-1]].tolist(), group_lasts[:-1].tolist(), floors[starts[:-1]].tolist(),
                                strict=True))
        self._pending = [int(firsts[starts[-1]]), int(group_lasts[-1])]
        self._pending_noise = float(floors[starts[-1]])

    def _queue_pending(self) -> None:
        """The pending run group is complete (no run is open): queue it for `_measure_closed`."""
        p, self._pending = self._pending, None
        if p is not None:
            self._closed.append((p[0], p[1], self._pending_noise))

    def _measure_closed(self) -> list[Candidate]:
        """Turn the queued run groups into candidates: peak, onset, end, potentials, all groups at once.

        For each group: the peak is the largest |filtered| sample from one RMS
        window before its first sample to its last; a group whose peak is below
        peak_sigma is part of the background. Onset and end: the stretch of
        samples above the delimit threshold around the peak whose gaps are no
        longer than the merge gap (later ringing is not part of the potential)."""
        groups, self._closed = self._closed, []
        return self.measure_groups(groups)

    def measure_groups(self, groups: list[tuple[int, int, float]]) -> list[Candidate]:
        """Run groups (first, last energy-above index, floor), in index order, as candidates."""
        if not groups:
            return []
        ring = self._ring_y
        first, last, floor = (np.array(column) for column in zip(*groups, strict=True))
        # the RMS window lags the signal
        lo = np.maximum(first - self._counts.energy_window, max(ring.end - ring.size, 0))
        hi = np.minimum(last + 1, ring.end)
        keep = hi > lo
        if not keep.all():
            floor, lo, hi = floor[keep], lo[keep], hi[keep]
            if not len(lo):
                return []
        span_lo = int(lo.min())
        mag_span = np.abs(ring.read(span_lo, int(hi.max())))

        def gather(lo: np.ndarray, hi: np.ndarray):
            """The groups' samples of |y| end to end, with where each starts and which group each is."""
            index, offsets = streaming.ranges(lo, hi)
            mag = mag_span[index - span_lo]
            base = lo - offsets  # absolute index = position in mag + base of its group
            return hi - lo, offsets, base, mag, np.maximum.reduceat(mag, offsets)

        lengths, _, base, mag, peak_uv = gather(lo, hi)
        cfg = self._config
        strong = peak_uv >= cfg.peak_sigma * floor  # the others are broad and low: background, not potentials
        if not strong.all():
            floor, lo, hi = floor[strong], lo[strong], hi[strong]
            if not len(lo):
                return []
            lengths, _, base, mag, peak_uv = gather(lo, hi)
        segment = np.repeat(np.arange(len(lengths)), lengths)
        peak_each = np.repeat(peak_uv, lengths)  # each sample's group's peak
        at_max = np.flatnonzero(mag == peak_each)
        starts_at_max = np.concatenate(([True], segment[at_max[1:]] != segment[at_max[:-1]]))
        peak_pos = at_max[starts_at_max]  # the first largest sample of each group, as np.argmax gives it
        # The peak is above this threshold (peak_sigma > delimit_sigma, delimit_share < 1: checked at start).
        threshold = np.maximum(cfg.delimit_sigma * floor, cfg.delimit_share * peak_uv)
        over = np.flatnonzero(mag > np.repeat(threshold, lengths))
        over_segment = segment[over]
        new_group = np.concatenate(([True], (np.diff(over) > self._counts.merge)
                                    | (over_segment[1:] != over_segment[:-1])))
        group_id = np.cumsum(new_group) - 1
        peak_group = group_id[np.searchsorted(over, peak_pos)]
        onset_pos = over[np.searchsorted(group_id, peak_group, side="left")]
        end_pos = over[np.searchsorted(group_id, peak_group, side="right") - 1]
        seg_first = np.searchsorted(over_segment, np.arange(len(lengths)), side="left")
        seg_last = np.searchsorted(over_segment, np.arange(len(lengths)), side="right") - 1
        potentials = group_id[seg_last] - group_id[seg_first] + 1
        self.found += len(lengths)
        # Could it hold a second discharge (see Features.two_discharges)? Only if some sample a doublet's
        # interval from the peak is at least 1 / same_unit_ratio of it; most candidates have none.
        sized = np.flatnonzero(mag * cfg.same_unit_ratio >= peak_each)  # few: the peaks and their like
        from_peak = np.abs(sized - peak_pos[segment[sized]])
        doublet = self._counts.doublet
        holding = segment[sized[(from_peak >= doublet[0]) & (from_peak <= doublet[1])]]  # ascending, repeated
        # np.unique's value; np.unique's first call imports numpy.ma (8 ms of analyze's start-up)
        may_hold_two = holding[np.concatenate(([True], holding[1:] != holding[:-1]))] if len(holding) else holding
        columns = (peak_pos + base, onset_pos + base, end_pos + base, peak_uv, floor, potentials)
        found = [Candidate(peak, onset, end, peak_uv_g, floor_g, potentials=potentials_g)
                 for peak, onset, end, peak_uv_g, floor_g, potentials_g
                 in zip(*(a.tolist() for a in columns), strict=True)]
        for g in may_hold_two.tolist():
            found[g].run_to_search = (int(lo[g]), int(hi[g]))
        return found
