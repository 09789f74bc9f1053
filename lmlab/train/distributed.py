"""Data-parallel training (``torchrun --nproc_per_node N -m lmlab train ...``): one process per
rank, each training on its slice of every batch, the gradients summed by
:class:`~torch.nn.parallel.DistributedDataParallel` during the backward pass.

* The world comes from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
  ``LOCAL_WORLD_SIZE``); without it training is one process, as before.  The process group is
  gloo on CPU and nccl on CUDA (each rank on ``cuda:LOCAL_RANK``).
* ``batch_size`` is the global batch: each rank gets ``batch_size / WORLD_SIZE`` rows of every
  batch, a contiguous slice (:func:`shard`).  In stream mode the rows are the stream's columns,
  so every rank carries its own columns' state from window to window (truncated BPTT) exactly as
  one process with the whole batch would.  A world size that does not divide the batch size is
  refused.  A batch with fewer rows than ranks (an epoch's last) leaves some rank without rows:
  it computes one row's loss times zero, so every rank takes part in the gradient sum.
* The loss goes through DDP's own forward (:class:`LossForward` wraps ``model.loss``), so DDP's
  hooks see the graph.  Each rank's summed loss is divided by the step's *global* item count
  (``Trainer.global_items``) and the gradients are summed, not averaged (:func:`_sum_hook`):
  the step's gradient is that of one process with the whole batch.
* DDP looks for parameters a step leaves out (the adaptive softmax's tail clusters when no
  target falls in them); for a model that uses all of them PyTorch says so once per rank on
  stderr (a warning from its C++ side, harmless).
* Dropout is drawn per rank from the epoch's seed and the rank, so with dropout the curve is not
  the one-process curve (without dropout it is, to rounding).  Only rank 0 prints progress and
  writes the run's files (atomically, as always); a run is resumed with the world size it was
  trained with.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError
from ..tensors.batch import Batch
from ..text.specials import PAD_ID


@dataclass(frozen=True)
class World:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    local_size: int = 1

    @property
    def main(self) -> bool:
        """The process that prints and writes files."""
        return self.rank == 0

    @property
    def parallel(self) -> bool:
        return self.size > 1


def world_from_env(env: Mapping[str, str] = os.environ) -> World:
    """The world torchrun describes in ``env`` (one process when ``WORLD_SIZE`` is not set)."""
    if "WORLD_SIZE" not in env:
        return World()
    values = {}
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        raw = env.get(key, {"LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": env["WORLD_SIZE"]}.get(key))
        try:
            values[key] = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"environment variable {key}={raw!r} is not a whole number (WORLD_SIZE is set: "
                              "start data-parallel training with torchrun, which sets RANK, WORLD_SIZE, "
                              "LOCAL_RANK)") from None
    w = World(values["RANK"], values["WORLD_SIZE"], values["LOCAL_RANK"], values["LOCAL_WORLD_SIZE"])
    if w.size < 1 or not 0 <= w.rank < w.size:
        raise ConfigError(f"environment: RANK={w.rank} is not a rank of WORLD_SIZE={w.size}")
    return w


def check_batch_size(batch_size: int, world: World) -> None:
    """Every rank gets the same share of a batch: the world size must divide the batch size."""
    if batch_size % world.size:
        raise ConfigError(f"--batch_size {batch_size} does not split evenly over the {world.size} processes "
                          f"torchrun started (WORLD_SIZE={world.size}); give a batch size that is a multiple of "
                          f"{world.size}")


def device_for(device: torch.device, world: World) -> torch.device:
    """A CUDA rank's own GPU, ``cuda:LOCAL_RANK`` (other devices as given)."""
    if world.parallel and device.type == "cuda":
        if world.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK={world.local_rank} but this node has {torch.cuda.device_count()} CUDA "
                              "devices: start at most one rank per GPU (torchrun --nproc_per_node)")
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    return device


def init_process_group(world: World, device: torch.device) -> None:
    """Join the training processes (gloo on CPU, nccl on CUDA); nothing for one process."""
    if not world.parallel or dist.is_initialized():
        return
    missing = [k for k in ("MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise ConfigError(f"WORLD_SIZE={world.size} is set but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not: start data-parallel "
                          "training with torchrun")
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=world.rank, world_size=world.size)


class LossForward(nn.Module):
    """``forward(batch)`` is ``model.loss(batch)``: the module DDP wraps, so the loss is computed
    through DDP's forward and its gradient hooks are armed for the backward pass."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch: Batch):
        return self.model.loss(batch)


def _sum_hook(state, bucket):
    """DDP's all-reduce without its division by the world size: each rank's loss is already
    divided by the global item count, so the sum is the whole batch's gradient."""
    fut = dist.all_reduce(bucket.buffer(), async_op=True).get_future()
    return fut.then(lambda f: f.value()[0])


def data_parallel(model: nn.Module) -> nn.parallel.DistributedDataParallel:
    """``model``'s loss wrapped in DDP (parameters broadcast from rank 0, gradients summed)."""
    ddp = nn.parallel.DistributedDataParallel(LossForward(model), device_ids=None, forward_sync_buffers=False,
                                              find_unused_parameters=True)
    ddp.register_comm_hook(None, _sum_hook)
    return ddp


def all_sum(value: float, device: torch.device) -> float:
    """``value`` summed over the ranks (itself with one process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item())


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def shard(batch: Batch, world: World, rows_axis: int = 0, scored: str = "targets") -> Batch:
    """This rank's contiguous slice of ``batch``'s rows (axis ``rows_axis`` of every tensor):
    rows ``[n*rank/size, n*(rank+1)/size)``, with its own item count (the entries of tensor
    ``scored`` that are not padding).  A rank left without rows gets the batch's last row with
    ``n_items`` 0: the trainer counts its loss times zero."""
    if not world.parallel:
        return batch
    target = batch[scored]
    n = target.shape[rows_axis]
    per_row = (target != PAD_ID).movedim(rows_axis, 0).reshape(n, -1).sum(1)
    if int(per_row.sum()) != batch.n_items:
        raise ValueError(f"the task's scored tensor {scored!r} counts {int(per_row.sum())} items in a batch of "
                         f"{batch.n_items}: data-parallel shards would be weighted wrongly")
    lo, hi = n * world.rank // world.size, n * (world.rank + 1) // world.size
    items = int(per_row[lo:hi].sum())
    if hi == lo:
        lo, items = n - 1, 0
        hi = n
    tensors = {k: v.narrow(rows_axis, lo, hi - lo) for k, v in batch.tensors.items()}
    return Batch(tensors, items, batch.index[lo:hi], batch.carry)
