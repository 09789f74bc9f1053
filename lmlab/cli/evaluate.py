"""``lmlab evaluate MODEL --data NAME --split test``: a tagger checkpoint's scores on a named
tagging dataset (``ud-english-ewt``, ``conll2000``) or a CoNLL-style column file (``--test
FILE``): token accuracy, macro F1 and per-tag precision, recall and F1; for chunk tags
(conll2000's chunks, or a file with ``--scheme``, by default the scheme the model was trained
with) conlleval's span precision, recall and F1 with per-type figures as well.  Gold tags that training never saw are counted and reported (each is
an error), never a crash.  ``--labels`` defaults to the one the model was trained on.

A classifier checkpoint (``lmlab train --kind classify``) on ``--data sst2|sst5|mr`` (MR: ``--fold
K``, default the fold it was trained with; ``--split valid`` is its dev split) or a ``LABEL TEXT``
file (``--test FILE``): sentence accuracy, macro F1, per-class precision, recall and F1, the
confusion matrix (in ``--json``); gold labels training never saw are counted and reported.

An encoder-decoder (``lmlab train --kind seq2seq``): BLEU, two ways (``lmlab.cli.evaluate_seq2seq``);
a conditional LM (``--kind conditional-lm``): perplexities given conditions
(``lmlab.cli.evaluate_conditional``).
"""

from __future__ import annotations

import json

from ..errors import ConfigError
from . import evaluate_conditional, evaluate_seq2seq
from ._common import (
    Formatter,
    applies_only,
    column_number,
    given,
    nonempty_name,
    nonnegative_int,
    positive_int,
)
from .predict import load_task_model

EXAMPLES = """examples:
  lmlab evaluate runs/upos --data ud-english-ewt --split test
  lmlab evaluate runs/chunks --data conll2000 --split test --json
  lmlab evaluate runs/ner --test test.conll --label_column -1 --scheme iob1
"""


#: the kinds ``lmlab evaluate`` scores (an error for any other names them all)
EVALUATES = ("tag", "classify", "seq2seq", "conditional-lm")


def add_parser(sub):
    from ..data.tasks import MR_FOLDS

    p = sub.add_parser("evaluate", help="score a trained tagger, classifier (accuracy, per-class report, span F1), encoder-decoder (BLEU) or conditional LM (perplexity)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help="a tagger's, a classifier's, an encoder-decoder's or a conditional LM's model folder (lmlab train --kind tag|classify|seq2seq|conditional-lm)")
    p.add_argument("--data", help="named dataset: tagging (ud-english-ewt, conll2000), classification (sst2, sst5, mr) or translation (multi30k)")
    p.add_argument("--split", default="test", help="split of --data (train, valid, test)")
    p.add_argument("--labels", type=nonempty_name, help="tag column of --data: upos, xpos, chunk, pos (default: the one trained on)")
    p.add_argument("--test", help="a column file of gold tags, or a classifier's LABEL TEXT file (instead of --data)")
    p.add_argument("--word_column", type=column_number, help="--test: column of the words (from 1; negative: from the "
                   "end) (default: the one the model was trained on, if from a file; else 1, a .conllu file's FORM)")
    p.add_argument("--label_column", type=column_number, help="--test: column of the tags (from 1; negative: from the "
                   "end) (default: the one the model was trained on, if from a file; else the last, a .conllu file's UPOS)")
    p.add_argument("--scheme", choices=("iob1", "iob2", "iobes", "none"), help="the tags' chunk scheme: span F1 too; none: token figures only (default: --data's own; for --test, the scheme the model was trained with, if any)")
    p.add_argument("--batch_size", type=positive_int, default=64, help="sentences per batch")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--fold", type=nonnegative_int, choices=range(MR_FOLDS), metavar="K",
                   help="--data mr: the test fold of cross-validation (default: the one trained on)")
    applies_only(p, "fold", lambda a: a.data == "mr", "with --data mr")
    applies_only(p, "split", lambda a: a.data is not None, "with --data (a --test or --source_file file is all scored)")
    applies_only(p, "labels", lambda a: a.test is None, "with --data (a --test file's tags are in --label_column)")
    for dest in ("word_column", "label_column"):
        applies_only(p, dest, lambda a: a.data is None, "with --test FILE (a --data set has its own columns)")
    evaluate_seq2seq.add_options(p)
    evaluate_conditional.add_options(p)
    return p


def _trained_labels(folder: str, key: str = "labels"):
    """The ``--labels`` (or ``--fold``: ``key``) the run in ``folder`` trained on, if its trainer state says."""
    from ..train.runs import recorded_source

    source = recorded_source(folder)
    value = source.get(key) if source is not None else None
    if key == "labels" and value is None and source is not None and str(source.get("train") or "").endswith(".conllu"):
        # a run on a CoNLL-U file of its own: its tag column names the tag set (UPOS 4, XPOS 5)
        value = {4: "upos", -7: "upos", 5: "xpos", -6: "xpos", None: "upos"}.get(source.get("label_column"))
    return value if isinstance(value, str if key == "labels" else int) and not isinstance(value, bool) else None


