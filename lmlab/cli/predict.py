"""``lmlab predict MODEL``: tags for each line of text (one whitespace-tokenised sentence a line,
from stdin or --text), from a tagger checkpoint (``lmlab train --kind tag``).

Output, one sentence a line in input order: ``word/TAG`` tokens (``--format text``), or
``--format conll`` (``word<TAB>TAG`` lines, a blank line after each sentence), or ``--format
json`` (one ``{"words": [...], "tags": [...]}`` object a line).  An empty input line gives an
empty output line (an empty sentence in JSON), so the output stays aligned; in CoNLL, where a
blank line only ends a sentence and an empty sentence cannot be written, an empty input line has
no block, and one line on stderr counts them.

From a classifier checkpoint (``lmlab train --kind classify``): one label a line (``--format
text``) or one ``{"text": ..., "label": ...}`` object a line (``--format json``); an empty input
line gives an empty line (label null in JSON).
"""

from __future__ import annotations

import json
import sys

from ..errors import ConfigError
from ._common import Formatter, input_lines, positive_int

EXAMPLES = """examples:
  echo "The cat sat on the mat ." | lmlab predict runs/upos
  lmlab predict runs/chunks --text sentences.txt --format conll
  lmlab predict runs/sst2 --text reviews.txt --format json
"""

#: the kinds ``lmlab predict`` serves (a classifier: one label a line; ``--format json``:
#: ``{"text": ..., "label": ...}``; an empty line gives an empty line, label null in JSON)
PREDICTS = ("tag", "classify")


def add_parser(sub):
    p = sub.add_parser("predict", help="tag or classify text with a trained tagger (word/TAG per token) or classifier (a label a line)", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("model", help="a tagger's or a classifier's model folder (lmlab train --kind tag|classify)")
    p.add_argument("--text", help="input text, one sentence a line ('-' for stdin) (default: stdin)")
    p.add_argument("--format", default="text", choices=("text", "conll", "json"), help="output format")
    p.add_argument("--batch_size", type=positive_int, default=64, help="sentences per batch")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")
    return p


def load_task_model(path: str, kinds: tuple[str, ...], command: str, device: str = "cpu"):
    """(model, vocabs, config) of a checkpoint of one of ``kinds`` (an error naming both kinds otherwise)."""
    from ..errors import KindMismatchError
    from ..models.neural.checkpoint import load_checkpoint, read_config_dict
    from ..models.neural.kinds import REGISTRY, check_kind, kind_of_config

    try:
        kind = kind_of_config(read_config_dict(path))
    except Exception:  # noqa: BLE001 - load_checkpoint reports a bad folder, naming it
        kind = None
    if kind is not None and kind not in kinds:
        if len(kinds) > 1 and kind in REGISTRY:  # check_kind's message, naming every kind the command takes
            raise KindMismatchError(f"{path}: the checkpoint is {REGISTRY[kind].describe()}, not "
                                    f"{_either([REGISTRY[k].describe() for k in kinds])}; lmlab {command} "
                                    f"takes kind {_either(kinds)}")
        check_kind(kind, kinds[0], str(path), f"lmlab {command} takes kind {_either(kinds)}")
    return load_checkpoint(path, device, kind=kinds[0] if len(kinds) == 1 else None)


def _either(items) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    items = list(items)
    return " or ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} or {items[-1]}"


def run(args) -> int:
    model, _, _ = load_task_model(args.model, PREDICTS, "predict", args.device)
    lines = input_lines(args.text, allow_empty=True)
    if model.kind == "classify":
        return _labels(model, lines, args)
    sentences = [line.split() for line in lines]
    tags = model.tag(sentences, batch_size=args.batch_size, device=args.device)
    if len(tags) != len(sentences):
        raise ConfigError(f"{len(tags)} tag sequences for {len(sentences)} lines")
    out = sys.stdout
    if args.format == "conll" and (empty := sum(not words for words in sentences)):
        print(f"lmlab predict: {empty} empty input line{'s' if empty > 1 else ''} ha{'ve' if empty > 1 else 's'} "
              "no CoNLL block (a blank line only ends a sentence); --format text or json keeps one output line "
              "per input line", file=sys.stderr)
    for words, ts in zip(sentences, tags, strict=True):
        if args.format == "text":
            out.write(" ".join(f"{w}/{t}" for w, t in zip(words, ts, strict=True)) + "\n")
        elif args.format == "conll":
            if words:
                out.write("".join(f"{w}\t{t}\n" for w, t in zip(words, ts, strict=True)) + "\n")
        else:
            out.write(json.dumps({"words": words, "tags": ts}, ensure_ascii=False) + "\n")
    return 0


def _labels(model, lines, args) -> int:
    """A classifier's label for each line (``lmlab train --kind classify``)."""
    if args.format == "conll":
        raise ConfigError("--format conll is for a tagger's tags; a classifier prints text or json")
    labels = model.classify(lines, batch_size=args.batch_size, device=args.device)
    for line, label in zip(lines, labels, strict=True):
        if args.format == "text":
            sys.stdout.write(("" if label is None else label) + "\n")
        else:
            sys.stdout.write(json.dumps({"text": line, "label": label}, ensure_ascii=False) + "\n")
    return 0
