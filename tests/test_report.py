"""The session report: one self-contained page, clock times on its axes, clear and marginal twitches
apart, the raw strip around the largest twitches, marks, episodes by the hour when there are many."""

from __future__ import annotations

import io
import json
import re
import shutil
import time

import numpy as np
import pytest

from myotwitch.cli import main
from myotwitch.report import CLEAR_SNR, load_session, render, summarise, write_report
from myotwitch.report import figures as report_figures
from myotwitch.report.figures import nice_scale, strip_twitches
from myotwitch.report.page import per_hour
from myotwitch.report.session import SessionClock

RATE_HZ = 1000.0
START_UTC = "2026-11-24T13:00:00+00:00"


def make_session(folder, *, duration_s=600.0, start_utc=START_UTC, twitches=(), marks=(), episodes=(),
                 muscle="left FDI", lost=(), seed=3, summary=None):
    """A session folder as `live` leaves it: session.json, samples.f32 (noise of 2 µV with a biphasic
    potential at each twitch's peak), events.jsonl. lost: (start_s, end_s) runs of NaN samples."""
    folder.mkdir(parents=True)
    meta = {"kind": "live", "board": "sim", "firmware": "test", "rate_hz": RATE_HZ, "unit": "uV", "format": 1,
            "start_utc": start_utc}
    if muscle:
        meta["muscle"] = muscle
    (folder / "session.json").write_text(json.dumps(meta))
    samples = np.random.default_rng(seed).normal(0.0, 2.0, round(duration_s * RATE_HZ))
    shape = np.sin(np.linspace(0, 2 * np.pi, 11))  # 10 ms, one up and one down phase
    for t in twitches:
        peak = round(t["t_s"] * RATE_HZ)
        samples[peak - 2 : peak + 9] += t["peak_uv"] * shape
    for a_s, b_s in lost:
        samples[round(a_s * RATE_HZ) : round(b_s * RATE_HZ)] = np.nan
    samples.astype("<f4").tofile(folder / "samples.f32")
    events = ([dict({"type": "twitch", "onset_s": t["t_s"] - 0.002, "duration_ms": 10.0}, **t) for t in twitches]
              + [dict({"type": "mark"}, **m) for m in marks] + [dict({"type": "episode"}, **e) for e in episodes]
              + [dict({"type": "gap", "why": "lost"}, start_s=a, end_s=b) for a, b in lost]
              + [summary or {"type": "summary", "noise_uv": 2.0}])
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return folder


def twitch(t_s, peak_uv, snr, noise_uv=2.0):
    return {"t_s": t_s, "peak_uv": peak_uv, "snr": snr, "noise_uv": noise_uv}


def episode(start_s, length_s=20.0, count=3, max_peak_uv=50.0):
    return {"start_s": start_s, "end_s": start_s + length_s, "count": count, "rate_per_min": count / length_s * 60,
            "median_peak_uv": max_peak_uv / 2, "max_peak_uv": max_peak_uv}


@pytest.fixture
def zone(monkeypatch):
    """Set this computer's time zone (POSIX TZ strings: no tz database needed), restored after the test."""
    def set_zone(tz: str) -> None:
        monkeypatch.setenv("TZ", tz)
        time.tzset()
    yield set_zone
    monkeypatch.undo()
    time.tzset()


