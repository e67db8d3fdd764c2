"""Each rule of the detector on a constructed signal: artifacts and non-twitches give no twitch."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from myotwitch.dsp import rules
from myotwitch.dsp.detector import DetectorConfig, Rejected, Twitch, TwitchDetector
from myotwitch.dsp.filters import FilterConfig
from myotwitch.sources import synthetic as syn

RATE_HZ = 1000.0
NOISE_UV = 2.0


def rest(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, NOISE_UV, int(seconds * RATE_HZ))


def run(x: np.ndarray, config: DetectorConfig | None = None):
    det = TwitchDetector(RATE_HZ, config or DetectorConfig())
    out = []
    for i in range(0, len(x), 1000):
        out += det.process(i, x[i : i + 1000])
    out += det.flush()
    return [e for e in out if isinstance(e, Twitch)], [e for e in out if isinstance(e, Rejected)], det


def shape(duration_ms: float = 15.0, phases: int = 3, seed: int = 0) -> np.ndarray:
    return syn.motor_unit_potential(RATE_HZ, duration_ms, phases, np.random.default_rng(seed))


def at_a_phase(found_index: int, peak_index: int, unit: np.ndarray, tolerance: int) -> bool:
    """Is a twitch at the potential's peak (its largest phase, injected at peak_index), or at its other phase if
    that is as large (a symmetric biphasic unit: which one is the peak in noise is chance)?"""
    centre = int(np.argmax(np.abs(unit)))
    other = int(np.argmax(-np.sign(unit[centre]) * unit))
    phases = [peak_index] + ([peak_index + other - centre] if abs(unit[other]) >= 0.95 * abs(unit[centre]) else [])
    return any(abs(found_index - p) <= tolerance for p in phases)


def reasons_near(rejected, index, tolerance=15):
    return {r.reason for r in rejected if abs(r.peak_index - index) <= tolerance}


def test_isolated_potential_is_a_twitch_with_its_fields():
    x = rest(10, 1)
    syn.add_potential(x, 5000, shape(15), 20 * NOISE_UV)
    twitches, _, _ = run(x)
    (t,) = twitches
    assert abs(t.peak_index - 5000) <= 3
    assert t.onset_index < t.peak_index < t.end_index
    assert 5 <= t.duration_ms(RATE_HZ) <= 25
    assert 30 < t.peak_uv < 50 and t.snr > 10 and t.doublet_interval_samples is None


@pytest.mark.parametrize("step_sigma", [30, 100])
def test_electrode_pop_gives_no_twitch(step_sigma):
    x = rest(10, 2)
    syn.add_pop(x, 5000, RATE_HZ, step_sigma * NOISE_UV)
    twitches, rejected, _ = run(x)
    assert twitches == []
    assert rules.REASON_POP in reasons_near(rejected, 5000, 50)


@pytest.mark.parametrize(("swing_sigma", "swing_s"), [(80, 0.3), (160, 0.2)])
def test_motion_swing_gives_no_twitch_and_is_named_motion(swing_sigma, swing_s):
    """Swings quick enough to leave potential-like candidates in the band-pass (a slower one leaves none, so
    it cannot show the rule): each is rejected as motion, the reason checked, not only the absence of twitches."""
    x = rest(10, 3)
    syn.add_motion(x, 4000, RATE_HZ, swing_sigma * NOISE_UV, swing_s, np.random.default_rng(3))
    twitches, rejected, _ = run(x)
    assert twitches == []
    middle = 4000 + round(swing_s * RATE_HZ / 2)
    assert rules.REASON_MOTION in reasons_near(rejected, middle, round(swing_s * RATE_HZ))


def test_ecg_train_gives_no_twitch():
    x = rest(40, 4)
    peaks = syn.add_ecg_train(x, 3000, RATE_HZ, 30, 72, 12 * NOISE_UV, np.random.default_rng(4))
    twitches, rejected, _ = run(x)
    assert len(twitches) <= 1  # at most an edge beat: the chain needs five
    assert sum(rules.REASON_ECG in reasons_near(rejected, p, 60) for p in peaks) >= len(peaks) - 1


def test_ecg_train_under_mains_hum_gives_no_twitch_and_twitches_between_beats_are_found():
    # With the mains notched out of the baseline too, a beat is told by its
    # rhythm alone: its Q and S waves (small peaks beside the R wave, which can
    # pass for a doublet) must go with it.
    x = rest(40, 14)
    syn.add_mains(x, RATE_HZ, 50.0, 10 * NOISE_UV)
    rng = np.random.default_rng(14)
    peaks = syn.add_ecg_train(x, 3000, RATE_HZ, 30, 66, 12 * NOISE_UV, rng)
    between = [p + 450 for p in peaks[5:25:4]]
    for i in between:
        syn.add_potential(x, i, shape(15, 3, seed=i), 10 * NOISE_UV)
    twitches, rejected, _ = run(x)
    assert sorted(t.peak_index for t in twitches if min(abs(t.peak_index - i) for i in between) > 5) == []
    assert all(any(abs(t.peak_index - i) <= 5 for t in twitches) for i in between)
    assert sum(rules.REASON_ECG in reasons_near(rejected, p, 60) for p in peaks) >= len(peaks) - 1


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_strong_mains_does_not_make_a_twitch_look_like_a_moving_baseline(mains_hz):
    # A 50 ms moving average lets 50 Hz through at about an eighth: 30 sigma
    # of hum would swing the baseline by 8 sigma, more than an 8-sigma
    # potential's half, if the baseline did not also average over one mains period.
    x = rest(20, 15)
    syn.add_mains(x, RATE_HZ, mains_hz, 30 * NOISE_UV)
    found = (5000, 9000, 13000, 17000)
    for i in found:
        syn.add_potential(x, i, shape(20, 2, seed=i), 8 * NOISE_UV)
    twitches, rejected, _ = run(x)
    assert [r.reason for r in rejected if r.reason.startswith("artifact")] == []
    assert len(twitches) == 4
    assert all(at_a_phase(t.peak_index, i, shape(20, 2, seed=i), 5) for t, i in zip(twitches, found, strict=True))


def test_clipped_burst_gives_no_twitch():
    x = rest(10, 5)
    syn.add_potential(x, 5000, shape(25, 2), 200 * NOISE_UV)
    np.clip(x, -60.0, 60.0, out=x)  # the ADC's rails
    twitches, rejected, _ = run(x)
    assert twitches == []
    assert rules.REASON_CLIPPING in reasons_near(rejected, 5000, 20)


@pytest.mark.parametrize("mains_hz", [50.0, 60.0])
def test_mains_at_ten_times_noise_is_notched_and_twitches_still_found(mains_hz):
    x = rest(20, 6)
    syn.add_mains(x, RATE_HZ, mains_hz, 10 * NOISE_UV)
    for i in (6000, 12000, 17000):
        syn.add_potential(x, i, shape(15, 2, seed=i), 10 * NOISE_UV)
    twitches, _, det = run(x)
    assert det.mains_hz == (mains_hz,)
    assert len(twitches) == 3
    assert [abs(t.peak_index - i) <= 5 for t, i in zip(twitches, (6000, 12000, 17000), strict=True)] == [True] * 3


def test_mains_can_be_forced():
    x = rest(5, 7)
    _, _, det = run(x, DetectorConfig(filters=FilterConfig(mains="60")))
    assert det.mains_hz == (60.0,)
    _, _, det = run(x)
    assert det.mains_hz == ()  # auto, and no mains in this signal


def test_continual_firing_is_not_counted_but_an_isolated_twitch_is():
    x = rest(20, 8)
    unit = shape(12, 2, seed=8)
    for i in range(4000, 9000, 120):  # one unit firing at about 8 Hz for 5 s
        syn.add_potential(x, i, unit, 8 * NOISE_UV)
    syn.add_potential(x, 15000, unit, 8 * NOISE_UV)  # alone
    twitches, rejected, _ = run(x)
    assert [abs(t.peak_index - 15000) <= 3 for t in twitches] == [True]
    assert sum(r.reason in (rules.REASON_CONTINUAL, rules.REASON_DENSE) for r in rejected) >= 35


def test_doublet_is_one_twitch_flagged_with_its_interval():
    x = rest(10, 9)
    unit = shape(12, 3, seed=9)
    syn.add_potential(x, 5000, unit, 15 * NOISE_UV)
    syn.add_potential(x, 5035, unit, 14 * NOISE_UV)  # 35 ms later: a doublet
    twitches, rejected, _ = run(x)
    (t,) = twitches
    assert abs(t.peak_index - 5000) <= 3 and abs(t.doublet_interval_samples - 35) <= 3
    assert rules.REASON_DOUBLET_SECOND in reasons_near(rejected, 5035, 5)


@pytest.mark.parametrize("sigma", [8, 15])
def test_two_units_firing_close_together_are_two_twitches_not_a_doublet(sigma):
    # A doublet is one unit firing twice: a potential of another shape (a
    # broad biphasic before a narrow triphasic) 60 ms before is not its first.
    x = rest(10, 16)
    syn.add_potential(x, 4940, shape(28, 2, seed=1), sigma * NOISE_UV)
    syn.add_potential(x, 5000, shape(9, 3, seed=2), sigma * NOISE_UV)
    twitches, _, _ = run(x)
    assert len(twitches) == 2 and [t.doublet_interval_samples for t in twitches] == [None, None]
    assert abs(twitches[0].peak_index - 4940) <= 10 and abs(twitches[1].peak_index - 5000) <= 5


@pytest.mark.parametrize("sigma", [6, 15])
def test_a_doublet_in_noise_is_still_recognised_by_its_shape(sigma):
    for seed in range(5):
        x = rest(10, 20 + seed)
        unit = shape(15, 2 + seed % 2, seed=seed)
        syn.add_potential(x, 5000, unit, sigma * NOISE_UV)
        syn.add_potential(x, 5060, unit, sigma * NOISE_UV)
        twitches, _, _ = run(x)
        assert [abs(t.doublet_interval_samples - 60) <= 3 for t in twitches] == [True], seed


@pytest.mark.parametrize("interval_ms", [12, 20, 28])
def test_a_doublet_whose_potentials_overlap_is_one_twitch_at_the_first(interval_ms):
    # 20 ms potentials 12-28 ms apart run into each other: one candidate, too
    # long for a twitch as a whole (was rejected so, or reported at the larger
    # peak unflagged). It is one unit firing twice: a twitch at the first peak,
    # flagged with the interval, as long as one potential.
    for seed in range(4):
        x = rest(10, 30 + seed)
        unit = shape(20, 2 + seed % 2, seed=seed)
        syn.add_potential(x, 5000, unit, 12 * NOISE_UV)
        syn.add_potential(x, 5000 + interval_ms, unit, 13 * NOISE_UV)  # the second a little larger
        twitches, rejected, _ = run(x)
        assert len(twitches) == 1, seed
        (t,) = twitches
        assert at_a_phase(t.peak_index, 5000, unit, 3) and abs(t.doublet_interval_samples - interval_ms) <= 3, (seed, t)
        assert t.duration_ms(RATE_HZ) <= DetectorConfig().max_duration_ms
        assert rules.REASON_LONG not in reasons_near(rejected, 5000, 40)


def test_two_overlapping_units_are_not_taken_for_a_doublet():
    # Two units of different shapes 15-25 ms apart: not one unit firing twice.
    for seed, gap in enumerate((15, 20, 25)):
        x = rest(10, 40 + seed)
        syn.add_potential(x, 5000, shape(22, 2, seed=1), 12 * NOISE_UV)
        syn.add_potential(x, 5000 + gap, shape(10, 3, seed=2), 12 * NOISE_UV)
        twitches, _, _ = run(x)
        assert all(t.doublet_interval_samples is None for t in twitches), (gap, twitches)


@pytest.mark.parametrize("phases", [2, 3])
def test_a_single_broad_potential_is_not_split_into_a_doublet(phases):
    # A 30 ms potential's phases lie 10 ms and more apart, as large as each other
    # when biphasic: of opposite sign, so not a second discharge.
    for k, sigma in enumerate((6, 10, 20)):
        x = rest(10, 50 + k)
        syn.add_potential(x, 5000, shape(30, phases, seed=k), sigma * NOISE_UV)
        twitches, _, _ = run(x)
        assert len(twitches) == 1 and twitches[0].doublet_interval_samples is None, (sigma, twitches)


def test_a_second_unit_amid_continual_firing_is_still_a_twitch():
    x = rest(20, 10)
    small = shape(10, 2, seed=10)
    for i in range(4000, 12000, 150):
        syn.add_potential(x, i, small, 6 * NOISE_UV)
    # A much larger potential between two discharges of the small unit: another unit, isolated.
    syn.add_potential(x, 8075, shape(20, 3, seed=11), 40 * NOISE_UV)
    twitches, _, _ = run(x)
    assert any(abs(t.peak_index - 8075) <= 5 for t in twitches)


def test_ringing_after_a_large_twitch_is_an_echo_not_a_twitch():
    x = rest(10, 12)
    syn.add_mains(x, RATE_HZ, 50.0, 10 * NOISE_UV)  # notches on: they ring
    syn.add_potential(x, 5000, shape(20, 3, seed=12), 150 * NOISE_UV)
    twitches, _, _ = run(x)
    assert [abs(t.peak_index - 5000) <= 5 for t in twitches] == [True]


def test_flat_signal_is_reported_and_skipped():
    x = rest(20, 13)
    x[6000:12000] = 123.0  # lead off: the ADC reads a constant
    from myotwitch.dsp.detector import SignalIssue

    det = TwitchDetector(RATE_HZ)
    out = det.process(0, x) + det.flush()
    (issue,) = [e for e in out if isinstance(e, SignalIssue)]
    assert issue.kind == "flat" and 6000 <= issue.start_index <= 6500 and 11500 <= issue.end_index <= 12000
    assert not [e for e in out if isinstance(e, Twitch)]


def test_unsupported_rates_are_refused():
    for rate_hz in (100.0, 250.0, 50_000.0):
        with pytest.raises(ValueError, match="not supported"):
            TwitchDetector(rate_hz)


def test_short_voluntary_burst_and_a_potential_just_before_it_are_not_twitches():
    x = rest(15, 14)
    rng = np.random.default_rng(14)
    x[8000:8300] += rng.normal(0, 60.0, 300)  # a 0.3 s burst: too short for an activity segment
    syn.add_potential(x, 7880, shape(12, 2, seed=14), 15 * NOISE_UV)  # 120 ms before it
    syn.add_potential(x, 12000, shape(12, 2, seed=14), 15 * NOISE_UV)  # far from it: a twitch
    twitches, rejected, _ = run(x)
    assert [abs(t.peak_index - 12000) <= 3 for t in twitches] == [True]
    assert rules.REASON_ACTIVITY in reasons_near(rejected, 7880, 5)
    assert {r.reason for r in rejected if 8000 <= r.peak_index < 8300} <= {
        rules.REASON_BURST, rules.REASON_LONG, rules.REASON_ACTIVITY, rules.REASON_ECHO,
        rules.REASON_DENSE, rules.REASON_CONTINUAL, rules.REASON_DOUBLET_SECOND}


@pytest.mark.parametrize("beats", [3, 4])
@pytest.mark.parametrize("r_sigma", [8, 12, 25])
def test_a_short_regular_train_of_identical_complexes_is_ecg_like(beats, r_sigma):
    # Issue 13 item 4: 3-4 QRS-like complexes 0.9 s apart gave twitches (the chain wanted five). A heart beats
    # regularly with one shape; fasciculations fire irregularly.
    x = rest(20, 40 + beats)
    peaks = syn.add_ecg_train(x, 6000, RATE_HZ, beats, 66.7, r_sigma * NOISE_UV, np.random.default_rng(beats))
    twitches, rejected, _ = run(x)
    assert twitches == []
    assert all(rules.REASON_ECG in reasons_near(rejected, p, 60) for p in peaks)


@pytest.mark.parametrize("intervals_s", [(0.6, 1.1, 0.75), (1.3, 0.5, 0.9)])
def test_an_irregular_short_series_of_one_unit_is_twitches(intervals_s):
    # The counterpart: the same unit firing 3-4 times at irregular intervals is fasciculating, not a heart.
    x = rest(20, 50)
    at = [6000 + int(1000 * s) for s in np.cumsum((0.0, *intervals_s))]
    for i in at:
        syn.add_potential(x, i, shape(15, 3, seed=5), 12 * NOISE_UV)
    twitches, _, _ = run(x)
    assert sorted(t.peak_index for t in twitches) == pytest.approx(at, abs=3)


def _two_lobed_series(rate_hz: float, lobe_gap_ms: float, seed: int) -> tuple[np.ndarray, list[int]]:
    """17 two-lobed potentials of one unit at 10-20 sigma, 1.5 s apart, in white noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, NOISE_UV, int(30 * rate_hz))
    unit = syn.two_lobed_potential(rate_hz, lobe_gap_ms)
    at = [int(s * rate_hz) for s in np.arange(3.0, 28.0, 1.5)]
    for i in at:
        syn.add_potential(x, i, unit, rng.uniform(10, 20) * NOISE_UV)
    return x, at


