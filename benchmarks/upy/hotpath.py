# Runs under `micropython` (benchmarks/firmware_hotpath.py starts it): the
# firmware's hot path, timed with the port's own ticks_us.
import gc
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
w = F.FrameWriter()


# Heap bytes handed out meanwhile (GC off, so none is reclaimed): 0 is the target on every port.
# Measured inside functions: a new global name would itself allocate (the globals dict grows).
def measure_ticks(tick, n):
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    t0 = time.ticks_us()
    for _ in range(n):
        tick(None)
    t = time.ticks_diff(time.ticks_us(), t0)
    alloc = gc.mem_alloc() - a0
    gc.enable()
    return t, alloc


def measure_frames(data, fmt, frames, ring, ring_mask, channels=1):
    total = 0
    gc.collect()
    gc.disable()
    a0 = gc.mem_alloc()
    t0 = time.ticks_us()
    # seq and t_us near the top of their 32-bit range: big ints on a 32-bit board if made whole
    for k in range(frames):
        total += data(0xFFFF, (k * FRAME) & 0xFFFF, 0xFFFF, k & 0xFFFF, 0, fmt, ring, ring_mask,
                      (k * FRAME * channels) & ring_mask, FRAME, 4095, channels)
    t = time.ticks_diff(time.ticks_us(), t0)
    alloc = gc.mem_alloc() - a0
    gc.enable()
    return t, total, alloc


t_tick, alloc_tick = measure_ticks(s.tick, N)
results = []
for fmt in (F.FORMAT_PACKED12, F.FORMAT_U16):
    t_frame, total, alloc = measure_frames(w.data, fmt, N // FRAME, s.ring, s.ring_mask)
    results.append((fmt, t_frame, total, N // FRAME, alloc))

# Protocol v1's framing (CRC-16) beside v2's, one channel; and v2 with 3 channels, per value.
w1 = F.FrameWriter(F.VERSION_1)
t_v1, total_v1, _ = measure_frames(w1.data, F.FORMAT_PACKED12, N // FRAME, s.ring, s.ring_mask)
t_3, total_3, alloc_3 = measure_frames(w.data, F.FORMAT_PACKED12, N // FRAME // 3, s.ring, s.ring_mask, 3)

print("tick_us_per_sample %.4f alloc_bytes %d" % (t_tick / N, alloc_tick))
print("v1 frame_us_per_sample %.4f bytes_per_sample %.3f" % (t_v1 / N, total_v1 / N))
print("channels3 frame_us_per_value %.4f bytes_per_value %.3f alloc_bytes %d"
      % (t_3 / ((N // FRAME // 3) * FRAME * 3), total_3 / ((N // FRAME // 3) * FRAME * 3), alloc_3))
for fmt, t_frame, total, frames, alloc in results:
    print("format %d frame_us_per_sample %.4f bytes_per_sample %.3f alloc_bytes %d"
          % (fmt, t_frame / (frames * FRAME), total / (frames * FRAME), alloc))

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
