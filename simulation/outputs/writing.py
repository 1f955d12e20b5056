"""Writing output files safely: checked destinations, strict JSON, atomic replacement.

Every file the package writes (summaries, manifests, series, tables, reports, figures, the
fitted values calibration writes into scenario files) goes through here:

- :func:`check_output_directory` and :func:`check_output_file` refuse a destination that
  cannot be written *before* a run starts (an empty path, an existing file where a directory
  is wanted, a folder that cannot be created or written), so a long run is not lost at the end.
  They raise :class:`~simulation.core.errors.InputError` naming the field (``out`` unless told).
- :func:`json_text` is strict JSON: a quantity that is undefined in a run (a mean wait when
  nobody was decided, a halt day when no halt came) is NaN in Python and ``null`` in the file,
  never the ``NaN``/``Infinity`` tokens that strict JSON readers refuse.
- :func:`atomic_write_text`, :func:`atomic_write_bytes` and :func:`atomic_path` write to a
  temporary name in the same directory and rename it onto the final name only once the
  file is complete, so a reader (or a resumed run) sees the old file or the new one, never half
  of one, and a writer that fails leaves the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import InputError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_directory",
    "check_output_file",
    "check_replaceable_file",
    "finite_json",
    "json_default",
    "json_text",
    "write_json",
]


# ------------------------------------------------------------------------------ checks


def _as_path(path: str | os.PathLike[str], field: str, origin: str, what: str) -> Path:
    if path is None or (isinstance(path, str) and not path.strip()):
        raise InputError(origin, [(field, f"must name a {what}, got {path!r}")])
    return Path(path)


def _probe(directory: Path, field: str, origin: str) -> None:
    """Create ``directory`` (and its parents) and a temporary file in it, then remove it."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            origin, [(field, f"cannot create the directory {str(directory)!r}: {reason}")]
        ) from None
    probe = directory / f".write-check-{secrets.token_hex(6)}.tmp"
    try:
        with open(probe, "xb"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            origin, [(field, f"cannot write in the directory {str(directory)!r}: {reason}")]
        ) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def check_output_directory(
    directory: str | os.PathLike[str], field: str = "out", origin: str = "output"
) -> Path:
    """The directory as a Path, created if need be, once it is known that files can be
    written in it; an :class:`InputError` naming ``field`` otherwise (an empty path, an
    existing file, a directory that cannot be created or written)."""
    path = _as_path(directory, field, origin, "directory")
    if path.exists() and not path.is_dir():
        raise InputError(origin, [(field, f"{str(path)!r} is an existing file; give a directory")])
    _probe(path, field, origin)
    return path


def check_output_file(
    file: str | os.PathLike[str], field: str = "out", origin: str = "output"
) -> Path:
    """The file as a Path, once it is known that it can be written (its directory created if
    need be); an :class:`InputError` naming ``field`` otherwise (an empty path, an existing
    directory, a read-only file, a directory that cannot be created or written)."""
    path = _as_path(file, field, origin, "file")
    if path.is_dir():
        raise InputError(origin, [(field, f"{str(path)!r} is a directory; give a file name")])
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(origin, [(field, f"{str(path)!r} is read-only")])
    _probe(path.parent, field, origin)
    return path


def check_replaceable_file(
    file: str | os.PathLike[str], field: str, origin: str = "output"
) -> Path:
    """An existing file that is to be rewritten in place (calibration's scenario files): it
    must exist, be writable, and its directory must take the temporary file."""
    path = _as_path(file, field, origin, "file")
    if not path.is_file():
        raise InputError(origin, [(field, f"{str(path)!r} is not an existing file")])
    return check_output_file(path, field, origin)


# ------------------------------------------------------------------------------ JSON


def json_default(value: Any) -> Any:
    """What :func:`json.dumps` cannot write by itself: numpy scalars and arrays, dates."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite number (NaN, +-inf), however nested, replaced by None
    and numpy scalars and arrays turned into Python numbers and lists."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, Mapping):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [finite_json(item) for item in value]
    return value


def json_text(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text of ``value`` (non-finite numbers as ``null``), ending in a newline."""
    return json.dumps(finite_json(value), indent=indent, default=json_default, allow_nan=False) + (
        "\n"
    )


def write_csv(path: str | os.PathLike[str], frame: Any, index: bool = False) -> Path:
    """``frame`` (a DataFrame) as CSV at ``path``, atomically (floats as Python writes them:
    exact)."""
    with atomic_path(path) as temporary:
        frame.to_csv(temporary, index=index)
    return Path(path)


def write_json(path: str | os.PathLike[str], value: Any, indent: int | None = 2) -> Path:
    """Write ``value`` as strict JSON (:func:`json_text`) to ``path``, atomically."""
    return atomic_write_text(path, json_text(value, indent))


# ------------------------------------------------------------------------------ atomic writes


def _final(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    return path.resolve() if path.is_symlink() else path  # write through a link, keep the link


def _temporary_beside(final: Path, keep_suffix: bool) -> Path:
    token = secrets.token_hex(6)
    if keep_suffix:  # for writers that read the format from the name (savefig)
        return final.with_name(f".{final.stem}.{token}.tmp{final.suffix}")
    return final.with_name(f".{final.name}.{token}.tmp")


def _commit(temporary: Path, final: Path) -> None:
    """Flush ``temporary`` to disk, give it the mode of the file it replaces, rename it."""
    with contextlib.suppress(OSError), open(temporary, "rb+") as handle:
        os.fsync(handle.fileno())
    with contextlib.suppress(OSError):
        os.chmod(temporary, stat.S_IMODE(os.stat(final).st_mode))
    os.replace(temporary, final)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], keep_suffix: bool = False) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that takes a file name
    (``DataFrame.to_parquet``, ``Figure.savefig``); when the block ends normally the file is
    renamed onto ``path``, and when it raises the temporary file is removed and ``path`` left
    as it was. ``keep_suffix`` ends the temporary name with ``path``'s suffix. The directory
    must exist."""
    final = _final(path)
    temporary = _temporary_beside(final, keep_suffix)
    try:
        yield temporary
        if not temporary.exists():
            raise FileNotFoundError(f"the writer did not create {temporary}")
        _commit(temporary, final)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory."""
    final = Path(path)
    with atomic_path(final) as temporary, open(temporary, "xb") as handle:
        handle.write(data)
    return final


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same directory."""
    final = Path(path)
    with atomic_path(final) as temporary, open(temporary, "x", encoding=encoding) as handle:
        handle.write(text)
    return final
