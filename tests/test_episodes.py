"""Episode grouping and the monitor pipeline."""

from __future__ import annotations

import numpy as np
from myotwitch.episodes import Episode, EpisodeConfig, EpisodeGrouper
from myotwitch.events import Twitch
from myotwitch.monitor import Monitor
from myotwitch.sources import SampleBlock
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource


def test_twitches_close_an_episode_after_the_quiet_gap():
    g = EpisodeGrouper(1000.0, EpisodeConfig(quiet_gap_s=5.0, min_twitches=2))
    out = []
    for peak_index in (1000, 2000, 4000):
        out += g.add(peak_index, 50.0)
    assert out == []
    assert g.advance(8900) == []  # 4.9 s of quiet: still open
    (episode,) = g.advance(9100)
    assert (episode.start_index, episode.end_index, episode.count) == (1000, 4000, 3)
    assert episode.rate_per_min(1000.0) == 60.0 * 2 / 3.0


def test_episodes_are_grouped_on_sample_indices_not_rounded_seconds():
    """At 1024 Hz a peak's time rounded to 0.1 ms is off by up to 0.05 ms: exactly 5 s of quiet after a
    twitch at index 3 (0.0029297 s, rounded down to 0.0029 s) would measure 5.00003 s and close the bout."""
    g = EpisodeGrouper(1024.0, EpisodeConfig(quiet_gap_s=5.0))
    g.add(1, 40.0)
    g.add(3, 40.0)
    assert g.advance(3 + 5 * 1024) == []  # exactly the quiet gap: still open
    (episode,) = g.advance(3 + 5 * 1024 + 1)
    assert (episode.start_index, episode.end_index) == (1, 3)
    assert episode.rate_per_min(1024.0) == 60.0 * 1024 / 2


def test_a_lone_twitch_is_not_an_episode():
    g = EpisodeGrouper(1000.0, EpisodeConfig(min_twitches=2))
    assert g.add(1000, 40.0) == []
    assert g.add(30_000, 40.0) == []  # closes the first: a single twitch, no episode
    assert g.flush() == []


def test_amplitudes_are_summarised():
    g = EpisodeGrouper(1000.0)
    for peak_index, a in ((1000, 10.0), (1500, 30.0), (2000, 20.0)):
        g.add(peak_index, a)
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
    assert ma.episodes == sum(isinstance(e, Episode) for e in a) > 0
    assert ma.twitches == sum(isinstance(e, Twitch) for e in a) > 0


def test_monitor_counts_lost_samples():
    m = Monitor(1000.0)
    m.feed(SampleBlock(0, np.zeros(100)))
    m.feed(SampleBlock(150, np.zeros(100), lost_before=50))
    assert m.samples == 200 and m.lost_samples == 50
