"""Coordinate networks: points ``(..., 3)`` in voxels ``(x, y, z)`` (origin at the volume
centre) → density ``(...)`` in the units of a voxel volume (projections are density × path
length in voxels). Fields know the box they live in, nothing about the geometry."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .encodings import FourierFeatures, HashGrid, PositionalEncoding


class _BoxField(nn.Module):
    """What every field shares: voxel coordinates in, ``[−1, 1]³`` to the network, and
    its raw output turned into density.

    Args:
        shape: the volume ``(nz, ny, nx)`` the field covers; points are scaled to ``[−1, 1]³``.
        positive: softplus output (density ≥ 0); otherwise linear.
        scale: the density the raw output 1 stands for (training sets it from the data),
            so training starts at the right order of magnitude.
    """

    def __init__(self, shape, positive: bool, scale: float):
        super().__init__()
        nz, ny, nx = shape
        self.register_buffer("extent", torch.tensor([nx / 2, ny / 2, nz / 2]))
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.positive = positive

    def _unit(self, points: torch.Tensor) -> torch.Tensor:
        return points / self.extent.to(points.dtype)

    def _density(self, raw: torch.Tensor) -> torch.Tensor:
        return self.scale * (F.softplus(raw) if self.positive else raw)


def mlp(inputs: int, hidden: int, layers: int, outputs: int = 1) -> nn.Sequential:
    """``layers`` hidden ReLU layers of width ``hidden``, then a linear output layer."""
    sizes = [inputs] + [hidden] * layers
    blocks = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        blocks += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Linear(sizes[-1], outputs))


class Field(_BoxField):
    """``encoding → MLP → density``; ``encoding`` is a module from :mod:`.encodings` (with
    ``out_dim``), ``hidden`` and ``layers`` the width and number of hidden ReLU layers;
    ``outputs`` > 1 gives that many densities per point (``(..., outputs)``); ``shape``,
    ``positive``, ``scale`` as for every field (:class:`_BoxField`)."""

    def __init__(self, encoding: nn.Module, shape, hidden: int = 64, layers: int = 2, positive: bool = True,
                 scale: float = 1.0, outputs: int = 1):
        super().__init__(shape, positive, scale)
        self.encoding = encoding
        self.mlp = mlp(encoding.out_dim, hidden, layers, outputs)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        raw = self.mlp(self.encoding(self._unit(points)))
        return self._density(raw.squeeze(-1) if raw.shape[-1] == 1 else raw)


class Siren(_BoxField):
    """SIREN (Sitzmann et al. 2020): sine layers ``sin(ω₀(Wx + b))`` with their
    initialisation, then a linear layer; same interface as :class:`Field`."""

    def __init__(self, shape, hidden: int = 128, layers: int = 3, omega: float = 30.0, positive: bool = True,
                 scale: float = 1.0):
        super().__init__(shape, positive, scale)
        self.omega = omega
        sizes = [3] + [hidden] * layers
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                bound = 1 / layer.in_features if i == 0 else math.sqrt(6 / layer.in_features) / omega
                layer.weight.uniform_(-bound, bound)
        self.out = nn.Linear(hidden, 1)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        h = self._unit(points)
        for layer in self.layers:
            h = torch.sin(self.omega * layer(h))
        return self._density(self.out(h).squeeze(-1))


FIELDS = ("hashgrid", "fourier", "positional", "siren")
LEARNING_RATES = {"hashgrid": 3e-2, "fourier": 3e-3, "positional": 3e-2, "siren": 3e-4}
"""Adam's learning rate that trains each field well: a hash grid's table entries each see
few points and want a large rate, the MLP fields a small one (benchmarks/RESULTS.md)."""


def make_field(name: str, shape, *, scale: float = 1.0, positive: bool = True, seed: int = 0,
               sigma: float = 1.0, resolution: float = 1.0) -> nn.Module:
    """A field by name with the package's default sizes for a ``shape`` volume; ``sigma``
    is the Fourier features' scale (``fourier`` only, :class:`.FourierFeatures`),
    ``resolution`` the hash grid's finest level in cells per voxel along the volume's
    largest side (``hashgrid`` only)."""
    with torch.random.fork_rng(devices=[]):  # seeds the layers' initial weights, leaves the global RNG alone
        torch.manual_seed(seed)
        return _build(name, shape, scale, positive, sigma, resolution, torch.Generator().manual_seed(seed))


def make_encoding(name: str, shape, *, sigma: float = 1.0, resolution: float = 1.0,
                  generator: torch.Generator | None = None) -> nn.Module:
    """The encoding of points ``(..., 3)`` that field ``name`` uses for a ``shape`` volume
    (``hashgrid``, ``fourier`` or ``positional``; ``sigma`` and ``resolution`` as for
    :func:`make_field`)."""
    if name == "hashgrid":
        base = max(4, max(shape) // 8)
        return HashGrid(finest_resolution=max(base, round(max(shape) * resolution)), base_resolution=base,
                        generator=generator)
    if name == "fourier":
        return FourierFeatures(128, sigma, generator)
    if name == "positional":
        return PositionalEncoding(6)
    raise ValueError(f"field {name!r} has no encoding; choose from hashgrid, fourier, positional")


def _build(name: str, shape, scale: float, positive: bool, sigma: float, resolution: float,
           generator: torch.Generator) -> nn.Module:
    if name == "siren":
        return Siren(shape, positive=positive, scale=scale)
    if name not in FIELDS:
        raise ValueError(f"unknown field {name!r}; choose from {', '.join(FIELDS)}")
    encoding = make_encoding(name, shape, sigma=sigma, resolution=resolution, generator=generator)
    hidden, layers = (32, 2) if name == "hashgrid" else (128, 3)
    return Field(encoding, shape, hidden=hidden, layers=layers, positive=positive, scale=scale)
