"""The 4-D network with a quantile (pinball) contamination penalty, one thread (issue 6; screened,
not adopted).

    .venv/bin/python benchmarks/screens/dynamic_quantile.py TAU CASE dirty|clean "dict(seed=0)" …

The code's penalty mean |f(p, t) − f(p, 0)| puts the clean value f(p, 0) at the median of
f(p, t) over time; since contamination only accumulates, the clean value is a low quantile.
This screen replaces it with 2 · mean ρ_TAU(f(p, t) − f(p, 0)), ρ_τ(u) = max(τ u, (τ − 1) u)
(TAU 0.5: the code's penalty): growth costs 2 TAU λ, loss 2 (1 − TAU) λ. CASE indexes
benchmarks/dynamic.py's CASES at 32³ (noise seed 1); ``clean`` fits the same acquisition of
the uncontaminated sample. Each dict holds INRConfig overrides (200 steps, 2048 rays,
spacetime unless given; dynamic_pull=1.0 gives the full penalty to the clean volume).
Prints the clean volume's ssim, left (metrics.contamination_left), |D(·, 1)| over the
sample's mass and the loss at steps 10 and 50 (1: a blank volume)."""
import sys
from pathlib import Path

import numpy as np
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dynamic import samples, CASES
from inrtomo import metrics
from inrtomo.recon import inr
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import simulate

tau = float(sys.argv[1])


def pinball(field, shape, n_points, generator, device, share, pull=1.0):
    points = inr._random_points(shape, n_points, generator, device)[share]
    times = torch.rand(n_points, generator=generator).to(device)[share]
    clean = field(points)
    clean = clean.detach() + pull * (clean - clean.detach())
    u = field(points, times) - clean
    return 2 * torch.maximum(tau * u, (tau - 1) * u).mean()


inr._contamination = pinball
torch.set_num_threads(1)
_, name, model, acq = CASES[int(sys.argv[2])]
dirty, uncontaminated = samples(name, model, 32)
sim = simulate(dirty if sys.argv[3] == "dirty" else uncontaminated, 32, acq, seed=1)
truth = sim.truth.data
grown = dirty.voxelize(truth.shape, float(sim.series.times.max())) - truth
for kw in [eval(a) for a in sys.argv[4:]]:
    config = INRConfig(**(dict(steps=200, rays_per_step=2048, dynamic="spacetime") | kw))
    r = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, config, times=sim.series.times, quiet=True)
    v = sample_grid(r.field.clean, truth.shape)
    grew = np.abs(sample_grid(r.field.at(1.0, "contamination"), truth.shape)).sum() / truth.sum()
    print(sys.argv[1:4], kw, f"ssim {metrics.ssim(v, truth):.3f} left {metrics.contamination_left(v, truth, grown):.3f} "
          f"|D| {grew:.3f} loss@10,50 {r.losses[10]:.3g}, {r.losses[50]:.3g}", flush=True)
