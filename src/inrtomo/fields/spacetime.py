"""Space-time fields for dynamic samples (seed 001): points ``(..., 3)`` in voxels and
times ``(...)`` (broadcast to the points; acquisition time scaled to [0, 1], 0 = first
view) → density ``(...)``. ``clean(points)`` is the sample at t = 0, ``contamination(points,
t)`` what has grown on it by t: the volume at t less the clean one."""
from __future__ import annotations

import torch
from torch import nn

from .encodings import HashGrid, PositionalEncoding
from .field import Field, _BoxField, make_encoding, make_field, mlp

DYNAMIC_MODELS = ("spacetime", "decomposed")
SPATIAL_MLP = (64, 2)
"""Width and depth of the spacetime model's MLP on an encoding of space other than the NeRF one."""


class _SpaceTimeField(nn.Module):
    def clean(self, points: torch.Tensor) -> torch.Tensor:
        return self(points, torch.zeros((), dtype=points.dtype, device=points.device))

    def contamination(self, points: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        return self(points, times) - self.clean(points)

    def at(self, t: float, part: str = "volume"):
        """The ``volume`` or the ``contamination`` at time ``t`` as a field of points only."""
        method = self.forward if part == "volume" else self.contamination
        return lambda points: method(points, torch.full((), float(t), dtype=points.dtype, device=points.device))


class SpaceTime(_SpaceTimeField, _BoxField):
    """Seed 001's model: one ReLU MLP (``hidden`` wide, ``layers`` deep) on the NeRF
    encoding of all four coordinates ``(x, y, z, t)``, each scaled to [−1, 1]; nothing
    ties t = 0 to a clean sample but the data. With ``spatial`` (an encoding of points in
    ``[−1, 1]³`` from :mod:`.encodings`, e.g. a :class:`.HashGrid` fine enough for atoms)
    the MLP sees that encoding of ``(x, y, z)`` beside the NeRF encoding of t alone."""

    def __init__(self, shape, n_frequencies: int = 6, hidden: int = 128, layers: int = 3, scale: float = 1.0,
                 spatial: nn.Module | None = None):
        super().__init__(shape, True, scale)
        self.spatial = spatial
        self.encoding = PositionalEncoding(n_frequencies, dims=4 if spatial is None else 1)
        self.mlp = mlp(self.encoding.out_dim + (spatial.out_dim if spatial is not None else 0), hidden, layers)

    def forward(self, points: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        times = torch.as_tensor(times, dtype=points.dtype, device=points.device).expand(points.shape[:-1])
        unit, t = self._unit(points), (2 * times - 1)[..., None]
        if self.spatial is None:
            features = self.encoding(torch.cat([unit, t], -1))
        else:
            features = torch.cat([self.spatial(unit), self.encoding(t)], -1)
        return self._density(self.mlp(features).squeeze(-1))


class Decomposed(_SpaceTimeField):
    """A static field S(x) plus contamination ``D(x, t) = Σₖ aₖ(x) bₖ(t)``: non-negative
    amplitudes ``aₖ`` (softplus, one small hash-grid field with ``basis`` outputs) on fixed
    temporal bases ``bₖ`` with ``bₖ(0) = 0``, so that D ≥ 0 and D(x, 0) = 0 by
    construction. ``monotone``: ramps ``bₖ(t) = clamp(K t − k, 0, 1)`` (contamination only
    grows); otherwise hats of width 1/K centred at ``(k + 1)/K``."""

    def __init__(self, static: nn.Module, shape, basis: int = 3, monotone: bool = True, scale: float = 1.0,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.static = static
        encoding = HashGrid(levels=6, log2_table=14, base_resolution=max(4, max(shape) // 8),
                            finest_resolution=max(shape), generator=generator)
        self.amplitudes = Field(encoding, shape, hidden=32, layers=1, scale=scale, outputs=basis)
        with torch.no_grad():  # start with almost no contamination: softplus(−4) ≈ 0.02
            self.amplitudes.mlp[-1].bias.fill_(-4.0)
        self.basis, self.monotone = basis, monotone

    def temporal_basis(self, times: torch.Tensor) -> torch.Tensor:
        """``bₖ(t)``, ``(..., basis)``; all zero at t = 0."""
        k = torch.arange(self.basis, dtype=times.dtype, device=times.device)
        scaled = self.basis * times[..., None]
        if self.monotone:
            return (scaled - k).clamp(0, 1)
        return (1 - (scaled - k - 1).abs()).clamp(min=0)

    def clean(self, points: torch.Tensor) -> torch.Tensor:
        return self.static(points)

    def contamination(self, points: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        times = torch.as_tensor(times, dtype=points.dtype, device=points.device).expand(points.shape[:-1])
        return (self.amplitudes(points) * self.temporal_basis(times)).sum(-1)

    def forward(self, points: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        return self.clean(points) + self.contamination(points, times)


def make_spacetime_field(model: str, field: str, shape, *, scale: float = 1.0, seed: int = 0, sigma: float = 1.0,
                         resolution: float = 1.0, monotone: bool = True) -> nn.Module:
    """A space-time model by name (:data:`DYNAMIC_MODELS`) whose space follows the static
    ``field`` (:func:`inrtomo.fields.make_field`; ``sigma`` and ``resolution`` as there):
    ``spacetime`` is seed 001's 4-D network with ``positional`` and otherwise that field's
    encoding of space beside an encoding of time (:class:`SpaceTime`); ``decomposed`` uses
    the field for S."""
    if model == "spacetime":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if field == "positional":
                return SpaceTime(shape, scale=scale)
            spatial = make_encoding(field, shape, sigma=sigma, resolution=resolution,
                                    generator=torch.Generator().manual_seed(seed))
            return SpaceTime(shape, hidden=SPATIAL_MLP[0], layers=SPATIAL_MLP[1], scale=scale, spatial=spatial)
    if model == "decomposed":
        static = make_field(field, shape, scale=scale, seed=seed, sigma=sigma, resolution=resolution)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 1)
            return Decomposed(static, shape, monotone=monotone, scale=scale,
                              generator=torch.Generator().manual_seed(seed + 1))
    raise ValueError(f"unknown dynamic model {model!r}; choose from {', '.join(DYNAMIC_MODELS)}")
