"""SQLite store of sessions, twitches, episodes, gaps and marks.

One file holds every session. Rows are committed as they are found (a live
session finds them about four times a second), so a crash loses at most the
events of the current batch.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from myotwitch.errors import MyotwitchError

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,              -- demo, live or analyze
    source TEXT NOT NULL,            -- port, file or simulator description
    started_utc TEXT NOT NULL,
    ended_utc TEXT,
    rate_hz REAL NOT NULL,
    board TEXT,
    firmware TEXT,
    samples INTEGER,                 -- received
    lost_samples INTEGER,            -- counted from sequence gaps, never filled in
    crc_errors INTEGER,
    twitches INTEGER,
    episodes INTEGER,
    out_dir TEXT,                    -- where the session's EDF+, events and raw samples are (live, demo)
    rate_hz_effective REAL,          -- samples per second of host clock, measured (drift, replay speed)
    gaps INTEGER                     -- unplugs, restarts and lost runs, each in the gaps table
);
CREATE TABLE IF NOT EXISTS twitches (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t_s REAL NOT NULL,               -- peak, seconds from the session's first sample
    onset_s REAL NOT NULL,
    duration_ms REAL NOT NULL,
    peak_uv REAL NOT NULL,
    snr REAL NOT NULL,
    noise_uv REAL NOT NULL,
    channel INTEGER NOT NULL DEFAULT 0,  -- 0-based; a log from before channels: 0
    muscle TEXT                      -- the channel's muscle; NULL: the session's (its session.json), if any
);
CREATE TABLE IF NOT EXISTS episodes (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    start_s REAL NOT NULL,
    end_s REAL NOT NULL,
    count INTEGER NOT NULL,
    rate_per_min REAL NOT NULL,
    median_peak_uv REAL NOT NULL,
    max_peak_uv REAL NOT NULL,
    channel INTEGER NOT NULL DEFAULT 0,  -- episodes group the twitches of one channel
    muscle TEXT
);
CREATE TABLE IF NOT EXISTS marks (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t_s REAL NOT NULL,               -- seconds from the session's first sample
    label TEXT NOT NULL,             -- what the person says it was: cramp, voluntary, felt-twitch, ...
    note TEXT
);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    start_s REAL NOT NULL,           -- seconds from the session's first sample
    end_s REAL NOT NULL,
    samples INTEGER NOT NULL,        -- samples missing (counted as lost, never filled in)
    why TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS twitches_by_session ON twitches(session_id, t_s);
"""


_ADDED_SESSION_COLUMNS = (("out_dir", "TEXT"), ("rate_hz_effective", "REAL"), ("gaps", "INTEGER"))
# Columns added since the first release, per table: a log written before them keeps its rows, which read as
# channel 0 with the session's muscle (NULL here).
_ADDED_COLUMNS = {"sessions": _ADDED_SESSION_COLUMNS,
                  "twitches": (("channel", "INTEGER NOT NULL DEFAULT 0"), ("muscle", "TEXT")),
                  "episodes": (("channel", "INTEGER NOT NULL DEFAULT 0"), ("muscle", "TEXT"))}
SESSION_COLUMNS = ("id", "kind", "source", "started_utc", "ended_utc", "rate_hz", "board", "firmware", "samples",
                   "lost_samples", "crc_errors", "twitches", "episodes", "out_dir", "rate_hz_effective", "gaps")


def default_data_dir() -> Path:
    """The per-user data folder: XDG on Linux, Application Support on macOS, LOCALAPPDATA on Windows."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "myotwitch"


def new_session_dir(base: Path, now: datetime | None = None) -> Path:
    """Create and return base/sessions/YYYY-MM-DD_HH-MM-SS, or -2, -3... when that second is taken.

    The folder is made here, with exist_ok=False: two sessions started in the same second (two
    myotwitch processes) cannot both pick the same free name before either has written to it."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    sessions = base / "sessions"
    try:
        sessions.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            path = sessions / (stamp if n == 1 else f"{stamp}-{n}")
            try:
                path.mkdir()
                return path
            except FileExistsError:
                continue
    except OSError as exc:
        raise MyotwitchError(f"cannot create a session folder in {sessions}: {exc.strerror}") from None
    raise MyotwitchError(f"{sessions} has 10000 sessions started at {stamp}")


def _now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _inserted_id(cur: sqlite3.Cursor) -> int:
    """The id of the row an INSERT just wrote (sqlite3 types `lastrowid` as optional: None before any INSERT)."""
    if cur.lastrowid is None:
        raise RuntimeError("sqlite3 gave no row id after an INSERT")
    return cur.lastrowid


