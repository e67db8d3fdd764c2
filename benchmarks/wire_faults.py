"""The frame decoder under wire faults: what it recovers and how every sample is accounted for.

    .venv/bin/python benchmarks/wire_faults.py [--frames 20000] [--seed 1]

A stream of data frames (50 packed 12-bit samples each, as the firmware
sends) is damaged one way at a time, cut into random chunks as a serial port
delivers them, and fed to `FrameDecoder`, whose `finish()` ends the input;
the board's END status (its count of samples produced) follows the damaged
stream, as the firmware sends it. For each fault the table gives:
frames sent, frames the fault left intact, intact frames recovered (decoded
with the same sequence number and samples), frames decoded with wrong
content (must be 0), samples delivered + counted lost against every sample
the board produced (must match exactly, the end of input included), and the
largest unparsed buffer seen (bounded by one maximal frame).

The fault injectors are shared with tests/test_wire_faults.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

from myotwitch import protocol as P

FRAME_SAMPLES = 50


@dataclass
class Sent:
    seq: int
    samples: np.ndarray
    wire: bytes


def clean_frames(n_frames: int, rng: np.random.Generator, first_seq: int = 0) -> list[Sent]:
    out = []
    for k in range(n_frames):
        seq = (first_seq + k * FRAME_SAMPLES) % P.SEQ_MODULUS
        samples = rng.integers(0, 4096, FRAME_SAMPLES, dtype=np.uint16)
        out.append(Sent(seq, samples, P.encode_data(seq, k * 50_000, 0, samples, P.FORMAT_PACKED12)))
    return out


def end_status(frames: list[Sent]) -> bytes:
    """The board's END status after its last frame: samples produced since START (modulo 2**32)."""
    produced = (frames[-1].seq + FRAME_SAMPLES) % P.SEQ_MODULUS if frames else 0
    return P.encode_status(P.STATUS_END, f"frames={len(frames)} samples={produced} lost=0 short_writes=0")


# Each fault: (frames, rng) -> (the bytes on the wire, indices of frames left intact and in order).
Fault = Callable[[list[Sent], np.random.Generator], tuple[bytes, set[int]]]


def no_fault(frames, rng):
    return b"".join(f.wire for f in frames), set(range(len(frames)))


def random_bytes(frames, rng, share=0.1):
    """Bursts of 1-300 random bytes before about `share` of the frames (a console traceback, line noise)."""
    parts = []
    for f in frames:
        if rng.random() < share:
            parts.append(rng.integers(0, 256, int(rng.integers(1, 300)), dtype=np.uint8).tobytes())
        parts.append(f.wire)
    return b"".join(parts), set(range(len(frames)))


def truncated(frames, rng, share=0.05):
    """About `share` of the frames cut short at a random byte: their tail never arrives."""
    parts, intact = [], set()
    for i, f in enumerate(frames):
        if rng.random() < share:
            parts.append(f.wire[: int(rng.integers(1, len(f.wire)))])
        else:
            parts.append(f.wire)
            intact.add(i)
    return b"".join(parts), intact


def bit_flips(frames, rng, per_byte=1e-4):
    """About per_byte of the bytes get one bit flipped."""
    parts, intact = [], set()
    for i, f in enumerate(frames):
        wire = bytearray(f.wire)
        hits = np.nonzero(rng.random(len(wire)) < per_byte)[0]
        for h in hits:
            wire[h] ^= 1 << int(rng.integers(0, 8))
        parts.append(bytes(wire))
        if len(hits) == 0:
            intact.add(i)
    return b"".join(parts), intact


def duplicated(frames, rng, share=0.05):
    """About `share` of the frames sent twice in a row."""
    parts = []
    for f in frames:
        parts.append(f.wire)
        if rng.random() < share:
            parts.append(f.wire)
    return b"".join(parts), set(range(len(frames)))


def reordered(frames, rng, share=0.05):
    """About `share` of adjacent pairs swapped: the later one arrives first, the earlier one late."""
    order = list(range(len(frames)))
    i = 0
    while i < len(order) - 1:
        if rng.random() < share:
            order[i], order[i + 1] = order[i + 1], order[i]
            i += 2
        else:
            i += 1
    # A frame that arrives after a later one is late: the decoder drops it (its samples counted lost).
    intact, newest = set(), -1
    for k in order:
        if k > newest:
            intact.add(k)
            newest = k
    return b"".join(frames[k].wire for k in order), intact


def everything(frames, rng):
    """Garbage, truncation, duplicates and bit flips together."""
    parts, intact = [], set()
    for i, f in enumerate(frames):
        r = rng.random()
        if r < 0.03:
            parts.append(f.wire[: int(rng.integers(1, len(f.wire)))])
            continue
        w = bytearray(f.wire)
        flipped = r < 0.06
        if flipped:
            w[int(rng.integers(0, len(w)))] ^= 1 << int(rng.integers(0, 8))
        if rng.random() < 0.05:
            parts.append(rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes())
        parts.append(bytes(w))
        if rng.random() < 0.03:
            parts.append(bytes(w))
        if not flipped:
            intact.add(i)
    return b"".join(parts), intact


