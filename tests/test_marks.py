"""`myotwitch mark`: by number or folder, never beyond the session's end; session folders never collide."""

from __future__ import annotations

import io
import json
from datetime import datetime

from conftest import DEMO_EDF
from myotwitch.cli import main
from myotwitch.store import Store, new_session_dir


def run(argv):
    out = io.StringIO()
    return main(argv, stdout=out), out.getvalue()


def test_two_sessions_started_in_the_same_second_get_their_own_folders(tmp_path):
    # Two processes pick a name before either writes to it: the name is claimed by creating the folder.
    now = datetime(2026, 12, 1, 1, 2, 3)
    first, second = new_session_dir(tmp_path, now), new_session_dir(tmp_path, now)
    assert first != second and first.is_dir() and second.is_dir()
    assert (first.name, second.name) == ("2026-12-01_01-02-03", "2026-12-01_01-02-03-2")


def test_a_mark_beyond_the_sessions_end_is_refused(tmp_path, capsys):
    db = tmp_path / "log.sqlite"
    store = Store(db)
    session = store.begin_session("live", "test", 1000.0)
    store.end_session(session, samples=39_000, lost_samples=1_000)  # 40 s, the lost second included
    store.close()
    code, _ = run(["mark", str(session), "cramp", "--at", "9999", "--db", str(db)])
    assert code == 1 and "beyond the session's end (40.0 s long)" in capsys.readouterr().err
    code, text = run(["mark", str(session), "cramp", "--at", "40", "--db", str(db)])
    assert code == 0 and "40.000 s   cramp" in text


def test_a_session_folder_can_be_marked(tmp_path, capsys):
    folder, db = tmp_path / "session", tmp_path / "log.sqlite"
    code, _ = run(["live", "--source", str(DEMO_EDF), "--speed", "0", "--duration", "3", "--out", str(folder),
                   "--db", str(db), "--no-view", "--format", "jsonl"])
    assert code == 0
    code, text = run(["mark", str(folder), "felt-twitch", "--at", "2.5", "--note", "left calf", "--db", str(db)])
    assert code == 0 and "2.500 s   felt-twitch   left calf" in text
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    assert events[-1] == {"type": "mark", "t_s": 2.5, "label": "felt-twitch", "note": "left calf"}
    assert Store(db).marks(1) == [(2.5, "felt-twitch", "left calf")]  # the log knew the folder: session 1
    code, _ = run(["mark", str(folder), "cramp", "--at", "3.5", "--db", str(db)])
    assert code == 1 and "beyond the session's end (3.0 s long)" in capsys.readouterr().err
    code, _ = run(["mark", str(tmp_path), "cramp", "--at", "1", "--db", str(db)])
    assert code == 1 and "is not a session folder" in capsys.readouterr().err
