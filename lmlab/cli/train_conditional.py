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
to predict; generation never emits it).  The run itself is :mod:`lmlab.train.conditional_run`'s
(which :class:`lmlab.ConditionalGenerator` uses too).
"""

from __future__ import annotations


from ..errors import ConfigError
from ..train.conditional_run import FILES
from ._common import applies_only, positive_int
from ._task_train import absolute, fit_and_report, from_args, one_source, open_run, train_options


def add_options(p) -> None:
    g = p.add_argument_group("--kind conditional-lm")
    g.add_argument("--features", help="--kind conditional-lm with --train FILE: a feature file, one whitespace-separated "
                                      "float vector per line of --train (default: none, --train is LABEL TEXT lines)")
    g.add_argument("--valid_features", help="--kind conditional-lm: the feature file of --valid (with --features)")
    g.add_argument("--condition_size", type=positive_int,
                   help="--kind conditional-lm: size of the conditioning vector (default: --emsize)")
    applies_only(p, "features", lambda a: a.resume or a.train is not None, "with --train FILE")
    applies_only(p, "valid_features", lambda a: a.resume or a.valid is not None, "with --valid FILE")


def _source(args) -> dict:
    from ..train import conditional_run

    one_source(args, "conditional-lm", "sst2, sst5; or --train FILE [--features FILE]")
    if args.data == "mr":
        raise ConfigError("--kind conditional-lm: --data mr has no fixed split (its folds are --kind classify's "
                          "--fold); give --data sst2 or sst5, or --train FILE --valid FILE")
    if args.valid_features is not None and args.features is None:
        raise ConfigError(f"--valid_features {args.valid_features}: the feature file of --valid goes with --features "
                          "FILE (the training text's); without it --train and --valid are LABEL TEXT lines")
    if args.valid is not None and args.features is not None and args.valid_features is None:
        raise ConfigError(f"--valid {args.valid}: give its feature file too (--valid_features FILE)")
    return conditional_run.source(args.data, *(absolute(getattr(args, name)) for name in FILES))


def _check_resumed_data(args, given, condition, src) -> None:
    """New data on --resume must be of the run's own condition: a feature-conditioned run's texts
    come with their feature files (a named dataset has none), a label-conditioned run takes none."""
    if condition == "features":
        if "data" in given:
            raise ConfigError(f"--data {args.data}: the run in {args.save} is conditioned on feature vectors; give "
                              "--train FILE --features FILE")
        for text, feats in (("train", "features"), ("valid", "valid_features")):
            if (text in given) != (feats in given):
                raise ConfigError(f"--resume: the run in {args.save} reads each text with its feature file: give "
                                  f"--{text} and --{feats} together")
    elif {"features", "valid_features"} & given:
        raise ConfigError(f"--features: the run in {args.save} is conditioned on labels, not feature vectors")


def run(args) -> int:
    from ..train import conditional_run
    from .train_classify import read_examples

    def new_source():
        for dest, why in (("unidirectional", "its decoder reads left to right: it is never bidirectional"),
                          ("freeze", "its embeddings are trained (--pretrained vectors only initialise them)")):
            if dest in given:
                raise ConfigError(f"--{dest}: no effect with --kind conditional-lm ({why})")
        return _source(args)

    given = getattr(args, "_given", frozenset())
    trainer, src = open_run(args, given, ("data", "train"), new_source, files=FILES)
    if args.resume:
        _check_resumed_data(args, given, getattr(trainer.model, "condition", None), src)
    train, dev = conditional_run.splits(src, read_examples)
    if not args.resume:
        if args.model == "window":
            raise ConfigError("--kind conditional-lm: --model names the recurrent cell (lstm, gru, rnn_tanh, ...), "
                              "not window")
        settings = from_args(conditional_run.ConditionalSettings, args, given, conditional_run.DEFAULTS)
        trainer = conditional_run.start(train, settings, args.save, source=src, overwrite=args.overwrite,
                                        quiet=args.quiet, **train_options(args, given, conditional_run.DEFAULTS))
    return fit_and_report(args, trainer, train, dev)
