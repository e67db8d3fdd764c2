"""The live page's server: token, hand-off from the session, and a stalled page that must not stall it."""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.request
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("aiohttp", reason="the web view needs the 'web' extra (aiohttp)")

import myotwitch.web.view as web_view
from myotwitch.events import Twitch
from myotwitch.web.view import WebView
from test_end_to_end import run


def fake_monitor():
    detector = SimpleNamespace(noise_uv=2.0, mains_hz=(50.0,), config=SimpleNamespace(peak_sigma=3.5))
    return SimpleNamespace(detector=detector, grouper=SimpleNamespace(open_twitches=(None, 0)),
                           lost_samples=0)


def fake_source():
    return SimpleNamespace(stats=SimpleNamespace(saturated_frames=0, flat_frames=0), gaps=[], reconnects=0)


def block(start_index: int, n: int = 50):
    return SimpleNamespace(start_index=start_index, samples_uv=np.zeros(n), lost_before=0)


def test_the_hand_off_drops_the_oldest_block_for_the_view_and_counts_it():
    """The session's call only appends: when the page's side is behind, the view loses its oldest
    blocks (counted), and events are kept apart so a dropped block takes no twitch with it."""
    view = WebView(handoff_blocks=3)
    view._monitor = fake_monitor()
    view.model = SimpleNamespace(rate_hz=1000.0)
    twitch = Twitch(peak_index=20, onset_index=15, end_index=25, peak_uv=40.0, noise_uv=2.0)
    for k in range(5):
        view.update(block(k * 50), [twitch] if k == 0 else [], fake_source())
    assert view.dropped_blocks == 2
    assert [b.start_index for b in view._blocks] == [100, 150, 200]
    handed = view._events[0][0]
    assert handed[0]["type"] == "twitch" and handed[0]["t_s"] == 0.02 and handed[0]["peak_uv"] == 40.0


def fetch_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_page_needs_its_token_and_the_server_listens_on_loopback_only():
    view = WebView(open_browser=False)
    view.begin(SimpleNamespace(rate_hz=1000, board="sim", firmware="x"), fake_monitor())
    try:
        assert view.url.startswith("http://127.0.0.1:")
        assert fetch_status(view.url) == 200
        base = view.url.split("?")[0]
        assert fetch_status(base) == 403
        assert fetch_status(base + "?token=" + view.token[:-1] + "x") == 403
        assert fetch_status(base.rstrip("/") + "/ws?token=wrong") == 403
        port = int(view.url.split(":")[2].split("/")[0])
        for family, address in ((socket.AF_INET, _outward_address()),):
            if address is None:
                continue
            with socket.socket(family) as s, pytest.raises(OSError):
                s.settimeout(2)
                s.connect((address, port))
    finally:
        view.end()


def _outward_address() -> str | None:
    """This machine's address on its network, if it has one that is not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def stalled_websocket(url: str) -> socket.socket:
    """A WebSocket client that opens, asks for a dense trace, and then never reads again."""
    host_port = url.split("/")[2]
    host, port = host_port.split(":")
    token = url.split("token=")[1]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's writes back up soon
    s.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)  # the handshake's answer, byte by byte so nothing after it is read
    assert head.startswith(b"HTTP/1.1 101")
    payload = json.dumps({"type": "view", "columns_per_s": 1000}).encode()
    mask = os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
    return s


def test_a_page_that_never_reads_does_not_stall_the_session(tmp_path, monkeypatch):
    """demo --speed 0 --web with a WebSocket client that never reads: the session runs to the end of the
    recording with no sample lost and ends, while the page's updates were still waiting for it."""
    made: list[WebView] = []
    clients: list[socket.socket] = []

    class Stalled(WebView):
        def begin(self, info, monitor) -> None:
            super().begin(info, monitor)
            made.append(self)
            clients.append(stalled_websocket(self.url))

    monkeypatch.setattr(web_view, "WebView", Stalled)
    try:
        code, printed = run(["demo", "--speed", "0", "--web", "--no-browser", "--format", "jsonl",
                             "--out", str(tmp_path / "s"), "--db", str(tmp_path / "l.sqlite")])
    finally:
        for c in clients:
            c.close()
    summary = printed[-1]
    assert code == 0
    assert summary["samples"] == 60_000 and summary["lost_samples"] == 0
    assert made[0].undelivered_messages > 0  # the client really stalled: its updates backed up unsent


def test_a_slow_page_loses_its_oldest_updates_counted():
    import asyncio

    view = WebView()
    outbox: asyncio.Queue[str] = asyncio.Queue(2)
    for text in ("a", "b", "c"):
        view._offer(outbox, text)
    assert view.dropped_messages == 1
    assert [outbox.get_nowait(), outbox.get_nowait()] == ["b", "c"]


def test_web_without_its_server_library_is_a_one_line_error_before_the_session(tmp_path, monkeypatch, capsys):
    import sys

    from conftest import DEMO_EDF
    from myotwitch.cli import main

    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if the 'web' extra were not installed
    code = main(["live", "--source", str(DEMO_EDF), "--web", "--no-browser", "--out", str(tmp_path / "s"),
                 "--db", str(tmp_path / "l.sqlite")])
    assert code == 1
    assert "--web needs aiohttp: pip install 'myotwitch[web]'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # nothing was started


def test_views_held_as_one_each_get_every_call():
    from myotwitch.live.view import Views

    calls = []

    class Recorder:
        def __init__(self, name):
            self.name = name

        def begin(self, info, monitor):
            calls.append((self.name, "begin"))

        def update(self, block, events, source):
            calls.append((self.name, "update"))

        def end(self):
            calls.append((self.name, "end"))

    views = Views([Recorder("web"), Recorder("terminal")])
    views.begin(None, None)
    views.update(None, [], None)
    views.end()
    assert calls == [("web", "begin"), ("terminal", "begin"), ("web", "update"), ("terminal", "update"),
                     ("terminal", "end"), ("web", "end")]
