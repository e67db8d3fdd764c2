"""Many recordings at once: `myotwitch analyze A B FOLDER --out DIR [--jobs N | --scheduler ADDRESS]`.

Each recording is analyzed by the single-file `myotwitch analyze PATH --format
jsonl`, called through `myotwitch.cli.main`, in a worker: a process of this
machine (concurrent.futures, `--jobs N`, default one per core, the largest
recordings first) or a Dask distributed worker (`--scheduler ADDRESS`, the
optional `dask` extra) for several machines. A worker returns the JSON lines
and the summary; this process writes DIR/<name>.jsonl per recording and one
table, DIR/summary.csv, with a row per recording (per channel of one with
several EMG signals): its counts, rates, noise floor, duration, or the error
that stopped it. One bad file is an error row, never the end of the batch.

With Dask, the workers open the recordings by the paths given here: they must
see the same files at the same paths (a shared folder).
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from myotwitch.cli.options import positive_int
from myotwitch.errors import MyotwitchError, UsageError
from myotwitch.read_ahead import usable_cores

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

# What `analyze` reads, by extension (recordings.FORMATS and the .mtwcap capture); used to search folders.
RECORDING_SUFFIXES = (".csv", ".edf", ".bdf", ".hea", ".mtwcap")
SUMMARY_CSV = "summary.csv"
SUMMARY_COLUMNS = ("file", "channel", "muscle", "status", "duration_s", "samples", "lost_samples", "rate_hz",
                   "twitches", "twitches_per_min", "episodes", "episodes_per_hour", "activity_segments", "noise_uv",
                   "lost_s", "jsonl", "error")


@dataclass(frozen=True)
class Task:
    """One recording to analyze, and the options its single-file analyze gets."""

    path: str
    rate_hz: float | None = None


@dataclass
class FileResult:
    """What a worker sends back: the JSON lines, or the one-line error."""

    path: str
    jsonl: str = ""
    error: str = ""
    summary: dict = field(default_factory=dict)


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    """The options of `analyze` for several recordings."""
    group = parser.add_argument_group("several recordings (several paths, a folder, or --out)")
    group.add_argument("--out", metavar="DIR",
                       help="write DIR/<recording>.jsonl per recording and DIR/summary.csv (one row per recording)")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=positive_int, metavar="N",
                       help=f"analyze N recordings at a time on this machine, a core each (default: one per core, "
                            f"{usable_cores()} here; `analyze FILE` without --out reads ahead on a second core)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on a Dask distributed cluster instead (tcp://host:8786; pip install "
                            "'myotwitch[dask]'); its workers must see the recordings at the same paths")


def batch_requested(args: argparse.Namespace) -> bool:
    """Several paths, a folder, or one of the batch's options (--out, --jobs, --scheduler): the batch.
    One file alone: the single-file analyze."""
    paths = args.path if isinstance(args.path, list) else [args.path]
    return (len(paths) > 1 or any(Path(p).is_dir() for p in paths)
            or any(getattr(args, name, None) is not None for name in ("out", "jobs", "scheduler")))


def find_recordings(paths: Iterable[str]) -> list[Path]:
    """Files as given; folders searched (with their subfolders) for recordings, in name order."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES)
        else:
            found.append(path)  # a missing or unreadable file becomes an error row
    if not found:
        raise MyotwitchError("no recordings found in " + ", ".join(str(p) for p in paths)
                         + f" (looked for {', '.join(RECORDING_SUFFIXES)})")
    return found


