"""Ctrl-C that stops long work promptly, and never in the middle of putting things away.

Ctrl-C raises KeyboardInterrupt in the main thread wherever Python code is running. Two
things get in its way. pydantic-core swallows an exception raised inside Python code it
calls while it serialises a tagged union (a schedule's discriminator, for instance): it
turns it into a warning and carries on, so a Ctrl-C landing there is lost. And a Ctrl-C in
the middle of stopping (terminating worker processes, writing a commit record) would leave
the stopping half done: workers running on, a chunk half written.

:func:`handling` (the command line wraps every command in it) installs a handler that notes
every Ctrl-C before raising; :func:`checkpoint`, called after every simulation, raises again
if one was noted, so a swallowed Ctrl-C takes effect within one run. :func:`deferred` makes
a short block (storing a chunk, stopping workers) finish first: a Ctrl-C inside it is noted
and raised when it ends, or, in a clean-up after work has already stopped, only noted.
Worker processes ignore Ctrl-C (:func:`ignore_in_worker`): the process that started them
stops them.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["checkpoint", "deferred", "handling", "ignore_in_worker", "stopping"]


class _State:
    installed = False  # our handler is in place
    deferring = 0  # blocks in which a Ctrl-C waits for the block to end
    arrived = 0  # Ctrl-Cs seen while our handler was in place
    stopping = False  # the work has stopped: what is left is saying so


_state = _State()


def _on_interrupt(signum, frame) -> None:
    _state.arrived += 1
    if _state.deferring == 0 and not _state.stopping:
        raise KeyboardInterrupt


def _install() -> object | None:
    """Put our handler in place of Python's default one; what it replaced, or None if
    it is in place already or cannot be (not the main thread, another handler set)."""
    if _state.installed or threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return None
    previous = signal.signal(signal.SIGINT, _on_interrupt)
    _state.installed = True
    return previous


def _uninstall(previous: object) -> None:
    signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]
    _state.installed = False
    _state.arrived = 0
    _state.stopping = False


@contextmanager
def handling() -> Iterator[None]:
    """While the block runs, a Ctrl-C that some library swallowed is raised again at the
    next :func:`checkpoint`. Does nothing outside the main thread, or where a SIGINT
    handler other than Python's default is set (a notebook kernel's, say)."""
    previous = _install()
    try:
        yield
    finally:
        if previous is not None:
            _uninstall(previous)


def stopping() -> None:
    """The work has stopped after a Ctrl-C: until :func:`handling` ends, more Ctrl-C is only
    noted, so that the message saying what was kept is not cut short."""
    _state.stopping = True


def checkpoint() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C arrived (under :func:`handling`) and was lost."""
    if _state.installed and _state.arrived and _state.deferring == 0:
        raise KeyboardInterrupt


@contextmanager
def deferred(reraise: bool = True) -> Iterator[None]:
    """Let the block finish before a Ctrl-C pressed during it takes effect: raised when the
    block ends normally if ``reraise``; only noted (for :func:`checkpoint`) otherwise, as in
    a clean-up that runs because the work already stopped. Blocks must be short."""
    previous = _install()
    before = _state.arrived
    _state.deferring += 1
    try:
        yield
    finally:
        _state.deferring -= 1
        arrived = _state.arrived > before
        if previous is not None:
            _uninstall(previous)
    if arrived and reraise:
        raise KeyboardInterrupt


def ignore_in_worker() -> None:
    """In a worker process: Ctrl-C at a terminal reaches the whole process group, and the
    process that started the workers decides what stops, so the worker ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
