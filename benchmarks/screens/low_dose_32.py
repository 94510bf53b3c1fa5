"""The low-dose case of tests/test_inr.py (32³ nanoparticles, ±60° at 2°, 150 e/Å², 1024 rays
per step) for several sparsity weights and phantom seeds (issue 4).

    .venv/bin/python benchmarks/screens/low_dose_32.py [--every K] [--beta0 B] [--loss L] W [W …]

Prints ssim, psnr and the volume's mass over the truth's for phantom seeds 0 and 1 (INR
seed 0); a mass near 0 is a collapsed field. ``--every K``: also the mass every K steps; ``--beta0 B``: smooth-l1's β at the start
(``SMOOTH_L1_BETA[0]``) instead of the default; ``--loss``: the INR's loss (default auto,
which picks poisson for this series; the sparsity screens before it used smooth-l1).
"""
import argparse

import torch

from inrtomo import metrics
import inrtomo.recon.inr as inr
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import Acquisition, make_phantom, simulate

parser = argparse.ArgumentParser()
parser.add_argument("--every", type=int, default=0)
parser.add_argument("--beta0", type=float, default=inr.SMOOTH_L1_BETA[0])
parser.add_argument("--loss", default=INRConfig.loss)
parser.add_argument("weights", type=float, nargs="+")
args = parser.parse_args()
inr.SMOOTH_L1_BETA = (args.beta0, inr.SMOOTH_L1_BETA[1])
torch.set_num_threads(2)
acquisition = Acquisition(tilt_range=(-60, 60), tilt_step=2, fluence=150.0, supersample=1)
for weight in args.weights:
    for seed in (0, 1):
        sim = simulate(make_phantom("nanoparticles", 32, seed=seed), 32, acquisition, seed=seed)
        truth = sim.truth.data
        masses = []

        def track(step, field):
            if args.every and step % args.every == 0:
                masses.append(f"{step}: {sample_grid(field, truth.shape).sum() / truth.sum():.2f}")

        result = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape,
                           INRConfig(rays_per_step=1024, sparsity=weight, seed=0, loss=args.loss), quiet=True, on_step=track)
        volume = sample_grid(result.field, truth.shape)
        print(f"sparsity {weight:g}, phantom seed {seed}: ssim {metrics.ssim(volume, truth):.3f} "
              f"psnr {metrics.psnr(volume, truth):.2f} mass {volume.sum() / truth.sum():.2f}"
              + (f"; mass by step {', '.join(masses)}" if masses else ""), flush=True)
