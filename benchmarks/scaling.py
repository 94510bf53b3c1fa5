"""Scaling (issue 7): processes, training memory against volume size, streamed export.

    .venv/bin/python benchmarks/scaling.py [--parts processes memory export] [--size 64]
        [--steps 100] [--sizes 64 128 256] [--export-shape 1400 1536 1536] [--device cpu]

processes: the same INR run (``size³`` nanoparticles, ±60° at 2°, 2000 e/Å², the default
global batch of 2048 rays) launched by torchrun on 1 and on 2 processes (Gloo on the CPU,
the cores split between them; NCCL with one GPU each on CUDA): training time, samples/s,
ssim against the truth, and how far the two runs' losses and volumes differ.
memory: peak RSS of training above the loaded data, for ``sizes³`` series (61 views) with the
same ray budget (2048 rays × 64 samples) and with the default samples (one per voxel).
export: a volume of ``export-shape`` voxels (larger than half this machine's memory by
default) written to MRC slab by slab: wall time, voxels/s and peak RSS. The field is a
trilinear 64³ grid (cheap, so the row measures the export, not the network; a hash grid's
points/s are in the last row and in benchmarks/field_speed.py).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CORES = len(os.sched_getaffinity(0))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _python(code: str, *args, env=None) -> dict:
    """Run ``code`` in a fresh interpreter; its last line of output is JSON."""
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True, capture_output=True, text=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def processes(size: int, steps: int, device: str) -> None:
    import mrcfile

    from inrtomo import io, metrics
    from inrtomo.simulate import Acquisition, make_phantom, simulate

    work = Path(tempfile.mkdtemp(prefix="scaling-"))
    phantom = make_phantom("nanoparticles", size, seed=0)
    sim = simulate(phantom, size, Acquisition(tilt_range=(-60, 60), tilt_step=2, fluence=2000.0), seed=0)
    io.write_tilt_series(work / "tilts.mrc", sim.series)
    truth = sim.truth.data
    counts = [1, 2] if device == "cpu" else [1, min(2, int(_python("import torch; print(torch.cuda.device_count())")))]
    rows, runs = [], {}
    for n in counts:
        env = {**os.environ, "OMP_NUM_THREADS": str(max(CORES // n, 1))}
        out = work / f"p{n}.mrc"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}",
                        "-m", "inrtomo", "reconstruct", str(work / "tilts.mrc"), "-o", str(out), "--method", "inr",
                        "--steps", str(steps), "--device", device, "--quiet"], check=True, env=env,
                       capture_output=True)
        wall = time.perf_counter() - started
        record = json.loads(out.with_suffix(".json").read_text())["parameters"]
        volume = mrcfile.read(out)
        runs[n] = (record, volume)
        samples = record["steps"] * record["rays_per_step"] * (record["config"]["samples_per_ray"] or size)
        rows.append((n, record["training_s"], samples / record["training_s"], wall,
                     metrics.ssim(volume, truth)))
    print(f"\n{size}³, {sim.series.n_views} views, {steps} steps of 2048 rays × {size} samples, {CORES} cores, {device}")
    print(f"{'processes':>9} {'train s':>8} {'samples/s':>10} {'wall s':>7} {'ssim':>6} {'time ratio':>10}")
    for n, train, rate, wall, score in rows:
        print(f"{n:>9} {train:>8.1f} {rate:>10.3g} {wall:>7.1f} {score:>6.3f} {train / rows[0][1]:>10.2f}")
    if len(runs) == 2:
        (a, va), (b, vb) = runs[counts[0]], runs[counts[1]]
        loss = np.max(np.abs(np.subtract(a["losses"], b["losses"])) / np.abs(a["losses"]))
        print(f"largest relative loss difference {loss:.2e}; volume difference "
              f"{np.abs(va - vb).max() / np.abs(va).max():.2e} of the maximum")


MEMORY_CHILD = """
import json, resource, sys
import numpy as np, torch
from inrtomo.geometry import Poses
from inrtomo.recon.inr import INRConfig, train_inr
size, samples, device = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
poses = Poses.nominal(np.arange(-60.0, 61.0, 2.0))
images = torch.from_numpy(np.random.default_rng(0).random((61, size, size), dtype=np.float32))
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
base = peak()
if device == "cuda":
    torch.cuda.reset_peak_memory_stats()
train_inr(images, poses, (size,) * 3, INRConfig(steps=5, samples_per_ray=samples, eval_every=100), device=device,
          quiet=True)
gpu = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else 0.0
print(json.dumps({"data_mb": images.numel() * 4 / 2**20, "base_mb": base, "train_mb": peak() - base, "gpu_mb": gpu}))
"""


def memory(sizes, device: str) -> None:
    print(f"\ntraining memory, 2048 rays per step, {device}: RSS above the loaded series (GPU: peak allocated)")
    print(f"{'size':>6} {'series MB':>10} {'samples':>8} {'train MB':>9} {'GPU MB':>8}")
    for size in sizes:
        for samples in (64, size):
            row = _python(MEMORY_CHILD, size, samples, device)
            print(f"{size:>5}³ {row['data_mb']:>10.0f} {samples:>8} {row['train_mb']:>9.0f} {row['gpu_mb']:>8.0f}")


EXPORT_CHILD = """
import json, resource, sys, time
import torch
from inrtomo import io
from inrtomo.fields import make_field
from inrtomo.render import GridField
from inrtomo.recon.inr import sample_grid
shape, path, device = tuple(int(s) for s in sys.argv[1:4]), sys.argv[4], sys.argv[5]
grid = GridField(torch.rand(64, 64, 64, device=device))
scale = torch.tensor([64 / shape[2], 64 / shape[1], 64 / shape[0]], device=device)
start = time.perf_counter()
with io.volume_writer(path, shape, 1.0) as out:
    sample_grid(lambda p: grid(p * scale), shape, device=device, out=out, chunk=2**22)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
net = make_field("hashgrid", (256, 256, 256), seed=0).to(device)
start = time.perf_counter()
sample_grid(net, (32, 256, 256), device=device)
rate = 32 * 256 * 256 / (time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "peak_mb": peak, "hashgrid_points_s": rate}))
"""


def export(shape, device: str) -> None:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    size = np.prod(shape) * 4 / 2**30
    with tempfile.TemporaryDirectory(dir=".") as folder:
        path = Path(folder) / "big.mrc"
        row = _python(EXPORT_CHILD, *shape, path, device)
        assert path.stat().st_size >= np.prod(shape) * 4
    print(f"\nstreamed export, {device}: {' × '.join(map(str, shape))} voxels = {size:.1f} GiB "
          f"({size / total:.0%} of {total:.0f} GiB memory)")
    print(f"{'wall s':>8} {'voxels/s':>10} {'peak RSS MB':>12} {'hash grid points/s':>19}")
    print(f"{row['seconds']:>8.1f} {np.prod(shape) / row['seconds']:>10.3g} {row['peak_mb']:>12.0f} "
          f"{row['hashgrid_points_s']:>19.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["processes", "memory", "export"],
                        choices=["processes", "memory", "export"])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    parser.add_argument("--export-shape", type=int, nargs=3, default=[1400, 1536, 1536], metavar=("Z", "Y", "X"))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if "processes" in args.parts:
        processes(args.size, args.steps, args.device)
    if "memory" in args.parts:
        memory(args.sizes, args.device)
    if "export" in args.parts:
        export(args.export_shape, args.device)


if __name__ == "__main__":
    main()
