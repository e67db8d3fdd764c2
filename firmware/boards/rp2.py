# Raspberry Pi Pico / Pico 2 (RP2040 / RP2350): sensors on GP26 (ADC0), and
# GP27, GP28 (ADC1, ADC2) for 2 or 3 channels (config.CHANNELS), converted in
# turn by the ADC's round-robin into the same FIFO and DMA ring.
#
# The ADC runs on its own divider and DMA fills the sampler's ring
# (boards/rp2_adc_dma.py): exact spacing, no per-sample IRQ (at 500 Hz it
# converts at 1000 Hz and pairs are averaged). Firmware before MicroPython
# 1.22 has no rp2.DMA: then a hard machine.Timer (1.26+, else soft) reads the
# ADC per sample, and the frames' device times show its jitter.
#
# Not verified on hardware: compiled for armv6m/armv7m; the DMA path runs
# against sim/rp2.py's register model in the Unix port.
import time
import machine

import config

ADC_PIN = 26  # GP26 = ADC0; channel c is on GP26 + c
MAX_CHANNELS = 3  # GP26-28; GP29 (ADC3) measures VSYS/3 on the Pico


class Board:
    name = "rp2"
    adc_bits = 12
    vref_mv = 3300
    rates_hz = (500, 1000, 2000)
    default_rate_hz = 1000
    exit_on_end = False

    settings_path = "sensors.txt"  # the stored sensor per channel (SENSOR), on the board's flash

    def __init__(self, adc_pin=ADC_PIN, gain=None, channels=None):
        self.gain = config.SENSOR_GAIN if gain is None else gain
        channels = getattr(config, "CHANNELS", 1) if channels is None else channels
        if not 1 <= channels <= MAX_CHANNELS - (adc_pin - ADC_PIN):
            raise ValueError("the Pico has ADC inputs GP26-GP28: 1 to 3 channels")
        self.channels = channels
        self.pins = tuple("GP%d" % (adc_pin + c) for c in range(channels))
        # Each also sets its pin up as an analog input.
        adcs = [machine.ADC(machine.Pin(adc_pin + c)) for c in range(channels)]
        self._adc = adcs[0]
        self.read_u16 = self._adc.read_u16
        self.reads = tuple(a.read_u16 for a in adcs)  # the timer path reads them in turn
        self.ticks_us = time.ticks_us
        # ticks_us wraps at 2**30 on 32-bit ports (MICROPY_PY_TIME_TICKS_PERIOD).
        self.ticks_mask = 0x3FFFFFFF
        self._led = machine.Pin("LED", machine.Pin.OUT)  # the heartbeat while streaming
        self._timer = machine.Timer(-1)  # rp2: a virtual timer
        self._dma = None
        try:
            import rp2

            if hasattr(rp2, "DMA"):
                from boards.rp2_adc_dma import AdcDma, chip_name

                self._dma = AdcDma(rp2.DMA, machine.mem32, chip_name(), ain=adc_pin - 26, channels=channels)
        except ImportError:
            pass
        # The sampler's ring: the DMA writes into it directly.
        self.ring = self._dma.ring if self._dma is not None else None
        self.pacing = "timer"

    def skew_ns(self, rate_hz):
        """How long after channel 0 channel 1 is converted: 1 / (N x rate) by round-robin; 0 for one channel
        or on the timer path (read one after the other, a few µs apart: not measured)."""
        if self.channels == 1 or self._dma is None:
            return 0
        conversions_hz = self.channels * rate_hz
        return (1000000000 + conversions_hz // 2) // conversions_hz

    def heartbeat(self):
        self._led.toggle()

    def uid(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def start_sampling(self, rate_hz, sampler):
        dma = self._dma
        factor = dma.factor_for(dma.conversion_hz(rate_hz)) if dma is not None else 0
        if dma is not None and factor:
            self.pacing = "adc-dma" if factor == 1 else "adc-dma, pairs averaged"
            if self.channels > 1:
                self.pacing += ", round-robin"
            sampler.follow(dma.produced, 1000000 // rate_hz, dma.fill if factor == 2 else None, dma.discard)
            dma.start(rate_hz)
            return
        self.pacing = "timer"
        sampler.follow(None, 0)
        try:
            # hard=True since MicroPython 1.26: not delayed behind GC and USB.
            self._timer.init(mode=machine.Timer.PERIODIC, freq=rate_hz, callback=sampler.tick, hard=True)
        except TypeError:
            self._timer.init(mode=machine.Timer.PERIODIC, freq=rate_hz, callback=sampler.tick)

    def stop_sampling(self):
        if self._dma is not None and self._dma.running:
            self._dma.stop()
        self._timer.deinit()

    def fifo_overruns(self):
        return self._dma.fifo_overruns if self._dma is not None else 0

    def service(self):
        pass

    def idle(self):
        machine.idle()

    def finished(self):
        return False
