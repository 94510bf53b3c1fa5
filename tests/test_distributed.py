"""Training on several processes (torch.distributed, Gloo on the CPU), launched as a user
would: torchrun, or ranks started by hand."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import mrcfile
import numpy as np
import pytest
import torch

from inrtomo import io
from inrtomo.cli import main
from inrtomo.distributed import Ranks
from inrtomo.simulate import Acquisition, make_phantom, simulate

INR = ["--method", "inr", "--device", "cpu", "--quiet"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def tilts(tmp_path_factory):
    sim = simulate(make_phantom("nanoparticles", 16, seed=0), 16,
                   Acquisition(tilt_range=(-60, 60), tilt_step=6, fluence=3000.0), seed=0)
    path = tmp_path_factory.mktemp("distributed") / "tilts.mrc"
    io.write_tilt_series(path, sim.series)
    return path


def torchrun(*args, processes=2, command="reconstruct", **popen):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
               "-m", "inrtomo", command, *map(str, args)]
    return subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


def record(volume_path):
    return json.loads(volume_path.with_suffix(".json").read_text())["parameters"]


def test_ranks_share_a_batch_exactly():
    for n, world in [(10, 3), (2048, 2), (5, 8)]:
        parts = [Ranks(rank, world).share(n) for rank in range(world)]
        assert [p.start for p in parts[1:]] == [p.stop for p in parts[:-1]]
        assert parts[0].start == 0 and parts[-1].stop == n
        sizes = [p.stop - p.start for p in parts]
        assert max(sizes) - min(sizes) <= 1


def test_two_processes_follow_one_process(tilts, tmp_path, capsys):
    """Same global batch and seed: the loss trajectories agree to 1e-4 (measured ~2e-7);
    the volumes to 5e-3 of the maximum (measured 9e-4: Adam turns the different summation
    order of near-zero gradients, e.g. of hash-grid levels still fading in, into steps of
    the full learning rate)."""
    process = torchrun(tilts, "-o", tmp_path / "two.mrc", *INR, "--steps", 30)
    assert main(["reconstruct", str(tilts), "-o", str(tmp_path / "one.mrc"), *INR, "--steps", "30"]) == 0
    out = finish(process)
    assert "× 2 processes" in out and out.count("wrote") == 1  # rank 0 alone reports and writes
    one, two = record(tmp_path / "one.mrc"), record(tmp_path / "two.mrc")
    assert len(one["losses"]) == len(two["losses"]) == 30
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-4)
    np.testing.assert_allclose(two["heldout_losses"], one["heldout_losses"], rtol=1e-4)
    a, b = mrcfile.read(tmp_path / "one.mrc"), mrcfile.read(tmp_path / "two.mrc")
    assert np.abs(a - b).max() < 5e-3 * np.abs(a).max()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.json", "one.mrc", "two.json", "two.mrc"]


def test_alignment_on_two_processes_follows_one_process(tmp_path):
    """``inrtomo align`` under torchrun: the coarse poses are rank 0's, the INR refinement
    (80 steps, shifts learned from step 50) shares its batches; the poses written match a
    single process's."""
    sim = simulate(make_phantom("nanoparticles", 16, seed=1), 16,
                   Acquisition(tilt_range=(-60, 60), tilt_step=6, fluence=5000.0, tilt_axis_error=2.0,
                               shift_std=1.0), seed=1)
    io.write_tilt_series(tmp_path / "tilts.mrc", sim.series)
    options = ["--steps", 80, "--device", "cpu", "--quiet"]
    process = torchrun(tmp_path / "tilts.mrc", "-o", tmp_path / "two", *options, command="align")
    assert main(["align", str(tmp_path / "tilts.mrc"), "-o", str(tmp_path / "one"), *map(str, options)]) == 0
    out = finish(process)
    assert out.count("wrote") == 1 and "× 2 processes" in out
    poses = {name: np.loadtxt(tmp_path / f"{name}.csv", delimiter=",", skiprows=1) for name in ("one", "two")}
    assert poses["one"].shape[0] == sim.series.n_views
    np.testing.assert_allclose(poses["two"], poses["one"], atol=1e-3)
    losses = [json.loads((tmp_path / f"{name}.json").read_text())["parameters"]["losses"] for name in ("one", "two")]
    assert len(losses[0]) == 80
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-3)
    coarse = json.loads((tmp_path / "one.json").read_text())["coarse_poses"]
    assert coarse == json.loads((tmp_path / "two.json").read_text())["coarse_poses"]


def test_a_killed_distributed_run_resumes_to_the_same_volume(tilts, tmp_path):
    steps = ["--steps", 100]
    whole = torchrun(tilts, "-o", tmp_path / "whole.mrc", *INR, *steps)
    killed = torchrun(tilts, "-o", tmp_path / "resumed.mrc", *INR, *steps, "--checkpoint", tmp_path / "state",
                      "--checkpoint-every", 0)
    checkpoint = tmp_path / "state" / "inr-checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.send_signal(signal.SIGTERM)  # as a batch system does; torchrun ends its workers
    killed.communicate(timeout=60)
    done = len(torch.load(checkpoint, weights_only=True)["losses"])
    assert 0 < done < 100 and not (tmp_path / "resumed.mrc").exists()
    finish(torchrun(tilts, "-o", tmp_path / "resumed.mrc", *INR, *steps, "--checkpoint", tmp_path / "state",
                    "--resume"))
    finish(whole)
    np.testing.assert_allclose(record(tmp_path / "resumed.mrc")["losses"], record(tmp_path / "whole.mrc")["losses"],
                               rtol=1e-5)
    a, b = mrcfile.read(tmp_path / "whole.mrc"), mrcfile.read(tmp_path / "resumed.mrc")
    assert np.abs(a - b).max() <= 1e-5 * np.abs(a).max()


def test_a_dead_rank_ends_the_others_within_seconds(tilts, tmp_path):
    """Ranks started by hand (no torchrun to clean up): rank 1 is killed mid-run; rank 0
    must notice at its next step and stop with one clear line, not wait."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ranks = []
    for rank in (0, 1):
        env = {**ENV, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
               "LOCAL_RANK": str(rank), "WORLD_SIZE": "2"}
        ranks.append(subprocess.Popen(
            [sys.executable, "-m", "inrtomo", "reconstruct", str(tilts), "-o", str(tmp_path / "v.mrc"), *INR,
             "--steps", "100000", "--checkpoint", str(tmp_path / "state"), "--checkpoint-every", "0"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    deadline = time.monotonic() + 120
    while not (tmp_path / "state" / "inr-checkpoint.pt").exists() and time.monotonic() < deadline:
        assert ranks[0].poll() is None, ranks[0].communicate()
        time.sleep(0.05)
    ranks[1].kill()
    killed_at = time.monotonic()
    _, err = ranks[0].communicate(timeout=60)
    assert time.monotonic() - killed_at < 20
    assert ranks[0].returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inrtomo: error: rank 0: another process"), err
    assert not (tmp_path / "v.mrc").exists()


def test_under_torchrun_only_the_inr_runs(tilts, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for args, words in [(["info", str(tilts)], "not info"),
                        (["reconstruct", str(tilts), "-o", str(tmp_path / "v.mrc"), "--method", "sirt"], "run sirt")]:
        assert main(args) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("inrtomo: error: torchrun") and words in lines[0], lines
    assert list(tmp_path.iterdir()) == []
