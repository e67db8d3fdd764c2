"""The mutation check of tools/recording_mutations.py, in the suite: every valid variant of a format read
exactly with its 5 potentials found, every corruption one line and exit 1, no traceback, no stray output.

The random damage is a seeded sample (40 of the tool's 140) so the run stays within a few seconds.
"""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import recording_mutations as mutations

pytestmark = pytest.mark.slow  # 236 files read and corrupted, about 1.5 s


@pytest.mark.parametrize("case", mutations.all_cases(random_n=40), ids=lambda c: c.name)
def test_mutation(case, tmp_path):
    result = mutations.run_case(case, tmp_path)
    assert mutations.verdict(case, result) == "ok", (result.code, result.stderr, result.stray, result.error)


def test_the_set_holds_every_kind():
    cases = mutations.all_cases(random_n=40)
    kinds = {c.expect for c in cases}
    assert kinds == {"valid", "gap", "refuse", "usage", "any"}
    names = " ".join(c.name for c in cases)
    for fmt in ("CSV", "EDF", "BDF", "WFDB", "EDF+D"):
        assert fmt in names
