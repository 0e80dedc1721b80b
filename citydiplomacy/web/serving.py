"""Run the web application under uvicorn, with one or several worker processes.

Why not ``uvicorn.run`` directly: with ``workers > 1`` uvicorn 0.54 binds the shared listening socket
itself, as ``socket.socket(family)`` (protocol 0), and asyncio only switches Nagle's algorithm off
(``TCP_NODELAY``) on sockets whose protocol reads ``IPPROTO_TCP``. Every keep-alive response then waits
for the client's delayed ACK: about 43 ms a request on Linux, measured here with wrk on ``/api/health``
(2.0 ms with one worker, 43.7 ms with two; uvicorn issue #3149). :class:`NoDelayConfig` sets the option
on the listening socket, which accepted connections inherit on Linux; :func:`serve` is ``uvicorn.run``
for this application with that configuration.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = ["APP", "NoDelayConfig", "serve"]

#: Every worker builds its application from the environment: an import string and a factory.
APP = "citydiplomacy.web.app:create_app"


class NoDelayConfig(uvicorn.Config):
    """A uvicorn configuration whose shared listening socket sends small responses at once (TCP_NODELAY)."""

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: object) -> None:
    """Serve the application (``CITYDIP_DATABASE_URL`` and the other settings come from the environment).

    Parameters
    ----------
    host
        Interface to listen on.
    port
        TCP port.
    workers
        Worker processes; with more than one, a supervisor shares one listening socket among them.
    **options
        Further :class:`uvicorn.Config` options (``log_level``, ``access_log``, ...).
    """
    config = NoDelayConfig(APP, factory=True, host=host, port=port, workers=workers, **options)  # type: ignore[arg-type]
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:  # asyncio makes the socket itself, Nagle off
        uvicorn.Server(config).run()
