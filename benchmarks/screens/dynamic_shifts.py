"""The 4-D network on case 3 of benchmarks/dynamic.py (32³, ±60° at 3°, 5000 e/Å², sweep) with
the shifts changed, one thread (issue 6: why known shifts defeated it).

    .venv/bin/python benchmarks/screens/dynamic_shifts.py SHIFT_STD gaussian|random-walk [--supersample N] "dict(seed=0)" …

``--supersample`` sets the simulation's sub-pixel rays per pixel side (default 3). Each
dict holds INRConfig overrides (200 steps, 2048 rays, spacetime unless given). The
noise and the ray batches do not depend on SHIFT_STD (1e-6: no shifts). Prints the clean
volume's ssim and left (metrics.contamination_left)."""
import sys
from dataclasses import replace
from pathlib import Path

import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dynamic import samples, CASES
from inrtomo import metrics
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import simulate
torch.set_num_threads(1)
label, name, model, acq = CASES[3]
configs = sys.argv[3:]
supersample = acq.supersample
if configs[:1] == ["--supersample"]:
    supersample, configs = int(configs[1]), configs[2:]
acq = replace(acq, shift_std=float(sys.argv[1]), shift_model=sys.argv[2], supersample=supersample)
dirty, _ = samples(name, model, 32)
sim = simulate(dirty, 32, acq, seed=1)
truth = sim.truth.data
grown = dirty.voxelize(truth.shape, float(sim.series.times.max())) - truth
for kw in [eval(a) for a in configs]:
    config = INRConfig(**(dict(steps=200, rays_per_step=2048, dynamic="spacetime") | kw))
    r = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, config, times=sim.series.times, quiet=True)
    v = sample_grid(r.field.clean, truth.shape)
    print(sys.argv[1], sys.argv[2], kw, f"ssim {metrics.ssim(v, truth):.3f} left {metrics.contamination_left(v, truth, grown):.3f}", flush=True)
