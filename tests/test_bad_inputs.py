"""Every bad input in tools/bad_inputs.py gets its exit code and message, never a traceback;
docs/bad-inputs.md is the table that tool prints."""

from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import bad_inputs  # noqa: E402


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=lambda c: c.name)
def test_bad_input(case, tmp_path):
    code, stderr, _ = bad_inputs.run_case(case, tmp_path)  # an exception escaping main() fails here
    assert code == case.code, stderr
    assert case.says in stderr
    assert "Traceback" not in stderr
    if code == 1:
        assert "myotwitch: error:" in stderr


@pytest.mark.slow  # every bad input run again
def test_the_table_in_docs_is_current():
    assert (ROOT / "docs" / "bad-inputs.md").read_text() == bad_inputs.table()
