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

from pathlib import Path

from ..errors import ConfigError
from ._common import applies_only, nonnegative_int
from ._task_train import absolute, fit_and_report, new_trainer, one_source, resume, setting, train_config

POOLING = ("last", "max", "mean")


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


def splits(src: dict):
    """``(train, dev)`` examples of the run's data (a named dataset or files)."""
    from ..data.tasks import TASKS, classification_split, hold_out_dev

    if src.get("data"):
        if src["data"] not in TASKS:
            raise ConfigError(f"--kind classify: unknown classification dataset {src['data']!r}; known: "
                              f"{', '.join(TASKS)}")
        if src["data"] == "mr" and src.get("fold") is None:
            raise ConfigError("--kind classify --data mr: give --fold K (0..9), the test fold of cross-validation")
        return (classification_split(src["data"], "train", src.get("fold")),
                classification_split(src["data"], "valid", src.get("fold")))
    train = read_examples(src["train"])
    if src.get("valid"):
        return train, read_examples(src["valid"])
    return hold_out_dev(train)


def run(args) -> int:
    import torch

    from ..models.neural.classifier import Classifier
    from ..text.labels import LabelSet
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab
    from ..train.classify_task import make_task
    from ..train.loop import check_save_dir
    from .train import CELL_NAMES
    from .train_tag import DEFAULTS as TAG_DEFAULTS  # the tagger's defaults (Adam, lr 0.001, ...)

    given = getattr(args, "_given", frozenset())
    if args.resume:
        trainer = resume(args, given, ("data", "train"))
        src = trainer.source
    else:
        one_source(args, "classify", "sst2, sst5, mr --fold K")
        if args.model == "window":
            raise ConfigError("--kind classify: --model window is not a classifier; give a recurrent --model "
                              "(lstm, gru, rnn_tanh, ...)")
        check_save_dir(Path(args.save), args.overwrite)
        src = {"data": args.data, "fold": args.fold, "train": absolute(args.train), "valid": absolute(args.valid)}
    train, dev = splits(src)
    if not args.resume:
        tokenizer = Tokenizer()
        tokens = Vocab.build([tokenizer.tokenize(t) for _, t in train], min_count=args.min_count, tokenizer=tokenizer)
        labels = LabelSet.build([label for label, _ in train], name="labels")
        config = {"kind": "classify", "emsize": setting(args, given, "emsize", TAG_DEFAULTS), "hidden_size": args.nhid,
                  "num_layers": args.nlayers, "cell": CELL_NAMES[args.model], "bidirectional": not args.unidirectional,
                  "pooling": args.pooling, "dropout": setting(args, given, "dropout", TAG_DEFAULTS), "freeze_embeddings": args.freeze}
        tcfg = train_config(args, given, TAG_DEFAULTS)
        torch.manual_seed(tcfg.seed)
        vocabs = {"tokens": tokens, "labels": labels}
        model = Classifier.from_config(config, vocabs)
        trainer = new_trainer(args, model, tcfg, vocabs, make_task(tcfg, model), src)
    return fit_and_report(args, trainer, train, dev)