def _flagged(x: np.ndarray, rate_hz: float, config: DetectorConfig | None = None) -> list[int]:
    det = TwitchDetector(rate_hz) if config is None else TwitchDetector(rate_hz, config)
    return [t.peak_index for t in det.process(0, x) + det.flush()
            if isinstance(t, Twitch) and t.doublet_interval_samples is not None]


# Two peaks of one run count as a doublet unless the doublet model y = m + a m(t - d) leaves more than noise and
# the model's own error can explain (repeat.RepeatTest, on the signal with the high-pass's ring shortened, noise
# measured before the pair). Alone, that settles lobes 8 ms apart, 12-15 ms apart at 2 kHz, 15 ms at 1 kHz and
# 10 ms at 2 kHz; at 1 kHz and 10 sigma lobes 10-12 ms apart lie 3 noise sigmas from a doublet, which no test of
# one event tells apart (benchmarks/doublets.py --two-lobed). The unit's other discharges of the same shape
# within doublet_pool_s are averaged with it (Features._pooled): n of them have sqrt(n) times less noise.
@pytest.mark.parametrize(("rate_hz", "lobe_gap_ms"), [
    (1000.0, 8.0), (2000.0, 8.0), (2000.0, 10.0), (2000.0, 12.0), (2000.0, 15.0), (1000.0, 15.0),
    (1000.0, 10.0), (1000.0, 12.0)])
