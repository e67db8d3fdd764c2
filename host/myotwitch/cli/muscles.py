"""muscles: the muscle table (anatomy.py) and, with --preset, where to put which channel."""

from __future__ import annotations

import argparse
import sys

from myotwitch.anatomy import MUSCLES, PRESETS
from myotwitch.cli.output import Output

NOTE = ("Information to bring to a clinician, not a diagnosis: many muscles share roots, and twitching "
        "alone points at no nerve.")


def cmd_muscles(args: argparse.Namespace, out: Output) -> int:
    if args.preset is not None:
        preset = PRESETS.get(args.preset.strip().lower())
        if preset is None:
            print(f"myotwitch: error: no preset {args.preset!r} (known: {', '.join(PRESETS)})", file=sys.stderr)
            return 2
        channels = [{"channel": i, "muscle": key, "name": MUSCLES[key].name, "nerve": MUSCLES[key].nerve,
                     "roots": MUSCLES[key].roots, "why": why} for i, (key, why) in enumerate(preset.channels)]
        if out.fmt == "jsonl":
            out.records({"type": "placement", "preset": preset.key, **c} for c in channels)
            return 0
        lines = [f"{preset.key}: {preset.situation}"]
        for c in channels:
            lines.append(f"  channel {c['channel']}: {c['name']} ({c['nerve']} nerve, roots {c['roots']}): {c['why']}")
        names = " ".join(f"--muscle '{c['muscle']}'" for c in channels)
        lines += [f"  then: myotwitch analyze FILE {names}", NOTE]
        out.stream.write("\n".join(lines) + "\n")
        return 0
    if out.fmt == "jsonl":
        out.records({"type": "muscle", "muscle": m.key, "name": m.name, "nerve": m.nerve, "roots": m.roots,
                     "region": m.region} for m in MUSCLES.values())
        return 0
    width = max(len(m.key) for m in MUSCLES.values())
    lines = [f"{'name':<{width}}  {'muscle':<30} {'nerve':<34} roots"]
    lines += [f"{m.key:<{width}}  {m.name:<30} {m.nerve:<34} {m.roots}" for m in MUSCLES.values()]
    lines.append("presets (--preset NAME: where to put which channel): " + ", ".join(PRESETS))
    lines.append(NOTE)
    out.stream.write("\n".join(lines) + "\n")
    return 0
