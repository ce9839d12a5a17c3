"""An endpoint that accepts connections and never answers (a hung LLM, a stuck proxy).

    with NeverAnswering() as llm:
        env["ANTHROPIC_BASE_URL"] = llm.url
        ...
        assert llm.accepted >= 1

It reads what the client sends and keeps every connection open until it is closed, so an SDK
waits for its own timeout. ``accepted`` counts the connections (one per SDK attempt).
"""

from __future__ import annotations

import socket
import threading


class NeverAnswering:
    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(512)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="never-answering", daemon=True)

    def _serve(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.accepted += 1
                self._conns.append(conn)
            threading.Thread(target=self._drain, args=(conn,), daemon=True).start()

    def _drain(self, conn: socket.socket) -> None:
        try:  # read the request and whatever follows, answer nothing
            while not self._stop.is_set() and conn.recv(65536):
                pass
        except OSError:
            pass

    def __enter__(self) -> NeverAnswering:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.close()
            except OSError:
                pass
        self._sock.close()
        self._thread.join(timeout=5)
