"""`myotwitch report --since DATE`: the page over days, from sessions put into a log as `live` leaves them."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from myotwitch.cli import main
from myotwitch.store import Store
from myotwitch.trend import NO_MUSCLE, collect, daily_rates, render, write_trend
from test_report import zone  # noqa: F401  (a fixture)

RATE_HZ = 1000.0


def add_session(db, tmp_path, started_utc, *, minutes, snrs=(), activity_s=(), marks=(), episodes=0,
                muscle="left FDI", kind="live", board="rp2", folder=True, ended=True):
    """A session in the log as `live` leaves it (its rows, and a folder with session.json and events.jsonl);
    activity_s: lengths of its activity segments. Returns its number."""
    store = Store(db)
    out = tmp_path / f"s{len(store.sessions()) + 1}"
    session = store.begin_session(kind, "test", RATE_HZ, board, "test", str(out) if folder else None)
    store._db.execute("UPDATE sessions SET started_utc = ? WHERE id = ?", (started_utc, session))
    store.add_twitches(session, [{"t_s": 1.0 + i, "onset_s": 1.0 + i, "duration_ms": 10.0, "peak_uv": 2.0 * snr,
                                  "snr": snr, "noise_uv": 2.0} for i, snr in enumerate(snrs)])
    store.add_episodes(session, [{"start_s": 10.0 * i, "end_s": 10.0 * i + 5, "count": 3, "rate_per_min": 36.0,
                                  "median_peak_uv": 40.0, "max_peak_uv": 60.0} for i in range(episodes)])
    for t_s, label in marks:
        store.add_mark(session, t_s, label)
    if ended:
        store.end_session(session, samples=round(minutes * 60 * RATE_HZ), lost_samples=0, twitches=len(snrs),
                          episodes=episodes)
    store.commit()
    store.close()
    if folder:
        out.mkdir()
        meta = {"rate_hz": RATE_HZ, "start_utc": started_utc, **({"muscle": muscle} if muscle else {})}
        (out / "session.json").write_text(json.dumps(meta))
        events = [{"type": "activity", "start_s": 100.0 * i, "end_s": 100.0 * i + a, "duration_s": a}
                  for i, a in enumerate(activity_s)]
        (out / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    return session


def clear(n):
    return [20.0] * n


def marginal(n):
    return [5.0] * n


@pytest.fixture(scope="module")
def week_made(tmp_path_factory):
    """The week's log and session folders, written once for the module (8 sessions: about 0.2 s each time)."""
    folder = tmp_path_factory.mktemp("week")
    return make_week(folder / "log.sqlite", folder)


@pytest.fixture
def week(week_made, tmp_path, zone):  # noqa: F811
    """A copy of the week for one test to read or change: the log's folders point into the copy."""
    zone("UTC0")
    shutil.copytree(week_made.parent, tmp_path, dirs_exist_ok=True)
    db = tmp_path / "log.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET out_dir = ? || substr(out_dir, ?) WHERE out_dir IS NOT NULL",
                    (str(tmp_path), len(str(week_made.parent)) + 1))
        folders = [Path(row[0]) for row in con.execute("SELECT out_dir FROM sessions")]
    con.close()
    assert len(folders) == 8 and all(f.parent == tmp_path and f.is_dir() for f in folders)
    return db


def make_week(db, tmp_path):
    """Three days of a left FDI, one of a right calf, one session before the window; a demo, a simulated board
    and a replayed recording, none of them the person."""
    add_session(db, tmp_path, "2026-11-19T20:00:00+00:00", minutes=60, snrs=clear(99))  # before --since
    # Day 1: 30 min with 6 min of activity (24 min of rest) and 30 min of rest: 54 min of rest.
    add_session(db, tmp_path, "2026-11-20T08:00:00+00:00", minutes=30, snrs=clear(18) + marginal(9),
                activity_s=(240.0, 120.0), episodes=2, marks=[(5.0, "cramp")])
    add_session(db, tmp_path, "2026-11-20T21:00:00+00:00", minutes=30, snrs=clear(9) + marginal(3), episodes=1,
                marks=[(7.0, "felt-twitch"), (9.0, "felt-twitch")])
    add_session(db, tmp_path, "2026-11-20T12:00:00+00:00", minutes=20, snrs=clear(10), muscle="right calf")
    # Day 3: no recording on day 2. An hour of rest, twice the rate.
    add_session(db, tmp_path, "2026-11-22T09:00:00+00:00", minutes=60, snrs=clear(120) + marginal(60), episodes=5)
    add_session(db, tmp_path, "2026-11-23T09:00:00+00:00", minutes=10, snrs=clear(50), kind="demo", board="sim")
    add_session(db, tmp_path, "2026-11-23T10:00:00+00:00", minutes=10, snrs=clear(50), board="sim")  # live --source sim
    add_session(db, tmp_path, "2026-11-23T11:00:00+00:00", minutes=10, snrs=clear(50), board="recording")
    return db


