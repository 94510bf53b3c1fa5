"""Encodings of points ``(..., 3)`` in ``[−1, 1]³`` (``x, y, z``; positional also
``(..., 4)`` with time, or time alone ``(..., 1)``) into feature vectors
``(..., out_dim)``, for the coordinate networks of :mod:`.field`."""
from __future__ import annotations

import math

import torch
from torch import nn


class FourierFeatures(nn.Module):
    """Random Fourier features ``[sin 2πBp, cos 2πBp]`` with ``B ~ N(0, σ²)`` fixed at
    construction (seeded by ``generator``); σ in cycles per unit of the ``[−1, 1]`` box."""

    def __init__(self, n_features: int = 128, sigma: float = 1.0, generator: torch.Generator | None = None):
        super().__init__()
        self.register_buffer("matrix", torch.randn(3, n_features, generator=generator) * sigma)
        self.out_dim = 2 * n_features

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        angles = 2 * math.pi * points @ self.matrix.to(points.dtype)
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class PositionalEncoding(nn.Module):
    """NeRF's encoding ``[p, sin(2^k π p), cos(2^k π p)]`` for ``k < n_frequencies`` of
    points with ``dims`` coordinates (3; 4 for space-time; 1 for time alone)."""

    def __init__(self, n_frequencies: int = 8, dims: int = 3):
        super().__init__()
        self.register_buffer("frequencies", math.pi * 2.0 ** torch.arange(n_frequencies))
        self.out_dim = dims * (1 + 2 * n_frequencies)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        angles = (points[..., None] * self.frequencies.to(points.dtype)).flatten(-2)
        return torch.cat([points, torch.sin(angles), torch.cos(angles)], dim=-1)


class HashGrid(nn.Module):
    """Multiresolution hash encoding (Müller et al. 2022) in plain torch.

    ``levels`` grids from ``base_resolution`` to ``finest_resolution`` cells per axis in a
    geometric series; each holds ``2**log2_table`` learnable ``features``-vectors, indexed
    directly while a level's corners fit and by the spatial hash otherwise; features are
    interpolated trilinearly and concatenated over levels. :meth:`reveal` switches the
    finer levels on gradually (coarse to fine; all on by default).
    """

    PRIMES = (1, 2654435761, 805459861)

    def __init__(self, levels: int = 8, log2_table: int = 15, features: int = 2, base_resolution: int = 8,
                 finest_resolution: int = 64, generator: torch.Generator | None = None):
        super().__init__()
        growth = (finest_resolution / base_resolution) ** (1 / max(levels - 1, 1))
        self.resolutions = [int(math.floor(base_resolution * growth**level)) for level in range(levels)]
        self.table_size = 2**log2_table
        self.tables = nn.Parameter((torch.rand(levels, self.table_size, features, generator=generator) * 2 - 1) * 1e-4)
        self.out_dim = levels * features
        self.register_buffer("weights", torch.ones(levels), persistent=False)

    def reveal(self, fraction: float) -> None:
        """Weigh the levels for ``fraction`` (0 to 1) of the way from the coarsest level
        alone to all of them: each finer level fades in linearly as the fraction passes it
        (a level with weight 0 gives zero features)."""
        active = min(max(fraction, 0.0), 1.0) * (len(self.resolutions) - 1)
        self.weights.copy_((active - torch.arange(len(self.resolutions)) + 1).clamp(0, 1))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        unit = ((points.reshape(-1, 3).float() + 1) / 2).clamp(0, 1)
        out = []
        for level, resolution in enumerate(self.resolutions):
            scaled = unit * resolution
            lower = scaled.floor().clamp(max=resolution - 1)
            frac = scaled - lower
            weights = torch.stack([1 - frac, frac], dim=-1)  # (P, 3, 2): per axis, lower and upper corner
            cells = lower.long()[..., None] + torch.arange(2, device=points.device)  # (P, 3, 2)
            side = resolution + 1
            if side**3 <= self.table_size:  # dense: every corner has its own entry
                x, y, z = cells[:, 0], cells[:, 1] * side, cells[:, 2] * side * side
                index = (x[:, :, None, None] + y[:, None, :, None] + z[:, None, None, :])
            else:  # spatial hash, XOR of coordinates times large primes
                x, y, z = (cells[:, a] * prime for a, prime in enumerate(self.PRIMES))
                index = (x[:, :, None, None] ^ y[:, None, :, None] ^ z[:, None, None, :]) & (self.table_size - 1)
            w = weights[:, 0, :, None, None] * weights[:, 1, None, :, None] * weights[:, 2, None, None, :]
            values = _Gather.apply(self.tables[level], index.reshape(-1)).reshape(len(unit), 8, -1)
            out.append((w.reshape(len(unit), 8, 1) * values).sum(1) * self.weights[level].to(values.dtype))
        return torch.cat(out, -1).reshape(*points.shape[:-1], -1).to(points.dtype)


class _Gather(torch.autograd.Function):
    """``table[index]`` whose backward sums gradients with ``bincount`` on the CPU (several
    times faster there than the scatter behind ``index_select``'s backward)."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index)
        ctx.rows = table.shape[0]
        return table.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (index,) = ctx.saved_tensors
        if grad.is_cuda:
            summed = torch.zeros(ctx.rows, grad.shape[1], dtype=grad.dtype, device=grad.device).index_add_(0, index, grad)
        else:
            summed = torch.stack([torch.bincount(index, weights=g, minlength=ctx.rows) for g in grad.unbind(1)], 1)
        return summed.to(grad.dtype), None
