"""The MicroPython Unix port as a device mpremote can reach: its REPL on a pty, bridged to a TCP port.

mpremote cannot open a bare pty, but it opens `socket://HOST:PORT` (pyserial)
and, with `resume`, talks raw REPL to whatever is there. The bridge plays the
part socat would, in Python, so the tests need nothing outside the venv.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import subprocess
import threading
import tty
from pathlib import Path


class UnixPortDevice:
    def __init__(self, micropython: str, filesystem: Path) -> None:
        self.filesystem = filesystem
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes as a USB CDC port carries them
        self._master = master
        self._proc = subprocess.Popen([micropython], stdin=slave, stdout=slave, stderr=slave, cwd=filesystem,
                                      close_fds=True)
        os.close(slave)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        """One mpremote connection after another, each relayed until it closes."""
        self._server.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                while not self._stop:
                    ready, _, _ = select.select([self._master, conn], [], [], 0.2)
                    if self._master in ready:
                        try:
                            data = os.read(self._master, 4096)
                        except OSError:
                            return  # the interpreter is gone
                        try:
                            conn.sendall(data)
                        except OSError:  # mpremote has gone (what the REPL says on its way out finds no one)
                            break
                    if conn in ready:
                        try:
                            data = conn.recv(4096)
                        except OSError:
                            break
                        if not data:
                            break
                        os.write(self._master, data)

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self._server.close()
        self._proc.kill()
        self._proc.wait(timeout=5)
        os.close(self._master)
