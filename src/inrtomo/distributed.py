"""Training across processes with ``torch.distributed``: one process per GPU (NCCL) or per
share of the CPU (Gloo), launched by torchrun::

    torchrun --standalone --nproc-per-node 4 -m inrtomo reconstruct TILTS -o OUT --method inr

(several nodes: torchrun's ``--nnodes``/``--rdzv-endpoint`` rendezvous instead of
``--standalone``). Every rank holds the whole field and draws the same global batch of rays
from the same seeded generator; each integrates its own share of the batch and the
gradients (field and poses) are summed over ranks, so one step equals one step of a single
process on the global batch: ``rays_per_step`` and the learning rate mean the same for any
number of processes. Rank 0 alone writes outputs, logs and checkpoints.
"""
from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist

TIMEOUT_S = 300.0
"""Seconds a collective waits for a silent (hung, not dead) rank before the run ends; a
rank that dies is noticed at the next collective."""


class DistributedError(RuntimeError):
    """Another process of a distributed run stopped or cannot be reached."""

    @classmethod
    def lost_peer(cls, rank: int, exc: Exception) -> DistributedError:
        """The error for ``rank`` whose collective failed with ``exc`` (Gloo and NCCL report
        a lost peer as RuntimeError): one line naming the first line of the cause."""
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return cls(f"rank {rank}: another process of the distributed run stopped or cannot be reached "
                   f"({reason}); its own message says why")


@contextlib.contextmanager
def _collective(rank: int) -> Iterator[None]:
    """Around a collective of ``rank``: a lost peer becomes a :class:`DistributedError`."""
    try:
        yield
    except RuntimeError as exc:
        raise DistributedError.lost_peer(rank, exc) from None


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: ``rank`` of ``world`` processes."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Rank 0: the one that writes."""
        return self.rank == 0

    def share(self, n: int) -> slice:
        """This rank's part of ``n`` items: contiguous, sizes differing by at most one."""
        base, extra = divmod(n, self.world)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` summed over all ranks, in place."""
        if self.world > 1:
            with _collective(self.rank):
                dist.all_reduce(tensor)
        return tensor

    def sum_gradients(self, parameters: Iterable[torch.Tensor]) -> None:
        """Sum the gradients of ``parameters`` over ranks in one collective (every rank has
        gradients for the same parameters)."""
        grads = [p.grad for p in parameters if p.grad is not None]
        if self.world == 1 or not grads:
            return
        flat = self.sum(torch.cat([g.reshape(-1) for g in grads]))
        for grad, part in zip(grads, flat.split([g.numel() for g in grads])):
            grad.copy_(part.view_as(grad))

    def broadcast(self, tensors: Iterable[torch.Tensor]) -> None:
        """Copy rank 0's ``tensors`` to every rank."""
        if self.world > 1:
            for tensor in tensors:
                dist.broadcast(tensor, 0)

    def from_main(self, value):
        """Rank 0's ``value`` (any picklable object) on every rank."""
        if self.world == 1:
            return value
        box = [value]
        with _collective(self.rank):
            dist.broadcast_object_list(box, 0)
        return box[0]


def current() -> Ranks:
    """The ranks of the process group this process has joined (one process if none)."""
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def launched() -> bool:
    """Whether torchrun started this process as one of several."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[tuple[Ranks, torch.device]]:
    """Join the process group torchrun set up (NCCL for CUDA, else Gloo) for the block;
    yields this process's :class:`Ranks` and its device (``cuda:LOCAL_RANK`` for CUDA).
    A single process passes straight through."""
    if not launched() or dist.is_initialized():
        yield current(), device
        return
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                            timeout=datetime.timedelta(seconds=TIMEOUT_S))
    try:
        yield current(), device
        # leave together (the others wait while rank 0 writes): a rank that exits while a
        # peer is still connected can abort in Gloo's teardown
        with _collective(dist.get_rank()):
            if device.type == "cuda":
                dist.barrier()
            else:
                dist.monitored_barrier(timeout=datetime.timedelta(days=7))
    finally:
        dist.destroy_process_group()
