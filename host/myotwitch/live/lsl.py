"""An optional Lab Streaming Layer outlet (`myotwitch live --lsl`, `pip install 'myotwitch[lsl]'`).

Two streams, so that LabRecorder and LSL viewers work with them as they are:
  myotwitch     type EMG, one float32 channel in microvolts at the board's rate
  myotwitch-markers  type Markers, a string per twitch ("twitch 42.0 uV"), episode, activity, gap
                and mark, stamped at the time of the sample it is about (twitches are decided
                ~5.5 s later, so their markers arrive late but carry the right time)
"""

from __future__ import annotations

from typing import Any

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event
from myotwitch.extras import install_hint
from myotwitch.serialize import lsl_marker

STREAM_NAME = "myotwitch"


class LslOutlet:
    def __init__(self, name: str = STREAM_NAME) -> None:
        try:
            import pylsl
        except (ImportError, RuntimeError) as exc:  # RuntimeError: pylsl without its liblsl
            raise MyotwitchError(f"--lsl needs pylsl ({exc}): {install_hint('lsl')}") from None
        self._lsl = pylsl
        self.name = name
        self._signal: Any = None  # pylsl.StreamOutlet once open (pylsl has no types)
        self._markers: Any = None
        self._t0: float | None = None  # LSL time of stream index 0

    def open(self, info, rate_hz: float) -> None:
        lsl = self._lsl
        uid = str(info.fields.get("uid") or info.board)
        signal = lsl.StreamInfo(self.name, "EMG", 1, rate_hz, "float32", f"myotwitch-{uid}")
        desc = signal.desc()
        desc.append_child_value("manufacturer", "myotwitch")
        channel = desc.append_child("channels").append_child("channel")
        channel.append_child_value("label", "EMG")
        channel.append_child_value("unit", "microvolts")
        channel.append_child_value("type", "EMG")
        desc.append_child("acquisition").append_child_value("board", f"{info.board} {info.firmware}")
        self.rate_hz = rate_hz
        self._signal = lsl.StreamOutlet(signal, chunk_size=max(1, round(rate_hz / 20)))
        markers = lsl.StreamInfo(f"{self.name}-markers", "Markers", 1, lsl.IRREGULAR_RATE, "string",
                                 f"myotwitch-{uid}-markers")
        self._markers = lsl.StreamOutlet(markers)

    def push(self, block, events: list[Event]) -> None:
        end = block.start_index + len(block.samples_uv)
        now = self._lsl.local_clock()
        if self._t0 is None:
            self._t0 = now - end / self.rate_hz
        t0 = self._t0
        if len(block.samples_uv):
            self._signal.push_chunk(block.samples_uv.astype("float32").reshape(-1, 1).tolist(), now)
        for e in events:
            marker = lsl_marker(e, self.rate_hz)
            if marker is not None:
                self._markers.push_sample([marker[1]], t0 + marker[0])

    def close(self) -> None:
        self._signal = self._markers = None
