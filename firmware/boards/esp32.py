# ESP32 DevKitC: sensors on ADC1 (ADC2 cannot be used while WiFi runs):
# GPIO34, then GPIO35, GPIO32, GPIO33 for 2 to 4 channels (config.CHANNELS),
# read one after the other in each timer callback.
#
# Not yet verified on hardware: this module is compiled for xtensawin but only
# its shape (ADC, Timer, ticks) is exercised, through sim.py.
import time
import machine

import config

ADC_PIN = 34
ADC1_PINS = (34, 35, 32, 33)  # input-only 34, 35 first; all on ADC1


class Board:
    name = "esp32"
    adc_bits = 12
    vref_mv = 3300
    rates_hz = (500, 1000, 2000)
    default_rate_hz = 1000
    exit_on_end = False

    settings_path = "sensors.txt"  # the stored sensor per channel (SENSOR), on the board's flash

    def __init__(self, adc_pin=ADC_PIN, gain=None, channels=None):
        self.gain = config.SENSOR_GAIN if gain is None else gain
        channels = getattr(config, "CHANNELS", 1) if channels is None else channels
        if not 1 <= channels <= len(ADC1_PINS):
            raise ValueError("1 to 4 ADC1 channels on the ESP32")
        pins = (adc_pin,) + tuple(p for p in ADC1_PINS if p != adc_pin)
        self.channels = channels
        self.pins = tuple(str(p) for p in pins[:channels])
        adcs = []
        for p in pins[:channels]:
            adc = machine.ADC(machine.Pin(p))
            # 11 dB: about 150-2450 mV is linear, enough for a sensor centred at mid-supply.
            adc.atten(machine.ADC.ATTN_11DB)
            adcs.append(adc)
        self._adc = adcs[0]
        self.read_u16 = self._adc.read_u16
        self.reads = tuple(a.read_u16 for a in adcs)
        self.ticks_us = time.ticks_us
        # ticks_us wraps at 2**30 on 32-bit ports (MICROPY_PY_TIME_TICKS_PERIOD).
        self.ticks_mask = 0x3FFFFFFF
        self._led = machine.Pin(2, machine.Pin.OUT)  # the heartbeat while streaming
        self._timer = machine.Timer(0)

    def skew_ns(self, rate_hz):
        return 0  # read one after the other in the callback, tens of µs apart: not measured

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
