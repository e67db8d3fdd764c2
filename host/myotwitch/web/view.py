"""`live --web`: a page on 127.0.0.1, on a free port, behind a random token, fed over a WebSocket.

The session calls `begin`, `update`, `end` as it does the terminal view's. `update` only appends to
bounded queues (the oldest block is dropped for the view, and counted, when the page's side falls
behind): the record gets every sample, the view what it can keep up with. The server (aiohttp) runs
in its own thread with its own event loop; each open page has its own bounded send queue, so a
stalled browser tab loses updates and never holds up the session or the other pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import threading
import time
import webbrowser
from collections import deque
from collections.abc import Callable
from importlib import resources
from typing import Any

from myotwitch.errors import MyotwitchError
from myotwitch.events import Event
from myotwitch.serialize import to_json
from myotwitch.web.model import Handed, ViewModel

UPDATES_PER_S = 20  # the page's refresh: plenty for the eye, little for the CPU
HANDOFF_BLOCKS = 1000  # blocks waiting for the server thread (50 s of 50 ms frames) before the oldest goes
HANDOFF_EVENTS = 5000
PAGE_QUEUE = 40  # messages waiting for one page (2 s) before its oldest goes
# Bytes a page's connection may hold unsent (asyncio's buffer, and the kernel's): a slow page then backs up
# into its bounded queue, where stale updates are dropped, instead of into seconds of buffered trace.
SEND_BUFFER_BYTES = 64 * 1024
CLOSE_TIMEOUT_S = 2.0
MARK_LABEL = "felt-twitch"


def require_server() -> None:
    """Fail before the session starts when the server library is missing."""
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        raise MyotwitchError("--web needs aiohttp: pip install 'myotwitch[web]'") from None


def _bound_send_buffers(transport) -> None:
    if transport is None:
        return
    transport.set_write_buffer_limits(high=SEND_BUFFER_BYTES)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


def page_html() -> str:
    """The page: HTML with its CSS and script inlined, from the package data (no CDN: works offline)."""
    static = resources.files("myotwitch.web") / "static"
    html = (static / "index.html").read_text(encoding="utf-8")
    return (html.replace("/*STYLE*/", (static / "app.css").read_text(encoding="utf-8"))
            .replace("/*SCRIPT*/", (static / "app.js").read_text(encoding="utf-8")))


class WebView:
    """The live web page. `marks_to(label)` receives marks made on the page (the session's mark queue)."""

    def __init__(self, marks_to: Callable[[str], None] | None = None, *, open_browser: bool = True,
                 say: Callable[[str], None] = lambda message: None, muscle: str | None = None,
                 clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time,
                 handoff_blocks: int = HANDOFF_BLOCKS) -> None:
        self._marks_to = marks_to
        self._open_browser = open_browser
        self._say = say
        self._muscle = muscle
        self._clock = clock
        self._wall_clock = wall_clock
        self.token = secrets.token_urlsafe(24)
        self.url: str | None = None
        self._blocks: deque[Handed] = deque()
        self._events: deque[tuple[list[dict], float]] = deque()
        self._handoff_blocks = handoff_blocks
        self._lock = threading.Lock()
        self.dropped_blocks = 0  # blocks the view skipped (never the record)
        self.dropped_events = 0
        self.dropped_messages = 0  # updates a slow page did not get
        self.undelivered_messages = 0  # updates still waiting for a page when the session ended
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self.model: ViewModel | None = None
        self._monitor: Any = None  # the session's Monitor, read for status
        self._channels = 1  # a board of several channels: one trace each on the page

    # -- called by the session loop (its thread): cheap, never blocks ------------
    def begin(self, info, monitor) -> None:
        self._monitor = monitor
        muscles = list(getattr(monitor, "muscles", None) or [])  # LiveChannels: a board of several channels
        header: dict[str, object] = {"board": f"{info.board} {info.firmware}", "muscle": self._muscle}
        if muscles:
            header["muscles"] = muscles
        self._channels = max(1, len(muscles))
        self.model = ViewModel(float(info.rate_hz), monitor.detector.config.peak_sigma, header,
                               channels=self._channels)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # this computer only, a free port
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/?token={self.token}"
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="web-view", daemon=True)
        self._thread.start()
        self._ready.wait(10.0)
        if self._failure is not None:
            raise MyotwitchError(f"cannot start the web view: {self._failure}")
        self._say(f"live page: {self.url}")
        if self._open_browser:
            webbrowser.open(self.url)

    def update(self, block, events: list[Event], source) -> None:
        m = self._monitor
        stats = source.stats
        noise = m.detector.noise_uv
        start_index, open_count = m.grouper.open_twitches
        rate_hz = self.model.rate_hz if self.model is not None else float("nan")
        start_s = None if start_index is None else start_index / rate_hz
        status = {"noise_uv": None if noise is None else round(noise, 3), "mains_hz": m.detector.mains_hz,
                  "lost": m.lost_samples, "saturated": stats.saturated_frames, "flat": stats.flat_frames,
                  "gaps": len(source.gaps), "reconnects": getattr(source, "reconnects", 0),
                  "episode_start_s": start_s, "episode_count": open_count}
        several = self._channels > 1
        if several:  # each channel's candidates against its own noise floor
            floors = [m.channel_monitor(c).detector.noise_uv for c in range(self._channels)]
            status["channel_noise_uv"] = [None if f is None else round(f, 3) for f in floors]
        now_epoch = self._wall_clock()
        item = Handed(block.start_index, block.samples_uv, block.lost_before, status, now_epoch, self._clock(),
                      block.channels_uv if several else None)
        with self._lock:
            if len(self._blocks) >= self._handoff_blocks:
                self._blocks.popleft()
                self.dropped_blocks += 1
            self._blocks.append(item)
            if events:
                if len(self._events) >= HANDOFF_EVENTS:
                    self._events.popleft()
                    self.dropped_events += 1
                # The page is an edge: it gets the events as JSON, as events.jsonl has them.
                self._events.append(([to_json(e, rate_hz) for e in events], now_epoch))

    def end(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop already stopped
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(CLOSE_TIMEOUT_S * 3)
            self._thread = None

    # -- the server thread ------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(sock))
        except BaseException as exc:  # noqa: BLE001 - reported to begin(), or lost with the view only
            self._failure = exc
            self._ready.set()
        finally:
            loop.close()

    async def _main(self, sock: socket.socket) -> None:
        from aiohttp import web

        self._stop = asyncio.Event()
        pages: dict[int, tuple[web.WebSocketResponse, asyncio.Queue[str], asyncio.Task]] = {}
        model = self.model
        assert model is not None
        html = page_html()

        def allowed(request: web.Request) -> bool:
            return secrets.compare_digest(request.query.get("token", ""), self.token)

        async def index(request: web.Request) -> web.StreamResponse:
            if not allowed(request):
                raise web.HTTPForbidden(text="myotwitch: this page needs the token from its URL\n")
            return web.Response(text=html, content_type="text/html",
                                headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

        async def websocket(request: web.Request) -> web.StreamResponse:
            if not allowed(request):
                raise web.HTTPForbidden(text="myotwitch: this page needs the token from its URL\n")
            # No per-message deflate: on loopback it only costs CPU.
            ws = web.WebSocketResponse(heartbeat=None, max_msg_size=4096, compress=False)
            await ws.prepare(request)
            _bound_send_buffers(request.transport)
            page_id = id(ws)
            outbox: asyncio.Queue[str] = asyncio.Queue(PAGE_QUEUE)
            sender = asyncio.create_task(self._send(ws, outbox))
            pages[page_id] = (ws, outbox, sender)
            model.open_page(page_id)
            self._offer(outbox, json.dumps(model.hello()))
            try:
                async for msg in ws:
                    if msg.type != web.WSMsgType.TEXT:
                        continue
                    self._from_page(page_id, msg.data)
            finally:
                pages.pop(page_id, None)
                model.close_page(page_id)
                sender.cancel()
            return ws

        app = web.Application()
        app.router.add_get("/", index)
        app.router.add_get("/ws", websocket)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=CLOSE_TIMEOUT_S)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._ready.set()
        try:
            while not self._stop.is_set():  # a plain sleep: cheaper per tick than waiting on the event
                self._pump(pages)
                await asyncio.sleep(1.0 / UPDATES_PER_S)
            self._pump(pages)
            model.ended = True
            self._pump(pages)
            for ws, outbox, sender in list(pages.values()):
                # A page that reads gets the last updates; one that does not is not waited for.
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(outbox.join(), CLOSE_TIMEOUT_S / 2)
                self.undelivered_messages += outbox.qsize()
                sender.cancel()
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, ConnectionError):
                    await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT_S / 2)
        finally:
            await runner.cleanup()

    def _pump(self, pages: dict) -> None:
        model = self.model
        assert model is not None
        with self._lock:
            blocks, self._blocks = self._blocks, deque()
            events, self._events = self._events, deque()
            model.view_dropped_blocks = self.dropped_blocks
        for item in blocks:
            model.add_block(item)
        for batch, decided_epoch_s in events:
            model.add_events(batch, decided_epoch_s)
        for page_id, message in model.messages(self._clock()).items():
            if page_id in pages:
                self._offer(pages[page_id][1], json.dumps(message))

    def _offer(self, outbox: asyncio.Queue[str], text: str) -> None:
        if outbox.full():  # a page that does not keep up loses its oldest update, never the session's time
            outbox.get_nowait()
            outbox.task_done()
            self.dropped_messages += 1
        outbox.put_nowait(text)

    async def _send(self, ws, outbox: asyncio.Queue[str]) -> None:
        while True:
            text = await outbox.get()
            try:
                await ws.send_str(text)
            except ConnectionError:
                return
            finally:
                outbox.task_done()

    def _from_page(self, page_id: int, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return  # not ours: ignored
        if not isinstance(message, dict):
            return
        if message.get("type") == "mark" and self._marks_to is not None:
            self._marks_to(MARK_LABEL)
        elif message.get("type") == "view" and self.model is not None:
            columns_per_s = message.get("columns_per_s")
            if isinstance(columns_per_s, (int, float)):
                self.model.set_columns_per_s(page_id, float(columns_per_s))
