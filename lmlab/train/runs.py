"""Starting a training run of a task model (a tagger, a classifier, an encoder-decoder, a
conditional LM): what ``lmlab train --kind K`` and the Python API (:mod:`lmlab.api`) share.

Each kind's module (:mod:`lmlab.train.tag_run`, :mod:`~lmlab.train.classify_run`,
:mod:`~lmlab.train.seq2seq_run`, :mod:`~lmlab.train.conditional_run`) holds the kind's defaults and hyper-parameters (named as ``lmlab
train``'s options), reads its data and builds its vocabularies, label sets and model; the training
options, the trainer and the held-out dev data are here, once.  This module imports no torch (a
kind's ``start`` does, when a run starts).
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError

#: ``lmlab train --model`` names and the recurrent cells they stand for (tanh, relu and sigmoid are
#: aliases of the Elman cells)
CELL_NAMES = {"lstm": "lstm", "gru": "gru", "gru_cho": "gru_cho", "rnn_tanh": "rnn_tanh", "rnn_relu": "rnn_relu",
              "rnn_sigmoid": "rnn_sigmoid", "tanh": "rnn_tanh", "relu": "rnn_relu", "sigmoid": "rnn_sigmoid"}

#: a tagger's or an encoder-decoder's training items held out for dev data when none is given
HOLDOUT = 1000

#: the tagger's and the classifier's defaults where ``lmlab train``'s (an LM's) do not fit
TASK_DEFAULTS = {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "clip": 5.0, "dropout": 0.5, "epochs": 10,
                 "emsize": 100}


@dataclass(frozen=True)
class EncoderSettings:
    """The recurrent encoder's hyper-parameters every task kind has, named (and defaulting) as
    ``lmlab train``'s options: ``model`` is the cell."""

    model: str = "lstm"
    emsize: int = TASK_DEFAULTS["emsize"]
    nhid: int = 200
    nlayers: int = 2
    dropout: float = TASK_DEFAULTS["dropout"]
    unidirectional: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def train_config(defaults: Mapping[str, Any], **options):
    """The run's :class:`~lmlab.train.loop.TrainConfig`: each option given (not None), else the
    kind's default (``defaults``), else TrainConfig's own; every problem in one ConfigError."""
    from .config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - names)
    if unknown:
        raise ConfigError(f"unknown training options: {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    values = {k: v for k, v in defaults.items() if k in names}
    values.update({k: v for k, v in options.items() if v is not None})
    tcfg = TrainConfig(**values)
    problems = tcfg.problems()
    if problems:
        raise ConfigError(problems)
    return tcfg


def new_trainer(model, tcfg, vocabs, task, save, source: dict, *, pretrained=None, overwrite: bool = False,
                quiet: bool = False):
    """The :class:`~lmlab.train.loop.Trainer` of a new run into ``save`` (``pretrained``: word
    vectors loaded, their coverage said on stderr unless ``quiet``)."""
    from .loop import Trainer

    trainer = Trainer(model, tcfg, vocabs, save, pretrained=pretrained, overwrite=overwrite, task=task, source=source)
    if trainer.coverage is not None and not quiet:
        print(f"pretrained vectors cover {trainer.coverage:.1%} of the vocabulary", file=sys.stderr)
    return trainer


def hold_out(items: Sequence, what: str, give_dev: str, where: str = "") -> tuple[list, list]:
    """``(train, dev)`` of training data without dev data: its last :data:`HOLDOUT` items are dev
    (a ConfigError, ``where`` + ``what`` counted + ``give_dev``, when it has no more than that)."""
    if len(items) <= HOLDOUT:
        raise ConfigError(f"{where}{len(items)} {what} and no dev data: {give_dev}")
    return list(items[:-HOLDOUT]), list(items[-HOLDOUT:])


def settings_problems(settings, choices: Mapping[str, Sequence], positive: Sequence[str] = (),
                      nonnegative: Sequence[str] = (), rates: Sequence[str] = ()) -> list[str]:
    """What is wrong with a kind's hyper-parameters (a dataclass): a value outside its ``choices``,
    an integer that must be positive (or non-negative), a rate outside [0, 1)."""
    out = []
    for name, allowed in choices.items():
        if getattr(settings, name) not in allowed:
            out.append(f"{name} must be one of {', '.join(map(str, allowed))}, got {getattr(settings, name)!r}")
    for names, low in ((positive, 1), (nonnegative, 0)):
        for name in names:
            v = getattr(settings, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < low):
                out.append(f"{name} must be an integer >= {low}, got {v!r}")
    for name in rates:
        v = getattr(settings, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
            out.append(f"{name} must be in [0, 1), got {v!r}")
    return out


def recorded_source(folder) -> dict | None:
    """The data a run in ``folder`` recorded (``trainer_state.json``'s ``source``), or None when
    the folder has no readable run record (a model saved without its run)."""
    from pathlib import Path

    from .._json import read_json
    from ..errors import LmlabError
    from .run_folder import STATE

    path = Path(folder) / STATE
    if not path.is_file():
        return None
    try:
        source = read_json(path, "an lmlab trainer state").get("source")
    except LmlabError:
        return None
    return source if isinstance(source, dict) else None