def test_a_polyphasic_potential_with_two_same_sign_lobes_is_one_discharge(rate_hz, lobe_gap_ms):
    # Issue 13 item 2: two lobes of one potential are not a doublet; a doublet is the whole potential repeated.
    x, at = _two_lobed_series(rate_hz, lobe_gap_ms, seed=int(lobe_gap_ms))
    det = TwitchDetector(rate_hz)
    out = det.process(0, x) + det.flush()
    twitches = [e for e in out if isinstance(e, Twitch)]
    assert len(twitches) >= len(at) - 1
    assert [t.doublet_interval_samples for t in twitches if t.doublet_interval_samples is not None] == []


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
@pytest.mark.parametrize(("lobe_gap_ms", "interval_ms"), [(10.0, 15.0), (12.0, 20.0), (15.0, 25.0)])
def test_a_polyphasic_unit_firing_twice_is_still_a_doublet(rate_hz, lobe_gap_ms, interval_ms):
    # The counterpart of the test above: the same two-lobed potential, the whole of it fired again 15-25 ms
    # later (its lobes and the second discharge's run together in one candidate), is a doublet.
    rng = np.random.default_rng(int(lobe_gap_ms + interval_ms))
    x = rng.normal(0.0, NOISE_UV, int(30 * rate_hz))
    unit = syn.two_lobed_potential(rate_hz, lobe_gap_ms)
    at = [int(s * rate_hz) for s in np.arange(3.0, 28.0, 1.5)]
    for i in at:
        peak_uv = rng.uniform(10, 20) * NOISE_UV
        syn.add_potential(x, i, unit, peak_uv)
        syn.add_potential(x, i + round(interval_ms * rate_hz / 1000), unit, peak_uv * rng.uniform(0.9, 1.1))
    det = TwitchDetector(rate_hz)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    assert len(twitches) == len(at)
    flagged = [t.doublet_interval_samples * 1000 / rate_hz for t in twitches if t.doublet_interval_samples]
    assert len(flagged) >= len(at) - 1 and all(abs(ms - interval_ms) <= 2 for ms in flagged), flagged


