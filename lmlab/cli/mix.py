"""``lmlab mix``: a linear interpolation of models, saved as a model file of its own.

Weights are given (``--weights``, static, as SRILM's ``-lambda``) or tuned by EM on held-out text
(the dataset's valid split, or ``--heldout FILE``).  The mixture is written as a small JSON file
that names its components; every command that takes a model takes it (``perplexity``, ``score``,
``rerank``, ``complete``, ``generate``, ``compare``, ``serve``)."""

from __future__ import annotations

import json

import numpy as np

from ..errors import ConfigError
from ..eval.perplexity import report_from_scores
from ..models.loading import load
from ..models.mixture import MixtureLM, write_mixture_spec
from ..text.specials import EOS_ID
from ._common import Formatter, input_lines, nonnegative_float, output_file

EXAMPLES = """examples:
  lmlab mix ptb.o5.lmbin runs/ptb-lstm --data ptb --save ptb-mix.json     # EM on the valid split
  lmlab mix a.arpa b.arpa --weights 0.3 0.7 --save ab.json                # static weights
  lmlab perplexity ptb-mix.json --data ptb --split test
  lmlab serve ptb-mix.json
"""


def add_parser(sub):
    p = sub.add_parser("mix", help="interpolate models (static or EM-tuned weights) into a mixture file",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("models", nargs="+", help="component models (same vocabulary)")
    p.add_argument("--save", required=True, type=output_file, help="mixture file to write (.json)")
    p.add_argument("--weights", nargs="+", type=nonnegative_float, metavar="W", help="static weights, one per model, summing to 1")
    p.add_argument("--data", help="named dataset whose valid split tunes the weights by EM")
    p.add_argument("--heldout", help="held-out text file that tunes the weights by EM")
    p.add_argument("--json", action="store_true", help="print the weights and held-out figures as JSON")
    return p


def run(args) -> int:
    if not args.save.endswith(".json"):
        raise ConfigError(f"--save {args.save}: a mixture file ends in .json")
    held_given = args.data is not None or args.heldout is not None
    if args.data is not None and args.heldout is not None:
        raise ConfigError("give --data NAME or --heldout FILE (both name the held-out text), not both")
    if args.weights is None and not held_given:
        raise ConfigError("give --weights W... (static) or held-out text to tune them: --data NAME or --heldout FILE")
    if args.weights is not None and len(args.weights) != len(args.models):
        raise ConfigError(f"--weights has {len(args.weights)} numbers for {len(args.models)} models")
    models = [load(m) for m in args.models]
    held = input_lines(args.heldout, args.data, "valid") if held_given else None
    report: dict = {"save": args.save}
    if held is None:
        mix = MixtureLM(models, args.weights)
    else:  # every model scores the held-out text once
        mix, enc, lp = MixtureLM.tuned_with_scores(models, held, args.weights)
        ids = np.concatenate([np.append(s, EOS_ID) for s in enc])
        ppl = [report_from_scores(row, ids, len(enc)).perplexity for row in (lp[-1], *lp[:-1])]
        report["heldout_perplexity"] = dict(zip(["mixture", *_distinct(args.models)], ppl, strict=True))
        report["mode"] = "sentence"  # every held-out line scored from <s>, for every model
    write_mixture_spec(args.save, args.models, mix.weights)
    report["weights"] = dict(zip(_distinct(args.models), map(float, mix.weights), strict=True))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name, w in report["weights"].items():
        print(f"{w:.4f}  {name}")
    for name, ppl in report.get("heldout_perplexity", {}).items():
        print(f"held-out perplexity {ppl:10.2f}  {name}  (sentence mode)")
    print(f"mixture written to {args.save}")
    return 0


def _distinct(names: list[str]) -> list[str]:
    """The models' names as report keys: a model given twice is ``NAME`` then ``NAME #2``."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out
