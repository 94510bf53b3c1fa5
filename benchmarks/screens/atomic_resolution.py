"""Static INR settings on the atomic-level sample without contamination (case 5 of
benchmarks/dynamic.py at 32³: ±60° at 3°, 5000 e/Å², 1 Å voxels; issue 6).

    .venv/bin/python benchmarks/screens/atomic_resolution.py
"""
import sys, time
from pathlib import Path

import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dataclasses import replace
from dynamic import samples, CASES, CNT_CUBE
from inrtomo import metrics
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import simulate
torch.set_num_threads(2)
label, name, model, acq = CASES[5]
_, base = samples(name, model, 32)
sim = simulate(base, 32, replace(acq, pixel_size=CNT_CUBE / 32), seed=1)
truth = sim.truth.data
for kw in [dict(), dict(grid_resolution=1.0), dict(grid_resolution=2.0), dict(grid_resolution=2.0, steps=600), dict(field="fourier", fourier_sigma=4.0)]:
    t = time.perf_counter()
    r = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, INRConfig(rays_per_step=2048, **kw), quiet=True)
    v = sample_grid(r.field, truth.shape)
    print(kw, f"ssim {metrics.ssim(v, truth):.3f} psnr {metrics.psnr(v, truth):.2f} {time.perf_counter()-t:.0f}s", flush=True)
