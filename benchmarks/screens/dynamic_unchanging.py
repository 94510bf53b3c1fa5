"""The 4-D network on a sample that does not change (issue 6): |D(·, 1)| over the sample's
mass and the clean volume's ssim for each ``dynamic_growth`` given, INR seeds 0 and 1, one
thread; the 32³ nanoparticles at ±60° (3°, 5000 e/Å²), 200 steps of 1024 rays, the
conditions of tests/test_dynamic.py.

    .venv/bin/python benchmarks/screens/dynamic_unchanging.py 0 0.1 0.3 1
"""
import sys

import numpy as np
import torch

from inrtomo import metrics
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import Acquisition, make_phantom, simulate

torch.set_num_threads(1)
shape = (32,) * 3
sim = simulate(make_phantom("nanoparticles", 32, seed=1), 32,
               Acquisition(tilt_range=(-60, 60), tilt_step=3, fluence=5000.0), seed=1)
truth = sim.truth.data
for growth in map(float, sys.argv[1:]):
    for seed in (0, 1):
        config = INRConfig(steps=200, rays_per_step=1024, field="positional", dynamic="spacetime", seed=seed,
                           dynamic_growth=growth)
        field = train_inr(torch.from_numpy(sim.series.images), sim.poses, shape, config, times=sim.series.times,
                          quiet=True).field
        grown, clean = sample_grid(field.at(1.0, "contamination"), shape), sample_grid(field.clean, shape)
        print(f"growth {growth:g} seed {seed}: |D1|/mass {np.abs(grown).sum() / truth.sum():.3f} "
              f"ssim {metrics.ssim(clean, truth):.3f}", flush=True)
