"""The detector's settings, each with its reason, and the sample counts derived from them once per rate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from myotwitch.dsp.filters import FilterConfig
from myotwitch.dsp.repeat import BACKGROUND_MS

MIN_RATE_HZ = 500.0  # the lowest rate the detector is tuned and tested at (README, `--rate`, the CLI's check)
MAX_RATE_HZ = 20000.0
PIECE_SAMPLES = 65536  # the detector's unit of work: see SampleCounts.piece


@dataclass(frozen=True)
class DetectorConfig:
    filters: FilterConfig = field(default_factory=FilterConfig)
    # -- noise floor --
    noise_window_s: float = 0.5
    noise_history_s: float = 20.0
    # The floor is this quantile of the window sigmas: rest, even if activity
    # filled three quarters of the last 20 s.
    noise_quantile: float = 0.25
    warmup_windows: int = 2  # no detection before one second of noise floor
    flat_uv: float = 0.05  # a window whose sigma is below this is flat: lead off, not rest
    # -- candidates --
    # Detect on an RMS over 8 ms (and 8 samples at least): fasciculation
    # potentials last 3-40 ms (needle: 12.6 +/- 4.4 ms); a one-sample spike is
    # diluted eightfold.
    energy_window_ms: float = 8.0
    detect_sigma: float = 2.5  # RMS threshold, in noise sigmas
    peak_sigma: float = 3.5  # and the largest |x| must reach this
    # Onset and end: where |x| last exceeds the larger of these (relative to
    # the peak, so a large potential's tail and the filter's ringing do not
    # stretch it).
    delimit_sigma: float = 2.0
    delimit_share: float = 0.2  # the mains notches ring at about 10 % of a peak for 100 ms
    merge_gap_ms: float = 8.0  # phases of one potential are closer than this
    max_duration_ms: float = 40.0  # longer is activity, not a twitch
    # ...unless 90 % of its energy lies within max_core_ms (issue 13 item 5): a potential's delimited extent grows
    # with its size (late phases and the filter's tail stay above a fifth of a large peak, under the 2 sigma
    # floor for a small one); the share of its energy in its core does not. A contraction burst spreads its
    # energy over its length. Accuracy benchmark, 5 seeds: 30-40 ms units at 20 sigma found 0.804 (no core
    # test), 0.902 (20 ms), 0.980 (25 ms), 1.000 (30 ms); contraction 0 false twitches/min from 15 to 35 ms;
    # at 35 ms more beats of short ECG trains passed (0.033 -> 0.038).
    energy_core_share: float = 0.9
    max_core_ms: float = 30.0
    # One run above the detection threshold holding this many separate
    # potentials (each above a fifth of the largest) is a burst of voluntary
    # activity, however short the largest one is; a doublet holds two.
    burst_min_potentials: int = 4
    # -- doublets and echoes --
    # A doublet: the same unit firing again 10-110 ms later (data/README.md).
    # When the two potentials run into each other (an interval shorter than
    # about a potential and the merge gap), they form one candidate: a second
    # peak of the same sign, size and shape in its run makes it a doublet
    # too, reported at the first peak. Measured on one-unit doublets in noise
    # (units of 8, 12 and 20 ms, intervals 10-100 ms, 8-20 sigma): 3,780 of
    # 3,780 found within 15 ms of the first peak and 3,744 flagged; without
    # this, 3,429 and 2,003 (20 ms units 20-30 ms apart were half lost as too
    # long for a twitch). Single potentials of 8-30 ms: none flagged.
    doublet_min_ms: float = 10.0
    doublet_max_ms: float = 110.0
    # A doublet is the whole potential repeated, not a second lobe of one (issue 13 item 2: polyphasic
    # potentials with two same-sign lobes 10-15 ms apart were flagged). Two peaks of one run are flagged as a
    # doublet unless the doublet model y = m + a m(t - d) leaves both more than doublet_max_misfit times what
    # noise alone leaves and more than doublet_max_misfit_share of the stretch's energy (repeat.RepeatTest).
    # The share spares real doublets at high SNR, where the model's small errors outgrow the noise. The fit
    # sees the high-pass's ringing tail shortened (repeat.TAIL_MS), so they stay small: noise-free at 40 sigma,
    # units of 8-20 ms fired twice 10-25 ms apart leave at most 0.031 %, the two-lobed test shapes 0.8-1.8 %.
    # In white noise (8-20 sigma, 12 seeds, 5,387 real doublets' fits at their interval): 4.5 and 0.1 % call 8
    # of them "not a doublet" (4.0: 16; 5.0: 8); the rule before the short tail (5.0 and 0.3 %) called 36.
    doublet_max_misfit: float = 4.5
    doublet_max_misfit_share: float = 0.001
    # A pair that fits a doublet is tested again on its average with the unit's like discharges, whose noise is
    # smaller (Features._pooled): the candidates within doublet_pool_s (s) whose signal correlates with the
    # pair's stretch at least doublet_pool_similarity at their best lag, and whose residual after scaling is at
    # most doublet_pool_max_residual times the two stretches' noise. It is a doublet only if the average fits
    # too, with doublet_pool_max_misfit_share (a share of the energy: the stretch's cut through a doublet's tail
    # stands out once the noise is averaged away). Measured figures: docs/detector.md, "Past the limit".
    doublet_pool_s: float = 5.0
    doublet_pool_similarity: float = 0.8
    doublet_pool_max_residual: float = 2.5
    doublet_pool_max_misfit_share: float = 0.004
    # A much smaller peak after a larger one is its tail or filter ringing:
    # the 2 Hz mains notches ring for hundreds of ms (time constant about
    # 1 / (pi x 2 Hz) = 160 ms). An echo is below echo_ratio x the earlier
    # peak x exp(-delay / echo_decay_ms), within echo_window_ms.
    echo_window_ms: float = 500.0
    echo_ratio: float = 0.25
    echo_decay_ms: float = 200.0
    # -- activity (voluntary contraction, cramp, spasm) --
    # An RMS over 100 ms: smooth enough that a weak contraction does not dip
    # below threshold between motor-unit potentials, while sparse firing at
    # 5-15 Hz stays near 1.5 sigma.
    envelope_window_ms: float = 100.0
    # Rest noise wanders up to twice the floor (a low quantile), so the on
    # threshold sits above that.
    activity_on_sigma: float = 3.0
    activity_off_sigma: float = 2.0
    activity_min_s: float = 0.5  # longer than a doublet or a pair of large twitches with their ringing
    activity_hold_s: float = 0.3  # quiet this long ends a segment
    activity_guard_s: float = 0.5  # twitches this soon after activity are not counted
    activity_pre_guard_s: float = 0.2  # nor this soon before it (recruitment at its onset)
    cramp_min_s: float = 2.0  # sustained segments this long are cramp or spasm candidates
    # Dense firing is activity even where the envelope cannot tell (no rest to
    # set the floor by, as in a needle recording during contraction): this many
    # other candidates of any kind within +/- half this window, at least
    # 1 / busy_ratio of its size (a large twitch's ringing tail is not firing).
    busy_window_s: float = 1.0
    busy_min_candidates: int = 6
    # 2 let needle continual firing through (4.7 twitches/min); 4 lost large twitches amid small bursts
    busy_ratio: float = 3.0
    # A candidate this many times larger than every other within busy_window_s is not part of their firing
    # (dense or continual), however many they are (issue 13: large twitches amid frequent small potentials
    # at rest, 4-8 sigma, were lost as dense firing).
    busy_outlier_ratio: float = 1.5
    # -- continual firing (Sleutjes et al. 2016): intervals of 250 ms or less on both sides --
    continual_isi_ms: float = 250.0
    # The rule is about one motor unit firing on; one channel cannot sort units,
    # so neighbours count only if their peak is within this ratio (the same
    # unit gives near-equal potentials). The same holds for a doublet's second.
    same_unit_ratio: float = 2.0
    # A doublet's second is the same unit again, so the same shape too: the
    # filtered signal over +/- shape_half_ms around the two peaks correlates at
    # least this well at some lag within +/- shape_lag_ms. Measured on the
    # synthetic motor units (8-30 ms, bi- and triphasic) in Gaussian noise:
    # two copies of one 4-sigma potential correlate at 0.84 (median; 84 % at
    # 0.6 or more, 97 % at 10 sigma), two different units at 0.3-0.4 (38 %
    # still reach 0.6: units of similar shape stay indistinguishable).
    same_unit_similarity: float = 0.6
    shape_half_ms: float = 8.0
    shape_lag_ms: float = 2.0
    # -- artifacts --
    baseline_lowpass_hz: float = 10.0  # below the EMG band: pops and motion live here
    baseline_ratio: float = 0.5  # the baseline moving by half the peak or more: not a potential
    baseline_min_sigma: float = 4.0  # and by more than this many noise sigmas
    clip_run_ms: float = 4.0  # this long at one value, at the extreme of the candidate: clipped
    # ECG-like: 5 or more similar complexes at 50-150 beats/min, intervals
    # within 10 % (heart-rate variability at rest is a few %; chance chains of
    # spontaneous potentials rarely last five beats).
    ecg_min_beats: int = 5
    ecg_interval_s: tuple[float, float] = (0.4, 1.2)
    ecg_tolerance: float = 0.1
    ecg_amplitude_ratio: float = 1.5
    # A shorter train (3-4 beats: a few heart beats picked up while the electrodes shift, or the start of a
    # train) is ECG-like too if the complexes are one shape: the filtered signal around the peaks correlates
    # at least ecg_short_similarity at the best small lag. Fasciculations fire irregularly; a regular train of
    # identical shapes is not one (issue 13: 3 of 4 such trains gave twitches with five beats required).
    # Chance chains of three are far more common than of five: the rhythm must hold within 5 % (a resting
    # heart's beat-to-beat variability is a few %), and the shape too.
    ecg_short_min_beats: int = 3
    ecg_short_tolerance: float = 0.05
    ecg_short_similarity: float = 0.7
    # A QRS complex lasts 80-120 ms: its Q and S waves lie within 40 ms of the
    # R wave, and a smaller peak that close to an ECG-like one is part of it.
    ecg_complex_ms: float = 40.0
    # Every rule above looks at most this far past a candidate (the ECG chain
    # reaches 4 intervals of up to 1.2 s); it is decided this late.
    decision_delay_s: float = 5.5
    settle_s: float = 0.2  # after a gap in the stream, while the filters settle


def pool_reach_ms(c: DetectorConfig, ahead: bool) -> float:
    """How far past doublet_pool_s the doublet test's average reads the signal, ahead of a candidate or
    behind it (Features._pooled): a peer's window, the pair's spacing and as much again for the lags, the
    potential's reach, the low-pass's pad, and behind it also the noise measured before the pair."""
    pair_ms = 2 * c.doublet_max_ms + c.shape_lag_ms + c.merge_gap_ms
    return pair_ms + c.max_duration_ms if ahead else pair_ms + c.max_duration_ms / 2 + BACKGROUND_MS


@dataclass(frozen=True)
class SampleCounts:
    """DetectorConfig's durations in samples at one rate, computed once (and checked) by `of`."""

    window: int  # a noise window
    merge: int
    max_duration: int
    max_core: int
    doublet: tuple[int, int]
    echo: int
    echo_decay: float
    isi: int
    ecg_complex: int
    ecg_reach: int  # how far the ECG chain looks either side of a peak
    ecg_intervals: tuple[int, int]
    shape_half: int
    shape_lag: int
    act_min: int
    act_hold: int
    guard: int
    pre_guard: int
    delay: int  # decision delay
    pool: int  # doublet_pool_s
    pool_back: int  # how far behind a candidate the doublet test's average reads: doublet_pool_s and more
    piece: int
    busy_half: int
    clip_run: int
    energy_window: int
    envelope_window: int
    probe: int  # mains probe (0 if the mains frequency is forced)
    baseline_window: int
    feature_ctx: int  # the artifact features look this far either side of a candidate
    settle: int

    @classmethod
    def of(cls, config: DetectorConfig, rate_hz: float) -> SampleCounts:
        if not (MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ):
            raise ValueError(f"sampling rate {rate_hz:g} Hz is not supported "
                             f"({MIN_RATE_HZ:g} Hz to {MAX_RATE_HZ:g} Hz)")
        c = config
        ms = rate_hz / 1000.0
        ecg_reach_s = c.ecg_interval_s[1] * (c.ecg_min_beats - 1) * (1 + c.ecg_tolerance)  # 4 long beats on
        reach_s = max(ecg_reach_s, c.busy_window_s / 2 + c.echo_window_ms / 1000,
                      c.activity_pre_guard_s + c.activity_min_s,
                      (c.continual_isi_ms + c.doublet_max_ms) / 1000,
                      c.doublet_pool_s + pool_reach_ms(c, ahead=True) / 1000)
        if c.decision_delay_s < reach_s:
            raise ValueError(f"decision_delay_s must be at least {reach_s:.2f} s: the rules look that far ahead")
        if not (c.delimit_sigma < c.peak_sigma and 0 <= c.delimit_share < 1):
            raise ValueError("delimit_sigma must be below peak_sigma and delimit_share below 1: "
                             "a candidate's peak must stand above the threshold that delimits it")
        return cls(
            window=max(1, round(c.noise_window_s * rate_hz)),
            merge=round(c.merge_gap_ms * ms),
            max_duration=round(c.max_duration_ms * ms),
            max_core=round(c.max_core_ms * ms),
            doublet=(round(c.doublet_min_ms * ms), round(c.doublet_max_ms * ms)),
            echo=round(c.echo_window_ms * ms),
            echo_decay=c.echo_decay_ms * ms,
            isi=round(c.continual_isi_ms * ms),
            ecg_complex=round(c.ecg_complex_ms * ms),
            ecg_reach=round(ecg_reach_s * rate_hz),
            ecg_intervals=(round(c.ecg_interval_s[0] * rate_hz), round(c.ecg_interval_s[1] * rate_hz)),
            shape_half=max(2, round(c.shape_half_ms * ms)),
            shape_lag=round(c.shape_lag_ms * ms),
            act_min=round(c.activity_min_s * rate_hz),
            act_hold=round(c.activity_hold_s * rate_hz),
            guard=round(c.activity_guard_s * rate_hz),
            pre_guard=round(c.activity_pre_guard_s * rate_hz),
            delay=round(c.decision_delay_s * rate_hz),
            pool=round(c.doublet_pool_s * rate_hz),
            pool_back=math.ceil((c.doublet_pool_s + pool_reach_ms(c, ahead=False) / 1000) * rate_hz) + 2,
            # Work in pieces of at most one reader block (recordings.DEFAULT_BLOCK_SAMPLES, 65,536 samples, 32.768 s
            # at 2 kHz): numpy on large arrays, little Python per sample, since each piece costs about 0.5 ms of
            # Python (the decisions, the candidates' measures) whatever its length. Whole-process analyze of an
            # hour at 2 kHz, 2026-12-01: 4.096 s pieces 0.85 s, 8.192 s 0.65 s, 16.384 s 0.50-0.55 s, one block
            # 0.44-0.49 s (best of 4, taking turns; the output the same to the byte).
            piece=PIECE_SAMPLES,
            busy_half=round(c.busy_window_s * rate_hz / 2),
            # At least 3 samples: at 500 Hz 4 ms is 2, and two equal neighbours at an extreme are common in
            # quantized signal (a potential's top within one step); three in a row at the rails are not.
            clip_run=max(3, round(c.clip_run_ms * ms)),
            # At least 8 samples: an RMS over fewer (8 ms at 500 Hz is 4) lets Gaussian noise through.
            energy_window=max(8, round(c.energy_window_ms * ms)),
            envelope_window=max(1, round(c.envelope_window_ms * rate_hz / 1000.0)),
            probe=round(c.filters.mains_probe_s * rate_hz) if c.filters.mains == "auto" else 0,
            baseline_window=max(2, round(rate_hz / (2 * c.baseline_lowpass_hz))),
            feature_ctx=round(0.1 * rate_hz),
            settle=round(c.settle_s * rate_hz),
        )
