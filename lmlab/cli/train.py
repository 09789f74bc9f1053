"""``lmlab train``: train a neural LM (flags as pytorch/examples' word_language_model)."""

from __future__ import annotations

from ..errors import ConfigError
from ._common import Formatter, input_lines

EXAMPLES = """examples:
  lmlab train --data ptb --model lstm --emsize 200 --nhid 200 --nlayers 2 --dropout 0.2 --bptt 35 --epochs 6 --save runs/ptb-lstm
  lmlab train --data ptb --model gru --lr 20 --epochs 1 --dry-run --save runs/smoke
  lmlab train --data tinyshakespeare --char --model lstm --nhid 256 --lr 0.002 --optimizer adam --save runs/char
  lmlab train --data ptb --model window --context 4 --optimizer adam --lr 0.001 --batch_size 512 --save runs/bengio
  lmlab train --resume --save runs/ptb-lstm
  lmlab perplexity runs/ptb-lstm --data ptb --split test
"""

CELL_NAMES = {"lstm": "lstm", "gru": "gru", "gru_cho": "gru_cho", "rnn_tanh": "rnn_tanh", "rnn_relu": "rnn_relu",
              "rnn_sigmoid": "rnn_sigmoid", "tanh": "rnn_tanh", "relu": "rnn_relu", "sigmoid": "rnn_sigmoid"}


def add_parser(sub):
    p = sub.add_parser("train", help="train a neural LM (RNN/LSTM/GRU/fixed-window)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("--data", help="named dataset (ptb, wikitext-2, tinyshakespeare)")
    p.add_argument("--train", help="training text file (instead of --data)")
    p.add_argument("--valid", help="validation text file (instead of --data) (default: the last 1000 lines of --train)")
    p.add_argument("--save", required=True, help="model folder (config.json, vocab.json, model.safetensors)")
    p.add_argument("--model", default="lstm", choices=sorted(CELL_NAMES) + ["window"],
                   help="recurrent cell, or window: the fixed-window (Bengio) model")
    p.add_argument("--char", action="store_true", help="character level")
    p.add_argument("--emsize", type=int, default=200, help="size of the word embeddings")
    p.add_argument("--nhid", type=int, default=200, help="hidden units per layer")
    p.add_argument("--nlayers", type=int, default=2, help="recurrent layers")
    p.add_argument("--dropout", type=float, default=0.2, help="dropout on the embeddings, between layers "
                   "and on the top layer (each place can be set apart below)")
    p.add_argument("--dropout_emb", "--dropouti", type=float, help="dropout on the embedding output (default: --dropout)")
    p.add_argument("--dropout_between", "--dropouth", type=float, help="dropout between recurrent layers (default: --dropout)")
    p.add_argument("--dropout_out", type=float, help="dropout on the top layer's output (default: --dropout)")
    p.add_argument("--tied", action="store_true", help="tie the input and output embeddings (needs emsize = nhid)")
    p.add_argument("--init", default="default", choices=("default", "orthogonal", "identity"),
                   help="recurrent weight initialisation (identity: Le et al.'s IRNN)")
    p.add_argument("--adaptive", nargs="+", type=int, metavar="CUTOFF",
                   help="adaptive softmax with these frequency-rank cutoffs (e.g. 2000 10000 for WikiText-2) (default: full softmax)")
    p.add_argument("--pretrained", help="word2vec/GloVe text file to initialise the embeddings")
    p.add_argument("--freeze", action="store_true", help="keep the (pretrained) embeddings fixed")
    p.add_argument("--context", type=int, default=4, help="window model: tokens of context")
    p.add_argument("--lr", type=float, default=20.0, help="initial learning rate (SGD: divided by 4 when validation stalls)")
    p.add_argument("--optimizer", default="sgd", choices=("sgd", "adam", "adamw"), help="optimiser")
    p.add_argument("--clip", type=float, default=0.25, help="gradient clipping: largest global norm")
    p.add_argument("--epochs", type=int, help="epochs in all (default 6; with --resume: the run's own)")
    p.add_argument("--batch_size", type=int, default=20, help="sequences per batch")
    p.add_argument("--bptt", type=int, default=35, help="truncated backpropagation length in tokens")
    p.add_argument("--mode", default="stream", choices=("stream", "sentence"),
                   help="stream: truncated BPTT over the whole text; sentence: reset the state at every line")
    p.add_argument("--patience", type=int, default=0, help="early stopping after N epochs without improvement")
    p.add_argument("--seed", type=int, default=1111, help="random seed (initialisation, dropout, batch order)")
    p.add_argument("--threads", type=int, help="torch threads (default: the free cores)")
    p.add_argument("--max_batches", type=int, help="at most N batches per epoch (default: all)")
    p.add_argument("--min_count", type=int, default=1, help="words seen fewer times become <unk>")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="two batches of one epoch")
    p.add_argument("--resume", action="store_true", help="continue the run in --save")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    return p


