# IRQ-safe sampler: the timer callback writes one sample set (a reading of
# each channel) and its device time into preallocated rings; the main loop
# takes frames out of them.
#
# The ring holds values, set-major: a set of N channels is N consecutive
# slots (the DMA's round-robin writes them so too). Indices count values and
# move by whole sets; `seq`, `lost` and `pending()` count sets.
#
# The callback never waits for the reader: it always overwrites the oldest
# slot. The reader keeps its own position and, when it has fallen more than a
# ring behind, counts what was overwritten as lost. So the callback has no
# branch on fullness, no shared read pointer, and every sample is either sent
# or counted.
from array import array
from micropython import const

# Boards' small ints hold 30 bits plus sign (-2**30 .. 2**30-1): every value
# here stays inside that, so nothing creates a big int (which allocates: a
# MemoryError in a hard IRQ, a GC pause otherwise). The index wraps at 2**30
# by comparison, never by computing 2**30 and masking; the 32-bit wire `seq`
# and device time are kept as two 16-bit halves.
INDEX_MASK = const(0x3FFFFFFF)


def wrap_add(a, b):
    """(a + b) mod 2**30 for 0 <= a, b < 2**30, without making the sum (a big int on a board)."""
    over = a - (INDEX_MASK - b)  # > 0 exactly when a + b > INDEX_MASK
    return over - 1 if over > 0 else a + b