def test_counts_come_from_the_rows(week):
    store = Store(week)
    counts = store.session_counts(10.0)
    store.close()
    assert counts[2] == {"clear": 18, "marginal": 9, "episodes": 2, "marks": 1}
    assert counts[4] == {"clear": 10, "marginal": 0, "episodes": 0, "marks": 0}


def test_per_day_figures(week):
    """Twitches per minute of monitored rest per muscle per day: the activity segments' time is not rest."""
    store = Store(week)
    trend = collect(store, date(2026, 11, 20))
    store.close()
    got = [(d.day.isoformat(), d.muscle, len(d.sessions), round(d.total("recorded_s")), round(d.rest_min, 3),
            round(d.clear_per_min, 3), round(d.all_per_min, 3), d.total("episodes")) for d in trend.days]
    assert got == [
        ("2026-11-20", "left FDI", 2, 3600, 54.0, round(27 / 54, 3), round(39 / 54, 3), 2 + 1),
        ("2026-11-20", "right calf", 1, 1200, 20.0, 0.5, 0.5, 0),
        ("2026-11-22", "left FDI", 1, 3600, 60.0, 2.0, 3.0, 5),
    ]
    assert trend.left_out == [("3 sessions of the demo, the simulated board or a replayed recording: not a "
                              "measurement of you now (a replay would count its day twice)")]


def test_the_page_says_what_it_is_and_has_the_table(week):
    store = Store(week)
    page = render(collect(store, date(2026, 11, 20)))
    store.close()
    assert "does not diagnose" in page and "persists or rises over days" in page
    assert "single session" in page
    assert " *<" not in page and "folder is gone" not in page  # every folder is there: no footnote for it
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>", page)]
    rows = [r for r in rows if r]
    assert rows == [
        ["2026-11-20", "left FDI", "2", "1.00", "0.90", "27 / 12", "0.50", "0.72", "3", "1 cramp, 2 felt-twitch"],
        ["2026-11-20", "right calf", "1", "0.33", "0.33", "10 / 0", "0.50", "0.50", "0", "-"],
        ["2026-11-22", "left FDI", "1", "1.00", "1.00", "120 / 60", "2.00", "3.00", "5", "-"],
    ]
    assert "left FDI: 2 days recorded (2026-11-20 to 2026-11-22); clear twitches per minute of rest 0.50 on " \
           "the first day, 2.00 on the last" in page
    # The plot's date axis: days by their date; the day without a recording is not among the table's rows.
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "Nov 20" in svg and "Nov 22" in svg
    assert not re.search(r"\ssrc\s*=", page) and "<link" not in page


def test_a_session_is_counted_on_the_local_day_it_began(tmp_path, zone):  # noqa: F811
    """23:30 UTC is the next morning two hours east: the day is the one on the person's clock."""
    db = tmp_path / "log.sqlite"
    add_session(db, tmp_path, "2026-11-20T23:30:00+00:00", minutes=10, snrs=clear(5))
    zone("UTC0")
    store = Store(db)
    assert [d.day for d in collect(store, date(2026, 11, 20)).days] == [date(2026, 11, 20)]
    zone("XXX-2")
    assert [d.day for d in collect(store, date(2026, 11, 21)).days] == [date(2026, 11, 21)]
    store.close()


def test_sessions_it_cannot_measure_are_named_not_guessed(tmp_path, zone):  # noqa: F811
    """A session that never ended and whose folder is gone has no known length: it is listed as not counted.
    One whose folder is gone but which ended counts all its signal as rest, and says so."""
    zone("UTC0")
    db = tmp_path / "log.sqlite"
    add_session(db, tmp_path, "2026-11-20T08:00:00+00:00", minutes=10, snrs=clear(3), folder=False, ended=False)
    add_session(db, tmp_path, "2026-11-21T08:00:00+00:00", minutes=10, snrs=clear(3), folder=False)
    store = Store(db)
    trend = collect(store, date(2026, 11, 1))
    store.close()
    assert [(d.day, d.muscle, d.rest_min, d.activity_known) for d in trend.days] == [
        (date(2026, 11, 21), NO_MUSCLE, 10.0, False)]
    assert trend.left_out == [("session 1 (2026-11-20 08:00): its length is not known (it did not end, and its "
                              "folder is gone)")]
    page = render(trend)
    assert "<td class=\"n\">0.17 *</td>" in page and "Not counted" in page
    assert "* the session's folder is gone, so its activity is not known" in page


def test_a_session_that_did_not_end_is_measured_from_its_raw_samples(tmp_path, zone):  # noqa: F811
    zone("UTC0")
    db = tmp_path / "log.sqlite"
    add_session(db, tmp_path, "2026-11-20T08:00:00+00:00", minutes=10, snrs=clear(6), ended=False)
    import numpy as np

    samples = np.zeros(180_000, dtype="<f4")
    samples[60_000:120_000] = np.nan  # a minute lost: not signal
    samples.tofile(tmp_path / "s1" / "samples.f32")
    store = Store(db)
    (day,) = collect(store, date(2026, 11, 20)).days
    store.close()
    assert day.rest_min == 2.0 and day.clear_per_min == 3.0


