"""Helpers for driving the live page in Debian's chromium through playwright (tests and benchmarks)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return "chromium is not installed (apt-get install chromium)"
    return None


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class WebSession:
    """`myotwitch demo --web --no-browser ...` in a child process; its page's URL once it is up."""

    def __init__(self, tmp_path: Path, *extra: str) -> None:
        self.out_dir = tmp_path / "session"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "myotwitch", "demo", "--web", "--no-browser", "--format", "jsonl",
             "--out", str(self.out_dir), "--db", str(tmp_path / "log.sqlite"), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr: list[str] = []
        self.url = None
        for line in self.process.stderr:
            self.stderr.append(line)
            found = re.search(r"live page: (\S+)", line)
            if found:
                self.url = found.group(1)
                break
        if self.url is None:
            raise RuntimeError("the session printed no page URL:\n" + "".join(self.stderr))
        # Both pipes drained by threads of their own until the process ends: communicate() would read stderr
        # beside the drain and close it under it.
        self._stdout: list[str] = []
        self._drains = [threading.Thread(target=lambda: self.stderr.extend(self.process.stderr), daemon=True),
                        threading.Thread(target=lambda: self._stdout.extend(self.process.stdout), daemon=True)]
        for drain in self._drains:
            drain.start()

    def _join(self) -> None:
        for drain in self._drains:
            drain.join(5)

    def wait(self, timeout_s: float = 60) -> str:
        self.process.wait(timeout=timeout_s)
        self._join()
        return "".join(self._stdout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._join()
