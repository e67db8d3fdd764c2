# RP2040 / RP2350: the ADC converts on its own clock divider and DMA moves each
# result from the ADC FIFO into a ring in RAM, so sample spacing is exact
# (crystal-derived 48 MHz clk_adc) and no CPU time or IRQ is spent per sample.
# The main loop only reads how many transfers the DMA has done.
#
# Registers (RP2040 datasheet, "4.9 ADC and Temperature Sensor", 4.9.6 List of
# Registers; RP2350 datasheet "12.4 ADC and Temperature Sensor"; same layout):
#   CS   +0x00  EN bit 0, START_ONCE bit 2, START_MANY bit 3, READY bit 8,
#               AINSEL bits 14:12 (RP2040; 15:12 on RP2350), RROBIN bits 20:16
#               (RP2040; 24:16 on RP2350): one bit per input; when not 0, AINSEL
#               moves to the next enabled input after each conversion
#   FCS  +0x08  EN bit 0, SHIFT bit 1, ERR bit 2, DREQ_EN bit 3, EMPTY bit 8,
#               OVER bit 11 (write 1 to clear), THRESH bits 27:24
#   FIFO +0x0c  read pops one result (bits 11:0)
#   DIV  +0x10  INT bits 23:8, FRAC bits 7:0: a conversion starts every
#               1 + INT + FRAC/256 cycles of clk_adc (48 MHz from the USB PLL)
# DMA (RP2040 "2.5 DMA", DREQ table 2.5.3.1: DREQ_ADC = 36; RP2350 "12.6 DMA",
# DREQ table 12.6.4.1: DREQ_ADC = 48; its TRANS_COUNT keeps the count in bits
# 27:0 and a mode in 31:28, so counts here stay below 2**28).
#
# The ring: the DMA's write address wraps on a (1 << ring_size) byte boundary
# (CTRL.RING_SIZE/RING_SEL), so the ring must be aligned to its own size; it is
# cut out of a buffer twice as large. Two channels each do TRANSFERS and chain
# to each other: TRANSFERS is a multiple of either ring, so each starts where the
# other stopped, and with 2**28 - 2**12 transfers per channel (37 h at 2 kHz)
# the one that finished is re-armed long before it is needed again.
#
# 500 Hz is below the divider's reach (its 16-bit INT makes 732 Hz the
# slowest): the ADC then converts at exactly 1000 Hz into a second ring twice
# the size, and each pair is averaged into the sampler's ring as the main loop
# takes them (a 2-point mean: exact spacing, and the band above 250 Hz damped
# rather than folded down whole).
#
# Several channels (GP26-28 = AIN0-2): the ADC's round-robin (CS.RROBIN)
# converts them in turn at N times the per-channel rate, into the same FIFO and
# DMA ring, so a sample set is N consecutive values and channel c is converted
# c / (N x rate) after channel 0 (a constant skew, reported in the hello). FIFO
# entries carry no channel tag: if the FIFO overflows, a result is dropped and
# the values after it shift channel. So on an overflow the rotation is
# restarted: conversions stop, the DMA empties the FIFO, single conversions
# pad the ring to a whole set, AINSEL goes back to channel 0; everything not yet
# sent up to there is counted lost (`discard`), never sent under the wrong
# channel. 500 Hz x 2 or 3 channels is within the divider's reach: no pairs.
#
# Verified only in simulation (sim/rp2.py models these registers and the DMA):
# the register values written and the bookkeeping; not on silicon.
import sys
from array import array

from micropython import const
from mtw_sampler import wrap_add

CLK_ADC_HZ = const(48000000)
_CS = const(0x00)
_FCS = const(0x08)
_FIFO = const(0x0C)
_DIV = const(0x10)
CS_EN = const(0x01)
CS_START_ONCE = const(0x04)
CS_START_MANY = const(0x08)
CS_READY = const(0x100)
_CS_RROBIN_SHIFT = const(16)
FCS_EN = const(0x01)
FCS_DREQ_EN = const(0x08)
FCS_EMPTY = const(0x100)
FCS_OVER = const(0x800)
FCS_THRESH_1 = const(0x1000000)  # DREQ as soon as one result waits
_FCS_STREAMING = const(FCS_EN | FCS_DREQ_EN | FCS_THRESH_1 | FCS_OVER)  # OVER: writing 1 clears it
DIV_INT_MAX = const(0xFFFF)
TRANSFERS = const(0x0FFFF000)  # a multiple of either ring, below 2**28
_CTRL_EN = const(0x01)  # CTRL.EN is bit 0 on both chips (the other fields moved on RP2350)
# CTRL.RING_SIZE is 4 bits: the write address wraps on at most 1 << 15 = 32768
# bytes. The 500 Hz pairs' ring is twice the sampler's ring, so the sampler's
# ring holds at most 8192 halfword samples.
_RING_MAX_BYTES = const(32768)
MAX_RING_SAMPLES = const(8192)

# chip -> (ADC register base, DREQ_ADC)
CHIPS = {"RP2040": (0x4004C000, 36), "RP2350": (0x400A0000, 48)}


