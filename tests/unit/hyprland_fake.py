"""Hyprland's two IPC sockets served from a recorded transcript (data/hyprland_ipc.transcript).

Why a transcript: Hyprland cannot run on the test machines (Debian 12 does not package it and
it needs a DRM render node), so its IPC is served on real unix sockets with the wire format
its documentation and source give (the transcript cites them). The request socket answers
one command per connection and closes, as Hyprland does; the event socket streams the
current frame's `EVENT>>DATA` lines to every connected listener.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

TRANSCRIPT = Path(__file__).parent / "data" / "hyprland_ipc.transcript"


@dataclass
class Frame:
    name: str
    events: list[str] = field(default_factory=list)
    replies: dict[str, str] = field(default_factory=dict)


def load(path: Path = TRANSCRIPT) -> list[Frame]:
    """The transcript's frames, in order."""
    frames: list[Frame] = []
    pending: str | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        if pending is not None:
            frames[-1].replies[pending] = raw
            pending = None
        elif not raw.strip() or raw.startswith("#"):
            continue
        elif raw.startswith("== "):
            frames.append(Frame(raw[3:]))
        elif raw.startswith("event "):
            frames[-1].events.append(raw[len("event ") :])
        else:
            pending = raw
    return frames


class FakeHyprland:
    """Serves the transcript under `runtime_dir/hypr/SIGNATURE/`. `advance()` steps a frame."""

    def __init__(self, runtime_dir: Path, signature: str = "fake_1_2") -> None:
        self.frames = load()
        self.signature = signature
        self.dir = runtime_dir / "hypr" / signature
        self.dir.mkdir(parents=True)
        self.requests: list[str] = []
        self._replies = dict(self.frames[0].replies)
        self._frame = 0
        self._listeners: list[socket.socket] = []
        self._lock = threading.Lock()
        self._servers = [self._listen(".socket.sock"), self._listen(".socket2.sock")]
        self._threads = [
            threading.Thread(target=self._serve_requests, daemon=True),
            threading.Thread(target=self._accept_listeners, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _listen(self, name: str) -> socket.socket:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.dir / name))
        server.listen(8)
        return server

    @property
    def frame(self) -> Frame:
        return self.frames[self._frame]

    def listeners(self) -> int:
        with self._lock:
            return len(self._listeners)

    def advance(self) -> Frame:
        """Step to the next frame: its replies hold from now on, its events go out."""
        with self._lock:
            self._frame += 1
            frame = self.frames[self._frame]
            self._replies.update(frame.replies)
            data = "".join(f"{line}\n" for line in frame.events).encode()
            for conn in self._listeners:
                with contextlib.suppress(OSError):
                    conn.sendall(data)
        return frame

    def _serve_requests(self) -> None:
        server = self._servers[0]
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                command = conn.recv(8192).decode()
                with self._lock:
                    self.requests.append(command)
                    reply = self._replies.get(command, "unknown request")
                conn.sendall(reply.encode())

    def _accept_listeners(self) -> None:
        server = self._servers[1]
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with self._lock:
                self._listeners.append(conn)

    def close(self) -> None:
        for server in self._servers:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._lock:
            for conn in self._listeners:
                conn.close()
            self._listeners.clear()
        for thread in self._threads:
            thread.join(2)
