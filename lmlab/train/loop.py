"""The one training loop, for every kind of neural model (LMs, taggers, classifiers, ...).

The loop knows no architecture: a :class:`~lmlab.train.tasks.Task` gives it the batches of an
epoch and the dev metric with its direction; the model (a
:class:`~lmlab.models.neural.task.TaskModel`) gives the summed loss of a batch and its item count.
Each step's loss is divided by the step's global item count (the sum of its batches' items, over
every process when training data-parallel), so the gradient does not depend on how a step is cut
into batches.  The gradient norm before clipping is recorded every step (``steps.jsonl``, and the
epoch's mean and maximum in ``log.jsonl``) and handed to the per-step hooks (:class:`Callback`).

Every epoch: the dev metric; SGD's learning rate divided by ``anneal`` when it did not improve;
early stopping after ``patience`` such epochs (or at once when the metric reaches its best possible value,
``Task.best_possible``: 100% accuracy); and an atomic checkpoint: the best epoch's model in
``model.safetensors`` (:mod:`lmlab.models.neural.checkpoint`), the last epoch's weights,
optimizer and trainer state for ``--resume``.  Dropout and shuffling are seeded per epoch, so a
resumed run repeats an uninterrupted one exactly on CPU.  A NaN or infinite loss or gradient
stops training with :class:`TrainingDivergedError` naming the step; the last good checkpoint
stays on disk, and ``steps.jsonl`` holds every step up to the one that diverged (recorded last).

Under ``torchrun`` the run is data-parallel (:mod:`lmlab.train.distributed`): each rank trains on
its slice of every batch through DistributedDataParallel, and rank 0 alone prints and writes.

For LMs (``Trainer(lm_config, train_config, vocab, save_dir)``) the task is
:class:`~lmlab.train.lm_task.LMTask`: token streams in, perplexity out.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._io import write_bytes_atomic
from .._progress import progress_bar
from ..errors import ConfigError, TrainingDivergedError
from ..models.neural.checkpoint import CONFIG, WEIGHTS, read_config, read_config_dict, read_vocabularies, \
    weights_metadata
from ..models.neural.device import resolve_device
from ..models.neural.kinds import REGISTRY, spec_for_config
from ..models.neural.task import Batch, TaskModel
from ..text.labels import LabelSet
from ..text.vocab import Vocab
from .config import TrainConfig, free_cores
from .distributed import all_sum, barrier, check_batch_size, data_parallel, device_for, init_process_group, shard, \
    world_from_env
from .lm_task import EpochResult, stream_perplexity  # noqa: F401 - their home before the loop was generic
from .run_folder import (  # noqa: F401 - LAST, LOG, OPTIM, check_save_dir, read_state, read_steps: read from here too
    LAST,
    LOG,
    OPTIM,
    STATE,
    STEPS,
    _outermost_missing,
    check_save_dir,
    load_run_weights,
    read_state,
    read_steps,
    write_run,
)
from .tasks import Task


@dataclass(frozen=True)
class StepInfo:
    """What a per-step hook sees, after the optimizer step."""

    epoch: int
    step: int  # steps done so far in the run (this one included)
    loss: float  # the step's loss: summed loss / items
    items: int  # the step's global item count
    grad_norm: float  # the global gradient norm before clipping
    lr: float
    trainer: Trainer

    def record(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "loss": self.loss, "items": self.items,
                "grad_norm": self.grad_norm, "lr": self.lr}


class Callback:
    """Per-step and per-epoch hooks; override either.  A plain function is a step hook."""

    def on_step(self, info: StepInfo) -> None:
        pass

    def on_epoch(self, trainer: Trainer, row: dict) -> None:
        pass


class _StepHook(Callback):
    def __init__(self, fn: Callable[[StepInfo], Any]):
        self.fn = fn

    def on_step(self, info: StepInfo) -> None:
        self.fn(info)


Vocabs = Mapping[str, Vocab | LabelSet]


class Trainer:
    """Trains one model into ``save_dir``.

    ``model`` is a :class:`TaskModel`, or a config the kind registry builds one from after seeding
    torch with ``train_config.seed`` (an LM config dataclass, or a dict with a ``kind``);
    ``vocabs`` are its named vocabularies and label sets (a lone :class:`Vocab` is an LM's
    ``tokens``).  ``task`` gives the batches and the dev metric (default: the kind's own task).
    ``hooks``: :class:`Callback` objects or functions of a :class:`StepInfo`.

    ``save_dir`` must not hold a model already unless ``overwrite`` (then the first checkpoint
    replaces it; until then it stays as it was).  The folder is created at the first checkpoint,
    so a run that fails before one leaves nothing behind.  ``source`` (any JSON object, e.g. the
    dataset's name) is saved with the run and given back by :meth:`resume`.
    """

    def __init__(self, model: TaskModel | Any, train_config: TrainConfig, vocabs: Vocab | Vocabs,
                 save_dir: str | Path, pretrained: str | Path | None = None, *, task: Task | None = None,
                 overwrite: bool = False, source: dict | None = None,
                 hooks: Iterable[Callback | Callable[[StepInfo], Any]] = ()):
        problems = train_config.problems()
        if problems:
            raise ConfigError(problems)
        self.world = world_from_env()  # torchrun's processes (lmlab.train.distributed); one without it
        check_batch_size(train_config.batch_size, self.world)
        self.vocabs: dict[str, Vocab | LabelSet] = {"tokens": vocabs} if isinstance(vocabs, Vocab) else dict(vocabs)
        self.tcfg = train_config if self.world.main else dataclasses.replace(train_config, progress=False)
        self.dir = Path(save_dir)
        check_save_dir(self.dir, overwrite)
        self.device = device_for(resolve_device(train_config.device), self.world)
        init_process_group(self.world, self.device)
        self._ddp = None  # the model's loss in DistributedDataParallel, made when training starts
        self.source = source
        self._fresh = True  # the first checkpoint writes every file (it may replace an older model)
        self.threads = train_config.threads or max(1, free_cores() // self.world.local_size)
        self.epoch = 0
        self.lr = train_config.lr
        self.bad_epochs = 0
        self.stopped_early = False  # recorded in trainer_state.json: a benchmark knows the run is over
        self.history: list[dict] = []
        self.steps: list[dict] = []  # one record per optimizer step: loss, items, grad_norm, lr
        self.step = 0
        self.hooks = [h if isinstance(h, Callback) else _StepHook(h) for h in hooks]
        if not isinstance(model, TaskModel):
            torch.manual_seed(train_config.seed)
            config = dataclasses.asdict(model) if dataclasses.is_dataclass(model) else dict(model)
            model = spec_for_config(config, "the model config").model_class().from_config(model, self.vocabs)
        self.model = model
        self.task = task if task is not None else REGISTRY[model.kind].task_factory()(train_config, model)
        self.best = self.task.worst
        self.coverage = None
        if pretrained is not None:
            if hasattr(self.model, "load_pretrained"):  # the model knows where its word vectors go
                self.coverage = self.model.load_pretrained(pretrained)
            else:
                from ..models.neural.embeddings import load_pretrained

                self.coverage = load_pretrained(self.model.input_embedding(), pretrained, self.vocabs["tokens"])
        self.model.to(self.device)
        self.optimizer = self._make_optimizer()

    # -- what older code reads -------------------------------------------------------------
    @property
    def vocab(self) -> Vocab | None:
        """The ``tokens`` vocabulary (an LM's only one)."""
        return self.vocabs.get("tokens")  # type: ignore[return-value]

    @property
    def mcfg(self):
        """The model's config (an LM's dataclass; other kinds' ``config_dict()``)."""
        return getattr(self.model, "config", None) or self.model.config_dict()

    @property
    def valid_mode(self):
        return self.task.valid_mode  # type: ignore[attr-defined]

    @property
    def valid_mode_label(self) -> str:
        return self.task.metric_label

    @property
    def metric_label(self) -> str:
        return self.task.metric_label

    # -- setup ----------------------------------------------------------------------------
    def _make_optimizer(self):
        params = [p for p in self.model.parameters() if p.requires_grad]
        t = self.tcfg
        if t.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, weight_decay=t.weight_decay)
        cls = torch.optim.Adam if t.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=self.lr, weight_decay=t.weight_decay)

    def _set_lr(self, lr: float) -> None:
        self.lr = lr
        for g in self.optimizer.param_groups:
            g["lr"] = lr

    # -- checkpoints ----------------------------------------------------------------------
    def save(self, best: bool) -> None:
        """Write the epoch's checkpoint; each file atomically, the trainer state last.  The folder
        is made here; if the first checkpoint fails, what this call made is removed again."""
        made = _outermost_missing(self.dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._write_checkpoint(best)
        except BaseException:
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
            raise
        self._fresh = False

    def _write_checkpoint(self, best: bool) -> None:
        meta = {"epoch": self.epoch, "lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs,
                "step": self.step, "threads": self.threads, "world_size": self.world.size,
                "stopped_early": self.stopped_early,
                "train_config": asdict(self.tcfg),
                "history": self.history, "source": self.source}
        if self.task.config_dict():
            meta["task"] = self.task.config_dict()
        write_run(self.dir, self.model, self.vocabs, self.optimizer, meta, self.steps, self.history,
                  with_model=best or self._fresh or not (self.dir / WEIGHTS).exists())

    # What a resumed run may change (``Trainer.resume(dir, **overrides)``): how long and how far it
    # goes, where it runs, what it prints, and the learning rate from now on.  Everything else
    # (the model, the vocabulary, the optimizer, batching, seeds, threads) is the run's own.
    RESUME_OVERRIDES = ("epochs", "max_batches", "patience", "lr", "clip", "device", "dry_run", "progress")

    @classmethod
    def resume(cls, save_dir: str | Path, vocabs: Vocab | Vocabs | None = None, *, task: Task | None = None,
               hooks: Iterable[Callback | Callable[[StepInfo], Any]] = (), **overrides) -> Trainer:
        """Continue a run from its last checkpoint (same thread count as recorded).

        ``vocabs`` (optional) are checked against the run's own.  ``overrides`` are
        :data:`RESUME_OVERRIDES` fields of :class:`TrainConfig`; ``lr`` sets the learning rate from
        the next epoch on (SGD keeps annealing from it)."""
        d = Path(save_dir)
        if not (d / STATE).is_file():
            raise ConfigError(f"{d}: nothing to resume (no {STATE})")
        refused = sorted(set(overrides) - set(cls.RESUME_OVERRIDES))
        if refused:
            raise ConfigError(f"a resumed run keeps its own {', '.join(refused)}; it may change only "
                              f"{', '.join(cls.RESUME_OVERRIDES)}")
        meta = read_state(d / STATE)
        ranks, world = meta.get("world_size", 1), world_from_env()
        if ranks != world.size:
            raise ConfigError(f"{d}: the run was trained by {ranks} process{'es' if ranks > 1 else ''} and this is "
                              f"{world.size}; resume it with the same world size (torchrun "
                              f"--nproc_per_node/--nnodes giving {ranks} in all{'' if ranks > 1 else ', or no torchrun'})")
        stored = read_vocabularies(d, weights_metadata(d / WEIGHTS))
        if vocabs is not None:
            for name, v in ({"tokens": vocabs} if isinstance(vocabs, Vocab) else vocabs).items():
                if name not in stored:
                    raise ConfigError(f"{d}: the run has no vocabulary {name!r} (it has {', '.join(stored)})")
                stored[name].check_same(v, "the data")
        tc = dict(meta["train_config"], **overrides)
        tc["threads"] = meta["threads"]
        tcfg = TrainConfig(**tc)
        config = read_config_dict(d)
        s = spec_for_config(config, str(d / CONFIG))
        if s.kind == "lm":
            config = read_config(d)  # the LM's dataclass, every field checked
        trainer = cls(config, tcfg, stored, d, task=task, overwrite=True, source=meta.get("source"), hooks=hooks)
        if task is None and meta.get("task"):  # the task's own options, as the run recorded them
            trainer.task = s.task_factory()(tcfg, trainer.model, **meta["task"])
        trainer._fresh = False
        load_run_weights(d, trainer.model, trainer.optimizer)
        trainer.epoch, trainer.best, trainer.bad_epochs = meta["epoch"], meta["best"], meta["bad_epochs"]
        trainer.stopped_early = meta.get("stopped_early", False)
        trainer.step, trainer.history = meta["step"], meta["history"]
        trainer.steps = read_steps(d / STEPS, trainer.step)
        trainer._set_lr(overrides["lr"] if "lr" in overrides else meta["lr"])
        return trainer

    # -- training -------------------------------------------------------------------------
    def fit(self, train_data: Any, valid_data: Any) -> list[dict]:
        """Train until ``epochs`` (or early stopping); returns the per-epoch history."""
        torch.set_num_threads(self.threads)
        if self.world.parallel and self._ddp is None:
            self._ddp = data_parallel(self.model)
        if self.epoch == 0:
            self.task.prepare(self.model, train_data)
        self.task.check(train_data)
        self.task.check_dev(self.model, valid_data)
        while self.epoch < self.tcfg.epochs:
            self.epoch += 1
            # per-epoch (resumable exactly) and per-rank (each rank's dropout its own)
            torch.manual_seed(self.tcfg.seed * 1000 + self.epoch + 7919 * self.world.rank)
            first_step = len(self.steps)
            t0 = time.perf_counter()
            loss_sum, n_items = self._train_epoch(train_data)
            seconds = time.perf_counter() - t0
            value = self.task.evaluate(self.model, valid_data, self.device, self.tcfg.progress)
            improved = self.task.better(value, self.best)
            if improved:
                self.best, self.bad_epochs = value, 0
            else:
                self.bad_epochs += 1
            row = self.task.history_row(self.epoch, self.lr, loss_sum, n_items, seconds, value, improved)
            norms = [r["grad_norm"] for r in self.steps[first_step:]]
            if norms:
                row["grad_norm"] = {"mean": sum(norms) / len(norms), "max": max(norms)}
            self.history.append(row)
            # early stopping: the patience ran out, or the metric is perfect (no epoch can improve on it)
            self.stopped_early = bool(self.tcfg.patience and (self.bad_epochs >= self.tcfg.patience
                                                              or self.best == self.task.best_possible))
            if not improved and self.tcfg.optimizer == "sgd":
                self._set_lr(self.lr / self.tcfg.anneal)
            if self.world.main:
                self.save(improved)
            self._fresh = False
            barrier()  # every rank goes on once the checkpoint is on disk
            if self.tcfg.progress:
                print(self.task.epoch_message(row), file=sys.stderr, flush=True)
            for h in self.hooks:
                h.on_epoch(self, row)
            if self.tcfg.dry_run or self.stopped_early:
                break
        return self.history

    def n_batches(self, train_data: Any) -> int:
        """Batches in one epoch (after ``max_batches`` and ``dry_run``), the progress bar's total."""
        count = self.task.n_train_batches(train_data)
        if self.tcfg.max_batches:
            count = min(count, self.tcfg.max_batches)
        return min(count, 2) if self.tcfg.dry_run else count

    def _train_epoch(self, train_data: Any) -> tuple[float, int]:
        """One epoch's steps; returns (summed training loss, items)."""
        self.model.train()
        loss_sum, n_items = 0.0, 0
        bar = progress_bar(self.tcfg.progress, f"epoch {self.epoch}", total=self.n_batches(train_data),
                           unit="batch")
        t0 = time.perf_counter()
        for b, batch in enumerate(self.task.train_batches(train_data, self.epoch, self.tcfg.seed)):
            if (self.tcfg.max_batches and b >= self.tcfg.max_batches) or (self.tcfg.dry_run and b >= 2):
                break
            info = self.train_step([shard(batch, self.world, self.task.rows_axis, self.task.scored).to(self.device)])
            loss_sum += info.loss * info.items
            n_items += info.items
            if bar is not None:
                bar.update(1)
                bar.set_postfix(**self.task.postfix(info.loss, n_items / max(time.perf_counter() - t0, 1e-9)))
        if bar is not None:
            bar.close()
        return loss_sum, n_items

    def global_items(self, n: int) -> int:
        """The step's item count over every process (data-parallel training); ``n`` with one."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            t = torch.tensor([n], dtype=torch.long, device=self.device)
            torch.distributed.all_reduce(t)
            return int(t.item())
        return n

    def train_step(self, batches: Sequence[Batch]) -> StepInfo:
        """One optimizer step over ``batches`` (one, or the micro-batches of one step): each
        batch's summed loss divided by the step's global item count, the gradients accumulated,
        the global norm recorded before clipping, then clipped and applied."""
        total = self.global_items(sum(b.n_items for b in batches))
        self.optimizer.zero_grad(set_to_none=True)
        loss_value = 0.0
        for i, batch in enumerate(batches):
            with self._sync(i == len(batches) - 1):
                loss, n = self.model.loss(batch) if self._ddp is None else self._ddp(batch)
                if batch.n_items == 0:  # a rank's stand-in row (distributed.shard): in the step, counting nothing
                    loss, n = loss * 0.0, 0
                if n != batch.n_items:
                    raise ValueError(f"{type(self.model).__name__}.loss counted {n} items in a batch of {batch.n_items}")
                loss = loss / max(total, 1)
                self._check(loss, "loss")
                loss.backward()
            loss_value += float(loss.detach())
        loss_value = all_sum(loss_value, self.device) if self._ddp is not None else loss_value
        norm = self._clip()
        self._check(torch.tensor(norm), "gradient norm", loss_value)
        self.optimizer.step()
        self.step += 1
        info = StepInfo(self.epoch, self.step, loss_value, total, norm, self.lr, self)
        self.steps.append(info.record())
        for h in self.hooks:
            h.on_step(info)
        return info

    def _sync(self, last: bool):
        """Data-parallel: the gradients are summed over the ranks in the step's last backward pass."""
        return self._ddp.no_sync() if self._ddp is not None and not last else contextlib.nullcontext()

    def _clip(self) -> float:
        """The global L2 norm of the gradients before clipping; clipped to ``clip`` when set."""
        if self.tcfg.clip:
            return float(nn.utils.clip_grad_norm_(self.model.parameters(), self.tcfg.clip))
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        if not grads:
            return 0.0
        return float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])))

    def _check(self, value: torch.Tensor, what: str, loss: float | None = None) -> None:
        if not torch.isfinite(value):
            if self.world.main:  # one trace, written by the rank that writes the run
                self._keep_trace(what, value.item(), loss)
            saved = "the last good checkpoint is in" if not self._fresh else "no checkpoint yet; the trace is in"
            raise TrainingDivergedError(
                f"the training {what} became {value.item()} at epoch {self.epoch}, step {self.step + 1}; {saved} "
                f"{self.dir} (steps.jsonl: the gradient norm of every step up to it); lower the learning rate "
                "(--lr) or clip harder (--clip)"
            )

    def _keep_trace(self, what: str, value: float, loss: float | None) -> None:
        """On divergence: ``steps.jsonl`` with every step so far and a last record of the step that
        diverged (``"diverged"``: what became ``"value"``), so the run's gradient norms can be
        looked at (``lmlab diagnose clipping``).  Only that file: the folder holds no model after
        a divergence before the first checkpoint, and ``--resume`` reads only the checkpoint's steps."""
        bad = {"epoch": self.epoch, "step": self.step + 1, "loss": loss, "grad_norm": None, "lr": self.lr,
               "diverged": what, "value": str(value), "clip": self.tcfg.clip}
        self.dir.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.dir / STEPS, "".join(json.dumps(r) + "\n" for r in [*self.steps, bad]).encode())

    def evaluate(self, valid_data: Any) -> float:
        """The dev metric of the model as it is now (:attr:`metric_label` says how it is measured)."""
        return self.task.evaluate(self.model, valid_data, self.device, self.tcfg.progress)
