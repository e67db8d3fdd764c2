"""The trend over days with sessions of several channels: each channel's twitches on its own muscle's days."""

from __future__ import annotations

import json
from datetime import date

from conftest import ROOT
from myotwitch.analysis_session import write_analysis_session
from myotwitch.store import Store
from myotwitch.trend import NO_MUSCLE, collect
from test_report import zone  # noqa: F401  (a fixture)

DEMO_3CH = ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.edf"


def test_a_session_of_three_muscles_counts_each_on_its_muscle(tmp_path, zone):  # noqa: F811
    zone("UTC0")
    folder = tmp_path / "session"
    write_analysis_session(DEMO_3CH, folder)
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    store = Store(tmp_path / "log.sqlite")
    session = store.begin_session("live", "/dev/ttyACM0", 1000.0, "rp2", "test", str(folder))
    store._db.execute("UPDATE sessions SET started_utc = ? WHERE id = ?", ("2026-11-20T08:00:00+00:00", session))
    store.add_twitches(session, [e for e in events if e["type"] == "twitch"])  # rows as store_rows gives them
    store.add_episodes(session, [e for e in events if e["type"] == "episode"])
    store.end_session(session, samples=60000, lost_samples=0)
    store.commit()

    trend = collect(store, date(2026, 11, 1))
    days = {d.muscle: d for d in trend.days}
    assert sorted(days) == ["right APB", "right FCR", "right FDI"] and NO_MUSCLE not in days
    for c, muscle in enumerate(["right APB", "right FDI", "right FCR"]):
        mine = [e for e in events if e["type"] == "twitch" and e["channel"] == c]
        (figures,) = days[muscle].sessions
        clear = sum(e["snr"] >= 10 for e in mine)
        assert (figures.clear, figures.marginal) == (clear, len(mine) - clear)
        assert figures.episodes == sum(1 for e in events if e["type"] == "episode" and e["channel"] == c)
        assert figures.recorded_s == 60.0
    assert days["right APB"].sessions[0].clear >= 23 and days["right FDI"].sessions[0].clear == 0
