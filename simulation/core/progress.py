"""Progress of long work, drawn by tqdm.auto: a bar on a terminal, a widget in a notebook.

A bar is drawn only where somebody watches. It is silent when asked (``quiet``) and when
standard error is neither a terminal nor a notebook's (a pipe, a file, a CI log), where a bar
would leave a line at every redraw. Work reports through a plain callback,
``progress(done, total)``, so the library's functions take any callable and know nothing of
tqdm; :func:`counter` makes the callback that draws the bar.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

#: ``progress(done, total)``: called at the start (done 0) and as the work advances
Progress = Callable[[int, int], None]

#: bars on the screen now, closed by :func:`close_all` when the work is interrupted
_OPEN: list[Any] = []

#: seconds between redraws at most: a bar never floods a slow terminal
REDRAW_SECONDS = 0.5


def open_bar(total: int, description: str, unit: str, leave: bool = True) -> Any:
    """A tqdm.auto bar on standard error, drawn only where somebody watches (see above)."""
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        desc=description,
        unit=unit,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=REDRAW_SECONDS,
        leave=leave,
        disable=None,  # off when standard error is not a terminal; on in a notebook
    )
    _OPEN.append(bar)
    return bar


def close(bar: Any) -> None:
    """Close ``bar`` (its last state stays on the screen if it was made to stay)."""
    if bar in _OPEN:
        _OPEN.remove(bar)
    bar.close()


def close_all() -> bool:
    """Close every open bar, so that a message after an interrupt starts on a line of its
    own; True if any was open."""
    had = bool(_OPEN)
    for bar in list(_OPEN):
        close(bar)
    return had


def counter(description: str, unit: str = "run", quiet: bool = False) -> Progress | None:
    """A ``progress(done, total)`` callback that draws a bar of ``unit``s done of ``total``,
    from its first call (done 0, as work starts) to its last (done == total, which closes
    it); None when ``quiet``."""
    if quiet:
        return None
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(open_bar(total, description, unit))
        bar = bars[0]
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            close(bar)

    return progress
