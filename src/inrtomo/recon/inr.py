"""Self-supervised INR reconstruction: fit a field to the measured pixels through the ray
integral of :mod:`inrtomo.render` (seed 000's method; poses learned with ``align``; a
space-time field for samples that change during acquisition with ``dynamic``, seed 001).

Each step draws random rays over all views and pixels, integrates the field along them
with stratified samples and takes an Adam step on the loss between predicted and measured
pixels (both divided by the data's mean, so losses and learning rates do not depend on the
data's units). A small random set of pixels is held out; training stops at the step
budget or when their loss has not improved for ``patience`` evaluations. Under torchrun
the processes share each step's batch (:mod:`inrtomo.distributed`).
"""
from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .. import distributed
from ..acquisition import unseen_range
from ..errors import InputError
from ..fields import DYNAMIC_MODELS, FIELDS, LEARNING_RATES, HashGrid, make_field, make_spacetime_field
from ..geometry import POSE_GROUPS, PoseParameters, Poses, detector_coordinates, voxel_centres
from ..io.common import atomic_output
from ..progress import progress
from ..render import ray_samples

LOSSES = ("auto", "smooth-l1", "mse", "poisson")
SMOOTH_L1_BETA = (3.0, 0.1)
"""smooth-l1's β (units of the data mean) at the start and the end of a static hash grid's
coarse-to-fine phase (poses fixed), geometric in between; the end value throughout
otherwise. Most pixels of a sparse sample are near zero, so while only the coarse levels
are on, the nearly absolute loss of β 0.1 fits them (a median) and can drive the whole
field to zero at low dose; a β of 3 fits a mean there first (benchmarks/RESULTS.md)."""
SPARSITY = (0.15, 0.01)
"""The sparsity prior of a static hash grid with fixed poses: its weight and the ε of
√(f/ρ + ε) (:attr:`INRConfig.sparsity`). Measured on 64³ phantoms under a ±45° wedge,
where it cleared the faint streaks that ssim punishes; 0.15 once it was taken at the ray
samples (benchmarks/RESULTS.md)."""
LOW_COUNTS = 3.0
"""Below this mean count of the pixels that counted any, a series of raw counts is fitted
with the Poisson loss (``auto``; a warning if smooth-l1 is asked for): with smooth-l1 the
64³ phantoms kept 0.93 of the mass at 5 counts, 0.65 at 2 and 0.45 at 1.4, with the Poisson
loss 0.95–1.00 (benchmarks/RESULTS.md)."""
PRECISIONS = ("float32", "bfloat16")
STEPS = 200
"""Most optimisation steps of a static sample (docs/inr.md)."""
DYNAMIC_DEFAULTS = {"spacetime": {"dynamic_weight": 0.1, "dynamic_pull": 0.25, "dynamic_start": 0, "steps": 600},
                    "decomposed": {"dynamic_weight": 0.001, "dynamic_pull": 1.0, "dynamic_start": 60, "steps": 300}}
"""Per space-time model: contamination penalty, its pull on the clean volume, static
warm-up and steps, chosen by measurement (docs/dynamic.md). The decomposition needs its
static part formed first and only a weak penalty; the 4-D network has no static part and
needs a stronger penalty instead, with a weak pull so that the clean volume is not drawn
toward the contamination of mid-acquisition. The 4-D network takes 600 steps: on the 64³
phantom cases it then keeps under a fifth of a static INR's layer on average in each case
(at 300 not on shifted views recorded in four passes, at 200 twice as much as at 300); the
decomposition was measured at 300."""
RAYS = 2048
"""Rays per step of a series large enough (:func:`rays_per_step`)."""
PASSES = 2.0
"""Most passes over the training pixels a default run makes (:func:`rays_per_step`)."""
HELD_OUT_MAX = 2**16
"""Most held-out pixels, so that evaluating them stays cheap on large series."""
POSE_RATES = {"axis": 0.2, "rotation": 0.02, "tilt": 0.02, "shift": 0.05, "out_of_plane": 0.02}
"""Default Adam step of each pose group (:data:`inrtomo.geometry.POSE_GROUPS`), in degrees
or pixels per step."""