def run(args) -> int:
    from ..data.columns import read_columns
    from ..data.tasks import tagging_task
    from ..eval.tagging import evaluate_tagger, format_tagging_report
    from ..train.runs import recorded_source
    from ..train.tag_run import chunk_scheme, scheme_of

    if evaluate_conditional.is_conditional(args.model):  # perplexities given conditions (lmlab.cli.evaluate_conditional)
        return evaluate_conditional.run(args)
    if evaluate_seq2seq.is_seq2seq(args.model):  # BLEU (lmlab.cli.evaluate_seq2seq)
        evaluate_seq2seq.refuse(args, evaluate_conditional.OWN, "an encoder-decoder's evaluation (a conditional LM's)")
        return evaluate_seq2seq.run(args)
    # the folder is a model of a kind that takes neither's options (or no model: load_task_model says so)
    model, _, _ = load_task_model(args.model, EVALUATES, "evaluate", args.device)  # (seq2seq, conditional: above)
    from ..models.neural.kinds import REGISTRY

    what = f"{REGISTRY[model.kind].title}'s evaluation"
    evaluate_seq2seq.refuse(args, evaluate_conditional.OWN, f"{what} (they are a conditional LM's)")
    evaluate_seq2seq.refuse(args, evaluate_seq2seq.OWN, f"{what} (they are an encoder-decoder's)")
    if (args.data is None) == (args.test is None):
        raise ConfigError("give --data NAME (with --split) or --test FILE, one of them")
    if model.kind == "classify":
        return _classifier(model, args)
    scheme = None if args.scheme == "none" else args.scheme  # none: token figures only, whatever the default
    if args.data is not None:
        labels = _trained_labels(args.model) if args.labels is None else args.labels
        if args.scheme is None:
            scheme = chunk_scheme(args.data, labels)
        sentences = tagging_task(args.data, args.split, labels, scheme)
    else:
        if args.scheme is None:  # the chunk scheme the model was trained with, as --labels defaults
            scheme = scheme_of(recorded_source(args.model))
        recorded = recorded_source(args.model) or {}
        same_format = str(recorded.get("train") or "").lower().endswith(".conllu") == str(args.test).lower().endswith(
            ".conllu")  # the recorded columns are of the training file's format
        column = lambda name: getattr(args, name) if getattr(args, name) is not None else (
            recorded.get(name) if same_format and isinstance(recorded.get(name), int) else None)
        sentences = read_columns(args.test, word_column=column("word_column"), label_column=column("label_column"),
                                 scheme=scheme)
    _check_tag_sets(model, sentences, args)
    rep = evaluate_tagger(model, sentences, scheme=scheme, batch_size=args.batch_size, device=args.device)
    print(json.dumps(rep, indent=2) if args.json else format_tagging_report(rep))
    return 0


TAGGER_ONLY = ("labels", "word_column", "label_column", "scheme")


def _check_tag_sets(model, sentences, args) -> None:
    """Gold tags none of which the model knows are another tag set: an error naming both."""
    from ..text.labels import check_shared_labels

    where = f"--data {args.data} --split {args.split}" if args.data is not None else str(args.test)
    check_shared_labels((t for s in sentences for t in s.tags), model.tags, where, "tags",
                        (f"in {args.model} was trained on", "give --labels (or the --label_column) the model was "
                                                            "trained on"))


def _classifier(model, args) -> int:
    """A classifier's report: accuracy, macro F1, per-class figures; unseen gold labels counted."""
    from ..data.tasks import classification_split
    from ..eval.classification import evaluate_classifier, format_classification_report
    from .train_classify import read_examples

    wrong = [f"--{d}" for d in TAGGER_ONLY if d in given(args)]
    if wrong:
        raise ConfigError(f"{', '.join(wrong)}: for a tagger; {args.model} is a classifier (classify)")
    if args.data is not None:
        fold = _trained_labels(args.model, "fold") if args.fold is None else args.fold
        examples = classification_split(args.data, args.split, fold)
    else:
        examples = read_examples(args.test)
    from ..text.labels import check_shared_labels

    where = f"--data {args.data} --split {args.split}" if args.data is not None else str(args.test)
    check_shared_labels((label for label, _ in examples), model.labels.labels, where, "labels",
                        (f"in {args.model} was trained on", "test a classifier on data labelled as its training data"))
    rep = evaluate_classifier(model, examples, batch_size=args.batch_size, device=args.device)
    print(json.dumps(rep, indent=2) if args.json else format_classification_report(rep))
    return 0
