"""A total deadline for one HTTP exchange made with ``requests``: connecting, headers and body.

``requests`` and urllib3 time out per step — the connection, and each read while the
server is silent — so a server that sends a byte every second never times out, and a
read of 64 KB from it takes 18 hours. :class:`DeadlineAdapter` notes every socket an
exchange uses (a duplicate of its file descriptor, kept by the exchange's thread's
:class:`Deadline`); when the deadline passes, a timer shuts those sockets down, the read
blocked on one of them returns at once, and the caller reports the timeout. This works
alike for plain and TLS connections, during the TLS handshake, for pooled connections
and for every hop of a redirect.

Not covered: looking up the host name (the system's resolver has its own timeouts).
"""

from __future__ import annotations

import functools
import socket
import threading
import time

from requests.adapters import HTTPAdapter

_current = threading.local()


class Deadline:
    """``with Deadline(seconds) as deadline:`` — the exchanges this thread makes inside the
    block are cut off ``seconds`` after it began; ``deadline.expired`` tells whether they were."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        _current.deadline = None
        self._timer.cancel()
        with self._lock:
            self._over = True
            watched, self._watched = self._watched, []
        for duplicate in watched:
            duplicate.close()

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes (at once, if it has)."""
        try:
            # A duplicate of the descriptor: shutting it down ends the connection for every
            # descriptor of it, it lives on when a TLS wrapper takes over (and detaches) the
            # original, and it is ours to close, so a reused descriptor number is never hit.
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type, sock.proto)
        except (OSError, AttributeError):
            return
        with self._lock:
            if not self._over:
                self._watched.append(duplicate)
                if self.expired:
                    _shut(duplicate)
                return
        duplicate.close()

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for duplicate in self._watched:
                _shut(duplicate)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side


def _watch(sock) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


@functools.cache
def _watched_connection(connection_cls: type) -> type:
    class Watched(connection_cls):
        def _new_conn(self):  # a new connection: watched from the TLS handshake on
            sock = super()._new_conn()
            _watch(sock)
            return sock

        def request(self, *args, **kwargs):  # a pooled connection used again
            _watch(self.sock)
            return super().request(*args, **kwargs)

    Watched.__name__ = Watched.__qualname__ = f"Watched{connection_cls.__name__}"
    return Watched


@functools.cache
def _watched_pool(pool_cls: type) -> type:
    if getattr(pool_cls, "_deadline_watched", False):
        return pool_cls
    name = f"Watched{pool_cls.__name__}"
    return type(
        name, (pool_cls,), {"ConnectionCls": _watched_connection(pool_cls.ConnectionCls), "_deadline_watched": True}
    )


def _watch_pools(manager) -> None:
    classes = getattr(manager, "pool_classes_by_scheme", None)
    if classes:
        manager.pool_classes_by_scheme = {scheme: _watched_pool(cls) for scheme, cls in classes.items()}


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connections a :class:`Deadline` can cut off (directly or through a proxy)."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _watch_pools(manager)
        return manager
