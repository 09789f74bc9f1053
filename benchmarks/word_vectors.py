"""Word vectors for the classifier and tagger benchmarks: word2vec (gensim, skip-gram) on the shared corpora.

The data here has no pretrained vectors (no GloVe, no word2vec release), so the classifier rows'
``--pretrained`` vectors are trained once from text in ``LMLAB_DATA`` and cached under
``runs/bench/vectors/`` (never in git), with a JSON record beside each file (the corpora, the
settings, gensim's version, the seconds it took and the file's sha256).  Each set is built only
from text its classifiers may see: the ``wiki-wsj-sst`` set adds SST-5's *training* sentences
(which hold SST-2's) to WikiText-2 and PTB train; MR's rows use ``wiki-wsj`` alone, because SST's
sentences are MR's (Pang and Lee's snippets), so SST text would carry MR's test folds into the
vectors.  Everything is lower-cased (SST and MR are).

    .venv/bin/pip install -c constraints.txt -e '.[bench]'      # gensim, pinned
    .venv/bin/python benchmarks/word_vectors.py wiki-wsj-sst      # builds runs/bench/vectors/wiki-wsj-sst.txt
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDER = Path("runs") / "bench" / "vectors"  # relative: the classifier bench runs from the repo (or a smoke root)

# path under LMLAB_DATA -> whether each line starts with a label to drop
WIKI_WSJ = [("wikitext-2/train.txt", False), ("ptb/ptb.train.txt", False)]
SETS = {"wiki-wsj-sst": [*WIKI_WSJ, ("sst/stsa.fine.train", True)], "wiki-wsj": WIKI_WSJ}
# skip-gram, 100-d (the classifiers' --emsize), window 5, words seen at least twice, 10 epochs, one
# worker and a fixed seed and hash so the file is the same on every run
SETTINGS = {"vector_size": 100, "window": 5, "min_count": 2, "sg": 1, "epochs": 10, "seed": 1, "workers": 1}
SMOKE_SETTINGS = {**SETTINGS, "epochs": 1, "min_count": 1}
SMOKE_LINES = 2000  # of each corpus


def path(name: str) -> Path:
    return FOLDER / f"{name}.txt"


def _hash(text: str) -> int:  # gensim seeds each word's initial vector with hashfxn(word + seed): no PYTHONHASHSEED
    return zlib.crc32(text.encode("utf-8"))


def _sentences(name: str, smoke: bool) -> list[list[str]]:
    from lmlab.data.registry import data_root

    out = []
    for rel, labelled in SETS[name]:
        with open(data_root() / rel, encoding="utf-8") as f:
            for no, line in enumerate(f):
                if smoke and no >= SMOKE_LINES:
                    break
                words = line.lower().split()[1 if labelled else 0:]
                if words:
                    out.append(words)
    return out


def build(name: str, *, smoke: bool = False, root: Path = Path(".")) -> Path:
    """The vectors of set ``name`` under ``root`` (built when missing; ``smoke``: a tiny set, for
    checking the scripts end to end)."""
    from gensim import __version__ as gensim_version
    from gensim.models import Word2Vec

    from lmlab._io import write_text_atomic

    out = root / path(name)
    if out.is_file() and out.with_suffix(".json").is_file():
        return out
    settings = SMOKE_SETTINGS if smoke else SETTINGS
    t0 = time.perf_counter()
    sents = _sentences(name, smoke)
    print(f"word vectors {name}: word2vec on {len(sents):,} lines, {sum(map(len, sents)):,} tokens", file=sys.stderr)
    model = Word2Vec(sents, hashfxn=_hash, **settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    model.wv.save_word2vec_format(str(tmp))
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
        digest = hashlib.sha256(f.read()).hexdigest()
    os.replace(tmp, out)
    meta = {"set": name, "corpora": [rel for rel, _ in SETS[name]], "lowercased": True, "settings": settings,
            "words": len(model.wv), "lines": len(sents), "tokens": sum(map(len, sents)), "smoke": smoke,
            "gensim": gensim_version, "seconds": time.perf_counter() - t0, "sha256": digest}
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, indent=2))
    return out


def needed(argv: list[str]) -> str | None:
    """The vectors set an ``lmlab train`` argument list reads (``--pretrained runs/bench/vectors/NAME.txt``)."""
    if "--pretrained" not in argv:
        return None
    p = Path(argv[argv.index("--pretrained") + 1])
    return p.stem if p.parent == FOLDER else None


def prepare(cells: dict, todo: list[str], args) -> None:
    """A cell script's ``prepare``: build the vectors the cells ``todo`` of ``cells`` read
    (``--smoke``: tiny ones under ``--runs``), and run from the folder their relative paths start in."""
    root = args.runs if args.smoke else REPO
    root.mkdir(parents=True, exist_ok=True)
    os.chdir(root)
    for name in sorted({needed(cells[c].train) for c in todo} - {None}):
        build(name, smoke=args.smoke, root=root)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    for name in sys.argv[1:] or list(SETS):
        print(build(name, root=REPO))
