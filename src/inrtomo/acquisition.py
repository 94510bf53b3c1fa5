"""Acquisition schemes: the order in which a microscope records the tilts.

Views always stay in file order; a scheme only sets each view's acquisition time ``t``
(``docs/conventions.md``). Times are the acquisition rank normalised to [0, 1].
"""
from __future__ import annotations

import numpy as np

from .errors import InputError

SCHEMES = ("sequential", "bidirectional", "dose-symmetric", "golden-ratio", "four-pass")
GOLDEN = (np.sqrt(5) - 1) / 2
"""1/φ, the golden-ratio step of the ``golden-ratio`` scheme."""
PASSES = 4
"""Sweeps across the range of the ``four-pass`` scheme."""


def acquisition_order(angles: np.ndarray, scheme: str) -> np.ndarray:
    """Indices of ``angles`` in the order they are recorded.

    * ``sequential``: from the most negative tilt to the most positive.
    * ``bidirectional``: from the tilt nearest 0° up to the maximum, then from the
      next tilt below the start down to the minimum.
    * ``dose-symmetric`` (Hagen): from the tilt nearest 0°, alternating sides, moving
      outwards, so that high tilts come last.
    * ``golden-ratio``: the i-th tilt from the most negative (i = 0, 1, …) is recorded
      in ascending order of the fractional part of i/φ, so that every stretch of the
      acquisition samples the whole tilt range (as in dynamic tomography): a sample that
      changes is seen changing from every direction.
    * ``four-pass``: four sweeps across the range in alternating directions, each taking
      every fourth tilt (the i-th from the most negative in sweep i mod 4), so that every
      half of the acquisition samples the whole range while the stage moves four tilt
      steps per view (golden-ratio order jumps by up to the whole range).
    """
    angles = np.asarray(angles, dtype=np.float64)
    by_angle = np.argsort(angles, kind="stable")
    if scheme == "sequential":
        return by_angle
    if scheme == "golden-ratio":
        return by_angle[np.argsort((np.arange(angles.size) * GOLDEN) % 1.0, kind="stable")]
    if scheme == "four-pass":
        i = np.arange(angles.size)
        sweep = i % PASSES
        return by_angle[np.lexsort((np.where(sweep % 2, -i, i), sweep))]
    start = int(np.argmin(np.abs(angles[by_angle])))
    if scheme == "bidirectional":
        return np.concatenate([by_angle[start:], by_angle[:start][::-1]])
    if scheme == "dose-symmetric":
        order = [by_angle[start]]
        above, below = list(by_angle[start + 1 :]), list(by_angle[:start][::-1])
        while above or below:
            for side in (above, below):
                if side:
                    order.append(side.pop(0))
        return np.array(order)
    raise InputError(f"unknown acquisition scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")


def scheme_times(angles: np.ndarray, scheme: str) -> np.ndarray:
    """Per-view acquisition times in [0, 1] (file order) for ``scheme``."""
    order = acquisition_order(angles, scheme)
    times = np.empty(len(order))
    times[order] = np.arange(len(order)) / max(len(order) - 1, 1)
    return times


def unseen_range(angles: np.ndarray, times: np.ndarray) -> float:
    """The widest stretch of the tilt range, in degrees, that the first or the last half of
    the acquisition (by ``times``) leaves unseen: about half the range for a single sweep
    (sequential, bidirectional, dose-symmetric), a few tilt steps for ``four-pass`` and
    ``golden-ratio``. A space-time model separates growth from structure best where every
    stretch of time sees the whole range (docs/dynamic.md)."""
    angles = np.asarray(angles, dtype=np.float64)
    order = np.argsort(np.asarray(times), kind="stable")
    n = angles.size
    ends = [angles.min(), angles.max()]
    return max(float(np.diff(np.sort(np.r_[ends, angles[half]])).max())
               for half in (order[: (n + 1) // 2], order[n // 2 :])) if n > 1 else 0.0


def describe_scheme(angles: np.ndarray, times: np.ndarray) -> str:
    """Name the scheme that ``times`` follow, or describe the order when none matches."""
    angles, times = np.asarray(angles), np.asarray(times)
    order = np.argsort(times, kind="stable")
    if len(angles) > 2 and np.unique(times).size < len(times):
        return "unknown (repeated acquisition times)"
    for scheme in SCHEMES:
        if np.array_equal(order, acquisition_order(angles, scheme)):
            return scheme
    if np.array_equal(order, np.argsort(-angles, kind="stable")):
        return "sequential (positive to negative)"
    return "custom (see the times)"
