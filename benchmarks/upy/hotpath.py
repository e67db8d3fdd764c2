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
        total += w.data(0, (k * FRAME) & 0xFFFF, 0, k & 0xFFFF, 0, fmt, s.ring, s.ring_mask, (k * FRAME) & s.ring_mask, FRAME, 4095)
    t_frame = time.ticks_diff(time.ticks_us(), t0)
    results.append((fmt, t_frame, total, frames))

print("tick_us_per_sample %.4f" % (t_tick / N))
for fmt, t_frame, total, frames in results:
    print("format %d frame_us_per_sample %.4f bytes_per_sample %.3f" % (fmt, t_frame / (frames * FRAME), total / (frames * FRAME)))

# Everything the App puts on the wire while streaming (data frames and the
# STATS status each second), per sample, for 60 s of signal at each rate.
from mtw_app import App
from upytest import FakeBoard, FakeOut


class NoCommands:
    def wait(self, timeout_ms):
        return False


for rate in (500, 1000, 2000):
    board, wire = FakeBoard([v for v in range(0, 65536, 4099)]), FakeOut()
    app = App(board, wire, NoCommands())
    app.handle_command(b"RATE %d" % rate)
    app.handle_command(b"START")
    wire.data = bytearray()
    sent = 0
    for _ in range(60 * rate // 1000):
        board.fire(1000)
        app._flush_frames()
        sent += len(wire.data)
        wire.data = bytearray()
    print("wire rate_hz %d bytes_per_sample %.4f samples %d" % (rate, sent / (60 * rate), 60 * rate))