@pytest.mark.parametrize("lobe_gap_ms", [10.0, 12.0])
def test_the_doublet_test_averages_the_units_discharges_of_one_shape(lobe_gap_ms):
    # The reason the 1 kHz cases above pass: each potential alone is within the noise of a doublet, and is
    # flagged now and then (over three seeds of 17, alone: 9 with lobes 10 ms apart, 2 with 12 ms); averaged
    # with the unit's other discharges of that shape within doublet_pool_s, none is.
    alone = replace(DetectorConfig(), doublet_pool_s=0.0)
    for seed in (1, 2, 3):
        x, _ = _two_lobed_series(1000.0, lobe_gap_ms, seed)
        assert _flagged(x, 1000.0) == []
    assert sum(len(_flagged(_two_lobed_series(1000.0, lobe_gap_ms, seed)[0], 1000.0, alone))
               for seed in (1, 2, 3)) > 0


def test_the_average_does_not_depend_on_the_callers_block_size():
    # The average reads the signal 5 s either side of a candidate, and the detector decides after each piece:
    # the same events whatever blocks the samples come in. (The ring's reach behind, SampleCounts.pool_back, is
    # not what this checks: the peers ahead alone settle these pairs.)
    x, _ = _two_lobed_series(1000.0, 10.0, seed=2)
    whole = TwitchDetector(1000.0)
    expected = whole.process(0, x) + whole.flush()
    for block in (1, 997, 4096):
        det = TwitchDetector(1000.0)
        got = [e for i in range(0, len(x), block) for e in det.process(i, x[i : i + block])] + det.flush()
        assert got == expected, block