class Sampler:
    def __init__(self, read_u16, ticks_us, ticks_mask, adc_bits, capacity_samples=2048, ring=None, reads=None):
        # `reads`: one read_u16 per channel (the timer path's N channels); else the one `read_u16`.
        self._reads = reads if reads is not None else (read_u16,)
        self.channels = len(self._reads)
        if ring is not None:
            capacity_samples = len(ring)  # a board's own ring (written by DMA on rp2)
        if capacity_samples & (capacity_samples - 1):
            raise ValueError("capacity must be a power of two")
        self.capacity = capacity_samples
        self.ring_mask = capacity_samples - 1
        self.ring = ring if ring is not None else array("H", bytes(2 * capacity_samples))
        self._times = array("I", bytes(4 * capacity_samples))
        self._read_u16 = read_u16
        self._ticks_us = ticks_us
        self._ticks_mask = ticks_mask
        self._shift = 16 - adc_bits
        self.full_scale = (1 << adc_bits) - 1
        self._index = 0
        # Pre-bound so that taking the attribute inside the IRQ allocates nothing.
        self.tick = self._tick if self.channels == 1 else self._tick_n
        self._produced = None
        self._discard = None
        self._period_us = 0
        self._fill = None
        self.reset()

    def reset(self, start_seq=0):
        """Start counting from sample set `start_seq` (0 on START, timer stopped; tests start near the wraps).

        The ring index starts at start_seq's own value (mod 2**30) with one channel, at 0 with several."""
        self._index = start_seq & INDEX_MASK if self.channels == 1 else 0
        self._next = self._index  # index (30-bit) of the next value to send: the first of a set
        self.seq_hi16 = (start_seq >> 16) & 0xFFFF  # the next set to send as the 32-bit wire counter, in halves
        self.seq_lo16 = start_seq & 0xFFFF
        self.lost = 0  # samples overwritten before they could be sent, modulo 2**30
        self.t_hi16 = 0  # device time of the next sample, extended to 32 bits, in halves
        self.t_lo16 = 0
        self._last_ticks = -1

    def seq32(self):
        """The wire seq as one int (tests and reports: a big int on a board past 2**30)."""
        return (self.seq_hi16 << 16) | self.seq_lo16

    def follow(self, produced, period_us, fill=None, discard=None):
        """Values arrive without tick(): hardware (DMA) writes them into `ring`.

        `produced()` returns how many values there are since START, modulo
        2**30; None returns to tick(). If given, `fill(ring, first, count, mask)`
        writes values first..first+count-1 into the ring first (they were
        made elsewhere: pairs of conversions averaged). Each new value gets
        the device time at which the main loop saw it, back-dated by
        `period_us` per later set (a set's N values are period_us / N apart):
        the spacing is the ADC clock's, exact; the times carry the loop's
        latency. If given, `discard()` returns the value index (modulo 2**30)
        before which the ring's values cannot be trusted (a round-robin whose
        FIFO overflowed: which channel a value is, is lost), or -1: those
        not yet sent are counted lost.
        """
        self._produced = produced
        self._period_us = period_us
        self._fill = fill
        self._discard = discard

    def _sync(self):
        produced = self._produced
        if produced is None:
            return
        now_index = produced()
        new = (now_index - self._index) & INDEX_MASK
        if new:
            t = self._ticks_us()
            # One name a line: a, b, c, d = ... builds a tuple (allocates); two or three do not.
            times = self._times
            mask = self.ring_mask
            period = self._period_us
            tmask = self._ticks_mask
            i = self._index
            n = self.channels
            first = max(0, new - self.capacity)  # older ones are overwritten anyway
            if self._fill is not None:
                self._fill(self.ring, wrap_add(i, first), new - first, mask)
            base = i & mask
            for k in range(first, new):
                times[(base + k) & mask] = (t - ((new - 1 - k) * period) // n) & tmask
            self._index = now_index
        discard = self._discard
        if discard is not None:
            until = discard()
            if until >= 0:
                ahead = (until - self._next) & INDEX_MASK
                if 0 < ahead <= (self._index - self._next) & INDEX_MASK:
                    self._skip(ahead // self.channels)

    def _tick(self, _timer):
        # Interrupt context: integers only, no allocation, no floats.
        i = self._index
        pos = i & self.ring_mask
        v = self._read_u16() >> self._shift
        self.ring[pos] = v
        self._times[pos] = self._ticks_us()
        self._index = 0 if i == INDEX_MASK else i + 1

    def _tick_n(self, _timer):
        # N channels read one after the other: interrupt context, integers only, no allocation.
        i = self._index
        mask = self.ring_mask
        ring = self.ring
        reads = self._reads
        shift = self._shift
        n = self.channels
        self._times[i & mask] = self._ticks_us()
        c = 0
        while c < n:
            ring[(i + c) & mask] = reads[c]() >> shift
            c += 1
        self._index = wrap_add(i, n)

    def pending(self):
        """Sample sets waiting to be sent; first counts as lost any that were overwritten."""
        self._sync()
        n = self.channels
        behind = ((self._index - self._next) & INDEX_MASK) // n
        # Keep a margin so the callback cannot overwrite what is being copied.
        limit = (self.capacity - (self.capacity >> 3)) // n
        if behind > limit:
            self._skip(behind - limit)
            behind = limit
        return behind

    def _move(self, sets):
        """Move on by `sets` sample sets: the ring index by sets * channels values, the wire seq by sets."""
        self._next = wrap_add(self._next, sets * self.channels)
        lo = self.seq_lo16 + sets  # a small int: sets < 2**29
        self.seq_hi16 = (self.seq_hi16 + (lo >> 16)) & 0xFFFF
        self.seq_lo16 = lo & 0xFFFF

    def _skip(self, sets):
        self._move(sets)
        self.lost = wrap_add(self.lost, sets)

    def first_pos(self):
        return self._next & self.ring_mask

    def first_time(self):
        """Device time of the next sample to send, extended to 32 bits: sets t_hi16 and t_lo16."""
        t = self._times[self._next & self.ring_mask]
        if self._last_ticks < 0:
            lo = t & 0xFFFF
            hi = (t >> 16) & 0xFFFF
        else:
            step = (t - self._last_ticks) & self._ticks_mask
            lo = self.t_lo16 + (step & 0xFFFF)
            hi = (self.t_hi16 + (step >> 16) + (lo >> 16)) & 0xFFFF
            lo &= 0xFFFF
        self.t_hi16 = hi
        self.t_lo16 = lo
        self._last_ticks = t

    def first_time_us(self):
        """first_time() as one int (tests: a big int on a board past 2**30)."""
        self.first_time()
        return (self.t_hi16 << 16) | self.t_lo16

    def still_intact(self):
        """After copying from first_pos(): was the oldest copied value still in the ring?"""
        self._sync()
        return ((self._index - self._next) & INDEX_MASK) <= self.capacity

    def advance(self, sets):
        self._move(sets)

    def drop(self, sets):
        """Sample sets copied but overwritten meanwhile: count them as lost."""
        self._skip(sets)
