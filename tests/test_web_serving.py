"""The serving module's listening socket: connections accepted from it send small answers at once."""

from __future__ import annotations

import socket

import uvicorn

from citydiplomacy.web.serving import APP, NoDelayConfig


def test_accepted_connections_have_nagle_off() -> None:
    listener = NoDelayConfig(APP, factory=True, host="127.0.0.1", port=0, workers=2).bind_socket()
    try:
        listener.listen(1)
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                # Linux copies the listener's TCP_NODELAY to the connections it accepts.
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


def test_the_base_configuration_is_what_the_subclass_corrects() -> None:
    """If uvicorn ever binds with Nagle off itself, this fails, and NoDelayConfig can go."""
    listener = uvicorn.Config(APP, factory=True, host="127.0.0.1", port=0, workers=2).bind_socket()
    try:
        listener.listen(1)
        with socket.create_connection(listener.getsockname()[:2], timeout=5):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    finally:
        listener.close()