@pytest.mark.slow  # a page over days
def test_report_since_through_the_command(week, capsys):
    text = io.StringIO()
    assert main(["report", "--since", "2026-11-20", "--db", str(week)], stdout=text) == 0
    page = week.parent / "trend-since-2026-11-20.html"
    said = text.getvalue()
    assert f"report    {page}" in said and "2 with a recording since 2026-11-20, 4 sessions" in said
    assert "Twitching over days, since 2026-11-20" in page.read_text()
    out = week.parent / "elsewhere.html"
    assert main(["report", "--since", "2026-11-20", "--db", str(week), "--out", str(out)], stdout=text) == 0
    assert out.exists()


def test_report_since_usage_and_runtime_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--since", "2026-02-30", "--db", str(tmp_path / "log.sqlite")])
    assert exit_.value.code == 2 and "not a date" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["report", "3", "--since", "2026-02-01"])
    assert exit_.value.code == 2
    assert main(["report", "--since", "2026-02-01", "--db", str(tmp_path / "none.sqlite")]) == 1
    assert "no log at" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()


def test_nothing_since_the_date(week):
    page, trend = write_trend(week, date(2027, 1, 1), week.parent / "t.html")
    assert trend.days == [] and "No sessions recorded since 2027-01-01" in page.read_text()
    with sqlite3.connect(week) as db:
        assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 8  # read only


def test_the_rate_line_breaks_on_days_without_a_recording(week):
    store = Store(week)
    days = [d for d in collect(store, date(2026, 11, 20)).days if d.muscle == "left FDI"]
    store.close()
    x, clear_rate, all_rate = daily_rates(days)
    assert list(x - x[0]) == [0, 1, 2]
    assert clear_rate[0] == pytest.approx(0.5) and np.isnan(clear_rate[1]) and clear_rate[2] == 2.0
    assert np.isnan(all_rate[1]) and all_rate[2] == 3.0


def test_a_session_with_an_unreadable_start_is_named(week):
    with sqlite3.connect(week) as db:
        db.execute("UPDATE sessions SET started_utc = 'yesterday' WHERE id = 3")
        db.execute("UPDATE sessions SET rate_hz = 0 WHERE id = 4")
    store = Store(week)
    trend = collect(store, date(2026, 11, 20))
    store.close()
    assert trend.left_out[:2] == ["session 3: its start time or rate in the log is unreadable",
                                  "session 4: its start time or rate in the log is unreadable"]
    assert [(d.day.isoformat(), d.muscle, len(d.sessions)) for d in trend.days] == [
        ("2026-11-20", "left FDI", 1), ("2026-11-22", "left FDI", 1)]


def test_the_raw_samples_of_an_ended_session_are_not_read(week, monkeypatch):
    """The log holds an ended session's length: its samples.f32 (hundreds of MB for a night) stays unread."""
    for folder in week.parent.glob("s*"):
        np.zeros(1000, dtype="<f4").tofile(folder / "samples.f32")

    def no_reading(*args, **kwargs):
        raise AssertionError("samples.f32 read for a session the log measures")

    monkeypatch.setattr(np, "fromfile", no_reading)
    store = Store(week)
    trend = collect(store, date(2026, 11, 20))
    store.close()
    assert [round(d.total("recorded_s")) for d in trend.days] == [3600, 1200, 3600]


@pytest.mark.parametrize(("days", "shown"), [(1, ["Nov 20"]), (2, ["Nov 20", "Nov 21"]),
                                             (25, ["Nov 20", "Nov 23", "Nov 26", "Nov 29", "Dec 02", "Dec 05",
                                                   "Dec 08", "Dec 11", "Dec 14"])])
def test_the_date_axis_ticks_each_day_once(tmp_path, zone, days, shown):  # noqa: F811
    """One or two days recorded: a tick per day, not ticks every few hours that all read the same date."""
    zone("UTC0")
    db = tmp_path / "log.sqlite"
    add_session(db, tmp_path, "2026-11-20T08:00:00+00:00", minutes=30, snrs=clear(18))
    if days > 1:
        last = date(2026, 11, 20) + timedelta(days=days - 1)
        add_session(db, tmp_path, f"{last}T08:00:00+00:00", minutes=30, snrs=clear(18))
    store = Store(db)
    page = render(collect(store, date(2026, 11, 1)))
    store.close()
    svg = page[page.index("<svg") : page.index("</svg>")]
    labels = re.findall(r">\s*([A-Z][a-z]{2} \d\d)\s*<", svg)
    assert labels == shown * 4, labels  # the same ticks under each of the 4 plots
