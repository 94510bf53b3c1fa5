"""Our SIRT against ASTRA's CPU SIRT (2-D strip projector, slice by slice), side by side.

    .venv/bin/python benchmarks/baselines.py [--size 64] [--iterations 100] [--memory-sizes 128 256]

Part 1: a ``size³`` nanoparticles phantom, ±60° at 2°, 2000 e/Å²; both SIRTs run the same
number of iterations with positivity, each in a fresh process; the table gives wall time,
peak memory above the process's baseline (torch imported, data loaded), ssim and psnr
against the truth, and the ratios ours / ASTRA.
Part 2: our SIRT (10 iterations) on larger volumes, to show memory stays bounded.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(which: str, data: Path, iterations: int) -> None:
    """Run one reconstruction and print its figures as JSON (runs in a fresh process)."""
    import torch

    from inrtomo import metrics
    from inrtomo.geometry import Poses
    from inrtomo.projector import Projector
    from inrtomo.recon import sirt

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import astra_sirt

    saved = np.load(data)
    images, angles, truth = saved["images"], saved["angles"], saved["truth"]
    baseline = _rss_mb()
    start = time.perf_counter()
    if which == "ours":
        projector = Projector(truth.shape, Poses.nominal(angles), images.shape[1:])
        volume = sirt(projector, torch.from_numpy(images), iterations, quiet=True).volume.numpy()
    else:
        volume = astra_sirt(images, angles, truth.shape[0], iterations)
    seconds = time.perf_counter() - start
    figures = {"seconds": seconds, "memory_mb": _peak_mb() - baseline}
    if truth.any():
        figures.update(ssim=metrics.ssim(volume, truth), psnr=metrics.psnr(volume, truth))
    print(json.dumps(figures))


def _run_child(which: str, data: Path, iterations: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", which, "--data", str(data),
                          "--iterations", str(iterations)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[128, 256])
    parser.add_argument("--child", choices=["ours", "astra"])
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.iterations)
        return

    import torch

    from inrtomo.geometry import Poses
    from inrtomo.projector import Projector
    from inrtomo.simulate import Acquisition, make_phantom, simulate

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.npz"
        acq = Acquisition(tilt_range=(-60, 60), tilt_step=2, fluence=2000.0)
        sim = simulate(make_phantom("nanoparticles", args.size, seed=0), args.size, acq, seed=0)
        np.savez(data, images=sim.series.images, angles=sim.series.angles, truth=sim.truth.data)
        rows = {which: _run_child(which, data, args.iterations) for which in ("ours", "astra")}
        print(f"\nSIRT, nanoparticles {args.size}³, ±60° at 2° ({sim.series.n_views} views), 2000 e/Å², "
              f"{args.iterations} iterations, positivity on; torch threads {torch.get_num_threads()}")
        print(f"{'':<10}{'time (s)':>10}{'memory (MB)':>13}{'ssim':>8}{'psnr':>8}")
        for which, r in rows.items():
            print(f"{which:<10}{r['seconds']:>10.2f}{r['memory_mb']:>13.0f}{r['ssim']:>8.3f}{r['psnr']:>8.2f}")
        o, a = rows["ours"], rows["astra"]
        print(f"{'ours/astra':<10}{o['seconds'] / a['seconds']:>10.3f}{o['memory_mb'] / max(a['memory_mb'], 1):>13.2f}"
              f"{o['ssim'] - a['ssim']:>+8.3f}{o['psnr'] - a['psnr']:>+8.2f}   (time, memory: ratio; ssim, psnr: difference)")

        if args.memory_sizes:
            print("\nour SIRT on larger volumes, 61 views, 10 iterations (phantom projected with our own A)")
            print(f"{'size':>6}{'volume (MB)':>13}{'data (MB)':>11}{'time (s)':>10}{'s/iteration':>13}{'memory (MB)':>13}")
        for n in args.memory_sizes:
            angles = np.arange(-60.0, 61.0, 2.0)
            truth = make_phantom("nanoparticles", n, seed=0).voxelize((n, n, n), supersample=1)
            images = Projector(truth.shape, Poses.nominal(angles), (n, n)).A(torch.from_numpy(truth)).numpy()
            np.savez(data, images=images, angles=angles, truth=np.zeros((n, n, n), np.float32))
            r = _run_child("ours", data, 10)
            print(f"{n:>6}{truth.nbytes / 2**20:>13.0f}{images.nbytes / 2**20:>11.0f}{r['seconds']:>10.2f}"
                  f"{r['seconds'] / 10:>13.3f}{r['memory_mb']:>13.0f}")


if __name__ == "__main__":
    main()
