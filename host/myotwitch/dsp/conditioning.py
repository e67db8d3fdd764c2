"""The detector's first stages, everything that depends only on the samples: raw blocks in, pieces out.

1. Condition: the band-pass and the mains notches (filters.py), with the mains lines chosen from the first
   `mains_probe_s` of signal (held back until then), restarted in steady state at every discontinuity of the
   stream; the moving sums of the filtered signal's squares (the candidates' energy, the activity envelope).
2. The noise floor (noise_floor.py) in force at each sample, from |filtered| and the raw samples held at the
   rails (clipping); its signal issues (flat, clipped) as they end.
Its output is cut into the pieces the detector runs (`SampleCounts.piece` samples from each run's start).

Nothing here depends on what the detector decides, only on the samples and their indices: so the detector
can run it itself (`TwitchDetector.process`), or be handed the filter's part made earlier, as the offline
analysis does one block ahead in a second thread (analysis.py), and finish the rest (sums, rails, floor) in
stream order itself, with the same events to the bit: the steps carry the issues found, and the detector
emits them where it would have.

    conditioner = Conditioner(rate_hz, config, counts, bandpass_sos)
    conditioned = conditioner.feed(start_index, block_uv)   # Conditioned: steps in stream order
    detector.consume(conditioned)                          # what detector.process(start_index, block_uv) does
    filtered = conditioner.filter(start_index, block_uv)    # the filter alone (another thread may run it) ...
    detector.consume(filtered)                             # ... finished here: conditioner.finish(filtered)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from myotwitch.dsp import streaming
from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.events import SignalIssue
from myotwitch.dsp.filters import StreamingSosFilter, choose_mains, design_mains_sos
from myotwitch.dsp.noise_floor import NoiseFloor


@dataclass(frozen=True)
class MainsChosen:
    """The mains fundamentals notched from here on (none: no mains line stood out, or "off")."""

    mains_hz: tuple[float, ...]


@dataclass(frozen=True)
class Restart:
    """Samples are missing before `next_index`: the filter, the sums and the noise window start again there, the
    floor waits for the filter to settle. `closed_issues`: the signal issue open until the gap, if one was."""

    next_index: int
    closed_issues: list[SignalIssue]


@dataclass(frozen=True)
class End:
    """The end of the stream; `closed_issues` as Restart's."""

    closed_issues: list[SignalIssue]


@dataclass(frozen=True)
class Piece:
    """Consecutive samples from `start_index`: as read, filtered, the filtered signal's moving sums of squares over
    the energy and the envelope windows (each ending at its sample), and the noise floor in force at each sample
    (NaN while warming up or settling) with its square. `issues`: the signal issues that ended in the piece;
    `floor_uv` and `flat_samples`: the floor and the flat samples counted so far, after it."""

    start_index: int
    raw_uv: np.ndarray
    filtered_uv: np.ndarray
    energy_sums: np.ndarray
    envelope_sums: np.ndarray
    floors_uv: np.ndarray
    floors_sq: np.ndarray
    issues: list[SignalIssue]
    floor_uv: float | None
    flat_samples: int


Step = MainsChosen | Restart | End | Piece


@dataclass(frozen=True)
class Filtered:
    """Consecutive samples from `start_index`, as read and filtered: what `Conditioner.filter` leaves for
    `Conditioner.finish` to cut into pieces."""

    start_index: int
    raw_uv: np.ndarray
    filtered_uv: np.ndarray


@dataclass(frozen=True)
class _Gap:
    next_index: int


@dataclass(frozen=True)
class _Flush:
    pass


Made = MainsChosen | Filtered | _Gap | _Flush


@dataclass(frozen=True)
class Conditioned:
    """What one block (or the end of the stream) gave: steps in stream order, the block's sample count, and the
    index of the first sample held back for the mains probe (None once the mains lines are chosen). Made by
    `Conditioner.filter` (or its `flush_filter`), the steps are still to be finished (`finished` False: they hold
    Filtered runs, and the gaps and the end as markers); by `Conditioner.finish`, they are Steps."""

    steps: list
    samples: int
    held_from_index: int | None
    finished: bool = True


