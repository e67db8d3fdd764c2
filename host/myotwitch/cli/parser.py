"""The command line's grammar: every command, its options, and where its code lives.

Only argparse and the light options module are imported here: a command's own
module (and numpy, scipy, the detector, rich, pyserial) is imported when that
command runs, so `myotwitch --help` and the small commands start quickly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from myotwitch import __version__, batch, check, marks
from myotwitch.cli import options
from myotwitch.cli.output import DISCLAIMER

DEMO_RECORDING = str(Path(__file__).resolve().parents[1] / "data" / "demo_forearm_rest.edf")  # bundled
# Three signals (right APB, FDI, FCR): twitches in one muscle, crosstalk to its neighbour, motion and ECG on all.
DEMO_HAND_RECORDING = str(Path(__file__).resolve().parents[1] / "data" / "demo_hand_3ch.edf")


def _sensor_option(p: argparse.ArgumentParser, what: str) -> None:
    from myotwitch.builds import SENSORS

    p.add_argument("--sensor", action="append", choices=sorted(SENSORS), metavar="NAME",
                   help=f"the sensor on channel 0 ({what}; sets its gain, hence µV): "
                        + ", ".join(f"{s.key} (gain {s.gain:g})" for s in SENSORS.values())
                        + "; repeat for channels 1, 2, ...")


def _stream_options(p: argparse.ArgumentParser) -> None:
    """demo and live: a session streamed from a board, the simulated board or a recording."""
    p.add_argument("--duration", type=options.positive_float, metavar="S", help="stop after S seconds of signal")
    p.add_argument("--out", metavar="DIR",
                   help="session folder: session.edf, events.jsonl, raw samples "
                        "(default: a new folder under sessions/ in the per-user data folder)")
    p.add_argument("--muscle", metavar="NAME", action="append",
                   help="where the electrodes are (e.g. 'left FDI'): goes into the EDF+ and the events; "
                        "with several channels, one --muscle per channel in order (default: the recording's "
                        "signal labels, or 'channel N'); see `myotwitch muscles`")
    p.add_argument("--capture", metavar="PATH",
                   help="also save every byte the board sends, to replay with `analyze PATH` (name it *.mtwcap)")
    p.add_argument("--give-up-after", type=options.positive_float, metavar="S",
                   help="if the board is lost, stop looking for it after S seconds (default: keep looking)")
    p.add_argument("--lsl", action="store_true",
                   help="also publish the signal and twitch markers on Lab Streaming Layer "
                        "(pip install 'myotwitch[lsl]')")
    p.add_argument("--no-view", action="store_true",
                   help="plain lines even on a terminal (the live view is shown only when stdout is one)")
    p.add_argument("--view-channel", type=int, metavar="C",
                   help="several channels: the terminal view traces channel C (0-based; default: the channel "
                        "with the latest twitch)")
    p.add_argument("--web", action="store_true",
                   help="also show a live page in the browser (served on 127.0.0.1 with a token; needs the "
                        "'web' extra)")
    p.add_argument("--no-browser", action="store_true", help="with --web: print the page's URL, open no browser")
    p.add_argument("--baud", type=int, default=115200, help="baud rate for USB-UART bridges (default 115200)")
    p.add_argument("--speed", type=options.speed, default=1.0,
                   help="simulated board or recording: N times real time; 0 = as fast as possible (default 1)")
    sim = p.add_argument_group("simulated board faults (testing)")
    sim.add_argument("--sim-unplug-at", type=options.positive_float, metavar="S",
                     help="pull the simulated board's cable after S s of signal")
    sim.add_argument("--sim-reset-at", type=options.positive_float, metavar="S",
                     help="reset the simulated board's processor after S s of signal (the port stays)")
    sim.add_argument("--sim-unplug-for", type=options.non_negative_float, default=2.0, metavar="S",
                     help="plug it in again S seconds (wall clock) later (default 2)")
    sim.add_argument("--sim-stall-at", type=options.positive_float, metavar="S",
                     help="hold the firmware's main loop after S s of signal while its timer keeps sampling")
    sim.add_argument("--sim-stall-for", type=options.positive_float, default=3.0, metavar="S",
                     help="for S s of signal (default 3: beyond the board's 2048-sample ring at 1 kHz)")
    sim.add_argument("--sim-noise-at", type=options.positive_float, metavar="S",
                     help="put a burst of line noise on the serial line after S s of signal")
    sim.add_argument("--sim-noise-bytes", type=int, default=2000, metavar="N",
                     help="bytes in that burst (default 2000)")
    sim.add_argument("--sim-clock-ppm", type=int, default=0, metavar="P",
                     help="the simulated board's crystal P parts per million fast (negative: slow)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myotwitch",
        description="Surface-EMG twitch (fasciculation) monitor. " + DISCLAIMER,
        epilog="First board? hardware/first-board.md in the source (MicroPython on the board, flash, the "
               "sensor's gain, check). Try it without one: myotwitch demo.",
    )
    parser.add_argument("--version", action="version", version=f"myotwitch {__version__}")
    parser.add_argument("--debug", action="store_true", help=options.DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    streaming = options.shared_parent(jsonl=True, db=True)

    def command(name: str, module: str, help: str, parent: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, parents=[parent])
        p.set_defaults(module=module, func="cmd_" + name)
        return p

    p = command("demo", "board", "run the firmware in the MicroPython Unix port on a bundled recording", streaming)
    p.add_argument("--recording", metavar="PATH",
                   help="recording the simulated board plays (default: the bundled forearm recording; with "
                        "--channels 2 or 3, the bundled 3-signal hand recording)")
    p.add_argument("--channels", type=int, choices=(1, 2, 3), default=1,
                   help="the simulated board plays the recording's first N EMG signals as N channels, one "
                        "detector each (default 1)")
    p.set_defaults(rate=None)
    _stream_options(p)

    p = command("live", "board",
                "monitor a board (found by USB id, or --port), the simulated board, or a recording", streaming)
    p.add_argument("--port", help="serial port or pyserial URL: /dev/ttyACM0, COM5, hwgrep://2E8A "
                                  "(default: find the board by its USB id and hello frame)")
    p.add_argument("--source", metavar="sim|PATH",
                   help="sim: the firmware in the MicroPython Unix port on the bundled recording; "
                        "PATH: stream a recording file in real time (see --speed)")
    p.add_argument("--rate", type=int, choices=(500, 1000, 2000), help="sampling rate in Hz (default: the board's)")
    _sensor_option(p, "store on the board before streaming")
    _stream_options(p)

    p = command("analyze", "analyze",
                "find twitches in a recording (CSV, EDF/EDF+/EDF+D/BDF, WFDB .hea, .mtwcap capture)",
                options.shared_parent(jsonl=True, db=False))
    p.add_argument("path", nargs="+", help="a recording; or several, or folders, analyzed in parallel (see --out)")
    batch.add_batch_options(p)
    p.add_argument("--rate", type=options.analyze_rate, metavar="HZ",
                   help="sampling rate of a CSV without a time column (time_s, time_ms or t); at least 500")
    p.add_argument("--muscle", metavar="NAME", action="append",
                   help="where each EMG signal's electrodes were, one --muscle per signal in the file's order "
                        "(e.g. --muscle 'right APB' --muscle 'right FDI'; default: the signals' labels); "
                        "see `myotwitch muscles`")

    p = command("mark", "sessions",
                "note what a moment of a session was (a cramp, a voluntary contraction, a felt twitch)",
                options.shared_parent(jsonl=False, db=True))
    p.add_argument("session", metavar="SESSION|DIR", help="session number (from the summary of demo or live) or folder")
    p.add_argument("--at", type=options.non_negative_float, required=True, metavar="S",
                   help="seconds from the session's start")
    p.add_argument("label", choices=marks.MARK_LABELS, help="what it was")
    p.add_argument("--note", help="free text")

    p = command("flash", "board", "build the firmware for a board (mpy-cross) and install it (mpremote)",
                options.shared_parent(jsonl=False, db=False))
    p.add_argument("--board", required=True, help="rp2040 (Pico; also rp2, pico), rp2350 (Pico 2; also pico2) or esp32")
    p.add_argument("--port", default="auto", help="the board's serial port (default: mpremote finds it)")
    p.add_argument("--dry-run", action="store_true", help="build and print the mpremote command; touch no device")
    p.add_argument("--build-dir", metavar="DIR", help="where the compiled files go (default: a temporary folder)")
    _sensor_option(p, "install on the board with the firmware")

    p = command("report", "sessions",
                "write one self-contained HTML page for a session (folder or number), or over days (--since)",
                options.shared_parent(jsonl=False, db=True,
                                      db_help="SQLite log to look session numbers up in, or to read with --since"))
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("session", nargs="?", metavar="DIR|SESSION",
                       help="the session's folder (--out of live), or its number: DIR/report.html")
    which.add_argument("--since", type=options.day, metavar="DATE",
                       help="every session in the log since DATE (YYYY-MM-DD), day by day: whether twitching "
                            "persists or rises")
    p.add_argument("--out", metavar="FILE",
                   help="where the page goes (default: DIR/report.html; with --since, trend-since-DATE.html "
                        "beside the log)")

    command("sessions", "sessions", "list the sessions in the log", options.shared_parent(jsonl=True, db=True))
    check.add_arguments(command("check", "check", check.HELP, options.shared_parent(jsonl=True, db=False)))
    command("ports", "board", "list serial ports with their USB ids", options.shared_parent(jsonl=False, db=False))

    p = command("muscles", "muscles", "list the muscles myotwitch knows, with the nerve and roots supplying each, "
                "and where to put which channel (--preset)", options.shared_parent(jsonl=True, db=False))
    p.add_argument("--preset", metavar="NAME", help="a situation: where to put which channel "
                                                    "(carpal-tunnel, cubital-tunnel, cervical, lumbar)")
    return parser
