"""The field's mean over random points during training, per step (issue 4 leads).

    .venv/bin/python benchmarks/screens/field_mean.py TILT FLUENCE SEED PHANTOM BETA0 WARMUP [STEPS]

64³, 2° steps; BETA0 replaces SMOOTH_L1_BETA's start (0.1: β 0.1 throughout). The mean is in
units of the mean density the data imply (mean pixel / 64)."""
import sys
import numpy as np, torch
from inrtomo import metrics
import inrtomo.recon.inr as R
from inrtomo.recon.inr import INRConfig, sample_grid, train_inr, _random_points
from inrtomo.simulate import Acquisition, make_phantom, simulate
torch.set_num_threads(2)
tilt, fluence, seed, phantom = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
beta0, warm = float(sys.argv[5]), int(sys.argv[6])
steps = int(sys.argv[7]) if len(sys.argv) > 7 else 200
R.SMOOTH_L1_BETA = (beta0, 0.1)
size = 64
acq = Acquisition(tilt_range=(-tilt, tilt), tilt_step=2, fluence=fluence, supersample=2)
sim = simulate(make_phantom(phantom, size, seed=seed), size, acq, seed=seed)
truth = sim.truth.data
unit = float(np.abs(sim.series.images).mean()); density = unit / size
pts = _random_points((size,)*3, 8192, torch.Generator().manual_seed(0), "cpu")
traj = []
def on_step(step, net):
    if step <= 60 or step % 20 == 0:
        with torch.no_grad():
            traj.append((step, float(net(pts).mean()) / density))
r = train_inr(torch.from_numpy(sim.series.images), sim.poses, truth.shape, INRConfig(seed=seed, warmup=warm, steps=steps), quiet=True, on_step=on_step)
v = sample_grid(r.field, truth.shape)
print(f"{phantom} ±{tilt:g} {fluence:g} s{seed} β0 {beta0} warm {warm}: ssim {metrics.ssim(v, truth):.3f} psnr {metrics.psnr(v, truth):.2f} mass {v.sum()/truth.sum():.2f}; truth mean/density {truth.mean()/density:.3f}")
print("  " + " ".join(f"{s}:{m:.3g}" for s, m in traj if s <= 40 or s % 20 == 0), flush=True)
