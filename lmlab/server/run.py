"""Running the app under uvicorn with lmlab's connection limits.

uvicorn times out idle keep-alive connections, but not a client that connects and sends its
headers slowly (or never): :func:`guarded_h11` adds that deadline (the body's deadline is
:class:`~lmlab.server.guard.RequestGuard`'s).  :func:`make_server` builds the server,
:func:`serve` runs it and says where it listens once it is up.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol


def guarded_h11(header_timeout: float) -> type:
    """uvicorn's h11 protocol, closing a connection whose next request's headers have not
    arrived ``header_timeout`` seconds after it opened or after its last response."""

    class GuardedH11(H11Protocol):
        _armed = 0

        def _arm(self) -> None:
            self._armed += 1
            self.loop.call_later(header_timeout, self._expire, self._armed, self.cycle)

        def _expire(self, armed: int, cycle) -> None:
            waiting = self.cycle is cycle and (cycle is None or cycle.response_complete)
            if armed == self._armed and waiting and not self.transport.is_closing():
                self.transport.close()

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

    return GuardedH11


def make_server(app, host: str = "127.0.0.1", port: int = 8000, *, header_timeout: float = 10.0,
                max_connections: int = 256, on_started: Callable[[str], None] | None = None) -> uvicorn.Server:
    """A uvicorn server for ``app`` (port 0: any free port); ``on_started(url)`` once it listens."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", http=guarded_h11(header_timeout),
                            timeout_keep_alive=5, limit_concurrency=max_connections, lifespan="on")

    class Server(uvicorn.Server):
        url: str | None = None

        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started and self.servers:
                h, p = self.servers[0].sockets[0].getsockname()[:2]
                self.url = f"http://{h if ':' not in h else f'[{h}]'}:{p}"
                if on_started is not None:
                    on_started(self.url)

    return Server(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (``OSError`` if the address is taken or not this machine's)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(app, host: str, port: int, **kwargs) -> None:
    """Run until interrupted; prints ``lmlab serve: listening on URL`` when it is up.  The socket is
    bound first, so a taken port is an ``OSError`` here, not uvicorn's log line and exit 1."""
    def announce(url: str) -> None:
        print(f"lmlab serve: listening on {url} (the page at /, the API at /docs; Ctrl-C stops)", flush=True)

    sock = bind(host, port)
    make_server(app, host, port, on_started=announce, **kwargs).run(sockets=[sock])
