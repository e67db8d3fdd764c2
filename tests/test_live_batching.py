"""A live session hands the detector and the recorder ~0.25 s at a time and the view every block at once.

The reason: at 2 kHz a board sends a frame every 25 ms, and waking the
detector, the recorder's flush and the log's commit for each one cost most of
the host's CPU in real time. The rule's guarantees: every sample still goes
through, in order, never across a gap; events are the ones per-block feeding
finds, in the same order; a mark follows the samples it was placed after;
samples held when the stream stops are kept; and nothing waits more than
about a batch. The sessions here run on a fake clock, paced like a board.
"""

from __future__ import annotations

import numpy as np
import pytest
from myotwitch.events import Gap, Mark, StreamNote
from myotwitch.live.batching import BATCH_S, BlockBatcher
from myotwitch.live.session import Session, SessionOptions
from myotwitch.monitor import Monitor
from myotwitch.recorder import SAMPLES_F32, SessionRecorder
from myotwitch.sources import SampleBlock
from myotwitch.sources.replay import ReplayBoard
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

RATE_HZ = 2000.0
FRAME_SAMPLES = 50  # a board's frame at 2 kHz: 25 ms


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


class CountingMonitor(Monitor):
    """A Monitor that notes each block it is fed, and when (on the session's clock)."""

    def __init__(self, rate_hz: float, clock: FakeClock) -> None:
        super().__init__(rate_hz)
        self.fed: list[tuple[int, int, int, float]] = []  # start_index, samples, lost_before, clock
        self._fake_clock = clock

    def feed(self, block: SampleBlock):
        self.fed.append((block.start_index, len(block.samples_uv), block.lost_before, self._fake_clock()))
        return super().feed(block)


class Blocks:
    """A Source of given blocks (a gap where one has lost_before), noting when each was handed out."""

    rate_hz = RATE_HZ
    description = "blocks"

    def __init__(self, blocks: list[SampleBlock], clock: FakeClock, during=None) -> None:
        self._blocks = blocks
        self._clock = clock
        self._during = during  # called with each block's number before it is handed out
        self.handed_at: list[float] = []
        self.skipped: list[tuple[int, int]] = []

    def blocks(self):
        for n, block in enumerate(self._blocks):
            if self._during is not None:
                self._during(n)
            if block.lost_before:
                self.skipped.append((block.start_index - block.lost_before, block.lost_before))
            self.handed_at.append(self._clock())
            yield block


def synthetic_blocks(seconds: float, seed: int = 3) -> list[SampleBlock]:
    config = SyntheticConfig(rate_hz=RATE_HZ, duration_s=seconds, peak_sigma_range=(15, 30), seed=seed)
    return list(SyntheticSource(config, block_samples=FRAME_SAMPLES).blocks())


def run_session(tmp_path, blocks, clock, during=None, view=None):
    """A paced session on `blocks`; `during(n, session)` runs before frame n is handed out."""
    emitted: list = []
    session = Session(SessionOptions(kind="live", db_path=tmp_path / "log.sqlite", out_dir=tmp_path / "s", speed=1),
                      lambda event, rate_hz: emitted.append(event), view=view, clock=clock)
    source = Blocks(blocks, clock, None if during is None else lambda n: during(n, session))
    monitors: list[CountingMonitor] = []

    def monitor_for(rate_hz: float) -> CountingMonitor:
        monitors.append(CountingMonitor(rate_hz, clock))
        return monitors[0]

    board = ReplayBoard(source, speed=1.0, board="synthetic", clock=clock, sleep=clock.sleep)
    return session, session.run(board, monitor_for), monitors[0], emitted, source


def per_block(blocks: list[SampleBlock]) -> list:
    """What the detector finds fed one frame at a time, as the session fed it before batching."""
    direct = Monitor(RATE_HZ)
    return [e for b in blocks for e in direct.feed(b)] + direct.finish()


def test_the_detector_wakes_a_few_times_a_second_and_finds_the_same_events(tmp_path, monkeypatch):
    flushes = []
    real_flush = SessionRecorder.flush
    monkeypatch.setattr(SessionRecorder, "flush", lambda self: (flushes.append(1), real_flush(self))[1])
    clock = FakeClock()
    blocks = synthetic_blocks(20)
    session, summary, monitor, emitted, _ = run_session(tmp_path, blocks, clock)
    assert session.failure is None and summary["samples"] == 40_000
    # 800 frames in 20 s; fed in ~0.25 s batches: 80 wake-ups of the detector and of the recorder's flush.
    assert len(monitor.fed) <= 20 / BATCH_S + 1 and len(flushes) <= 20 / BATCH_S + 2
    # Every sample, in order, once: the batches tile the stream.
    starts = np.cumsum([0] + [n for _, n, _, _ in monitor.fed])
    assert [s for s, _, _, _ in monitor.fed] == list(starts[:-1]) and starts[-1] == 40_000
    assert emitted == per_block(blocks) and summary["twitches"] > 0
    written = np.fromfile(tmp_path / "s" / SAMPLES_F32, dtype="<f4")
    assert np.array_equal(written, np.concatenate([b.samples_uv for b in blocks]).astype("<f4"))