def run(args) -> int:
    import torch  # noqa: F401 - fail early with a clear message if the neural extra is missing

    from ..models.neural.config import RNNLMConfig, WindowLMConfig
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab, encode_corpus
    from ..train.loop import TrainConfig, Trainer

    if args.resume:
        overrides = {"progress": not args.quiet}
        if args.epochs is not None:
            overrides["epochs"] = args.epochs
        trainer = Trainer.resume(args.save, **overrides)
        vocab = trainer.vocab
    if not args.data and not args.train:
        raise ConfigError("give --data NAME or --train FILE (and --valid FILE)")
    train_lines = input_lines(args.train, args.data, "train")
    valid_lines = input_lines(args.valid, args.data, "valid") if (args.valid or args.data) else train_lines[-1000:]
    tokenizer = Tokenizer(kind="character" if args.char else "whitespace")
    if not args.resume:
        vocab = Vocab.build((tokenizer.tokenize(x) for x in train_lines), min_count=args.min_count,
                            tokenizer=tokenizer)
        if args.model == "window":
            mcfg = WindowLMConfig(vocab_size=len(vocab), context=args.context, emsize=args.emsize,
                                  nhid=args.nhid, dropout=args.dropout)
            problems = mcfg.problems()
        else:
            mcfg = RNNLMConfig(vocab_size=len(vocab), cell=CELL_NAMES[args.model], emsize=args.emsize,
                               nhid=args.nhid, nlayers=args.nlayers, dropout=args.dropout,
                               dropout_emb=args.dropout_emb, dropout_between=args.dropout_between,
                               dropout_out=args.dropout_out, tied=args.tied,
                               init=args.init, freeze_embeddings=args.freeze,
                               adaptive_cutoffs=tuple(args.adaptive or ()))
            problems = mcfg.problems()
        tcfg = TrainConfig(epochs=args.epochs or 6, lr=args.lr, optimizer=args.optimizer, clip=args.clip,
                           bptt=args.bptt, batch_size=args.batch_size, mode=args.mode, seed=args.seed,
                           threads=args.threads, max_batches=args.max_batches, dry_run=args.dry_run,
                           device=args.device, patience=args.patience, progress=not args.quiet)
        problems += tcfg.problems()
        if problems:
            raise ConfigError(problems)
        trainer = Trainer(mcfg, tcfg, vocab, args.save, pretrained=args.pretrained)
        if trainer.coverage is not None and not args.quiet:
            import sys

            print(f"pretrained vectors cover {trainer.coverage:.1%} of the vocabulary", file=sys.stderr)
    tok = vocab.tokenizer
    train_ids, _ = encode_corpus(vocab, [tok.tokenize(x) for x in train_lines])
    valid_ids, _ = encode_corpus(vocab, [tok.tokenize(x) for x in valid_lines])
    history = trainer.fit(train_ids, valid_ids)
    if history:
        print(f"best valid perplexity {trainer.best:.2f} after {len(history)} epochs; model in {args.save}")
    return 0
