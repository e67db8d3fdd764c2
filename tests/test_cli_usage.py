"""Command lines that cannot be carried out as given are usage errors (exit 2, before anything runs), and
names a user meets in two commands mean the same in both."""

from __future__ import annotations

import io

import pytest
from myotwitch.cli import build_parser, main


@pytest.mark.parametrize("argv, says", [
    (["--relax", "1"], "--relax: needs at least 2 s"),
    (["--flex", "-3"], "--flex: must be 0 or more"),
    (["--speed", "-1"], "--speed: must be 0"),
    (["--speed", "nan"], "--speed: must be 0"),
])
def test_check_refuses_impossible_phases_before_it_starts(argv, says, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["check", "--source", "sim", "--no-prompt", *argv], stdout=io.StringIO())
    err = capsys.readouterr().err
    assert refused.value.code == 2 and says in err
    assert "relax the muscle" not in err  # nobody was asked to relax for a run that cannot happen


def test_check_takes_the_board_names_flash_takes():
    parse = build_parser().parse_args
    for flash_name, check_name in [("rp2040", "pico"), ("rp2", "pico"), ("rp2350", "pico2"), ("esp32", "esp32")]:
        assert parse(["flash", "--board", flash_name, "--dry-run"]).board == flash_name
        assert parse(["check", "--board", flash_name]).board == check_name


def test_check_of_a_missing_recording_fails_before_the_prompt(tmp_path, capsys):
    code = main(["check", "--source", str(tmp_path / "nothing.edf")], stdout=io.StringIO())
    err = capsys.readouterr().err
    assert code == 1 and "nothing.edf: no such file" in err and "relax" not in err


def test_check_has_the_shared_format_option_with_its_help():
    check = build_parser()._subparsers._group_actions[0].choices["check"]  # type: ignore[union-attr]
    (fmt,) = [a for a in check._actions if "--format" in a.option_strings]
    assert fmt.help and "for programs" in fmt.help
