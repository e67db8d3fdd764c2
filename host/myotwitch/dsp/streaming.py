"""Array helpers of the streaming detector: rings addressed by absolute index, moving sums carried across
blocks, runs of a mask. Pure numpy; no state beyond what each class carries between blocks."""

from __future__ import annotations

import numpy as np


def windows(a: np.ndarray, length: int) -> np.ndarray:
    """np.lib.stride_tricks.sliding_window_view(a, length, axis=-1): the same read-only view, for a fraction of
    its cost (it checks and normalises its arguments in Python: a third of a short call's time)."""
    *lead, n = a.shape
    return np.lib.stride_tricks.as_strided(a, shape=(*lead, n - length + 1, length),
                                           strides=(*a.strides, a.strides[-1]), writeable=False)


class Ring:
    """The last `size` samples of a stream, addressed by absolute index."""

    def __init__(self, size: int) -> None:
        self.buf = np.zeros(size)
        self.size = size
        self.end = 0  # absolute index after the last sample written

    def write(self, start: int, values: np.ndarray) -> None:
        """Samples from `start`; indices skipped since the last write (a gap in the stream) read as zeros, not
        as what their slots held a ring length earlier."""
        if start > self.end:
            skipped = min(start - self.end, self.size)
            pos = (start - skipped) % self.size
            first = min(skipped, self.size - pos)
            self.buf[pos : pos + first] = 0.0
            self.buf[: skipped - first] = 0.0
        if len(values) >= self.size:
            start, values = start + len(values) - self.size, values[-self.size :]
        pos = start % self.size
        first = min(len(values), self.size - pos)
        self.buf[pos : pos + first] = values[:first]
        self.buf[: len(values) - first] = values[first:]
        self.end = start + len(values)

    def span(self, a: int, b: int) -> tuple[int, int]:
        """[a, b) cut to what the ring still holds."""
        return max(a, self.end - self.size, 0), min(b, self.end)

    def rows(self, starts: np.ndarray, width: int) -> np.ndarray:
        """`width` samples from each absolute index in `starts` (width <= size), one row each, as held: in one
        pass. The starts are taken modulo the size first: np.take's "wrap" mode subtracts the size until an
        index fits, a step per ring length, so absolute indices made a read cost grow with the stream's
        position (10 hours in, 1,800 steps a sample: a 10-hour file's analysis took a quarter longer an hour)."""
        at = (starts % self.size)[:, None] + np.arange(width)  # below 2 x size: one step at most
        return np.take(self.buf, at, mode="wrap")

    def read(self, a: int, b: int) -> np.ndarray:
        a, b = self.span(a, b)
        if b <= a:
            return np.empty(0)
        pa, pb = a % self.size, b % self.size
        if pa < pb:
            return self.buf[pa:pb]
        return np.concatenate((self.buf[pa:], self.buf[:pb]))


