"""The SQLite log: a log written before channels opens and reads; rows of several channels land per channel."""

from __future__ import annotations

import sqlite3

from myotwitch.events import ChannelEvent, Episode, Rejected, Twitch
from myotwitch.serialize import store_rows
from myotwitch.store import Store

RATE_HZ = 1000.0

# The schema of the twitches and episodes tables as released before channels (sessions as of then, too).
OLD_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL,
    started_utc TEXT NOT NULL, ended_utc TEXT, rate_hz REAL NOT NULL, board TEXT, firmware TEXT,
    samples INTEGER, lost_samples INTEGER, crc_errors INTEGER, twitches INTEGER, episodes INTEGER);
CREATE TABLE twitches (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
    t_s REAL NOT NULL, onset_s REAL NOT NULL, duration_ms REAL NOT NULL, peak_uv REAL NOT NULL,
    snr REAL NOT NULL, noise_uv REAL NOT NULL);
CREATE TABLE episodes (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
    start_s REAL NOT NULL, end_s REAL NOT NULL, count INTEGER NOT NULL, rate_per_min REAL NOT NULL,
    median_peak_uv REAL NOT NULL, max_peak_uv REAL NOT NULL);
INSERT INTO sessions (kind, source, started_utc, rate_hz)
    VALUES ('live', '/dev/ttyACM0', '2026-01-02T03:04:05+00:00', 1000);
INSERT INTO twitches (session_id, t_s, onset_s, duration_ms, peak_uv, snr, noise_uv)
    VALUES (1, 1.5, 1.49, 12, 80, 9, 3);
INSERT INTO twitches (session_id, t_s, onset_s, duration_ms, peak_uv, snr, noise_uv)
    VALUES (1, 2.5, 2.49, 12, 20, 3, 3);
INSERT INTO episodes (session_id, start_s, end_s, count, rate_per_min, median_peak_uv, max_peak_uv)
    VALUES (1, 1.5, 2.5, 2, 120, 50, 80);
"""


def twitch(peak_index: int, peak_uv: float, snr: float = 10.0) -> Twitch:
    return Twitch(peak_index=peak_index, onset_index=peak_index - 5, end_index=peak_index + 10, peak_uv=peak_uv,
                  noise_uv=peak_uv / snr)


def test_a_log_written_before_channels_opens_and_its_rows_read_as_channel_0(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    store = Store(path)
    assert store.session(1)["source"] == "/dev/ttyACM0"
    assert store.session_counts(clear_snr=5.0) == {1: {"clear": 1, "marginal": 1, "episodes": 1, "marks": 0}}
    assert store.channel_counts(1, clear_snr=5.0) == [
        {"channel": 0, "muscle": None, "clear": 1, "marginal": 1, "episodes": 1}]
    # and new rows go in beside the old ones
    store.add_twitches(1, store_rows([twitch(3000, 50.0)], RATE_HZ).twitches)
    store.commit()
    assert store.channel_counts(1, clear_snr=5.0)[0]["clear"] == 2
    store.close()
    # opening it again migrates nothing twice
    Store(path).close()


def test_rows_of_several_channels_land_per_channel_with_their_muscle(tmp_path):
    store = Store(tmp_path / "log.sqlite")
    session = store.begin_session("analyze", "hand.edf", RATE_HZ)
    events = [
        ChannelEvent(0, twitch(1000, 60.0, snr=12.0), "right APB"),
        ChannelEvent(0, twitch(2000, 20.0, snr=3.0), "right APB"),
        ChannelEvent(1, Rejected(peak_index=2500, peak_uv=15.0, reason="crosstalk"), "right FDI"),
        ChannelEvent(2, twitch(3000, 40.0, snr=8.0), "right FCR"),
        ChannelEvent(0, Episode(start_index=1000, end_index=2000, count=2, median_peak_uv=40.0, max_peak_uv=60.0),
                     "right APB"),
    ]
    rows = store_rows(events, RATE_HZ)
    assert [(r["channel"], r["muscle"]) for r in rows.twitches] == [(0, "right APB"), (0, "right APB"),
                                                                      (2, "right FCR")]
    store.add_twitches(session, rows.twitches)
    store.add_episodes(session, rows.episodes)
    store.commit()
    assert store.channel_counts(session, clear_snr=5.0) == [
        {"channel": 0, "muscle": "right APB", "clear": 1, "marginal": 1, "episodes": 1},
        {"channel": 2, "muscle": "right FCR", "clear": 1, "marginal": 0, "episodes": 0}]
    store.close()


def test_one_channels_rows_carry_no_channel_and_store_as_channel_0(tmp_path):
    rows = store_rows([twitch(1000, 60.0)], RATE_HZ)
    assert "channel" not in rows.twitches[0]
    store = Store(tmp_path / "log.sqlite")
    session = store.begin_session("live", "sim", RATE_HZ)
    store.add_twitches(session, rows.twitches)
    assert store.channel_counts(session, clear_snr=5.0) == [
        {"channel": 0, "muscle": None, "clear": 1, "marginal": 0, "episodes": 0}]
