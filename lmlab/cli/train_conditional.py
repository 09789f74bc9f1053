"""``lmlab train --kind conditional-lm``: a recurrent LM that generates a sentence from one
condition (:mod:`lmlab.models.neural.conditional`), trained on

* labelled sentences -- the classification data ``--kind classify`` reads (``--data sst2|sst5``
  with their own splits, or ``LABEL TEXT`` files ``--train FILE --valid FILE``; MR's folds are
  ``--kind classify``'s): the condition is the sentence's label (a learned embedding), the model generates the
  sentence; or
* a text file with a feature file (``--train FILE --features FILE``, ``--valid FILE
  --valid_features FILE``): one whitespace-separated float vector per line, aligned line by line
  with the text (:mod:`lmlab.data.features`: the dimension is checked on every line).

The dev metric is the dev sentences' perplexity given their conditions (``</s>`` included; lower is
better).  Without dev data, labelled data gives one tenth of its examples to dev
(:func:`lmlab.data.tasks.hold_out_dev`) and a feature-aligned file its last tenth (at most 1000
lines).  ``--model`` is the cell, ``--nhid``/``--nlayers`` the decoder's size, ``--condition_size``
the conditioning vector's (default: ``--emsize``).  Options a conditional LM does not set keep its
own defaults: Adam, learning rate 0.001, batch 32, clip 1, dropout 0.3, 10 epochs, embeddings
256, 512 units, 1 layer, ``--min_count 2`` (rarer words are ``<unk>``, which the model then learns
to predict; generation never emits it).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ._common import applies_only, positive_int
from ._task_train import absolute, fit_and_report, new_trainer, resume, setting, train_config

DEFAULTS = {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "clip": 1.0, "dropout": 0.3, "epochs": 10,
            "emsize": 256, "nhid": 512, "nlayers": 1, "model": "lstm", "min_count": 2}
HOLDOUT = 1000


def add_options(p) -> None:
    g = p.add_argument_group("--kind conditional-lm")
    g.add_argument("--features", help="--kind conditional-lm with --train FILE: a feature file, one whitespace-separated "
                                      "float vector per line of --train (default: none, --train is LABEL TEXT lines)")
    g.add_argument("--valid_features", help="--kind conditional-lm: the feature file of --valid (with --features)")
    g.add_argument("--condition_size", type=positive_int,
                   help="--kind conditional-lm: size of the conditioning vector (default: --emsize)")
    applies_only(p, "features", lambda a: a.resume or a.train is not None, "with --train FILE")
    applies_only(p, "valid_features", lambda a: a.resume or a.valid is not None, "with --valid FILE")


def splits(src: dict):
    """``(train, dev)`` :class:`~lmlab.train.conditional_task.ConditionalData` of the run's data."""
    from ..data.features import read_aligned
    from ..train.conditional_task import ConditionalData
    from .train_classify import splits as labelled_splits

    if not src.get("features"):
        train, dev = labelled_splits(src)
        return (ConditionalData([t for _, t in train], [label for label, _ in train]),
                ConditionalData([t for _, t in dev], [label for label, _ in dev]))
    if src.get("valid") and not src.get("valid_features"):
        raise ConfigError(f"--valid {src['valid']}: give its feature file too (--valid_features FILE)")
    texts, vectors = read_aligned(src["train"], src["features"])
    if src.get("valid"):
        dev_texts, dev_vectors = read_aligned(src["valid"], src["valid_features"], vectors.shape[1])
        return ConditionalData(texts, vectors), ConditionalData(dev_texts, dev_vectors)
    if len(texts) < 2:
        raise ConfigError(f"{src['train']}: {len(texts)} line is too few to hold one out for validation; "
                          "give --valid FILE --valid_features FILE")
    n = min(HOLDOUT, max(1, len(texts) // 10))
    return ConditionalData(texts[:-n], vectors[:-n]), ConditionalData(texts[-n:], vectors[-n:])


def _source(args) -> dict:
    from ._task_train import one_source

    one_source(args, "conditional-lm", "sst2, sst5; or --train FILE [--features FILE]")
    if args.data == "mr":
        raise ConfigError("--kind conditional-lm: --data mr has no fixed split (its folds are --kind classify's "
                          "--fold); give --data sst2 or sst5, or --train FILE --valid FILE")
    if args.valid_features is not None and args.features is None:
        raise ConfigError(f"--valid_features {args.valid_features}: the feature file of --valid goes with --features "
                          "FILE (the training text's); without it --train and --valid are LABEL TEXT lines")
    if args.valid is not None and args.features is not None and args.valid_features is None:
        raise ConfigError(f"--valid {args.valid}: give its feature file too (--valid_features FILE)")
    return {"data": args.data, "train": absolute(args.train), "valid": absolute(args.valid),
            "features": absolute(args.features), "valid_features": absolute(args.valid_features)}


def run(args) -> int:
    import torch

    from ..models.neural.conditional import ConditionalLM
    from ..text.labels import LabelSet
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab
    from ..train.conditional_task import make_task
    from ..train.loop import check_save_dir
    from .train import CELL_NAMES

    given = getattr(args, "_given", frozenset())
    if args.resume:
        trainer = resume(args, given, ("data", "train"), files=("train", "valid", "features", "valid_features"))
        src = trainer.source
        if {"data", "train", "valid"} & given and getattr(trainer.model, "condition", None) == "features":
            raise ConfigError(f"--resume: the run in {args.save} reads a text with its feature file; its data "
                              "cannot be replaced on resume (--data/--train/--valid)")
    else:
        for dest, why in (("unidirectional", "its decoder reads left to right: it is never bidirectional"),
                          ("freeze", "its embeddings are trained (--pretrained vectors only initialise them)")):
            if dest in given:
                raise ConfigError(f"--{dest}: no effect with --kind conditional-lm ({why})")
        src = _source(args)
        check_save_dir(Path(args.save), args.overwrite)
    train, dev = splits(src)
    if not args.resume:
        def value(name):
            return setting(args, given, name, DEFAULTS)

        cell = value("model")
        if cell == "window":
            raise ConfigError("--kind conditional-lm: --model names the recurrent cell (lstm, gru, rnn_tanh, ...), "
                              "not window")
        tokenizer = Tokenizer()
        tokens = Vocab.build([tokenizer.tokenize(t) for t in train.texts], min_count=value("min_count"),
                             tokenizer=tokenizer)
        config = {"emsize": value("emsize"), "hidden_size": value("nhid"), "num_layers": value("nlayers"),
                  "cell": CELL_NAMES[cell], "condition_size": args.condition_size, "dropout": value("dropout")}
        if src.get("features"):
            labels, config["feature_size"] = None, int(train.conditions.shape[1])
        else:
            labels = LabelSet.build(train.conditions, name="labels")
            counts = {x: 0 for x in labels.labels}
            for x in train.conditions:
                counts[x] += 1
            config["label_prior"] = [counts[x] / len(train) for x in labels.labels]
        tcfg = train_config(args, given, DEFAULTS)
        torch.manual_seed(tcfg.seed)
        model = ConditionalLM(tokens, labels, **config)
        trainer = new_trainer(args, model, tcfg, model.vocabs, make_task(tcfg, model), src)
    return fit_and_report(args, trainer, train, dev)