@dataclass
class INRConfig:
    """Settings of an INR reconstruction."""

    field: str = ""
    """Network: hashgrid, fourier, positional or siren; "": hashgrid, or positional for the
    static part of a ``decomposed`` dynamic model (docs/dynamic.md)."""
    steps: int | None = None
    """Most optimisation steps; None: :data:`STEPS`, or the dynamic model's own
    (:data:`DYNAMIC_DEFAULTS`)."""
    rays_per_step: int = 0
    """Random pixels (rays) per step; 0: :data:`RAYS`, fewer for a small series of a static
    sample with fixed poses (:func:`rays_per_step`)."""
    samples_per_ray: int = 0
    """Stratified samples along each ray's chord through the volume; 0: the volume's
    largest size in voxels (about one sample per voxel crossed)."""
    learning_rate: float = 0.0
    """Adam's initial learning rate, with cosine decay to 5 % of it over ``steps``; 0: the
    field's own rate (:data:`inrtomo.fields.LEARNING_RATES`, chosen by measurement)."""
    loss: str = "auto"
    """auto (poisson for a series of raw counts below :data:`LOW_COUNTS` per counted
    pixel, else smooth-l1: :func:`choose_loss`), smooth-l1 (β in units of the data mean:
    0.1, falling from 3 to it during the coarse-to-fine phase of a static hash grid with
    fixed poses, :data:`SMOOTH_L1_BETA`), mse, or poisson (negative log-likelihood of
    counts proportional to the pixels; needs non-negative data)."""
    grid_resolution: float = 0.5
    """Hash grid of a static sample: its finest level in cells per voxel along the volume's
    largest side (0.5: a cell per two voxels, a prior that fills the missing wedge and
    averages noise better than 1; docs/inr.md)."""
    coarse_to_fine: float = 0.5
    """Fraction of the steps over which a hash grid's finer levels are switched on, the
    coarsest first (:meth:`inrtomo.fields.HashGrid.reveal`); 0: all from the start.
    Static fields only."""
    warmup: int | None = None
    """Steps over which the field's learning rate rises linearly to ``learning_rate``
    (Adam's first steps are its largest); None: 20, or 0 with ``align``, whose settings
    were measured without it (with ``dynamic`` it keeps the 4-D network from collapsing
    to a blank volume: docs/dynamic.md)."""
    tv_weight: float = 0.0
    """Weight of a total-variation penalty on random points (0: off); the penalty is
    measured in the field's output unit (mean pixel / nz) per voxel, so the weight is
    comparable across data sets."""
    sparsity: float | None = None
    """Weight of a sparsity prior, the mean of √(f/ρ + ε) over the step's ray samples,
    weighted by their intervals (f the density, ρ the mean density the data imply, ε from
    :data:`SPARSITY`; no extra evaluation of the field): it prefers empty space where the
    data leave it open, as in the missing wedge. None: :data:`SPARSITY`'s weight for a
    static hash grid with fixed poses, else 0 (alignment and the dynamic models were
    measured without it; a static positional MLP collapsed with it on one of two seeds);
    0 for samples that fill the volume."""
    holdout_fraction: float = 0.02
    """Fraction of pixels kept out of training (at most :data:`HELD_OUT_MAX`) to decide
    when to stop."""
    eval_every: int = 50
    """Steps between held-out evaluations."""
    patience: int = 4
    """Held-out evaluations without improvement before stopping."""
    seed: int = 0
    """Seeds the network, the held-out pixels and the ray batches."""
    fourier_sigma: float = 1.0
    """Scale σ of the ``fourier`` field's random frequencies, in cycles per half-width of the
    volume; 1 beat 2 and 4 on the 32³ phantoms of benchmarks/inr_vs_sirt.py."""
    align: str = ""
    """Pose groups learned with the volume, comma-separated from axis (one tilt-axis angle),
    rotation (per-view in-plane rotation), tilt (per-view tilt angle), shift (per-view
    shifts) and out_of_plane; "" keeps the poses fixed."""
    align_start: int = 50
    """Steps before the poses start to move: the volume forms first."""
    align_warmup: int = 50
    """Steps over which the pose learning rates ramp up from 0."""
    pose_rates: dict = dataclasses.field(default_factory=lambda: dict(POSE_RATES))
    """Adam's step for each pose group, degrees or pixels per step."""
    pose_weight: float = 1e-4
    """Weight of a light penalty on the per-view offsets (mean square, in degrees and
    pixels), which keeps views the data say little about near their nominal pose."""
    precision: str = "float32"
    """The field's arithmetic: float32, or bfloat16 (mixed precision by autocast, meant for
    GPUs; ray sums and the loss stay float32)."""
    dynamic: str = ""
    """Space-time model for samples that change during acquisition (seed 001): spacetime
    (one network over x, y, z, t) or decomposed (static field plus growing contamination,
    :class:`inrtomo.fields.Decomposed`); "" for a static sample."""
    dynamic_weight: float | None = None
    """Weight of the L1 penalty on the contamination (mean |volume at t − clean| at random
    points and times, in units of the field's density scale); None: the model's own
    (:data:`DYNAMIC_DEFAULTS`)."""
    dynamic_pull: float | None = None
    """Spacetime model: the share of the penalty's gradient that reaches the clean volume
    (the volume at t = 0), from 0 to 1. At 1 the penalty also pulls the clean volume toward
    the volume at other times (the L1 optimum is their median: the contamination of
    mid-acquisition); at 0 only the volume at later times is pulled toward the clean one,
    which then rests on the earliest views alone. None: the model's own
    (:data:`DYNAMIC_DEFAULTS`; the decomposition's penalty is on its contamination alone: 1)."""
    dynamic_growth: float = 0.0
    """Spacetime model: weight of a penalty on the volume falling over time (mean
    max(volume at t′ − volume at t, 0) at the contamination penalty's points and times t
    and earlier times t′, in units of the field's density scale): contamination only
    accumulates. Off by default (docs/dynamic.md); the decomposition grows by construction
    (``monotone``)."""
    monotone: bool = True
    """Decomposed model: contamination only grows with time."""
    dynamic_start: int | None = None
    """Steps during which every view is fitted at t = 0 (a static fit) before time enters;
    None: the model's own (:data:`DYNAMIC_DEFAULTS`)."""
    compile: bool = False
    """Compile the field with ``torch.compile`` (tens of seconds up front; needs a C compiler
    on the CPU, where it does not pay off: benchmarks/field_speed.py)."""

    def __post_init__(self):
        self.field = self.field or ("positional" if self.dynamic else "hashgrid")
        if not self.learning_rate and self.field in LEARNING_RATES:
            self.learning_rate = LEARNING_RATES[self.field]
        if self.warmup is None:
            self.warmup = 0 if self.align else 20
        if self.sparsity is None:
            self.sparsity = SPARSITY[0] if self.field == "hashgrid" and not (self.align or self.dynamic) else 0.0
        own = DYNAMIC_DEFAULTS.get(self.dynamic, {"dynamic_weight": 0.0, "dynamic_pull": 1.0, "dynamic_start": 0,
                                                  "steps": STEPS})
        for name, value in own.items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    @staticmethod
    def toml_settings(path) -> dict:
        """The settings table of a TOML config file: its ``[inr]`` table, else its top-level
        keys, as written (unchecked); a missing or unreadable file is a one-line error."""
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        path = Path(path)
        if not path.is_file():
            raise InputError(f"config file not found: {path}")
        try:
            table = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not valid TOML: {exc}") from None
        return table.get("inr", table)

    @classmethod
    def from_toml(cls, path, **overrides) -> INRConfig:
        """Settings from a TOML file (:meth:`toml_settings`, named like the attributes), then
        ``overrides``; unknown keys and wrong types are one-line errors."""
        table = cls.toml_settings(path)
        defaults = cls()
        unknown = sorted(set(table) - set(vars(defaults)))
        if unknown:
            raise InputError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(vars(defaults))}")
        values = {}
        for key, value in {**table, **overrides}.items():
            kind = type(getattr(defaults, key))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if type(value) is not kind:
                raise InputError(f"{path}: {key} must be of type {kind.__name__}, got {value!r}")
            values[key] = value
        return cls(**values)

    @property
    def align_groups(self) -> list[str]:
        """The pose groups to learn, from :attr:`align`."""
        return [g.strip().replace("-", "_") for g in self.align.split(",") if g.strip()]

    def validate(self) -> None:
        if self.field not in FIELDS:
            raise InputError(f"unknown field {self.field!r}; choose from {', '.join(FIELDS)}")
        if self.loss not in LOSSES:
            raise InputError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}")
        unknown = sorted(set(self.align_groups) - set(POSE_GROUPS)) + sorted(set(self.pose_rates) - set(POSE_GROUPS))
        if unknown:
            raise InputError(f"unknown pose group(s) {', '.join(unknown)}; choose from {', '.join(POSE_GROUPS)}")
        if not all(isinstance(r, (int, float)) and r > 0 for r in self.pose_rates.values()):
            raise InputError("pose learning rates must be positive numbers")
        if min(self.align_start, self.align_warmup) < 0 or self.pose_weight < 0:
            raise InputError("align start, warm-up and pose weight must not be negative")
        if self.dynamic and self.dynamic not in DYNAMIC_MODELS:
            raise InputError(f"unknown dynamic model {self.dynamic!r}; choose from {', '.join(DYNAMIC_MODELS)}")
        if self.dynamic == "spacetime" and self.field == "siren":
            raise InputError("the spacetime model encodes space like a hashgrid, fourier or positional field; "
                             "choose one of those with --dynamic spacetime")
        if min(self.dynamic_weight, self.dynamic_growth, self.dynamic_start) < 0:
            raise InputError("the contamination penalty weights and the dynamic start must not be negative")
        if not 0 <= self.dynamic_pull <= 1:
            raise InputError(f"dynamic_pull must lie between 0 and 1, got {self.dynamic_pull}")
        if self.dynamic == "decomposed" and self.dynamic_pull != 1:
            raise InputError("dynamic_pull applies to the spacetime model; the decomposition penalises its "
                             "contamination alone")
        if self.dynamic == "decomposed" and self.dynamic_growth:
            raise InputError("dynamic_growth applies to the spacetime model; the decomposition's contamination "
                             "grows by construction (monotone)")
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision {self.precision!r}; choose from {', '.join(PRECISIONS)}")
        if not (self.learning_rate > 0 and self.fourier_sigma > 0):
            raise InputError("the learning rate and the Fourier scale must be positive")
        if self.samples_per_ray < 0:
            raise InputError("samples per ray must be positive (or 0 for automatic)")
        if self.warmup < 0:
            raise InputError("the learning-rate warm-up must not be negative")
        for name in ("steps", "eval_every", "patience"):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', ' ')} must be at least 1")
        if self.rays_per_step < 0:
            raise InputError("rays per step must be positive (or 0 for automatic)")
        if self.tv_weight < 0 or self.sparsity < 0:
            raise InputError("the TV and sparsity weights must not be negative")
        if not 0 < self.grid_resolution <= 4:
            raise InputError("the hash grid's resolution is in cells per voxel, in (0, 4]")
        if not 0 <= self.coarse_to_fine <= 1:
            raise InputError("coarse_to_fine is a fraction of the steps, in [0, 1]")
        if not 0 <= self.holdout_fraction < 0.5:
            raise InputError("the held-out fraction must be in [0, 0.5)")


