"""Space-time settings on the atomic-level sample (issue 6); THREADS torch threads (default 1).

    [THREADS=2] .venv/bin/python benchmarks/screens/dynamic_atomic.py CASE SIZE STEPS [clean] ["acq=dict(…)"] "dict(seed=0)" …

CASE indexes benchmarks/dynamic.py's CASES (4: the seed's 0–180° at 1°, 5: ±60° at 3°,
5000 e/Å², 7 and 8: case 5 in golden-ratio and four-pass order; carbon and noise seed 1);
``clean`` fits the same acquisition of the sample without its carbon layer;
``acq=dict(…)`` replaces fields of the case's Acquisition (e.g. ``acq=dict(fluence=None)``
for noise-free projections). Each dict holds INRConfig overrides (2048 rays; the spacetime
model on the hash grid unless given: ``dynamic=''`` for a static fit) and may hold
``mlp=(width, depth)`` for that model's MLP (:data:`inrtomo.fields.spacetime.SPATIAL_MLP`)
or ``bases=K`` for the decomposition's number of temporal bases (its ``basis``); ``sirt``
in place of a dict runs SIRT (100 iterations). Prints the clean volume's ssim, ``left``
(metrics.contamination_left), the relative error of D(·, 1) and, with ``clean``, |D(·, 1)|
over the sample's mass."""
import functools
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dynamic import CASES, CNT_CUBE, reconstruct, samples
import inrtomo.fields.spacetime as spacetime
from inrtomo import metrics
from inrtomo.recon.inr import INRConfig
from inrtomo.simulate import simulate

DECOMPOSED = spacetime.Decomposed
torch.set_num_threads(int(os.environ.get("THREADS", "1")))
case, size, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
clean_run = sys.argv[4:5] == ["clean"]
texts = sys.argv[4 + clean_run:]
label, name, model, acq = CASES[case]
if texts and texts[0].startswith("acq="):
    acq = replace(acq, **eval(texts.pop(0)[4:]))
if name != "cnt-contamination":
    sys.exit(f"case {case} is not an atomic-level case; choose 4, 5, 7 or 8")
phantom, base = samples(name, model, size)
sim = simulate(base if clean_run else phantom, size, replace(acq, pixel_size=CNT_CUBE / size), seed=1)
shape = (size,) * 3
truth = sim.truth.data
grown = phantom.voxelize(shape, t=float(sim.series.times.max())) - truth
for text in texts:
    start = time.perf_counter()
    if text == "sirt":
        config = None
    else:
        overrides = eval(text)
        spacetime.SPATIAL_MLP = overrides.pop("mlp", spacetime.SPATIAL_MLP)
        spacetime.Decomposed = (functools.partial(DECOMPOSED, basis=overrides.pop("bases"))
                                if "bases" in overrides else DECOMPOSED)
        config = INRConfig(**(dict(steps=steps, rays_per_step=2048, dynamic="spacetime", field="hashgrid") | overrides))
    volume, contamination = reconstruct(config, sim, shape)
    line = (f"case {case}{' clean' if clean_run else ''} {text}: ssim {metrics.ssim(volume, truth):.3f} "
            f"left {metrics.contamination_left(volume, truth, grown):.3f}")
    if contamination is not None:
        line += f" D err {np.linalg.norm(contamination - grown) / np.linalg.norm(grown):.3f}"
        if clean_run:
            line += f" |D1|/mass {np.abs(contamination).sum() / truth.sum():.3f}"
    print(line + f" {time.perf_counter() - start:.0f}s", flush=True)
