"""Screening of the INR's loss schedule on one 64³ case (benchmarks/RESULTS.md, issue 4 leads).

    .venv/bin/python benchmarks/screens/beta_screen.py TILT FLUENCE SEED [key=value …]

key=value: INRConfig overrides (e.g. warmup=0), beta0=X (SMOOTH_L1_BETA's start), phantom=NAME, size=N.
Prints ssim, psnr and the volume's mass against the truth's."""
import sys, time
import torch
from inrtomo import metrics
import inrtomo.recon.inr as R
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr
from inrtomo.simulate import Acquisition, make_phantom, simulate
torch.set_num_threads(2)
tilt, fluence, seed = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
kw = {}
phantom, size = "nanoparticles", 64
for a in sys.argv[4:]:
    k, v = a.split("=")
    if k == "beta0": R.SMOOTH_L1_BETA = (float(v), R.SMOOTH_L1_BETA[1])
    elif k == "phantom": phantom = v
    elif k == "size": size = int(v)
    else: kw[k] = type(getattr(INRConfig(), k))(v) if getattr(INRConfig(), k) is not None else int(v)
acq = Acquisition(tilt_range=(-tilt, tilt), tilt_step=2, fluence=fluence, supersample=2)
sim = simulate(make_phantom(phantom, size, seed=seed), size, acq, seed=seed)
truth = sim.truth.data
t0 = time.perf_counter()
r = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, INRConfig(seed=seed, **kw), quiet=True)
v = sample_grid(r.field, truth.shape)
print(f"{phantom} ±{tilt:g} {fluence:g} seed {seed} {sys.argv[4:]}: ssim {metrics.ssim(v, truth):.3f} psnr {metrics.psnr(v, truth):.2f} mass {v.sum()/truth.sum():.2f} {time.perf_counter()-t0:.0f}s", flush=True)
