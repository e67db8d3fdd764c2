# A stand-in for MicroPython's `rp2` module on the Unix port: the DMA class
# (the API of ports/rp2/rp2_dma.c: config, active, count, write, pack_ctrl,
# unpack_ctrl, channel) and a model of the RP2040/RP2350 ADC's free-running
# mode (CS, FCS, FIFO, DIV), reached through machine.mem32 as on the chip.
#
# The model moves data the way the hardware is documented to: each conversion
# pushes a result into a 4-deep FIFO (OVER set when full), and a busy DMA
# channel whose TREQ is the ADC's DREQ pops it into its write buffer, wrapping
# the write address on a (1 << RING_SIZE) byte boundary; a channel that
# finishes its count goes idle and triggers its CHAIN_TO channel. Tests call
# adc.convert(n) to let n conversions happen. With CS.RROBIN set, AINSEL moves
# to the next enabled input after each conversion (RP2040 datasheet 4.9.2.2),
# and each result is tagged with its input in its low 2 bits (the counter in
# the bits above) so that tests see which channel a value came from; a
# dropped result (FIFO full) shifts the channels of the values after it, as on
# the chip. CS.START_ONCE starts one conversion at once. What the silicon does beyond
# this model is not verified here.
import machine
import uctypes

# CTRL_TRIG fields: (name, shift, width). RP2040 datasheet 2.5.7; RP2350 moved
# most of them (pico-sdk src/rp2350/hardware_regs/include/hardware/regs/dma.h:
# INCR_READ_REV 5 and INCR_WRITE_REV 7 are new, so INCR_WRITE is bit 6,
# RING_SIZE 11:8, RING_SEL 12, CHAIN_TO 16:13, TREQ_SEL 22:17, IRQ_QUIET 23).
# rp2.DMA.pack_ctrl knows each chip's layout; so must this model.
_LAYOUTS = {
    "RP2040": (
        ("enable", 0, 1), ("high_pri", 1, 1), ("size", 2, 2), ("inc_read", 4, 1), ("inc_write", 5, 1),
        ("ring_size", 6, 4), ("ring_sel", 10, 1), ("chain_to", 11, 4), ("treq_sel", 15, 6),
        ("irq_quiet", 21, 1), ("bswap", 22, 1), ("sniff_en", 23, 1),
    ),
    "RP2350": (
        ("enable", 0, 1), ("high_pri", 1, 1), ("size", 2, 2), ("inc_read", 4, 1), ("inc_read_rev", 5, 1),
        ("inc_write", 6, 1), ("inc_write_rev", 7, 1), ("ring_size", 8, 4), ("ring_sel", 12, 1),
        ("chain_to", 13, 4), ("treq_sel", 17, 6), ("irq_quiet", 23, 1), ("bswap", 24, 1), ("sniff_en", 25, 1),
    ),
}
_CHANNELS = {"RP2040": 12, "RP2350": 16}
# MicroPython's pack_ctrl defaults: enabled, word size, both addresses incrementing,
# unpaced (TREQ 0x3F), IRQ quiet, chained to itself (no chain).
_DEFAULTS = {"enable": 1, "size": 2, "inc_read": 1, "inc_write": 1, "treq_sel": 0x3F, "irq_quiet": 1}
_FIFO_DEPTH = 4
_chip = "RP2040"


def _fields():
    return _LAYOUTS[_chip]


def _field(value, wanted):
    """One CTRL field, without building unpack_ctrl's dict: the firmware's heap-locked main loop reaches the
    model (a rotation restart's single conversions are moved by the DMA at once)."""
    for name, shift, width in _LAYOUTS[_chip]:
        if name == wanted:
            return (value >> shift) & ((1 << width) - 1)
    return 0


