"""``lmlab train --kind seq2seq``: an encoder-decoder (a (bi)directional RNN/LSTM/GRU encoder, an
RNN decoder, attention ``none``, ``bahdanau``, ``dot`` or ``general``) on Multi30k (``--data
multi30k --source en --target de``: the tokenised, lowercased files) or on line-aligned files of
your own (``--train_source F --train_target F --valid_source F --valid_target F``, tokens split on
whitespace; without the valid files the last 1000 training pairs are held out).

The cell is ``--model`` (default gru), the encoder bidirectional unless ``--unidirectional``;
``--nhid`` is the encoder's units per direction, ``--decoder_hidden`` the decoder's (default: the
encoder's output size), ``--nlayers`` both stacks' layers.  The dev metric is the dev targets'
perplexity (``--dev_metric ppl``, the default: cheap, no decoding) or greedy dev BLEU
(``--dev_metric bleu``: what the benchmark compares, at the cost of decoding the dev set each
epoch).  Options an encoder-decoder does not set keep its own defaults: Adam, learning rate 0.001,
batch 64, clip 1, dropout 0.3, 10 epochs, embeddings 256, 256 units, 1 layer.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from ..train.seq2seq_run import ATTENTIONS, DEV_METRICS, FILES
from ._common import applies_only, given, positive_int
from ._task_train import fit_and_report, from_args, open_run, train_options

# options only an encoder-decoder has (refused with another --kind)
OWN = ("source", "target", *FILES, "attention", "input_feed", "decoder_hidden", "dev_metric")


def add_options(p) -> None:
    g = p.add_argument_group("--kind seq2seq")
    g.add_argument("--source", default="en", help="--kind seq2seq with --data multi30k: the source language (en, de)")
    g.add_argument("--target", default="de", help="--kind seq2seq with --data multi30k: the target language (en, de)")
    for name in FILES:
        split, side = name.split("_")
        g.add_argument(f"--{name}", help=f"--kind seq2seq: {split} file of {side} sentences, line-aligned with "
                                         f"--{split}_{'target' if side == 'source' else 'source'} (instead of --data)")
    g.add_argument("--attention", default="bahdanau", choices=ATTENTIONS,
                   help="--kind seq2seq: none (the context vector only), bahdanau (additive), dot or general (Luong)")
    g.add_argument("--input_feed", action="store_true", help="--kind seq2seq: Luong input feeding (attention dot or general)")
    g.add_argument("--decoder_hidden", type=positive_int,
                   help="--kind seq2seq: decoder units (default: the encoder's output size)")
    g.add_argument("--dev_metric", default="ppl", choices=DEV_METRICS,
                   help="--kind seq2seq: ppl (dev target perplexity, cheap) or bleu (greedy dev BLEU, decodes the dev set)")
    for dest in OWN:
        applies_only(p, dest, lambda a: a.resume or a.kind == "seq2seq", "with --kind seq2seq")  # --resume: refused


def _source(args) -> dict:
    from ..train import seq2seq_run

    absolute = lambda f: None if f is None else str(Path(f).resolve())
    if args.data is None and args.train_source is None:
        raise ConfigError("--kind seq2seq: give --data multi30k (--source, --target) or --train_source FILE "
                          "--train_target FILE")
    if args.data is not None and args.train_source is not None:
        raise ConfigError(f"give training files or a named dataset, not both ({args.train_source} and --data {args.data})")
    for split in ("train", "valid"):
        if (getattr(args, f"{split}_source") is None) != (getattr(args, f"{split}_target") is None):
            raise ConfigError(f"--kind seq2seq: give --{split}_source and --{split}_target together")
    if args.data is not None and args.valid_source is not None:
        raise ConfigError("--valid_source/--valid_target: --data multi30k has its own dev set")
    if args.data is None and {"source", "target"} & given(args):
        raise ConfigError("--source/--target name multi30k's languages: give them with --data multi30k")
    if args.train is not None or args.valid is not None:
        raise ConfigError("--kind seq2seq reads two files a split: --train_source/--train_target "
                          "(--valid_source/--valid_target), not --train/--valid")
    languages = (args.source, args.target) if args.data is not None else (None, None)  # files: not recorded
    return seq2seq_run.source(args.data, *languages, **{name: absolute(getattr(args, name)) for name in FILES})


def _check_resumed_data(args, given) -> None:
    """A resumed run's new data must be of its own languages: a run trained on files records no
    languages, so --data multi30k (whose direction --source/--target name, which --resume cannot
    change) is refused for it; training and dev files go in pairs."""
    from ..train.runs import recorded_source

    recorded = recorded_source(args.save) or {}
    if "data" in given and not recorded.get("data"):
        raise ConfigError(f"--data {args.data}: the run in {args.save} was trained on --train_source/--train_target "
                          "files, whose languages it does not record; give its new data as files too")
    for split in ("train", "valid"):
        if (f"{split}_source" in given) != (f"{split}_target" in given):
            raise ConfigError(f"--kind seq2seq: give --{split}_source and --{split}_target together")


def run(args) -> int:
    from ..train import seq2seq_run

    given = getattr(args, "_given", frozenset())
    if args.resume:  # (--train/--valid, other kinds' data options: refused by lmlab.cli.train.run)
        _check_resumed_data(args, given)
    trainer, src = open_run(args, given, ("data", "train_source"), lambda: _source(args), files=FILES)
    train_pairs, dev_pairs = seq2seq_run.splits(src)
    if not args.resume:
        settings = from_args(seq2seq_run.Seq2SeqSettings, args, given, seq2seq_run.DEFAULTS)
        if settings.model == "window":
            raise ConfigError("--kind seq2seq: --model names the recurrent cell (gru, lstm, rnn_tanh, ...), not window")
        trainer = seq2seq_run.start(train_pairs, settings, args.save, dev_metric=args.dev_metric, source=src,
                                    overwrite=args.overwrite, quiet=args.quiet,
                                    **train_options(args, given, seq2seq_run.DEFAULTS))
    return fit_and_report(args, trainer, train_pairs, dev_pairs)
