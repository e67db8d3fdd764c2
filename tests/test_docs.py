"""The docs stay true to the tree: every path they name exists, every command in the README's table is real.

A newcomer follows docs/architecture.md to a module; a renamed module must fail here, not in their hands.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from myotwitch.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").glob("*.md")])
DOCS = [p for p in DOCS if p.exists()]

# A repository path: one of the top folders, not inside another path (myotwitch/firmware/ is the wheel's).
PATH_RE = re.compile(r"(?<![\w/.~-])((?:host|firmware|docs|tests|benchmarks|tools|hardware|data)/[\w./-]*)")
LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


def named_paths(text: str) -> list[str]:
    paths = []
    for m in PATH_RE.finditer(text):
        path = m.group(1).rstrip(".,:;")
        if "<" in text[m.end():m.end() + 1]:  # a pattern such as DIR/<name>, not a path
            continue
        paths.append(path)
    return paths


def local_links(text: str) -> list[str]:
    links = []
    for target in LINK_RE.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        links.append(target.split("#")[0])
    return links


def test_path_finder_sees_what_a_reader_sees() -> None:
    text = ("`host/myotwitch/protocol/decoder.py` decodes; see firmware/lib/mtw_app.py, docs/protocol.md. "
            "The wheel's `myotwitch/firmware/` and ~/data/x are not repository paths.")
    assert named_paths(text) == ["host/myotwitch/protocol/decoder.py", "firmware/lib/mtw_app.py", "docs/protocol.md"]
    assert local_links("[a](protocol.md#v1) [b](https://x.org/a.md) [c](#here)") == ["protocol.md"]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_named_path_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = sorted({p for p in named_paths(text) if not (ROOT / p).exists()})
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_local_link_resolves(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    missing = sorted({t for t in local_links(text) if not (doc.parent / t).exists()})
    assert not missing, f"{doc.name} links to files that do not exist: {missing}"


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("myotwitch has no subcommands")


def command_rows() -> list[tuple[list[str], list[str]]]:
    """The README's commands table: for each row, the commands it names and the options it shows."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        m = re.match(r"\|\s*`myotwitch ([a-z|\\]+)([^`]*)`", line)
        if m:
            names = [n for n in m.group(1).replace("\\", "").split("|") if n]
            rows.append((names, re.findall(r"--[a-z][a-z0-9-]*", m.group(2))))
    return rows


def test_readme_commands_table_names_real_commands_and_options() -> None:
    commands = subcommands()
    rows = command_rows()
    assert rows, "the README has no commands table"
    for names, options in rows:
        for name in names:
            assert name in commands, f"README's commands table names `myotwitch {name}`, which does not exist"
            known = {s for a in commands[name]._actions for s in a.option_strings}
            unknown = [o for o in options if o not in known]
            assert not unknown, f"README shows {unknown} for `myotwitch {name}`, which it does not take"


def test_readme_commands_table_lists_every_command() -> None:
    listed = {name for names, _ in command_rows() for name in names}
    assert set(subcommands()) <= listed, f"missing from the README's table: {sorted(set(subcommands()) - listed)}"


# What docs/architecture.md tells a newcomer to look for, and where: the name must be defined there
# (where a frame is decoded, a twitch decided, a session written, and the interfaces between).
ARCHITECTURE_NAMES = [
    ("FrameDecoder", "host/myotwitch/protocol/decoder.py"),
    ("SampleBlock", "host/myotwitch/sources/__init__.py"),
    ("Source", "host/myotwitch/sources/base.py"),
    ("Board", "host/myotwitch/sources/base.py"),
    ("ReconnectingBoard", "host/myotwitch/sources/reconnecting.py"),
    ("ReplayBoard", "host/myotwitch/sources/replay.py"),
    ("Monitor", "host/myotwitch/monitor.py"),
    ("RULES", "host/myotwitch/dsp/rules.py"),
    ("classify", "host/myotwitch/dsp/rules.py"),
    ("TwitchDetector", "host/myotwitch/dsp/detector.py"),
    ("FileAnalysis", "host/myotwitch/analysis.py"),
    ("to_json", "host/myotwitch/serialize.py"),
    ("SessionRecorder", "host/myotwitch/recorder.py"),
    ("Store", "host/myotwitch/store.py"),
]


@pytest.mark.parametrize(("name", "path"), ARCHITECTURE_NAMES, ids=[n for n, _ in ARCHITECTURE_NAMES])
def test_architecture_names_are_defined_where_it_says(name: str, path: str) -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert re.search(rf"\b{name}\b", text) and path in text, f"docs/architecture.md no longer names {name} or {path}"
    source = (ROOT / path).read_text(encoding="utf-8")
    defined = rf"^(?:(?:class|def) {name}\b|{name}\s*[:=])"  # a class, a function or a module-level name
    assert re.search(defined, source, re.MULTILINE), f"{name} is not defined in {path}"
