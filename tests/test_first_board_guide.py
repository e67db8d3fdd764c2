"""hardware/first-board.md stays true: its table is what myotwitch.builds computes, its commands parse."""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import ROOT
from myotwitch import builds
from myotwitch.cli import build_parser

GUIDE = (ROOT / "hardware" / "first-board.md").read_text(encoding="utf-8")


def test_the_table_is_the_computed_one():
    assert builds.markdown_table() in GUIDE


def test_the_headline_build_resolves_about_4_uv_a_count():
    # The figure: MyoWare 2.0 RAW (gain 200) on the Pico's 12-bit 3.3 V ADC: ~4 µV a count.
    assert builds.uv_per_count(200, builds.BOARDS["pico"]) == pytest.approx(3300e3 / 4096 / 200)
    assert "4.03" in GUIDE


@pytest.mark.parametrize("line", re.findall(r"^myotwitch .*$", GUIDE, re.MULTILINE))
def test_every_myotwitch_command_in_the_guide_parses(line):
    build_parser().parse_args(shlex.split(line)[1:])  # argparse exits 2 on anything the CLI does not take


def test_the_guide_names_the_steps_a_bare_board_needs():
    for step in ("BOOTSEL", "RPI-RP2", "write-flash 0x1000", "myotwitch flash", "myotwitch ports",
                 "SENSOR_GAIN", "myotwitch check", "myotwitch live"):
        assert step in GUIDE, step
