"""``lmlab evaluate MODEL`` for an encoder-decoder: BLEU of its translations (sacrebleu), two ways,
each with its signature: ``-tok none`` on the tokenised output against the tokenised references,
and ``-lc`` on the output detokenised by sacremoses against the raw references.

The test set is ``--data multi30k --split test`` (test_2016_flickr; the model's languages, as its
run recorded them: tokenised ``lc.norm.tok`` references and the raw ones), or ``--source_file F
--reference_file F`` (tokenised, line-aligned; ``--raw_reference_file F`` for the detokenised
figure).  ``--baseline FILE`` (another system's tokenised translations of the same sources, one a
line) adds sacrebleu's paired bootstrap test of the model against it (``--resamples``).
"""

from __future__ import annotations

import json

from ..errors import ConfigError
from ._common import applies_only, given, nonnegative_float, positive_int

#: the tagger's options of lmlab evaluate (an encoder-decoder has none of them)
TAGGER_ONLY = ("labels", "test", "word_column", "label_column", "scheme")
OWN = ("source_file", "reference_file", "raw_reference_file", "beam", "alpha", "max_len", "baseline", "resamples")


def add_options(p) -> None:
    g = p.add_argument_group("an encoder-decoder (lmlab train --kind seq2seq)")
    g.add_argument("--source_file", help="tokenised source sentences, one a line (instead of --data)")
    g.add_argument("--reference_file", help="tokenised reference translations, line-aligned with --source_file")
    g.add_argument("--raw_reference_file", help="raw (untokenised) references: detokenised BLEU (-lc) too")
    g.add_argument("--beam", type=positive_int, default=1, help="beam size (1: greedy decoding)")
    g.add_argument("--alpha", type=nonnegative_float, default=0.0, help="GNMT length normalisation exponent")
    g.add_argument("--max_len", type=positive_int, help="most tokens generated (default: 2 * source length + 10)")
    g.add_argument("--baseline", help="another system's tokenised translations: paired bootstrap against it")
    g.add_argument("--resamples", type=positive_int, default=1000, help="paired bootstrap resamples")
    applies_only(p, "raw_reference_file", lambda a: a.reference_file is not None, "with --reference_file")
    applies_only(p, "resamples", lambda a: a.baseline is not None, "with --baseline")
    applies_only(p, "alpha", lambda a: a.beam > 1, "with --beam N > 1 (greedy decoding ranks nothing)")


def is_seq2seq(folder: str) -> bool:
    from ..models.neural.checkpoint import is_checkpoint, read_config_dict
    from ..models.neural.kinds import kind_of_config

    try:
        return is_checkpoint(folder) and kind_of_config(read_config_dict(folder)) == "seq2seq"
    except Exception:  # noqa: BLE001 - the caller's loader reports a bad folder, naming it
        return False


def refuse(args, dests, what: str) -> None:
    bad = sorted(set(dests) & given(args))
    if bad:
        raise ConfigError(f"{', '.join('--' + d for d in bad)}: not options of {what}")


def _languages(folder: str) -> tuple[str, str]:
    from pathlib import Path

    from .._json import read_json

    state = Path(folder) / "trainer_state.json"
    src = read_json(state, "an lmlab trainer state").get("source") if state.is_file() else None
    if not isinstance(src, dict) or src.get("data") != "multi30k":
        raise ConfigError(f"{folder}: its run does not record multi30k languages; give --source_file and "
                          "--reference_file")
    return src["source"], src["target"]


def run(args) -> int:
    from .._io import read_lines
    from ..data.parallel import multi30k, read_parallel
    from ..eval.bleu import format_bleu_report
    from ..train.seq2seq_run import bleu_of
    from .predict import load_task_model

    refuse(args, TAGGER_ONLY, "an encoder-decoder's evaluation (they are a tagger's, or --test a classifier's or "
                              "conditional LM's; an encoder-decoder reads --source_file and --reference_file)")
    if (args.data is None) == (args.source_file is None):
        raise ConfigError("give --data multi30k (with --split) or --source_file FILE --reference_file FILE, one of them")
    model, _, _ = load_task_model(args.model, ("seq2seq",), "evaluate", args.device)
    if args.data is not None:
        if args.data != "multi30k":
            raise ConfigError(f"--data {args.data}: an encoder-decoder is evaluated on multi30k (or --source_file)")
        source, target = _languages(args.model)
        pairs = multi30k(args.split, source, target)
        raw = [t for _, t in multi30k(args.split, source, target, tokenized=False)]
    else:
        if args.reference_file is None:
            raise ConfigError("--source_file needs --reference_file (the tokenised references)")
        pairs = read_parallel(args.source_file, args.reference_file)
        raw, target = None, "en"
        if args.raw_reference_file is not None:
            raw = [t for _, t in read_parallel(args.source_file, args.raw_reference_file)]
    baseline = None
    if args.baseline is not None:
        baseline = read_lines(args.baseline)
        if len(baseline) != len(pairs):
            raise ConfigError(f"{args.baseline} has {len(baseline)} lines but the test set has {len(pairs)} sentences")
    rep = bleu_of(model, pairs, raw, lang=target, beam=args.beam, alpha=args.alpha, max_len=args.max_len,
                  batch_size=args.batch_size, device=args.device, baseline=baseline, resamples=args.resamples)
    print(json.dumps(rep, indent=2) if args.json else format_bleu_report(rep))
    return 0
