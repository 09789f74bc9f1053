"""``lmlab train --kind tag``: a tagger (BiLSTM/GRU/RNN with character features and an optional
CRF, or ``--model window``: Collobert's window MLP) on a named tagging dataset (``--data
ud-english-ewt --labels upos|xpos``, ``--data conll2000``) or CoNLL-style column files
(``--train FILE --valid FILE --word_column N --label_column M``, ``--scheme`` for chunk tags).

The dev metric is token accuracy, or conlleval span F1 for chunk tags (conll2000's chunks, or a
file with ``--scheme``).  Without a dev split (conll2000, a --train file without --valid) the
last 1000 training sentences are held out for it.  Options a tagger does not set keep its own
defaults: Adam, learning rate 0.001, batch 32, clip 5, dropout 0.5, 10 epochs.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ._common import column_number, dropout_rate, nonempty_name, nonnegative_int, positive_int
from ._task_train import absolute, fit_and_report, new_trainer, one_source, resume, setting, train_config

HOLDOUT = 1000
# The tagger's defaults where ``lmlab train``'s (an LM's) do not fit; an option given wins.
DEFAULTS = {"optimizer": "adam", "lr": 0.001, "batch_size": 32, "clip": 5.0, "dropout": 0.5, "epochs": 10,
            "emsize": 100}


def add_options(p) -> None:
    g = p.add_argument_group("--kind tag")
    g.add_argument("--labels", type=nonempty_name, help="--kind tag: the tag column of --data: upos or xpos (ud-english-ewt), chunk "
                                    "or pos (conll2000) (default: the dataset's first)")
    g.add_argument("--word_column", type=column_number, default=1,
                   help="--kind tag with --train FILE: column of the words (from 1; negative: from the end)")
    g.add_argument("--label_column", type=column_number, default=-1,
                   help="--kind tag with --train FILE: column of the tags (from 1; negative: from the end)")
    g.add_argument("--scheme", choices=("iob1", "iob2", "iobes"),
                   help="--kind tag: the chunk scheme of the file's tags (checked; span F1 is then the dev metric) "
                        "(default: none, token accuracy)")
    g.add_argument("--char_emsize", type=positive_int, default=50, help="--kind tag: character embedding size")
    g.add_argument("--char_hidden", type=nonnegative_int, default=50,
                   help="--kind tag: character BiLSTM units per direction (0: no character features)")
    g.add_argument("--crf", action="store_true", help="--kind tag: a linear-chain CRF output layer")
    g.add_argument("--word_dropout", type=dropout_rate, default=0.0,
                   help="--kind tag: in training, a word becomes <unk> with this probability")
    g.add_argument("--lowercase", action="store_true", help="--kind tag: look words up lower-cased")


def _setting(args, given, name):
    return setting(args, given, name, DEFAULTS)


def read_sentences(src: dict, split: str):
    """Tagged sentences of the run's data (a named dataset or a column file)."""
    from ..data.columns import read_columns
    from ..data.tasks import tagging_task

    if src.get("data"):
        return tagging_task(src["data"], split, src.get("labels"))
    path = src["train"] if split == "train" else src["valid"]
    return read_columns(path, word_column=src["word_column"], label_column=src["label_column"],
                        scheme=src.get("scheme"))


def _scheme(src: dict) -> str | None:
    if src.get("data") == "conll2000" and (src.get("labels") is None or src["labels"] == "chunk"):
        return "iob2"
    return src.get("scheme")


def _splits(src: dict):
    from ..data.tasks import TAGGING_TASKS

    if src.get("data") and src["data"] not in TAGGING_TASKS:
        raise ConfigError(f"--kind tag: unknown tagging dataset {src['data']!r}; known: {', '.join(TAGGING_TASKS)}")
    train = read_sentences(src, "train")
    if src.get("valid") or src.get("data") == "ud-english-ewt":
        return train, read_sentences(src, "valid")
    if len(train) <= HOLDOUT:
        raise ConfigError(f"--kind tag: {len(train)} training sentences and no dev data: give --valid FILE")
    return train[:-HOLDOUT], train[-HOLDOUT:]


def run(args) -> int:
    import torch

    from ..models.neural.tagger import TaggingModel
    from ..tensors.tagging import build_tagging_vocabs, encode_sentences
    from ..train.loop import check_save_dir
    from ..train.tag_task import make_task
    from .train import CELL_NAMES

    given = getattr(args, "_given", frozenset())
    if args.resume:
        trainer = resume(args, given, ("data", "train"))
        src = trainer.source
    else:
        one_source(args, "tag", "ud-english-ewt, conll2000")
        check_save_dir(Path(args.save), args.overwrite)
        src = {"data": args.data, "labels": args.labels, "train": absolute(args.train), "valid": absolute(args.valid),
               "word_column": args.word_column, "label_column": args.label_column, "scheme": args.scheme}
    train_sents, dev_sents = _splits(src)
    if not args.resume:
        vocabs = build_tagging_vocabs(train_sents, min_count=args.min_count, lowercase=args.lowercase)
        if args.model == "window":
            config = {"kind": "tag", "architecture": "window", "window": args.context, "emsize": _setting(args, given, "emsize"),
                      "hidden_size": args.nhid, "dropout": _setting(args, given, "dropout"),
                      "word_dropout": args.word_dropout, "freeze_embeddings": args.freeze}
            vocabs.pop("chars")
        else:
            config = {"kind": "tag", "architecture": "rnn", "emsize": _setting(args, given, "emsize"),
                      "hidden_size": args.nhid, "num_layers": args.nlayers, "cell": CELL_NAMES[args.model],
                      "bidirectional": not args.unidirectional, "dropout": _setting(args, given, "dropout"),
                      "char_emsize": args.char_emsize, "char_hidden_size": args.char_hidden, "crf": args.crf,
                      "word_dropout": args.word_dropout, "freeze_embeddings": args.freeze}
            if args.char_hidden == 0:
                vocabs.pop("chars")
        tcfg = train_config(args, given, DEFAULTS)
        torch.manual_seed(tcfg.seed)
        model = TaggingModel.from_config(config, vocabs)
        trainer = new_trainer(args, model, tcfg, vocabs, make_task(tcfg, model, _scheme(src)), src)
    train_data = encode_sentences(train_sents, trainer.vocabs)
    return fit_and_report(args, trainer, train_data, dev_sents)