def chip_name():
    """'RP2040' or 'RP2350', from the port's machine string (e.g. 'Raspberry Pi Pico 2 with RP2350')."""
    machine_text = getattr(sys.implementation, "_machine", "")
    return "RP2350" if "RP2350" in machine_text else "RP2040"


def div_for(rate_hz):
    """DIV register value for `rate_hz` conversions a second, or ValueError if the divider cannot reach it."""
    cycles = CLK_ADC_HZ // rate_hz
    if cycles * rate_hz != CLK_ADC_HZ or not 96 <= cycles - 1 <= DIV_INT_MAX:
        # 96: one conversion takes 96 cycles; 0xFFFF: INT is 16 bits, so the
        # slowest rate is 48 MHz / 65536 = 732 Hz (500 Hz is out of reach).
        raise ValueError("ADC divider cannot make %d Hz" % rate_hz)
    return (cycles - 1) << 8


def reachable(rate_hz):
    try:
        div_for(rate_hz)
        return True
    except ValueError:
        return False


class AdcDma:
    """ADC input `ain` free-running into `ring` (array-like of uint16) by two chained DMA channels."""

    def __init__(self, dma_class, mem32, chip="RP2040", ain=0, ring_samples=2048, transfers=TRANSFERS, channels=1):
        if ring_samples & (ring_samples - 1) or ring_samples < 2:
            raise ValueError("ring must be a power of two")
        if ring_samples > MAX_RING_SAMPLES:
            raise ValueError("a ring of %d samples cannot wrap in DMA hardware: at most %d bytes (RING_SIZE 15), "
                             "so at most %d samples, as the 500 Hz ring is twice as large"
                             % (ring_samples, _RING_MAX_BYTES, MAX_RING_SAMPLES))
        import uctypes

        self._base, self._dreq = CHIPS[chip]
        # Computed once: the address is above 2**30, a big int on the board, so adding to it in the
        # main loop would allocate each time.
        self._fcs_address = self._base + _FCS
        self._cs_address = self._base + _CS
        self._mem32 = mem32
        self._ain = ain
        self._channels = channels
        # Inputs ain .. ain + N - 1 in turn; 0 (off) for one channel.
        self._rrobin = (((1 << channels) - 1) << ain) << _CS_RROBIN_SHIFT if channels > 1 else 0
        self._phase = 0  # values produced modulo N: where in a set the next value lands
        self._last_values = 0
        self._discard_until = -1  # set by a rotation restart, taken by the sampler
        if transfers % (2 * ring_samples) or not 0 < transfers < (1 << 28):
            raise ValueError("transfers must be a multiple of both rings, below 2**28")
        self._transfers = transfers
        self._buffers = []  # keeps the aligned rings' storage alive
        self.ring, self._ring_bits = self._aligned(ring_samples, uctypes.addressof)
        self._pairs, self._pairs_bits = self._aligned(2 * ring_samples, uctypes.addressof)
        self._pairs_mask = 2 * ring_samples - 1
        self._factor = 1  # conversions per sample: 2 at 500 Hz
        self._target = self.ring  # where the DMA writes: the ring, or the pairs' ring at 500 Hz
        self._a = dma_class()
        self._b = dma_class()
        self._current = self._a
        self._done_samples = 0  # samples of the channels that have finished, modulo 2**30
        self.fifo_overruns = 0  # times the FIFO overflowed (results dropped before the DMA)
        self.running = False

    def _aligned(self, samples, addressof):
        """A uint16 ring of `samples` aligned to its own size in bytes, and log2 of that size."""
        size_bytes = 2 * samples
        bits = 0
        while (1 << bits) < size_bytes:  # log2; MicroPython's int has no bit_length()
            bits += 1
        buffer = array("H", bytes(2 * size_bytes))
        self._buffers.append(buffer)
        skip = ((-addressof(buffer)) & (size_bytes - 1)) // 2
        return memoryview(buffer)[skip : skip + samples], bits

    @staticmethod
    def factor_for(rate_hz):
        """Conversions per sample at rate_hz: 1, 2 (converted at twice the rate, pairs averaged), or 0."""
        if reachable(rate_hz):
            return 1
        return 2 if reachable(2 * rate_hz) else 0

    def conversion_hz(self, rate_hz):
        """Conversions a second for `rate_hz` sample sets a second."""
        return self._channels * rate_hz

    def _ctrl(self, channel, chain_to, ring_bits):
        return channel.pack_ctrl(size=1, inc_read=False, inc_write=True, ring_size=ring_bits,
                                 ring_sel=True, treq_sel=self._dreq, chain_to=chain_to.channel,
                                 irq_quiet=True)

    def start(self, rate_hz):
        """Arm both channels, then start free-running conversions for `rate_hz` samples a second."""
        conversions_hz = self.conversion_hz(rate_hz)
        factor = self.factor_for(conversions_hz)
        if not factor or (factor == 2 and self._channels > 1):
            raise ValueError("ADC divider cannot make %d Hz" % conversions_hz)
        div = div_for(factor * conversions_hz)
        m, base = self._mem32, self._base
        self.stop()
        self._factor = factor
        target, bits = (self.ring, self._ring_bits) if factor == 1 else (self._pairs, self._pairs_bits)
        self._target = target
        fifo = base + _FIFO
        self._a.config(read=fifo, write=target, count=self._transfers,
                       ctrl=self._ctrl(self._a, self._b, bits), trigger=False)
        self._b.config(read=fifo, write=target, count=self._transfers,
                       ctrl=self._ctrl(self._b, self._a, bits), trigger=False)
        self._current = self._a
        self._done_samples = 0
        self.fifo_overruns = 0
        self._phase = 0
        self._last_values = 0
        self._discard_until = -1
        m[base + _DIV] = div
        m[base + _FCS] = _FCS_STREAMING
        self._a.active(1)
        m[base + _CS] = CS_EN | CS_START_MANY | (self._ain << 12) | self._rrobin  # AINSEL: channel 0 first
        self.running = True

    def produced(self):
        """Values ready since start, modulo 2**30 (main loop only): conversions, or whole pairs at 500 Hz.

        On a FIFO overflow with several channels, restarts the rotation first (see the top of this file)."""
        values = self._values()
        if self._mem32[self._fcs_address] & FCS_OVER:
            self.fifo_overruns += 1
            if self._channels > 1:
                return self._restart_rotation()
            self._mem32[self._fcs_address] = _FCS_STREAMING
        if self._channels > 1:
            self._track_phase(values)
        return values

    def discard(self):
        """The value index before which the ring cannot be trusted since the last call, or -1 (sampler)."""
        until = self._discard_until
        self._discard_until = -1
        return until

    def _track_phase(self, values):
        new = (values - self._last_values) & 0x3FFFFFFF
        self._phase = (self._phase + new) % self._channels
        self._last_values = values

    def _restart_rotation(self):
        """Stop, let the DMA empty the FIFO, pad to a whole set, clear OVER, start again at channel 0."""
        m = self._mem32
        cs = self._cs_address
        ain = self._ain
        m[cs] = CS_EN | (ain << 12) | self._rrobin  # START_MANY off: the conversion under way ends
        while not m[self._fcs_address] & FCS_EMPTY:
            pass  # the DMA takes what the FIFO holds
        self._track_phase(self._values())
        for _ in range((self._channels - self._phase) % self._channels):
            m[cs] = CS_EN | CS_START_ONCE | (ain << 12)  # a filler value, discarded with the rest
            while not (m[cs] & CS_READY and m[self._fcs_address] & FCS_EMPTY):
                pass
        values = self._values()
        self._track_phase(values)
        self._discard_until = values  # a set boundary: phase 0
        m[self._fcs_address] = _FCS_STREAMING  # clears OVER
        m[cs] = CS_EN | CS_START_MANY | (ain << 12) | self._rrobin  # AINSEL back to channel 0
        return values

    def _values(self):
        """Values the DMA has written since start, modulo 2**30 (re-arming a channel that finished)."""
        cur = self._current
        per_channel = self._transfers // self._factor  # whole samples: transfers is a multiple of 2
        if cur.count == 0 and not cur.active():
            # This channel did all its transfers and chained to the other one.
            # Counted in samples and wrapped before adding: no big int on a board.
            self._done_samples = wrap_add(self._done_samples, per_channel)
            # Re-arm it (no trigger): the chain from the other starts it again.
            cur.write = self._target
            cur.count = self._transfers
            cur = self._current = self._b if cur is self._a else self._a
        return wrap_add(self._done_samples, (self._transfers - cur.count) // self._factor)

    def fill(self, ring, first, count, mask):
        """500 Hz: samples first .. first+count-1 (modulo 2**30) as the means of their pairs of conversions."""
        pairs = self._pairs
        half = self._pairs_mask >> 1  # the sampler's ring, in samples: 2**30 is a multiple of it
        base = first & half
        for k in range(count):
            p = (base + k) & half
            r = 2 * p  # the pair's first conversion; below the pairs' ring, so no wrap and no big int
            ring[p & mask] = (pairs[r] + pairs[r + 1]) >> 1

    def stop(self):
        """Stop conversions and both channels, empty the FIFO, leave the ADC for one-shot reads."""
        m, base = self._mem32, self._base
        m[base + _CS] = CS_EN | (self._ain << 12)
        # RP2350 erratum E5 (RP2350 datasheet 12.6.8.3, pico-sdk dma_channel_abort): aborting a channel
        # whose EN is set can trigger its CHAIN_TO. Clear EN and point CHAIN_TO at itself on both
        # channels first (each chains to the other), then abort both, as rp2.DMA.close() does.
        for ch in (self._a, self._b):
            ch.ctrl = ch.pack_ctrl(default=ch.ctrl & ~_CTRL_EN, chain_to=ch.channel)
        self._a.active(0)
        self._b.active(0)
        while not m[base + _FCS] & FCS_EMPTY:
            _ = m[base + _FIFO]  # a read pops one result
        m[base + _FCS] = FCS_OVER  # FIFO and DREQ off; clear a stale overflow
        self.running = False
