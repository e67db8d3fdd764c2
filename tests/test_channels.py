"""Cross-channel rules (dsp/channels.py) through MultiMonitor, on constructed three-channel signals."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from myotwitch.dsp.channels import REASON_COMMON_MODE, REASON_CROSSTALK, ChannelEvent, ChannelRules
from myotwitch.dsp.detector import Rejected, Twitch
from myotwitch.monitor import MultiMonitor
from myotwitch.sources import SampleBlock

RATE_HZ = 2000.0
NOISE_UV = 5.0


def potential(rate_hz: float, width_ms: float = 10.0) -> np.ndarray:
    """A biphasic potential of unit peak: the derivative of a Gaussian."""
    t = np.arange(-round(width_ms * rate_hz / 1000), round(width_ms * rate_hz / 1000) + 1) / rate_hz
    sigma_s = width_ms / 1000 / 5
    p = -t * np.exp(-(t**2) / (2 * sigma_s**2))
    return p / np.abs(p).max()


def scene(seed: int = 1, seconds: float = 40.0):
    """Three channels of noise; twitches in channel 0 with a 0.35 copy on channel 1 (crosstalk); common-mode
    potentials of another shape on all three at 0.8-1.2 of one size. Returns (signals, twitch and common
    peak indexes)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE_HZ)
    x = rng.normal(0, NOISE_UV, (3, n))
    unit = potential(RATE_HZ, 10.0)
    wide = potential(RATE_HZ, 16.0)
    times = np.cumsum(rng.uniform(1.2, 2.2, int(seconds)))  # irregular: no ECG-like train
    times = times[(times > 3.0) & (times < seconds - 2.0)]
    twitches, common = [], []
    for k, t_s in enumerate(times):
        at = int(t_s * RATE_HZ)
        if k % 2 == 0:
            size_uv = 15 * NOISE_UV
            x[0, at - len(unit) // 2 : at + len(unit) // 2 + 1] += size_uv * unit
            x[1, at - len(unit) // 2 : at + len(unit) // 2 + 1] += 0.35 * size_uv * unit
            twitches.append(at)
        else:
            for ch, gain in enumerate((1.0, 0.8, 1.2)):
                x[ch, at - len(wide) // 2 : at + len(wide) // 2 + 1] += gain * 12 * NOISE_UV * wide
            common.append(at)
    return x, twitches, common


def run(x: np.ndarray, block_sizes=(4096,)) -> tuple[list[ChannelEvent], MultiMonitor]:
    monitor = MultiMonitor(RATE_HZ, ["a", "b", "c"])
    out: list[ChannelEvent] = []
    i, k = 0, 0
    while i < x.shape[1]:
        m = block_sizes[k % len(block_sizes)]
        out += monitor.feed([SampleBlock(i, x[ch, i : i + m]) for ch in range(x.shape[0])])
        i += m
        k += 1
    return out + monitor.finish(), monitor


def near(events, index: int, tolerance: int = 20):
    return [e for e in events if abs(e.event.peak_index - index) <= tolerance]


def test_the_detectors_alone_count_common_mode_and_crosstalk_as_twitches():
    """What the rules are for: each channel's detector sees the copies as twitches of its own."""
    x, twitches, common = scene()
    _, monitor = run(x)
    raw = [m.detector.stats.twitches for m in monitor.channels]
    assert raw[1] >= len(twitches) // 2 and raw[2] >= len(common) // 2


def test_common_mode_is_rejected_on_every_channel_with_its_reason():
    x, _, common = scene()
    out, _ = run(x)
    decided = [e for e in out if isinstance(e.event, (Twitch, Rejected))]
    for at in common:
        here = near(decided, at, 40)
        assert not [e for e in here if isinstance(e.event, Twitch)], at
        assert any(isinstance(e.event, Rejected) and e.event.reason == REASON_COMMON_MODE for e in here)


def test_crosstalk_is_one_twitch_on_the_channel_where_it_is_largest():
    x, twitches, _ = scene()
    out, monitor = run(x)
    decided = [e for e in out if isinstance(e.event, (Twitch, Rejected))]
    crosstalk = 0
    for at in twitches:
        counted = [e for e in near(decided, at) if isinstance(e.event, Twitch)]
        assert [e.channel for e in counted] == [0], at
        crosstalk += any(e.channel == 1 and isinstance(e.event, Rejected) and e.event.reason == REASON_CROSSTALK
                         for e in near(decided, at))
    assert crosstalk >= len(twitches) // 2  # the copies the detector of channel 1 saw
    summaries = monitor.summaries()
    assert [s["twitches"] for s in summaries] == [len(twitches), 0, 0]
    assert summaries[1]["rejected"].get(REASON_CROSSTALK) == crosstalk
    assert [s["muscle"] for s in summaries] == ["a", "b", "c"]


def test_a_twitch_on_one_channel_alone_is_kept():
    x, twitches, _ = scene()
    x[1] = np.random.default_rng(9).normal(0, NOISE_UV, x.shape[1])  # no crosstalk
    _, monitor = run(x)
    assert monitor.summaries()[0]["twitches"] == len(twitches)


def test_two_channels_tell_crosstalk_from_common_mode_by_size():
    rules = ChannelRules(RATE_HZ, 2)
    rng = np.random.default_rng(3)
    x = rng.normal(0, NOISE_UV, (2, 8000))
    unit = 20 * NOISE_UV * potential(RATE_HZ)
    x[0, 2000 - 20 : 2021] += unit
    x[1, 2000 - 20 : 2021] += 0.3 * unit  # crosstalk
    x[0, 5000 - 20 : 5021] += unit
    x[1, 5000 - 20 : 5021] += 0.9 * unit  # common-mode
    for ch in range(2):
        rules.feed(ch, 0, x[ch], [])
    assert rules.reason(1, 2000) == REASON_CROSSTALK and rules.reason(0, 2000) is None
    assert rules.reason(0, 5000) == REASON_COMMON_MODE and rules.reason(1, 5000) == REASON_COMMON_MODE


def decisions(out: list[ChannelEvent]) -> list[tuple]:
    return sorted((e.channel, type(e.event).__name__, e.event.peak_index, getattr(e.event, "reason", ""))
                  for e in out if isinstance(e.event, (Twitch, Rejected)))


_SCENE = scene(seconds=16.0)[0]
_WHOLE = decisions(run(_SCENE, (len(_SCENE[0]),))[0])


@settings(max_examples=8, deadline=None)
@given(st.lists(st.integers(1, 20_000), min_size=1, max_size=6))
def test_decisions_do_not_depend_on_block_size(block_sizes):
    out, _ = run(_SCENE, block_sizes)
    assert decisions(out) == _WHOLE
    twitches = [e for e in out if isinstance(e.event, Twitch)]
    assert [e.event.peak_index for e in twitches] == sorted(e.event.peak_index for e in twitches)


def test_a_twitch_waits_for_its_window_on_every_channel():
    """Decided before the other channels' samples around it arrive, a copy would go unseen."""
    rules = ChannelRules(RATE_HZ, 2)
    rng = np.random.default_rng(5)
    x = rng.normal(0, NOISE_UV, (2, 8000))
    unit = 20 * NOISE_UV * potential(RATE_HZ)
    x[0, 3980:4021] += 0.3 * unit
    x[1, 3980:4021] += unit
    twitch = Twitch(4000, 3990, 4010, float(0.3 * np.abs(unit).max()), NOISE_UV)
    rules.feed(0, 0, x[0], [twitch])
    rules.feed(1, 0, x[1, :4005], [])
    assert rules.decide([8000, 8000]) == []  # channel 1 holds nothing past the peak yet
    rules.feed(1, 4005, x[1, 4005:], [])
    decided = rules.decide([8000, 8000])
    assert [(d.channel, d.event.reason) for d in decided] == [(0, REASON_CROSSTALK)]