class MovingSquares:
    """Sums of x**2 over the last w samples, for several windows w, carried across blocks.

    The RMS over w is sqrt(sum / w); the thresholds are compared with the sums
    (threshold squared times w), so the RMS itself is computed only where it is reported."""

    def __init__(self, windows: tuple[int, ...]) -> None:
        self.windows = tuple(max(1, w) for w in windows)
        self._keep = max(self.windows) - 1
        self.reset()

    def reset(self) -> None:
        self._tail = np.zeros(self._keep)

    def process(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        keep, n = self._keep, len(x)
        sq = np.empty(keep + n)
        sq[:keep] = self._tail
        np.multiply(x, x, out=sq[keep:])
        c = np.empty(keep + n + 1)
        c[0] = 0.0
        np.cumsum(sq, out=c[1:])
        if keep:
            self._tail = sq[n:].copy()
        return tuple(c[keep + 1 :] - c[keep + 1 - w : len(c) - w] for w in self.windows)


def rms(sums: np.ndarray, window: int) -> np.ndarray:
    """The RMS from `MovingSquares` sums over `window` samples (a sum a rounding error below zero is zero)."""
    return np.sqrt(np.maximum(sums / window, 0.0))


def first(mask: np.ndarray, i: int, value: bool) -> int:
    """Index of the first element equal to `value` from i on, or len(mask); stops there (argmax on booleans)."""
    rest = mask[i:]
    if not len(rest):
        return len(mask)
    k = int(rest.argmax() if value else rest.argmin())
    return i + k if rest[k] == value else len(mask)


def medians(a: np.ndarray, in_place: bool = False) -> np.ndarray:
    """Median along the last axis, by one partition: np.median, or a partition at the two middle ranks, costs
    several times more (measured: 6x on 0.5 s windows at 2 kHz). Of an even count, the lower middle value is
    the largest of the lower half. `in_place`: `a` is partitioned itself (its values reordered along the last
    axis), not a copy of it: np.partition copies, then partitions the copy the same way."""
    n = a.shape[-1]
    half = n // 2
    if in_place:
        a.partition(half, axis=-1)
        part = a
    else:
        part = np.partition(a, half, axis=-1)
    return part[..., half] if n % 2 else 0.5 * (part[..., :half].max(axis=-1) + part[..., half])


def low_passed(raw: np.ndarray, windows: tuple[int, ...]) -> np.ndarray:
    """Moving averages in cascade (the signal below the EMG band): output k is the baseline at
    raw[k + sum(windows)], every average ending there; len(raw) - sum(windows) values."""
    base = raw
    for w in windows:
        sums = np.cumsum(base)
        base = (sums[w:] - sums[:-w]) / w
    return base


def ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The indices of the ranges [lo[k], hi[k]) end to end, and where each range starts among them."""
    lengths = hi - lo
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return np.arange(int(lengths.sum())) + np.repeat(lo - offsets, lengths), offsets


def covering(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The union of the ranges [starts[k], ends[k]) (each non-empty, in any order) as disjoint ranges, ascending;
    ranges that overlap or touch become one. None given: none."""
    if not len(starts):
        return starts[:0].copy(), ends[:0].copy()
    order = np.argsort(starts, kind="stable")
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)  # the furthest any range so far goes
    opens = np.empty(len(starts), dtype=bool)
    opens[:1] = True
    opens[1:] = starts[1:] > reach[:-1]
    first = np.flatnonzero(opens)
    return starts[first], reach[np.append(first[1:] - 1, len(starts) - 1)]


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and (exclusive) ends of the True runs of a boolean array."""
    if not len(mask):
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    changes = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    rising = mask[changes]
    starts, ends = changes[rising], changes[~rising]
    if mask[0]:
        starts = np.concatenate(([0], starts))
    if mask[-1]:
        ends = np.append(ends, len(mask))
    return starts, ends


def clip_mask(raw: np.ndarray, run_samples: int) -> np.ndarray:
    """Samples held at the highest or lowest value of `raw` for clip_run or longer: the ADC's rails."""
    mask = np.zeros(len(raw), dtype=bool)
    for extreme in (raw.max(), raw.min()):
        at = raw == extreme
        if np.count_nonzero(at) < run_samples:
            continue  # not held long enough anywhere
        starts, ends = runs(at)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            if e - s >= run_samples:
                mask[s:e] = True
    return mask


class RailRuns:
    """Samples held at the stream's rails, block by block: runs of one value at the highest or lowest value of
    the whole stream so far, `run_samples` long or longer.

    The stream's extremes, not a block's: in short blocks (live frames) two equal quantized samples are often
    the block's top by chance, while the ADC's rails are the extremes of everything. `counts` says how many
    clipped samples each sample adds: a run's first run_samples at the sample where it reaches that length, then
    one each. So every sample of a clipped run is counted, causally and carried across blocks: the counts do
    not depend on how the stream is cut."""

    def __init__(self, run_samples: int) -> None:
        self.run_samples = run_samples
        self._high = -np.inf
        self._low = np.inf
        self._last = np.nan
        self._run = 0  # length of the run at an extreme ending at the last sample

    def restart(self) -> None:
        """A gap: a run does not continue over it (the extremes, the rails, stay)."""
        self._last, self._run = np.nan, 0

    def counts(self, raw: np.ndarray) -> np.ndarray:
        found = self.counts_if_any(raw)
        return np.zeros(len(raw), dtype=np.intp) if found is None else found

    def counts_if_any(self, raw: np.ndarray) -> np.ndarray | None:
        """`counts`, or None in the usual case: no sample at the extremes so far and no run going on (every count
        zero, and no array made for them)."""
        n = len(raw)
        if not n:
            return None
        if self._run == 0 and self._low < raw.min() and raw.max() < self._high:
            self._last = float(raw[-1])
            return None
        high = np.maximum(np.maximum.accumulate(raw), self._high)
        low = np.minimum(np.minimum.accumulate(raw), self._low)
        at = (raw == high) | (raw == low)
        before = np.empty(n)
        before[0], before[1:] = self._last, raw[:-1]
        at_before = np.empty(n, dtype=bool)
        at_before[0], at_before[1:] = self._run > 0, at[:-1]
        goes_on = at & at_before & (raw == before)
        index = np.arange(n)
        last_start = np.maximum.accumulate(np.where(goes_on, -1, index))
        run = np.where(last_start >= 0, index - last_start + 1, index + 1 + self._run)
        run[~at] = 0
        self._high, self._low, self._last, self._run = float(high[-1]), float(low[-1]), float(raw[-1]), int(run[-1])
        return np.where(run == self.run_samples, self.run_samples, (run > self.run_samples).astype(np.intp))
