"""``lmlab train``: train a neural model; --kind lm (the default) is a language model, with the
flags of pytorch/examples' word_language_model.  Every kind trains with the same loop, options
(--epochs, --lr, --optimizer, --clip, --patience, --seed, --threads, --device, --dry-run) and
model folder; --kind tag is a tagger (lmlab.cli.train_tag), --kind classify a sentence
classifier (lmlab.cli.train_classify), --kind seq2seq an encoder-decoder (lmlab.cli.train_seq2seq),
--kind conditional-lm a conditional LM that generates a sentence from its label or from a feature
vector (lmlab.cli.train_conditional){refused}.

--save names a new folder; one that already holds a model is refused unless --resume (continue
it) or --overwrite (replace it; the old model stays until the first epoch's checkpoint).

--resume continues the run in --save with its own model, vocabulary, optimizer, batching, seed,
threads and data (recorded when the run started).  Of the other options, these apply to the
resumed run: --epochs (the total), --max_batches, --patience, --lr (from the next epoch on),
--clip, --device, --dry-run, --quiet, and --data/--train/--valid (other text, encoded with the
run's vocabulary: they replace the recorded data and are recorded; --valid alone replaces only the
dev file); --kind may repeat the run's own kind.  Any other option given with --resume is refused.  A run already at --epochs has
nothing to train: one line on stderr says so, and the exit code is 0.

Under torchrun (torchrun --nproc_per_node N -m lmlab train ...) the run is data-parallel, every
kind alike: --batch_size is the whole batch, each rank training on its own contiguous share (N
must divide it); rank 0 prints and writes --save; --resume needs the same number of ranks.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError, CorpusError, ModelFormatError
from ..train.runs import CELL_NAMES  # --model's names (the kinds' runs in lmlab.train use them too)
from ._common import (
    Formatter,
    applies_only,
    dropout_rate,
    input_lines,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)

EXAMPLES = """examples:
  lmlab train --data ptb --model lstm --emsize 200 --nhid 200 --nlayers 2 --dropout 0.2 --bptt 35 --epochs 6 --save runs/ptb-lstm
  lmlab train --data ptb --model gru --lr 20 --epochs 1 --dry-run --save runs/smoke
  lmlab train --data tinyshakespeare --char --model lstm --nhid 256 --lr 0.002 --optimizer adam --save runs/char
  lmlab train --data ptb --model window --context 4 --optimizer adam --lr 0.001 --batch_size 512 --save runs/bengio
  lmlab train --resume --save runs/ptb-lstm
  lmlab train --resume --save runs/ptb-lstm --epochs 10 --lr 5       # more epochs, a new learning rate
  lmlab train --data ptb --model gru --save runs/ptb-lstm --overwrite  # replace the model in the folder
  lmlab perplexity runs/ptb-lstm --data ptb --split test
