"""``lmlab classify``: text classification by per-class n-gram language models.

One LM per label, over a vocabulary shared by all classes; a text goes to the label whose model
(times the label's prior) makes it most likely: ``argmax_c log P(c) + log P_c(text)``.  Named tasks
on the shared corpora (``--task sst2``, ``--task shakespeare-speakers``: which of ten characters
speaks a speech) or your own ``LABEL<TAB>TEXT`` files.  Reports accuracy beside the
majority-class baseline, macro F1, per-class precision/recall and the confusion matrix."""

from __future__ import annotations

import json

from ..data.tasks import MR_FOLDS, TASKS, classification_task, parse_labeled
from ..errors import ConfigError
from ..eval.applications import classification_report, train_class_lms
from ..models.ngram.smoothing.registry import SMOOTHERS
from ._common import Formatter, applies_only, input_lines, nonnegative_int, positive_int

EXAMPLES = """examples:
  lmlab classify --task shakespeare-speakers --char --order 5 --smoothing kneser_ney
  lmlab classify --task sst2 --order 2
  lmlab classify --train train.tsv --test test.tsv --json
  lmlab classify --train train.tsv --predict texts.txt          # prints LABEL<TAB>TEXT per line
"""


def add_parser(sub):
    p = sub.add_parser("classify", help="classify texts with one n-gram LM per class (e.g. authorship)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("--task", choices=sorted(TASKS), help="a named task on the shared corpora")
    p.add_argument("--train", help="LABEL<TAB>TEXT lines (LABEL TEXT when no line has a tab)")
    p.add_argument("--test", help="labelled test lines, same format")
    p.add_argument("--predict", help="unlabelled lines to classify ('-' for stdin)")
    p.add_argument("--order", type=positive_int, default=3, help="n-gram order of each class's model")
    p.add_argument("--smoothing", default="witten_bell", choices=sorted(SMOOTHERS), help="smoothing method")
    p.add_argument("--char", action="store_true", help="character n-grams")
    p.add_argument("--priors", default="frequency", choices=("frequency", "uniform"),
                   help="label priors: training frequencies or uniform")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--fold", type=nonnegative_int, choices=range(MR_FOLDS), metavar="K",
                   help=f"--task mr: the test fold of its fixed {MR_FOLDS}-fold cross-validation (0-{MR_FOLDS - 1})")
    applies_only(p, "fold", lambda a: a.task == "mr", "with --task mr (the other tasks have their own test set)")
    applies_only(p, "test", lambda a: a.task is None, "with --train (a --task has its own test set)")
    applies_only(p, "test", lambda a: a.predict is None, "without --predict (which prints labels, no report)")
    applies_only(p, "json", lambda a: a.predict is None, "with a labelled test set (--predict prints labels)")
    return p


def run(args) -> int:
    if (args.task is None) == (args.train is None):
        raise ConfigError("give --task NAME or --train FILE" + (", not both" if args.task is not None else ""))
    if args.task is not None:
        if args.task == "mr" and args.fold is None:
            raise ConfigError(f"--task mr has no fixed split: give --fold K (0-{MR_FOLDS - 1}), the test fold")
        train = classification_task(args.task, "train", args.fold)
        test = classification_task(args.task, "test", args.fold)
    else:
        train = parse_labeled(input_lines(args.train), args.train)
        test = parse_labeled(input_lines(args.test), args.test) if args.test is not None else []
        if args.test is None and args.predict is None:
            raise ConfigError("give --test FILE (labelled) or --predict FILE (unlabelled)")
    if len({label for label, _ in train}) < 2:
        raise ConfigError("the training data has fewer than two labels")
    clf = train_class_lms(train, order=args.order, smoothing=args.smoothing, char=args.char, priors=args.priors)
    if args.predict is not None:
        texts = [t for t in input_lines(args.predict) if t.strip()]
        for label, text in zip(clf.predict(texts), texts, strict=True):
            print(f"{label}\t{text}")
        return 0
    rep = classification_report(clf.predict([t for _, t in test]), [label for label, _ in test])
    rep["train_examples"] = len(train)
    if args.json:
        print(json.dumps(rep, indent=2))
        return 0
    print(f"accuracy {rep['accuracy']:.4f} on {rep['n']} texts (majority class {rep['majority_baseline']:.4f}, "
          f"chance {1 / len(clf.models):.4f}); macro F1 {rep['macro_f1']:.4f}")
    width = max(len(c) for c in rep["per_class"])
    print(f"{'label':{width}s}  precision  recall      F1  support")
    for c, d in rep["per_class"].items():
        print(f"{c:{width}s}  {d['precision']:9.4f}  {d['recall']:6.4f}  {d['f1']:6.4f}  {d['support']:7d}")
    return 0
