"""A live teaching demo in the browser: move a lever and watch hotels, backlogs, cost and
removals respond month by month, beside the baseline on the same random numbers.

A layer above ``experiments`` (it streams runs and replications), beside the command line,
which starts it (``asylum-sim demo``). The page is a Shiny for Python app served from this
machine, assets included, so it works in a classroom with no internet; Shiny is an optional
extra (``pip install -e ".[demo]"``), loaded only when the demo starts.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from .presets import Preset

__all__ = ["DemoUnavailable", "Preset", "serve"]


class DemoUnavailable(RuntimeError):
    """The demo's optional packages are not installed."""


def _check_installed() -> None:
    try:
        import shiny  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise DemoUnavailable(
            f"the demo needs the optional packages of the demo extra ({exc.name} is missing): "
            'pip install -e ".[demo]"'
        ) from None


def _warm() -> None:
    """Load the engine and the drawing code now, before the class opens the page, so the
    first run does not wait for them."""
    import matplotlib.figure  # noqa: F401

    from .. import stream  # noqa: F401


def serve(
    files: Sequence[str | Path] = (),
    host: str = "127.0.0.1",
    port: int = 8000,
    ready: Callable[[str, list[Preset]], None] | None = None,
) -> None:
    """Serve the demo on ``host:port`` (port 0: a free one) until interrupted; ``ready(url,
    presets)`` is called once the port listens, with the presets (a file that did not load
    is one with its problems)."""
    _check_installed()
    import uvicorn

    from .app import make_app
    from .presets import presets

    found = presets(files)
    app = make_app(found)
    _warm()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.listen(128)
    actual = listening.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    if ready is not None:  # the socket already listens: a browser that comes now waits
        ready(f"http://{shown}:{actual}/", found)
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
