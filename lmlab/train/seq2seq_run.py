"""An encoder-decoder's training run (``lmlab train --kind seq2seq`` and
:class:`lmlab.api.Translator`): its defaults and hyper-parameters, its data (Multi30k or
line-aligned ``(source, target)`` pairs of tokenised text) and the run's start (source and target
vocabularies, model, task, trainer); and its BLEU report (``lmlab evaluate``).

Without dev pairs the last 1000 training pairs are held out.  The dev metric is the dev targets'
perplexity (``dev_metric="ppl"``) or greedy dev BLEU (``"bleu"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError, CorpusError
from .runs import CELL_NAMES, EncoderSettings, hold_out, new_trainer, settings_problems, train_config

DEFAULTS = {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "clip": 1.0, "dropout": 0.3, "epochs": 10,
            "emsize": 256, "nhid": 256, "nlayers": 1, "model": "gru"}
FILES = ("train_source", "train_target", "valid_source", "valid_target")
# lmlab.models.neural.seq2seq.ATTENTIONS and lmlab.train.seq2seq_task.DEV_METRICS (both import torch; building
# the parser must not: tests/neural/test_seq2seq_cli.py checks they are equal)
ATTENTIONS = ("none", "bahdanau", "dot", "general")
DEV_METRICS = ("ppl", "bleu")


@dataclass(frozen=True)
class Seq2SeqSettings(EncoderSettings):
    """An encoder-decoder's hyper-parameters, named (and defaulting) as ``lmlab train --kind
    seq2seq``'s options: ``model`` is the cell of both stacks, ``nhid`` the encoder's units per
    direction, ``decoder_hidden`` the decoder's (None: the encoder's output size)."""

    model: str = DEFAULTS["model"]
    emsize: int = DEFAULTS["emsize"]
    nhid: int = DEFAULTS["nhid"]
    nlayers: int = DEFAULTS["nlayers"]
    dropout: float = DEFAULTS["dropout"]
    attention: str = "bahdanau"
    input_feed: bool = False
    decoder_hidden: int | None = None
    min_count: int = 1

    def problems(self) -> list[str]:
        return settings_problems(self, {"model": tuple(CELL_NAMES), "attention": ATTENTIONS},
                                 positive=("emsize", "nhid", "nlayers", "decoder_hidden", "min_count"),
                                 rates=("dropout",))

    def config(self) -> dict:
        """The model's settings (``Seq2Seq(source, target, **config)``)."""
        return {"emsize": self.emsize, "hidden_size": self.nhid, "num_layers": self.nlayers,
                "cell": CELL_NAMES[self.model], "bidirectional": not self.unidirectional, "attention": self.attention,
                "decoder_hidden_size": self.decoder_hidden, "input_feed": self.input_feed, "dropout": self.dropout}


def source(data: str | None = None, source: str | None = "en", target: str | None = "de", **files: str | None) -> dict:
    """What a run reads, as recorded with it (for --resume and ``lmlab evaluate --data multi30k``'s
    languages); ``files``: :data:`FILES`, absolute paths."""
    return {"data": data, "source": source, "target": target, **{name: files.get(name) for name in FILES}}


def check_sources(pairs, where, target_where=None) -> None:
    """An empty source sentence is an error (an encoder has nothing to encode); ``where(i)`` names
    the ``i``-th pair (from 1).  With ``target_where`` (training pairs) an empty target sentence is
    one too: the decoder would learn to end every translation at once from it."""
    empty = next((i for i, (s, _) in enumerate(pairs, start=1) if not s.split()), None)
    if empty is not None:
        raise CorpusError(f"{where(empty)}: an empty source sentence (an encoder has nothing to encode); drop the pair")
    empty = None if target_where is None else next((i for i, (_, t) in enumerate(pairs, start=1) if not t.split()), None)
    if empty is not None:
        raise CorpusError(f"{target_where(empty)}: an empty target sentence in training data (the decoder would learn "
                          "to end a translation at once from it); drop the pair")


def read_pairs(src: dict, split: str) -> list[tuple[str, str]]:
    """The run's ``(source, target)`` pairs of ``split`` (train or valid)."""
    from ..data.parallel import multi30k, read_parallel

    if src.get("data"):
        return multi30k(split, src["source"], src["target"])
    pairs = read_parallel(src[f"{split}_source"], src[f"{split}_target"])
    check_sources(pairs, lambda i: f"{src[f'{split}_source']}: line {i}",
                  (lambda i: f"{src[f'{split}_target']}: line {i}") if split == "train" else None)
    return pairs


def splits(src: dict, *, where: str = "--kind seq2seq: ",
           give_dev: str = "give --valid_source FILE and --valid_target FILE", train=None, dev=None):
    """``(train, dev)`` pairs of the run's data; ``train``/``dev`` given (in memory) replace the
    files; without dev pairs the last :data:`~lmlab.train.runs.HOLDOUT` training pairs are held out."""
    if src.get("data") and src["data"] != "multi30k":
        raise ConfigError(f"{where}unknown parallel dataset {src['data']!r}; known: multi30k")
    train = read_pairs(src, "train") if train is None else train
    if dev is not None:
        return train, dev
    if src.get("data") or src.get("valid_source"):
        return train, read_pairs(src, "valid")
    return hold_out(train, "training pairs", give_dev, where)


def start(train_pairs, settings: Seq2SeqSettings, save, *, dev_metric: str = "ppl", source: dict,
          overwrite: bool = False, quiet: bool = False, **train_options):
    """A new run's :class:`~lmlab.train.loop.Trainer`: the source and target vocabularies of
    ``train_pairs``, the model of ``settings`` (seeded), the task with its ``dev_metric``;
    ``train_options`` are :func:`~lmlab.train.runs.train_config`'s."""
    import torch

    from ..models.neural.seq2seq import Seq2Seq
    from ..text.vocab import Vocab
    from .seq2seq_task import make_task

    vocabs = {side: Vocab.build((p[i].split() for p in train_pairs), min_count=settings.min_count)
              for i, side in enumerate(("source", "target"))}
    tcfg = train_config(DEFAULTS, **train_options)
    torch.manual_seed(tcfg.seed)
    model = Seq2Seq(vocabs["source"], vocabs["target"], **settings.config())
    return new_trainer(model, tcfg, model.vocabs, make_task(tcfg, model, dev_metric), save, source,
                       overwrite=overwrite, quiet=quiet)


def bleu_of(model, pairs, raw_references=None, *, lang: str = "en", beam: int = 1, alpha: float = 0.0,
            max_len: int | None = None, batch_size: int = 64, device="cpu", baseline=None,
            resamples: int = 1000) -> dict:
    """The BLEU report of ``model``'s translations of the pairs' sources against their targets
    (:func:`~lmlab.eval.bleu.bleu_report`: ``-tok none``, and with ``raw_references`` ``-lc`` on
    the output detokenised for ``lang``), with the decoding's ``beam`` and ``alpha``; with
    ``baseline`` (another system's translations, line-aligned) sacrebleu's paired bootstrap against it."""
    from ..eval.bleu import bleu_report, paired_bootstrap
    from ..generate.translate import best_translations

    out = best_translations(model, [s for s, _ in pairs], beam=beam, max_len=max_len, alpha=alpha,
                            batch_size=batch_size, device=device)
    refs = [t for _, t in pairs]
    rep = bleu_report(out, refs, raw_references, lang=lang)
    rep["beam"], rep["alpha"] = beam, alpha
    if baseline is not None:
        rep["bootstrap"] = paired_bootstrap(baseline, out, refs, resamples=resamples)
    return rep