def test_the_average_takes_only_discharges_of_the_same_shape():
    # A two-lobed unit's single discharges and another unit's doublets at the same interval (10 ms), taking
    # turns: averaged together they would fit no doublet and the real ones would be lost (3 of 16 with every
    # peer taken at its best lag, 2 with the same-unit test's 0.6 for doublet_pool_similarity). Each unit's
    # events pool only with their own shape: every doublet of the second unit stays flagged, at its interval,
    # and none of the first unit's discharges is.
    rate_hz = 1000.0
    x, at = _two_lobed_series(rate_hz, 10.0, seed=4)
    rng = np.random.default_rng(5)
    other = syn.motor_unit_potential(rate_hz, 8.0, 2, rng)
    doublets = [i + int(rng.uniform(0.5, 1.0) * rate_hz) for i in at[:-1]]  # irregular: not a heart's
    for i in doublets:
        size = rng.uniform(12, 20) * NOISE_UV
        syn.add_potential(x, i, other, size)
        syn.add_potential(x, i + 10, other, size * rng.uniform(0.9, 1.1))
    det = TwitchDetector(rate_hz)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    by_doublet = {i: [t for t in twitches if abs(t.peak_index - i) <= 12] for i in doublets}
    assert all(len(found) == 1 for found in by_doublet.values()), by_doublet
    assert [found[0].doublet_interval_samples for found in by_doublet.values()] == [10] * len(doublets)
    assert [t.peak_index for t in twitches if t.doublet_interval_samples is not None
            and min(abs(t.peak_index - i) for i in at) <= 15] == []


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_large_two_lobed_potentials_are_not_doublets(rate_hz):
    # At 30-45 sigma the doublet model's misfit stands clear of the noise: lobes 10 ms apart are one potential.
    # 5 seeds of 17, 1 kHz: 54 of 85 flagged before the repeat test, 6 after it, none with the short tail; at
    # 2 kHz 38 of 85 (the misfit's share of the energy, set high for the 20 Hz ring cut at a doublet's end, let
    # them through), none with the short tail (benchmarks/doublets.py --two-lobed).
    rng = np.random.default_rng(7)
    x = rng.normal(0.0, NOISE_UV, int(30 * rate_hz))
    unit = syn.two_lobed_potential(rate_hz, 10.0)
    at = [int(s * rate_hz) for s in np.arange(3.0, 28.0, 1.5)]
    for i in at:
        syn.add_potential(x, i, unit, rng.uniform(30, 45) * NOISE_UV)
    det = TwitchDetector(rate_hz)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    assert len(twitches) == len(at)
    assert sum(t.doublet_interval_samples is not None for t in twitches) <= 1


