"""SIRT: the simultaneous iterative reconstruction technique with the standard weights.

.. math:: x_{k+1} = x_k + C\\,A^\\top R\\,(b - A x_k), \\quad R = 1/(A\\,1),\\; C = 1/(A^\\top 1)

(row and column sums of the projector; zero where a sum is zero), optionally clipped to
``x ≥ 0`` after every step, as ASTRA's SIRT with ``MinConstraint = 0``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..progress import progress
from ..projector import Projector


@dataclass
class SirtResult:
    """``volume`` ``(nz, ny, nx)``; ``residuals``: ‖b − A x‖ / ‖b‖ of the iterate each
    iteration started from."""

    volume: torch.Tensor
    residuals: list[float] = field(default_factory=list)
    stopped_early: bool = False

    @property
    def iterations(self) -> int:
        return len(self.residuals)


def _inverse(sums: torch.Tensor) -> torch.Tensor:
    return torch.where(sums > 1e-6 * sums.max(), 1 / sums, torch.zeros_like(sums))


@torch.no_grad()
def sirt(projector: Projector, images: torch.Tensor, iterations: int = 100, *, positivity: bool = True,
         tol: float = 0.0, x0: torch.Tensor | None = None, quiet: bool = False) -> SirtResult:
    """Reconstruct from ``images`` ``(n, ny_det, nx_det)`` (line-integral units).

    Args:
        iterations: the most iterations to run.
        positivity: clip negative voxels to 0 after each iteration.
        tol: stop once the relative residual improves by less than ``tol`` (relative to
            itself) in one iteration; 0 runs every iteration.
        x0: starting volume (default zeros).
    """
    b = images.to(projector.device, projector.dtype)
    row = _inverse(projector.A(torch.ones(projector.shape, dtype=b.dtype, device=b.device)))
    col = _inverse(projector.A_adjoint(torch.ones_like(b)))
    x = torch.zeros(projector.shape, dtype=b.dtype, device=b.device) if x0 is None else x0.to(b).clone()
    norm_b = torch.linalg.vector_norm(b)
    result = SirtResult(x)
    bar = progress(range(iterations), desc="SIRT", unit="it", quiet=quiet)
    for _ in bar:
        residual = b - projector.A(x)
        result.residuals.append(float(torch.linalg.vector_norm(residual) / norm_b))
        bar.set_postfix(residual=f"{result.residuals[-1]:.4g}", refresh=False)
        x += col * projector.A_adjoint(row * residual)
        if positivity:
            x.clamp_(min=0)
        if tol > 0 and len(result.residuals) > 1 and result.residuals[-2] - result.residuals[-1] < tol * result.residuals[-1]:
            result.stopped_early = True
            break
    bar.close()
    result.volume = x
    return result
