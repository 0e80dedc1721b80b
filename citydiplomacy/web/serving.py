"""Run the web application under uvicorn, with one or several worker processes.

Why not ``uvicorn.run`` directly, with ``workers > 1`` (uvicorn 0.54):

* **Nagle.** uvicorn binds the shared listening socket as ``socket.socket(family)`` (protocol 0), and
  asyncio only switches Nagle's algorithm off (``TCP_NODELAY``) on sockets whose protocol reads
  ``IPPROTO_TCP``. Every answer on a kept-alive connection then waits for the client's delayed ACK: about
  43 ms a request on Linux, measured with wrk on ``/api/health`` (0.9 ms with it off; uvicorn #3149).
* **Balance.** All workers accept from one socket, and the first event loop to wake takes every
  connection waiting: 20 keep-alive clients arriving together were seen split 19 to 1, so one worker
  did the work of two and the place-profile API gave 118 requests/s instead of 450.

So each worker listens on a socket of its own, all bound to the address with ``SO_REUSEPORT``: the
kernel spreads new connections among them (by a hash of the client's address and port).
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = ["APP", "NoDelayConfig", "serve"]

#: Every worker builds its application from the environment: an import string and a factory.
APP = "citydiplomacy.web.app:create_app"


class NoDelayConfig(uvicorn.Config):
    """A uvicorn configuration whose listening sockets send small answers at once (``TCP_NODELAY``)."""

    reuse_port = False  # set by serve() for several workers: each binds its own socket to the address

    def bind_socket(self) -> socket.socket:
        if self.reuse_port and self.uds is None and self.fd is None:
            return self._bind_reuse_port()
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted connections inherit it
        return sock

    def _bind_reuse_port(self) -> socket.socket:
        family = socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        sock.set_inheritable(True)
        return sock


class ReusePortMultiprocess(Multiprocess):
    """uvicorn's supervisor (restarts, health checks, signals), each worker with a listening socket of its own.

    uvicorn makes every worker, the first ones and their replacements, with ``Process(self.config,
    self.sockets)``: here ``sockets`` is a new socket each time it is read. The supervisor keeps no
    reference to it once the worker has started (``multiprocessing`` drops a process's arguments then), so
    its copy closes at once and only workers listen.
    """

    @property  # type: ignore[override]
    def sockets(self) -> list[socket.socket]:
        return [self.config.bind_socket()]

    @sockets.setter
    def sockets(self, _sockets: list[socket.socket]) -> None:
        for sock in _sockets:  # the probe made by serve(); workers bind their own
            sock.close()


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, **options: object) -> None:
    """Serve the application (``CITYDIP_DATABASE_URL`` and the other settings come from the environment).

    Parameters
    ----------
    host
        Interface to listen on.
    port
        TCP port.
    workers
        Worker processes; with more than one, a supervisor restarts any that dies, and the kernel spreads
        connections among them.
    **options
        Further :class:`uvicorn.Config` options (``log_level``, ``access_log``, ...).
    """
    config = NoDelayConfig(APP, factory=True, host=host, port=port, workers=workers, **options)  # type: ignore[arg-type]
    if workers == 1:  # asyncio makes the socket itself, Nagle off
        uvicorn.Server(config).run()
        return
    # An ordinary bind first: it fails (and says so) if anything else holds the port, a server started
    # with SO_REUSEPORT included, which the workers' binds would otherwise join.
    probe = config.bind_socket()
    if not sys.platform.startswith("linux"):  # elsewhere SO_REUSEPORT does not spread connections
        Multiprocess(config, sockets=[probe]).run()
        return
    config.reuse_port = True
    ReusePortMultiprocess(config, sockets=[probe]).run()
