"""The encoder-decoder's task for the generic trainer: length-bucketed batches of sentence pairs
(:func:`lmlab.tensors.parallel.parallel_batches`) and the dev metric.

Training and dev data are ``(source line, target line)`` pairs of tokenised text.  The dev
metric (``dev_metric``) is the perplexity of the dev targets under teacher forcing (``ppl``, the
default: lower is better, one forward pass, no decoding) or the BLEU of greedy translations of the
dev sources against the dev targets (``bleu``: sacrebleu ``-tok none``, higher is better; it is
what the issue compares but costs a decoding of the dev set each epoch).
"""

from __future__ import annotations

import math

import torch

from ..errors import ConfigError, CorpusError
from ..tensors.parallel import parallel_batches
from .tasks import Task, batches_perplexity

DEV_METRICS = ("ppl", "bleu")


class Seq2SeqTask(Task):
    item = "token"
    scored = "target_output"

    def __init__(self, train_config, model, dev_metric: str = "ppl"):
        if dev_metric not in DEV_METRICS:
            raise ConfigError(f"dev_metric must be one of {', '.join(DEV_METRICS)}, got {dev_metric!r}")
        self.batch_size, self.dev_metric = train_config.batch_size, dev_metric
        self.metric = "perplexity" if dev_metric == "ppl" else "bleu"
        self.higher_is_better = dev_metric == "bleu"
        self._model = model  # its vocabularies encode the pairs

    def check(self, pairs) -> None:
        if not pairs:
            raise CorpusError("the training data has no sentence pair")

    def train_batches(self, pairs, epoch: int, seed: int):
        model = self._model
        yield from parallel_batches(pairs, model.source, model.target, batch_size=self.batch_size, shuffle=True,
                                    seed=(seed, epoch))

    def n_train_batches(self, pairs) -> int:
        return math.ceil(len(pairs) / self.batch_size)

    @property
    def metric_label(self) -> str:
        return "dev target perplexity, teacher forced" if self.dev_metric == "ppl" else \
            "greedy dev BLEU, sacrebleu -tok none"

    def evaluate(self, model, pairs, device="cpu", progress: bool = False) -> float:
        was = model.training
        model.eval()
        try:
            if self.dev_metric == "ppl":
                return dev_perplexity(model, pairs, self.batch_size, device)
            from ..eval.bleu import bleu
            from ..generate.translate import best_translations

            out = best_translations(model, [s for s, _ in pairs], batch_size=self.batch_size, device=device)
            return bleu(out, [t for _, t in pairs])["score"]
        finally:
            model.train(was)

    def config_dict(self) -> dict:
        return {"dev_metric": self.dev_metric}


@torch.no_grad()
def dev_perplexity(model, pairs, batch_size: int = 64, device="cpu") -> float:
    """exp(mean negative log-likelihood of the target tokens, ``</s>`` included), teacher forced."""
    return batches_perplexity(model, parallel_batches(pairs, model.source, model.target, batch_size=batch_size), device)


def make_task(train_config, model, dev_metric: str = "ppl") -> Seq2SeqTask:
    return Seq2SeqTask(train_config, model, dev_metric)
