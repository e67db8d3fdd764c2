"""The `myotwitch` command: demo, live, analyze, report, sessions, mark, flash, ports.

Data (twitch and episode lines, the summary) goes to stdout, as text or as
JSON lines (--format jsonl); status and errors go to stderr. Exit codes:
0 ok, 1 runtime error (bad file, missing port), 2 usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from myotwitch import __version__
from myotwitch.errors import MyotwitchError
from myotwitch.monitor import NAN_GAP, Monitor, gap_event

DISCLAIMER = "myotwitch informs; it does not diagnose. Bring the log to a clinician."
CRAMP_NOTE = "one channel cannot tell a cramp from a voluntary contraction"
DEMO_RECORDING = Path(__file__).resolve().parent / "data" / "demo_forearm_rest.edf"


# -- output ------------------------------------------------------------------


class Output:
    """Writes events as text lines or JSON lines."""

    def __init__(self, fmt: str, stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self._stream = stream

    @property
    def stream(self) -> TextIO:
        # Looked up on each write when not given: the live view redirects sys.stdout above itself.
        return self._stream if self._stream is not None else sys.stdout

    def event(self, e: dict) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(e) + "\n")
        elif e["type"] == "twitch":
            self.stream.write(
                f"twitch   {e['t_s']:10.3f} s   peak {e['peak_uv']:7.1f} µV   {e['duration_ms']:5.1f} ms"
                f"   SNR {e['snr']:5.1f}\n"
            )
        elif e["type"] == "episode":
            self.stream.write(
                f"episode  {e['start_s']:10.3f} - {e['end_s']:.3f} s   {e['count']} twitches"
                f"   {e['rate_per_min']:.1f}/min   median peak {e['median_peak_uv']:.1f} µV\n"
            )
        elif e["type"] == "activity":
            kind = f"sustained: cramp, spasm or held contraction ({CRAMP_NOTE}: `myotwitch mark` it)" \
                if e["cramp_candidate"] else "muscle activity (not twitching)"
            self.stream.write(
                f"activity {e['start_s']:10.3f} - {e['end_s']:.3f} s   {e['duration_s']:.1f} s"
                f"   mean envelope {e['mean_envelope_uv']:.1f} µV   {kind}\n"
            )
        elif e["type"] == "signal":
            what = "flat signal (electrode off?): skipped" if e["kind"] == "flat" else "clipped at the ADC's range"
            self.stream.write(f"signal   {e['start_s']:10.3f} - {e['end_s']:.3f} s   {what}\n")
        elif e["type"] == "gap":
            self.stream.write(f"gap      {e['start_s']:10.3f} - {e['end_s']:.3f} s   {e['why']}: "
                              f"{e['samples']} samples lost\n")
        elif e["type"] == "mark":
            self.stream.write(f"mark     {e['t_s']:10.3f} s   {e['label']}\n")
        elif e["type"] == "stream":
            self.stream.write(f"stream   {e['t_s']:10.3f} s   {e['text']}\n")
        self.stream.flush()

    def events(self, events: Iterable[dict]) -> None:
        for e in events:
            self.event(e)

    def summary(self, s: dict) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(dict({"type": "summary"}, **s)) + "\n")
            self.stream.flush()
            return
        lines = [f"summary ({DISCLAIMER})"]
        if "seconds" in s:
            lines.append(f"  streamed      {s['seconds']:.1f} s")
        if "firmware" in s:
            lines.append(f"  board         {s.get('board')} running {s['firmware']}")
        if "frames" in s:
            sent = f" (the board sent {s['frames_sent']})" if s.get("frames_sent") is not None else ""
            lines.append(f"  frames        {s['frames']}{sent}")
        lines.append(f"  samples       {s['samples']} received, {s['lost_samples']} lost")
        if s.get("gaps"):
            lines.append(f"  gaps          {s['gaps']} (board reconnected {s.get('reconnects', 0)} times)")
        if s.get("effective_rate_hz"):
            lines.append(f"  rate          {s['rate_hz']:g} Hz nominal, {s['effective_rate_hz']:.2f} samples per "
                         "second of this computer's clock")
        if s.get("device_rate_hz"):
            lines.append(f"  board clock   {s['device_rate_hz']:.2f} samples per second of the board's clock; frame "
                         f"timing jitter {s['device_jitter_us_rms']:g} µs RMS, {s['device_jitter_us_max']:g} µs at most")
        if "crc_errors" in s:
            lines.append(f"  CRC errors    {s['crc_errors']}")
        if s.get("saturated_frames") or s.get("flat_frames"):
            lines.append(f"  signal        {s['saturated_frames']} frames at the ADC's rails, "
                         f"{s['flat_frames']} flat frames (electrode off?)")
        lines.append(f"  twitches      {s['twitches']}")
        lines.append(f"  episodes      {s['episodes']}")
        if s.get("activity_segments") is not None:
            lines.append(f"  activity      {s['activity_segments']} segments")
        if s.get("rejected"):
            lines.append("  not counted   " + ", ".join(f"{n} {why}" for why, n in s["rejected"].items()))
        if s.get("noise_uv") is not None:
            mains = " and ".join(f"{f:g} Hz" for f in s.get("mains_hz", [])) or "none (no mains line found)"
            lines.append(f"  noise floor   {s['noise_uv']:.2f} µV   mains notched: {mains}")
        if s.get("db"):
            lines.append(f"  log           {s['db']} (session {s['session']})")
        if s.get("out_dir"):
            lines.append(f"  recording     {s['out_dir']} (session.edf, events.jsonl; `myotwitch report` it)")
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()


def status(message: str) -> None:
    print(f"myotwitch: {message}", file=sys.stderr, flush=True)


# -- commands ----------------------------------------------------------------


def _db_path(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db)
    from myotwitch.store import default_data_dir

    return default_data_dir() / "myotwitch.sqlite"


def _out_dir(args: argparse.Namespace) -> Path:
    from myotwitch.live.session import default_out_dir
    from myotwitch.store import default_data_dir

    if args.out:
        return Path(args.out)
    return default_out_dir(default_data_dir())


def _run_session(source, args: argparse.Namespace, kind: str, out: Output, extra: Callable[[], dict] = dict) -> int:
    """Stream until the source ends, --duration passes or Ctrl-C; log, record and summarise.

    If the stream ends on an error, what was found so far stays logged and
    recorded (the EDF+ is written), the summary is printed, and then the error
    is raised (exit 1).
    """
    from myotwitch.live.session import Session, SessionOptions

    # A real board runs in real time; the simulated board and replays at --speed.
    paced = args.speed if (kind == "demo" or args.source is not None) else 1.0
    options = SessionOptions(kind=kind, db_path=_db_path(args), out_dir=_out_dir(args),
                             duration_s=args.duration, muscle=args.muscle, speed=paced)
    lsl = None
    if args.lsl:
        from myotwitch.live.lsl import LslOutlet

        lsl = LslOutlet()
    session = Session(options, out.event, status, lsl=lsl)
    from myotwitch.live.view import LiveView, Views, read_marks_from_terminal

    views = []
    if args.web:  # first, so its URL is printed before the terminal view takes the screen
        from myotwitch.web.view import WebView, require_server

        require_server()
        views.append(WebView(session.marks.put, open_browser=not args.no_browser, say=status, muscle=args.muscle))
    if args.format == "text" and not args.no_view and out.stream.isatty():
        views.append(LiveView(marks_to=session.marks.put, muscle=args.muscle))
    elif read_marks_from_terminal(session.marks.put):
        status("m + Enter marks 'felt a twitch'")
    session.view = Views(views) if len(views) > 1 else (views[0] if views else None)
    summary = session.run(source, _monitor)
    summary.update(extra())
    out.summary(summary)
    if session.failure is not None:
        raise session.failure
    return 0


def _board_source(args: argparse.Namespace, connect: Callable[[], object], description: str):
    from myotwitch.live.connection import ReconnectingBoard

    return ReconnectingBoard(connect, description, give_up_after_s=args.give_up_after, say=status)


def _serial_opener(args: argparse.Namespace, capture, silence_timeout_s: float = 5.0):
    from myotwitch.sources.serial_source import SerialSource

    def open_port(port: str):
        source = SerialSource(port, baudrate=args.baud, rate_hz=args.rate, capture=capture,
                              silence_timeout_s=silence_timeout_s)
        source.open()
        return source

    return open_port


def _live_sim(args: argparse.Namespace, out: Output, recording_path: str, kind: str) -> int:
    from myotwitch.recordings import open_recording
    from myotwitch.sources.simboard import SimBoard

    recording = open_recording(recording_path)
    _monitor(recording.rate_hz)  # an unsupported rate fails here, before the board starts
    status(f"simulated board playing {recording.path.name} ({recording.duration_s or 0:.0f} s at "
           f"{recording.rate_hz:g} Hz, speed {'max' if args.speed == 0 else f'{args.speed:g}x'}) "
           "in the MicroPython Unix port")
    unplug_after = round(args.sim_unplug_at * recording.rate_hz) if args.sim_unplug_at else 0
    reset_after = round(args.sim_reset_at * recording.rate_hz) if args.sim_reset_at else 0
    if unplug_after and reset_after:
        raise MyotwitchError("give --sim-unplug-at or --sim-reset-at, not both")
    rate = recording.rate_hz
    stall_at = round(args.sim_stall_at * rate) if args.sim_stall_at else 0
    noise_at = round(args.sim_noise_at * rate) if args.sim_noise_at else 0
    with SimBoard(recording, speed=args.speed, unplug_after_samples=unplug_after,
                  replug_after_s=args.sim_unplug_for, reset_after_samples=reset_after,
                  stall_at_samples=stall_at, stall_samples=round(args.sim_stall_for * rate) if stall_at else 0,
                  garbage_at_samples=noise_at, garbage_bytes=args.sim_noise_bytes if noise_at else 0,
                  clock_ppm=args.sim_clock_ppm) as board:
        if board.clipped_samples:
            status(f"{board.clipped_samples} samples beyond the simulated ADC's range were clipped")
        status(f"firmware on pseudo-terminal {board.port}")
        try:
            with _open_capture(args) as capture:
                open_port = _serial_opener(args, capture, silence_timeout_s=10.0)

                def connect():
                    if board.port is None:
                        raise MyotwitchError("the simulated board is unplugged")
                    return open_port(board.port)

                source = _board_source(args, connect, "simulated board (firmware in the MicroPython Unix port)")
                return _run_session(source, args, kind, out, lambda: {"port": board.port})
        except MyotwitchError as exc:
            detail = board.firmware_stderr().strip()
            raise MyotwitchError(f"{exc}" + (f"\nfirmware said:\n{detail}" if detail else "")) from None


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    return _live_sim(args, out, args.recording, "demo")


def _open_capture(args: argparse.Namespace):
    if not args.capture:
        return contextlib.nullcontext(None)
    try:
        return open(args.capture, "wb")
    except OSError as exc:
        raise MyotwitchError(f"cannot write the capture {args.capture}: {exc.strerror}") from None


def cmd_live(args: argparse.Namespace, out: Output) -> int:
    if args.source is not None and args.port:
        raise MyotwitchError("give either --port (a board) or --source (sim or a recording), not both")
    if args.source == "sim":
        return _live_sim(args, out, str(DEMO_RECORDING), "live")
    if args.source is not None:
        from myotwitch.live.recording_board import RecordingBoard
        from myotwitch.recordings import open_recording

        recording = open_recording(args.source, args.rate)
        _monitor(recording.rate_hz)
        return _run_session(RecordingBoard(recording, speed=args.speed), args, "live", out)
    with _open_capture(args) as capture:
        open_port = _serial_opener(args, capture)
        if args.port:
            return _run_session(_board_source(args, lambda: open_port(args.port), f"board on {args.port}"),
                                args, "live", out)
        from myotwitch.live.ports import find_board

        status("looking for the board (USB ids of Pico, ESP32 and USB-UART bridges)")
        source = _board_source(args, lambda: find_board(open_port), "board found by USB id")
        return _run_session(source, args, "live", out)


def _monitor(rate_hz: float) -> Monitor:
    try:
        return Monitor(rate_hz)
    except ValueError as exc:
        raise MyotwitchError(str(exc)) from None


def cmd_analyze(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.recordings import open_recording
    from myotwitch.sources.capture import CAPTURE_SUFFIX, CaptureSource
    from myotwitch.sources.replay import ReplaySource

    if str(args.path).lower().endswith(CAPTURE_SUFFIX):
        source = CaptureSource(args.path)
        rate_hz, total_s, label = source.rate_hz, None, source.path
    else:
        recording = open_recording(args.path, args.rate)
        source = ReplaySource(recording)
        rate_hz, total_s, label = recording.rate_hz, recording.duration_s, recording.path
    monitor = _monitor(rate_hz)
    last_report = time.monotonic()
    reported_gaps = 0
    for block in source.blocks():
        out.events(monitor.feed(block))
        skipped = source.skipped
        for first, count in skipped[reported_gaps : len(skipped) - 1]:
            out.event(gap_event(first, count, rate_hz, NAN_GAP))
        reported_gaps = max(reported_gaps, len(skipped) - 1)
        if sys.stderr.isatty() and time.monotonic() - last_report > 2.0:
            last_report = time.monotonic()
            done_s = monitor.samples / rate_hz
            status(f"analyzed {done_s:.0f} s" + (f" of {total_s:.0f} s" if total_s else ""))
    out.events(monitor.finish())
    for first, count in source.skipped[reported_gaps:]:
        out.event(gap_event(first, count, rate_hz, NAN_GAP))
    if monitor.samples == 0:
        raise MyotwitchError(f"{label}: no samples" + (" that are numbers within ±10 V" if source.skipped else ""))
    if source.skipped:
        skipped_s = sum(count for _, count in source.skipped) / rate_hz
        status(f"warning: {label}: {skipped_s:.3f} s of values that are not numbers or beyond ±10 V were skipped "
               f"in {len(source.skipped)} place{'' if len(source.skipped) == 1 else 's'} (listed as gaps), "
               "never filled in")
    if monitor.detector.noise_uv is None:
        flat_s = monitor.skipped_s.get("flat", 0.0)
        if flat_s:
            raise MyotwitchError(f"{label}: the signal is flat ({flat_s:.1f} s: electrode off or no sensor?), "
                                 "nothing to analyze")
        needed_s = monitor.detector.warmup_s
        raise MyotwitchError(f"{label}: too short to estimate the noise floor "
                             f"({monitor.samples / rate_hz:.2f} s of signal, at least {needed_s:g} s needed)")
    out.summary({
        "seconds": round((monitor.samples + monitor.lost_samples) / rate_hz, 3),
        "samples": monitor.samples,
        "lost_samples": monitor.lost_samples,
        "rate_hz": rate_hz,
        **monitor.summary(),
        "path": str(label),
    })
    return 0


def cmd_flash(args: argparse.Namespace, out: Output) -> int:
    import shlex
    import tempfile

    from myotwitch import flash

    board = flash.resolve_board(args.board)
    if args.dry_run and not args.build_dir:
        raise MyotwitchError("--dry-run needs --build-dir DIR for the compiled files")
    build_dir = Path(args.build_dir) if args.build_dir else Path(tempfile.mkdtemp(prefix="myotwitch-build-"))
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MyotwitchError(f"cannot create {build_dir}: {exc.strerror}") from None
    built = flash.build(board, build_dir)
    arch = flash.BOARDS[board][0]
    status(f"built {len(built)} files for {board} ({arch}) in {build_dir}")
    command = flash.mpremote_command(args.port, built)
    if args.dry_run:
        out.stream.write(shlex.join(command) + "\n")
        return 0
    flash.run_mpremote(command)
    status("installed; asking the board for its hello frame")
    from myotwitch.sources.serial_source import SerialSource

    if args.port == "auto":
        status("give --port to confirm with INFO (mpremote found the board by itself)")
        return 0
    source = SerialSource(args.port, answer_timeout_s=8.0)
    info = source.open()
    source.close()
    out.stream.write(f"{info.board} board, firmware {info.firmware}, MicroPython {info.fields.get('upy', '?')}, "
                     f"{info.rate_hz} Hz, id {info.fields.get('uid', '?')}\n")
    return 0


MARK_LABELS = ("cramp", "spasm", "voluntary", "felt-twitch", "other")


def cmd_mark(args: argparse.Namespace, out: Output) -> int:
    """Say what an activity segment (or a moment) was: one channel cannot tell a cramp from a contraction."""
    from myotwitch.store import Store

    db_path = _db_path(args)
    if not db_path.exists():
        raise MyotwitchError(f"no log at {db_path}: record a session first (demo or live), or give --db")
    store = Store(db_path)
    try:
        row = store.session(args.session)
        if row is None:
            raise MyotwitchError(f"{db_path} has no session {args.session}")
        store.add_mark(args.session, args.at, args.label, args.note)
        if row["out_dir"] and Path(row["out_dir"]).is_dir():
            _mark_in_folder(Path(row["out_dir"]), {"type": "mark", "t_s": args.at, "label": args.label,
                                                    "note": args.note})
        for t_s, label, note in store.marks(args.session):
            out.stream.write(f"mark     {t_s:10.3f} s   {label}" + (f"   {note}" if note else "") + "\n")
    finally:
        store.close()
    return 0


def _session_dir(args: argparse.Namespace, what: str) -> Path:
    """A session folder, or a session number looked up in the log."""
    target = args.session
    if not target.isdigit():
        return Path(target)
    from myotwitch.store import Store

    db_path = _db_path(args)
    if not db_path.exists():
        raise MyotwitchError(f"no log at {db_path}: give the session's folder, or --db")
    store = Store(db_path)
    try:
        row = store.session(int(target))
    finally:
        store.close()
    if row is None:
        raise MyotwitchError(f"{db_path} has no session {target} (`myotwitch sessions` lists them)")
    if not row["out_dir"]:
        raise MyotwitchError(f"session {target} has no folder to {what} (it was logged by an older myotwitch)")
    return Path(row["out_dir"])


def cmd_report(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.report import write_report

    page, s = write_report(_session_dir(args, "report"), say=status)
    out.stream.write(
        f"report    {page}\n"
        f"  length      {s['duration_s']:.1f} s ({s['recorded_s']:.1f} s with signal, {s['gaps']} gaps)\n"
        f"  twitches    {s['twitches']} ({s['twitches_per_min']:.1f} per minute)\n"
        f"  episodes    {s['episodes']}\n"
        f"  activity    {s['activity_segments']} segments\n"
        f"  {DISCLAIMER}\n")
    return 0


def cmd_sessions(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.store import Store

    db_path = _db_path(args)
    if not db_path.exists():
        status(f"no log yet at {db_path}")
        return 0
    store = Store(db_path)
    try:
        rows = store.sessions()
    finally:
        store.close()
    if args.format == "jsonl":
        out.events(dict({"type": "session"}, **r) for r in rows)
        return 0
    out.stream.write(f"{'session':>7}  {'started (UTC)':<25} {'kind':<5} {'length':>9} {'twitches':>8} "
                     f"{'episodes':>8}  folder\n")
    for r in rows:
        length = "-" if r["samples"] is None else f"{(r['samples'] + (r['lost_samples'] or 0)) / r['rate_hz']:.0f} s"
        out.stream.write(f"{r['id']:>7}  {r['started_utc']:<25} {r['kind']:<5} {length:>9} "
                         f"{r['twitches'] if r['twitches'] is not None else '-':>8} "
                         f"{r['episodes'] if r['episodes'] is not None else '-':>8}  {r['out_dir'] or '-'}\n")
    return 0


def _mark_in_folder(folder: Path, mark: dict) -> None:
    """The session's own files carry the mark too: events.jsonl, and its EDF+ written again."""
    from myotwitch.recorder import EVENTS_JSONL, write_session_edf

    try:
        with open(folder / EVENTS_JSONL, "a", encoding="utf-8") as f:
            f.write(json.dumps(mark) + "\n")
    except OSError as exc:
        raise MyotwitchError(f"cannot add the mark to {folder}: {exc.strerror}") from None
    write_session_edf(folder)
    status(f"marked in {folder} (events.jsonl, session.edf)")


