"""A tagger's training run (``lmlab train --kind tag`` and :class:`lmlab.api.SequenceTagger`): its
defaults and hyper-parameters, its data (a named tagging dataset or column files: training and dev
sentences) and the run's start (vocabularies, tag set, model, task, trainer).

The dev metric is token accuracy, or conlleval span F1 for chunk tags (conll2000's chunks, or
data with a ``scheme``).  Without dev data (conll2000, a training file without a dev file) the
last 1000 training sentences are held out for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .runs import CELL_NAMES, TASK_DEFAULTS, EncoderSettings, hold_out, new_trainer, settings_problems, train_config

# The tagger's defaults where ``lmlab train``'s (an LM's) do not fit; an option given wins.
DEFAULTS = TASK_DEFAULTS


@dataclass(frozen=True)
class TagSettings(EncoderSettings):
    """A tagger's hyper-parameters, named (and defaulting) as ``lmlab train --kind tag``'s options:
    ``model`` is the recurrent cell or ``window`` (Collobert's window MLP over ``context`` words on
    each side); ``char_hidden=0``: no character features."""

    char_emsize: int = 50
    char_hidden: int = 50
    crf: bool = False
    word_dropout: float = 0.0
    lowercase: bool = False
    context: int = 4
    min_count: int = 1
    pretrained: str | None = None
    freeze: bool = False

    def problems(self) -> list[str]:
        out = settings_problems(self, {"model": (*CELL_NAMES, "window")},
                                positive=("emsize", "nhid", "nlayers", "char_emsize", "context", "min_count"),
                                nonnegative=("char_hidden",), rates=("dropout", "word_dropout"))
        defaults = TagSettings()
        unused = ("nlayers", "unidirectional", "char_emsize", "char_hidden", "crf", "freeze") \
            if self.model == "window" else ("context",)
        out += [f"{name}={getattr(self, name)!r} has no effect with model={self.model!r}" for name in unused
                if getattr(self, name) != getattr(defaults, name)]
        if self.freeze and self.pretrained is None:
            out.append("freeze=True keeps pretrained vectors fixed: give pretrained=FILE too")
        return out

    def config(self) -> dict:
        """The model's ``config.json``."""
        if self.model == "window":
            return {"kind": "tag", "architecture": "window", "window": self.context, "emsize": self.emsize,
                    "hidden_size": self.nhid, "dropout": self.dropout, "word_dropout": self.word_dropout,
                    "freeze_embeddings": self.freeze}
        return {"kind": "tag", "architecture": "rnn", "emsize": self.emsize, "hidden_size": self.nhid,
                "num_layers": self.nlayers, "cell": CELL_NAMES[self.model], "bidirectional": not self.unidirectional,
                "dropout": self.dropout, "char_emsize": self.char_emsize, "char_hidden_size": self.char_hidden,
                "crf": self.crf, "word_dropout": self.word_dropout, "freeze_embeddings": self.freeze}


def source(data: str | None = None, labels: str | None = None, train: str | None = None, valid: str | None = None,
           word_column: int | None = None, label_column: int | None = None, scheme: str | None = None) -> dict:
    """What a run reads, as recorded with it (``trainer_state.json``'s ``source``, for --resume
    and for the labels ``lmlab evaluate --data`` defaults to)."""
    return {"data": data, "labels": labels, "train": train, "valid": valid, "word_column": word_column,
            "label_column": label_column, "scheme": scheme}


def read_sentences(src: dict, split: str):
    """Tagged sentences of the run's data (a named dataset or a column file)."""
    from ..data.columns import read_columns
    from ..data.tasks import tagging_task

    if src.get("data"):
        return tagging_task(src["data"], split, src.get("labels"))
    path = src["train"] if split == "train" else src["valid"]
    return read_columns(path, word_column=src.get("word_column"), label_column=src.get("label_column"),
                        scheme=src.get("scheme"))


def chunk_scheme(data: str | None, labels: str | None) -> str | None:
    """The chunk scheme of a named dataset's tags (conll2000's chunks: iob2), else None."""
    return "iob2" if data == "conll2000" and labels in (None, "chunk") else None


def scheme_of(src: dict | None) -> str | None:
    """The chunk scheme of the run's tags (span F1 is then the dev metric), or None (also for a
    model without a run record: ``src`` None).  It is the default scheme of a test file or of
    in-memory test data (``lmlab evaluate --test``, ``SequenceTagger.evaluate``)."""
    if src is None:
        return None
    return chunk_scheme(src.get("data"), src.get("labels")) or src.get("scheme")


def splits(src: dict, *, where: str = "--kind tag: ", give_dev: str = "give --valid FILE", train=None, dev=None):
    """``(train, dev)`` tagged sentences of the run's data; ``train``/``dev`` given (in memory)
    replace the files; without dev data the last :data:`~lmlab.train.runs.HOLDOUT` training
    sentences are held out (``where`` and ``give_dev``: how an error names the run and the remedy)."""
    from ..data.tasks import TAGGING_TASKS

    if src.get("data") and src["data"] not in TAGGING_TASKS:
        raise ConfigError(f"{where}unknown tagging dataset {src['data']!r}; known: {', '.join(TAGGING_TASKS)}")
    train = read_sentences(src, "train") if train is None else train
    if dev is not None:
        return train, dev
    if src.get("valid") or src.get("data") == "ud-english-ewt":
        return train, read_sentences(src, "valid")
    return hold_out(train, "training sentences", give_dev, where)


def start(train_sentences, settings: TagSettings, save, *, scheme: str | None, source: dict, overwrite: bool = False,
          quiet: bool = False, **train_options):
    """A new run's :class:`~lmlab.train.loop.Trainer`: the vocabularies (words, characters) and tag
    set of ``train_sentences``, the model of ``settings`` (seeded), the tagging task;
    ``train_options`` are :func:`~lmlab.train.runs.train_config`'s."""
    import torch

    from ..models.neural.tagger import TaggingModel
    from ..tensors.tagging import build_tagging_vocabs
    from .tag_task import make_task

    vocabs = build_tagging_vocabs(train_sentences, min_count=settings.min_count, lowercase=settings.lowercase)
    if settings.model == "window" or settings.char_hidden == 0:
        vocabs.pop("chars")
    tcfg = train_config(DEFAULTS, **train_options)
    torch.manual_seed(tcfg.seed)
    model = TaggingModel.from_config(settings.config(), vocabs)
    return new_trainer(model, tcfg, vocabs, make_task(tcfg, model, scheme), save, source,
                       pretrained=settings.pretrained, overwrite=overwrite, quiet=quiet)


def training_data(sentences, vocabs):
    """What the trainer fits on: the training sentences encoded once (dev stays as sentences)."""
    from ..tensors.tagging import encode_sentences

    return encode_sentences(sentences, vocabs)
