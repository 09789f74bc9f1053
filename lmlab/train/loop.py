"""Training neural LMs: teacher forcing, truncated BPTT, clipping, annealing, checkpoints.

``stream`` mode is the pytorch/examples recipe: the training text is one stream cut into
``batch_size`` columns; windows of ``bptt`` steps are trained with the hidden state carried from
one window to the next and detached (otherwise backpropagation would run back to the start of
the data).  ``sentence`` mode trains every sentence from ``<s>`` with a fresh state (padded
batches), matching sentence-independent evaluation.  The fixed-window LM trains on (context,
next token) examples.

Every epoch: validation perplexity (every token scored), SGD's learning rate divided by
``anneal`` when it did not improve, early stopping after ``patience`` such epochs, and an atomic
checkpoint: the best model in ``model.safetensors``, the last epoch's weights, optimizer and
trainer state for ``--resume``.  Dropout is seeded per epoch, so a resumed run repeats an
uninterrupted one exactly on CPU.  A NaN or infinite loss stops training with
:class:`TrainingDivergedError` naming the step; the last good checkpoint stays on disk.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .._io import write_bytes_atomic
from .._json import INT, NUMBER, OBJECT, check_fields, dataclass_kinds, list_of, optional, read_json
from .._progress import progress_bar
from ..errors import ConfigError, CorpusError, ModelFormatError, TrainingDivergedError, VocabMismatchError
from ..eval.perplexity import mode_label
from ..models.neural.build import build_model
from ..models.neural.checkpoint import (
    CONFIG,
    WEIGHTS,
    load_tensors,
    read_config,
    read_vocab,
    save_model,
    save_tensors,
    weights_metadata,
)
from ..models.neural.config import ModelConfig, RNNLMConfig
from ..models.neural.device import resolve_device
from ..models.neural.scoring import stream_logprobs
from ..tensors.streams import IGNORE, bptt_windows, lm_pairs, window_examples
from ..text.specials import BOS_ID
from ..text.vocab import Vocab

LAST, OPTIM, STATE, LOG = "last.safetensors", "optimizer.safetensors", "trainer_state.json", "log.jsonl"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 6
    lr: float = 20.0
    optimizer: str = "sgd"  # sgd | adam | adamw
    weight_decay: float = 0.0
    clip: float = 0.25  # global gradient norm; 0 = off
    bptt: int = 35
    batch_size: int = 20
    eval_batch_size: int = 10
    anneal: float = 4.0
    patience: int = 0  # early stopping: epochs without improvement (0 = never stop early)
    mode: str = "stream"  # stream | sentence
    seed: int = 1111
    threads: int | None = None  # None: the free cores
    max_batches: int | None = None  # per epoch (smoke runs, time-boxed benchmarks)
    dry_run: bool = False
    device: str = "cpu"
    progress: bool = True

    def problems(self) -> list[str]:
        out = []
        if self.optimizer not in ("sgd", "adam", "adamw"):
            out.append(f"optimizer {self.optimizer!r} is not one of sgd, adam, adamw")
        if self.mode not in ("stream", "sentence"):
            out.append(f"mode {self.mode!r} is not one of stream, sentence")
        for name in ("epochs", "bptt", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                out.append(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.lr > 0:
            out.append(f"lr must be > 0, got {self.lr}")
        if self.clip < 0:
            out.append(f"clip must be >= 0, got {self.clip}")
        if self.anneal < 1:
            out.append(f"anneal must be >= 1, got {self.anneal}")
        return out


def free_cores() -> int:
    """Cores not busy with other work (oversubscribing 2 cores costs 5-8x, PEERS-NEURAL.md)."""
    n = os.cpu_count() or 1
    try:
        busy = int(round(os.getloadavg()[0]))
    except OSError:
        busy = 0
    return max(1, min(n, n - busy))


@dataclass
class EpochResult:
    epoch: int
    lr: float
    train_loss: float
    train_ppl: float
    valid_ppl: float
    tokens_per_s: float
    seconds: float
    best: bool
    valid_mode: str = "stream"  # how valid_ppl was measured (lmlab.eval.perplexity.describe_mode)
    valid_columns: int | None = None
    extra: dict = field(default_factory=dict)


def check_save_dir(folder: Path, overwrite: bool = False) -> None:
    """Refuse a ``save_dir`` that is a file (or under one), or that holds a model, unless ``overwrite``."""
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                what = "is a file" if p == folder else f"is under {p}, a file"
                raise ConfigError(f"{folder}: {what}, not a folder; a model is saved as a folder of files")
            break
    held = [n for n in (CONFIG, WEIGHTS, STATE) if (folder / n).exists()]
    if held and not overwrite:
        raise ConfigError(f"{folder}: already holds a model ({', '.join(held)}); continue it with --resume "
                          "(Trainer.resume) or replace it with --overwrite (overwrite=True)")


def _outermost_missing(folder: Path) -> Path | None:
    """The outermost folder on ``folder``'s path that does not exist yet (None if ``folder`` exists)."""
    missing = None
    for p in (folder, *folder.parents):
        if p.exists():
            break
        missing = p
    return missing