def cmd_ports(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.live.ports import list_serial_ports

    ports = list_serial_ports()
    for p in ports:
        out.stream.write(f"{p.device}\t{p.usb_id}\t{p.maker or ''}\t{p.description}\n")
    if not ports:
        status("no serial ports found (is the board plugged in with a data cable?)")
    return 0


# -- argument parsing ----------------------------------------------------------


def _finite_float(allow_zero: bool, requirement: str) -> Callable[[str], float]:
    """An argparse type: a finite number above zero (or at least zero)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
            raise argparse.ArgumentTypeError(f"{requirement}: {text!r}")
        return value

    return parse


_positive_float = _finite_float(False, "must be a positive number")
_non_negative_float = _finite_float(True, "must be 0 or more")
_speed = _finite_float(True, "must be 0 (as fast as possible) or a positive factor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myotwitch",
        description="Surface-EMG twitch (fasciculation) monitor. " + DISCLAIMER,
    )
    parser.add_argument("--version", action="version", version=f"myotwitch {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def output_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=("text", "jsonl"), default="text",
                       help="text for people, jsonl (one JSON object per line) for programs")
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")

    def stream_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds of signal")
        p.add_argument("--out", metavar="DIR",
                       help="session folder: session.edf, events.jsonl, raw samples "
                            "(default: a new folder under sessions/ in the per-user data folder)")
        p.add_argument("--db", metavar="PATH", help="SQLite log (default: myotwitch.sqlite in the per-user data folder)")
        p.add_argument("--muscle", metavar="NAME", help="where the electrodes are (e.g. 'left FDI'): goes into the EDF+")
        p.add_argument("--capture", metavar="PATH",
                       help="also save every byte the board sends, to replay with `analyze PATH` (name it *.mtwcap)")
        p.add_argument("--give-up-after", type=_positive_float, metavar="S",
                       help="if the board is lost, stop looking for it after S seconds (default: keep looking)")
        p.add_argument("--lsl", action="store_true",
                       help="also publish the signal and twitch markers on Lab Streaming Layer "
                            "(pip install -e '.[lsl]')")
        p.add_argument("--no-view", action="store_true",
                       help="plain lines even on a terminal (the live view is shown only when stdout is one)")
        p.add_argument("--web", action="store_true",
                       help="also show a live page in the browser (served on 127.0.0.1 with a token; needs the "
                            "'web' extra)")
        p.add_argument("--no-browser", action="store_true", help="with --web: print the page's URL, open no browser")
        p.add_argument("--baud", type=int, default=115200, help="baud rate for USB-UART bridges (default 115200)")
        p.add_argument("--speed", type=_speed, default=1.0,
                       help="simulated board or recording: N times real time; 0 = as fast as possible (default 1)")
        sim = p.add_argument_group("simulated board faults (testing)")
        sim.add_argument("--sim-unplug-at", type=_positive_float, metavar="S",
                         help="pull the simulated board's cable after S s of signal")
        sim.add_argument("--sim-reset-at", type=_positive_float, metavar="S",
                         help="reset the simulated board's processor after S s of signal (the port stays)")
        sim.add_argument("--sim-unplug-for", type=_non_negative_float, default=2.0, metavar="S",
                         help="plug it in again S seconds (wall clock) later (default 2)")
        sim.add_argument("--sim-stall-at", type=_positive_float, metavar="S",
                         help="hold the firmware's main loop after S s of signal while its timer keeps sampling")
        sim.add_argument("--sim-stall-for", type=_positive_float, default=3.0, metavar="S",
                         help="for S s of signal (default 3: beyond the board's 2048-sample ring at 1 kHz)")
        sim.add_argument("--sim-noise-at", type=_positive_float, metavar="S",
                         help="put a burst of line noise on the serial line after S s of signal")
        sim.add_argument("--sim-noise-bytes", type=int, default=2000, metavar="N",
                         help="bytes in that burst (default 2000)")
        sim.add_argument("--sim-clock-ppm", type=int, default=0, metavar="P",
                         help="the simulated board's crystal P parts per million fast (negative: slow)")
        output_options(p)

    p = sub.add_parser("demo", help="run the firmware in the MicroPython Unix port on a bundled recording")
    p.add_argument("--recording", default=str(DEMO_RECORDING), metavar="PATH",
                   help="recording the simulated board plays (default: the bundled forearm recording)")
    p.set_defaults(rate=None)
    stream_options(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("live", help="monitor a board (found by USB id, or --port), the simulated board, or a recording")
    p.add_argument("--port", help="serial port or pyserial URL: /dev/ttyACM0, COM5, hwgrep://2E8A "
                                  "(default: find the board by its USB id and hello frame)")
    p.add_argument("--source", metavar="sim|PATH",
                   help="sim: the firmware in the MicroPython Unix port on the bundled recording; "
                        "PATH: stream a recording file in real time (see --speed)")
    p.add_argument("--rate", type=int, choices=(500, 1000, 2000), help="sampling rate in Hz (default: the board's)")
    stream_options(p)
    p.set_defaults(func=cmd_live)

    p = sub.add_parser("analyze", help="find twitches in a recording (CSV, EDF/EDF+/BDF, WFDB .hea, .mtwcap capture)")
    p.add_argument("path", help="the recording")
    p.add_argument("--rate", type=_positive_float, metavar="HZ", help="sampling rate of a CSV without a time_s column")
    output_options(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("mark", help="note what a moment of a session was (a cramp, a voluntary contraction, a felt twitch)")
    p.add_argument("session", type=int, help="session number (from the summary of demo or live)")
    p.add_argument("--at", type=_non_negative_float, required=True, metavar="S", help="seconds from the session's start")
    p.add_argument("label", choices=MARK_LABELS, help="what it was")
    p.add_argument("--note", help="free text")
    p.add_argument("--db", metavar="PATH", help="SQLite log (default: myotwitch.sqlite in the per-user data folder)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    p.set_defaults(func=cmd_mark, format="text")

    p = sub.add_parser("flash", help="build the firmware for a board (mpy-cross) and install it (mpremote)")
    p.add_argument("--board", required=True, help="rp2040 (Pico; also rp2), rp2350 (Pico 2) or esp32")
    p.add_argument("--port", default="auto", help="the board's serial port (default: mpremote finds it)")
    p.add_argument("--dry-run", action="store_true", help="build and print the mpremote command; touch no device")
    p.add_argument("--build-dir", metavar="DIR", help="where the compiled files go (default: a temporary folder)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    p.set_defaults(func=cmd_flash, format="text")

    p = sub.add_parser("report", help="write an HTML page with plots for a session (folder or number)")
    p.add_argument("session", metavar="DIR|SESSION", help="the session's folder (--out of live), or its number")
    p.add_argument("--db", metavar="PATH", help="SQLite log to look session numbers up in")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    p.set_defaults(func=cmd_report, format="text")

    p = sub.add_parser("sessions", help="list the sessions in the log")
    p.add_argument("--db", metavar="PATH", help="SQLite log (default: myotwitch.sqlite in the per-user data folder)")
    output_options(p)
    p.set_defaults(func=cmd_sessions)

    p = sub.add_parser("ports", help="list serial ports with their USB ids")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")
    p.set_defaults(func=cmd_ports, format="text")
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(args.format, stdout)
    try:
        return args.func(args, out)
    except MyotwitchError as exc:
        if args.debug:
            raise
        print(f"myotwitch: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("myotwitch: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    sys.exit(main())
