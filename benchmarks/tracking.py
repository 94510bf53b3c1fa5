"""Watching an INR train without timing the watching: shared by the INR benchmarks."""
from __future__ import annotations

import math
import time

from inrtomo import metrics
from inrtomo.recon.inr import sample_grid


class SsimTracker:
    """An ``on_step`` callback for :func:`inrtomo.recon.inr.train_inr` that samples the field
    every ``every`` steps (0: never) and records ``(training seconds, ssim)`` against
    ``truth`` in :attr:`curve`; the sampling is left out of the training clock. With
    ``until``, tracking stops once the ssim reaches it. Create it just before training."""

    def __init__(self, truth, every: int, until: float = math.inf):
        self.truth, self.every, self.until = truth, every, until
        self.curve: list[tuple[float, float]] = []
        self._start, self._paused = time.perf_counter(), 0.0

    def elapsed(self) -> float:
        """Seconds since creation, less the time spent tracking."""
        return time.perf_counter() - self._start - self._paused

    def __call__(self, step: int, net) -> None:
        if not self.every or step % self.every or (self.curve and self.curve[-1][1] >= self.until):
            return
        pause = time.perf_counter()
        self.curve.append((pause - self._start - self._paused,
                           metrics.ssim(sample_grid(net, self.truth.shape), self.truth)))
        self._paused += time.perf_counter() - pause

    def seconds_to(self, ssim: float) -> float:
        """Training seconds at which the tracked ssim first reached ``ssim`` (NaN: never)."""
        return next((t for t, q in self.curve if q >= ssim), math.nan)
