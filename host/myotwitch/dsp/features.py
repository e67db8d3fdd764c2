"""What the rules ask of a candidate's signal: the raw signal's shape around it (baseline swing, largest
step, clipping), measured once its context is in, and whether two potentials look alike (one motor unit
firing twice), in separate candidates or in one run."""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence

import numpy as np

from myotwitch.dsp import streaming
from myotwitch.dsp.candidates import Candidate
from myotwitch.dsp.config import DetectorConfig, SampleCounts
from myotwitch.dsp.filters import sosfilt
from myotwitch.dsp.repeat import RepeatTest

_CLEARLY_LARGER = 1.2  # see Features.raw_peaks


class Features:
    """Reads the raw and filtered signal back from the detector's rings."""

    def __init__(self, config: DetectorConfig, counts: SampleCounts, ring_y: streaming.Ring,
                 ring_raw: streaming.Ring, rate_hz: float | None = None) -> None:
        self._config = config
        self._counts = counts
        self._rate_hz = rate_hz  # for the doublet's repeat test (None: not run)
        self._repeat: RepeatTest | None = None
        self._ring_y = ring_y
        self._ring_raw = ring_raw
        # The moving averages giving the signal below the EMG band (see TwitchDetector): mains periods added
        # once the mains frequency is known.
        self.baseline_windows: tuple[int, ...] = (counts.baseline_window,)
        # The conditioning filter (band-pass and mains notches), for the zero-phase view of `raw_peak`; set
        # with the mains frequency.
        self.sos: np.ndarray | None = None
        # Where the stream stopped before a gap (absolute indices, ascending): nothing after one belongs with
        # the signal before it.
        self.stream_ends: list[int] = []

    def raw_peaks(self, twitches: list[tuple[int, int, int, bool]]) -> list[int | None]:
        """Where potentials peak in the recording, for (peak, onset, end, stay) of each, all at once.

        The causal filter delays a potential (group delay, about 4 ms, more for slow phases) and can move its
        largest phase: the filtered signal run back through the band-pass (`sos`), from 20 ms after the
        potential, cancels the band-pass's phase (the notches in front shift little beyond their 2 Hz). That
        view is matched against the causally filtered potential [onset, end] (at most max_duration_ms) at lags
        up to 10 ms; the peak is the view's largest |sample| within 1 ms of the causal peak moved back by the
        best lag, or over the whole stretch so moved if that is 1.2 times larger (the causal filter's 20 Hz edge
        can make a broad potential's side phase its largest); not with `stay` (a doublet's first, whose stretch
        holds part of the second). The view is smoothed by [1, 2, 1] / 4 (zero phase) for the search: at 1 kHz
        noise moved the top of a broad phase by 2 ms. Where the stream ends (its end, or a gap) less than 20 ms
        after the potential, the backward pass starts there (the signal after it taken as zero). None where the
        ring no longer holds the potential."""
        out: list[int | None] = [None] * len(twitches)
        if self.sos is None or not twitches:
            return out
        counts, ring = self._counts, self._ring_y
        max_lag = counts.merge + counts.merge // 4  # 10 ms
        near = max(1, round(counts.merge / 8))  # 1 ms
        length = counts.max_duration + 1
        width = max_lag + length + 2 * max_lag  # the backward pass starts 20 ms after: its start-up is over by then
        table = np.array(twitches, dtype=np.intp)
        peak, onset, end, stay = table[:, 0], table[:, 1], table[:, 2], table[:, 3].astype(bool)
        starts = onset - max_lag
        held_from = max(ring.end - ring.size, 0)
        del self.stream_ends[: bisect.bisect_left(self.stream_ends, held_from)]  # ends the ring no longer holds
        # The stream's end after each potential: the first gap after its onset, else what the ring holds so far.
        limits: np.ndarray | int = ring.end
        if self.stream_ends:
            ends = np.array([*self.stream_ends, ring.end], dtype=np.intp)
            limits = np.minimum(ends[np.searchsorted(ends, onset, side="right").clip(max=len(ends) - 1)], ring.end)
        held = (starts >= held_from) & (end + 1 <= limits)
        rows = np.arange(len(table))
        if not held.all():
            rows = np.flatnonzero(held)
            if not len(rows):
                return out
            peak, onset, end, stay, starts = peak[rows], onset[rows], end[rows], stay[rows], starts[rows]
            if isinstance(limits, np.ndarray):
                limits = limits[rows]
        y = ring.rows(starts, width)
        if (starts + width > limits).any():
            at = starts[:, None] + np.arange(width)
            y[at >= (limits[:, None] if isinstance(limits, np.ndarray) else limits)] = 0.0
        row = np.arange(len(rows))[:, None]
        view = sosfilt(self.sos, y[:, ::-1])[0][:, ::-1]  # view[m, k]: sample starts[m] + k
        n = np.minimum(end + 1 - onset, length)
        inside = np.arange(length) < n[:, None]
        own = np.where(inside, y[:, max_lag : max_lag + length], 0.0)
        # Lag L: the view from onset - L, at offset max_lag - L of each row.
        windows = streaming.windows(view[:, : max_lag + length], length)
        lag = max_lag - np.argmax(np.einsum("mjl,ml->mj", windows, own), axis=1)
        padded = np.zeros((len(rows), width + 2))
        padded[:, 1:-1] = view
        smooth = np.abs(0.25 * padded[:, :-2] + 0.5 * padded[:, 1:-1] + 0.25 * padded[:, 2:])
        free = np.where(inside, smooth[row, (max_lag - lag)[:, None] + np.arange(length)], -1.0)
        largest = np.argmax(free, axis=1)
        centre = peak - lag - starts  # the causal peak moved back, in the row
        around = smooth[row, (centre[:, None] + np.arange(-near, near + 1)).clip(0, width - 1)]
        kept = np.argmax(around, axis=1)
        # Another phase only if clearly larger: of a symmetric biphasic potential either phase is the peak, and
        # the one the causal filter chose keeps twitches of one unit on the same phase.
        move = ~stay & (free[row[:, 0], largest] >= _CLEARLY_LARGER * around[row[:, 0], kept])
        found = np.where(move, onset - lag + largest, peak - lag - near + kept)
        for m, k in enumerate(rows.tolist()):
            out[k] = int(found[m])
        return out

    def measure_batch(self, batch: list[Candidate], processed: int) -> None:
        """`measure` for candidates about to be decided, the numpy work done once for all of them.

        The same figures as one by one (the baseline's to rounding: its running
        sums start elsewhere); the clipping test runs only where the raw signal
        holds a run of equal values long enough to be clipped."""
        ctx = self._counts.feature_ctx
        todo = [c for c in batch if not c.features_final and not c.echo and c.end_index + ctx + 1 <= processed]
        if len(todo) < 2:
            return
        reach = sum(self.baseline_windows)
        lo, hi = min(c.onset_index for c in todo) - ctx - reach, max(c.end_index for c in todo) + ctx + 1
        if self._ring_raw.span(lo, hi) != (lo, hi):
            return  # part of it is gone: one by one, as far as the ring still reaches
        raw = self._ring_raw.read(lo, hi)
        swings = self._baseline_swings(raw, lo, todo)
        # Where could a clipped run be: clip_run equal values in a row, raw[j] to raw[j + r] (j in held_from).
        r = self._counts.clip_run - 1
        equal_next = np.flatnonzero(raw[1:] == raw[:-1])  # raw[k + 1] == raw[k]: rare in a live signal
        # raw[j..j+r] all equal: j, ..., j+r-1 all in equal_next. Fewer than r equal pairs hold no run (a slice
        # to a negative end would count from the back instead).
        firsts = equal_next[: max(0, len(equal_next) - r + 1)]
        held_from = firsts[equal_next[r - 1 :] - firsts == r - 1].tolist()
        clip_run = self._counts.clip_run
        for c, swing in zip(todo, swings, strict=True):
            c.baseline_swing_uv = swing
            c.features_final = True
            self._measure_jump(c)
            a, b = c.onset_index - lo, c.end_index + 1 - lo  # the candidate in raw
            if (held_from and b - a >= clip_run
                    and bisect.bisect_left(held_from, b - r) > bisect.bisect_left(held_from, a)):
                c.clipped = bool(streaming.clip_mask(raw[a:b], clip_run).any())
            else:
                c.clipped = False

    def _baseline_swings(self, raw: np.ndarray, lo: int, todo: list[Candidate]) -> list[float]:
        """The range of the baseline (the low-passed raw signal, `raw` from absolute index `lo`) within
        feature_ctx of each candidate, as `measure` finds it. The moving averages run only over the candidates'
        stretches (overlapping ones merged), end to end: between candidates they are not needed, and their
        running sums, one addition after another, were most of the batch's time. Each stretch's averages read
        only its own samples (the sums across a join are never used)."""
        ctx, reach = self._counts.feature_ctx, sum(self.baseline_windows)
        firsts = np.array([c.onset_index for c in todo]) - (ctx + reach + lo)  # the samples each needs, in raw
        ends = np.array([c.end_index for c in todo]) + (ctx + 1 - lo)
        stretch_lo, stretch_hi = streaming.covering(firsts, ends)
        offsets = np.concatenate(([0], np.cumsum(stretch_hi - stretch_lo)[:-1]))  # where each starts, end to end
        kept = np.concatenate([raw[a:b] for a, b in zip(stretch_lo.tolist(), stretch_hi.tolist(), strict=True)])
        base = streaming.low_passed(kept, self.baseline_windows)  # base[k]: the baseline at kept[k + reach]
        # Each candidate's stretch, moved to where it is in `kept`; the baseline from `reach` samples in.
        shift = (offsets - stretch_lo)[np.searchsorted(stretch_lo, firsts, side="right") - 1]
        bounds = np.empty(2 * len(todo), dtype=np.intp)
        bounds[0::2], bounds[1::2] = firsts + shift, ends + shift - reach
        padded = np.append(base, 0.0)  # reduceat wants every bound inside the array; the pad is never in a range
        return (np.maximum.reduceat(padded, bounds)[0::2] - np.minimum.reduceat(padded, bounds)[0::2]).tolist()

    def _measure_jump(self, c: Candidate) -> None:
        """The largest sample-to-sample step of the raw signal: only a moving baseline needs telling pop from motion."""
        if c.baseline_swing_uv > 0.5 * self._config.baseline_min_sigma * c.noise_uv:
            around = self._ring_raw.read(c.onset_index - self._counts.merge, c.end_index + 1)
            if len(around) > 1:
                c.max_jump_uv = float(np.abs(np.diff(around)).max())

    def measure(self, c: Candidate, processed: int) -> None:
        """The raw signal's shape around a candidate, for the artifact rules; measured once its context is in."""
        if c.features_final:
            return
        ctx = self._counts.feature_ctx
        c.features_final = c.end_index + ctx + 1 <= processed
        reach = sum(self.baseline_windows)
        raw_ctx = self._ring_raw.read(c.onset_index - ctx - reach, c.end_index + ctx + 1)
        if len(raw_ctx) > reach:
            base = streaming.low_passed(raw_ctx, self.baseline_windows)
            c.baseline_swing_uv = float(base.max() - base.min())
        self._measure_jump(c)
        raw = self._ring_raw.read(c.onset_index, c.end_index + 1)
        if len(raw) >= self._counts.clip_run:
            c.clipped = bool(streaming.clip_mask(raw, self._counts.clip_run).any())

    def core_samples(self, c: Candidate) -> int:
        """The shortest stretch of the candidate's filtered signal [onset, end] holding energy_core_share of its
        energy: its duration relative to itself, the same at any size (0 if the ring no longer holds it)."""
        y = self._ring_y.read(c.onset_index, c.end_index + 1)
        if len(y) != c.end_index + 1 - c.onset_index:
            return 0
        energy = np.concatenate(([0.0], np.cumsum(y * y)))
        want = self._config.energy_core_share * energy[-1]
        # For each start, the first end reaching the share: the shortest such [start, end).
        ends = np.searchsorted(energy, energy[:-1] + want, side="left")
        fits = ends < len(energy)
        return int((ends[fits] - np.flatnonzero(fits)).min()) if fits.any() else len(y)

    def snippet_at(self, index: int) -> np.ndarray:
        """The filtered signal around a peak, with room for the lags `similar` tries (empty if not all held)."""
        reach = self._counts.shape_half + self._counts.shape_lag
        y = self._ring_y.read(index - reach, index + reach + 1)
        return y.copy() if len(y) == 2 * reach + 1 else np.empty(0)

    def snippet(self, c: Candidate) -> np.ndarray:
        if c.snippet is None:
            c.snippet = self.snippet_at(c.peak_index)
        return c.snippet

    def same_shape(self, a: Candidate, b: Candidate) -> bool:
        """Do two potentials look alike (one motor unit firing twice)? Not enough signal to tell: amplitude
        alone decides (True)."""
        return self.similar(self.snippet(a), self.snippet(b)) is not False

    def similar(self, sa: np.ndarray, sb: np.ndarray, threshold: float | None = None, half: int | None = None,
                lag: int | None = None) -> bool | None:
        """Correlation of two snippets (2 x (half + lag) + 1 samples; shape_half_ms and shape_lag_ms unless
        given) at the best small lag reaches `threshold` (same_unit_similarity unless given); None if one is
        empty."""
        if not len(sa) or not len(sb):
            return None
        h = self._counts.shape_half if half is None else half
        lag = self._counts.shape_lag if lag is None else lag
        width = 2 * h + 1
        # The means as ndarray.mean computes them (a sum, then a division), without its Python wrapper; each
        # lag's window copied out by one index (a contiguous copy, which centring made anyway).
        core = sa[lag : lag + width]
        core = core - np.add.reduce(core) / width
        others = sb[_lag_rows(len(sb) - width + 1, width)]  # one row per lag
        others -= np.add.reduce(others, axis=1, keepdims=True) / width
        denom = np.sqrt(np.dot(core, core) * np.einsum("ij,ij->i", others, others))
        fit = denom > 0
        return bool(fit.any()) and float((others[fit] @ core / denom[fit]).max()) >= (
            self._config.same_unit_similarity if threshold is None else threshold)

    def complexes_alike(self, at_index: int, others: list[int], half: int, lag: int,
                        threshold: float) -> list[int]:
        """The peaks among `others` whose stretch of the filtered signal (+/- `half` samples) correlates with
        the one around `at_index` at least `threshold`, at some lag within +/- `lag`: for broad complexes (heart
        beats), whose filtered peak can fall on either of two similar lobes (wider than `similar`'s view). All
        at once; none if the ring no longer holds the stretch around `at_index`, and not those it no longer
        holds around."""
        ring = self._ring_y
        lo = max(ring.end - ring.size, 0)
        if not others or at_index - half < lo or at_index + half + 1 > ring.end:
            return []
        core = ring.read(at_index - half, at_index + half + 1)
        core = core - core.mean()
        peaks = np.array(others)
        held = (peaks - half - lag >= lo) & (peaks + half + lag + 1 <= ring.end)
        peaks = peaks[held]
        if not len(peaks):
            return []
        rows = ring.rows(peaks - half - lag, 2 * (half + lag) + 1)
        # Each window's mean and centred energy from running sums along the row, not by centring a copy of every
        # window (peaks x lags x samples): the same correlation to rounding, a fifth of the time.
        n = 2 * half + 1
        sums = np.zeros((len(peaks), rows.shape[1] + 1))
        np.cumsum(rows, axis=1, out=sums[:, 1:])
        squares = np.zeros_like(sums)
        np.cumsum(rows * rows, axis=1, out=squares[:, 1:])
        total = sums[:, n:] - sums[:, :-n]  # (peak, lag)
        energy = squares[:, n:] - squares[:, :-n]
        centred = energy - total * total / n
        dots = streaming.windows(rows, n) @ core - total / n * float(core.sum())  # (peak, lag)
        norms = np.sqrt(centred * float(core @ core))
        # A window flat to rounding (centred energy a hair from zero or below) correlates with nothing.
        r = np.divide(dots, norms, out=np.zeros_like(dots), where=centred > 1e-12 * energy)
        return peaks[r.max(axis=1) >= threshold].tolist()

    def two_discharges(self, c: Candidate) -> bool:
        """Is the candidate one unit firing twice, the two potentials too close to be two candidates (they
        overlap or nearly touch)? Another peak of the same sign, size (same_unit_ratio) and shape, a doublet's
        interval from the candidate's peak, in its run, each potential no longer than a twitch."""
        if c.run_to_search is not None:
            c.merged = self._merged_peak(c, *c.run_to_search)
            c.run_to_search = None
        return c.merged is not None

    def _merged_peak(self, c: Candidate, start: int, end: int) -> tuple[int, float] | None:
        """`two_discharges`'s search in the run's filtered samples [start, end): (offset, size) of the other peak."""
        lo, hi = self._counts.doublet
        y = self._ring_y.read(start, end)
        if len(y) != end - start or end - start <= lo:
            return None  # no longer held, or too short for two
        p = c.peak_index - start
        s = y if y[p] > 0 else -y  # the peak's sign up
        turns = np.flatnonzero((s[1:-1] > s[:-2]) & (s[1:-1] >= s[2:])) + 1
        distance = np.abs(turns - p)
        turns = turns[(distance >= lo) & (distance <= hi) & (s[turns] * self._config.same_unit_ratio >= s[p])]
        if not len(turns):
            return None
        order = np.argsort(-s[turns], kind="stable")
        q = int(turns[order[0]])
        if not self._could_be_second(c, q - p, start + q):
            return None
        c.merged_others = tuple((int(k) - p, float(s[k])) for k in turns[order[1:]])
        return q - p, float(s[q])

    def _could_be_second(self, c: Candidate, offset: int, at_index: int) -> bool:
        """Each of two potentials `offset` apart no longer than a twitch, and of one shape."""
        _, onset, last = first_of_two(c, offset)
        if last - onset + 1 > self._counts.max_duration:
            return False  # one potential would be longer than a twitch
        return bool(self.similar(self.snippet(c), self.snippet_at(at_index)))

    def whole_potential_repeated(self, c: Candidate, peers: Sequence[Candidate] = ()) -> bool:
        """Are the candidate's two discharges (`two_discharges`) the whole potential fired twice, not two lobes
        of one potential with the same sign? Not if the doublet model leaves more than doublet_max_misfit times
        what noise leaves and more than doublet_max_misfit_share of the stretch's energy (repeat.RepeatTest).
        The largest other peak may be a lobe of the first potential, and a smaller one its repeat (a polyphasic
        unit firing twice): then the first other peak that passes becomes `merged`. A pair that fits is tested
        again on its average with those of `peers` (candidates near it in time) whose signal has the pair's
        shape, the same unit discharging the same way (`_pooled`). Yes when it cannot be told (the ring no
        longer holds the stretch, or no rate or filter to test with)."""
        if c.merged is None or self._rate_hz is None or self.sos is None:
            return True
        if self._repeat is None:
            self._repeat = RepeatTest(self._rate_hz, self.sos)
        if self._repeats(c, c.merged[0], peers):
            return True
        for offset, size in c.merged_others:
            if self._could_be_second(c, offset, c.peak_index + offset) and self._repeats(c, offset, peers):
                c.merged = (offset, size)
                return True
        return False

    def _repeats(self, c: Candidate, offset: int, peers: Sequence[Candidate]) -> bool:
        assert self._repeat is not None
        first_index, second_index = sorted((c.peak_index, c.peak_index + offset))
        # A potential reaches at most half a twitch's length before its peak; after it, the band-pass's tail
        # (its 20 Hz edge) lasts longer: a large potential's stays above the noise for 20-40 ms.
        before, after = self._counts.max_duration // 2, self._counts.max_duration
        pad = self._counts.merge  # room for the zero-phase low-pass to settle
        lo = first_index - before - pad
        hi = second_index + after + pad + 1
        start, end = self._ring_y.span(lo - self._repeat.background_samples, hi)  # with the signal before it
        if start > lo or end != hi:
            return True
        y = self._ring_y.read(start, end)
        at, second_at, reach = first_index - start, second_index - start, (before, after)
        cfg = self._config
        if not self._repeat.fits(y, at, second_at, c.noise_uv, reach, cfg.doublet_max_misfit,
                                 cfg.doublet_max_misfit_share, background_samples=lo - start):
            return False
        # A doublet alone; and with the unit's like discharges averaged in, against their lesser noise? There
        # the model's own error (the stretch's cut through a doublet's tail, 0.1-0.15 % at 10-20 sigma) stands
        # out of the noise: the share allowed is doublet_pool_max_misfit_share.
        pooled = self._pooled(y, at, second_at - at, (before + pad, after + pad), c.peak_index, first_index,
                              c.noise_uv, peers)
        if pooled is None:
            return True
        average, scale = pooled
        return self._repeat.fits(average, at, second_at, c.noise_uv * scale, reach, cfg.doublet_max_misfit,
                                 cfg.doublet_pool_max_misfit_share, background_samples=lo - start, averaged=True)

    def _pooled(self, y: np.ndarray, at: int, spacing: int, reach: tuple[int, int], peak_index: int,
                first_index: int, noise_uv: float, peers: Sequence[Candidate]) -> tuple[np.ndarray, float] | None:
        """The stretch `y` (its first peak at `at` and `first_index`, the second `spacing` after, the pair
        `reach` before and after them; the candidate's peak `peak_index`) averaged with the same stretch around
        each peer of the same shape: one whose signal around it correlates with the pair's at least
        doublet_pool_similarity at the best lag within the spacing and shape_lag_ms of their peaks, and leaves
        at most doublet_pool_max_residual times what the two stretches' noise would after scaling. Each is
        weighted by its first peak's size (the least-squares estimate of one shape seen at several sizes) and
        the average scaled to `y`'s size; with it, by how much the noise's sigma shrinks. None without a peer.

        One potential with two same-sign lobes and a doublet differ by about 3 noise sigmas in all at 10 sigma
        and 1 kHz (repeat.py): no test of one event tells them apart reliably, but a unit's discharges repeat
        its shape, and n of them averaged have sqrt(n) times less noise. Any mix of doublets of one interval and
        of single discharges (matched to either of a doublet's two) is still a doublet, m + a m(t - d) with
        other m and a: the model is linear. The whole pair is compared, not only the peaks' surroundings: a lobe
        of one potential looks like another, and a peer matched lobe to lobe would be averaged out of step."""
        ring, width, noise_sq = self._ring_y, len(y), noise_uv * noise_uv
        size = float(y[at])
        if size == 0.0:
            return None
        lo, hi = at - reach[0], at + spacing + reach[1] + 1
        core = y[lo:hi] - float(np.mean(y[lo:hi]))
        core_norm = float(np.sqrt(core @ core))
        lags = spacing + self._counts.shape_lag
        total = y * size  # each weighted by its first peak, signed: that peak's sign up, times its size
        sizes_sq, taken = size * size, 0
        for p in peers:
            if p.echo or abs(p.peak_index - peak_index) <= hi - lo + 2 * lags:
                continue  # an echo, itself, or its stretch overlapping this one's (their noise shared)
            start = p.peak_index - (peak_index - first_index) - at - lags
            stop = start + width + 2 * lags
            if ring.span(start, stop) != (start, stop):
                continue
            # A gap in the stream between: not one stretch of signal. (A window starting inside a gap has zeros
            # only where the noise before the pair is measured: a peer is found 0.2 s after the filters restart,
            # farther than its stretch reaches, and the noise is never taken below the floor's.)
            k = bisect.bisect_right(self.stream_ends, start)
            if k < len(self.stream_ends) and self.stream_ends[k] < stop:
                continue
            other = ring.read(start, stop)
            windows = other[_lag_rows(2 * lags + 1, hi - lo) + lo]  # one row per lag
            windows = windows - windows.mean(axis=1, keepdims=True)
            norms = np.sqrt(np.einsum("ij,ij->i", windows, windows)) * core_norm
            r = np.divide(windows @ core, norms, out=np.zeros(len(norms)), where=norms > 0)
            best = int(np.argmax(r))
            # The same shape to within the noise: what is left of this pair's stretch after the peer's, scaled
            # by least squares (g), is no more than the two stretches' noise, (1 + g^2) noise_sq a sample.
            gain = float(windows[best] @ core) / max(float(windows[best] @ windows[best]), 1e-300)
            residual = core_norm * core_norm * (1.0 - float(r[best]) ** 2)
            allowed = self._config.doublet_pool_max_residual * (hi - lo) * noise_sq * (1.0 + gain * gain)
            if r[best] < self._config.doublet_pool_similarity or residual > allowed:
                continue
            other = other[best : best + width]
            peak = float(other[at])
            total = total + other * peak
            sizes_sq += peak * peak
            taken += 1
        if not taken:
            return None
        return total * (size / sizes_sq), abs(size) / float(np.sqrt(sizes_sq))


@functools.lru_cache(maxsize=16)
def _lag_rows(lags: int, width: int) -> np.ndarray:
    """Indices of `lags` windows of `width` samples, each one sample after the last (read-only: shared)."""
    rows = np.arange(lags)[:, None] + np.arange(width)
    rows.flags.writeable = False
    return rows


def first_of_two(c: Candidate, offset: int) -> tuple[int, int, int]:
    """Peak, onset and end of the first of two potentials of one unit, `offset` samples apart (the other
    peak from the candidate's): both have the same shape. The candidate's onset and end span both if the
    other peak lies between them, else only the candidate's own potential."""
    if c.onset_index <= c.peak_index + offset <= c.end_index:
        return min(c.peak_index, c.peak_index + offset), c.onset_index, c.end_index - abs(offset)
    shift = min(offset, 0)
    return c.peak_index + shift, c.onset_index + shift, c.end_index + shift