@dataclass
class INRResult:
    """The fitted ``field``, the ``poses`` it was fitted at (refined with alignment), the
    ``rays_per_step`` it drew, training ``losses`` per step and held-out losses as
    ``(step, loss)`` pairs."""

    field: torch.nn.Module
    poses: Poses
    rays_per_step: int
    losses: list[float] = field(default_factory=list)
    heldout: list[tuple[int, float]] = field(default_factory=list)
    stopped_early: bool = False
    loss: str = "smooth-l1"
    """The loss fitted (``auto`` resolved)."""


def scaled_times(times, n: int, at=None) -> np.ndarray:
    """Per-view times ``(n,)`` scaled to [0, 1] (earliest 0, latest 1); file order when
    ``times`` is None, zeros when all are equal. With ``at`` (times in the same unit):
    those, on the same scale."""
    times = np.linspace(0.0, 1.0, n) if times is None else np.asarray(times, dtype=np.float64)
    span = float(times.max() - times.min()) if times.size else 0.0
    values = times if at is None else np.asarray(at, dtype=np.float64)
    return (values - times.min()) / span if span > 0 else np.zeros(values.shape)


def rays_per_step(config: INRConfig, pixels: int) -> int:
    """Rays per step of ``config`` for a series of ``pixels`` training pixels: its own
    ``rays_per_step``, or for 0 :data:`RAYS`, lowered for a static sample with fixed poses
    so that the run draws at most :data:`PASSES` times as many rays as there are pixels (a
    sparse series holds less to fit, and a step's time grows with its rays; at least 64).
    Alignment and the dynamic models keep :data:`RAYS`, with which they were measured."""
    if config.rays_per_step or config.align_groups or config.dynamic:
        return config.rays_per_step or RAYS
    return min(RAYS, max(64, math.ceil(PASSES * pixels / config.steps)))