def ticks(svg: str) -> list[str]:
    """The HH:MM or HH:MM:SS texts a figure shows (its time axis)."""
    return re.findall(r">\s*(\d\d:\d\d(?::\d\d)?)\s*<", svg)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """One session reported once for the tests that read its page (a whole report takes about 0.5 s): clear and
    marginal twitches, SNR-less ones, two marks (one with a note to escape), an episode; in UTC.
    Returns (its folder, the page's path, the page, the summary)."""
    snrs = [10.0, 12.0, 25.0, 40.0, 80.0, 9.99, 4.0, 5.5]
    twitches = [twitch(10.0 + 5 * i, 2.0 * snr, snr) for i, snr in enumerate(snrs)]
    twitches.append({"t_s": 60.0, "peak_uv": 30.0, "noise_uv": 2.0})  # 15: clear
    twitches.append({"t_s": 65.0, "peak_uv": 6.0, "noise_uv": 2.0})  # 3: marginal
    twitches.append({"t_s": 70.0, "peak_uv": 6.0})  # no SNR at all
    marks = [{"t_s": 115.0, "label": "felt-twitch", "note": "calf, <b>left</b>"}, {"t_s": 62.0, "label": "cramp"}]
    folder = make_session(tmp_path_factory.mktemp("reported") / "s", duration_s=120, twitches=twitches, marks=marks,
                          episodes=[episode(25.0)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC0")
        time.tzset()
        page_path, summary = write_report(folder)
    time.tzset()
    return folder, page_path, page_path.read_text(), summary


def test_the_page_travels_alone(reported, tmp_path):
    """Copied or e-mailed alone, the page still shows everything: it refers to nothing outside itself."""
    folder, page_path, _, _ = reported
    alone = tmp_path / "mailed" / "report.html"
    alone.parent.mkdir()
    shutil.copy(page_path, alone)
    assert sorted(p.name for p in folder.iterdir()) == ["events.jsonl", "report.html", "samples.f32", "session.edf",
                                                        "session.json"]  # no image files beside it
    page = alone.read_text()
    assert page.count("<svg") == 5  # strip, rate, timeline, histograms, waveforms: all inline
    assert not re.search(r"\ssrc\s*=", page) and "@import" not in page and "<link" not in page
    # Every reference is to an id in the page itself (SVG clip paths): none to a file or a server.
    refs = re.findall(r'(?:href|xlink:href)="([^"]*)"', page) + re.findall(r"url\(([^)]*)\)", page)
    assert refs and all(r.startswith("#") and f'id="{r[1:]}"' in page for r in refs), refs


@pytest.mark.slow  # two whole reports
def test_the_same_session_gives_the_same_page_and_no_shared_ids(tmp_path):
    folder = make_session(tmp_path / "s", duration_s=120, twitches=[twitch(30.0, 80.0, 40.0), twitch(70, 9.0, 4.5)],
                          marks=[{"t_s": 50.0, "label": "cramp"}], episodes=[episode(25.0)])
    import matplotlib

    before = {k: v for k, v in matplotlib.rcParams.items() if not k.startswith("backend")}  # Agg: set on purpose
    first, _ = render(load_session(folder))
    assert render(load_session(folder))[0] == first
    # The report leaves a program's own plots as they were.
    assert {k: v for k, v in matplotlib.rcParams.items() if not k.startswith("backend")} == before
    # Each figure's clip paths are its own: two figures clipping to the same rectangle would otherwise share
    # an id, and the second figure's lines would be clipped by whichever definition the browser found first.
    clip_ids = re.findall(r'<clipPath id="([^"]+)"', first)
    assert len(clip_ids) > 5 and len(set(clip_ids)) == len(clip_ids)


@pytest.mark.slow  # a whole report
def test_print_css_keeps_figures_whole_and_fits_a4_and_letter(tmp_path):
    folder = make_session(tmp_path / "s", duration_s=60, twitches=[twitch(30.0, 80.0, 40.0)])
    page, _ = render(load_session(folder))
    style = page[page.index("<style>") : page.index("</style>")]
    assert "@media print" in style and "@page{margin:15mm}" in style  # the printer's paper size, A4 or Letter
    assert "figure{margin:1em 0;break-inside:avoid;page-break-inside:avoid}" in style
    # 180 mm: A4's 210 mm less two 15 mm margins (Letter is 216 mm wide); 240 mm fits Letter's 279 mm height.
    assert "max-width:180mm;max-height:240mm" in style
    # The figures are drawn no wider than that, so nothing is cut at print scale 1.
    assert report_figures.FIGURE_WIDTH_IN * 25.4 <= 180
    # No script: a folded list prints folded (the summary and the hourly table are the printout), open to print.
    assert "<script" not in page and "<details>" in page


@pytest.mark.slow  # reports in two zones
def test_time_axes_show_the_clock_time_of_day(tmp_path, zone):
    """A session started 13:00 UTC, ten minutes: the rate and timeline axes read 13:00-13:10, and in a zone
    two hours ahead, 15:00-15:10: the clock on the wall, not seconds from the start."""
    folder = make_session(tmp_path / "s", duration_s=600, twitches=[twitch(100.0, 60.0, 30.0)])
    for tz, hour in (("UTC0", "13"), ("XXX-2", "15")):
        zone(tz)
        data = load_session(folder)
        clock = SessionClock.of(data)
        for svg in (report_figures.rate(data, clock), report_figures.timeline(data, clock)):
            shown = ticks(svg)
            assert len(shown) >= 4 and shown == sorted(shown), shown
            assert all(re.fullmatch(rf"{hour}:(0\d|10)", t) for t in shown), shown
            assert "time from the start" not in svg
        page, _ = render(data)
        assert f"2026-11-24 {hour}:00:00" in page


def test_clock_times_follow_the_boards_measured_rate(tmp_path, zone):
    """A board whose crystal runs 1 % slow (990 samples a second of the host's clock): 600 s of samples at
    its nominal 1000 Hz took 606 s of the clock on the wall."""
    zone("UTC0")
    folder = make_session(tmp_path / "s", duration_s=10, summary={"type": "summary", "effective_rate_hz": 990.0})
    clock = SessionClock.of(load_session(folder))
    assert clock.text(600.0) == "13:10:06"


@pytest.mark.slow  # a whole report
def test_no_start_time_gives_seconds_and_says_so(tmp_path):
    folder = make_session(tmp_path / "s", duration_s=60, start_utc=None, twitches=[twitch(30.0, 80.0, 40.0)])
    page, _ = render(load_session(folder))
    assert "session.json does not say when it started" in page


def test_clear_and_marginal_counts_in_the_summary(reported):
    """SNR >= 10 is clear (10.0 itself included), below is marginal; an event without an SNR field has it
    from peak / noise; one that gives neither is counted apart, not guessed."""
    _, _, page, s = reported  # SNRs 10, 12, 25, 40, 80, 9.99, 4, 5.5; then 30 / 2, 6 / 2, and one with neither
    assert CLEAR_SNR == 10.0
    assert (s["twitches"], s["clear_twitches"], s["marginal_twitches"], s["snr_unknown_twitches"]) == (11, 6, 4, 1)
    assert s["clear_per_min"] == 3.0
    assert s["clear_median_peak_uv"] == pytest.approx(np.median([20, 24, 50, 80, 160, 30]))
    headline = page[page.index('<p class="headline">') :]
    headline = headline[: headline.index("</p>")]
    assert "<strong>6 clear twitches</strong> (SNR ≥ 10" in headline and "<strong>4 marginal</strong>" in headline
    assert "1 whose events do not give their SNR" in headline
    # The summary comes first: right after the disclaimer, before any figure or table of events.
    assert page.index("does not diagnose") < page.index('class="headline"') < page.index("<svg")
    # The twitch table says which each one is, and sits collapsed.
    rows = re.findall(r"<tr>(.*?)</tr>", page[page.index("All 11 twitches") :])
    assert [r.count(">clear<") for r in rows[1:]] == [1] * 5 + [0, 0, 0, 1, 0, 0]
    assert page.index("<details><summary>All 11 twitches (6 clear)") > page.index("<h2>Twitches</h2>")


@pytest.mark.slow  # a whole report
def test_the_strip_shows_the_largest_twitches_with_scale_bars(tmp_path, zone):
    zone("UTC0")
    peaks = [30.0, 118.0, 60.0, 115.0, 90.0, 20.0, 100.0, 70.0]
    twitches = [twitch(5.0 + 3 * i, p, p / 2) for i, p in enumerate(peaks)]
    twitches.append(twitch(8.2, 117.0, 58.0))  # 200 ms from the 118 µV one: inside its strip, not a panel
    folder = make_session(tmp_path / "s", duration_s=40, twitches=twitches)
    data = load_session(folder)
    chosen = strip_twitches(data)
    assert [t["peak_uv"] for t in chosen] == [118.0, 115.0, 100.0, 90.0, 70.0, 60.0]
    svg, bar_uv = report_figures.strip(data, SessionClock.of(data))
    # One vertical scale for all: the largest reaches about 118 µV (the potential plus the noise); the bar
    # is the round value at or under 60 % of it.
    assert bar_uv == 50.0
    assert svg.count(">50 µV<") == 6 and svg.count(">100 ms<") == 6
    assert "13:00:08, 118 µV, SNR 59" in svg  # each panel says when (clock) and how large
    page, _ = render(data)
    assert "bars 50 µV and 100 ms" in page


@pytest.mark.parametrize(("value", "scale"), [(0.7, 0.5), (1.0, 1.0), (1.9, 1.0), (3.0, 2.0), (70.8, 50.0),
                                              (0.0, 1.0), (float("nan"), 1.0)])
def test_nice_scale(value, scale):
    assert nice_scale(value) == scale


def test_marks_table_with_labels_notes_and_clock_times(reported):
    _, _, page, s = reported  # in UTC: the session began at 13:00:00
    assert s["marks"] == 2
    section = page[page.index("<h2>Your marks</h2>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", section[: section.index("</table>")])
    assert rows[1:] == ['<td>13:01:02</td><td class="n">62.0</td><td>cramp</td><td></td>',
                        ('<td>13:01:55</td><td class="n">115.0</td><td>felt-twitch</td>'
                        "<td>calf, &lt;b&gt;left&lt;/b&gt;</td>")]


@pytest.mark.slow  # reports of many episodes in two zones
def test_many_episodes_are_summarised_per_hour(tmp_path, zone):
    """A 2-hour night of 45 episodes reads as 3 hourly rows first; the full list stays one click away."""
    zone("UTC0")
    starts = [600.0 + 120 * i for i in range(25)] + [3700.0 + 200 * i for i in range(15)] + [7250.0 + 10 * i
                                                                                            for i in range(5)]
    episodes = [episode(s, length_s=30.0, count=4, max_peak_uv=40.0 + i) for i, s in enumerate(starts)]
    page, _ = render(load_session(make_session(tmp_path / "s", duration_s=7400, episodes=episodes)))
    section = page[page.index("<h2>Episodes") :]
    hourly = section[: section.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", hourly)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows[1:]]
    assert cells == [["13:00-14:00", "25", "100", "12.5", "64.0"],
                     ["14:00-15:00", "15", "60", "7.5", "79.0"],
                     ["15:00-16:00", "5", "20", "2.5", "84.0"]]
    full = section[section.index("<details><summary>All 45 episodes</summary>") :]
    assert len(re.findall(r"<tr>", full[: full.index("</details>")])) == 46


@pytest.mark.slow  # a whole report
def test_few_episodes_are_listed_in_full(tmp_path, zone):
    zone("UTC0")
    episodes = [episode(60.0 * i) for i in range(1, 21)]
    page, _ = render(load_session(make_session(tmp_path / "s", duration_s=1300, episodes=episodes)))
    section = page[page.index("<h2>Episodes") : page.index("<h2>Twitches")]
    assert "by the hour" not in section and "<details>" not in section
    assert len(re.findall(r"<tr>", section)) == 21 and "<td>13:01:00</td>" in section


def test_lost_samples_stay_gaps_in_the_strip(tmp_path):
    """A twitch next to lost samples: its panel's trace breaks there, nothing is drawn across."""
    folder = make_session(tmp_path / "s", duration_s=20, twitches=[twitch(10.0, 100.0, 50.0)], lost=[(10.1, 10.2)])
    data = load_session(folder)
    svg, _ = report_figures.strip(data, SessionClock.of(data))
    trace = max(re.findall(r'<path d="(M[^"]*)"', svg), key=len)
    assert trace.count("M ") == 2  # one move before the gap, one after it: two pieces


@pytest.mark.slow  # a whole report
def test_report_through_the_command(tmp_path):
    folder = make_session(tmp_path / "s", duration_s=60, twitches=[twitch(10.0, 80.0, 40.0), twitch(20, 8.0, 4.0)])
    text = io.StringIO()
    assert main(["report", str(folder)], stdout=text) == 0
    assert "twitches    2 (1 clear at SNR >= 10, 1 marginal; 2.0 per minute)" in text.getvalue()
    assert summarise(load_session(folder))["clear_twitches"] == 1


@pytest.mark.slow  # a whole report
def test_events_outside_the_recording_are_left_out_and_counted(tmp_path):
    """A hand-edited events.jsonl can put times anywhere, even past the calendar's year 9999: those events are
    left out of the figures and tables, counted on the page; the report does not fail."""
    folder = make_session(tmp_path / "s", duration_s=30, twitches=[twitch(10.0, 50.0, 20.0)],
                          episodes=[episode(5.0)] * 25)
    load_session(folder)  # writes the EDF+ first: this test is about the report, not the EDF+'s annotations
    with (folder / "events.jsonl").open("a") as f:
        for e in [{"type": "twitch", "t_s": 1e12, "peak_uv": 80.0}, {"type": "twitch", "t_s": -5.0, "peak_uv": 3.0},
                  {"type": "episode", **episode(1e13)}, {"type": "mark", "t_s": 1e15, "label": "other"},
                  {"type": "gap", "start_s": 20.0, "end_s": 1e11}, {"type": "twitch", "t_s": 31.5, "peak_uv": 9.0}]:
            f.write(json.dumps(e) + "\n")
    assert main(["report", str(folder)], stdout=io.StringIO()) == 0
    data = load_session(folder)
    assert data.outside == 5 and [t["t_s"] for t in data.of("twitch")] == [10.0, 31.5]  # 1.5 s late: kept
    assert "5 events of events.jsonl whose times lie outside the 30.0 s recorded" in render(data)[0]


def test_rates_are_per_minute_of_signal_in_each_bin(tmp_path):
    """One clear twitch a second over 65 s, none while 5 s of a bin were lost: every bin reads 60 per
    minute, the half-lost one and the 5 s last one too (they read 30 when divided by the bin's length)."""
    lost = (12.0, 17.0)
    times = [t + 0.5 for t in range(65) if not lost[0] <= t + 0.5 < lost[1]]
    folder = make_session(tmp_path / "s", duration_s=65, twitches=[twitch(t, 60.0, 30.0) for t in times], lost=[lost])
    edges, clear, marginal = report_figures.binned_rates(load_session(folder), 10.0)
    assert list(edges) == [0, 10, 20, 30, 40, 50, 60, 65]
    assert np.allclose(clear, 60.0) and np.allclose(marginal, 0.0)


@pytest.mark.slow  # a whole report
def test_the_zone_named_is_the_one_of_the_sessions_date(tmp_path, zone):
    """Central Europe: a July session reads CEST, a January one CET, whatever the date the report is made."""
    zone("CET-1CEST,M3.5.0,M10.5.0/3")
    for start_utc, shown in (("2026-07-01T10:00:00+00:00", "2026-07-01 12:00:00 CEST"),
                             ("2026-01-15T10:00:00+00:00", "2026-01-15 11:00:00 CET")):
        page, _ = render(load_session(make_session(tmp_path / shown[:10], duration_s=10, start_utc=start_utc)))
        assert f"<td>{shown}</td>" in page and f"clock time ({shown.split()[-1]})" in page


def test_hours_from_the_start_sort_in_time():
    """Without a start time the hours are counted from the start: hour 10 comes after hour 9, not after 1."""
    episodes = [episode(3600.0 * h + 60) for h in range(11)]
    rows = per_hour(episodes, SessionClock(None))
    assert [r[0] for r in rows] == [f"hour {h} from the start" for h in range(1, 12)]


@pytest.mark.slow  # three whole reports
@pytest.mark.parametrize("start_utc", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:30-12:00",
                                       "9999-12-31T23:59:50+00:00"])
def test_a_start_at_the_calendars_ends_gives_seconds(tmp_path, zone, start_utc):
    """A hand-edited session.json whose start (or start plus the session) lies beyond year 1 or 9999 in this
    computer's zone: the page shows seconds from the start, as for no start at all, and does not fail."""
    zone("UTC0")
    folder = make_session(tmp_path / "s", duration_s=30, start_utc=start_utc, twitches=[twitch(10.0, 80.0, 40.0)])
    page, _ = render(load_session(folder))
    assert SessionClock.of(load_session(folder)).start is None and "time from the start (s)" in page


def test_a_damaged_effective_rate_leaves_the_clock_as_it_is(tmp_path, zone):
    """A summary saying the board ran at 1e-300 Hz is damaged, not a clock 1e303 times slow."""
    zone("UTC0")
    folder = make_session(tmp_path / "s", duration_s=10, summary={"type": "summary", "effective_rate_hz": 1e-300})
    clock = SessionClock.of(load_session(folder))
    assert clock.host_s_per_sample_s == 1.0 and clock.text(5.0) == "13:00:05"


@pytest.mark.slow  # a whole report
def test_the_timeline_and_amplitudes_draw_clear_and_marginal_apart(tmp_path):
    """As in the summary and the rate figure: clear twitches dark, marginal ones light."""
    folder = make_session(tmp_path / "s", duration_s=60, twitches=[twitch(10.0, 80.0, 40.0), twitch(20.0, 8.0, 4.0),
                                                                   twitch(30.0, 9.0, 4.5)])
    data = load_session(folder)
    timeline = report_figures.timeline(data, SessionClock.of(data))
    # The twitch ticks (#1f77b4): the 2 marginal ones light, the clear one dark.
    ticks = re.findall(r'<use xlink:href="#[^"]+" x="[^"]+" y="[^"]+" style="fill: #1f77b4;([^"]*)"', timeline)
    assert sorted("opacity: 0.35" in style for style in ticks) == [False, True, True], ticks
    histograms = report_figures.histograms(data)
    assert ">clear<" in histograms and ">marginal<" in histograms
