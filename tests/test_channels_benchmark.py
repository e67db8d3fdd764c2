"""benchmarks/channels.py stays runnable, and the cross-channel rules keep their edge on its quick run."""

from __future__ import annotations

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import channels


def test_channels_benchmark_quick_run(tmp_path, capsys):
    out = tmp_path / "channels.json"
    assert channels.main(["--quick", "--json", str(out)]) == 0
    assert "| 3 detectors + cross-channel rules |" in capsys.readouterr().out
    r = json.loads(out.read_text())["pooled"]
    multi, alone = r["multi"], r["alone"]
    assert r["truth"] > 0 and multi["twitches_seen"] > 0
    # Each channel alone counts a twitch and its crosstalk copy twice; the rules count it once.
    assert alone["counted_once"] < 0.9 <= multi["counted_once"]
    assert r["rejected_crosstalk"] > 0
    assert multi["artifacts_rejected"] >= alone["artifacts_rejected"]
    assert multi["sensitivity_ch0"] >= alone["sensitivity_ch0"] - 0.05