def rate_factor(step: int, steps: int, warmup: int = 0) -> float:
    """The learning rate at ``step`` (from 0) as a fraction of the initial one: a linear
    rise over ``warmup`` steps, times a cosine decay from 1 to 5 % over ``steps``."""
    decay = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(step / steps, 1.0)))
    return min((step + 1) / warmup, 1.0) * decay if warmup else decay


def _loss(name: str, predicted: torch.Tensor, measured: torch.Tensor, beta: float = SMOOTH_L1_BETA[1]
          ) -> torch.Tensor:
    if name == "mse":
        return F.mse_loss(predicted, measured)
    if name == "poisson":  # up to terms without the prediction; counts = k · pixels for any k > 0
        return (predicted - measured * torch.log(predicted.clamp(min=1e-6))).mean()
    return F.smooth_l1_loss(predicted, measured, beta=beta)


def mean_positive_count(pixels: torch.Tensor) -> float | None:
    """The mean count of the pixels that counted any, if ``pixels`` (flat) look like scaled
    counts: none negative and each a whole multiple of the smallest positive one, checked
    on up to 2²⁰ evenly spaced pixels; else None."""
    sample = pixels[:: max(1, pixels.numel() >> 20)].double()
    positive = sample[sample > 0]
    if positive.numel() < 1000 or bool((sample < 0).any()):
        return None
    counts = positive / positive.min()
    if float(counts.max()) > 1e5 or float((counts - counts.round()).abs().max()) > 1e-2:
        return None
    return float(counts.mean())


def choose_loss(name: str, pixels: torch.Tensor, warn: bool = True) -> str:
    """The loss to fit ``pixels`` (flat) with: ``name``, or for ``auto`` poisson where they
    look like raw counts below :data:`LOW_COUNTS` per counted pixel (there a nearly absolute
    loss fits each pixel's median, below its mean, and the volume loses mass), else
    smooth-l1. Warns (with ``warn``) when smooth-l1 is asked for on such counts."""
    if name not in ("auto", "smooth-l1"):
        return name
    counts = mean_positive_count(pixels)
    low = counts is not None and counts < LOW_COUNTS
    if name == "smooth-l1" and low and warn:
        warnings.warn(f"the tilt series looks like raw counts, {counts:.1f} per pixel where any were counted: "
                      "smooth-l1 fits their median and underestimates the density at such counts "
                      "(about a third at 2); --loss poisson (or auto) keeps it")
    return "poisson" if low and name == "auto" else "smooth-l1"


def _pose_penalty(pose: PoseParameters, groups: list[str]) -> torch.Tensor:
    """Mean square of the learned per-view offsets, in degrees and pixels."""
    terms = [(pose.groups()[g] * (1 if g == "shift" else 180 / math.pi)).square().mean()
             for g in groups if g != "axis"]
    return sum(terms, torch.zeros((), device=pose.nominal.device))


