"""Run records: the JSON written beside every output (``docs/conventions.md``)."""
from __future__ import annotations

import json
import platform
import sys
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from .io.common import atomic_output


def versions() -> dict:
    out = {"python": platform.python_version()}
    for name in ("inrtomo", "torch", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_record(path, command: list[str] | None = None, **fields) -> None:
    """Write ``fields`` plus the command line (default ``sys.argv``) and versions as JSON,
    atomically."""
    record = {"command": list(sys.argv if command is None else command), "versions": versions(), **fields}
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(_plain(record), indent=2) + "\n")