class Conditioner:
    """Feed blocks of µV with the absolute index of their first sample, in stream order; `flush()` at the end.

    In two halves, for the offline analysis's two threads: `filter` (and `flush_filter`) runs the filter, in the
    reading thread: one pass in compiled code that gives the GIL up, and little else, so that thread seldom
    waits for the GIL while the detector holds it (each wait is a context switch: about 30 a block when the
    sums and the noise floor ran there too, a tenth of the analysis's CPU); `finish` runs the rest (sums,
    rails, noise floor, pieces), in the detector's thread, in stream order. `feed` is both at once."""

    def __init__(self, rate_hz: float, config: DetectorConfig, counts: SampleCounts, bandpass_sos: np.ndarray) -> None:
        self.rate_hz = float(rate_hz)
        self.config = config
        self.counts = counts
        self._bandpass_sos = bandpass_sos
        # The filter's half
        self.mains_hz: tuple[float, ...] | None = None
        self._filter: StreamingSosFilter | None = None
        self._probe: list[np.ndarray] = []  # the blocks held back until the probe is full
        self._probe_samples = 0
        self._probe_start: int | None = None
        self._next_index: int | None = None
        # The finishing half
        self._squares = streaming.MovingSquares((counts.energy_window, counts.envelope_window))
        self._rails = streaming.RailRuns(counts.clip_run)
        self._issues: list = []  # what the floor emits (SignalIssue), until handed on with a step
        self._floor = NoiseFloor(config, counts.window, self._issues.append)

    def feed(self, start_index: int, block_uv: np.ndarray) -> Conditioned:
        return self.finish(self.filter(start_index, block_uv))

    def flush(self) -> Conditioned:
        """End of stream: a probe still held back is conditioned as it is; the issue still open ends."""
        return self.finish(self.flush_filter())

    def filter(self, start_index: int, block_uv: np.ndarray) -> Conditioned:
        """The filter's half of `feed`: its steps are still to be finished."""
        made: list[Made] = []
        if self._next_index is not None and start_index != self._next_index:
            if self._filter is None and self._probe:
                self._start(made)  # what the probe holds is conditioned as it is, before the gap
            if self._filter is not None:
                self._filter.reset()
            made.append(_Gap(start_index))
        self._next_index = start_index + len(block_uv)
        if self._filter is None:
            if self._probe_start is None:
                self._probe_start = start_index
            self._probe.append(block_uv)
            self._probe_samples += len(block_uv)
            if self._probe_samples >= self.counts.probe:
                self._start(made)
        else:
            self._filtered(start_index, block_uv, made)
        return Conditioned(made, len(block_uv), self._probe_start, finished=False)

    def flush_filter(self) -> Conditioned:
        """The filter's half of `flush`."""
        made: list[Made] = []
        if self._filter is None and self._probe:
            self._start(made)
        made.append(_Flush())
        return Conditioned(made, 0, self._probe_start, finished=False)

    def finish(self, conditioned: Conditioned) -> Conditioned:
        """The rest of `feed` (or `flush`) for what `filter` (or `flush_filter`) made, in stream order."""
        if conditioned.finished:
            return conditioned
        steps: list[Step] = []
        for made in conditioned.steps:
            if type(made) is Filtered:
                self._run(made.start_index, made.raw_uv, made.filtered_uv, steps)
            elif type(made) is MainsChosen:
                steps.append(made)
            elif type(made) is _Gap:
                self._squares.reset()
                self._rails.restart()
                self._floor.close_issue()
                self._floor.restart()
                self._floor.settle_until = made.next_index + self.counts.settle
                steps.append(Restart(made.next_index, self._take_issues()))
            elif type(made) is _Flush:
                self._floor.close_issue()
                steps.append(End(self._take_issues()))
            else:  # a finished step marked unfinished would be dropped, its samples counted but never run
                raise TypeError(f"not a step of Conditioner.filter: {type(made).__name__}")
        return Conditioned(steps, conditioned.samples, conditioned.held_from_index)

    def _take_issues(self) -> list[SignalIssue]:
        issues = self._issues[:]
        self._issues.clear()  # the floor holds its append
        return issues

    def _start(self, made: list[Made]) -> None:
        """Choose the mains lines on exactly the first probe samples, however the stream was cut into blocks."""
        probe = np.concatenate(self._probe) if self._probe else np.empty(0)
        measured = probe[: self.counts.probe] if self.counts.probe else None
        self.mains_hz = choose_mains(self.config.filters, measured, self.rate_hz)
        sos = np.vstack([self._bandpass_sos, design_mains_sos(self.rate_hz, self.mains_hz, self.config.filters)])
        self._filter = StreamingSosFilter(sos)
        made.append(MainsChosen(self.mains_hz))
        start = self._probe_start
        self._probe, self._probe_samples, self._probe_start = [], 0, None
        if len(probe):
            assert start is not None  # set with the first block held
            self._filtered(start, probe, made)

    def _filtered(self, start_index: int, x: np.ndarray, made: list[Made]) -> None:
        """The run filtered in one pass (the filter's output does not depend on how its input is cut)."""
        assert self._filter is not None
        made.append(Filtered(start_index, x, self._filter.process(x)))

    def _run(self, start_index: int, x: np.ndarray, y: np.ndarray, steps: list[Step]) -> None:
        """A filtered run's sums, rails and noise floor piece by piece, in the pieces the detector runs."""
        piece = self.counts.piece
        for i in range(0, len(x), piece):
            start, x_piece, y_piece = start_index + i, x[i : i + piece], y[i : i + piece]
            energy_sums, envelope_sums = self._squares.process(y_piece)
            clipped = self._rails.counts_if_any(x_piece)  # None, the usual case: no pass over the piece
            clipped_before = None
            if clipped is not None and clipped.any():
                clipped_before = np.concatenate(([0], np.cumsum(clipped)))
            floors = self._floor.update(start, x_piece, np.abs(y_piece), clipped_before)  # |y| its scratch
            floors_sq = floors * floors  # NaN while warming up or settling: no threshold is ever passed there
            steps.append(Piece(start, x_piece, y_piece, energy_sums, envelope_sums, floors, floors_sq,
                               self._take_issues(), self._floor.floor, self._floor.flat_samples))
