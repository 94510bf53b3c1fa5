"""One dynamic model on one 32³ case of benchmarks/dynamic.py with INRConfig overrides (issue 6).

    .venv/bin/python benchmarks/screens/dynamic_warmup.py CASE dirty|clean MODEL "dict(warmup=20)" …

clean: the same acquisition of the sample without contamination. MODEL: spacetime,
decomposed, or "" for a static INR; 200 steps of 2048 rays unless overridden. Prints the clean
volume's ssim, nrmse, mass, left and excess (metrics.contamination_left and
contamination_excess), and for a space-time model |D(·, 1)| over the truth's mass."""
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
case, which = int(sys.argv[1]), sys.argv[2]
label, name, model, acq = CASES[case]
dirty, clean = samples(name, model, 32)
if name == "cnt-contamination": acq = replace(acq, pixel_size=CNT_CUBE / 32)
sim = simulate(dirty if which == "dirty" else clean, 32, acq, seed=1)
truth = sim.truth.data
grown = dirty.voxelize(truth.shape, 1.0) - truth
for kw in [eval(a) for a in sys.argv[4:]]:
    t = time.perf_counter()
    r = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, INRConfig(**(dict(steps=200, rays_per_step=2048, dynamic=sys.argv[3]) | kw)), times=sim.series.times, quiet=True)
    v = sample_grid(r.field.clean if sys.argv[3] else r.field, truth.shape)
    d = f" |D| {abs(sample_grid(r.field.at(1.0, 'contamination'), truth.shape)).sum() / truth.sum():.3f}" if sys.argv[3] else ""
    print(case, which, kw, f"ssim {metrics.ssim(v, truth):.3f} nrmse {metrics.nrmse(v, truth):.3f} mass {v.sum()/truth.sum():.2f} left {metrics.contamination_left(v, truth, grown):.3f} excess {metrics.contamination_excess(v, truth, grown):.3f}{d} {time.perf_counter()-t:.0f}s", flush=True)
