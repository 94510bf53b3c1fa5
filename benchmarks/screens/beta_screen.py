"""Screening of the INR's loss schedule on one 64³ case (benchmarks/RESULTS.md, issue 4 leads).

    .venv/bin/python benchmarks/screens/beta_screen.py TILT FLUENCE SEED [key=value …]

key=value: INRConfig overrides (e.g. warmup=0, sparsity=0), beta0=X / beta1=X (SMOOTH_L1_BETA's start / end),
eps=X (SPARSITY's ε), bias=X (the field's output bias at the start: softplus(X) of the mean density),
phantom=NAME, size=N.
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
bias = None
make_field = R.make_field


def biased_field(*args, **kwargs):
    net = make_field(*args, **kwargs)
    if bias is not None:
        with torch.no_grad():
            net.mlp[-1].bias.fill_(bias)
    return net


R.make_field = biased_field
phantom, size = "nanoparticles", 64
for a in sys.argv[4:]:
    k, v = a.split("=")
    if k == "beta0": R.SMOOTH_L1_BETA = (float(v), R.SMOOTH_L1_BETA[1])
    elif k == "beta1": R.SMOOTH_L1_BETA = (R.SMOOTH_L1_BETA[0], float(v))
    elif k == "eps": R.SPARSITY = (R.SPARSITY[0], float(v))
    elif k == "bias": bias = float(v)
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
