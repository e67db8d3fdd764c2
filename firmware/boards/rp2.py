# Raspberry Pi Pico / Pico 2 (RP2040 / RP2350): sensor on GP26 (ADC0).
#
# Not yet verified on hardware: this module is compiled for armv6m/armv7m
# but only its shape (ADC, Timer, ticks) is exercised, through sim.py.
import time
import machine

from config import SENSOR_GAIN

ADC_PIN = 26  # GP26 = ADC0


class Board:
    name = "rp2"
    adc_bits = 12
    vref_mv = 3300
    rates_hz = (500, 1000, 2000)
    default_rate_hz = 1000
    exit_on_end = False

    def __init__(self, adc_pin=ADC_PIN, gain=SENSOR_GAIN):
        self.gain = gain
        self._adc = machine.ADC(machine.Pin(adc_pin))
        self.read_u16 = self._adc.read_u16
        self.ticks_us = time.ticks_us
        # ticks_us wraps at 2**30 on 32-bit ports (MICROPY_PY_TIME_TICKS_PERIOD).
        self.ticks_mask = 0x3FFFFFFF
        self._led = machine.Pin("LED", machine.Pin.OUT)  # the heartbeat while streaming
        self._timer = machine.Timer(-1)  # rp2: a virtual timer

    def heartbeat(self):
        self._led.toggle()

    def uid(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def start_timer(self, rate_hz, callback):
        try:
            # hard=True since MicroPython 1.26: not delayed behind GC and USB.
            self._timer.init(mode=machine.Timer.PERIODIC, freq=rate_hz, callback=callback, hard=True)
        except TypeError:
            self._timer.init(mode=machine.Timer.PERIODIC, freq=rate_hz, callback=callback)

    def stop_timer(self):
        self._timer.deinit()

    def service(self):
        pass

    def idle(self):
        machine.idle()

    def finished(self):
        return False