def _doublets_flagged(rate_hz: float, seed: int, sigmas: tuple[float, float], intervals_ms: tuple[int, ...]
                      ) -> tuple[int, int, int]:
    """Units of 8-20 ms (two or three phases) fired twice, `intervals_ms` apart in turn, every 1.5 s at
    `sigmas` noise sigmas: (fired, twitches found, of them flagged as doublets)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, NOISE_UV, int(30 * rate_hz))
    at = [int(s * rate_hz) for s in np.arange(3.0, 28.0, 1.5)]
    units = [syn.motor_unit_potential(rate_hz, ms, phases, rng) for ms in (8, 12, 20) for phases in (2, 3)]
    for k, i in enumerate(at):
        peak_uv = rng.uniform(*sigmas) * NOISE_UV
        syn.add_potential(x, i, units[k % 6], peak_uv)
        syn.add_potential(x, i + round(intervals_ms[k % len(intervals_ms)] * rate_hz / 1000), units[k % 6],
                          peak_uv * rng.uniform(0.9, 1.1))
    det = TwitchDetector(rate_hz)
    twitches = [e for e in det.process(0, x) + det.flush() if isinstance(e, Twitch)]
    return len(at), len(twitches), sum(t.doublet_interval_samples is not None for t in twitches)


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_large_overlapping_doublets_keep_their_flag(rate_hz):
    # The counterpart at the same sizes: units of 8-20 ms fired twice 10-15 ms apart (the model's own error
    # grows with size: the misfit's share of the energy keeps them).
    fired, found, flagged = _doublets_flagged(rate_hz, 7, (30, 45), (10, 12, 15))
    assert found == fired
    assert flagged >= fired - 1


def test_overlapping_doublets_at_500_hz_keep_their_flag():
    # At 500 Hz the repeat test's stretch ended at the first quiet sample, which a potential's zero crossing can
    # be: cut inside the second discharge, the doublet model left a misfit and 11-13 of 17 were flagged (6 seeds).
    fired, found, flagged = _doublets_flagged(500.0, 3, (8, 20), (10, 14, 20, 26))
    assert found == fired
    assert flagged >= fired - 1


def _busy_rest(seed: int, per_min: float) -> tuple[np.ndarray, list[int]]:
    """Rest with frequent small potentials of five units (4-8 sigma, Poisson times) and a 10-20 sigma twitch
    every 4 s."""
    rng = np.random.default_rng(seed)
    x = rest(60, 100 + seed)
    units = syn.motor_unit_templates(RATE_HZ, 5, rng)
    t_s = rng.exponential(60.0 / per_min)
    while t_s < 59:
        syn.add_potential(x, int(t_s * RATE_HZ), units[rng.integers(5)], rng.uniform(4, 8) * NOISE_UV)
        t_s += rng.exponential(60.0 / per_min)
    at = [int(s * RATE_HZ) for s in np.arange(5.0, 58.0, 4.0)]
    for i in at:
        syn.add_potential(x, i, shape(15, 3, seed=i), rng.uniform(10, 20) * NOISE_UV)
    return x, at


def test_the_short_ecg_rule_takes_few_twitches_from_irregular_firing():
    # Units of one shape firing at random times (60 a minute) make chance chains of three at a heart's rhythm;
    # the short chain needs its rhythm within 5 % and its complexes one shape over a whole QRS's width.
    # Measured here (6 seeds): with the rhythm at 10 % and the shape at 0.6, one injected twitch of 84 was
    # lost; now none, and 3 of 360 background potentials (one chance chain of three).
    lost, background = 0, 0
    for seed in range(6):
        x, at = _busy_rest(seed, 60)
        with_short, _, _ = run(x)
        without, _, _ = run(x, DetectorConfig(ecg_short_min_beats=5))
        kept = {t.peak_index for t in with_short}
        assert [i for i in at if not any(abs(t - i) <= 5 for t in kept)] == [
            i for i in at if not any(abs(t.peak_index - i) <= 5 for t in without)], seed
        lost += len({t.peak_index for t in without} - kept)
        background += len(without)
    assert lost <= 0.02 * background


def _cluster(seed: int, big_sigma: tuple[float, float]) -> tuple[np.ndarray, list[int]]:
    """Every 3 s, eight small potentials (4-8 sigma, five units) within +/- 0.45 s of a larger one."""
    rng = np.random.default_rng(seed)
    x = rest(40, 200 + seed)
    units = syn.motor_unit_templates(RATE_HZ, 5, rng)
    at = [int(s * RATE_HZ) for s in np.arange(4.0, 38.0, 3.0)]
    for i in at:
        for j in np.sort(rng.choice(np.arange(-450, 450, 60), 8, replace=False)):
            if abs(j) >= 60:
                syn.add_potential(x, i + int(j), units[rng.integers(5)], rng.uniform(4, 8) * NOISE_UV)
        syn.add_potential(x, i, shape(15, 3, seed=i), rng.uniform(*big_sigma) * NOISE_UV)
    return x, at


def test_a_potential_far_larger_than_frequent_small_neighbours_is_a_twitch():
    # Issue 13 item 3: a large potential among frequent small ones (4-8 sigma) is not part of their firing.
    # Before: 'dense firing' (its 5-8 sigma neighbours reached a third of its size).
    found = 0
    for seed in range(3):
        x, at = _cluster(seed, (20, 25))
        twitches, rejected, _ = run(x)
        found += sum(any(abs(t.peak_index - i) <= 5 for t in twitches) for i in at)
        assert not any(rules.REASON_DENSE in reasons_near(rejected, i, 5) for i in at)
    assert found >= 0.95 * 3 * len(at)


def test_a_potential_of_the_neighbours_size_stays_dense_firing():
    # The counterpart: one of the firing, no larger than its neighbours, is still firing, not a twitch.
    for seed in range(3):
        x, at = _cluster(seed, (6, 8))
        twitches, _, _ = run(x)
        assert not any(abs(t.peak_index - i) <= 5 for t in twitches for i in at), seed


def test_a_long_potential_gets_the_same_verdict_at_6_and_20_sigma():
    # Issue 13 item 5: the duration must be measured relative to the potential. Before: a 36 ms triphasic unit
    # was found 17 of 17 times at 6 sigma, 12 at 20 (the rest 'too long for a twitch': its late phases stay above
    # a fifth of a large peak). Now too long means also more than max_core_ms holding 90 % of the energy.
    verdicts = {}
    for sigma in (6, 20):
        x = rest(30, 60)
        unit = syn.motor_unit_potential(RATE_HZ, 36.0, 3, np.random.default_rng(1))
        at = [int(s * RATE_HZ) for s in np.arange(3.0, 28.0, 1.5)]
        for i in at:
            syn.add_potential(x, i, unit, sigma * NOISE_UV)
        twitches, _, _ = run(x)
        verdicts[sigma] = sum(any(abs(t.peak_index - i) <= 15 for t in twitches) for i in at)
    assert verdicts[6] == verdicts[20] == len(at), verdicts


def test_the_bursts_of_a_real_contraction_stay_too_long():
    # The reason the duration test exists: bursts of voluntary activity. On BioSPPy's contraction recording (64 s,
    # 1 kHz) the candidates that the duration alone calls too long (max_core_ms 0: every core too long, the rule
    # before item 5) keep that verdict with the energy core test; without any (max_core_ms 1000) half of them
    # become twitches.
    counts = np.loadtxt(Path(__file__).resolve().parents[1] / "data" / "biosppy-emg" / "emg_1.txt", comments="#")
    x = (counts / 4096.0 - 0.5) * 3.3 / 1009.0 * 1e6  # µV: the BITalino sensor's gain 1009 at 3.3 V
    x -= np.median(x)

    def verdicts(max_core_ms: float) -> list:
        _, rejected, _ = run(x, replace(DetectorConfig(), max_core_ms=max_core_ms))
        return sorted(r.peak_index for r in rejected if r.reason == rules.REASON_LONG)

    long_before = verdicts(0.0)
    assert len(long_before) >= 5
    assert verdicts(DetectorConfig().max_core_ms) == long_before
    assert len(verdicts(1000.0)) < len(long_before)  # the test can fail: a core limit too loose lets them through
