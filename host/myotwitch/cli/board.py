"""demo, live, flash and ports: the commands that talk to a board (real or simulated) or a recording streamed
as one."""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from myotwitch.cli.options import db_path as log_path
from myotwitch.cli.output import Output, status
from myotwitch.cli.parser import DEMO_HAND_RECORDING, DEMO_RECORDING
from myotwitch.errors import MyotwitchError

if TYPE_CHECKING:
    from myotwitch.monitor import Monitor
    from myotwitch.sources.base import Board
    from myotwitch.sources.reconnecting import ReconnectingBoard
    from myotwitch.sources.serial_source import SerialSource


def _monitor(rate_hz: float) -> Monitor:
    """The detection pipeline, imported only when a session starts (numpy, scipy, the detector)."""
    from myotwitch.analysis import monitor_for

    return monitor_for(rate_hz)


def _out_dir(args: argparse.Namespace) -> Path:
    from myotwitch.store import default_data_dir, new_session_dir

    if args.out:
        return Path(args.out)
    return new_session_dir(default_data_dir())


def _run_session(source: Board, args: argparse.Namespace, kind: str, out: Output,
                 extra: Callable[[], dict] = dict, labels: tuple[str, ...] = ()) -> int:
    """Stream until the source ends, --duration passes or Ctrl-C; log, record and summarise.

    If the stream ends on an error, what was found so far stays logged and
    recorded (the EDF+ is written), the summary is printed, and then the error
    is raised (exit 1).
    """
    from myotwitch.live.session import Session, SessionOptions

    # A real board runs in real time; the simulated board and replays at --speed.
    paced = args.speed if (kind == "demo" or args.source is not None) else 1.0
    muscles = args.muscle or []  # one per channel: the session checks them against the board's channels
    options = SessionOptions(kind=kind, db_path=log_path(args), out_dir=_out_dir(args), duration_s=args.duration,
                             muscle=muscles[0] if len(muscles) == 1 else None, muscles=tuple(muscles),
                             labels=labels, speed=paced)
    lsl = None
    if args.lsl:
        from myotwitch.live.lsl import LslOutlet

        lsl = LslOutlet()
    session = Session(options, out.event, status, lsl=lsl)  # events printed as found
    from myotwitch.live.view import LiveView, View, Views, read_marks_from_terminal

    views: list[View] = []
    if args.web:  # first, so its URL is printed before the terminal view takes the screen
        from myotwitch.web.view import WebView, require_server

        require_server()
        views.append(WebView(session.marks.put, open_browser=not args.no_browser, say=status, muscle=options.muscle))
    if args.format == "text" and not args.no_view and out.stream.isatty():
        views.append(LiveView(marks_to=session.marks.put, muscle=options.muscle, channel=args.view_channel,
                              say=status))
    elif read_marks_from_terminal(session.marks.put):
        status("m + Enter marks 'felt a twitch'")
    session.view = Views(views) if len(views) > 1 else (views[0] if views else None)
    summary = session.run(source, _monitor)
    summary.update(extra(), speed=paced)
    out.summary(summary)
    if session.failure is not None:
        raise session.failure
    return 0


def _board_source(args: argparse.Namespace, connect: Callable[[], SerialSource],
                  description: str, capture=None) -> ReconnectingBoard:
    """The board, reconnected when lost; a capture records the session clock's readings beside the bytes."""
    from myotwitch.sources.reconnecting import ReconnectingBoard

    return ReconnectingBoard(connect, description, give_up_after_s=args.give_up_after, say=status,
                             clock=capture.clock if capture is not None else time.monotonic)


def _serial_opener(args: argparse.Namespace, capture, silence_timeout_s: float = 5.0, unpaced: bool = False):
    """Opens a port as a SerialSource; `unpaced` for a board faster than real time (read as it writes)."""
    from myotwitch.sources.serial_source import READ_INTERVAL_S, SerialSource

    def open_port(port: str):
        from myotwitch.sensors import unset_sensor_warning

        source = SerialSource(port, baudrate=args.baud, rate_hz=args.rate, capture=capture,
                              silence_timeout_s=silence_timeout_s, sensors=getattr(args, "sensor", None),
                              read_interval_s=0.0 if unpaced else READ_INTERVAL_S)
        info = source.open()
        warning = unset_sensor_warning(info.sensors, info.channel_gains())
        if warning:
            status(warning)
        return source

    return open_port


def _sim_recordings(path: str, channels: int, rate_hz: float | None) -> list:
    """The recordings the simulated board plays, one per channel: the file's first `channels` EMG signals."""
    from myotwitch.recordings import open_recording, open_signals
    from myotwitch.sources.simboard import at_rate

    if channels == 1:
        return [at_rate(open_recording(path), rate_hz)]
    if not Path(path).is_file():
        raise MyotwitchError(f"no recording with {channels} signals at {path}: give one with --recording")
    from myotwitch.dsp.detector import MIN_RATE_HZ

    signals, _ = open_signals(path, None, MIN_RATE_HZ)
    if len(signals) < channels:
        raise MyotwitchError(f"{path} has {len(signals)} EMG signal{'' if len(signals) == 1 else 's'}: "
                             f"the simulated board cannot play {channels} channels from it")
    return [at_rate(r, rate_hz) for r in signals[:channels]]


