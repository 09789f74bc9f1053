"""What ``lmlab train --kind tag|classify|seq2seq|conditional-lm`` share on the command line: the options as a
kind's hyper-parameters and training options, resuming a run, and the closing line.  The run itself
(data, vocabularies, model, task, trainer) is the library's: :mod:`lmlab.train.runs` and each
kind's module there (:mod:`lmlab.train.tag_run`, ...), which the Python API uses too."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ..errors import ConfigError, ModelFormatError


def setting(args, given, name, defaults: dict):
    """An option's value: as given on the command line, else the kind's default, else lmlab train's."""
    return getattr(args, name) if name in given or name not in defaults else defaults[name]


def from_args(settings_class, args, given, defaults: dict):
    """A kind's hyper-parameters (e.g. :class:`lmlab.train.tag_run.TagSettings`) from lmlab train's
    options (:func:`setting` of each)."""
    return settings_class(**{f.name: setting(args, given, f.name, defaults) for f in dataclasses.fields(settings_class)})


def train_options(args, given, defaults: dict) -> dict:
    """lmlab train's training options for :func:`lmlab.train.runs.train_config`: each as given,
    else None (the kind's default, in ``defaults``) where the kind has one, else lmlab train's."""
    def value(name):
        return getattr(args, name) if name in given or name not in defaults else None

    return {"epochs": args.epochs, "lr": value("lr"), "optimizer": value("optimizer"), "clip": value("clip"),
            "batch_size": value("batch_size"), "seed": args.seed, "threads": args.threads,
            "max_batches": args.max_batches, "dry_run": args.dry_run, "device": args.device,
            "patience": args.patience, "progress": not args.quiet}


def resumed_source(recorded: dict | None, args, given, files: tuple[str, ...] = ("train", "valid")) -> dict:
    """The data of a resumed run: the data options given with --resume replace the recorded ones
    (the same rule for every kind).  ``files`` are the kind's file options (``train``/``valid``, an
    encoder-decoder's ``train_source`` ...); those whose name starts with ``valid`` are dev data.
    --data or a training file names new training data (the recorded dataset and every file are
    dropped; the dev files given, if any, are the new dev data); dev files alone replace only
    the dev data."""
    train_opts = ("data", *(f for f in files if not f.startswith("valid")))
    dev_opts = tuple(f for f in files if f.startswith("valid"))
    if args.data is not None and any(getattr(args, f, None) is not None for f in train_opts[1:]):
        named = next(getattr(args, f) for f in train_opts[1:] if getattr(args, f, None) is not None)
        raise ConfigError(f"give a training file or a named dataset, not both ({named} and --data {args.data})")
    source = dict(recorded or {})
    if set(train_opts) & given:
        source.update({k: None for k in files})
        source["data"] = args.data
        source.update({f: absolute(getattr(args, f)) for f in files if f in given})
    elif set(dev_opts) & given:
        if source.get("data"):
            flag = next(f for f in dev_opts if f in given)
            raise ConfigError(f"--{flag}: the run in {args.save} reads --data {source['data']}, which has its own "
                              "dev set")
        source.update({f: absolute(getattr(args, f)) for f in dev_opts if f in given})
    return source


def nothing_to_train(trainer, save) -> bool:
    """A resumed run already at its --epochs: say so (one line on stderr; exit 0) instead of training."""
    if trainer.epoch < trainer.tcfg.epochs:
        return False
    if trainer.world.main:
        print(f"nothing to train: the run in {save} has done {trainer.epoch} of {trainer.tcfg.epochs} epochs "
              f"(give --epochs above {trainer.epoch} to train more)", file=sys.stderr)
    return True


def resume(args, given, data_keys: tuple[str, ...], files: tuple[str, ...] = ("train", "valid")):
    """``--resume``: the run in ``--save`` with the options it may change and the data options
    given (:func:`resumed_source`, recorded with the run); it must then name its data (one of
    ``data_keys``)."""
    from ..train.loop import Trainer
    from .train import RESUME_APPLIES

    overrides = {k: getattr(args, k) for k in RESUME_APPLIES if k in given}
    trainer = Trainer.resume(args.save, **overrides, dry_run=args.dry_run, progress=not args.quiet)
    trainer.source = resumed_source(trainer.source, args, given, files)
    if not any(trainer.source.get(k) for k in data_keys):
        raise ModelFormatError(f"{args.save}: the run does not record its data")
    return trainer


def open_run(args, given, data_keys: tuple[str, ...], new_source, files: tuple[str, ...] = ("train", "valid")):
    """``(trainer, source)``: with ``--resume`` the resumed run and the data it records (:func:`resume`);
    otherwise ``(None, new_source())``, the new run's data (``new_source`` checks its own options),
    once ``--save`` is known to be free (or ``--overwrite``)."""
    from ..train.run_folder import check_save_dir

    if args.resume:
        trainer = resume(args, given, data_keys, files)
        return trainer, trainer.source
    src = new_source()
    check_save_dir(Path(args.save), args.overwrite)
    return None, src


def one_source(args, kind: str, names: str) -> None:
    """A new run reads a named dataset or a training file: one of them."""
    if args.data is None and args.train is None:
        raise ConfigError(f"--kind {kind}: give --data NAME ({names}) or --train FILE")
    if args.data is not None and args.train is not None:
        raise ConfigError(f"give a training file or a named dataset, not both ({args.train} and --data {args.data})")


def absolute(path: str | None) -> str | None:
    """A data file's path as recorded with the run (so --resume works from any folder)."""
    return None if path is None else str(Path(path).resolve())


def fit_and_report(args, trainer, train_data, dev_data) -> int:
    """Train (a resumed run already at its --epochs: nothing to train, said on stderr) and report."""
    if args.resume and nothing_to_train(trainer, args.save):
        return 0
    return report(trainer, trainer.fit(train_data, dev_data), args.save)


def report(trainer, history, save) -> int:
    if history and trainer.world.main:  # torchrun: rank 0 speaks for the run
        print(f"best dev {trainer.task.metric} {trainer.task.format_metric(trainer.best).strip()} ({trainer.metric_label}) after {len(history)} "
              f"epochs; model in {save}")
    return 0
