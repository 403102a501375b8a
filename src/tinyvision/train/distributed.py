"""Device choice and ``torchrun``/DDP set-up, shared by the classifier and detector trainers.

Under ``torchrun --nproc_per_node N ...`` each process finds ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` in its environment; :func:`setup_distributed` joins the process group
(NCCL on GPUs, gloo on CPUs) and picks the device. Without them it is a one-process
context and nothing is initialised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

from tinyvision._errors import UserError

__all__ = [
    "DistContext",
    "all_reduce_sum",
    "barrier",
    "broadcast_object",
    "cleanup_distributed",
    "resolve_device",
    "setup_distributed",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank among ``world_size`` processes, and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """True on rank 0, which writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def resolve_device(
    request: str | torch.device | None = "auto", *, local_rank: int = 0
) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` into a device.

    ``"auto"`` takes the GPU when there is one (``cuda:local_rank``), else the CPU.

    Raises:
        UserError: a GPU was asked for but none is available.
    """
    if request is None or str(request) == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        device = torch.device(request)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {request!r}"
        ) from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {request}: no CUDA GPU is available here (use --device cpu)")
        index = device.index if device.index is not None else local_rank
        if index >= torch.cuda.device_count():
            raise UserError(
                f"--device {request}: only {torch.cuda.device_count()} CUDA device(s) available"
            )
        return torch.device("cuda", index)
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(f"--device {request}: MPS is not available here (use --device cpu)")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got {request!r}"
        )
    return device


def setup_distributed(device: str | torch.device | None = "auto") -> DistContext:
    """Join the ``torchrun`` process group if there is one; return this process's context."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    chosen = resolve_device(device, local_rank=local_rank)
    if world_size > 1 and not dist.is_initialized():
        if chosen.type == "cuda":
            torch.cuda.set_device(chosen)
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistContext(rank, world_size, local_rank, chosen)


def cleanup_distributed(ctx: DistContext) -> None:
    """Leave the process group set up by :func:`setup_distributed` (no-op for one process)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(ctx: DistContext) -> None:
    """Wait for every rank (no-op for one process)."""
    if ctx.distributed:
        dist.barrier()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over ranks in place and return it (unchanged for one process)."""
    if ctx.distributed:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def broadcast_object(obj: Any, ctx: DistContext, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` (picklable) on every rank (``obj`` itself for one process)."""
    if not ctx.distributed:
        return obj
    shared = [obj]
    dist.broadcast_object_list(shared, src=src)
    return shared[0]
