"""The language models' task for the generic trainer: batches of a token stream, perplexity.

``stream`` mode is the pytorch/examples recipe: the training text is one stream cut into
``batch_size`` columns; windows of ``bptt`` steps follow each other with ``carry`` set, so the
recurrent LM starts each window from the state it ended the last one in, detached (otherwise
backpropagation would run back to the start of the data).  ``sentence`` mode trains every
sentence from ``<s>`` with a fresh state (padded batches), matching sentence-independent
evaluation.  The fixed-window LM trains on shuffled (context, next token) examples.

The dev metric is validation perplexity (lower is better), every token scored: RNNs as a stream
in ``eval_batch_size`` columns, window models one sentence at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ..errors import CorpusError
from ..eval.perplexity import mode_label
from ..models.neural.config import RNNLMConfig
from ..models.neural.scoring import stream_logprobs
from ..models.neural.task import Batch
from ..tensors.streams import IGNORE, bptt_windows, lm_pairs, window_examples
from ..text.specials import BOS_ID
from .tasks import Task


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


class LMTask(Task):
    metric = "ppl"
    higher_is_better = False
    item = "token"

    def __init__(self, train_config, model):
        self.tcfg = train_config
        self.is_rnn = isinstance(model.config, RNNLMConfig)
        self.rows_axis = 1 if self.is_rnn else 0  # the recurrent LM's batches are time first: (T, B)
        self.context = getattr(model.config, "context", 0)
        self.adaptive = bool(getattr(model.config, "adaptive_cutoffs", ()))
        self.vocab_size = model.config.vocab_size

    # -- data ---------------------------------------------------------------------------------
    def check(self, train_stream) -> None:
        t = self.tcfg
        if self.is_rnn and t.mode == "stream":
            rows = max(len(train_stream) - 1, 0) // t.batch_size
            if rows < t.bptt:
                raise CorpusError(
                    f"the training text has {len(train_stream)} tokens: {rows} per column with "
                    f"batch size {t.batch_size}, fewer than one BPTT window of {t.bptt}; "
                    "use more text or lower --batch_size/--bptt"
                )
        elif len(train_stream) < 2:
            raise CorpusError("the training text is empty")

    def prepare(self, model, train_stream) -> None:
        """The adaptive softmax's classes by frequency: ``rank[i]`` is word i's frequency rank."""
        if not self.adaptive:
            return
        counts = np.bincount(np.asarray(train_stream), minlength=self.vocab_size)
        counts[BOS_ID] = -1  # never predicted: the rarest class
        rank = np.empty(len(counts), dtype=np.int64)
        rank[np.argsort(-counts, kind="stable")] = np.arange(len(counts))
        model.rank.copy_(torch.from_numpy(rank))

    def train_batches(self, train_stream, epoch: int, seed: int) -> Iterator[Batch]:
        t = self.tcfg
        if not self.is_rnn:
            ctx, tgt = window_examples(train_stream, self.context)
            g = torch.Generator().manual_seed(seed * 1000 + epoch)
            order = torch.randperm(len(tgt), generator=g)
            for i in range(0, len(tgt), t.batch_size):
                idx = order[i : i + t.batch_size]
                yield _batch(ctx[idx], tgt[idx])
            return
        if t.mode == "stream":
            inp, tgt = lm_pairs(train_stream, t.batch_size)
            for k, (i, n) in enumerate(bptt_windows(inp.shape[0], t.bptt)):
                yield _batch(inp[i : i + n], tgt[i : i + n], carry=k > 0)
            return
        sents = np.split(train_stream, np.flatnonzero(train_stream == BOS_ID)[1:])
        rng = np.random.default_rng(seed * 1000 + epoch)
        order = rng.permutation(len(sents))
        for i in range(0, len(order), t.batch_size):
            batch = [sents[j] for j in order[i : i + t.batch_size]]
            T = max(len(s) for s in batch) - 1
            inp = torch.full((T, len(batch)), BOS_ID, dtype=torch.long)
            tgt = torch.full((T, len(batch)), IGNORE, dtype=torch.long)
            for b, s in enumerate(batch):
                inp[: len(s) - 1, b] = torch.from_numpy(s[:-1])
                tgt[: len(s) - 1, b] = torch.from_numpy(s[1:])
            yield _batch(inp, tgt)

    def n_train_batches(self, train_stream) -> int:
        t, n = self.tcfg, len(train_stream)
        if not self.is_rnn:
            return -(-(n - int(np.count_nonzero(np.asarray(train_stream) == BOS_ID))) // t.batch_size)
        if t.mode == "stream":
            return -(-(max(n - 1, 0) // t.batch_size) // t.bptt)  # rows of the columns, in windows
        return -(-int(np.count_nonzero(np.asarray(train_stream) == BOS_ID)) // t.batch_size)

    # -- the metric ---------------------------------------------------------------------------
    @property
    def valid_mode(self) -> tuple[str, int | None]:
        return ("stream", self.tcfg.eval_batch_size) if self.is_rnn else ("sentence", None)

    @property
    def metric_label(self) -> str:
        return mode_label(*self.valid_mode)

    def evaluate(self, model, valid_stream, device="cpu", progress: bool = False) -> float:
        return stream_perplexity(model, valid_stream, self.is_rnn, self.tcfg.eval_batch_size, self.tcfg.bptt,
                                 self.context, device, progress=progress)

    def history_row(self, epoch, lr, loss_sum, n_items, seconds, value, best) -> dict:
        mode, columns = self.valid_mode
        mean = loss_sum / max(n_items, 1)
        return asdict(EpochResult(epoch, lr, mean, math.exp(min(mean, 50)), value,
                                  n_items / seconds if seconds else 0.0, seconds, best, mode, columns))

    def epoch_message(self, row: dict) -> str:
        return (f"| epoch {row['epoch']:3d} | {row['seconds']:6.1f}s | lr {row['lr']:.4g} | train ppl "
                f"{row['train_ppl']:8.2f} | valid ppl {row['valid_ppl']:8.2f} ({self.metric_label}) | "
                f"{row['tokens_per_s']:.0f} tok/s")

    def postfix(self, loss: float, items_per_s: float) -> dict:
        return {"loss": f"{loss:.3f}", "ppl": f"{math.exp(min(loss, 50)):.1f}", "tok_s": f"{items_per_s:.0f}"}


def _batch(inputs: torch.Tensor, targets: torch.Tensor, carry: bool = False) -> Batch:
    return Batch({"inputs": inputs, "targets": targets}, int((targets != IGNORE).sum()), carry=carry)


def make_task(train_config, model) -> LMTask:
    return LMTask(train_config, model)


def stream_perplexity(model, stream, is_rnn: bool, batch_size: int = 10, bptt: int = 35, context: int = 0,
                      device="cpu", progress: bool = False) -> float:
    """Streaming perplexity (the state carried across sentences in ``batch_size`` columns, as
    pytorch/examples evaluate), with every token scored: see :func:`~lmlab.models.neural.scoring.stream_logprobs`."""
    lp, _ = stream_logprobs(model, stream, is_rnn, batch_size, bptt, context, device, progress)
    if len(lp) == 0:
        raise CorpusError("the validation text is empty")
    nll = -float(np.mean(lp))
    return math.exp(nll) if nll < 700 else math.inf
