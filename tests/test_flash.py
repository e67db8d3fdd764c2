"""`myotwitch flash --dry-run`: the firmware compiled per board, the mpremote command printed, no device touched."""

from __future__ import annotations

import io
import shlex

import pytest

from myotwitch import flash
from myotwitch.cli import main


def run(argv):
    out = io.StringIO()
    return main(argv, stdout=out), out.getvalue()


@pytest.mark.parametrize("board", ["rp2040", "rp2350", "esp32", "rp2"])
def test_dry_run_builds_every_module_and_prints_the_install(tmp_path, board):
    code, text = run(["flash", "--board", board, "--dry-run", "--build-dir", str(tmp_path), "--port", "/dev/ttyACM0"])
    assert code == 0
    module = "esp32" if board == "esp32" else "rp2"
    expected = {"lib/mtw_app.mpy", "lib/mtw_frame.mpy", "lib/mtw_sampler.mpy", "lib/mtw_settings.mpy",
                "boards/__init__.mpy",
                f"boards/{module}.mpy", "main.py", "config.py"}
    if module == "rp2":
        expected.add("boards/rp2_adc_dma.mpy")  # the ADC divider + DMA pacing
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()} == expected
    for mpy in tmp_path.rglob("*.mpy"):
        assert mpy.read_bytes()[:1] == b"M"  # the .mpy magic
    cmd = shlex.split(text.strip())
    assert cmd[:3] == ["mpremote", "connect", "/dev/ttyACM0"] and cmd[-2:] == ["+", "reset"]
    for remote in expected:
        assert ":" + remote in cmd


def test_sensor_is_installed_as_the_boards_stored_settings(tmp_path):
    # --sensor writes the board's sensors.txt (what SENSOR would store) and copies it before the reset.
    code, text = run(["flash", "--board", "rp2040", "--dry-run", "--build-dir", str(tmp_path), "--port", "/dev/x",
                      "--sensor", "myoware2", "--sensor", "bioamp"])
    assert code == 0
    assert (tmp_path / "sensors.txt").read_text() == "0 myoware2 200\n1 bioamp 2420\n"
    cmd = shlex.split(text.strip())
    assert cmd[-7:] == ["+", "fs", "cp", str(tmp_path / "sensors.txt"), ":sensors.txt", "+", "reset"]


def test_an_unknown_sensor_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exc:
        run(["flash", "--board", "rp2040", "--dry-run", "--build-dir", str(tmp_path), "--sensor", "nosuch"])
    assert exc.value.code == 2


def test_architectures_match_the_ports_builds_and_output_is_portable_bytecode(tmp_path):
    # ports/rp2/CMakeLists.txt and ports/esp32/esp32_common.cmake (see shared FIRMWARE-NOTES).
    assert {b: arch for b, (arch, _) in flash.BOARDS.items()} == {
        "rp2040": "armv6m", "rp2350": "armv7m", "esp32": "xtensawin"}
    for board in flash.BOARDS:
        for b in flash.build(board, tmp_path / board):
            if b.remote.endswith(".mpy"):
                header = b.local.read_bytes()[:4]
                # 'M', mpy version 6, and no native architecture: bytecode runs on any of them.
                # -march matters once native or viper code is added; it is passed already.
                assert header[0:2] == b"M\x06" and header[2] == 0, (board, b.remote, header)


def test_stale_py_copies_are_removed_before_copying(tmp_path):
    built = flash.build("rp2040", tmp_path)
    prepare = flash.mpremote_command("auto", built)[4]
    assert '"lib/mtw_app.py"' in prepare and "os.remove" in prepare and "os.mkdir" in prepare
    assert "\n" not in prepare


def test_unknown_board_and_missing_build_dir(capsys):
    code, _ = run(["flash", "--board", "arduino", "--dry-run", "--build-dir", "/tmp/x"])
    assert code == 2 and "unknown board" in capsys.readouterr().err  # a usage error
    code, _ = run(["flash", "--board", "esp32", "--dry-run"])
    assert code == 1 and "--build-dir" in capsys.readouterr().err


def test_the_preparation_step_runs_in_micropython(tmp_path):
    """The exec string is MicroPython: run it in the Unix port, in a scratch folder, twice."""
    from conftest import run_micropython

    built = flash.build("rp2040", tmp_path / "build")
    prepare = flash.mpremote_command("auto", built)[4]
    board_fs = tmp_path / "board"
    (board_fs / "lib").mkdir(parents=True)
    (board_fs / "lib" / "mtw_app.py").write_text("stale")
    (board_fs / "keep.txt").write_text("mine")
    script = tmp_path / "prepare.py"
    script.write_text(f"import os\nos.chdir({str(board_fs)!r})\n{prepare}\n{prepare}\nprint(sorted(os.listdir()), os.listdir('lib'))\n")
    result = run_micropython(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['boards', 'keep.txt', 'lib'] []"


@pytest.mark.slow  # 6 s: mpremote and a firmware
def test_deploy_through_mpremote_to_the_micropython_unix_port(tmp_path):
    """The install command `flash` runs, run for real by mpremote against a MicroPython REPL.

    The device is the Unix port on a pty bridged to TCP (no board here): the
    folders are made, a stale .py copy is removed, every compiled file lands,
    and the .mpy files built for the RP2040 import in a real interpreter. Left
    out: the final `reset` (the Unix port has no machine.reset) and INFO.
    """
    import subprocess
    import sys
    from pathlib import Path

    from myotwitch.sources.simboard import find_micropython
    from unix_port_bridge import UnixPortDevice

    mpremote = Path(sys.executable).with_name("mpremote")
    built = flash.build("rp2040", tmp_path / "build")
    device_fs = tmp_path / "device"
    (device_fs / "lib").mkdir(parents=True)
    (device_fs / "lib" / "mtw_app.py").write_text("stale = True\n")  # would shadow the .mpy
    device = UnixPortDevice(find_micropython(), device_fs)
    try:
        cmd = flash.mpremote_command(device.url, built)
        assert cmd[-2:] == ["+", "reset"]
        cmd = [str(mpremote), "connect", device.url, "resume", *cmd[3:-2]]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        check = ("import sys; sys.path.append('lib'); import mtw_app, mtw_frame, mtw_sampler; "
                 "import boards.rp2_adc_dma as R; print(mtw_app.FW_VERSION, R.div_for(2000), mtw_app.__file__)")
        result = subprocess.run([str(mpremote), "connect", device.url, "resume", "exec", check],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        device.close()
    version, div, module_file = result.stdout.split()
    assert int(div) == 23999 << 8 and module_file == "lib/mtw_app.mpy" and version
    landed = {str(p.relative_to(device_fs)) for p in device_fs.rglob("*") if p.is_file()}
    assert landed == {b.remote for b in built}  # and the stale lib/mtw_app.py is gone
