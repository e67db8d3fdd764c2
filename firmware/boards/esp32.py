# ESP32 DevKitC: sensor on GPIO34 (ADC1; ADC2 cannot be used while WiFi runs).
#
# Not yet verified on hardware: this module is compiled for xtensawin but only
# its shape (ADC, Timer, ticks) is exercised, through sim.py.
import time
import machine

from config import SENSOR_GAIN

ADC_PIN = 34


class Board:
    name = "esp32"
    adc_bits = 12
    vref_mv = 3300
    rates_hz = (500, 1000, 2000)
    default_rate_hz = 1000
    exit_on_end = False

    def __init__(self, adc_pin=ADC_PIN, gain=SENSOR_GAIN):
        self.gain = gain
        self._adc = machine.ADC(machine.Pin(adc_pin))
        # 11 dB: about 150-2450 mV is linear, enough for a sensor centred at mid-supply.
        self._adc.atten(machine.ADC.ATTN_11DB)
        self.read_u16 = self._adc.read_u16
        self.ticks_us = time.ticks_us
        # ticks_us wraps at 2**30 on 32-bit ports (MICROPY_PY_TIME_TICKS_PERIOD).
        self.ticks_mask = 0x3FFFFFFF
        self._led = machine.Pin(2, machine.Pin.OUT)  # the heartbeat while streaming
        self._timer = machine.Timer(0)

    def heartbeat(self):
        self._led.value(not self._led.value())  # DevKitC boards with an LED have it on GPIO2

    def uid(self):
        return "".join("%02x" % b for b in machine.unique_id())

    def start_sampling(self, rate_hz, sampler):
        # ESP32 timer callbacks are always soft (hard=True raises ValueError).
        sampler.follow(None, 0)
        self._timer.init(mode=machine.Timer.PERIODIC, freq=rate_hz, callback=sampler.tick)

    def stop_sampling(self):
        self._timer.deinit()

    def service(self):
        pass

    def idle(self):
        machine.idle()

    def finished(self):
        return False
