"""The command line, through main(argv): output contracts, exit codes, error messages."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from myotwitch.cli import main
from myotwitch.sources.synthetic import SyntheticConfig, SyntheticSource


def run(argv, capsys=None):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue()


def jsonl(text):
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def synthetic_csv(tmp_path_factory):
    """30 s of synthetic twitches (11), written once for the tests that read it."""
    src = SyntheticSource(SyntheticConfig(duration_s=30, peak_sigma_range=(15, 30), twitch_rate_per_min=20, seed=31))
    path = tmp_path_factory.mktemp("synthetic") / "twitches.csv"
    np.savetxt(path, src.signal_uv, fmt="%.3f", header="emg_uv", comments="")
    return path, src


def test_analyze_jsonl_contract(synthetic_csv):
    path, src = synthetic_csv
    code, text = run(["analyze", str(path), "--rate", "1000", "--format", "jsonl"])
    assert code == 0
    events = jsonl(text)
    twitches = [e for e in events if e["type"] == "twitch"]
    assert events[-1]["type"] == "summary" and events[-1]["twitches"] == len(twitches)
    found = np.array([e["t_s"] for e in twitches])
    for t in src.true_times_s:
        assert np.min(np.abs(found - t)) < 0.01
    assert len(found) == len(src.true_times_s)


def test_analyze_text_has_units_and_disclaimer(synthetic_csv):
    path, _ = synthetic_csv
    code, text = run(["analyze", str(path), "--rate", "1000"])
    assert code == 0
    assert "µV" in text and " ms" in text and "does not diagnose" in text


def test_analyze_time_column_csv(tmp_path):
    src = SyntheticSource(SyntheticConfig(rate_hz=2000, duration_s=20, peak_sigma_range=(20, 30), seed=32))
    t = np.arange(src.n_samples) / 2000.0
    path = tmp_path / "r.csv"
    np.savetxt(path, np.column_stack([t, src.signal_uv]), fmt="%.6f", delimiter=",", header="time_s,emg_uv",
               comments="")
    code, text = run(["analyze", str(path), "--format", "jsonl"])
    assert code == 0
    assert jsonl(text)[-1]["rate_hz"] == pytest.approx(2000.0)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "/nonexistent/r.csv"], "no such file"),
        (["analyze", "README.md"], "unknown recording format"),
        (["live", "--port", "/dev/nonexistent-myotwitch"], "cannot open /dev/nonexistent-myotwitch: No such file or "
                                                            "directory\n"),
        (["demo", "--recording", "/nonexistent.edf"], "no such file"),
    ],
)
def test_runtime_errors_are_one_line_and_exit_1(argv, message, capsys):
    code, _ = run(argv)
    err = capsys.readouterr().err
    assert code == 1
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["analyze"], ["analyze", "x.csv", "--rate", "-5"],
                                  ["demo", "--speed", "fast"], ["live", "--rate", "750"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def test_no_command_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    for command in ("demo", "live", "analyze", "mark", "flash", "report", "sessions", "ports"):
        assert f"\n    {command} " in err


def test_debug_shows_the_traceback():
    from myotwitch.errors import MyotwitchError

    with pytest.raises(MyotwitchError):
        main(["analyze", "/nonexistent/r.csv", "--debug"])
    with pytest.raises(MyotwitchError):
        main(["--debug", "analyze", "/nonexistent/r.csv"])


def test_ports_lists_without_error():
    code, _ = run(["ports"])
    assert code == 0


def test_help_names_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("demo", "live", "analyze", "ports"):
        assert command in text


def write_csv(path, signal_uv):
    np.savetxt(path, signal_uv, fmt="%.3f", header="emg_uv", comments="")
    return path


def test_nan_run_is_skipped_as_a_gap_and_reported(tmp_path):
    src = SyntheticSource(SyntheticConfig(duration_s=30, peak_sigma_range=(20, 30), twitch_rate_per_min=20, seed=33))
    x = src.signal_uv.copy()
    x[12_000:12_500] = np.nan
    path = write_csv(tmp_path / "dropout.csv", x)
    code, text = run(["analyze", str(path), "--rate", "1000", "--format", "jsonl"])
    assert code == 0
    events = jsonl(text)
    (gap,) = [e for e in events if e["type"] == "gap"]
    assert (gap["start_s"], gap["end_s"], gap["samples"]) == (12.0, 12.5, 500)
    summary = events[-1]
    assert summary["samples"] == 29_500 and summary["lost_samples"] == 500  # never filled in
    found = [e["t_s"] for e in events if e["type"] == "twitch"]
    outside = [t for t in src.true_times_s if not 11.9 < t < 12.8]
    assert all(min(abs(np.array(found) - t)) < 0.01 for t in outside)


@pytest.mark.parametrize(
    "signal, message",
    [
        (np.random.default_rng(1).normal(0, 2, 400), "too short to estimate the noise floor"),
        (np.full(20_000, 812.0), "flat"),
        (np.full(50, np.nan), "no samples that are numbers"),
    ],
)
def test_unusable_recordings_say_why(tmp_path, capsys, signal, message):
    path = write_csv(tmp_path / "bad.csv", signal)
    code, _ = run(["analyze", str(path), "--rate", "1000"])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err


def test_unsupported_rate_is_a_clear_error(tmp_path, capsys):
    # A file's own time column at 200 Hz: runtime error (exit 1)
    path = tmp_path / "slow.csv"
    path.write_text("time_s,emg_uv\n" + "".join(f"{i / 200:.3f},{v:.3f}\n"
                                                for i, v in enumerate(np.random.default_rng(2).normal(0, 2, 3000))))
    code, _ = run(["analyze", str(path)])
    assert code == 1 and "200 Hz is not supported" in capsys.readouterr().err


@pytest.mark.parametrize("rate", ["200", "499", "499.9"])
def test_analyze_rate_below_500_hz_is_a_usage_error(tmp_path, capsys, rate):
    # The README's lowest supported rate is 500 Hz (the detector itself takes 450)
    path = write_csv(tmp_path / "r.csv", np.random.default_rng(2).normal(0, 2, 3000))
    with pytest.raises(SystemExit) as exit_:
        run(["analyze", str(path), "--rate", rate])
    assert exit_.value.code == 2 and "below 500 Hz" in capsys.readouterr().err


def test_analyze_rate_500_hz_is_accepted(tmp_path):
    path = write_csv(tmp_path / "r.csv", np.random.default_rng(2).normal(0, 2, 3000))
    assert run(["analyze", str(path), "--rate", "500"])[0] == 0


def test_a_csv_without_time_names_the_flag_to_pass(tmp_path, capsys):
    path = write_csv(tmp_path / "r.csv", np.random.default_rng(2).normal(0, 2, 3000))
    assert run(["analyze", str(path)])[0] == 1
    err = capsys.readouterr().err
    assert "no time column" in err and "give the sampling rate with --rate HZ" in err and len(err.splitlines()) == 1
    assert run(["demo", "--recording", str(path)])[0] == 1  # demo has no --rate to name
    err = capsys.readouterr().err
    assert "no time column" in err and "--rate" not in err and "add a time_s column" in err


def test_flat_and_clipped_parts_are_reported_in_text(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 2, 30_000)
    x[10_000:15_000] = 0.0  # electrode off
    x[20_000:22_000] = np.clip(rng.normal(0, 400, 2000), -300, 300)  # a contraction at the rails
    path = write_csv(tmp_path / "parts.csv", x)
    code, text = run(["analyze", str(path), "--rate", "1000"])
    assert code == 0
    assert "flat signal (electrode off?): skipped" in text
    assert "clipped at the ADC's range" in text
    assert "activity" in text


def test_mark_a_cramp_in_a_recorded_session(tmp_path, capsys):
    from myotwitch.store import Store

    db = tmp_path / "log.sqlite"
    store = Store(db)
    session = store.begin_session("live", "test", 1000.0)
    store.close()
    code, text = run(["mark", str(session), "cramp", "--at", "12.5", "--note", "calf, woke me up", "--db", str(db)])
    assert code == 0 and "12.500 s   cramp   calf, woke me up" in text
    assert Store(db).marks(session) == [(12.5, "cramp", "calf, woke me up")]
    code, _ = run(["mark", "99", "cramp", "--at", "1", "--db", str(db)])
    assert code == 1 and "no session 99" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["mark", str(session), "bogus", "--at", "1", "--db", str(db)])


@pytest.mark.parametrize("argv", [["--help"], ["sessions"], ["ports"], ["mark", "--help"]])
def test_small_commands_import_nothing_heavy(argv, tmp_path):
    """`myotwitch --help`, `sessions` and `ports` start quickly: no numpy, scipy, detector or rich imported
    (`ports` may import pyserial's port listing, which it needs, but not the detector)."""
    import subprocess
    import sys

    script = ("import sys\nfrom myotwitch.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "heavy = ('numpy', 'scipy', 'rich', 'serial')\n"
              "print('imported:', *sorted(m for m in sys.modules if m.split('.')[0] in heavy"
              " or m in ('myotwitch.dsp.detector', 'myotwitch.cli.analyze')), file=sys.stderr)\n")
    argv = argv + (["--db", str(tmp_path / "log.sqlite")] if argv == ["sessions"] else [])
    done = subprocess.run([sys.executable, "-c", script, *argv], check=False, capture_output=True, text=True,
                          timeout=60)
    imported = set(done.stderr.strip().splitlines()[-1].split()[1:])
    assert done.stderr.strip().splitlines()[-1].startswith("imported:")
    allowed = {m for m in imported if m.startswith("serial")} if argv == ["ports"] else set()
    assert imported - allowed == set()


def test_a_files_own_pauses_and_its_invalid_values_are_told_apart(tmp_path, capsys):
    # 3000 jumps of one sample in the time column (the file's pauses), and an empty cell (an invalid value)
    x = np.random.default_rng(5).normal(0, 2, 20_000)
    index = np.arange(len(x)) + np.clip(np.arange(len(x)) - 10_000, 0, 3000)  # rows 10 001-13 000 step 2 ms
    rows = [f"{i / 1000:.3f},{v:.3f}" for i, v in zip(index, x, strict=True)]
    rows[5000] = "5.000,"
    path = tmp_path / "pauses.csv"
    path.write_text("time_s,emg_uv\n" + "\n".join(rows) + "\n")
    code, text = run(["analyze", str(path), "--format", "jsonl"])
    gaps = [e for e in jsonl(text) if e["type"] == "gap"]
    assert code == 0 and len(gaps) == 3001
    assert [g["why"].startswith("not numbers") for g in gaps].count(True) == 1
    assert all(g["why"].startswith("no samples in the file") for g in gaps if g["start_s"] != 5.0)
    err = capsys.readouterr().err
    assert "3.000 s missing from the file in 3000 places" in err and "0.001 s of values that are not numbers" in err


def test_an_invalid_value_next_to_a_pause_is_told_apart_from_it(tmp_path, capsys):
    # The sample before a 2 s jump in time is empty: the replay source joins the two into one run of
    # missing samples, which is still one invalid value and a pause of the file's own
    x = np.random.default_rng(6).normal(0, 2, 20_000)
    index = np.arange(len(x)) + np.where(np.arange(len(x)) >= 15_000, 2000, 0)
    rows = [f"{i / 1000:.3f},{v:.3f}" for i, v in zip(index, x, strict=True)]
    rows[14_999] = "14.999,"
    path = tmp_path / "r.csv"
    path.write_text("time_s,emg_uv\n" + "\n".join(rows) + "\n")
    code, text = run(["analyze", str(path), "--format", "jsonl"])
    gaps = [(g["start_s"], g["samples"], g["why"].split(" ")[0]) for g in jsonl(text) if g["type"] == "gap"]
    assert code == 0 and gaps == [(14.999, 1, "not"), (15.0, 2000, "no")]
    err = capsys.readouterr().err
    assert "2.000 s missing from the file in 1 place" in err and "0.001 s of values that are not numbers" in err


def test_numpy_gets_one_blas_thread_unless_the_user_chose(monkeypatch):
    # OpenBLAS's threads spin after each small fit of the doublet check: 8 % more CPU for nothing, and they
    # fight a batch's other workers for the cores. Set before numpy loads in a CLI process (and its workers).
    import os

    from myotwitch.cli import BLAS_THREAD_VARIABLES

    for name in BLAS_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # the person's own choice stays
    with pytest.raises(SystemExit):
        main(["--version"])
    assert (os.environ["OPENBLAS_NUM_THREADS"], os.environ["MKL_NUM_THREADS"]) == ("1", "1")
    assert os.environ["OMP_NUM_THREADS"] == "4"
