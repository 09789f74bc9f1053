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


from ._common import column_number, dropout_rate, nonempty_name, nonnegative_int, positive_int
from ._task_train import absolute, fit_and_report, from_args, one_source, open_run, train_options


def add_options(p) -> None:
    g = p.add_argument_group("--kind tag")
    g.add_argument("--labels", type=nonempty_name, help="--kind tag: the tag column of --data: upos or xpos (ud-english-ewt), chunk "
                                    "or pos (conll2000) (default: the dataset's first)")
    g.add_argument("--word_column", type=column_number,
                   help="--kind tag with --train FILE: column of the words (from 1; negative: from the end) "
                        "(default: 1; a .conllu file's FORM, 2)")
    g.add_argument("--label_column", type=column_number,
                   help="--kind tag with --train FILE: column of the tags (from 1; negative: from the end) "
                        "(default: the last; a .conllu file's UPOS, 4)")
    g.add_argument("--scheme", choices=("iob1", "iob2", "iobes"),
                   help="--kind tag: the chunk scheme of the file's tags (every tag must be one of its chunk "
                        "tags: B-X, I-X, O, and E-X, S-X for iobes; the sequence is read as conlleval reads it, "
                        "not checked; span F1 is then the dev metric) "
                        "(default: none, token accuracy)")
    g.add_argument("--char_emsize", type=positive_int, default=50, help="--kind tag: character embedding size")
    g.add_argument("--char_hidden", type=nonnegative_int, default=50,
                   help="--kind tag: character BiLSTM units per direction (0: no character features)")
    g.add_argument("--crf", action="store_true", help="--kind tag: a linear-chain CRF output layer")
    g.add_argument("--word_dropout", type=dropout_rate, default=0.0,
                   help="--kind tag: in training, a word becomes <unk> with this probability")
    g.add_argument("--lowercase", action="store_true", help="--kind tag: look words up lower-cased")


def run(args) -> int:
    from ..train import tag_run

    def new_source():
        one_source(args, "tag", "ud-english-ewt, conll2000")
        return tag_run.source(args.data, args.labels, absolute(args.train), absolute(args.valid), args.word_column,
                              args.label_column, args.scheme)

    given = getattr(args, "_given", frozenset())
    trainer, src = open_run(args, given, ("data", "train"), new_source)
    train_sents, dev_sents = tag_run.splits(src)
    if not args.resume:
        trainer = tag_run.start(train_sents, from_args(tag_run.TagSettings, args, given, tag_run.DEFAULTS), args.save,
                                scheme=tag_run.scheme_of(src), source=src, overwrite=args.overwrite, quiet=args.quiet,
                                **train_options(args, given, tag_run.DEFAULTS))
    return fit_and_report(args, trainer, tag_run.training_data(train_sents, trainer.vocabs), dev_sents)
