"""`myotwitch analyze` over several recordings: per-file JSONL, one summary table, errors as rows."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from myotwitch import batch
from myotwitch.cli import main
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource

HOST = Path(__file__).resolve().parents[1] / "host"


def run(argv):
    out = io.StringIO()
    return main(argv, stdout=out), out.getvalue()


def write_csv(path: Path, seed: int, rate_per_min: float) -> int:
    src = SyntheticSource(SyntheticConfig(duration_s=20, peak_sigma_range=(20, 30), twitch_rate_per_min=rate_per_min,
                                          seed=seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, src.signal_uv, fmt="%.3f", header="emg_uv", comments="")
    return len(src.true_times_s)


@pytest.fixture
def study(tmp_path):
    """A folder of three recordings (one in a subfolder, two sharing a name) and a broken one."""
    root = tmp_path / "study"
    truth = {
        root / "p1" / "rest.csv": write_csv(root / "p1" / "rest.csv", 41, 30),
        root / "p2" / "rest.csv": write_csv(root / "p2" / "rest.csv", 42, 12),
        root / "calf.csv": write_csv(root / "calf.csv", 43, 20),
    }
    (root / "broken.csv").write_text("emg_uv\nnot a number\n")
    (root / "notes.txt").write_text("not a recording")
    return root, truth


def read_table(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow  # a process pool
def test_a_folder_in_parallel_gives_one_row_per_recording_and_the_single_file_output(study, tmp_path, capsys):
    root, truth = study
    out_dir = tmp_path / "results"
    code, text = run(["analyze", str(root), "--rate", "1000", "--out", str(out_dir), "--jobs", "2"])
    assert code == 1  # one recording failed; the others were all analyzed
    rows = read_table(out_dir / batch.SUMMARY_CSV)
    assert [r["file"] for r in rows] == [str(p) for p in sorted([*truth, root / "broken.csv"])]
    by_file = {Path(r["file"]): r for r in rows}
    broken = by_file[root / "broken.csv"]
    assert broken["status"] == "error" and broken["error"] and broken["twitches"] == ""
    assert str(root) not in broken["error"]  # the row names its file; the error says what is wrong with it
    jsonl_names = set()
    for path, n_true in truth.items():
        row = by_file[path]
        assert row["status"] == "ok" and row["error"] == ""
        # The batch's file is exactly what the single-file analyze prints.
        code_one, single = run(["analyze", str(path), "--rate", "1000", "--format", "jsonl"])
        assert code_one == 0 and (out_dir / row["jsonl"]).read_text() == single
        events = [json.loads(line) for line in single.splitlines()]
        assert int(row["twitches"]) == sum(e["type"] == "twitch" for e in events) >= n_true
        assert float(row["duration_s"]) == 20.0 and int(row["samples"]) == 20000
        assert float(row["twitches_per_min"]) == pytest.approx(int(row["twitches"]) * 3, abs=1e-3)
        jsonl_names.add(row["jsonl"])
    assert jsonl_names == {"calf.csv.jsonl", "rest.csv.jsonl", "rest.csv.2.jsonl"}  # two rest.csv, two files
    err = capsys.readouterr().err
    assert "analyzing 4 recordings, 2 at a time" in err and "[4/4]" in err and "1 of 4 recordings" in err
    assert "calf.csv" in text and "summary table:" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is the Linux way; elsewhere a fork server")
@pytest.mark.parametrize(("fork", "blas_threads", "python_thread", "made_by"), [
    (True, "1", False, "fork"),  # the console command, as it runs
    (False, "1", False, "forkserver"),  # a program calling main: its files and threads are not ours to copy
    (True, "1", True, "forkserver"),  # a thread of Python's running
    (True, "2", False, "forkserver"),  # numpy's BLAS started a thread of its own: Python does not count it
])
def test_the_command_forks_its_workers_only_from_a_process_of_one_thread(fork, blas_threads, python_thread, made_by):
    """The command imports the analysis once and forks its workers from itself: no second interpreter to start
    (a fork server) before the first recording is analyzed. Forking copies every thread's state mid-step, so
    only a process of one thread, as the OS counts them, is forked."""
    import os
    import subprocess

    script = ("import sys, threading\nfrom myotwitch import batch\n"
              "stop = threading.Event()\n"
              f"if {python_thread}: threading.Thread(target=stop.wait).start()\n"
              f"method = batch._worker_context(fork={fork}).get_start_method()\nstop.set()\n"
              "print(method, 'myotwitch.analysis' in sys.modules)\n")
    env = dict(os.environ, OPENBLAS_NUM_THREADS=blas_threads, OMP_NUM_THREADS=blas_threads)
    done = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.stdout.split() == [made_by, str(fork)]  # the analysis imported here only for a fork


def test_the_workers_take_the_largest_recordings_first(tmp_path):
    # One long recording among short ones: started last, it would run alone while the other workers idle.
    sizes = {"a.csv": 10, "b.csv": 5_000, "c.csv": 10, "d.csv": 700}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"1\n" * size)
    tasks = [batch.Task(str(tmp_path / name)) for name in ["a.csv", "missing.csv", "b.csv", "c.csv", "d.csv"]]
    order = [Path(t.path).name for t in batch.largest_first(tasks)]
    assert order == ["b.csv", "d.csv", "a.csv", "c.csv", "missing.csv"]


def test_every_recording_is_analyzed_even_after_a_crash(tmp_path, monkeypatch):
    # A bug in one file's analysis (not a MyotwitchError) is that file's row; the rest go on.
    from myotwitch import cli

    paths = [tmp_path / "a.csv", tmp_path / "b.csv"]
    for i, p in enumerate(paths):
        write_csv(p, 50 + i, 10)
    real_main = cli.main

    def main_with_a_bug(argv, stdout=None):
        if argv[1].endswith("a.csv"):
            raise KeyError("boom")
        return real_main(argv, stdout=stdout)

    monkeypatch.setattr(cli, "main", main_with_a_bug)  # --jobs 1 analyzes in this process, so the patch holds
    code, _ = run(["analyze", *map(str, paths), "--rate", "1000", "--out", str(tmp_path / "o"), "--jobs", "1"])
    rows = read_table(tmp_path / "o" / batch.SUMMARY_CSV)
    assert code == 1 and [r["status"] for r in rows] == ["error", "ok"]
    assert rows[0]["error"] == "KeyError: 'boom'" and int(rows[1]["twitches"]) > 0


def test_several_recordings_need_out_and_sane_jobs(tmp_path, capsys):
    a = tmp_path / "a.csv"
    write_csv(a, 60, 10)
    code, _ = run(["analyze", str(a), str(a), "--rate", "1000"])
    assert code == 2 and "need --out DIR" in capsys.readouterr().err  # a usage error
    with pytest.raises(SystemExit) as refused:  # argparse's own refusal, before anything runs
        run(["analyze", str(a), "--out", str(tmp_path / "o"), "--jobs", "0", "--rate", "1000"])
    assert refused.value.code == 2 and "--jobs: must be 1 or more" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        run(["analyze", str(a), str(a), "--out", str(tmp_path / "o"), "--jobs", "2", "--scheduler", "tcp://x:1"])
    assert refused.value.code == 2 and "not allowed with argument --jobs" in capsys.readouterr().err
    # One file with a batch's option is a batch: without --out it is refused, not run with the option ignored.
    code, _ = run(["analyze", str(a), "--jobs", "2", "--rate", "1000"])
    assert code == 2 and "--jobs analyzes a batch: it needs --out DIR" in capsys.readouterr().err
    code, _ = run(["analyze", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert code == 1  # no such file: an error row, exit 1
    (tmp_path / "nothing").mkdir()
    code, _ = run(["analyze", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert code == 1 and "no recordings found" in capsys.readouterr().err


def test_jsonl_rows_on_stdout(tmp_path):
    a = tmp_path / "a.csv"
    write_csv(a, 61, 10)
    code, text = run(["analyze", str(a), "--rate", "1000", "--out", str(tmp_path / "o"), "--format", "jsonl"])
    assert code == 0
    (row,) = [json.loads(line) for line in text.splitlines()]
    assert row["type"] == "recording" and row["status"] == "ok" and row["file"] == str(a)


@pytest.mark.slow  # a Dask cluster starts
def test_dask_local_cluster_gives_the_same_table(study, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, _ = study
    code, _ = run(["analyze", str(root), "--rate", "1000", "--out", str(tmp_path / "local"), "--jobs", "1"])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        code_dask, _ = run(["analyze", str(root), "--rate", "1000", "--out", str(tmp_path / "dask"),
                            "--scheduler", c.scheduler_address])
    assert code == code_dask == 1
    local, dask = read_table(tmp_path / "local" / "summary.csv"), read_table(tmp_path / "dask" / "summary.csv")
    assert local == dask and len(dask) == 4
    for row in dask:
        if row["jsonl"]:
            assert (tmp_path / "dask" / row["jsonl"]).read_text() == (tmp_path / "local" / row["jsonl"]).read_text()


def test_dask_without_distributed_names_the_extra(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    a = tmp_path / "a.csv"
    write_csv(a, 62, 10)
    code, _ = run(["analyze", str(a), "--rate", "1000", "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"])
    assert code == 1 and "myotwitch[dask]" in capsys.readouterr().err


def test_a_recording_of_several_muscles_has_a_row_per_channel(tmp_path):
    # Rates of different muscles are not added up: each channel's row has its muscle, counts and noise floor.
    from conftest import ROOT

    hand = ROOT / "host" / "myotwitch" / "data" / "demo_hand_3ch.edf"
    single = tmp_path / "one.csv"
    write_csv(single, 61, 10)
    code, _ = run(["analyze", str(hand), str(single), "--rate", "1000", "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert code == 0
    rows = read_table(tmp_path / "o" / batch.SUMMARY_CSV)
    summary = json.loads((tmp_path / "o" / "demo_hand_3ch.edf.jsonl").read_text().splitlines()[-1])
    assert [(r["file"], r["channel"], r["muscle"]) for r in rows] == [
        *[(str(hand), str(c["channel"]), c["muscle"]) for c in summary["channels"]], (str(single), "", "")]
    for row, c in zip(rows, summary["channels"], strict=False):
        assert (int(row["twitches"]), float(row["noise_uv"])) == (c["twitches"], c["noise_uv"])
        assert float(row["twitches_per_min"]) == pytest.approx(c["twitches"] / (c["samples"] / 1000 / 60), abs=1e-3)
    assert rows[-1]["noise_uv"] != "" and rows[-1]["channel"] == ""


@pytest.mark.slow  # a whole batch process and its pool
@pytest.mark.skipif(not hasattr(os, "mkfifo") or not hasattr(os, "killpg"),
                    reason="needs named pipes and process groups (POSIX)")
def test_ctrl_c_stops_a_batch_at_once_and_says_so_once(tmp_path):
    """Ctrl-C in a terminal reaches the command and its workers. The recordings not done must not be analyzed
    after it (a batch of a hundred files would run on for minutes), and "interrupted" is said once, by the
    command. The workers here wait forever on named pipes nobody writes: only stopping them ends the batch."""
    import signal
    import subprocess

    folder = tmp_path / "study"
    folder.mkdir()
    rng = np.random.default_rng(5)
    (folder / "a_done.csv").write_text("".join(f"{v:.2f}\n" for v in rng.normal(0.0, 5.0, 5000)))
    for name in ("b_waits.csv", "c_waits.csv", "d_waits.csv"):
        os.mkfifo(folder / name)
    files = [str(folder / name) for name in ("a_done.csv", "b_waits.csv", "c_waits.csv", "d_waits.csv")]
    command = [sys.executable, "-m", "myotwitch", "analyze", *files, "--rate", "1000",
               "--out", str(tmp_path / "results"), "--jobs", "2"]  # as given: a folder's search skips pipes
    # SIGINT as a terminal leaves it, even where the test runner ignores it (pytest-xdist's workers do, and a
    # child inherits that: the command would never see the Ctrl-C).
    batch_process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True, env=dict(os.environ, PYTHONPATH=str(HOST)),
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert batch_process.stderr is not None
        lines = []
        for line in batch_process.stderr:  # until the finished recording is reported: the workers are running
            lines.append(line)
            if "a_done.csv" in line:
                break
        os.killpg(batch_process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: to the whole process group
        _, rest = batch_process.communicate(timeout=60)
    finally:
        if batch_process.poll() is None:
            os.killpg(batch_process.pid, signal.SIGKILL)
    said = "".join(lines) + rest
    assert batch_process.returncode == 130, said
    assert said.count("interrupted") == 1 and "Traceback" not in said, said