"""



def refused_kinds() -> list[str]:
    """The kinds ``--kind`` refuses (their models are not in lmlab yet), from the registry."""
    from ..models.neural.kinds import REGISTRY

    return [k for k, v in REGISTRY.items() if not v.available]


def description() -> str:
    refused = refused_kinds()
    said = "" if not refused else (f"; {' and '.join(refused)} {'is' if len(refused) == 1 else 'are'} refused "
                                   f"({'its model is' if len(refused) == 1 else 'their models are'} not in lmlab yet)")
    return __doc__.replace("{refused}", said)


# language-modelling corpora (lmlab.data.readers.lm_lines); the other kinds' from lmlab.data.tasks
LM_CORPORA = ("ptb", "wikitext-2", "tinyshakespeare")


def datasets() -> dict[str, tuple[str, ...]]:
    """The named datasets of each kind ``--data`` takes."""
    from ..data.tasks import TAGGING_TASKS, TASKS

    return {"lm": LM_CORPORA, "tag": tuple(TAGGING_TASKS), "classify": tuple(TASKS), "seq2seq": ("multi30k",),
            "conditional-lm": tuple(n for n in TASKS if n != "mr")}


def add_parser(sub):
    from ..models.neural.kinds import REGISTRY

    p = sub.add_parser("train", help="train a neural model: LM (RNN/LSTM/GRU/fixed-window), ...", description=description(),
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("--kind", default="lm", choices=tuple(REGISTRY),
                   help="what to train: lm (a language model), tag, classify, seq2seq or conditional-lm "
                        f"(in lmlab now: {', '.join(k for k, v in REGISTRY.items() if v.available)})")
    p.add_argument("--data", help="named dataset: " + "; ".join(f"--kind {k}: {', '.join(names)}"
                                                              for k, names in datasets().items()))
    p.add_argument("--train", help="training text file (instead of --data)")
    p.add_argument("--valid", help="validation text file (instead of --data) (default: held out from --train: "
                                   "--kind lm: its last 1000 lines, or its last tenth if shorter (one line at least); "
                                   "tag: its last 1000 sentences, when it has more; classify, conditional-lm: 1 "
                                   "example in 10 of each label (a --features run: its last tenth, 1000 lines at most))")
    p.add_argument("--save", required=True, help="model folder (config.json, vocab.json, model.safetensors)")
    p.add_argument("--model", default="lstm", choices=sorted(CELL_NAMES) + ["window"],
                   help="recurrent cell, or window: the fixed-window (Bengio) model")
    p.add_argument("--char", action="store_true", help="character level")
    p.add_argument("--unidirectional", action="store_true",
                   help="--kind tag, classify, seq2seq: a left-to-right encoder (default: bidirectional)")
    p.add_argument("--emsize", type=positive_int, default=200, help="size of the word embeddings")
    p.add_argument("--nhid", type=positive_int, default=200, help="hidden units per layer")
    p.add_argument("--nlayers", type=positive_int, default=2, help="recurrent layers")
    p.add_argument("--dropout", type=dropout_rate, default=0.2, help="dropout on the embeddings, between layers "
                   "and on the top layer (each place can be set apart below)")
    p.add_argument("--dropout_emb", "--dropouti", type=dropout_rate, help="dropout on the embedding output (default: --dropout)")
    p.add_argument("--dropout_between", "--dropouth", type=dropout_rate, help="dropout between recurrent layers (default: --dropout)")
    p.add_argument("--dropout_out", type=dropout_rate, help="dropout on the top layer's output (default: --dropout)")
    p.add_argument("--tied", action="store_true", help="tie the input and output embeddings (needs emsize = nhid)")
    p.add_argument("--init", default="default", choices=("default", "orthogonal", "identity", "chrono"),
                   help="recurrent weight initialisation (identity: Le et al.'s IRNN; chrono, --kind classify with "
                        "an lstm or gru: Tallec and Ollivier's gate biases for dependencies up to --chrono_tmax)")
    p.add_argument("--chrono_tmax", type=positive_int, metavar="T",
                   help="--init chrono: the longest dependency the gates start out keeping (default: the longest "
                        "training text, in tokens)")
    p.add_argument("--adaptive", nargs="+", type=positive_int, metavar="CUTOFF",
                   help="adaptive softmax with these frequency-rank cutoffs (e.g. 2000 10000 for WikiText-2) (default: full softmax)")
    p.add_argument("--pretrained", help="word2vec/GloVe text file to initialise the embeddings")
    p.add_argument("--freeze", action="store_true", help="keep the (pretrained) embeddings fixed")
    p.add_argument("--context", type=positive_int, default=4, help="window model: tokens of context (an LM: before the word; a tagger: on each side)")
    p.add_argument("--lr", type=positive_float, default=20.0, help="initial learning rate (SGD: divided by 4 when validation stalls)")
    p.add_argument("--optimizer", default="sgd", choices=("sgd", "adam", "adamw"), help="optimiser")
    p.add_argument("--clip", type=nonnegative_float, default=0.25, help="gradient clipping: largest global norm")
    p.add_argument("--epochs", type=positive_int, help="epochs in all (with --resume: the run's own)")
    p.add_argument("--batch_size", type=positive_int, default=20, help="sequences per batch (under torchrun: the whole batch, split over the ranks)")
    p.add_argument("--bptt", type=positive_int, default=35, help="truncated backpropagation length in tokens")
    p.add_argument("--mode", default="stream", choices=("stream", "sentence"),
                   help="stream: truncated BPTT over the whole text; sentence: reset the state at every line")
    p.add_argument("--patience", type=nonnegative_int, default=0, help="early stopping after N epochs without improvement (or at once when "
                        "the dev metric is perfect, 100%% accuracy or F1: no epoch can improve on it)")
    p.add_argument("--seed", type=nonnegative_int, default=1111, help="random seed (initialisation, dropout, batch order)")
    p.add_argument("--threads", type=positive_int,
                   help="torch threads (default: the free cores, shared among the ranks torchrun starts on a node)")
    p.add_argument("--max_batches", type=positive_int, help="at most N batches per epoch (default: all)")
    p.add_argument("--min_count", type=positive_int, default=1, help="words seen fewer times become <unk>")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="two batches of one epoch")
    p.add_argument("--resume", action="store_true",
                   help=f"continue the run in --save with its own settings and data; only {RESUME_FLAGS} "
                        "may be given with it (see above)")
    p.add_argument("--overwrite", action="store_true", help="replace the model already in --save")
    p.add_argument("--quiet", action="store_true", help="no progress messages on stderr")
    for spec in REGISTRY.values():  # each kind's own options (lmlab.models.neural.kinds), refused with another kind
        if spec.available and spec.cli_options is not None:
            before = len(p._actions)  # noqa: SLF001 - argparse has no public list of actions
            spec.cli_options_function()(p)
            for action in p._actions[before:]:  # noqa: SLF001
                applies_only(p, action.dest, lambda a, k=spec.kind: a.resume or a.kind == k, f"with --kind {spec.kind}")
    for dest in LM_ONLY:
        applies_only(p, dest, lambda a: a.resume or a.kind == "lm", "with --kind lm")
    applies_only(p, "init", lambda a: a.resume or a.kind in ("lm", "classify"), "with --kind lm or classify")
    applies_only(p, "chrono_tmax", lambda a: a.resume or a.init == "chrono", "with --init chrono")
    _say_kind_defaults(p)
    _note_given_options(p)
    # (with --resume, _resume names every option that cannot be given)
    applies_only(p, "freeze", lambda a: a.resume or a.pretrained is not None, "with --pretrained")
    applies_only(p, "context", lambda a: a.resume or a.model == "window", "with --model window")
    for dest in RNN_ONLY:
        applies_only(p, dest, lambda a, dest=dest: a.resume or a.model != "window"
                     or (dest == "char_hidden" and a.char_hidden == 0),  # 0 says what the window tagger does
                     "with a recurrent --model (not window)")
    applies_only(p, "bptt", lambda a: a.resume or a.mode != "sentence", "with --mode stream (a sentence is one sequence)")
    for dest in TAG_FILE_ONLY:
        applies_only(p, dest, lambda a: a.resume or a.data is None, "with --train FILE (a --data set has its own)")
    applies_only(p, "labels", lambda a: a.resume or a.train is None, "with --data (a --train file's tags are in "
                 "--label_column)")
    return p


def kind_defaults() -> dict[str, dict]:
    """Each task kind's defaults where they differ from ``lmlab train``'s own (an LM's)."""
    from ..train import classify_run, conditional_run, seq2seq_run, tag_run

    return {"tag": tag_run.DEFAULTS, "classify": classify_run.DEFAULTS, "seq2seq": seq2seq_run.DEFAULTS,
            "conditional-lm": conditional_run.DEFAULTS}


# the LM's defaults that the parser leaves unset (None: the option was not given)
LM_DEFAULTS = {"epochs": 6}


def _say_kind_defaults(parser: argparse.ArgumentParser) -> None:
    """Every option whose default depends on --kind says each kind's, e.g. ``(default: 20.0; --kind
    tag, classify, seq2seq, conditional-lm: 0.001)``: help showing an LM's default alone misleads."""
    per_kind = kind_defaults()
    for action in parser._actions:  # noqa: SLF001 - argparse has no public list of actions
        if not any(action.dest in d for d in per_kind.values()):
            continue
        lm = LM_DEFAULTS.get(action.dest, action.default)
        values: dict = {}
        for kind, defaults in per_kind.items():
            values.setdefault(defaults.get(action.dest, lm), []).append(kind)
        said = [f"--kind {', '.join(['lm'] + values.pop(lm, []))}: {lm}"]
        said += [f"{', '.join(kinds)}: {value}" for value, kinds in values.items()]
        action.help = f"{action.help} (default: {'; '.join(said)})".replace("%", "%%")


# options only a language model has (the other kinds' own options are refused with any other kind too)
LM_ONLY = ("char", "dropout_emb", "dropout_between", "dropout_out", "tied", "adaptive", "bptt", "mode")
# options of the recurrent models that the fixed-window model does not have
RNN_ONLY = ("nlayers", "dropout_emb", "dropout_between", "dropout_out", "tied", "init", "adaptive", "freeze",
            "bptt", "mode", "unidirectional", "crf", "char_hidden", "char_emsize")
# the tagger's options that describe a --train column file (a named dataset has its own)
TAG_FILE_ONLY = ("word_column", "label_column", "scheme")


# With --resume: options that apply to the resumed run (TrainConfig fields), and the others it takes.
RESUME_APPLIES = ("epochs", "max_batches", "patience", "lr", "clip", "device")
RESUME_ALSO = ("dry_run", "quiet", "data", "train", "valid", "train_source", "train_target", "valid_source",
               "valid_target", "features", "valid_features", "kind", "resume", "save")  # kind: the run's own


def _flag(dest: str) -> str:
    return "--" + dest.replace("dry_run", "dry-run")


RESUME_FLAGS = ", ".join(_flag(d) for d in RESUME_APPLIES + RESUME_ALSO[:-2])


class _NotesGiven:
    """Mixed into every option's action: records its ``dest`` in ``namespace._given`` when the
    command line names the option (whatever the value, even the default)."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace._given = getattr(namespace, "_given", frozenset()) | {self.dest}
        super().__call__(parser, namespace, values, option_string)


def _note_given_options(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:  # noqa: SLF001 - argparse has no public list of actions
        if action.option_strings and not isinstance(action, argparse._HelpAction):  # noqa: SLF001
            action.__class__ = type(type(action).__name__, (_NotesGiven, type(action)), {})


HOLDOUT = 1000  # lines of --train held out for validation when no --valid is given


def held_out(lines: list[str], path: str) -> tuple[list[str], list[str]]:
    """(training lines, validation lines) of a --train file without --valid: its last
    :data:`HOLDOUT` lines, or its last tenth when that is fewer (one line at least), are
    validation only."""
    n = min(HOLDOUT, max(1, len(lines) // 10))
    if len(lines) < 2:
        raise CorpusError(f"{path}: {len(lines)} line is too few to hold one out for validation; give --valid FILE")
    return lines[:-n], lines[-n:]


def _data_source(args) -> dict:
    """What the run reads, saved with it for --resume (file paths made absolute)."""
    absolute = lambda f: None if f is None else str(Path(f).resolve())  # noqa: E731
    return {"data": args.data, "train": absolute(args.train), "valid": absolute(args.valid),
            "char": bool(args.char), "min_count": args.min_count}


def check_resume_options(args, given) -> None:
    """With --resume, only the options that apply to a resumed run (any kind)."""
    refused = sorted(given - set(RESUME_APPLIES) - set(RESUME_ALSO))
    if refused:
        raise ConfigError(f"--resume continues the run in {args.save} with its own settings: "
                          f"{', '.join(map(_flag, refused))} cannot be given with it (only {RESUME_FLAGS})")


def _resume(args, given):
    from .._json import BOOL, INT, STR, check_fields, optional
    from ..train.loop import STATE, Trainer
    from ._task_train import resumed_source

    check_resume_options(args, given)
    overrides = {k: getattr(args, k) for k in RESUME_APPLIES if k in given}
    trainer = Trainer.resume(args.save, **overrides, dry_run=args.dry_run, progress=not args.quiet)
    if trainer.source is None and not {"data", "train"} & given:
        raise ConfigError(f"{args.save}: the run does not record its data (it was started by an older lmlab); "
                          "give --data NAME or --train FILE (and --valid FILE)")
    trainer.source = resumed_source(trainer.source or _data_source(args), args, given)
    src = check_fields(trainer.source, {"data": optional(STR), "train": optional(STR), "valid": optional(STR),
                                        "char": BOOL, "min_count": INT},
                       where=f"{Path(args.save) / STATE}: source", error=ModelFormatError, allow_unknown=True)
    if not src.get("data") and not src.get("train"):
        raise ModelFormatError(f"{Path(args.save) / STATE}: source names neither a dataset nor a training file")
    return trainer, src


def run(args) -> int:
    """``lmlab train``: the kind's own run (``--resume``: the kind of the run in --save)."""
    from ..models.neural.kinds import spec

    kind = args.kind
    if args.resume:
        from ..models.neural.checkpoint import is_checkpoint, read_config_dict
        from ..models.neural.kinds import check_kind, kind_of_config

        given = getattr(args, "_given", frozenset())
        if is_checkpoint(args.save):
            kind = kind_of_config(read_config_dict(Path(args.save)))
            if "kind" in given:  # the run's own kind repeated (the first command line again) is no change
                check_kind(kind, args.kind, str(args.save), f"--resume continues it as its own kind, {kind}")
        check_resume_options(args, given)
        own = KIND_FILES.get(kind, ("train", "valid"))
        others = sorted(({f for files in KIND_FILES.values() for f in files} | {"train", "valid"}) - set(own) & given)
        if others:
            raise ConfigError(f"{', '.join(map(_flag, others))}: not data options of the run in {args.save} "
                              f"(--kind {kind} reads {', '.join(map(_flag, own))}, or --data)")
    return spec(kind).cli_run_function()(args)


# each kind's data files (the others read --train/--valid): with --resume a run takes its own kind's only
KIND_FILES = {"seq2seq": ("train_source", "train_target", "valid_source", "valid_target"),
              "conditional-lm": ("train", "valid", "features", "valid_features")}


def run_lm(args) -> int:
    """``lmlab train --kind lm``."""
    import torch  # noqa: F401 - fail early with a clear message if the neural extra is missing

    from ..models.neural.config import RNNLMConfig, WindowLMConfig
    from ..models.neural.device import resolve_device
    from ..text.tokenize import Tokenizer
    from ..text.vocab import Vocab, encode_corpus
    from ..train.loop import TrainConfig, Trainer, check_save_dir
    from ._task_train import nothing_to_train

    given = getattr(args, "_given", frozenset())
    if args.resume:
        trainer, src = _resume(args, given)
        vocab = trainer.vocab
    else:
        if args.data is None and args.train is None:
            raise ConfigError("give --data NAME or --train FILE (and --valid FILE)")
        check_save_dir(Path(args.save), args.overwrite)  # before reading any data
        resolve_device(args.device)
        src = _data_source(args)
    train_lines = input_lines(src["train"], src["data"], "train")
    if src["valid"] is not None or src["data"] is not None:
        valid_lines = input_lines(src["valid"], src["data"], "valid")
    else:  # held out from training, so validation never scores text the model trained on
        train_lines, valid_lines = held_out(train_lines, src["train"])
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
        tcfg = TrainConfig(epochs=6 if args.epochs is None else args.epochs, lr=args.lr, optimizer=args.optimizer, clip=args.clip,
                           bptt=args.bptt, batch_size=args.batch_size, mode=args.mode, seed=args.seed,
                           threads=args.threads, max_batches=args.max_batches, dry_run=args.dry_run,
                           device=args.device, patience=args.patience, progress=not args.quiet)
        problems += tcfg.problems()
        if problems:
            raise ConfigError(problems)
        trainer = Trainer(mcfg, tcfg, vocab, args.save, pretrained=args.pretrained, overwrite=args.overwrite,
                          source=src)
        if trainer.coverage is not None and not args.quiet:
            import sys

            print(f"pretrained vectors cover {trainer.coverage:.1%} of the vocabulary", file=sys.stderr)
    tok = vocab.tokenizer
    train_ids, _ = encode_corpus(vocab, [tok.tokenize(x) for x in train_lines])
    valid_ids, _ = encode_corpus(vocab, [tok.tokenize(x) for x in valid_lines])
    if args.resume and nothing_to_train(trainer, args.save):
        return 0
    history = trainer.fit(train_ids, valid_ids)
    if history and trainer.world.main:  # torchrun: rank 0 speaks for the run
        print(f"best valid perplexity {trainer.best:.2f} ({trainer.valid_mode_label}) after {len(history)} epochs; "
              f"model in {args.save}")
    return 0
