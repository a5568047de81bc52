"""A TCP proxy a test can cut: the broker "goes away" for the processes connected through it
(their sockets are reset, new connections refused) while the test's own connections, made
directly, stay up. Nobody else's broker is disturbed."""
from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def for_amqp(cls, amqp_uri: str) -> tuple[TcpProxy, str]:
        """A proxy to the broker of `amqp_uri`, and the same URI through the proxy."""
        return cls.for_url(amqp_uri, 5672)

    @classmethod
    def for_url(cls, url: str, default_port: int) -> tuple[TcpProxy, str]:
        """A proxy to the server of `url` (amqp://, postgresql://), and the URL through it."""
        parts = urlsplit(url)
        proxy = cls(parts.hostname or "localhost", parts.port or default_port)
        auth = parts.netloc.rpartition("@")[0]
        netloc = f"{auth}@127.0.0.1:{proxy.port}" if auth else f"127.0.0.1:{proxy.port}"
        return proxy, urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self._up.is_set():
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close every proxied connection (both peers see it end at once) and refuse new ones
        until `restore()`."""
        self._up.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            _reset(s)

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self.cut()
        self._server.close()


def _reset(sock: socket.socket) -> None:
    # shutdown first: a bare close() does not end a connection another thread is reading from
    # (the pipe threads), so the peer would never notice
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
