"""A conditional LM's training run (``lmlab train --kind conditional-lm`` and
:class:`lmlab.api.ConditionalGenerator`): its defaults and hyper-parameters, its data (labelled
sentences -- a named classification dataset, ``LABEL TEXT`` files, ``(label, text)`` pairs -- or
texts with one feature vector each -- a text file with its feature file, or in memory) and the
run's start (vocabulary, label set and prior, model, task, trainer).

The dev metric is the dev sentences' perplexity given their conditions.  Without dev data,
labelled data gives one tenth of its examples to dev (:func:`lmlab.data.tasks.hold_out_dev`) and
feature-conditioned data its last tenth (at most :data:`HOLDOUT` sentences).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import ConfigError
from .runs import CELL_NAMES, new_trainer, settings_problems, train_config

DEFAULTS = {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "clip": 1.0, "dropout": 0.3, "epochs": 10,
            "emsize": 256, "nhid": 512, "nlayers": 1, "model": "lstm", "min_count": 2}
#: the most sentences of feature-conditioned training data held out for dev data when none is given
HOLDOUT = 1000
#: what a run reads, as recorded with it (``trainer_state.json``'s ``source``)
FILES = ("train", "valid", "features", "valid_features")


@dataclass(frozen=True)
class ConditionalSettings:
    """A conditional LM's hyper-parameters, named (and defaulting) as ``lmlab train --kind
    conditional-lm``'s options: ``model`` is the decoder's recurrent cell, ``nhid``/``nlayers``
    its size, ``condition_size`` the conditioning vector's (None: ``emsize``); words seen fewer
    than ``min_count`` times are ``<unk>``; ``pretrained``: word vectors initialising the
    embeddings.  (The decoder reads left to right: there is no ``unidirectional``.)"""

    model: str = DEFAULTS["model"]
    emsize: int = DEFAULTS["emsize"]
    nhid: int = DEFAULTS["nhid"]
    nlayers: int = DEFAULTS["nlayers"]
    dropout: float = DEFAULTS["dropout"]
    condition_size: int | None = None
    min_count: int = DEFAULTS["min_count"]
    pretrained: str | None = None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def problems(self) -> list[str]:
        return settings_problems(self, {"model": tuple(CELL_NAMES)},
                                 positive=("emsize", "nhid", "nlayers", "condition_size", "min_count"),
                                 rates=("dropout",))

    def config(self) -> dict:
        """The model's settings (``ConditionalLM(tokens, labels, **config)``), without the data's
        (``feature_size`` or ``label_prior``)."""
        return {"emsize": self.emsize, "hidden_size": self.nhid, "num_layers": self.nlayers,
                "cell": CELL_NAMES[self.model], "condition_size": self.condition_size, "dropout": self.dropout}


def source(data: str | None = None, train: str | None = None, valid: str | None = None, features: str | None = None,
           valid_features: str | None = None) -> dict:
    """What a run reads, as recorded with it (for --resume); files are absolute paths."""
    return {"data": data, "train": train, "valid": valid, "features": features, "valid_features": valid_features}


def labelled_data(examples):
    """``(label, text)`` examples as :class:`~lmlab.train.conditional_task.ConditionalData`."""
    from .conditional_task import ConditionalData

    return ConditionalData([t for _, t in examples], [label for label, _ in examples])


def hold_out(data, too_few: str):
    """``(train, dev)`` of training data without dev data: labelled data one tenth of each label's
    examples (:func:`~lmlab.data.tasks.hold_out_dev`), feature-conditioned data its last tenth (at
    most :data:`HOLDOUT`); ``too_few``: the error when it has fewer than two sentences."""
    from ..data.tasks import hold_out_dev
    from .conditional_task import ConditionalData

    if isinstance(data.conditions, list):
        return tuple(map(labelled_data, hold_out_dev(list(zip(data.conditions, data.texts, strict=True)))))
    if len(data) < 2:
        raise ConfigError(too_few)
    n = min(HOLDOUT, max(1, len(data) // 10))
    return (ConditionalData(data.texts[:-n], data.conditions[:-n]),
            ConditionalData(data.texts[-n:], data.conditions[-n:]))


def check_dataset(name: str, where: str = "") -> None:
    """A named dataset a conditional LM trains and is scored on: a classification dataset with
    fixed splits (mr's are cross-validation folds)."""
    from ..data.tasks import TASKS

    if name not in TASKS or name == "mr":
        known = ", ".join(t for t in TASKS if t != "mr")
        raise ConfigError(f"{where}unknown labelled dataset {name!r}; known: {known} (mr has no fixed split: its "
                          "folds are --kind classify's)")


def splits(src: dict, read_file=None, *, where: str = "--kind conditional-lm: ",
           give_dev: str = "give --valid FILE --valid_features FILE", train=None, dev=None):
    """``(train, dev)`` :class:`~lmlab.train.conditional_task.ConditionalData` of the run's data: a
    named classification dataset, ``LABEL TEXT`` files (read by ``read_file``), a text file with
    its feature file, or ``train``/``dev`` given (in memory); without dev data :func:`hold_out`."""
    from ..data.features import read_aligned
    from . import classify_run

    if train is not None:
        return (train, dev) if dev is not None else hold_out(
            train, f"{where}{len(train)} sentence is too few to hold one out for validation; {give_dev}")
    if not src.get("features"):
        if src.get("data"):
            check_dataset(src["data"], where)
        pairs = None if dev is None else list(zip(dev.conditions, dev.texts, strict=True))
        return tuple(map(labelled_data, classify_run.splits(src, read_file, dev=pairs)))
    from .conditional_task import ConditionalData

    if src.get("valid") and not src.get("valid_features"):
        raise ConfigError(f"--valid {src['valid']}: give its feature file too (--valid_features FILE)")
    texts, vectors = read_aligned(src["train"], src["features"])
    if src.get("valid"):
        dev_texts, dev_vectors = read_aligned(src["valid"], src["valid_features"], vectors.shape[1])
        return ConditionalData(texts, vectors), ConditionalData(dev_texts, dev_vectors)
    return hold_out(ConditionalData(texts, vectors), f"{src['train']}: {len(texts)} line is too few to hold one out "
                                                     f"for validation; {give_dev}")


def start(train, settings: ConditionalSettings, save, *, source: dict, overwrite: bool = False, quiet: bool = False,
          **train_options):
    """A new run's :class:`~lmlab.train.loop.Trainer`: the vocabulary of the training texts, the
    label set and its prior (the training labels' frequencies) or the feature dimension, the model
    of ``settings`` (seeded), the conditional LM's task; ``train_options`` are
    :func:`~lmlab.train.runs.train_config`'s."""
    import torch

    from ..models.neural.conditional import ConditionalLM
    from ..text.labels import LabelSet
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab
    from .conditional_task import make_task

    tokenizer = Tokenizer()
    tokens = Vocab.build([tokenizer.tokenize(t) for t in train.texts], min_count=settings.min_count,
                         tokenizer=tokenizer)
    config = settings.config()
    if isinstance(train.conditions, list):
        labels = LabelSet.build(train.conditions, name="labels")
        counts = {x: 0 for x in labels.labels}
        for x in train.conditions:
            counts[x] += 1
        config["label_prior"] = [counts[x] / len(train) for x in labels.labels]
    else:
        labels, config["feature_size"] = None, int(train.conditions.shape[1])
    tcfg = train_config(DEFAULTS, **train_options)
    torch.manual_seed(tcfg.seed)
    model = ConditionalLM(tokens, labels, **config)
    return new_trainer(model, tcfg, model.vocabs, make_task(tcfg, model), save, source,
                       pretrained=settings.pretrained, overwrite=overwrite, quiet=quiet)
