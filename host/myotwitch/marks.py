"""`myotwitch mark SESSION|DIR LABEL --at S`: say what a moment of a session was.

One channel cannot tell a cramp from a voluntary contraction: the person can.
A session is named by its number in the log or by its folder. The mark goes
into the log (when the session is in it) and into the folder's events.jsonl
and EDF+ (when it has a folder). A time beyond the session's end is refused.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from myotwitch.errors import MyotwitchError

MARK_LABELS = ("cramp", "spasm", "voluntary", "felt-twitch", "other")


@dataclass(frozen=True)
class MarkTarget:
    session_id: int | None  # in the log, if it is there
    folder: Path | None  # the session's folder, if it has one
    length_s: float | None  # samples received and lost over the rate; None while unknown (a session still running)


def folder_length_s(folder: Path) -> float | None:
    """A session folder's length: its raw samples (lost ones stored as NaN) over its rate."""
    from myotwitch.recorder import SAMPLES_F32, SESSION_JSON

    try:
        rate_hz = float(json.loads((folder / SESSION_JSON).read_text(encoding="utf-8"))["rate_hz"])
        return (folder / SAMPLES_F32).stat().st_size // 4 / rate_hz
    except (OSError, ValueError, KeyError, TypeError, ZeroDivisionError):
        return None


def log_length_s(row: dict) -> float | None:
    if row.get("samples") is None or not row.get("rate_hz"):
        return None
    return (row["samples"] + (row.get("lost_samples") or 0)) / row["rate_hz"]


def find_target(target: str, db_path: Path) -> MarkTarget:
    """A session number looked up in the log, or a folder (and its number, if the log knows the folder)."""
    from myotwitch.store import Store, logged_session

    if not target.isdigit():
        folder = Path(target)
        from myotwitch.recorder import SESSION_JSON

        if not (folder / SESSION_JSON).is_file():
            raise MyotwitchError(f"{folder} is not a session folder (no {SESSION_JSON}); give a folder that demo or "
                                 "live wrote, or a session number")
        session_id = None
        if db_path.exists():
            store = Store(db_path)
            try:
                resolved = folder.resolve()
                session_id = next((r["id"] for r in store.sessions()
                                   if r["out_dir"] and Path(r["out_dir"]).resolve() == resolved), None)
            finally:
                store.close()
        return MarkTarget(session_id, folder, folder_length_s(folder))
    row = logged_session(db_path, int(target),
                         "record a session first (demo or live), or give --db or the session's folder")
    kept = Path(row["out_dir"]) if row["out_dir"] and Path(row["out_dir"]).is_dir() else None
    length_s = log_length_s(row)
    if length_s is None and kept is not None:
        length_s = folder_length_s(kept)
    return MarkTarget(int(target), kept, length_s)


def write_in_folder(folder: Path, mark: dict, say: Callable[[str], None]) -> None:
    """The session's own files carry the mark too: events.jsonl, and its EDF+ written again."""
    from myotwitch.recorder import EVENTS_JSONL, write_session_edf

    try:
        with open(folder / EVENTS_JSONL, "a", encoding="utf-8") as f:
            f.write(json.dumps(mark) + "\n")
    except OSError as exc:
        raise MyotwitchError(f"cannot add the mark to {folder}: {exc.strerror}") from None
    write_session_edf(folder)
    say(f"marked in {folder} (events.jsonl, session.edf)")


def run(args: argparse.Namespace, db_path: Path, stdout: TextIO, say: Callable[[str], None]) -> int:
    target = find_target(str(args.session), db_path)
    if target.length_s is not None and args.at > target.length_s:
        raise MyotwitchError(f"--at {args.at:g} s is beyond the session's end ({target.length_s:.1f} s long)")
    mark = {"type": "mark", "t_s": args.at, "label": args.label, "note": args.note}
    lines: list[tuple[float, str, str | None]] = [(args.at, args.label, args.note)]
    if target.session_id is not None:
        from myotwitch.store import Store

        store = Store(db_path)
        try:
            store.add_mark(target.session_id, args.at, args.label, args.note)
            lines = store.marks(target.session_id)
        finally:
            store.close()
    if target.folder is not None:
        write_in_folder(target.folder, mark, say)
    stdout.writelines(f"mark     {t_s:10.3f} s   {label}" + (f"   {note}" if note else "") + "\n"
                      for t_s, label, note in lines)
    return 0
