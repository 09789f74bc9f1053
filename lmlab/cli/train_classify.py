"""``lmlab train --kind classify``: a sentence classifier (embedding -> (bi)directional
RNN/LSTM/GRU -> ``--pooling last|max|mean`` over the true length -> label) on a named dataset
(``--data sst2|sst5`` with their own splits, ``--data mr --fold K``) or ``LABEL TEXT`` files
(``--train FILE --valid FILE``, one example a line as SST's files; a tab after the label works too).

The dev metric is sentence accuracy (higher is better).  Data without a dev split -- MR's nine
training folds, a ``--train`` file without ``--valid`` -- gives one tenth of its examples to dev
in a fixed way (:func:`lmlab.data.tasks.hold_out_dev`: the 1st, 11th, 21st, ... example of each
label), the rest train; with ``--data mr --fold K`` fold K is the test set (``lmlab evaluate
--data mr --split test``).  Options a classifier does not set keep the tagger's defaults: Adam,
learning rate 0.001, batch 32, clip 5, dropout 0.5, 10 epochs, 100-d embeddings.
"""

from __future__ import annotations


from ..errors import ConfigError
from ..train.classify_run import POOLING
from ._common import applies_only, nonnegative_int
from ._task_train import absolute, fit_and_report, from_args, one_source, open_run, train_options


def add_options(p) -> None:
    from ..data.tasks import MR_FOLDS

    g = p.add_argument_group("--kind classify")
    g.add_argument("--pooling", choices=POOLING, default="max",
                   help="--kind classify: the sentence vector from the encoder's states over the true length")
    g.add_argument("--fold", type=nonnegative_int, choices=range(MR_FOLDS), metavar="K",
                   help=f"--kind classify --data mr: the test fold (0..{MR_FOLDS - 1}) of {MR_FOLDS}-fold "
                        "cross-validation; the other nine train, one tenth of them is dev")
    applies_only(p, "fold", lambda a: a.resume or a.data == "mr", "with --data mr")


def read_examples(path: str) -> list[tuple[str, str]]:
    """``(label, text)`` pairs of a ``LABEL TEXT`` file (blank lines skipped; a bad line named)."""
    from ..data.tasks import parse_labeled
    from ._common import input_lines

    return parse_labeled(input_lines(path), str(path))


def run(args) -> int:
    from ..train import classify_run

    def new_source():
        one_source(args, "classify", "sst2, sst5, mr --fold K")
        if args.model == "window":
            raise ConfigError("--kind classify: --model window is not a classifier; give a recurrent --model "
                              "(lstm, gru, rnn_tanh, ...)")
        return classify_run.source(args.data, args.fold, absolute(args.train), absolute(args.valid))

    given = getattr(args, "_given", frozenset())
    trainer, src = open_run(args, given, ("data", "train"), new_source)
    train, dev = classify_run.splits(src, read_examples)
    if not args.resume:
        settings = from_args(classify_run.ClassifySettings, args, given, classify_run.DEFAULTS)
        trainer = classify_run.start(train, settings, args.save, source=src, overwrite=args.overwrite,
                                     quiet=args.quiet, **train_options(args, given, classify_run.DEFAULTS))
    return fit_and_report(args, trainer, train, dev)
