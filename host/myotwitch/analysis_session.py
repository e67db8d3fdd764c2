"""A session folder (recorder.py's layout) written from the analysis of a recording file.

    write_analysis_session("hand.edf", "out/hand")   # session.json, samples.f32, events.jsonl, session.edf

What a live session of the same signals would have left, without a board: `myotwitch report` of the folder
then reads it as it reads a live one. A file with several EMG signals gives a session of several channels
(samples interleaved, events naming their channel). The file is read twice: once by the analysis, once
for its samples; samples the file lacks or holds as non-numbers are NaN on disk, never filled in.
"""

from __future__ import annotations

import os
from pathlib import Path

from myotwitch.analysis import FileAnalysis
from myotwitch.errors import MyotwitchError
from myotwitch.recorder import SessionRecorder, write_session_edf
from myotwitch.serialize import summary_json
from myotwitch.sources import SampleBlock


def write_analysis_session(path: str | os.PathLike, out_dir: str | os.PathLike, rate_hz: float | None = None,
                           muscles: list[str] | None = None) -> tuple[Path, dict]:
    """Analyze the file into out_dir; returns (the folder's EDF+ path, the analysis summary)."""
    from myotwitch.sources.replay import ReplaySource

    analysis = FileAnalysis(path, rate_hz, muscles=muscles)
    events = list(analysis.events())
    summary = analysis.summary()
    meta = {"kind": "analyze", "source": str(path), "board": "file"}
    if analysis.multi is not None:
        names = analysis.multi.muscles
        recorder = SessionRecorder(out_dir, analysis.stream_rate_hz, meta, muscles=names)
        streams = [ReplaySource(r).blocks() for r in analysis.multi.recordings]
        held: list[SampleBlock | None] = [next(s, None) for s in streams]
        while any(b is not None for b in held):  # in step: the earliest blocks first, as the analysis read them
            first = min(b.start_index for b in held if b is not None)
            due = [b if b is not None and b.start_index == first else None for b in held]
            recorder.add_blocks(due)
            held = [next(streams[c], None) if due[c] is not None else held[c] for c in range(len(held))]
    else:
        if not hasattr(analysis, "source") or not isinstance(analysis.source, ReplaySource):
            raise MyotwitchError(f"{path}: a raw capture has no session folder of its own (replay it with live)")
        if muscles:
            meta["muscle"] = muscles[0]
        recorder = SessionRecorder(out_dir, analysis.stream_rate_hz, meta)
        for block in ReplaySource(analysis.source.recording).blocks():
            recorder.add_block(block)
    recorder.add_events(events)
    recorder.add_json([summary_json(summary)])
    recorder.close()
    return write_session_edf(out_dir), summary
