# Runs under `micropython` (benchmarks/firmware_hotpath.py starts it): the
# firmware's hot path, timed with the port's own ticks_us.
import time
import mtw_frame as F
from mtw_sampler import Sampler

N = 200000
FRAME = 50


class Adc:
    def __init__(self):
        self.v = 0

    def read_u16(self):
        self.v = (self.v + 4099) & 0xFFFF
        return self.v


adc = Adc()
s = Sampler(adc.read_u16, time.ticks_us, time.ticks_add(0, -1), 12, 2048)
tick = s.tick
t0 = time.ticks_us()
for _ in range(N):
    tick(None)
t_tick = time.ticks_diff(time.ticks_us(), t0)

w = F.FrameWriter()
results = []
for fmt in (F.FORMAT_PACKED12, F.FORMAT_U16):
    frames = N // FRAME
    total = 0
    t0 = time.ticks_us()
    for k in range(frames):
        total += w.data(k * FRAME, k, 0, fmt, s.ring, s.ring_mask, (k * FRAME) & s.ring_mask, FRAME, 4095)
    t_frame = time.ticks_diff(time.ticks_us(), t0)
    results.append((fmt, t_frame, total, frames))

print("tick_us_per_sample %.4f" % (t_tick / N))
for fmt, t_frame, total, frames in results:
    print("format %d frame_us_per_sample %.4f bytes_per_sample %.3f" % (fmt, t_frame / (frames * FRAME), total / (frames * FRAME)))

# Everything the App puts on the wire while streaming (data frames and the
# STATS status each second), per sample, for 60 s of signal at each rate.
from mtw_app import App


class Board:
    name = "bench"
    adc_bits = 12
    vref_mv = 3300
    gain = 1000
    rates_hz = (500, 1000, 2000)
    default_rate_hz = 1000
    exit_on_end = False
    ticks_mask = 0x3FFFFFFF

    def __init__(self):
        self.read_u16 = adc.read_u16
        self.ticks_us = time.ticks_us
        self.callback = None

    def uid(self):
        return "0"

    def start_sampling(self, rate_hz, sampler):
        sampler.follow(None, 0)
        self.callback = sampler.tick

    def stop_sampling(self):
        self.callback = None

    def heartbeat(self):
        pass


class Counter:
    def __init__(self):
        self.bytes = 0

    def write(self, buf, length=None):
        n = len(buf) if length is None else length
        self.bytes += n
        return n


class NoCommands:
    def wait(self, timeout_ms):
        return False


for rate in (500, 1000, 2000):
    board, wire = Board(), Counter()
    app = App(board, wire, NoCommands())
    app.handle_command(b"RATE %d" % rate)
    app.handle_command(b"START")
    wire.bytes = 0
    for _ in range(60 * rate // 1000):
        for _ in range(1000):
            board.callback(None)
        app._flush_frames()
    print("wire rate_hz %d bytes_per_sample %.4f samples %d" % (rate, wire.bytes / (60 * rate), 60 * rate))
