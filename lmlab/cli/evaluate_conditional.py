"""``lmlab evaluate MODEL`` for a conditional LM (``lmlab train --kind conditional-lm``): the
perplexity of text given its condition (:mod:`lmlab.eval.conditional`).

A label-conditioned model reads labelled sentences -- ``--data sst2|sst5 --split test`` or a
``LABEL TEXT`` file (``--test FILE``) -- and reports the perplexity given the true label, given the
flipped label (two labels), given each label, and unconditionally (the labels' mixture with the
training prior).  A feature-conditioned model reads ``--test FILE --features FILE`` (a text and its
feature file, line-aligned) and reports the perplexity given each line's own vector and given the
next line's (shuffled).
"""

from __future__ import annotations

import json

from ..errors import ConfigError
from ._common import given

OWN = ("features",)
#: lmlab evaluate's options that a conditional LM has no use for
OTHERS = ("labels", "word_column", "label_column", "scheme", "fold", "source_file", "reference_file",
          "raw_reference_file", "beam", "alpha", "max_len", "baseline", "resamples")


def add_options(p) -> None:
    g = p.add_argument_group("a conditional LM (lmlab train --kind conditional-lm)")
    g.add_argument("--features", help="the feature file of --test (one vector a line), for a model conditioned on "
                                      "feature vectors")


def is_conditional(folder: str) -> bool:
    from ..models.neural.checkpoint import is_checkpoint, read_config_dict
    from ..models.neural.kinds import kind_of_config

    try:
        return is_checkpoint(folder) and kind_of_config(read_config_dict(folder)) == "conditional-lm"
    except Exception:  # noqa: BLE001 - the caller's loader reports a bad folder, naming it
        return False


def run(args) -> int:
    from ..data.features import read_aligned
    from ..data.tasks import classification_split
    from ..eval.conditional import conditional_perplexities, format_conditional_report
    from .evaluate_seq2seq import refuse
    from .predict import load_task_model
    from .train_classify import read_examples

    refuse(args, OTHERS, "a conditional LM's evaluation")
    if (args.data is None) == (args.test is None):
        raise ConfigError("give --data NAME (with --split) or --test FILE, one of them")
    model, _, _ = load_task_model(args.model, ("conditional-lm",), "evaluate", args.device)
    if model.condition == "features":
        if args.test is None or args.features is None:
            raise ConfigError(f"{args.model} is conditioned on feature vectors: give --test FILE --features FILE")
        texts, conditions = read_aligned(args.test, args.features, model.feature_size)
    else:
        if "features" in given(args):
            raise ConfigError(f"--features: {args.model} is conditioned on labels ({', '.join(model.labels.labels)})")
        examples = classification_split(args.data, args.split) if args.data is not None else read_examples(args.test)
        texts, conditions = [t for _, t in examples], [label for label, _ in examples]
    rep = conditional_perplexities(model, texts, conditions, batch_size=args.batch_size)
    print(json.dumps(rep, indent=2) if args.json else format_conditional_report(rep))
    return 0
