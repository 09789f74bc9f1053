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

from ..errors import ConfigError, CorpusError
from ._common import applies_only, given, positive_int
from ._task_train import fit_and_report, new_trainer, resume, setting, train_config

HOLDOUT = 1000
DEFAULTS = {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "clip": 1.0, "dropout": 0.3, "epochs": 10,
            "emsize": 256, "nhid": 256, "nlayers": 1, "model": "gru"}
FILES = ("train_source", "train_target", "valid_source", "valid_target")
# lmlab.models.neural.seq2seq.ATTENTIONS and lmlab.train.seq2seq_task.DEV_METRICS (both import torch; building
# the parser must not: tests/neural/test_seq2seq_cli.py checks they are equal)
ATTENTIONS = ("none", "bahdanau", "dot", "general")
DEV_METRICS = ("ppl", "bleu")
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


def _setting(args, given, name):
    return setting(args, given, name, DEFAULTS)


def read_pairs(src: dict, split: str) -> list[tuple[str, str]]:
    """The run's ``(source, target)`` pairs of ``split`` (train or valid)."""
    from ..data.parallel import multi30k, read_parallel

    if src.get("data"):
        return multi30k(split, src["source"], src["target"])
    pairs = read_parallel(src[f"{split}_source"], src[f"{split}_target"])
    empty = next((i for i, (s, _) in enumerate(pairs, start=1) if not s.split()), None)
    if empty is not None:
        raise CorpusError(f"{src[f'{split}_source']}: line {empty}: an empty source sentence (an encoder has "
                          "nothing to encode); drop the pair")
    return pairs


def _splits(src: dict):
    if src.get("data") and src["data"] != "multi30k":
        raise ConfigError(f"--kind seq2seq: unknown parallel dataset {src['data']!r}; known: multi30k")
    train = read_pairs(src, "train")
    if src.get("data") or src.get("valid_source"):
        return train, read_pairs(src, "valid")
    if len(train) <= HOLDOUT:
        raise ConfigError(f"--kind seq2seq: {len(train)} training pairs and no dev data: give --valid_source FILE "
                          "and --valid_target FILE")
    return train[:-HOLDOUT], train[-HOLDOUT:]


def _source(args) -> dict:
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
    return {"data": args.data, "source": args.source, "target": args.target,
            **{name: absolute(getattr(args, name)) for name in FILES}}


def run(args) -> int:
    import torch

    from ..models.neural.seq2seq import Seq2Seq
    from ..text.vocab import Vocab
    from ..train.loop import check_save_dir
    from ..train.seq2seq_task import make_task
    from .train import CELL_NAMES

    given = getattr(args, "_given", frozenset())
    if args.resume:
        if {"train", "valid"} & given:
            raise ConfigError("--kind seq2seq reads two files a split (--train_source ...), not --train/--valid")
        trainer = resume(args, given, ("data", "train_source"), files=FILES)
        src = trainer.source
    else:
        src = _source(args)
        check_save_dir(Path(args.save), args.overwrite)
    train_pairs, dev_pairs = _splits(src)
    if not args.resume:
        cell = _setting(args, given, "model")
        if cell == "window":
            raise ConfigError("--kind seq2seq: --model names the recurrent cell (gru, lstm, rnn_tanh, ...), not window")
        vocabs = {side: Vocab.build((p[i].split() for p in train_pairs), min_count=args.min_count)
                  for i, side in enumerate(("source", "target"))}
        config = {"emsize": _setting(args, given, "emsize"), "hidden_size": _setting(args, given, "nhid"),
                  "num_layers": _setting(args, given, "nlayers"), "cell": CELL_NAMES[cell],
                  "bidirectional": not args.unidirectional, "attention": args.attention,
                  "decoder_hidden_size": args.decoder_hidden, "input_feed": args.input_feed,
                  "dropout": _setting(args, given, "dropout")}
        tcfg = train_config(args, given, DEFAULTS)
        torch.manual_seed(tcfg.seed)
        model = Seq2Seq(vocabs["source"], vocabs["target"], **config)
        trainer = new_trainer(args, model, tcfg, model.vocabs, make_task(tcfg, model, args.dev_metric), src,
                              pretrained=False)
    return fit_and_report(args, trainer, train_pairs, dev_pairs)