def _random_points(shape, n_points: int, generator: torch.Generator, device) -> torch.Tensor:
    """``(n_points, 3)`` uniform random points (voxels) inside the volume, one voxel in from its faces."""
    nz, ny, nx = shape
    extent = torch.tensor([nx / 2 - 1, ny / 2 - 1, nz / 2 - 1])
    return ((torch.rand(n_points, 3, generator=generator) * 2 - 1) * extent).to(device)


def _contamination(field, shape, n_points: int, generator: torch.Generator, device, share: slice,
                   pull: float = 1.0, growth: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``|f(p, t) − f(p, 0)|`` at the ``share`` of ``n_points`` random points ``p`` and
    times ``t`` in [0, 1], only ``pull`` of its gradient reaching ``f(p, 0)``; and, with
    ``growth``, mean ``max(f(p, t′) − f(p, t), 0)`` at earlier times ``t′`` uniform in
    [0, t] (how far the volume falls over time; else 0)."""
    points = _random_points(shape, n_points, generator, device)[share]
    times = torch.rand(n_points, generator=generator).to(device)[share]
    clean = field(points)
    clean = clean.detach() + pull * (clean - clean.detach())  # same value, gradient × pull
    later = field(points, times)
    fall = torch.zeros((), device=device)
    if growth:
        earlier = times * torch.rand(n_points, generator=generator).to(device)[share]
        fall = (field(points, earlier) - later).clamp(min=0).mean()
    return (later - clean).abs().mean(), fall


def _total_variation(net, shape, n_points: int, generator: torch.Generator, device, share: slice) -> torch.Tensor:
    """Mean ``Σᵢ |f(p + eᵢ) − f(p)|`` (one-voxel forward differences) at the ``share`` of
    ``n_points`` random points ``p``."""
    points = _random_points(shape, n_points, generator, device)[share]
    steps = torch.eye(3, device=device)
    values = net(torch.cat([points[None], points[None] + steps[:, None]], 0))  # (4, P)
    return (values[1:] - values[0]).abs().sum(0).mean()


def _sparsity(values: torch.Tensor, lengths: torch.Tensor, density: float) -> torch.Tensor:
    """Mean ``√(f/density + ε)`` (ε from :data:`SPARSITY`) over the rays' samples ``values``
    ``(rays, samples)``, each weighted by its ray's interval length ``lengths`` ``(rays,)``
    so that the mean is over the volume the rays cross: steeper the nearer f is to 0, so
    faint density goes first."""
    penalty = torch.sqrt(values.clamp(min=0) / density + SPARSITY[1])
    return (penalty.sum(-1) * lengths).sum() / (lengths.sum() * values.shape[-1]).clamp(min=1e-12)


def _reveal(net: torch.nn.Module, fraction: float) -> None:
    """Coarse to fine: the levels of every hash grid in ``net`` up to ``fraction`` (≥ 1: all)."""
    for module in net.modules():
        if isinstance(module, HashGrid):
            module.reveal(fraction)


def train_inr(images: torch.Tensor, poses: Poses, shape, config: INRConfig = INRConfig(), *, times=None,
              device="cpu", quiet: bool = False, checkpoint: Path | None = None, resume: bool = False,
              checkpoint_every: float = 120.0, on_step: Callable[[int, torch.nn.Module], None] | None = None
              ) -> INRResult:
    """Fit a field to ``images`` ``(n, ny, nx)`` (line-integral units) recorded at ``poses``,
    over a ``shape`` ``(nz, ny, nx)`` volume; with ``config.dynamic`` the field is a
    space-time model (:mod:`inrtomo.fields.spacetime`) and each view is seen at its
    acquisition time from ``times`` ``(n,)`` (any unit; scaled to [0, 1], the earliest
    view at 0; default file order). ``images`` may be memory-mapped: on the CPU they are
    read in place, never copied whole.

    With ``checkpoint`` (a file path) the whole training state is saved there every
    ``checkpoint_every`` seconds and at the end; ``resume`` continues from it. On the CPU a
    resumed run reproduces the uninterrupted one exactly. ``on_step(step, field)`` is
    called after every optimisation step (1-based), e.g. to watch the volume evolve.

    In a process group (torchrun) every rank integrates its share of each step's rays and
    the gradients are summed, so the result does not depend on the number of processes;
    only rank 0 shows progress and writes the checkpoint."""
    config.validate()
    device = torch.device(device)
    ranks = distributed.current()
    quiet = quiet or not ranks.main
    n, ny, nx = images.shape
    generator = torch.Generator().manual_seed(config.seed)
    measured = images.reshape(-1).to(device, torch.float32)
    if config.loss == "poisson" and float(measured.min()) < 0:
        raise InputError("the poisson loss needs non-negative pixels (counts); use smooth-l1 or mse for this data")
    unit = float(sum(part.abs().sum(dtype=torch.float64) for part in measured.split(2**24)) / measured.numel()) or 1.0
    density = unit / shape[0]  # the density that explains the mean pixel over a 0° path
    loss_name = choose_loss(config.loss, measured, warn=ranks.main)  # the same on every rank
    if config.dynamic:
        net = make_spacetime_field(config.dynamic, config.field, shape, scale=density, seed=config.seed,
                                   sigma=config.fourier_sigma, resolution=config.grid_resolution,
                                   monotone=config.monotone).to(device)
    else:
        net = make_field(config.field, shape, scale=density, seed=config.seed, sigma=config.fourier_sigma,
                         resolution=config.grid_resolution).to(device)
    view_times = torch.as_tensor(scaled_times(times, n), dtype=torch.float32, device=device)
    pose = PoseParameters(poses).to(device).requires_grad_(False)
    groups = config.align_groups
    uu, vv = (torch.tensor(c, dtype=torch.float32, device=device).reshape(-1) for c in detector_coordinates(ny, nx))
    samples = config.samples_per_ray or max(shape)
    # jitter along rays is drawn where the rays are: the CPU generator, or one on the GPU
    jitter = generator if device.type == "cpu" else torch.Generator(device=device).manual_seed(config.seed)

    # held-out pixels: a sorted random set (duplicates dropped); batches draw around it
    n_pixels = measured.numel()
    held = torch.randint(n_pixels, (min(int(config.holdout_fraction * n_pixels), HELD_OUT_MAX),),
                         generator=generator).unique().to(device)
    n_held = held.numel()
    rays = rays_per_step(config, n_pixels - n_held)
    share = ranks.share(rays)
    weight = (share.stop - share.start) / rays  # this rank's part of each mean over the batch

    def draw_batch() -> torch.Tensor:
        """``rays`` random training pixels (flat indices), none of them held out."""
        batch = torch.zeros(0, dtype=torch.long, device=device)
        while batch.numel() < rays:
            more = torch.randint(n_pixels, (int(rays / (1 - config.holdout_fraction) * 1.1) + 16,),
                                 generator=generator).to(device)
            if n_held:
                more = more[held[torch.searchsorted(held, more).clamp(max=n_held - 1)] != more]
            batch = torch.cat([batch, more])
        return batch[:rays]

    model = torch.compile(net) if config.compile else net

    def field(points: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """The volume at ``points``; for a space-time model at times ``t`` (broadcast;
        default 0, the clean sample)."""
        with torch.autocast(device.type, torch.bfloat16, enabled=config.precision == "bfloat16"):
            if config.dynamic:
                return model(points, torch.zeros((), device=device) if t is None else t).float()
            return model(points).float()

    def render(index: torch.Tensor, offsets: torch.Tensor | None = None, timed: bool = True
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Predicted pixels ``index`` (flat), in units of the data mean, with the field's
        values at the rays' samples ``(rays, samples)`` and each ray's interval length
        ``(rays,)`` (voxels); samples at the intervals' midpoints or at ``offsets``
        ``(rays, samples)`` within them."""
        view, pixel = index // (ny * nx), index % (ny * nx)
        origins, directions = pose.rays(view, uu[pixel], vv[pixel])
        points, step = ray_samples(origins, directions, shape, samples, offsets)
        values = field(points, view_times[view][:, None] * timed)  # one time for every sample of a ray
        return values.sum(-1) * step / unit, values, step

    def pose_factor(s: int) -> float:  # 0 until align_start, a linear warm-up, then the field's decay
        return min(max((s - config.align_start) / max(config.align_warmup, 1), 0.0), 1.0) * rate_factor(s, config.steps)

    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: rate_factor(s, config.steps, config.warmup))
    pose_optimiser = torch.optim.Adam(
        [{"params": [pose.groups()[g]], "lr": 0.0,
          "base": config.pose_rates.get(g, POSE_RATES[g]) * (1 if g == "shift" else math.pi / 180)} for g in groups]
        or [{"params": [torch.zeros(0)]}])
    ranks.broadcast(t.detach() for t in net.state_dict().values())  # one starting point for all
    result = INRResult(net, poses, rays, loss=loss_name)
    best, stale, first = math.inf, 0, 0
    identity = {"config": vars(config), "shape": list(shape), "images": list(images.shape)}
    if resume:
        if checkpoint is None:
            raise InputError("--resume needs --checkpoint DIR, the folder of the earlier run's checkpoint")
        if not Path(checkpoint).is_file():
            raise InputError(f"no checkpoint to resume from at {checkpoint}; run once with --checkpoint first")
        state = torch.load(checkpoint, map_location=device, weights_only=True)
        if state["identity"] != identity:
            raise InputError(f"{checkpoint} was made with other settings or data; rerun without --resume")
        net.load_state_dict(state["field"])
        pose.load_state_dict(state["poses"])
        pose_optimiser.load_state_dict(state["pose_optimiser"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        generator.set_state(state["generator"])
        jitter.set_state(state["jitter"])
        result.losses, result.heldout = state["losses"], [tuple(h) for h in state["heldout"]]
        best, stale, first = state["best"], state["stale"], len(result.losses)

    def save() -> None:
        state = {"identity": identity, "field": net.state_dict(), "optimiser": optimiser.state_dict(),
                 "poses": pose.state_dict(), "pose_optimiser": pose_optimiser.state_dict(),
                 "schedule": schedule.state_dict(), "generator": generator.get_state(),
                 "jitter": jitter.get_state(), "losses": result.losses,
                 "heldout": result.heldout, "best": best, "stale": stale}
        with atomic_output(checkpoint) as tmp:
            torch.save(state, tmp)

    staged = config.coarse_to_fine and config.field == "hashgrid" and not config.dynamic
    scheduled = staged and not groups  # β from SMOOTH_L1_BETA[0]; alignment was measured without
    saved_at = time.monotonic()
    bar = progress(range(first, config.steps), desc=f"INR ({config.field}, {loss_name})", unit="step", quiet=quiet)
    for step in bar:
        for name in groups:  # pose gradients only once the poses move
            pose.groups()[name].requires_grad_(step >= config.align_start)
        coarse = step / (config.coarse_to_fine * config.steps) if staged else 1.0
        _reveal(net, coarse)
        beta = SMOOTH_L1_BETA[0] * (SMOOTH_L1_BETA[1] / SMOOTH_L1_BETA[0]) ** min(coarse, 1.0) if scheduled \
            else SMOOTH_L1_BETA[1]
        batch = draw_batch()[share]
        offsets = torch.rand((rays, samples), generator=jitter, device=jitter.device)[share].to(device)
        predicted, values, lengths = render(batch, offsets, step >= config.dynamic_start)
        target = measured[batch] / unit
        loss = _loss(loss_name, predicted, target, beta)
        # the recorded loss keeps the final β, so that the curve is comparable over the run
        shown = _loss(loss_name, predicted.detach(), target) - loss.detach()
        if config.tv_weight:
            tv = _total_variation(field, shape, rays, generator, device, share) / density
            loss = loss + config.tv_weight * tv
        if config.sparsity:
            loss = loss + config.sparsity * _sparsity(values, lengths, density)
        if config.dynamic and (config.dynamic_weight or config.dynamic_growth):
            change, fall = _contamination(field, shape, rays, generator, device, share, config.dynamic_pull,
                                          bool(config.dynamic_growth))
            loss = loss + (config.dynamic_weight * change + config.dynamic_growth * fall) / density
        loss = loss * weight
        if groups and config.pose_weight:
            loss = loss + config.pose_weight * _pose_penalty(pose, groups) / ranks.world
        optimiser.zero_grad(set_to_none=True)
        pose_optimiser.zero_grad(set_to_none=True)
        loss.backward()
        ranks.sum_gradients([*net.parameters(), *pose.parameters()])
        optimiser.step()
        schedule.step()
        if groups and pose_factor(step) > 0:
            for group in pose_optimiser.param_groups:
                group["lr"] = group["base"] * pose_factor(step)
            pose_optimiser.step()
            pose.fix_gauge()
        result.losses.append(ranks.sum(loss.detach() + shown * weight).item())
        if on_step is not None:
            on_step(step + 1, net)
        if n_held and ((step + 1) % config.eval_every == 0 or step + 1 == config.steps):
            with torch.no_grad():
                total = torch.zeros((), device=device)
                for part in held[ranks.share(n_held)].split(8192):
                    total += _loss(loss_name, render(part)[0], measured[part] / unit) * part.numel()
                value = float(ranks.sum(total)) / n_held
            result.heldout.append((step + 1, value))
            bar.set_postfix(loss=f"{result.losses[-1]:.4g}", heldout=f"{value:.4g}", refresh=False)
            best, stale = (value, 0) if value < best else (best, stale + 1)
            if stale >= config.patience:
                result.stopped_early = True
                break
        if checkpoint is not None and ranks.main and time.monotonic() - saved_at >= checkpoint_every:
            save()
            saved_at = time.monotonic()
    bar.close()
    if checkpoint is not None and ranks.main:
        save()
    if ranks.main:  # a dead network (output pushed far below softplus's range) gives a blank volume
        with torch.no_grad():
            probe = field(_random_points(shape, 4096, torch.Generator().manual_seed(0), device))
        if float(probe.abs().max()) <= 1e-6 * density:
            warnings.warn("the reconstruction is zero everywhere: the network's output collapsed during "
                          "training (unless the data are blank, lower the learning rate)")
    result.poses = pose.to_poses()
    return result


@torch.no_grad()
def sample_grid(net: torch.nn.Module, shape, *, upsample: int = 1, device="cpu", chunk: int = 2**18, out=None,
                quiet: bool = True):
    """The field at the voxel centres of ``shape`` refined ``upsample`` times per axis:
    a ``(nz·u, ny·u, nx·u)`` float32 volume, computed ``chunk`` points at a time and
    written by z-slabs into ``out`` (e.g. :func:`inrtomo.io.volume_writer`'s; default a new
    array), which is returned."""
    nz, ny, nx = fine = tuple(s * upsample for s in shape)
    axes = [torch.tensor(c / upsample, dtype=torch.float32, device=device) for c in voxel_centres(fine)]
    out = np.empty((nz, ny, nx), dtype=np.float32) if out is None else out
    plane = ny * nx
    slabs = max(1, chunk // plane)
    yy, xx = torch.meshgrid(axes[1], axes[2], indexing="ij")
    for start in progress(range(0, nz, slabs), desc="volume", unit="slab", quiet=quiet):
        z = axes[0][start:start + slabs]
        points = torch.stack([xx.expand(len(z), -1, -1), yy.expand(len(z), -1, -1),
                              z[:, None, None].expand(-1, ny, nx)], dim=-1)
        values = net(points).float()
        if not bool(torch.isfinite(values).all()):
            raise FloatingPointError("the fitted field gives NaN or inf values (training diverged; "
                                     "try a lower learning rate)")
        out[start:start + slabs] = values.cpu().numpy()
    return out


def _warn_single_sweep(angles: np.ndarray, times: np.ndarray) -> None:
    """Warn when a space-time fit meets a series over less than 180° whose first or last
    half leaves more than a third of the tilt range unseen (docs/dynamic.md, "Recording a
    series that will change")."""
    if len(angles) < 2:
        return
    tilt_range = float(np.ptp(angles))
    unseen = unseen_range(angles, times)
    if tilt_range + float(np.median(np.diff(np.sort(angles)))) < 180 and unseen > tilt_range / 3:
        warnings.warn(f"half of this acquisition leaves {unseen:g}° of the {tilt_range:g}° tilt range unseen, "
                      "so contamination that grows during it can pass for structure and partly stay in the "
                      "clean volume; a series recorded in four-pass or golden-ratio order separates them better "
                      "(docs/dynamic.md; if the views were not recorded in file order, give --times)", stacklevel=3)


def reconstruct_inr(series, poses: Poses | None = None, *, shape=None, config: INRConfig = INRConfig(),
                    upsample: int = 1, device="cpu", quiet: bool = False, checkpoint_dir: Path | None = None,
                    checkpoint_every: float = 120.0, resume: bool = False, at_times=(), output=None):
    """Fit an INR to a :class:`~inrtomo.data.TiltSeries` and sample it on the grid
    ``shape`` (default ``(nx, ny, nx)``) refined ``upsample`` times. Returns the
    :class:`~inrtomo.data.Volume` (voxel size = pixel size / upsample) and a summary.
    With ``output`` (a volume file) the volume is written there by slabs instead
    (:func:`inrtomo.io.volume_writer`, any volume format) and ``None`` returned in its place. In a process
    group (torchrun) only rank 0 samples the volume; the others return ``None``.

    With ``config.dynamic`` the volume is the clean sample (t = 0); ``at_times`` (in the
    series' time unit; needs ``output``) also streams the volume and the contamination at
    each beside ``output`` (:mod:`.timestack`), listed in ``summary["time_stack"]``."""
    from .. import io
    from ..data import Volume
    from .classical import series_poses, volume_shape

    poses = series_poses(series, poses)
    if upsample < 1:
        raise InputError("--upsample must be at least 1")
    if len(at_times) and not config.dynamic:
        raise InputError("volumes at chosen times need a space-time model (--dynamic)")
    if len(at_times) and output is None:
        raise InputError("volumes at chosen times are written beside an output file; give one")
    shape = volume_shape(series, shape)
    config.validate()  # a mistake in the settings is reported before any warning
    if config.dynamic and distributed.current().main:
        _warn_single_sweep(series.angles, series.times)
    checkpoint = None if checkpoint_dir is None else Path(checkpoint_dir) / "inr-checkpoint.pt"
    if checkpoint is not None:
        checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # a memory-mapped series is read-only; training only reads it
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        images = torch.from_numpy(series.images)
    started = time.perf_counter()
    result = train_inr(images, poses, shape, config, times=series.times, device=device, quiet=quiet,
                       checkpoint=checkpoint, checkpoint_every=checkpoint_every, resume=resume)
    trained = time.perf_counter() - started
    net = result.field.clean if config.dynamic else result.field
    fine = [s * upsample for s in shape]
    voxel = series.pixel_size / upsample
    ranks = distributed.current()
    volume, main = None, ranks.main
    if main:
        if output is None:
            volume = Volume(sample_grid(net, shape, upsample=upsample, device=device, quiet=quiet), voxel)
        else:
            with io.volume_writer(output, fine, voxel) as out:
                sample_grid(net, shape, upsample=upsample, device=device, out=out, quiet=quiet)
    summary = {"method": "inr", "shape": fine, "device": str(torch.device(device)),
               "config": vars(config), "loss": result.loss, "rays_per_step": result.rays_per_step, "upsample": upsample,
               "steps": len(result.losses),
               "stopped_early": result.stopped_early, "final_loss": result.losses[-1], "training_s": trained,
               "processes": ranks.world,
               "losses": result.losses, "heldout_losses": result.heldout}
    if config.align_groups:
        summary["poses"] = result.poses
    if config.dynamic:
        summary["times"] = np.asarray(series.times, dtype=np.float64).tolist()
        summary["times_from"] = series.metadata.get("times_from", "the tilt series")
    if len(at_times) and main:
        from .timestack import write_time_stack
        files = write_time_stack(result.field, output, at_times, scaled_times(series.times, series.n_views, at_times), shape,
                                 voxel_size=voxel, upsample=upsample, device=device, quiet=quiet)
        summary["time_stack"] = {"times": [float(t) for t in at_times], "files": [str(f) for f in files]}
    return volume, summary
