"""Optional parts (pyproject's extras): import one, or say in one line which extra installs it."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

from myotwitch.errors import MyotwitchError


def install_hint(extra: str) -> str:
    """The pip command that adds an extra, for an installed myotwitch and for a source checkout."""
    return f"pip install 'myotwitch[{extra}]' (in a source checkout: pip install -e '.[{extra}]')"


def require(module: str, extra: str, needed_by: str) -> ModuleType:
    """Import `module`, or raise a one-line MyotwitchError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MyotwitchError(f"{needed_by} needs {module}, which is not installed: {install_hint(extra)}") from None


def require_command(name: str, extra: str, needed_by: str) -> str:
    """A console script an extra installs (mpremote, micropython), found beside this Python first.

    Beside sys.executable first: a venv's commands work without activating the venv."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search)
    if not found:
        raise MyotwitchError(f"{needed_by} needs the {name} command, which is not installed: {install_hint(extra)}")
    return found