class Store:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise MyotwitchError(f"cannot open the log {self.path}: {exc}") from None

    def _migrate(self) -> None:
        """Add the columns a log written by an older myotwitch lacks."""
        for table, columns in _ADDED_COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns:
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._db.commit()

    def begin_session(self, kind: str, source: str, rate_hz: float, board: str | None = None,
                      firmware: str | None = None, out_dir: str | None = None) -> int:
        cur = self._db.execute(
            "INSERT INTO sessions (kind, source, started_utc, rate_hz, board, firmware, out_dir)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, source, _now_utc(), rate_hz, board, firmware, out_dir),
        )
        self._db.commit()
        return _inserted_id(cur)

    def add_twitches(self, session_id: int, rows: list[dict]) -> None:
        self._db.executemany(
            "INSERT INTO twitches (session_id, t_s, onset_s, duration_ms, peak_uv, snr, noise_uv, channel, muscle)"
            " VALUES (:session_id, :t_s, :onset_s, :duration_ms, :peak_uv, :snr, :noise_uv, :channel, :muscle)",
            [_with_channel(row, session_id) for row in rows],
        )

    def add_episodes(self, session_id: int, rows: list[dict]) -> None:
        self._db.executemany(
            "INSERT INTO episodes (session_id, start_s, end_s, count, rate_per_min, median_peak_uv, max_peak_uv,"
            " channel, muscle) VALUES (:session_id, :start_s, :end_s, :count, :rate_per_min, :median_peak_uv,"
            " :max_peak_uv, :channel, :muscle)",
            [_with_channel(row, session_id) for row in rows],
        )

    def add_gaps(self, session_id: int, rows: list[dict]) -> None:
        self._db.executemany(
            "INSERT INTO gaps (session_id, start_s, end_s, samples, why)"
            " VALUES (:session_id, :start_s, :end_s, :samples, :why)",
            [dict(row, session_id=session_id) for row in rows],
        )

    def commit(self) -> None:
        self._db.commit()

    def end_session(self, session_id: int, **figures: float | None) -> None:
        allowed = {"samples", "lost_samples", "crc_errors", "twitches", "episodes", "rate_hz_effective", "gaps"}
        if not set(figures) <= allowed:
            raise ValueError(f"unknown session figures: {set(figures) - allowed}")
        assignments = ", ".join(f"{k} = :{k}" for k in figures)
        self._db.execute(
            f"UPDATE sessions SET ended_utc = :ended, {assignments} WHERE id = :id",
            dict(figures, ended=_now_utc(), id=session_id),
        )
        self._db.commit()

    def add_mark(self, session_id: int, t_s: float, label: str, note: str | None = None) -> int:
        cur = self._db.execute("INSERT INTO marks (session_id, t_s, label, note) VALUES (?, ?, ?, ?)",
                               (session_id, t_s, label, note))
        self._db.commit()
        return _inserted_id(cur)

    def marks(self, session_id: int) -> list[tuple[float, str, str | None]]:
        return list(self._db.execute("SELECT t_s, label, note FROM marks WHERE session_id = ? ORDER BY t_s",
                                     (session_id,)))

    def sessions(self) -> list[dict]:
        rows = self._db.execute(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions ORDER BY id")
        return [dict(zip(SESSION_COLUMNS, row, strict=True)) for row in rows]

    def session(self, session_id: int) -> dict | None:
        row = self._db.execute(f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions WHERE id = ?",
                               (session_id,)).fetchone()
        return None if row is None else dict(zip(SESSION_COLUMNS, row, strict=True))

    def session_counts(self, clear_snr: float) -> dict[int, dict[str, int]]:
        """Per session id, counted from its rows (so a session that never ended has them too): twitches at
        SNR >= clear_snr ("clear") and below ("marginal"), episodes, marks."""
        counts: dict[int, dict[str, int]] = {}

        def add(sql: str, *names: str, params: tuple = ()) -> None:
            for session_id, *values in self._db.execute(sql, params):
                counts.setdefault(session_id, dict.fromkeys(("clear", "marginal", "episodes", "marks"), 0))
                counts[session_id].update(zip(names, (int(v or 0) for v in values), strict=True))

        add("SELECT session_id, SUM(snr >= ?), SUM(snr < ?) FROM twitches GROUP BY session_id", "clear",
            "marginal", params=(clear_snr, clear_snr))
        add("SELECT session_id, COUNT(*) FROM episodes GROUP BY session_id", "episodes")
        add("SELECT session_id, COUNT(*) FROM marks GROUP BY session_id", "marks")
        return counts

    def channel_counts(self, session_id: int, clear_snr: float) -> list[dict]:
        """Per channel of a session, in channel order: channel, muscle (None: the session's own), clear and
        marginal twitches (SNR >= clear_snr and below), episodes. Channels with no rows are not listed."""
        by_channel: dict[tuple[int, str | None], dict] = {}

        def row(channel: int, muscle: str | None) -> dict:
            return by_channel.setdefault((channel, muscle), {"channel": channel, "muscle": muscle, "clear": 0,
                                                             "marginal": 0, "episodes": 0})

        for channel, muscle, clear, marginal in self._db.execute(
                "SELECT channel, muscle, SUM(snr >= ?), SUM(snr < ?) FROM twitches WHERE session_id = ?"
                " GROUP BY channel, muscle", (clear_snr, clear_snr, session_id)):
            row(channel, muscle).update(clear=int(clear or 0), marginal=int(marginal or 0))
        for channel, muscle, count in self._db.execute(
                "SELECT channel, muscle, COUNT(*) FROM episodes WHERE session_id = ? GROUP BY channel, muscle",
                (session_id,)):
            row(channel, muscle)["episodes"] = int(count)
        return [by_channel[key] for key in sorted(by_channel, key=lambda k: (k[0], k[1] or ""))]

    def close(self) -> None:
        self._db.close()


def _with_channel(row: dict, session_id: int) -> dict:
    """A row as the INSERT takes it: one channel's events carry no channel or muscle (channel 0, the session's)."""
    return dict(row, session_id=session_id, channel=row.get("channel", 0), muscle=row.get("muscle"))


def logged_session(db_path: Path, number: int, missing_log: str) -> dict:
    """Session `number` of the log at db_path, or a MyotwitchError saying what is missing (`missing_log`: what
    the user can do when there is no log at all)."""
    if not db_path.exists():
        raise MyotwitchError(f"no log at {db_path}: {missing_log}")
    store = Store(db_path)
    try:
        row = store.session(number)
    finally:
        store.close()
    if row is None:
        raise MyotwitchError(f"{db_path} has no session {number} (`myotwitch sessions` lists them)")
    return row
