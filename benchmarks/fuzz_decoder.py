"""Coverage-guided fuzzing of the frame decoder with atheris (libFuzzer), for a bounded run.

    .venv/bin/python benchmarks/fuzz_decoder.py -runs=200000
    .venv/bin/python benchmarks/fuzz_decoder.py -max_total_time=600

Each input is split into chunks (its first byte picks the chunk size) and fed
to a fresh `FrameDecoder`, after two valid frames so that sequence tracking
is live. The decoder must never raise, never hold more than one maximal frame
of unparsed bytes, and keep its books: samples counted equal samples in the
frames it returned, sequence gaps never negative. Any violation is a crash
that libFuzzer reports with the input that caused it. Options after the
script name are libFuzzer's (-runs, -max_total_time, -seed, a corpus folder);
without a corpus folder, one is made in a temporary folder and seeded with
valid frames of each kind.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "host"))

with atheris.instrument_imports():
    from myotwitch import protocol as P

import numpy as np  # noqa: E402

_PRELUDE = P.encode_data(0, 0, 0, np.arange(50, dtype=np.uint16), P.FORMAT_PACKED12) + P.encode_data(
    50, 50_000, 0, np.arange(50, dtype=np.uint16), P.FORMAT_U16)


def check(data: bytes) -> None:
    decoder = P.FrameDecoder()
    decoder.feed(_PRELUDE)
    chunk = 1 + (data[0] if data else 0)
    frames = []
    for i in range(1, len(data), chunk):
        frames += decoder.feed(data[i : i + chunk])
        if decoder.buffered_bytes > P.MAX_FRAME_BYTES:
            raise AssertionError(f"decoder holds {decoder.buffered_bytes} bytes")
    samples = sum(len(f.samples) for f in frames if isinstance(f, P.DataFrame))
    if decoder.stats.samples != 100 + samples:
        raise AssertionError("sample count out of step with the frames returned")
    if any(isinstance(f, P.DataFrame) and f.lost_before < 0 for f in frames):
        raise AssertionError("a negative gap")


def seed_corpus(folder: Path) -> None:
    """Valid frames of each kind, so that mutation starts from inputs that pass the CRC."""
    rng = np.random.default_rng(0)
    seeds = {
        "data_packed12": P.encode_data(100, 7, P.FLAG_SATURATED, rng.integers(0, 4096, 50), P.FORMAT_PACKED12),
        "data_u16_odd": P.encode_data(2**32 - 10, 7, 0, rng.integers(0, 65536, 33), P.FORMAT_U16),
        "hello": P.encode_hello([("board", "sim"), ("protocol", 1), ("rate_hz", 1000), ("adc_bits", 12),
                                 ("vref_mv", 3300), ("gain", 1000), ("frame_samples", 50), ("format", 1)]),
        "status": P.encode_status(P.STATUS_OK, "STATS frames=1 samples=50 lost=0"),
        "gap_then_frames": P.encode_data(400, 0, 0, np.zeros(50), P.FORMAT_PACKED12) + b"junk\xa5"
        + P.encode_data(150, 0, 0, np.ones(50), P.FORMAT_PACKED12),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in seeds.items():
        (folder / name).write_bytes(b"\x40" + frame)  # first byte: the chunk size (65)


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):  # no corpus folder given: a fresh seeded one
        import tempfile

        corpus = Path(tempfile.mkdtemp(prefix="myotwitch-fuzz-"))
        seed_corpus(corpus)
        argv.append(str(corpus))
    atheris.Setup(argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
