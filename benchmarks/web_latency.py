"""How soon the live page shows what the session sees, in a real browser.

    .venv/bin/python benchmarks/web_latency.py [--seconds 40]

Runs `myotwitch demo --web --no-browser --speed 1` (the bundled recording played in real time by our
firmware in the MicroPython Unix port, through a pseudo-terminal) with the page open in headless
chromium (Debian's, driven by playwright), and reads back from the page when it drew each marker:

- a twitch: from the moment the session handed the detector's decision to the view (wall clock, host)
  to the end of the page's draw that showed it (Date.now() in the page, same machine, same clock);
  target < 0.5 s.
- a candidate: from the moment its peak sample was taken (the stream's wall-clock anchor, set from the
  first block's arrival, plus index / rate: board buffering and the serial link are included) to the
  end of the draw that showed it; target < 0.3 s.

A candidate is reported when its run above the threshold ends (10 ms below it), so it can never appear
sooner than that after its peak. Figures are printed as median, 90th percentile and max over the run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from web_browser import WebSession, browser, browser_missing


def summary(values_s: list[float]) -> str:
    if not values_s:
        return "none seen"
    ordered = sorted(values_s)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (f"n={len(ordered)}  median {statistics.median(ordered) * 1000:.0f} ms  p90 {p90 * 1000:.0f} ms  "
            f"max {ordered[-1] * 1000:.0f} ms")


def measure(seconds: float) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp, browser() as chromium:
        session = WebSession(Path(tmp), "--speed", "1", "--duration", f"{seconds:g}")
        try:
            page = chromium.new_page(viewport={"width": 1280, "height": 800})
            page.goto(session.url)
            session.wait(timeout_s=seconds + 60)
            shown = page.evaluate("window.mtw.shown")
        finally:
            session.stop()
    return {
        "twitch": [s["shown_epoch_s"] - s["decided_epoch_s"] for s in shown if s["kind"] == "twitch"],
        "candidate": [s["shown_epoch_s"] - s["sampled_epoch_s"] for s in shown if s["kind"] == "candidate"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds of the demo recording to play")
    args = parser.parse_args(argv)
    missing = browser_missing()
    if missing:
        print(f"web_latency: {missing}", file=sys.stderr)
        return 1
    figures = measure(args.seconds)
    print(f"twitch shown after the detector decided it (target < 500 ms): {summary(figures['twitch'])}")
    print(f"candidate shown after its peak was sampled (target < 300 ms): {summary(figures['candidate'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
