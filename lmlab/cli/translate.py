"""``lmlab translate MODEL``: translate with an encoder-decoder (``lmlab train --kind seq2seq``):
one source sentence a line (whitespace-tokenised, as the model was trained: Multi30k's lowercased
tokenised text) from stdin or --text, one translation a line on stdout, in input order.  An empty
input line gives an empty output line.

Decoding is greedy (``--beam 1``, the default) or the beam search (``--beam N``), ranked by GNMT's
length-normalised score ``logprob / ((5 + length) / 6) ** alpha`` (``--alpha``, 0: the
log-probability itself; length counts ``</s>``).  ``--max_len`` caps the generated tokens
(default ``2 * source length + 10``).

``--nbest N`` prints the N best of each sentence as Moses n-best lines, ``id ||| hypothesis |||
score`` (``id``: the 0-based input line; ``score``: the ranking score, natural log: with
``--alpha`` above 0 the length-normalised score, not the total log-probability), best first;
an empty input line gives one line with an empty hypothesis and score 0.  ``lmlab rerank LM
--nbest FILE`` re-scores them.

``--attention FILE`` writes the attention weights of each sentence's best translation as JSON
lines, one object per input line: ``{"id": i, "source": [source tokens], "output": [output
tokens, "</s>" last when it ended with one], "weights": [[...], ...]}``: one row per output token
(the weights of the source tokens when it was predicted; each row sums to 1), one column per
source token.  An empty input line has empty lists.
"""

from __future__ import annotations

import json
import sys

from ..errors import ConfigError
from ._common import Formatter, applies_only, input_lines, nonnegative_float, output_file, positive_int

EXAMPLES = """examples:
  echo "a man is riding a bike ." | lmlab translate runs/en-de
  lmlab translate runs/en-de --text test.en --beam 5 --alpha 0.6 > test.hyp
  lmlab translate runs/en-de --text test.en --beam 8 --nbest 8 > test.nbest
  lmlab rerank runs/de-kn5.arpa --nbest test.nbest --score_weight 1 --best
  lmlab translate runs/en-de --text test.en --attention test.attn.jsonl > test.hyp
"""


def add_parser(sub):
    p = sub.add_parser("translate", help="translate text with a trained encoder-decoder (lmlab train --kind seq2seq)",
                       description=__doc__, epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help="an encoder-decoder's model folder (lmlab train --kind seq2seq)")
    p.add_argument("--text", help="source text, one tokenised sentence a line ('-' for stdin) (default: stdin)")
    p.add_argument("--beam", type=positive_int, default=1, help="beam size (1: greedy decoding)")
    p.add_argument("--nbest", type=positive_int, help="print the N best of each sentence as Moses n-best lines "
                                                      "(N <= --beam; --beam defaults to N); the score is the ranking score (natural log; "
                                                      "length-normalised with --alpha)")
    p.add_argument("--alpha", type=nonnegative_float, default=0.0, help="GNMT length normalisation exponent")
    p.add_argument("--max_len", type=positive_int, help="most tokens generated, </s> included "
                                                        "(default: 2 * source length + 10)")
    p.add_argument("--attention", type=output_file, help="write each sentence's attention weights here (JSON lines)")
    p.add_argument("--batch_size", type=positive_int, default=64, help="sentences per batch")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    applies_only(p, "alpha", lambda a: a.beam > 1 or a.nbest is not None,
                 "with --beam N > 1 or --nbest (greedy decoding ranks nothing)")
    return p


def decode_settings(args) -> tuple[int, int]:
    """(beam, nbest) of the options: --beam defaults to --nbest; nbest > beam is refused."""
    from ._common import given

    nbest = 1 if args.nbest is None else args.nbest
    beam = args.beam if "beam" in given(args) else max(args.beam, nbest)
    if nbest > beam:
        raise ConfigError(f"--nbest {nbest} is more than --beam {beam}: the beam keeps only {beam} hypotheses")
    return beam, nbest


def run(args) -> int:
    from .._io import atomic_write
    from ..generate.translate import translate_lines
    from .predict import load_task_model

    beam, nbest = decode_settings(args)
    lines = input_lines(args.text, allow_empty=True)
    model, _, _ = load_task_model(args.model, ("seq2seq",), "translate", args.device)
    if args.attention is not None and model.attention == "none":
        raise ConfigError(f"--attention {args.attention}: {args.model} has no attention (trained with --attention "
                          "none): no weights to write")
    result = translate_lines(model, lines, beam=beam, nbest=nbest, max_len=args.max_len, alpha=args.alpha,
                             batch_size=args.batch_size, device=args.device, with_attention=args.attention is not None)
    hyps, weights = result if args.attention is not None else (result, None)
    words = lambda h: " ".join(model.target.decode(h.tokens))
    out = sys.stdout
    for i, hs in enumerate(hyps):
        if args.nbest is None:
            out.write((words(hs[0]) if hs else "") + "\n")
        elif not hs:
            out.write(f"{i} |||  ||| 0\n")
        else:
            out.write("".join(f"{i} ||| {words(h)} ||| {h.score:.6f}\n" for h in hs))
    if args.attention is not None:
        with atomic_write(args.attention, compress=None) as f:
            for i, (line, hs, w) in enumerate(zip(lines, hyps, weights, strict=True)):
                src = model.source.tokenize(line) if hs else []
                output = (model.target.decode(hs[0].tokens) + ["</s>"] * hs[0].finished) if hs else []
                rows = [] if w is None else [[round(float(x), 6) for x in row] for row in w]
                f.write((json.dumps({"id": i, "source": src, "output": output, "weights": rows},
                                    ensure_ascii=False) + "\n").encode("utf-8"))
    return 0
