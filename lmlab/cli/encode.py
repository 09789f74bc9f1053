"""``lmlab encode MODEL``: the vectors an attention-free encoder-decoder (``lmlab train --kind
seq2seq --attention none``) conditions its decoder on -- the encoder's context vector, its top
layer's final state with both directions concatenated -- for each source sentence (one
whitespace-tokenised sentence a line, from stdin or --text), written to --output as a feature file
(one whitespace-separated float vector a line, in input order, atomically): the format ``lmlab
train --kind conditional-lm --features FILE`` and ``lmlab generate --features FILE`` read.

An empty source line has no encoding and is an error naming its line (a feature file has a vector
for every line of its text).  A model with attention reads every source state, not one vector:
it is refused.
"""

from __future__ import annotations

from ..errors import ConfigError
from ._common import Formatter, input_lines, output_file, positive_int

EXAMPLES = """examples:
  lmlab encode runs/en-de-noatt --text train.en --output train.features
  lmlab train --kind conditional-lm --train train.de --features train.features --save runs/de-from-vectors
"""


def add_parser(sub):
    p = sub.add_parser("encode", help="write an attention-free encoder-decoder's context vectors as a feature file",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help="an encoder-decoder's model folder (lmlab train --kind seq2seq --attention none)")
    p.add_argument("--text", help="source text, one tokenised sentence a line ('-' for stdin) (default: stdin)")
    p.add_argument("--output", type=output_file, required=True, help="the feature file to write")
    p.add_argument("--batch_size", type=positive_int, default=64, help="sentences per batch")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    return p


def run(args) -> int:
    from ..data.features import write_features
    from ..generate.translate import context_vectors
    from .predict import load_task_model

    lines = input_lines(args.text)
    model, _, _ = load_task_model(args.model, ("seq2seq",), "encode", args.device)
    if model.attention != "none":
        raise ConfigError(f"{args.model}: an encoder-decoder with attention {model.attention} reads every source "
                          "state, not one vector; lmlab encode takes one trained with --attention none")
    name = "<stdin>" if args.text is None else args.text
    write_features(args.output, context_vectors(model, lines, name, batch_size=args.batch_size, device=args.device))
    return 0