def test_samples_wait_at_most_a_batch_for_the_detector(tmp_path):
    """Decisions come at most BATCH_S (plus the frame that completes the batch) later than frame by frame."""
    clock = FakeClock()
    _, _, monitor, _, source = run_session(tmp_path, synthetic_blocks(10), clock)
    frame_s = FRAME_SAMPLES / RATE_HZ
    for start_index, _, _, fed_at in monitor.fed[:-1]:  # the last batch is the stream's end
        arrived_at = source.handed_at[start_index // FRAME_SAMPLES]
        assert fed_at - arrived_at <= BATCH_S + frame_s + 1e-9


def test_a_batch_never_spans_a_gap_and_the_gap_comes_first(tmp_path):
    clock = FakeClock()
    blocks = synthetic_blocks(6)
    cut = 37  # frames 37..44 lost (a sequence gap): 400 samples
    blocks = blocks[:cut] + [SampleBlock(b.start_index, b.samples_uv, lost_before=400 if i == cut + 8 else 0)
                             for i, b in enumerate(blocks) if i >= cut + 8]
    _, summary, monitor, emitted, _ = run_session(tmp_path, blocks, clock)
    gap_start, gap_end = cut * FRAME_SAMPLES, (cut + 8) * FRAME_SAMPLES
    assert summary["lost_samples"] == 400
    # The held samples before the gap are fed up to it; the batch after it starts at the gap's end.
    after_gap = next(i for i, (_, _, lost, _) in enumerate(monitor.fed) if lost)
    assert monitor.fed[after_gap][:3] == (gap_end, monitor.fed[after_gap][1], 400)
    assert sum(monitor.fed[after_gap - 1][:2]) == gap_start
    assert all(start >= gap_end or start + n <= gap_start for start, n, _, _ in monitor.fed)
    gap = next(e for e in emitted if isinstance(e, Gap))
    assert (gap.first_index, gap.samples) == (gap_start, 400)
    # Events on samples before the gap are logged before it, those after it after it: the order is the stream's.
    after = emitted[emitted.index(gap) + 1:]
    assert all(getattr(e, "peak_index", gap_end) >= gap_end for e in after)
    written = np.fromfile(tmp_path / "s" / SAMPLES_F32, dtype="<f4")
    assert np.isnan(written[gap_start:gap_end]).all() and not np.isnan(written[:gap_start]).any()


def test_a_mark_follows_the_samples_it_was_placed_after(tmp_path):
    clock = FakeClock()

    def during(n: int, session: Session) -> None:
        if n == 13:  # the user marks while frame 13 is on its way
            session.marks.put("cramp")

    _, _, monitor, emitted, _ = run_session(tmp_path, synthetic_blocks(3), clock, during)
    mark = next(e for e in emitted if isinstance(e, Mark))
    assert mark.at_index == 14 * FRAME_SAMPLES  # the end of the frame it came with, as frame by frame
    # Its samples were handed to the detector (and the recorder) before the mark was logged.
    assert (14 * FRAME_SAMPLES) in [s + n for s, n, _, _ in monitor.fed]


def test_samples_held_when_the_user_stops_are_kept(tmp_path):
    clock = FakeClock()
    blocks = synthetic_blocks(5)

    def during(n: int, session: Session) -> None:
        if n == 131:
            raise KeyboardInterrupt

    session, summary, monitor, _, _ = run_session(tmp_path, blocks, clock, during)
    assert summary["interrupted"] and session.failure is None
    assert summary["samples"] == 131 * FRAME_SAMPLES  # 131 frames arrived; 131 is not a whole number of batches
    assert sum(n for _, n, _, _ in monitor.fed) == 131 * FRAME_SAMPLES
    assert len(np.fromfile(tmp_path / "s" / SAMPLES_F32, dtype="<f4")) == 131 * FRAME_SAMPLES


class CountingView:
    def __init__(self) -> None:
        self.updates: list[tuple[int, int]] = []

    def begin(self, info, monitor) -> None:
        pass

    def update(self, block, events, source) -> None:
        self.updates.append((block.start_index, len(block.samples_uv)))

    def end(self) -> None:
        pass


def test_the_view_gets_every_frame_as_it_comes(tmp_path):
    """The live page marks candidates from the blocks itself: it must not wait for a batch."""
    clock = FakeClock()
    blocks = synthetic_blocks(2)
    view = CountingView()
    run_session(tmp_path, blocks, clock, view=view)
    assert view.updates == [(b.start_index, len(b.samples_uv)) for b in blocks]


def test_the_batcher_joins_blocks_into_batches_that_tile_the_stream():
    rng = np.random.default_rng(5)
    batcher = BlockBatcher(batch_samples=500, batch_s=10.0)
    sizes = rng.integers(1, 120, 300)
    starts = np.concatenate(([0], np.cumsum(sizes)))
    out = []
    for start, size in zip(starts, sizes):
        batch = batcher.add(SampleBlock(int(start), np.arange(start, start + size, dtype=float)), 0.0)
        assert batcher.held_samples < 500  # bounded: a full batch is handed on at once
        if batch is not None:
            assert 500 <= len(batch.samples_uv) < 500 + 120
            out.append(batch)
    last = batcher.take()
    assert last is not None and len(last.samples_uv) < 500 and batcher.take() is None
    out.append(last)
    assert np.array_equal(np.concatenate([b.samples_uv for b in out]), np.arange(starts[-1], dtype=float))
    assert [b.start_index for b in out] == list(np.cumsum([0] + [len(b.samples_uv) for b in out[:-1]]))


def test_the_batcher_hands_on_a_slow_sources_samples_by_time():
    batcher = BlockBatcher(batch_samples=500, batch_s=0.25)
    assert batcher.add(SampleBlock(0, np.zeros(10)), 1.0) is None
    assert batcher.add(SampleBlock(10, np.zeros(10)), 1.2) is None
    batch = batcher.add(SampleBlock(20, np.zeros(10)), 1.25)
    assert batch is not None and (batch.start_index, len(batch.samples_uv)) == (0, 30)


def test_the_batcher_refuses_to_join_across_a_gap():
    batcher = BlockBatcher(batch_samples=500)
    batcher.add(SampleBlock(0, np.zeros(50), skipped_bytes=3), 0.0)
    assert not batcher.joins(SampleBlock(80, np.zeros(50), lost_before=30))
    assert not batcher.joins(SampleBlock(60, np.zeros(50)))
    with pytest.raises(ValueError):
        batcher.add(SampleBlock(80, np.zeros(50), lost_before=30), 0.0)
    batcher.add(SampleBlock(50, np.zeros(50), skipped_bytes=4), 0.0)
    held = batcher.take()
    assert held is not None and (held.start_index, len(held.samples_uv), held.skipped_bytes) == (0, 100, 7)


def test_stream_notes_keep_their_place_among_the_events(tmp_path):
    """Line noise skipped before a frame is noted where frame-by-frame feeding noted it, between the same events."""
    clock = FakeClock()
    noisy = {100: 7, 250: 12}  # frame number: bytes of noise skipped before it
    blocks = [SampleBlock(b.start_index, b.samples_uv, skipped_bytes=noisy.get(i, 0))
              for i, b in enumerate(synthetic_blocks(10))]
    _, _, _, emitted, _ = run_session(tmp_path, blocks, clock)
    direct = Monitor(RATE_HZ)
    expected: list = []
    for b in blocks:
        expected += [StreamNote(b.start_index, "noise", b.skipped_bytes, f"{b.skipped_bytes} bytes of line noise skipped")
                     ] if b.skipped_bytes else []
        expected += direct.feed(b)
    expected += direct.finish()
    assert sum(isinstance(e, StreamNote) for e in emitted) == 2
    assert emitted == expected


def test_a_batch_of_a_boards_several_channels_keeps_every_channels_samples():
    """The recorder writes each channel's raw file from `channels_uv`: a batch must hold every row's samples."""
    batcher = BlockBatcher(batch_samples=100, batch_s=10.0)
    for start in range(0, 100, 25):
        rows = np.stack([np.arange(start, start + 25, dtype=float) + 1000 * c for c in range(3)])
        batch = batcher.add(SampleBlock(start, rows[0], channels_uv=rows, channel_skew_s=1e-4), 0.0)
    assert batch is not None and batch.channels_uv is not None
    assert batch.channels_uv.shape == (3, 100) and batch.channel_skew_s == 1e-4
    assert np.array_equal(batch.channels_uv[2], np.arange(100) + 2000.0)
    assert np.array_equal(batch.samples_uv, batch.channels_uv[0])
