"""sessions, report and mark: the commands that read (and annotate) the log and the session folders."""

from __future__ import annotations

import argparse
from pathlib import Path

from myotwitch.cli.options import db_path as log_path
from myotwitch.cli.output import DISCLAIMER, Output, status
from myotwitch.errors import MyotwitchError


def cmd_mark(args: argparse.Namespace, out: Output) -> int:
    """Say what an activity segment (or a moment) was: one channel cannot tell a cramp from a contraction."""
    from myotwitch import marks

    return marks.run(args, log_path(args), out.stream, status)


def _session_dir(args: argparse.Namespace, what: str) -> Path:
    """A session folder, or a session number looked up in the log."""
    target = args.session
    if not target.isdigit():
        return Path(target)
    from myotwitch.store import logged_session

    row = logged_session(log_path(args), int(target), "give the session's folder, or --db")
    if not row["out_dir"]:
        raise MyotwitchError(f"session {target} has no folder to {what} (it was logged by an older myotwitch)")
    return Path(row["out_dir"])


def cmd_report(args: argparse.Namespace, out: Output) -> int:
    if args.since is not None:
        from myotwitch.trend import write_trend

        db_path = log_path(args)
        page, trend = write_trend(db_path, args.since, args.out or db_path.parent / f"trend-since-{args.since}.html")
        counted = len({s.id for d in trend.days for s in d.sessions})
        out.stream.write(f"report    {page}\n  days        {len({d.day for d in trend.days})} with a recording "
                         f"since {args.since}, {counted} session{'' if counted == 1 else 's'}\n"
                         + "".join(f"  not counted {why}\n" for why in trend.left_out)
                         + f"  {DISCLAIMER}\n")
        return 0
    from myotwitch.report import write_report

    page, s = write_report(_session_dir(args, "report"), say=status, page=args.out)
    out.stream.write(
        f"report    {page}\n"
        f"  length      {s['duration_s']:.1f} s ({s['recorded_s']:.1f} s with signal, {s['gaps']} gaps)\n"
        f"  twitches    {s['twitches']} ({s['clear_twitches']} clear at SNR >= {s['clear_snr']:g}, "
        f"{s['marginal_twitches']} marginal; {s['twitches_per_min']:.1f} per minute)\n"
        f"  episodes    {s['episodes']}\n"
        f"  activity    {s['activity_segments']} segments\n"
        + "".join(f"  channel {c['channel']}   {c['muscle'] or '?'}: {c['twitches']} ({c['clear_twitches']} clear; "
                  + ("-" if c["clear_per_min_rest"] is None else f"{c['clear_per_min_rest']:.1f}")
                  + " clear per minute of rest)"
                  + (f", {c['nerve']} nerve, roots {c['roots']}" if c["nerve"] else "") + "\n"
                  for c in s.get("channels", []))
        + f"  {DISCLAIMER}\n")
    return 0


def cmd_sessions(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.store import Store

    db_path = log_path(args)
    if not db_path.exists():
        status(f"no log yet at {db_path}")
        return 0
    store = Store(db_path)
    try:
        rows = store.sessions()
    finally:
        store.close()
    if args.format == "jsonl":
        out.records(dict({"type": "session"}, **r) for r in rows)
        return 0
    out.stream.write(f"{'session':>7}  {'started (UTC)':<25} {'kind':<6} {'length':>9} {'twitches':>8} "
                     f"{'episodes':>8}  folder\n")
    for r in rows:
        # A board that plays a file is not a person measured: `live --source FILE` and the simulated board.
        kind = {"recording": "replay", "sim": "sim"}.get(r["board"], r["kind"]) if r["kind"] == "live" else r["kind"]
        length = "-" if r["samples"] is None else f"{(r['samples'] + (r['lost_samples'] or 0)) / r['rate_hz']:.0f} s"
        out.stream.write(f"{r['id']:>7}  {r['started_utc']:<25} {kind:<6} {length:>9} "
                         f"{r['twitches'] if r['twitches'] is not None else '-':>8} "
                         f"{r['episodes'] if r['episodes'] is not None else '-':>8}  {r['out_dir'] or '-'}\n")
    return 0
