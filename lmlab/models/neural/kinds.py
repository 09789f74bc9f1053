"""The kinds of neural model lmlab trains, in one table: the one place a new kind plugs in.

A checkpoint's ``config.json`` has a ``kind``; loading looks it up here (:func:`spec_for_config`)
to find the :class:`~lmlab.models.neural.task.TaskModel` class that rebuilds it, and refuses a
checkpoint of one kind loaded as another, naming both (:func:`check_kind`).  ``lmlab train
--kind K`` looks ``K`` up here (:func:`spec`) for its options and its training run, and the
trainer gets its batch source and dev metric (a :class:`lmlab.train.loop.Task`) from here too.
A kind whose model is not in lmlab yet has ``model=None`` and is refused with one line.

Entries name their code as ``"module:attribute"`` strings, imported only when used, so this
table imports nothing (``lmlab.models`` sits below ``lmlab.train`` and ``lmlab.cli``).

**Adding a kind** (e.g. the tagger): write

1. the model, a ``TaskModel`` subclass with ``kind = "tag"``: ``loss(batch)`` (summed loss, item
   count), ``predict(batch)``, ``config_dict()`` (JSON; ``kind`` is added to ``config.json`` if
   the dict lacks it) and ``from_config(config, vocabs)`` (``config`` is ``config.json`` as read,
   ``vocabs`` the checkpoint's named vocabularies and label sets, e.g. ``tokens``, ``chars``,
   ``tags``: see :mod:`lmlab.models.neural.checkpoint`);
2. a task factory ``make_task(train_config, **data) -> Task`` (``lmlab.train.loop.Task``): the
   batch source (training batches of an epoch, shuffled with the seed it is given; dev batches)
   and the dev metric with its direction (``higher_is_better``);
3. in ``lmlab.cli`` (e.g. ``lmlab/cli/train_tag.py``): ``add_options(parser)`` adding the kind's
   own options to ``lmlab train`` (each with a help string; options every kind shares --
   ``--save``, ``--data``, ``--train``, ``--valid``, ``--epochs``, ``--lr``, ``--optimizer``,
   ``--clip``, ``--batch_size``, ``--emsize``, ``--nhid``, ``--nlayers``, ``--dropout``,
   ``--seed``, ``--threads``, ``--device``, ``--patience``, ``--max_batches``, ``--dry-run``,
   ``--resume``, ``--overwrite``, ``--quiet``, ``--pretrained`` -- are there already), and
   ``run(args) -> int``, a thin adapter over the kind's run in ``lmlab.train`` (e.g.
   ``lmlab/train/tag_run.py``: hyper-parameters named as the options, the data's splits, and
   ``start`` building the vocabularies and label sets, the model, the task and a
   ``lmlab.train.loop.Trainer``; ``Trainer.resume`` with ``--resume``), then fits;
4. in ``lmlab.api``: a ``TaskModelAPI`` subclass over that run (``fit``/``predict``/``evaluate``),
   exported lazily from ``lmlab``;

then fill in the kind's row below (``model``, ``task``, ``cli_run``, ``cli_options``).  Nothing else changes: the
trainer, the checkpoint files, ``--resume`` and the kind check are shared.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigError, KindMismatchError


@dataclass(frozen=True)
class KindSpec:
    kind: str  # what ``--kind`` and the checkpoint call it
    title: str  # in messages: "a language model (lm)"
    model: str | None  # "module:Class" of the TaskModel subclass; None: not in lmlab yet
    task: str | None = None  # "module:function" making the trainer's Task (batch source + dev metric)
    cli_run: str | None = None  # "module:function": ``lmlab train --kind K`` (and --resume of such a run)
    cli_options: str | None = None  # "module:function" adding the kind's own options to ``lmlab train``
    config_kinds: tuple[str, ...] = ()  # config.json ``kind`` values of this kind's checkpoints

    @property
    def loadable(self) -> bool:
        """Its checkpoints load (the model class is in lmlab)."""
        return self.model is not None

    @property
    def available(self) -> bool:
        """``lmlab train --kind`` trains it (model, task and CLI are in lmlab)."""
        return None not in (self.model, self.task, self.cli_run)

    def model_class(self) -> type:
        return _resolve(self.model, self.kind)

    def task_factory(self):
        return _resolve(self.task, self.kind)

    def cli_run_function(self):
        return _resolve(self.cli_run, self.kind)

    def cli_options_function(self):
        return _resolve(self.cli_options, self.kind)

    def describe(self) -> str:
        return f"{self.title} ({self.kind})"


REGISTRY: dict[str, KindSpec] = {s.kind: s for s in (
    # The LMs' config.json has its own ``kind`` naming the architecture (absent: rnnlm).
    KindSpec("lm", "a language model", "lmlab.models.neural.lm:NeuralLM", "lmlab.train.lm_task:make_task",
             "lmlab.cli.train:run_lm", config_kinds=("rnnlm", "window")),  # its options: lmlab.cli.train's own
    KindSpec("tag", "a tagger", "lmlab.models.neural.tagger:TaggingModel", "lmlab.train.tag_task:make_task",
             "lmlab.cli.train_tag:run", "lmlab.cli.train_tag:add_options"),
    KindSpec("classify", "a classifier", "lmlab.models.neural.classifier:Classifier",
             "lmlab.train.classify_task:make_task", "lmlab.cli.train_classify:run", "lmlab.cli.train_classify:add_options"),
    KindSpec("seq2seq", "an encoder-decoder", "lmlab.models.neural.seq2seq:Seq2Seq", "lmlab.train.seq2seq_task:make_task",
             "lmlab.cli.train_seq2seq:run", "lmlab.cli.train_seq2seq:add_options"),
    KindSpec("conditional-lm", "a conditional language model", "lmlab.models.neural.conditional:ConditionalLM",
             "lmlab.train.conditional_task:make_task", "lmlab.cli.train_conditional:run",
             "lmlab.cli.train_conditional:add_options"),
)}
#: The kinds ``lmlab train --kind`` takes (``lm`` is the default).
KINDS = tuple(REGISTRY)


def not_available(kind: str) -> str:
    s = REGISTRY[kind]
    what = "cannot be trained by lmlab train yet" if s.loadable else "is not in lmlab yet"
    return (f"--kind {kind}: {s.title} {what} (issue 9); the kinds that train today: "
            f"{', '.join(k for k, v in REGISTRY.items() if v.available)}")


def spec(kind: str) -> KindSpec:
    """The entry of ``kind``; a ConfigError for an unknown kind or one not in lmlab yet."""
    if kind not in REGISTRY:
        raise ConfigError(f"unknown kind {kind!r}; known: {', '.join(REGISTRY)}")
    s = REGISTRY[kind]
    if not s.available:
        raise ConfigError(not_available(kind))
    return s


def kind_of_config(config: dict) -> str:
    """The kind of a checkpoint from its ``config.json`` (``kind`` absent: an LM's ``rnnlm``)."""
    value = config.get("kind", "rnnlm")
    for s in REGISTRY.values():
        if value == s.kind or value in s.config_kinds:
            return s.kind
    return value if isinstance(value, str) else repr(value)


def spec_for_config(config: dict, where: str) -> KindSpec:
    kind = kind_of_config(config)
    if kind not in REGISTRY:
        raise ConfigError(f"{where}: unknown model kind {config.get('kind')!r}; known: "
                          f"{', '.join(sorted({k for s in REGISTRY.values() for k in (s.kind, *s.config_kinds)}))}")
    s = REGISTRY[kind]
    if not s.loadable:
        raise ConfigError(f"{where}: a checkpoint of kind {kind}, which this lmlab cannot load yet")
    return s


def check_kind(found: str, expected: str | None, where: str, use: str = "") -> None:
    """A :class:`KindMismatchError` naming both kinds unless ``found`` is ``expected``."""
    if expected is None or found == expected or found not in REGISTRY:  # an unknown kind: spec_for_config says so
        return
    a = REGISTRY[found].describe()
    b = REGISTRY[expected].describe() if expected in REGISTRY else f"kind {expected}"
    raise KindMismatchError(f"{where}: the checkpoint is {a}, not {b}{'; ' + use if use else ''}")


def _resolve(ref: str | None, kind: str) -> Any:
    if ref is None:
        raise ConfigError(not_available(kind))
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)