class DMA:
    channels = []

    def __init__(self):
        if len(DMA.channels) >= _CHANNELS[_chip]:
            raise OSError("no free DMA channel")
        self.channel = len(DMA.channels)
        DMA.channels.append(self)
        self.read = 0
        self._buffer = None
        self._pos = 0
        self._reload = 0
        self._live = 0
        self.ctrl = 0
        self._busy = False
        self._aligned = None  # the write buffer last checked for alignment

    def pack_ctrl(self, default=None, **fields):
        if default is None:
            default = 0
            for name, shift, _width in _fields():
                default |= (self.channel if name == "chain_to" else _DEFAULTS.get(name, 0)) << shift
        value = default
        for name, shift, width in _fields():
            if name in fields:
                v = int(fields.pop(name))
                if v != v & ((1 << width) - 1):
                    raise ValueError("bad field value")
                value = (value & ~(((1 << width) - 1) << shift)) | (v << shift)
        if fields:
            raise TypeError()
        return value

    @staticmethod
    def unpack_ctrl(value):
        return {name: (value >> shift) & ((1 << width) - 1) for name, shift, width in _fields()}

    def config(self, read=None, write=None, count=None, ctrl=None, trigger=False):
        if read is not None:
            self.read = read
        if write is not None:
            self.write = write
        if count is not None:
            self.count = count
        if ctrl is not None:
            self.ctrl = ctrl
        if trigger:
            self.active(1)

    def __setattr__(self, name, value):
        if name == "write":
            self._buffer = value
            self._pos = 0
        elif name == "count":
            self._reload = value  # the next sequence's count; the live one is read
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        if name == "count":
            return self._live
        raise AttributeError(name)

    def active(self, value=None):
        if value is not None:
            if value:
                self._trigger()
            else:
                # dma_channel_abort. RP2350 erratum E5: aborting a channel whose EN is set can
                # trigger its CHAIN_TO (modelled as always doing so).
                fields = DMA.unpack_ctrl(self.ctrl)
                was_busy, self._busy = self._busy, False
                if _chip == "RP2350" and fields["enable"] and was_busy and fields["chain_to"] != self.channel:
                    DMA.channels[fields["chain_to"]]._trigger()
        return self._busy

    def _trigger(self):
        """A trigger (active(1), or a chain from another channel): starts only an enabled channel."""
        if _field(self.ctrl, "enable"):
            self._live = self._reload
            self._busy = self._live > 0

    def _transfer(self, v):
        """Write one halfword (size=1) at the write address, then advance it."""
        ctrl = self.ctrl
        buf = self._buffer
        ring_size = _field(ctrl, "ring_size")
        if _field(ctrl, "ring_sel") and ring_size:
            ring = (1 << ring_size) // 2
            if self._aligned is not buf:  # checked once per buffer (addressof may make a big int)
                if uctypes.addressof(buf) % (2 * ring):
                    raise AssertionError("write ring not aligned to its size")
                self._aligned = buf
            buf[self._pos % ring] = v
        else:
            buf[self._pos] = v
        self._pos += _field(ctrl, "inc_write")
        self._live -= 1
        if self._live == 0:
            self._busy = False
            nxt = _field(ctrl, "chain_to")
            if nxt != self.channel:
                DMA.channels[nxt]._trigger()


def reset(chip="RP2040"):
    """Tests: a fresh chip, RP2040 or RP2350 (every DMA channel free, both ADC models idle)."""
    global _chip
    _chip = chip
    DMA.channels = []
    for adc in (adc_rp2040, adc_rp2350):
        adc.__init__(adc.dreq)


class _Adc:
    """One ADC block: registers at `base`, results paced to DMA by `dreq`."""

    def __init__(self, dreq):
        self.dreq = dreq
        self.cs = 0
        self.fcs = 0
        self.div = 0
        self.fifo = []
        self.value = 0  # next result: a 12-bit counter, so order and loss are visible
        self.conversions = 0
        self.dma_stalled = False  # a bus that keeps the DMA from serving the FIFO

    def read(self, offset):
        if offset == 0x00:
            return self.cs | 0x100  # READY
        if offset == 0x08:
            if self.fifo:
                self._serve()  # the DMA empties the FIFO on its own, not only when a conversion lands
            level = len(self.fifo)
            return self.fcs | (0x100 if level == 0 else 0) | (0x200 if level == _FIFO_DEPTH else 0) | (level << 16)
        if offset == 0x0C:
            return self.fifo.pop(0) if self.fifo else 0
        if offset == 0x10:
            return self.div
        return 0

    def write(self, offset, value):
        if offset == 0x00:
            self.cs = value & ~0x4  # START_ONCE reads back 0
            if value & 0x4 and value & 0x1:
                self._convert_one()
        elif offset == 0x08:
            over = (self.fcs & 0x800) and not value & 0x800  # write 1 clears OVER
            self.fcs = (value & ~0xF00) | (0x800 if over else 0)
        elif offset == 0x10:
            self.div = value

    def convert(self, n):
        for _ in range(n):
            if not (self.cs & 0x1 and self.cs & 0x8):
                return
            self._convert_one()

    def _convert_one(self):
        ain = (self.cs >> 12) & 0xF
        rrobin = (self.cs >> 16) & 0x1FF
        result = self.value if not rrobin else ((self.value << 2) | ain) & 0xFFF
        if self.fcs & 0x1:
            if len(self.fifo) < _FIFO_DEPTH:
                self.fifo.append(result)
            else:
                self.fcs |= 0x800
        if rrobin:  # the next enabled input after this one, cyclically
            nxt = ain
            for _ in range(9):
                nxt = (nxt + 1) % 9
                if rrobin >> nxt & 1:
                    break
            self.cs = (self.cs & ~0xF000) | (nxt << 12)
        self.value = (self.value + 1) & (0xFFF if not rrobin else 0x3FF)
        self.conversions += 1
        self._serve()

    def _serve(self):
        if self.dma_stalled or not self.fcs & 0x8:
            return
        for ch in DMA.channels:
            if ch._busy and _field(ch.ctrl, "treq_sel") == self.dreq:
                while self.fifo and ch._busy:
                    ch._transfer(self.fifo.pop(0))


adc_rp2040 = _Adc(36)
adc_rp2350 = _Adc(48)
machine.mem32.map(0x4004C000, 0x24, adc_rp2040)
machine.mem32.map(0x400A0000, 0x24, adc_rp2350)
