"""A sentence classifier's training run (``lmlab train --kind classify`` and
:class:`lmlab.api.TextClassifier`): its defaults and hyper-parameters, its data (a named dataset or
``(label, text)`` pairs: training and dev examples) and the run's start (vocabulary, label set,
model, task, trainer).

The dev metric is sentence accuracy.  Data without a dev split -- MR's nine training folds,
training examples without dev examples -- gives one tenth of its examples to dev in a fixed way
(:func:`lmlab.data.tasks.hold_out_dev`), the rest train.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .runs import CELL_NAMES, EncoderSettings, new_trainer, settings_problems, train_config
from .runs import TASK_DEFAULTS as DEFAULTS  # a classifier keeps the tagger's defaults (Adam, lr 0.001, ...)

POOLING = ("last", "max", "mean")  # lmlab.models.neural.pooling.POOLING_MODES (which imports torch)


@dataclass(frozen=True)
class ClassifySettings(EncoderSettings):
    """A classifier's hyper-parameters, named (and defaulting) as ``lmlab train --kind classify``'s
    options: ``model`` is the recurrent cell, ``pooling`` how the sentence vector is made from the
    encoder's states over the true length."""

    pooling: str = "max"
    min_count: int = 1
    pretrained: str | None = None
    freeze: bool = False
    init: str = "default"
    chrono_tmax: int | None = None  # --init chrono: the longest dependency (default: the longest training text)

    def problems(self) -> list[str]:
        from ..models.neural.config import ENCODER_INITS

        out = settings_problems(self, {"model": tuple(CELL_NAMES), "pooling": POOLING, "init": ENCODER_INITS},
                                positive=("emsize", "nhid", "nlayers", "min_count", "chrono_tmax"), rates=("dropout",))
        if self.init == "chrono" and CELL_NAMES.get(self.model, self.model) not in ("lstm", "gru"):
            out.append(f"init='chrono' sets a gate's bias: it needs model lstm or gru, not {self.model!r}")
        if isinstance(self.chrono_tmax, int) and 0 < self.chrono_tmax < 3:
            out.append(f"chrono_tmax must be at least 3, got {self.chrono_tmax}")
        if self.freeze and self.pretrained is None:
            out.append("freeze=True keeps pretrained vectors fixed: give pretrained=FILE too")
        return out

    def config(self, longest: int | None = None) -> dict:
        """The model's ``config.json`` (``longest``: the longest training text in tokens, chrono's
        default dependency length)."""
        out = {"kind": "classify", "emsize": self.emsize, "hidden_size": self.nhid, "num_layers": self.nlayers,
               "cell": CELL_NAMES[self.model], "bidirectional": not self.unidirectional, "pooling": self.pooling,
               "dropout": self.dropout, "freeze_embeddings": self.freeze}
        if self.init != "default":  # (configs of earlier runs have neither)
            out.update(init=self.init, chrono_tmax=self.chrono_tmax or (max(longest or 0, 3) if self.init == "chrono"
                                                                        else None))
        return out


def source(data: str | None = None, fold: int | None = None, train: str | None = None,
           valid: str | None = None) -> dict:
    """What a run reads, as recorded with it (for --resume and ``lmlab evaluate --data mr``'s fold)."""
    return {"data": data, "fold": fold, "train": train, "valid": valid}


def splits(src: dict, read_file=None, *, train=None, dev=None):
    """``(train, dev)`` ``(label, text)`` examples of the run's data: a named dataset, files
    (read by ``read_file``), or ``train``/``dev`` given (in memory); without dev data one tenth of
    the training examples is held out (:func:`~lmlab.data.tasks.hold_out_dev`)."""
    from ..data.tasks import TASKS, classification_split, hold_out_dev

    if train is None and src.get("data"):
        if src["data"] not in TASKS:
            raise ConfigError(f"--kind classify: unknown classification dataset {src['data']!r}; known: "
                              f"{', '.join(TASKS)}")
        if src["data"] == "mr" and src.get("fold") is None:
            raise ConfigError("--kind classify --data mr: give --fold K (0..9), the test fold of cross-validation")
        train = classification_split(src["data"], "train", src.get("fold"))
        if dev is None:
            dev = classification_split(src["data"], "valid", src.get("fold"))
    if train is None:
        train = read_file(src["train"])
    if dev is None and src.get("valid"):
        dev = read_file(src["valid"])
    return (train, dev) if dev is not None else hold_out_dev(train)


def start(train, settings: ClassifySettings, save, *, source: dict, overwrite: bool = False, quiet: bool = False,
          **train_options):
    """A new run's :class:`~lmlab.train.loop.Trainer`: the vocabulary and label set of the
    ``(label, text)`` training examples, the model of ``settings`` (seeded), the classification
    task; ``train_options`` are :func:`~lmlab.train.runs.train_config`'s."""
    import torch

    from ..models.neural.classifier import Classifier
    from ..text.labels import LabelSet
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab
    from .classify_task import make_task

    tokenizer = Tokenizer()
    texts = [tokenizer.tokenize(t) for _, t in train]
    tokens = Vocab.build(texts, min_count=settings.min_count, tokenizer=tokenizer)
    labels = LabelSet.build([label for label, _ in train], name="labels")
    tcfg = train_config(DEFAULTS, **train_options)
    torch.manual_seed(tcfg.seed)
    vocabs = {"tokens": tokens, "labels": labels}
    model = Classifier.from_config(settings.config(max(map(len, texts), default=0)), vocabs)
    return new_trainer(model, tcfg, vocabs, make_task(tcfg, model), save, source, pretrained=settings.pretrained,
                       overwrite=overwrite, quiet=quiet)
