"""``lmlab generate``: sample or decode text from any model (n-gram or neural).

A conditional LM (``lmlab train --kind conditional-lm``) generates from a condition with the same
knobs: ``--label LABEL`` (a label-conditioned model; without it, from the unconditional model,
the labels' mixture with the training prior) or ``--features FILE`` (a feature-conditioned model:
one vector a line, ``-n`` samples per line, in line order).  ``--beam N`` prints the best
hypothesis of the one beam search (``lmlab.generate.beam``; ``--beam 1`` is ``--greedy``) instead
of sampling, for any model; ``--nbest K`` its K best, best first, ranked with GNMT length
normalisation ``--alpha`` (the same search and knobs as ``lmlab translate``).
"""

from __future__ import annotations

import math

from ..generate.decode import generated
from ..models.loading import load
from ._common import (
    MODEL_HELP,
    Formatter,
    applies_only,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    probability,
)

EXAMPLES = """examples:
  lmlab generate lm.arpa --prompt "the stock market" --seed 1
  lmlab generate runs/ptb-lstm --greedy --max_tokens 20
  lmlab generate runs/char --temperature 0.8 --top_p 0.9 --max_tokens 300 --no-stop
  lmlab generate runs/sst2-clm --label 1 -n 5 --seed 1        # a conditional LM: positive reviews
  lmlab generate runs/captions --features test.features --beam 5
"""


def add_parser(sub):
    p = sub.add_parser("generate", help="generate text (greedy, temperature, top-k, top-p)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--prompt", default="", help="text to continue (default: none, start a sentence)")
    p.add_argument("--max_tokens", type=positive_int, default=30, help="most tokens to generate per sample")
    p.add_argument("--greedy", action="store_true", help="always take the most likely token (no sampling)")
    p.add_argument("--temperature", type=positive_float, default=1.0,
                   help="divide log-probabilities by this before sampling (<1 sharper, >1 flatter)")
    p.add_argument("--top_k", type=positive_int, help="sample among the K most likely tokens (default: all)")
    p.add_argument("--top_p", type=probability,
                   help="sample among the most likely tokens whose probabilities sum to P (default: 1, all)")
    p.add_argument("--seed", type=nonnegative_int, help="random seed; sample i uses SEED+i (default: random)")
    p.add_argument("-n", "--num", type=positive_int, default=1, help="number of samples")
    p.add_argument("--no-stop", dest="stop", action="store_false",
                   help="do not stop at </s> (default: a sample ends at </s>)")
    p.add_argument("--scores", action="store_true", help="print each sample's log10-probability before it")
    p.add_argument("--beam", type=positive_int, help="the best hypothesis of a beam search of this width "
                                                     "(default: none, sample or --greedy)")
    p.add_argument("--nbest", type=positive_int, default=1,
                   help="with --beam: print the N best hypotheses, best first (default: 1, the best)")
    p.add_argument("--alpha", type=nonnegative_float, default=0.0,
                   help="with --beam: GNMT length normalisation of the hypotheses' scores (default: 0, none)")
    p.add_argument("--label", help="a conditional LM conditioned on labels: generate given this label (default: "
                                   "from the labels' mixture with the training prior)")
    p.add_argument("--features", help="a conditional LM conditioned on feature vectors: a feature file, one vector "
                                      "a line; -n outputs per line (default: none)")
    for dest in ("temperature", "top_k", "top_p", "seed"):
        applies_only(p, dest, lambda a: not a.greedy, "when sampling (not with --greedy)")
        applies_only(p, dest, lambda a: a.beam is None, "when sampling (not with --beam)")
    applies_only(p, "greedy", lambda a: a.beam is None, "without --beam (--beam 1 is greedy)")
    applies_only(p, "stop", lambda a: a.beam is None, "without --beam (a hypothesis ends at </s>)")
    applies_only(p, "num", lambda a: a.beam is None, "without --beam (it prints the best hypothesis)")
    applies_only(p, "num", lambda a: not a.greedy, "when sampling (--greedy gives one output: copies would be the same)")
    for dest in ("nbest", "alpha"):
        applies_only(p, dest, lambda a: a.beam is not None, "with --beam")
    return p


def models(args) -> list:
    """The LanguageModels to generate from, in output order: the model itself, or a conditional LM
    given ``--label`` (none: the labels' mixture) or each line of ``--features``."""
    from pathlib import Path

    from .._json import read_json
    from ..errors import ConfigError, LmlabError
    from ..models.neural.kinds import kind_of_config  # no torch: an n-gram model's generate does not load it

    config = Path(args.model) / "config.json"
    try:
        conditional = config.is_file() and kind_of_config(read_json(config, "a model config")) == "conditional-lm"
    except LmlabError:  # the loader names what is wrong with the folder
        conditional = False
    if not conditional:
        for name in ("label", "features"):
            if getattr(args, name) is not None:
                raise ConfigError(f"--{name}: {args.model} is not a conditional LM (lmlab train --kind conditional-lm)")
        return [load(args.model)]
    from ..data.features import read_features
    from ..models.neural.checkpoint import load_checkpoint
    from ..models.neural.conditioned import ConditionedLM, label_marginal

    model, _, _ = load_checkpoint(args.model, kind="conditional-lm")
    if model.condition == "label":
        if args.features is not None:
            raise ConfigError(f"--features: {args.model} is conditioned on labels ({', '.join(model.labels.labels)}); "
                              "give --label LABEL")
        if args.label is not None and args.label not in model.labels:
            raise ConfigError(f"--label {args.label}: {args.model} has no such label; its labels: "
                              f"{', '.join(model.labels.labels)}")
        return [label_marginal(model) if args.label is None else ConditionedLM(model, label=args.label)]
    if args.label is not None:
        raise ConfigError(f"--label: {args.model} is conditioned on feature vectors; give --features FILE")
    if args.features is None:
        raise ConfigError(f"{args.model} is conditioned on feature vectors of dimension {model.feature_size}: "
                          "give --features FILE (one vector a line)")
    return [ConditionedLM(model, features=v) for v in read_features(args.features, model.feature_size)]


def run(args) -> int:
    for text, logprob in generated(models(args), args.prompt, n=1 if args.beam is not None else args.num,
                                   beam=args.beam, max_tokens=args.max_tokens, greedy=args.greedy,
                                   temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, seed=args.seed,
                                   stop_at_eos=args.stop, nbest=args.nbest, alpha=args.alpha):
        print(f"{logprob / math.log(10):.3f}\t{text}" if args.scores else text)
    return 0