def _live_sim(args: argparse.Namespace, out: Output, recording_path: str, kind: str, channels: int = 1) -> int:
    from myotwitch.sources.simboard import SimBoard

    recordings = _sim_recordings(recording_path, channels, args.rate)
    recording = recordings[0]
    _monitor(recording.rate_hz)  # an unsupported rate fails here, before the board starts
    playing = "" if channels == 1 else f", {channels} signals as {channels} channels"
    length = "" if recording.duration_s is None else f"{recording.duration_s:.0f} s at "  # a CSV: known once read
    status(f"simulated board playing {recording.path.name} ({length}{recording.rate_hz:g} Hz{playing}, speed "
           f"{'max' if args.speed == 0 else f'{args.speed:g}x'}) in the MicroPython Unix port")
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
                  clock_ppm=args.sim_clock_ppm, more_channels=tuple(recordings[1:])) as board:
        if board.clipped_samples:
            status(f"{board.clipped_samples} samples beyond the simulated ADC's range were clipped")
        if board.missing_samples:
            status(f"{board.missing_samples} samples missing from the recording are played as 0 µV: the simulated "
                   "board's ADC cannot send a gap (`myotwitch analyze` keeps them apart)")
        status(f"firmware on pseudo-terminal {board.port}")
        try:
            with _open_capture(args) as capture:
                open_port = _serial_opener(args, capture, silence_timeout_s=10.0, unpaced=args.speed == 0)

                def connect():
                    if board.port is None:
                        raise MyotwitchError("the simulated board is unplugged")
                    return open_port(board.port)

                source = _board_source(args, connect, "simulated board (firmware in the MicroPython Unix port)",
                                       capture)
                labels = tuple(r.label for r in recordings) if channels > 1 else ()
                return _run_session(source, args, kind, out, lambda: {"port": board.port}, labels)
        except MyotwitchError as exc:
            detail = board.firmware_stderr().strip()
            raise MyotwitchError(f"{exc}" + (f"\nfirmware said:\n{detail}" if detail else "")) from None


def cmd_demo(args: argparse.Namespace, out: Output) -> int:
    default = DEMO_RECORDING if args.channels == 1 else DEMO_HAND_RECORDING
    return _live_sim(args, out, args.recording or default, "demo", args.channels)


def _open_capture(args: argparse.Namespace):
    if not args.capture:
        return contextlib.nullcontext(None)
    from myotwitch.sources.capture import CaptureWriter

    return CaptureWriter.create(args.capture)


def cmd_live(args: argparse.Namespace, out: Output) -> int:
    if args.source is not None and args.port:
        raise MyotwitchError("give either --port (a board) or --source (sim or a recording), not both")
    if args.source == "sim":
        return _live_sim(args, out, DEMO_RECORDING, "live")
    if args.source is not None:
        from myotwitch.recordings import open_recording
        from myotwitch.sources.replay import recording_board

        recording = open_recording(args.source, args.rate)
        _monitor(recording.rate_hz)
        return _run_session(recording_board(recording, speed=args.speed), args, "live", out)
    with _open_capture(args) as capture:
        open_port = _serial_opener(args, capture)
        if args.port:
            return _run_session(_board_source(args, lambda: open_port(args.port), f"board on {args.port}", capture),
                                args, "live", out)
        from myotwitch.live.ports import find_board

        status("looking for the board (USB ids of Pico, ESP32 and USB-UART bridges)")
        source = _board_source(args, lambda: find_board(open_port), "board found by USB id", capture)
        return _run_session(source, args, "live", out)


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
    if args.sensor:
        from myotwitch.sensors import settings_file_text

        # The board's stored sensors (firmware/lib/mtw_settings.py), copied before the reset that boots it.
        settings = build_dir / "sensors.txt"
        settings.write_text(settings_file_text(args.sensor))
        command = [*command[:-2], "+", "fs", "cp", str(settings), ":sensors.txt", *command[-2:]]
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


def cmd_ports(args: argparse.Namespace, out: Output) -> int:
    from myotwitch.live.ports import list_serial_ports

    ports = list_serial_ports()
    if ports:
        out.stream.write("port\tUSB id\tmaker\tdescription\n")
    for p in ports:
        out.stream.write(f"{p.device}\t{p.usb_id}\t{p.maker or ''}\t{p.description}\n")
    if not ports:
        status("no serial ports found (is the board plugged in with a data cable?)")
    return 0
