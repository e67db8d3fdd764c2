"""An iterator's items made in a second thread, a bounded number ahead of the one who takes them.

    with contextlib.closing(read_ahead(produce(), depth=1)) as items:   # produce() runs in the other thread
        for item in items:
            ...

What it is for: the offline analysis reads and conditions block k + 1 (file reads, numpy's large element-wise
operations and scipy's sosfilt run without the GIL) while this thread runs the detector on block k. The items
come in the producer's order; the producer gets at most `depth` items queued and one in the making ahead of the
taker (memory stays that of a few blocks). An exception raised by the producer is raised here, as it was, when
its place in the order is reached. Closing the iterator (`closing` as above, or a `for` over an unnamed
`read_ahead(...)`, dropped and so closed when the loop ends by a break or an exception) stops the producer
after the item it is making and waits for it, so no thread outlives the loop; an iterator kept in a name and
not closed leaves the producer waiting to hand over its next item until the iterator is dropped. Ctrl-C while
the thread starts: a thread that begins after the iterator was closed reads nothing. The thread is a daemon
all the same, so that an interpreter shutting down never waits for it.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

THREAD_NAME = "myotwitch-read-ahead"


def usable_cores() -> int:
    """The cores this process may run on: reading ahead needs a second one; a batch runs a worker on each."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class _Channel:
    """A bounded queue that the taker can close: a producer waiting for room then gives up."""

    def __init__(self, depth: int) -> None:
        self._items: deque = deque()
        self._depth = depth
        self._changed = threading.Condition()
        self.closed = False

    def put(self, item: object) -> bool:
        """Wait for room; False if the taker closed the channel meanwhile (the item is dropped)."""
        with self._changed:
            while len(self._items) >= self._depth and not self.closed:
                self._changed.wait()
            if self.closed:
                return False
            self._items.append(item)
            self._changed.notify_all()
            return True

    def get(self) -> object:
        with self._changed:
            while not self._items:
                self._changed.wait()  # interrupted by Ctrl-C in the main thread (a lock's wait is, on POSIX)
            item = self._items.popleft()
            self._changed.notify_all()
            return item

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._items.clear()
            self._changed.notify_all()


class _End:
    """The producer's last message: done, or the exception it raised."""

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1) -> Generator[T, None, None]:
    """`items`, iterated in a second thread up to `depth` items ahead (depth >= 1)."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    channel = _Channel(depth)
    source = iter(items)

    def produce() -> None:
        try:
            while not channel.closed:  # closed before it began (Ctrl-C in start()): it reads nothing
                try:
                    item = next(source)
                except StopIteration:
                    channel.put(_End(None))
                    return
                if not channel.put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the taker, who raises it in its own thread
            channel.put(_End(exc))
        finally:
            close = getattr(source, "close", None)  # a generator's `finally` (an open file) runs in this thread
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name=THREAD_NAME, daemon=True)
    try:
        thread.start()  # in the try: Ctrl-C may come while it waits for the thread to begin
        while True:
            item = channel.get()
            if type(item) is _End:
                if item.error is not None:
                    raise item.error
                return
            yield item  # type: ignore[misc]
    finally:
        channel.close()
        if thread.is_alive():  # not if start() was interrupted: a thread that begins later finds the channel
            thread.join()  # closed, reads nothing and closes its source