_STATE_FIELDS = {"epoch": INT, "lr": NUMBER, "best": NUMBER, "bad_epochs": INT, "step": INT, "threads": INT,
                 "train_config": OBJECT, "history": list_of(OBJECT), "source": optional(OBJECT)}


def read_state(path: Path) -> dict:
    """``trainer_state.json``, every field checked (a one-line error naming the file otherwise)."""
    meta = read_json(path, "an lmlab trainer state", ModelFormatError)
    check_fields(meta, _STATE_FIELDS, where=str(path), error=ModelFormatError,
                 required=[k for k in _STATE_FIELDS if k != "source"])
    check_fields(meta["train_config"], dataclass_kinds(TrainConfig), where=f"{path}: train_config",
                 error=ModelFormatError)
    return meta


class Trainer:
    """Trains one model into ``save_dir``.

    ``save_dir`` must not hold a model already unless ``overwrite`` (then the first checkpoint
    replaces it; until then it stays as it was).  The folder is created at the first checkpoint,
    so a run that fails before one leaves nothing behind.  ``source`` (any JSON object, e.g. the
    dataset's name) is saved with the run and given back by :meth:`resume`.
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig, vocab: Vocab, save_dir: str | Path,
                 pretrained: str | Path | None = None, *, overwrite: bool = False, source: dict | None = None):
        problems = train_config.problems()
        if problems:
            raise ConfigError(problems)
        if model_config.vocab_size != len(vocab):
            raise VocabMismatchError(
                f"the model config is for {model_config.vocab_size} tokens but the vocabulary has {len(vocab)}"
            )
        self.mcfg, self.tcfg, self.vocab = model_config, train_config, vocab
        self.dir = Path(save_dir)
        check_save_dir(self.dir, overwrite)
        self.device = resolve_device(train_config.device)
        self.source = source
        self._fresh = True  # the first checkpoint writes every file (it may replace an older model)
        self.is_rnn = isinstance(model_config, RNNLMConfig)
        self.threads = train_config.threads or free_cores()
        self.epoch = 0
        self.lr = train_config.lr
        self.best = math.inf
        self.bad_epochs = 0
        self.history: list[dict] = []
        self.step = 0
        torch.manual_seed(train_config.seed)
        self.model = build_model(model_config)
        self.coverage = None
        if pretrained is not None:
            from ..models.neural.embeddings import load_pretrained

            self.coverage = load_pretrained(self.model.encoder, pretrained, vocab)
        self.model.to(self.device)
        self.optimizer = self._make_optimizer()

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
        if best or self._fresh or not (self.dir / WEIGHTS).exists():
            save_model(self.dir, self.model, self.mcfg, self.vocab)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        if getattr(self.mcfg, "tied", False):
            state.pop("decoder.weight", None)
        save_tensors(self.dir / LAST, state, {"vocab_fingerprint": self.vocab.fingerprint})
        opt = {}
        for pid, st in self.optimizer.state_dict()["state"].items():
            for k, v in st.items():
                if torch.is_tensor(v):
                    opt[f"{pid}.{k}"] = v.detach().cpu().contiguous()
        save_tensors(self.dir / OPTIM, opt or {"empty": torch.zeros(1)})
        meta = {"epoch": self.epoch, "lr": self.lr, "best": self.best, "bad_epochs": self.bad_epochs,
                "step": self.step, "threads": self.threads, "train_config": asdict(self.tcfg),
                "history": self.history, "source": self.source}
        write_bytes_atomic(self.dir / STATE, json.dumps(meta, indent=2).encode())
        write_bytes_atomic(self.dir / LOG, "".join(json.dumps(h) + "\n" for h in self.history).encode())

    # What a resumed run may change (``Trainer.resume(dir, **overrides)``): how long and how far it
    # goes, where it runs, what it prints, and the learning rate from now on.  Everything else
    # (the model, the vocabulary, the optimizer, batching, seeds, threads) is the run's own.
    RESUME_OVERRIDES = ("epochs", "max_batches", "patience", "lr", "clip", "device", "dry_run", "progress")

    @classmethod
    def resume(cls, save_dir: str | Path, vocab: Vocab | None = None, **overrides) -> Trainer:
        """Continue a run from its last checkpoint (same thread count as recorded).

        ``overrides`` are :data:`RESUME_OVERRIDES` fields of :class:`TrainConfig`; ``lr`` sets the
        learning rate from the next epoch on (SGD keeps annealing from it)."""
        d = Path(save_dir)
        if not (d / STATE).is_file():
            raise ConfigError(f"{d}: nothing to resume (no {STATE})")
        refused = sorted(set(overrides) - set(cls.RESUME_OVERRIDES))
        if refused:
            raise ConfigError(f"a resumed run keeps its own {', '.join(refused)}; it may change only "
                              f"{', '.join(cls.RESUME_OVERRIDES)}")
        meta = read_state(d / STATE)
        stored_vocab = read_vocab(d, weights_metadata(d / WEIGHTS))
        if vocab is not None:
            stored_vocab.check_same(vocab, "the data")
        tc = dict(meta["train_config"], **overrides)
        tc["threads"] = meta["threads"]
        trainer = cls(read_config(d), TrainConfig(**tc), stored_vocab, d, overwrite=True, source=meta.get("source"))
        trainer._fresh = False
        state = load_tensors(d / LAST)
        trainer.model.load_state_dict(state, strict=False)
        opt_state = trainer.optimizer.state_dict()
        flat = load_tensors(d / OPTIM)
        for key, v in flat.items():
            if key == "empty":
                continue
            pid, name = key.split(".", 1)
            opt_state["state"].setdefault(int(pid), {})[name] = v
        trainer.optimizer.load_state_dict(opt_state)
        trainer.epoch, trainer.best, trainer.bad_epochs = meta["epoch"], meta["best"], meta["bad_epochs"]
        trainer.step, trainer.history = meta["step"], meta["history"]
        trainer._set_lr(overrides["lr"] if "lr" in overrides else meta["lr"])
        return trainer

    # -- training -------------------------------------------------------------------------
    def fit(self, train_stream: np.ndarray, valid_stream: np.ndarray) -> list[dict]:
        """Train until ``epochs`` (or early stopping); returns the per-epoch history."""
        torch.set_num_threads(self.threads)
        if getattr(self.mcfg, "adaptive_cutoffs", ()):
            counts = np.bincount(np.asarray(train_stream), minlength=len(self.vocab))
            counts[BOS_ID] = -1  # never predicted: the rarest class
            rank = np.empty(len(counts), dtype=np.int64)
            rank[np.argsort(-counts, kind="stable")] = np.arange(len(counts))
            if self.epoch == 0:
                self.model.rank.copy_(torch.from_numpy(rank))
        if self.is_rnn and self.tcfg.mode == "stream":
            inp, tgt = lm_pairs(train_stream, self.tcfg.batch_size)
            if inp.shape[0] < self.tcfg.bptt:
                raise CorpusError(
                    f"the training text has {len(train_stream)} tokens: {inp.shape[0]} per column with "
                    f"batch size {self.tcfg.batch_size}, fewer than one BPTT window of {self.tcfg.bptt}; "
                    "use more text or lower --batch_size/--bptt"
                )
        elif len(train_stream) < 2:
            raise CorpusError("the training text is empty")
        while self.epoch < self.tcfg.epochs:
            self.epoch += 1
            torch.manual_seed(self.tcfg.seed * 1000 + self.epoch)  # per-epoch: resumable exactly
            t0 = time.perf_counter()
            loss_sum, n_tok = self._train_epoch(train_stream)
            seconds = time.perf_counter() - t0
            valid_ppl = self.evaluate(valid_stream)
            improved = valid_ppl < self.best
            if improved:
                self.best, self.bad_epochs = valid_ppl, 0
            else:
                self.bad_epochs += 1
            mode, columns = self.valid_mode
            row = asdict(EpochResult(self.epoch, self.lr, loss_sum / max(n_tok, 1),
                                     math.exp(min(loss_sum / max(n_tok, 1), 50)), valid_ppl,
                                     n_tok / seconds if seconds else 0.0, seconds, improved, mode, columns))
            self.history.append(row)
            if not improved and self.tcfg.optimizer == "sgd":
                self._set_lr(self.lr / self.tcfg.anneal)
            self.save(improved)
            if self.tcfg.progress:
                print(f"| epoch {self.epoch:3d} | {seconds:6.1f}s | lr {row['lr']:.4g} | train ppl "
                      f"{row['train_ppl']:8.2f} | valid ppl {valid_ppl:8.2f} ({self.valid_mode_label}) | "
                      f"{row['tokens_per_s']:.0f} tok/s", file=sys.stderr, flush=True)
            if self.tcfg.dry_run or (self.tcfg.patience and self.bad_epochs >= self.tcfg.patience):
                break
        return self.history

    def _check(self, loss: torch.Tensor) -> None:
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"the training loss became {loss.item()} at epoch {self.epoch}, step {self.step}; the last "
                f"good checkpoint is in {self.dir}; lower the learning rate (--lr) or clip harder (--clip)"
            )

    def _update(self, loss: torch.Tensor) -> None:
        self._check(loss)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.tcfg.clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.tcfg.clip)
        self.optimizer.step()
        self.step += 1

    def _batches(self, train_stream):
        t = self.tcfg
        if not self.is_rnn:
            ctx, tgt = window_examples(train_stream, self.mcfg.context)
            n = len(tgt)
            g = torch.Generator().manual_seed(t.seed * 1000 + self.epoch)
            order = torch.randperm(n, generator=g)
            bs = t.batch_size
            for i in range(0, n, bs):
                idx = order[i : i + bs]
                yield ctx[idx], tgt[idx], None
            return
        if t.mode == "stream":
            inp, tgt = lm_pairs(train_stream, t.batch_size)
            for i, n in bptt_windows(inp.shape[0], t.bptt):
                yield inp[i : i + n], tgt[i : i + n], "carry"
            return
        sents = np.split(train_stream, np.flatnonzero(train_stream == BOS_ID)[1:])
        rng = np.random.default_rng(t.seed * 1000 + self.epoch)
        order = rng.permutation(len(sents))
        for i in range(0, len(order), t.batch_size):
            batch = [sents[j] for j in order[i : i + t.batch_size]]
            T = max(len(s) for s in batch) - 1
            inp = torch.full((T, len(batch)), BOS_ID, dtype=torch.long)
            tgt = torch.full((T, len(batch)), IGNORE, dtype=torch.long)
            for b, s in enumerate(batch):
                inp[: len(s) - 1, b] = torch.from_numpy(s[:-1])
                tgt[: len(s) - 1, b] = torch.from_numpy(s[1:])
            yield inp, tgt, "reset"

    def n_batches(self, train_stream) -> int:
        """Batches in one epoch (after ``max_batches`` and ``dry_run``), the progress bar's total."""
        t, n = self.tcfg, len(train_stream)
        if not self.is_rnn:
            count = -(-(n - int(np.count_nonzero(np.asarray(train_stream) == BOS_ID))) // t.batch_size)
        elif t.mode == "stream":
            count = -(-(max(n - 1, 0) // t.batch_size) // t.bptt)  # rows of the columns, in windows
        else:
            count = -(-int(np.count_nonzero(np.asarray(train_stream) == BOS_ID)) // t.batch_size)
        if t.max_batches:
            count = min(count, t.max_batches)
        return min(count, 2) if t.dry_run else count

    def _train_epoch(self, train_stream) -> tuple[float, int]:
        self.model.train()
        hidden = None
        loss_sum, n_tok = 0.0, 0
        bar = progress_bar(self.tcfg.progress, f"epoch {self.epoch}", total=self.n_batches(train_stream),
                           unit="batch")
        t0 = time.perf_counter()
        for b, (inp, tgt, carry) in enumerate(self._batches(train_stream)):
            if (self.tcfg.max_batches and b >= self.tcfg.max_batches) or (self.tcfg.dry_run and b >= 2):
                break
            inp, tgt = inp.to(self.device), tgt.to(self.device)
            if self.is_rnn:
                if carry == "reset" or hidden is None or hidden[0].shape[1] != inp.shape[1]:
                    hidden = self.model.init_hidden(inp.shape[1])
                else:  # truncated BPTT: keep the state, cut the graph
                    hidden = tuple(h.detach() for h in hidden)
                loss, hidden = self.model.loss(inp, hidden, tgt, IGNORE)
            else:
                logits = self.model(inp)
                loss = nn.functional.cross_entropy(logits, tgt, ignore_index=IGNORE)
            k = int((tgt != IGNORE).sum())
            self._update(loss)
            loss_sum += float(loss.detach()) * k
            n_tok += k
            if bar is not None:
                bar.update(1)
                lv = float(loss.detach())
                rate = n_tok / max(time.perf_counter() - t0, 1e-9)
                bar.set_postfix(loss=f"{lv:.3f}", ppl=f"{math.exp(min(lv, 50)):.1f}", tok_s=f"{rate:.0f}")
        if bar is not None:
            bar.close()
        return loss_sum, n_tok

    @property
    def valid_mode(self) -> tuple[str, int | None]:
        """How :meth:`evaluate` scores: RNNs as a stream in ``eval_batch_size`` columns; window
        models see one sentence at a time (sentence mode)."""
        return ("stream", self.tcfg.eval_batch_size) if self.is_rnn else ("sentence", None)

    @property
    def valid_mode_label(self) -> str:
        return mode_label(*self.valid_mode)

    def evaluate(self, stream: np.ndarray) -> float:
        """Perplexity of a stream, every token scored once (words + one </s> per line), in
        :attr:`valid_mode`."""
        return stream_perplexity(self.model, stream, self.is_rnn, self.tcfg.eval_batch_size, self.tcfg.bptt,
                                 getattr(self.mcfg, "context", 0), self.device, progress=self.tcfg.progress)


def stream_perplexity(model, stream, is_rnn: bool, batch_size: int = 10, bptt: int = 35, context: int = 0,
                      device="cpu", progress: bool = False) -> float:
    """Streaming perplexity (the state carried across sentences in ``batch_size`` columns, as
    pytorch/examples evaluate), with every token scored: see :func:`~lmlab.models.neural.scoring.stream_logprobs`."""
    lp, _ = stream_logprobs(model, stream, is_rnn, batch_size, bptt, context, device, progress)
    if len(lp) == 0:
        raise CorpusError("the validation text is empty")
    nll = -float(np.mean(lp))
    return math.exp(nll) if nll < 700 else math.inf