def analyze_one(task: Task) -> FileResult:
    """The single-file analyze of one recording, in a worker; never raises."""
    from myotwitch import analysis, cli  # in the worker: the CLI is what a person runs on one file

    # --debug: errors come back as exceptions, not as lines on a stderr that worker threads share.
    argv = ["analyze", task.path, "--format", "jsonl", "--debug"]
    if task.rate_hz is not None:
        argv += ["--rate", repr(task.rate_hz)]
    out = io.StringIO()
    try:
        with analysis.one_thread():  # the workers are one per core: no read-ahead thread each
            code = cli.main(argv, stdout=out)
    except MyotwitchError as exc:
        return FileResult(task.path, jsonl=out.getvalue(), error=_without_path(str(exc).splitlines()[0], task.path))
    except Exception as exc:  # noqa: BLE001 - a bug or an odd file must not end the batch: it is its row
        return FileResult(task.path, jsonl=out.getvalue(), error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    except SystemExit as exc:  # argparse refusing the arguments
        code = exc.code if isinstance(exc.code, int) else 2
    if code != 0:
        return FileResult(task.path, jsonl=out.getvalue(), error=f"exit code {code}")
    lines = out.getvalue().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    if summary.get("type") != "summary":
        return FileResult(task.path, jsonl=out.getvalue(), error="no summary line in the output")
    return FileResult(task.path, jsonl=out.getvalue(), summary=summary)


def _without_path(message: str, path: str) -> str:
    """A reader's error names its file first; the row and the progress line name it already."""
    return message.removeprefix(f"{path}: ")


def summary_rows(result: FileResult, jsonl_name: str) -> list[dict]:
    """The rows of summary.csv for one recording: counts, rates per minute and hour of signal, the error if
    any. A recording of several EMG signals has a row per channel (its muscle, its own counts, rates and
    noise floor): rates of different muscles are not added up."""
    s = result.summary
    row: dict = dict.fromkeys(SUMMARY_COLUMNS, "")
    row.update(file=result.path, status="error" if result.error else "ok", error=result.error, jsonl=jsonl_name)
    if result.error:
        return [row]
    row.update(duration_s=s["seconds"], rate_hz=s["rate_hz"])
    channels = s.get("channels")
    if not channels:
        return [_counts(row, s, s["rate_hz"])]
    return [_counts(dict(row, channel=c["channel"], muscle=c["muscle"]), c, s["rate_hz"]) for c in channels]


def _counts(row: dict, s: dict, rate_hz: float) -> dict:
    signal_s = s["samples"] / rate_hz  # rates per time with signal: lost samples are not time observed
    row.update(samples=s["samples"], lost_samples=s["lost_samples"],
               twitches=s["twitches"], episodes=s["episodes"], activity_segments=s["activity_segments"],
               noise_uv="" if s.get("noise_uv") is None else s["noise_uv"],
               lost_s=round(s["lost_samples"] / rate_hz, 3),
               twitches_per_min=round(s["twitches"] / (signal_s / 60), 3) if signal_s else "",
               episodes_per_hour=round(s["episodes"] / (signal_s / 3600), 3) if signal_s else "")
    return row


def run_local(tasks: list[Task], jobs: int, owns_process: bool = False) -> Iterator[FileResult]:
    """Results as they finish: in this process for one job, else a pool of `jobs` processes (forked from this
    one if it `owns_process`, the console command, and runs one thread: see _worker_context)."""
    if jobs <= 1:
        for task in tasks:
            yield analyze_one(task)
        return
    # Imported here, not with the module: the CLI's parser imports this module for its options, and the pool's
    # modules (multiprocessing, logging, ...) are a tenth of a single-file analyze's start-up.
    from concurrent.futures import as_completed

    pool = worker_pool(jobs, fork=owns_process)
    try:
        futures = [pool.submit(analyze_one, task) for task in largest_first(tasks)]
        for future in as_completed(futures):
            yield future.result()
    except BaseException:  # Ctrl-C, or the taker stopped: the recordings not done are not started, nor finished
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's processes now, whatever they are analyzing (Python 3.14 has a method for it)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def worker_pool(jobs: int, fork: bool = False) -> ProcessPoolExecutor:
    """`jobs` processes of our own, each keeping numpy's freed memory in its heap (heap.py). `fork`: this process
    is ours to fork (see _worker_context)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, mp_context=_worker_context(fork), initializer=_worker_starts)


def _worker_starts() -> None:
    """In each worker as it starts: Ctrl-C is for the command, which stops the workers (run_local): a worker
    that took it too would say "interrupted" once more each, or print a traceback where it waited for work."""
    import signal

    from myotwitch.heap import keep_freed_memory

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()


def largest_first(tasks: list[Task]) -> list[Task]:
    """The tasks in the order the workers take them: the largest file first (by its size on disk, a missing
    one last), so that a long recording does not start last and leave the other workers idle at the end."""
    def size(task: Task) -> int:
        try:
            return os.stat(task.path).st_size
        except OSError:
            return -1

    return sorted(tasks, key=size, reverse=True)  # stable: files of one size keep the order given


# What the single-file analyze imports (numpy, the detector, the readers): imported once, before the workers
# are made, not once per worker. A name that a later version no longer has is skipped.
# (myotwitch.analysis and myotwitch.cli.analyze: where the single-file analyze lives after the CLI's split.)
_WORKER_PRELOAD = ["myotwitch.batch", "myotwitch.cli", "myotwitch.cli.analyze", "myotwitch.analysis",
                   "myotwitch.monitor", "myotwitch.recordings", "myotwitch.sources.replay",
                   "myotwitch.sources.capture"]


def _worker_context(fork: bool = False) -> BaseContext:
    """How the workers are made, the analysis imported once for all of them:
    - `fork` (the console command: the process is ours), on Linux: import the analysis here, then, if this
      process still runs one thread as the OS counts them (numpy's BLAS starts threads of its own where
      OPENBLAS_NUM_THREADS allows), fork it. Measured (benchmarks/batch.py, 8 x 1 h, 2 workers, two runs of 5
      rounds, 2026-12-01): the first file starts 0.10 s after the command instead of 0.15 s, and the batch is
      1.80-1.81x one after another against 1.76-1.77x through a fork server, which starts an interpreter first.
    - else with a fork server (macOS; a program calling main, whose open files and threads a fork would copy;
      a process running threads): workers fork from a server that imported the analysis once, and inherit no
      threads or open files from this process;
    - else (Windows) spawn."""
    import contextlib
    import importlib
    import multiprocessing

    if fork and sys.platform.startswith("linux"):
        for name in _WORKER_PRELOAD:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        if _os_threads() == 1:
            return multiprocessing.get_context("fork")
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_WORKER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _os_threads() -> int:
    """This process's threads as the OS counts them (Python's and C libraries' alike); 0 if unknown."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def run_dask(tasks: list[Task], scheduler: str) -> Iterator[FileResult]:
    """Results as they finish, from the workers of a Dask distributed scheduler."""
    from myotwitch.extras import require

    distributed = require("distributed", "dask", "--scheduler")
    try:
        client = distributed.Client(scheduler, timeout="20s")
    except OSError as exc:
        raise MyotwitchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        # pure=False: the same path analyzed twice (a file given twice) is two tasks, like in run_local.
        futures = client.map(analyze_one, tasks, pure=False)
        for future in distributed.as_completed(futures):
            yield future.result()
    finally:
        client.close()


def _jsonl_names(paths: list[Path]) -> dict[str, str]:
    """A distinct DIR/<name>.jsonl per recording: the file's name, numbered when two share it."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for path in paths:
        base = path.name
        name, n = f"{base}.jsonl", 1
        while name in taken:
            n += 1
            name = f"{base}.{n}.jsonl"
        taken.add(name)
        names[str(path)] = name
    return names


def run_batch(args: argparse.Namespace, stdout: TextIO, say: Callable[[str], None],
              runner: Callable[[list[Task]], Iterable[FileResult]] | None = None) -> int:
    """Analyze every recording of args.path into args.out; exit code 0, or 1 if any recording failed."""
    if not args.out:
        folders = [p for p in args.path if Path(p).is_dir()]
        if folders:
            what = f"{folders[0]} is a folder: its recordings need"
        elif len(args.path) > 1:
            what = "several recordings need"
        else:  # one file with --jobs or --scheduler: options of a batch
            what = f"--{'jobs' if args.jobs is not None else 'scheduler'} analyzes a batch: it needs"
        raise UsageError(f"{what} --out DIR for the results (DIR/summary.csv and one .jsonl each)")
    paths = find_recordings(args.path)
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MyotwitchError(f"cannot create {out_dir}: {exc.strerror}") from None
    tasks = [Task(str(p), getattr(args, "rate", None)) for p in paths]
    names = _jsonl_names(paths)
    if runner is None:
        jobs = min(args.jobs or usable_cores(), len(tasks))
        if args.scheduler:
            say(f"analyzing {len(tasks)} recordings on the Dask cluster at {args.scheduler}")
            runner = functools.partial(run_dask, scheduler=args.scheduler)
        else:
            say(f"analyzing {len(tasks)} recordings, {jobs} at a time")
            runner = functools.partial(run_local, jobs=jobs, owns_process=getattr(args, "owns_process", False))
    rows: dict[str, list[dict]] = {}
    for done, result in enumerate(runner(tasks), start=1):
        name = names[result.path]
        if result.jsonl:
            (out_dir / name).write_text(result.jsonl, encoding="utf-8")
        rows[result.path] = summary_rows(result, name if result.jsonl else "")
        what = f"error: {result.error}" if result.error else \
            f"{result.summary['twitches']} twitches in {result.summary['seconds']:.0f} s"
        say(f"[{done}/{len(tasks)}] {result.path}: {what}")
    ordered = [row for t in tasks for row in rows[t.path]]  # in the order given, whatever order they finished in
    table = out_dir / SUMMARY_CSV
    with table.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=SUMMARY_COLUMNS)
        writer.writeheader()
        writer.writerows(ordered)
    failed = [r for r in ordered if r["status"] == "error"]
    if args.format == "jsonl":
        stdout.writelines(json.dumps(dict({"type": "recording"}, **r)) + "\n" for r in ordered)
    else:
        stdout.write(f"{'twitches':>8} {'per min':>8} {'episodes':>8} {'length':>9}  recording\n")
        for r in ordered:
            if r["status"] == "error":
                stdout.write(f"{'-':>8} {'-':>8} {'-':>8} {'-':>9}  {r['file']}: {r['error']}\n")
            else:
                stdout.write(f"{r['twitches']:>8} {r['twitches_per_min']:>8} {r['episodes']:>8} "
                             f"{r['duration_s']:>7.0f} s  {r['file']}"
                             + ("" if r["channel"] == "" else f" [{r['channel']}] {r['muscle']}") + "\n")
        stdout.write(f"summary table: {table}\n")
    stdout.flush()
    if failed:
        say(f"error: {len(failed)} of {len(tasks)} recordings could not be analyzed (see {table})")
        return 1
    return 0