def length_near_the_end(frames, rng):
    """A header claiming a 1000-byte frame just before the last 8 frames (shorter than that): issue 15, item 5."""
    head = b"".join(f.wire for f in frames[:-8])
    return head + bytes.fromhex("A55A0144E803") + b"".join(f.wire for f in frames[-8:]), set(range(len(frames)))


def restart_without_hello(frames, rng):
    """The board restarts after 1,000 samples (inside the 2,048-sample stale window) and its hello is lost:
    its counter and clock start again at 0. The frames after the restart are renumbered in place (as the
    board sends them): issue 15, item 6.
    """
    k = max(1, min(20, len(frames) // 3))
    for i in range(k, len(frames)):
        seq = (i - k) * FRAME_SAMPLES
        f = frames[i]
        frames[i] = Sent(seq, f.samples, P.encode_data(seq, 3_000 + (i - k) * 50_000, 0, f.samples, P.FORMAT_PACKED12))
    return b"".join(f.wire for f in frames), set(range(len(frames)))


FAULTS: dict[str, Fault] = {
    "none": no_fault,
    "random bytes between frames (10 % of frames)": random_bytes,
    "truncated frames (5 %)": truncated,
    "bit flips (1 byte in 10,000)": bit_flips,
    "duplicated frames (5 %)": duplicated,
    "reordered frames (5 % of pairs)": reordered,
    "all of the above": everything,
    "a corrupted length before the last 8 frames": length_near_the_end,
    "counter restarts without a hello (after 1,000 samples)": restart_without_hello,
}


@dataclass
class Outcome:
    sent: int
    intact: int
    intact_recovered: int
    wrong: int
    produced: int  # every sample the board produced
    delivered: int
    lost: int
    max_buffer_bytes: int
    crc_errors: int
    stale_frames: int


def feed_in_chunks(data: bytes, rng: np.random.Generator, decoder: P.FrameDecoder) -> tuple[list, int]:
    """Feed as a port delivers: chunks of 1-512 bytes. Returns the frames and the largest buffer seen."""
    out, i, biggest = [], 0, 0
    while i < len(data):
        n = int(rng.integers(1, 513))
        out += decoder.feed(data[i : i + n])
        biggest = max(biggest, decoder.buffered_bytes)
        i += n
    return out, biggest


def run_fault(fault: Fault, n_frames: int, seed: int, first_seq: int = 0) -> Outcome:
    rng = np.random.default_rng(seed)
    frames = clean_frames(n_frames, rng, first_seq)
    wire, intact = fault(frames, rng)  # may renumber frames in place (a restart)
    decoder = P.FrameDecoder()
    # The board answers START before its first frame (seq 0); a stream joined mid-way (first_seq != 0) has no
    # START, so what was lost before its first frame received is unknown: produced counts from that frame.
    start = P.encode_status(P.STATUS_OK, "START") if first_seq == 0 else b""
    decoded, biggest = feed_in_chunks(start + wire + end_status(frames), rng, decoder)
    decoded += decoder.finish()
    data = [f for f in decoded if isinstance(f, P.DataFrame)]
    by_frame = {(f.seq, f.wire[10:14]): (i, f.samples) for i, f in enumerate(frames)}  # seq and device time
    recovered, wrong = set(), 0
    for f in data:
        sent = by_frame.get((f.seq, f.t_us.to_bytes(4, "little")))
        if sent is None or not np.array_equal(sent[1], f.samples):
            wrong += 1
        else:
            recovered.add(sent[0])
    produced = len(frames) * FRAME_SAMPLES
    if first_seq != 0 and data:
        produced -= (data[0].seq - first_seq) % P.SEQ_MODULUS
    return Outcome(
        sent=n_frames, intact=len(intact), intact_recovered=len(intact & recovered), wrong=wrong,
        produced=produced, delivered=decoder.stats.samples, lost=decoder.stats.lost_samples,
        max_buffer_bytes=biggest, crc_errors=decoder.stats.crc_errors, stale_frames=decoder.stats.stale_frames,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=20_000, help="frames per fault (default 20000: 1,000,000 samples)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"{args.frames} frames of {FRAME_SAMPLES} samples per fault, fed in random 1-512 byte chunks, seed {args.seed}")
    print()
    print("| fault | frames sent | intact | intact recovered | wrong frames | samples delivered + lost = produced "
          "| largest buffer |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    cases = list(FAULTS.items()) + [("counter wrap-around (starts 2,000 samples before 2**32)", no_fault)]
    for name, fault in cases:
        first = P.SEQ_MODULUS - 2000 if name.startswith("counter wrap") else 0
        o = run_fault(fault, args.frames, args.seed, first)
        balanced = o.delivered + o.lost == o.produced
        ok &= balanced and o.wrong == 0 and o.intact_recovered == o.intact and o.max_buffer_bytes <= P.MAX_FRAME_BYTES
        print(f"| {name} | {o.sent:,} | {o.intact:,} | {o.intact_recovered:,} | {o.wrong} | "
              f"{o.delivered:,} + {o.lost:,} = {o.delivered + o.lost:,} (produced {o.produced:,}) | "
              f"{o.max_buffer_bytes} B |")
    print()
    print("every intact frame recovered, none wrong, every sample accounted for, buffer bounded:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
