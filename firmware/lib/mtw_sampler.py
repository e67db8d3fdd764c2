# IRQ-safe sampler: the timer callback writes one ADC reading and its device
# time into preallocated rings; the main loop takes frames out of them.
#
# The callback never waits for the reader: it always overwrites the oldest
# slot. The reader keeps its own position and, when it has fallen more than a
# ring behind, counts what was overwritten as lost. So the callback has no
# branch on fullness, no shared read pointer, and every sample is either sent
# or counted.
from array import array
from micropython import const

# Boards' small ints hold 30 bits plus sign; the index wraps below that so the
# callback never creates a big int (which would allocate inside an IRQ).
INDEX_MASK = const(0x3FFFFFFF)


class Sampler:
    def __init__(self, read_u16, ticks_us, ticks_mask, adc_bits, capacity_samples=2048, ring=None):
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
        self.tick = self._tick
        self._produced = None
        self._period_us = 0
        self._fill = None
        self.reset()

    def reset(self):
        """Start counting from sample 0 (called on START, timer stopped)."""
        self._index = 0
        self._next = 0  # index (30-bit) of the next sample to send
        self.seq = 0  # the same position as a 32-bit wire counter
        self.lost = 0  # samples overwritten before they could be sent
        self._t32 = 0
        self._last_ticks = -1

    def follow(self, produced, period_us, fill=None):
        """Samples arrive without tick(): hardware (DMA) writes them into `ring`.

        `produced()` returns how many there are since START, modulo 2**30;
        None returns to tick(). If given, `fill(ring, first, count, mask)`
        writes samples first..first+count-1 into the ring first (they were
        made elsewhere: pairs of conversions averaged). Each new sample gets
        the device time at which the main loop saw it, back-dated by
        `period_us` per later sample: the spacing is the ADC clock's, exact;
        the times carry the loop's latency.
        """
        self._produced = produced
        self._period_us = period_us
        self._fill = fill

    def _sync(self):
        produced = self._produced
        if produced is None:
            return
        now_index = produced()
        new = (now_index - self._index) & INDEX_MASK
        if new:
            t = self._ticks_us()
            times, mask, period, tmask = self._times, self.ring_mask, self._period_us, self._ticks_mask
            i = self._index
            first = max(0, new - self.capacity)  # older ones are overwritten anyway
            if self._fill is not None:
                self._fill(self.ring, (i + first) & INDEX_MASK, new - first, mask)
            for k in range(first, new):
                times[(i + k) & mask] = (t - (new - 1 - k) * period) & tmask
            self._index = now_index

    def _tick(self, _timer):
        # Interrupt context: integers only, no allocation, no floats.
        i = self._index
        pos = i & self.ring_mask
        v = self._read_u16() >> self._shift
        self.ring[pos] = v
        self._times[pos] = self._ticks_us()
        self._index = (i + 1) & INDEX_MASK

    def pending(self):
        """Samples waiting to be sent; first counts as lost any that were overwritten."""
        self._sync()
        behind = (self._index - self._next) & INDEX_MASK
        # Keep a margin so the callback cannot overwrite what is being copied.
        limit = self.capacity - (self.capacity >> 3)
        if behind > limit:
            self._skip(behind - limit)
            behind = limit
        return behind

    def _skip(self, count):
        self._next = (self._next + count) & INDEX_MASK
        self.seq = (self.seq + count) & 0xFFFFFFFF
        self.lost += count

    def first_pos(self):
        return self._next & self.ring_mask

    def first_time_us(self):
        """Device time of the next sample to send, extended to 32 bits."""
        t = self._times[self._next & self.ring_mask]
        if self._last_ticks < 0:
            self._t32 = t & 0xFFFFFFFF
        else:
            self._t32 = (self._t32 + ((t - self._last_ticks) & self._ticks_mask)) & 0xFFFFFFFF
        self._last_ticks = t
        return self._t32

    def still_intact(self):
        """After copying from first_pos(): was the oldest copied sample still in the ring?"""
        self._sync()
        return ((self._index - self._next) & INDEX_MASK) <= self.capacity

    def advance(self, count):
        self._next = (self._next + count) & INDEX_MASK
        self.seq = (self.seq + count) & 0xFFFFFFFF

    def drop(self, count):
        """Samples copied but overwritten meanwhile: count them as lost."""
        self._skip(count)
