"""Runs quantem's INR tomography (``TomographyLiteINR``, its defaults) in quantem's own
environment, for benchmarks/quantem_peer.py; not part of inrtomo.

    QUANTEM_PYTHON benchmarks/quantem_runner.py CASE.npz OUT.npz EPOCHS

CASE.npz holds ``images`` ``(n, ny, nx)`` in inrtomo's layout (tilt axis along y) and
``angles`` in degrees. quantem tilts about its image x axis (columns), so the images are
handed over transposed. OUT.npz gets the volume after each epoch and the training seconds
up to it (volume export excluded).
"""
import sys
import time

import numpy as np
import torch
from quantem.tomography.tomography_lite import TomographyLiteINR


def main() -> None:
    case, out, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = np.load(case)
    images = np.ascontiguousarray(data["images"].transpose(0, 2, 1), dtype=np.float32)
    tomo = TomographyLiteINR.from_dataset(images, data["angles"].astype(np.float32), device="cpu", rng=0)
    volumes, seconds, elapsed = [], [], 0.0
    for epoch in range(epochs):
        start = time.perf_counter()
        tomo.reconstruct(num_iter=1, num_workers=0, learn_pose=False)
        elapsed += time.perf_counter() - start
        with torch.no_grad():
            volumes.append(np.asarray(tomo.obj_model.obj_view, dtype=np.float32).squeeze())
        seconds.append(elapsed)
        print(f"epoch {epoch + 1}: {elapsed:.1f} s", flush=True)
    np.savez(out, volumes=np.stack(volumes), seconds=np.array(seconds))


if __name__ == "__main__":
    main()
