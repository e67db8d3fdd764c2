"""read_ahead: an iterator run in a second thread, a bounded number of items ahead, stopped with the loop."""

from __future__ import annotations

import signal
import threading

import pytest

from myotwitch.read_ahead import THREAD_NAME, read_ahead


def _alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


class Counting:
    """Items 0, 1, 2, ... (up to `stop`), counting how many were begun and whether the generator was closed."""

    def __init__(self, stop: int | None = None, fail_at: int | None = None) -> None:
        self.begun = 0
        self.closed = False
        self.stop = stop
        self.fail_at = fail_at

    def __iter__(self):
        try:
            n = 0
            while self.stop is None or n < self.stop:
                self.begun += 1
                if n == self.fail_at:
                    raise ValueError(f"record {n} is damaged")
                yield n
                n += 1
        finally:
            self.closed = True  # as a reader's open file is


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_items_come_in_order_and_the_producer_stays_within_depth(depth):
    items = Counting(stop=200)
    got = []
    for item in read_ahead(iter(items), depth):
        # taken: len(got) + 1; at most `depth` more wait in the queue, and one more is being made
        assert items.begun <= len(got) + 1 + depth + 1
        got.append(item)
    assert got == list(range(200))
    assert items.closed and not _alive()


def test_the_producers_exception_is_raised_here_in_its_place():
    items = Counting(stop=100, fail_at=7)
    got = []
    with pytest.raises(ValueError, match="record 7 is damaged") as raised:
        for item in read_ahead(iter(items)):
            got.append(item)
    assert got == list(range(7))  # every item before it, none after
    # the same exception, so the CLI's one line reads as without the thread
    assert type(raised.value) is ValueError and str(raised.value) == "record 7 is damaged"
    assert not _alive()


def test_leaving_the_loop_early_stops_the_producer_and_closes_its_source():
    items = Counting()  # endless: only the loop's end stops it
    stream = read_ahead(iter(items))
    for item in stream:
        if item == 3:
            break
    stream.close()
    assert items.closed and not _alive()
    assert items.begun <= 3 + 1 + 1 + 1


def test_an_exception_in_the_taker_stops_the_producer():
    items = Counting()
    stream = read_ahead(iter(items))
    assert next(stream) == 0
    with pytest.raises(KeyboardInterrupt):
        stream.throw(KeyboardInterrupt)
    assert items.closed and not _alive()


def _needs_sigint() -> None:
    if not hasattr(signal, "pthread_kill"):
        pytest.skip("no signal.pthread_kill here (Windows)")
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not Python's KeyboardInterrupt here")


@pytest.mark.parametrize("started", [False, True])
def test_ctrl_c_while_the_thread_starts_does_not_leave_it_running(monkeypatch, started):
    """Ctrl-C in Thread.start, before the thread began or after (it must be stopped and joined). Thread.start is
    patched to raise there: a real signal lands in start() only as the GIL's scheduling allows."""
    real_start = threading.Thread.start
    threads = []

    def interrupted_start(thread):
        threads.append(thread)
        if started:
            real_start(thread)
        raise KeyboardInterrupt

    monkeypatch.setattr(threading.Thread, "start", interrupted_start)
    items = Counting()
    stream = read_ahead(iter(items))
    with pytest.raises(KeyboardInterrupt):
        next(stream)
    monkeypatch.undo()
    assert not _alive()
    if started:  # stopped at its first hand-overs, not run on without end, and its source closed
        assert 1 <= items.begun <= 3 and items.closed
    else:
        # An OS thread can exist and begin after start() was interrupted (while it waited for the thread to
        # say it began): begun now, after the loop has ended, it must read nothing (a generator not yet begun
        # has opened nothing to close) and end.
        assert items.begun == 0
        real_start(threads[0])
        threads[0].join(timeout=60)
        assert items.begun == 0 and not threads[0].is_alive()


def test_ctrl_c_while_waiting_for_an_item_does_not_hang():
    """SIGINT once the first item was taken, while the main thread waits for the next: the thread is gone."""
    _needs_sigint()
    taken = threading.Event()

    def items():
        yield 0
        taken.wait()  # until the main thread has item 0, and waits for item 1
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        n = 1
        while True:  # endless: only the taker's stop ends it
            yield n
            n += 1

    stream = read_ahead(items())
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in stream:
                taken.set()
    finally:
        stream.close()
    assert not _alive()


def test_a_depth_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        next(read_ahead(iter([1]), depth=0))


@pytest.mark.parametrize("ahead", ["all", None])
def test_a_files_gaps_are_each_reported_once_however_far_ahead_it_is_read(tmp_path, monkeypatch, ahead):
    # The reading thread can be any number of blocks ahead of the detector: here, with "all", it has read the
    # whole file before the first block is analysed (the source's list of skipped runs complete). The first
    # block's count of runs was 0, and a run "ended" before it (-1) once reported every run but the last,
    # and again in its place: the invalid value at 5 s came out twice.
    import numpy as np

    import myotwitch.read_ahead
    from myotwitch.analysis import FileAnalysis

    if ahead == "all":
        def read_all_first(items, depth=1):
            yield from list(items)

        monkeypatch.setattr(myotwitch.read_ahead, "read_ahead", read_all_first)
    x = np.random.default_rng(5).normal(0, 2, 200_000)
    rows = [f"{v:.3f}" for v in x]
    rows[5000] = rows[150_000] = "nan"
    path = tmp_path / "two_gaps.csv"
    path.write_text("emg_uv\n" + "\n".join(rows) + "\n")
    events = list(FileAnalysis(path, 1000.0, read_ahead=True).events())
    gaps = [(e.first_index, e.samples) for e in events if type(e).__name__ == "Gap"]
    assert gaps == [(5000, 1), (150_000, 1)]
