"""Progress bars: a live bar on a terminal, a plain line every few seconds otherwise
(log files, batch jobs)."""
from __future__ import annotations

import sys

from tqdm import tqdm


class _Lines:
    """A file for tqdm that turns its carriage-return redraws into whole lines."""

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            sys.stderr.write(text + "\n")

    def flush(self) -> None:
        sys.stderr.flush()


def progress(iterable=None, *, total: int | None = None, desc: str = "", unit: str = "it", quiet: bool = False):
    """``tqdm`` over ``iterable`` that suits where stderr goes; ``quiet`` hides it."""
    interactive = sys.stderr.isatty()
    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=not interactive, disable=quiet,
                file=None if interactive else _Lines(), mininterval=0.1 if interactive else 5.0,
                delay=0 if interactive else 5.0, dynamic_ncols=interactive)
