"""What ``lmlab train --kind tag|classify|seq2seq`` share: a kind's defaults, the training config,
resuming a run, building the trainer and the closing line.  Each kind's module reads its data and
builds its model; everything else is here once."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError, ModelFormatError


def setting(args, given, name, defaults: dict):
    """An option's value: as given on the command line, else the kind's default, else lmlab train's."""
    return getattr(args, name) if name in given or name not in defaults else defaults[name]


def train_config(args, given, defaults: dict):
    """The run's TrainConfig: options given, else the kind's ``defaults``, else lmlab train's."""
    from ..train.loop import TrainConfig

    def value(name):
        return setting(args, given, name, defaults)

    tcfg = TrainConfig(epochs=value("epochs") if args.epochs is None else args.epochs, lr=value("lr"),
                       optimizer=value("optimizer"), clip=value("clip"), batch_size=value("batch_size"),
                       seed=args.seed, threads=args.threads, max_batches=args.max_batches, dry_run=args.dry_run,
                       device=args.device, patience=args.patience, progress=not args.quiet)
    problems = tcfg.problems()
    if problems:
        raise ConfigError(problems)
    return tcfg


def resume(args, given, data_keys: tuple[str, ...]):
    """``--resume``: the run in ``--save`` with the options it may change; it must record its data
    (one of ``data_keys`` in its source)."""
    from ..train.loop import Trainer
    from .train import RESUME_APPLIES

    overrides = {k: getattr(args, k) for k in RESUME_APPLIES if k in given}
    trainer = Trainer.resume(args.save, **overrides, dry_run=args.dry_run, progress=not args.quiet)
    if not any((trainer.source or {}).get(k) for k in data_keys):
        raise ModelFormatError(f"{args.save}: the run does not record its data")
    return trainer


def one_source(args, kind: str, names: str) -> None:
    """A new run reads a named dataset or a training file: one of them."""
    if args.data is None and args.train is None:
        raise ConfigError(f"--kind {kind}: give --data NAME ({names}) or --train FILE")
    if args.data is not None and args.train is not None:
        raise ConfigError(f"give a training file or a named dataset, not both ({args.train} and --data {args.data})")


def absolute(path: str | None) -> str | None:
    """A data file's path as recorded with the run (so --resume works from any folder)."""
    return None if path is None else str(Path(path).resolve())


def new_trainer(args, model, tcfg, vocabs, task, source: dict, *, pretrained: bool = True):
    """The trainer of a new run (with ``pretrained``: ``--pretrained`` vectors loaded, their coverage
    reported)."""
    from ..train.loop import Trainer

    trainer = Trainer(model, tcfg, vocabs, args.save, pretrained=args.pretrained if pretrained else None,
                      overwrite=args.overwrite, task=task, source=source)
    if trainer.coverage is not None and not args.quiet:
        print(f"pretrained vectors cover {trainer.coverage:.1%} of the vocabulary", file=sys.stderr)
    return trainer


def report(trainer, history, save) -> int:
    if history:
        print(f"best dev {trainer.task.metric} {trainer.best:.4f} ({trainer.metric_label}) after {len(history)} "
              f"epochs; model in {save}")
    return 0
