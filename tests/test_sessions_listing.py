"""What `sessions` and `report --since` say in the terminal about sessions that are not a person measured:
the simulated board and a replayed recording."""

from __future__ import annotations

import io

from myotwitch.cli import main
from test_report import zone  # noqa: F401  (a fixture)
from test_report_trend import add_session, clear


def test_sessions_names_replays_and_the_simulated_board(tmp_path):
    db = tmp_path / "log.sqlite"
    add_session(db, tmp_path, "2026-11-20T08:00:00+00:00", minutes=1, board="rp2")
    add_session(db, tmp_path, "2026-11-20T09:00:00+00:00", minutes=1, board="recording")  # live --source FILE
    add_session(db, tmp_path, "2026-11-20T10:00:00+00:00", minutes=1, board="sim")  # live --source sim
    add_session(db, tmp_path, "2026-11-20T11:00:00+00:00", minutes=1, board="sim", kind="demo")
    out = io.StringIO()
    assert main(["sessions", "--db", str(db)], stdout=out) == 0
    kinds = [line.split()[2] for line in out.getvalue().splitlines()[1:]]
    assert kinds == ["live", "replay", "sim", "demo"]


def test_report_since_says_in_the_terminal_what_it_left_out(tmp_path, zone):  # noqa: F811
    zone("UTC0")
    db = tmp_path / "log.sqlite"
    add_session(db, tmp_path, "2026-11-20T08:00:00+00:00", minutes=10, snrs=clear(3))
    add_session(db, tmp_path, "2026-11-21T08:00:00+00:00", minutes=10, snrs=clear(3), board="recording")
    add_session(db, tmp_path, "2026-11-22T08:00:00+00:00", minutes=10, snrs=clear(3), kind="demo", board="sim")
    out = io.StringIO()
    assert main(["report", "--since", "2026-11-01", "--db", str(db), "--out", str(tmp_path / "t.html")],
                stdout=out) == 0
    text = out.getvalue()
    assert "1 with a recording since 2026-11-01, 1 session\n" in text
    assert "  not counted 2 sessions of the demo, the simulated board or a replayed recording" in text
