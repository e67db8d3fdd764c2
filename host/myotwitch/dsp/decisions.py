"""What is known around each candidate, and the decision loop: candidates are kept in peak order (a while
after they are decided, as context for later ones), each decided by rules.RULES once decision_delay_s of
signal after it has been seen, into a Twitch or a Rejected with its Reason."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

import numpy as np

from myotwitch.dsp import rules, streaming
from myotwitch.dsp.candidates import Candidate
from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.events import ARTIFACTS, NOT_DISCHARGES, NOT_IN_ECG_CHAINS, DetectorStats, Reason, Rejected, Twitch
from myotwitch.dsp.features import Features, first_of_two


class CandidateArrays:
    """Figures of the candidates (same order, same first one), as arrays, for the rules that count or filter
    many neighbours at once."""

    def __init__(self) -> None:
        self.peak_index = np.empty(0, dtype=np.int64)
        self.peak_uv = np.empty(0)
        self.echo = np.empty(0, dtype=bool)
        self.excluded = np.empty(0, dtype=bool)  # decided as an echo or a doublet's second: not a heart beat

    def extend(self, peak_index: np.ndarray, peak_uv: np.ndarray, echo: np.ndarray) -> None:
        self.peak_index = np.concatenate((self.peak_index, peak_index))
        self.peak_uv = np.concatenate((self.peak_uv, peak_uv))
        self.echo = np.concatenate((self.echo, echo))
        self.excluded = np.concatenate((self.excluded, np.zeros(len(peak_index), dtype=bool)))

    def drop(self, n: int) -> None:
        """Forget the first n."""
        self.peak_index, self.peak_uv = self.peak_index[n:], self.peak_uv[n:]
        self.echo, self.excluded = self.echo[n:], self.excluded[n:]


class Decisions:
    """The candidates found so far, and the questions the rules ask about their neighbourhood."""

    def __init__(self, config: DetectorConfig, counts: SampleCounts, features: Features,
                 segments: Sequence[tuple[int, int | None]], stats: DetectorStats,
                 emit: Callable[[object], None]) -> None:
        self.config = config
        self.counts = counts
        self.features = features
        self.segments = segments  # the activity tracker's recent segments
        self.stats = stats
        self._emit = emit
        self.processed = 0  # absolute index after the last sample run through the detector
        self.candidates: list[Candidate] = []  # found, in peak order; kept a while for context after deciding
        self.peaks: list[int] = []  # their peak indices, for bisecting without a key function
        self.arrays = CandidateArrays()
        self.burst_peaks: list[int] = []  # peaks of the candidates too long or with too many potentials for a twitch
        self._neighbours = np.empty(0, dtype=np.intp)  # for the candidates being decided: see count_neighbours
        self._largest_neighbour = np.empty(0)
        self._decided_from = 0
        self.decided = 0  # how many of self.candidates are decided

    @property
    def first_undecided_peak(self) -> int | None:
        return self.candidates[self.decided].peak_index if self.decided < len(self.candidates) else None

    def add(self, found: list[Candidate]) -> None:
        """New candidates (in peak order, after all those held): each an echo or not, as it comes."""
        if not found:
            return
        peaks = np.array([c.peak_index for c in found], dtype=np.int64)
        sizes = np.array([c.peak_uv for c in found])
        self.candidates.extend(found)
        self.peaks.extend(peaks.tolist())
        # An echo needs an earlier candidate whose decaying ringing it stays below: most have none even when
        # every earlier one counts (echoes do not ring), and only those that might go through the exact test,
        # in order, each seeing the echoes decided before it.
        might = np.flatnonzero(self._below_some_ringing(peaks, sizes))
        echoes = np.zeros(len(found), dtype=bool)
        for g in might.tolist():
            found[g].echo = echoes[g] = self._under_ringing(found[g])
        self.arrays.extend(peaks, sizes, echoes)
        max_duration, burst_min = self.counts.max_duration, self.config.burst_min_potentials
        self.burst_peaks.extend(c.peak_index for c in found if not c.echo and (
            c.potentials >= burst_min or c.end_index - c.onset_index + 1 > max_duration))

    # -- the decision loop --------------------------------------------------------
    def decide(self, upto: int | None, processed: int) -> int:
        """Decide the candidates peaking before `upto` (None: all), then forget what no rule can look back at;
        returns the horizon: nothing before it is looked at again."""
        self.processed = processed
        cands = self.candidates
        due = len(cands) if upto is None else bisect.bisect_left(self.peaks, upto, lo=self.decided)
        self.features.measure_batch(cands[self.decided : due], processed)
        self.count_neighbours(self.decided, due)
        events: list[Twitch | Rejected] = []
        twitches: list[int] = []  # where the twitches are among the events
        while self.decided < due:
            c = cands[self.decided]
            self._classify(self.decided, c)
            if c.reason in NOT_IN_ECG_CHAINS:
                self.arrays.excluded[self.decided] = True
            self.decided += 1
            if c.reason is None:
                self.stats.twitches += 1
                twitches.append(len(events))
                events.append(self._twitch(c))
            else:
                self.stats.rejected[c.reason] = self.stats.rejected.get(c.reason, 0) + 1
                events.append(Rejected(c.peak_index, c.peak_uv, c.reason))
        self._at_raw_peaks(events, twitches)
        for event in events:
            self._emit(event)
        # Forget what no later rule can look back at (in batches: deleting from a list's front is linear).
        horizon = (processed if upto is None else upto) - self.counts.delay
        old = bisect.bisect_left(self.peaks, horizon, hi=self.decided)
        if old > 256 or (upto is None and old):
            del cands[:old]
            del self.peaks[:old]
            self.arrays.drop(old)
            del self.burst_peaks[: bisect.bisect_left(self.burst_peaks, self.peaks[0] if self.peaks else horizon)]
            self.decided -= old
        return horizon

    def _classify(self, i: int, c: Candidate) -> None:
        reason = rules.classify(self, i, c)
        # Two discharges in one run, and the whole potential repeated: a doublet. Two same-sign lobes of one
        # potential are not (issue 13 item 2); they still count as two discharges for too_long and near_burst,
        # as before, so a polyphasic twitch is kept, only not flagged.
        if (reason is None and c.doublet_interval_samples is None and self.features.two_discharges(c)
                and self.features.whole_potential_repeated(c, self._pool(c))):
            c.doublet_interval_samples = abs(c.merged[0])  # type: ignore[index]  # two_discharges: merged is set
        c.reason = reason

    def _pool(self, c: Candidate) -> list[Candidate]:
        """The candidates within doublet_pool_s of c, c among them: its doublet test averages those of them that
        are the same unit discharging the same way (Features.whole_potential_repeated)."""
        a, b = self.between(c.peak_index - self.counts.pool, c.peak_index + self.counts.pool)
        return self.candidates[a:b]

    def _twitch(self, c: Candidate) -> Twitch:
        if c.merged is None or c.doublet_interval_samples != abs(c.merged[0]):
            peak, onset, end, peak_uv = c.peak_index, c.onset_index, c.end_index, c.peak_uv
            interval = c.doublet_interval_samples
        else:
            # Two discharges in one candidate: the twitch is the first.
            offset, other_uv = c.merged
            peak, onset, end = first_of_two(c, offset)
            peak_uv, interval = other_uv if offset < 0 else c.peak_uv, abs(offset)
        return Twitch(peak, onset, end, peak_uv, c.noise_uv, interval)

    def _at_raw_peaks(self, events: list[Twitch | Rejected], twitches: list[int]) -> None:
        """Candidates live in the causally filtered signal's time; each twitch (events[k] for k in `twitches`) is
        placed at its peak in the recording (Features.raw_peaks, all of them at once), onset and end moved with
        it, in place."""
        found = [e for e in (events[k] for k in twitches) if isinstance(e, Twitch)]
        raws = self.features.raw_peaks([(t.peak_index, t.onset_index, t.end_index,
                                         t.doublet_interval_samples is not None) for t in found])
        for k, t, raw in zip(twitches, found, raws, strict=True):
            if raw is not None:
                shift = raw - t.peak_index
                # not dataclasses.replace: a tenth of its time
                events[k] = Twitch(raw, min(t.onset_index + shift, raw), max(t.end_index + shift, raw), t.peak_uv,
                                   t.noise_uv, t.doublet_interval_samples)

    # -- what the rules ask ---------------------------------------------------------
    def between(self, lo: int, hi: int) -> tuple[int, int]:
        """Indices [a, b) of the candidates whose peak lies in [lo, hi]."""
        return bisect.bisect_left(self.peaks, lo), bisect.bisect_right(self.peaks, hi)

    def artifact_reason(self, c: Candidate) -> Reason | None:
        cfg = self.config
        return rules.artifact_reason(c, cfg.baseline_ratio, cfg.baseline_min_sigma * c.noise_uv)

    def looks_like_artifact(self, c: Candidate) -> bool:
        if c.reason is not None:
            return c.reason in ARTIFACTS
        self.features.measure(c, self.processed)
        return self.artifact_reason(c) is not None

    def count_neighbours(self, first: int, due: int) -> None:
        """For the dense-firing rule, candidates first..due-1 at once: how many others within busy_window_s
        (centred), no echo, at least 1 / busy_ratio of its peak."""
        self._decided_from = first
        if due <= first:
            return
        arrays = self.arrays
        half = self.counts.busy_half
        peaks, amps = arrays.peak_index[first:due], arrays.peak_uv[first:due]
        lo = np.searchsorted(arrays.peak_index, peaks - half, side="left")
        hi = np.searchsorted(arrays.peak_index, peaks + half, side="right")
        other, offsets = streaming.ranges(lo, hi)  # each window holds its own candidate: never empty
        lengths = hi - lo
        counted = ~arrays.echo[other] & (arrays.peak_uv[other] >= np.repeat(amps / self.config.busy_ratio, lengths))
        others = other != np.repeat(np.arange(first, due), lengths)
        counted &= others
        self._neighbours = np.add.reduceat(counted.astype(np.intp), offsets)
        # The largest other candidate (no echo) in each window, for stands_out.
        sizes = np.where(others & ~arrays.echo[other], arrays.peak_uv[other], 0.0)
        self._largest_neighbour = np.maximum.reduceat(sizes, offsets)

    def stands_out(self, i: int) -> bool:
        """Is candidate i (one of those being decided) busy_outlier_ratio times larger than every other within
        busy_window_s? Then it is not part of their firing, however many they are."""
        own = self.arrays.peak_uv[i]
        return bool(own >= self.config.busy_outlier_ratio * self._largest_neighbour[i - self._decided_from])

    def neighbours(self, i: int) -> int:
        """count_neighbours' count for candidate i (one of those being decided)."""
        return int(self._neighbours[i - self._decided_from])

    def near_burst(self, i: int) -> bool:
        """Within the guards of a short burst (a candidate too long or with too many potentials for a twitch,
        itself no artifact, no heart beat, no pair of discharges run together)?"""
        cands, counts = self.candidates, self.counts
        at = cands[i].peak_index
        bursts = self.burst_peaks  # few: most windows hold none
        a = bisect.bisect_left(bursts, at - counts.guard - counts.max_duration)
        b = bisect.bisect_right(bursts, at + counts.pre_guard + counts.max_duration)
        for k in (bisect.bisect_left(self.peaks, p) for p in bursts[a:b]):
            n = cands[k]
            if (k != i and n.onset_index - counts.pre_guard <= at <= n.end_index + counts.guard
                    and not self.looks_like_artifact(n) and not self._heart_beat(k)
                    and (n.potentials >= self.config.burst_min_potentials or not self.features.two_discharges(n))):
                return True
        return False

    def discharges_before(self, i: int) -> list[Candidate]:
        """The candidates within continual_isi_ms before candidate i that could be a unit's discharges."""
        at = self.peaks[i]
        a, _ = self.between(at - self.counts.isi, at)
        return [p for p in self.candidates[a:i] if p.reason not in NOT_DISCHARGES]

    def continual(self, i: int) -> bool:
        """Same-unit discharges within continual_isi_ms on both sides of candidate i (its doublet second, found
        on the way and noted in the candidate, counting with it)?"""
        cfg, counts = self.config, self.counts
        c = self.candidates[i]
        at = c.peak_index

        def same_unit(n: Candidate) -> bool:
            return rules.comparable(n.peak_uv, c.peak_uv, cfg.same_unit_ratio)

        _, b = self.between(at, at + counts.doublet[1] + counts.isi)
        later = [n for n in self.candidates[i + 1 : b] if same_unit(n) and not self.looks_like_artifact(n)]
        second = next((n for n in later if counts.doublet[0] <= n.peak_index - at <= counts.doublet[1]
                       and self.features.same_shape(c, n)), None)
        if second is not None:
            c.doublet_interval_samples = second.peak_index - at
            after = [n for n in later if n.peak_index > second.peak_index]
            last_of_discharge = second.peak_index
        else:
            after = later
            last_of_discharge = at
        prev = [p for p in self.discharges_before(i) if same_unit(p)]
        before_isi = at - prev[-1].peak_index if prev else None
        after_isi = after[0].peak_index - last_of_discharge if after else None
        if before_isi is not None and after_isi is not None and before_isi <= counts.isi and after_isi <= counts.isi:
            c.doublet_interval_samples = None
            return True
        return False

    def beside_heart_beat(self, i: int) -> bool:
        """Within ecg_complex_ms of a larger ECG-like candidate?"""
        cands = self.candidates
        c = cands[i]
        a, b = self.between(c.peak_index - self.counts.ecg_complex, c.peak_index + self.counts.ecg_complex)
        for k in range(a, b):
            n = cands[k]
            if k != i and n.peak_uv >= c.peak_uv and (
                    n.reason == Reason.ECG if k < i else (n.reason is None and self.ecg(k))):
                return True
        return False

    def _below_some_ringing(self, peaks: np.ndarray, sizes: np.ndarray) -> np.ndarray:
        """For new candidates (peaks and sizes, held in self.peaks after all older ones): is each below the
        decaying ringing of some earlier candidate, echo or not (a superset of `_under_ringing`)?"""
        all_peaks = np.concatenate((self.arrays.peak_index, peaks))
        all_sizes = np.concatenate((self.arrays.peak_uv, sizes))
        lo = np.searchsorted(all_peaks, peaks - self.counts.echo, side="left")
        hi = np.searchsorted(all_peaks, peaks, side="left")  # the earlier ones: delay > 0
        lengths = hi - lo
        below = np.zeros(len(peaks), dtype=bool)
        some = lengths > 0
        if not some.any():
            return below
        earlier, offsets = streaming.ranges(lo[some], hi[some])
        delay = np.repeat(peaks[some], lengths[some]) - all_peaks[earlier]
        ringing = self.config.echo_ratio * all_sizes[earlier] * np.exp(-delay / self.counts.echo_decay)
        # A hair of slack: the exact test computes the same bound with math.exp.
        below[some] = sizes[some] < np.maximum.reduceat(ringing, offsets) * (1 + 1e-9)
        return below

    def _under_ringing(self, n: Candidate) -> bool:
        """A much smaller peak after a larger one (itself no echo; found before it), below its decaying ringing."""
        ratio = self.config.echo_ratio
        cands = self.candidates
        for k in range(bisect.bisect_left(self.peaks, n.peak_index - self.counts.echo), len(cands)):
            p = cands[k]
            delay = n.peak_index - p.peak_index
            if delay > 0 and not p.echo and n.peak_uv < ratio * p.peak_uv * math.exp(-delay / self.counts.echo_decay):
                return True
        return False

    def _heart_beat(self, k: int) -> bool:
        c = self.candidates[k]
        return c.reason == Reason.ECG if k < self.decided else self.ecg(k)

    def ecg(self, i: int) -> bool:
        """Is candidate i one of an ECG-like train (rules.ecg_chain over the candidates of similar size)?"""
        cfg = self.config
        at = self.peaks[i]
        arrays = self.arrays
        ratio, own = cfg.ecg_amplitude_ratio, float(arrays.peak_uv[i])
        # No comparable candidate (rules.comparable; echoes and doublet seconds already decided are no beats) a
        # heart beat's interval away: no chain of any length starts here (most candidates). The few in those two
        # windows, in Python: cheaper than numpy on them.
        lo, hi = self.counts.ecg_intervals
        steps = (*range(*self.between(at - hi, at - lo)), *range(*self.between(at + lo, at + hi)))
        if not any(max(amp, own) <= ratio * min(amp, own) and not arrays.excluded[k]
                   for k in steps for amp in (float(arrays.peak_uv[k]),)):
            return False
        a, b = self.between(at - self.counts.ecg_reach, at + self.counts.ecg_reach)
        amps = arrays.peak_uv[a:b]
        # rules.comparable with this one, for all at once
        similar = (np.maximum(amps, own) <= ratio * np.minimum(amps, own)) & ~arrays.excluded[a:b]
        similar[i - a] = False
        peaks = arrays.peak_index[a:b][similar].tolist()
        if rules.ecg_chain(at, peaks, cfg.ecg_min_beats, *self.counts.ecg_intervals, cfg.ecg_tolerance):
            return True
        short = cfg.ecg_short_min_beats
        if short >= cfg.ecg_min_beats:
            return False
        reach = round((short - 1) * self.counts.ecg_intervals[1] * (1 + cfg.ecg_short_tolerance))
        peaks = peaks[bisect.bisect_left(peaks, at - reach) : bisect.bisect_right(peaks, at + reach)]
        if not rules.ecg_chain(at, peaks, short, *self.counts.ecg_intervals, cfg.ecg_short_tolerance):
            return False
        # A short chain by rhythm and size: it counts if its beats are one shape (few candidates get here).
        half = self.counts.ecg_complex  # the whole QRS complex, its lobes free to shift by half a complex
        same = self.features.complexes_alike(at, peaks, half, half // 2, cfg.ecg_short_similarity)
        return rules.ecg_chain(at, same, short, *self.counts.ecg_intervals, cfg.ecg_short_tolerance)
