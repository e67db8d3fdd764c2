"""Episode grouping and the monitor pipeline."""

from __future__ import annotations

import numpy as np

from myotwitch.episodes import EpisodeConfig, EpisodeGrouper
from myotwitch.monitor import Monitor
from myotwitch.sources import SampleBlock
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource


def test_twitches_close_an_episode_after_the_quiet_gap():
    g = EpisodeGrouper(EpisodeConfig(quiet_gap_s=5.0, min_twitches=2))
    out = []
    for t in (1.0, 2.0, 4.0):
        out += g.add(t, 50.0)
    assert out == []
    assert g.advance(8.9) == []  # 4.9 s of quiet: still open
    (episode,) = g.advance(9.1)
    assert (episode.start_s, episode.end_s, episode.count) == (1.0, 4.0, 3)
    assert episode.rate_per_min == 60.0 * 2 / 3.0


def test_a_lone_twitch_is_not_an_episode():
    g = EpisodeGrouper(EpisodeConfig(min_twitches=2))
    assert g.add(1.0, 40.0) == []
    assert g.add(30.0, 40.0) == []  # closes the first: a single twitch, no episode
    assert g.flush() == []


def test_amplitudes_are_summarised():
    g = EpisodeGrouper()
    for t, a in ((1.0, 10.0), (1.5, 30.0), (2.0, 20.0)):
        g.add(t, a)
    (e,) = g.flush()
    assert e.median_peak_uv == 20.0 and e.max_peak_uv == 30.0


def run_monitor(signal_uv, rate_hz, block):
    m = Monitor(rate_hz)
    events = []
    for i in range(0, len(signal_uv), block):
        events += m.feed(SampleBlock(i, signal_uv[i : i + block]))
    return events + m.finish(), m


def test_monitor_events_do_not_depend_on_block_size():
    src = SyntheticSource(SyntheticConfig(duration_s=90, twitch_rate_per_min=15, peak_sigma_range=(15, 30), seed=21))
    a, ma = run_monitor(src.signal_uv, src.rate_hz, 50)
    b, mb = run_monitor(src.signal_uv, src.rate_hz, 7919)
    assert a == b
    assert ma.episodes == sum(e["type"] == "episode" for e in a) > 0
    assert ma.twitches == sum(e["type"] == "twitch" for e in a) > 0


def test_monitor_counts_lost_samples():
    m = Monitor(1000.0)
    m.feed(SampleBlock(0, np.zeros(100)))
    m.feed(SampleBlock(150, np.zeros(100), lost_before=50))
    assert m.samples == 200 and m.lost_samples == 50
