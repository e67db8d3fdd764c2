"""Security: lengths from the wire are bounded before use, no code or shell is built from data, and
files are written only where the user said."""

from __future__ import annotations

import ast
import io
import os
import struct
import pytest

import numpy as np

from conftest import FIRMWARE, ROOT
from myotwitch import protocol as P
from myotwitch.cli import main
from test_end_to_end import synthetic_csv


def test_a_huge_claimed_length_is_refused_at_once_not_waited_for():
    header = P.SYNC + bytes([P.VERSION, P.TYPE_DATA]) + struct.pack("<H", 0xFFFF)
    d = P.FrameDecoder()
    frame = P.encode_data(0, 0, 0, np.arange(50, dtype=np.uint16))
    got = d.feed(header + frame)  # no waiting for 65535 bytes: the next real frame decodes now
    assert len(got) == 1 and d.buffered_bytes == 0


def test_a_sample_count_that_disagrees_with_the_frame_length_is_malformed():
    body = struct.pack("<IIBBH", 0, 0, 0, P.FORMAT_U16, 500) + bytes(100)  # says 500 samples, carries 50
    d = P.FrameDecoder()
    assert d.feed(P.encode_frame(P.TYPE_DATA, body)) == [] and d.stats.malformed_frames == 1


def test_a_hello_with_endless_fields_is_read_to_a_bound():
    lines = [f"x{i}=1" for i in range(300)] + ["rate_hz=1000", "adc_bits=12", "vref_mv=3300", "gain=1000",
                                                 "frame_samples=50", "format=1", "protocol=1"]
    payload = "\n".join(lines).encode()[: P.MAX_PAYLOAD_BYTES]
    d = P.FrameDecoder()
    assert d.feed(P.encode_frame(P.TYPE_HELLO, payload)) == []  # the required keys lie past the bound
    assert d.stats.malformed_frames == 1


def _python_files():
    for folder in ("host", "firmware", "tools", "benchmarks"):
        yield from (p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


@pytest.mark.slow  # parses every module
def test_no_pickle_eval_exec_or_shell_anywhere():
    banned_modules = {"pickle", "marshal", "shelve", "dill", "cPickle"}
    for path in _python_files():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not {a.name.split(".")[0] for a in node.names} & banned_modules, path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] not in banned_modules, path
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                assert name not in ("eval", "exec", "system", "popen"), (path, node.lineno)
                for kw in node.keywords:
                    assert not (kw.arg == "shell" and getattr(kw.value, "value", False)), (path, node.lineno)
    assert FIRMWARE.exists()


@pytest.mark.slow  # a demo, a mark, a report
def test_files_are_written_only_in_the_chosen_places(tmp_path, private_data_dir, monkeypatch):
    """A live session, a mark, a report and a sessions listing, run from an empty working folder: every file
    they create is in --out, or is the --db log (and its SQLite journal)."""
    (tmp_path / "in").mkdir()
    src, _ = synthetic_csv(tmp_path / "in", duration_s=5, seed=81)
    work, out, db = tmp_path / "cwd", tmp_path / "chosen" / "session", tmp_path / "chosen" / "log.sqlite"
    work.mkdir()
    monkeypatch.chdir(work)
    before = {p for p in tmp_path.rglob("*")}
    quiet = io.StringIO()
    assert main(["live", "--source", str(src), "--speed", "0", "--out", str(out), "--db", str(db),
                 "--muscle", "../../etc/evil", "--format", "jsonl"], stdout=quiet) == 0
    assert main(["mark", "1", "--at", "1.0", "other", "--note", "../../../escape", "--db", str(db)], stdout=quiet) == 0
    assert main(["report", str(out), "--db", str(db)], stdout=quiet) == 0
    assert main(["sessions", "--db", str(db)], stdout=quiet) == 0
    created = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    allowed = {db, db.with_name(db.name + "-journal")}
    outside = [p for p in created if out not in p.parents and p not in allowed]
    assert outside == [], outside
    assert not any(work.iterdir()) and not private_data_dir.exists()
    assert {p.name for p in out.iterdir()} >= {"session.json", "samples.f32", "events.jsonl", "session.edf",
                                              "report.html"}
    assert os.path.exists(db)
