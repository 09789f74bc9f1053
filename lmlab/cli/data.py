"""``lmlab data``: list, verify (sha256) and fetch the named datasets."""

from __future__ import annotations

from ..data.registry import DATASETS, data_root, resolve, verify
from ..errors import LmlabError
from ._common import Formatter

EXAMPLES = """examples:
  lmlab data list
  lmlab data verify ptb
  LMLAB_DATA=~/corpora lmlab data fetch wikitext-2
"""


def add_parser(sub):
    p = sub.add_parser("data", help="named datasets: list, verify, fetch", description=__doc__,
                       epilog=EXAMPLES, formatter_class=Formatter)
    p.add_argument("action", choices=("list", "verify", "fetch"),
                   help="list: what is on disk; verify: check sha256; fetch: download what is missing")
    p.add_argument("names", nargs="*", help="dataset names (default: all)")
    return p


def run(args) -> int:
    names = args.names or list(DATASETS)
    root = data_root()
    if args.action == "list":
        print(f"data folder: {root}")
        for name in names:
            ds = DATASETS.get(name)
            if ds is None:
                raise LmlabError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
            status = verify(name) if root.is_dir() else [(s, "missing") for s in ds.splits]
            here = sum(st == "ok" for _, st in status)
            print(f"{name:16s} {here}/{len(status)} files ok  splits: {', '.join(ds.splits)}  - {ds.description}")
        return 0
    bad = 0
    for name in names:
        if name not in DATASETS:
            raise LmlabError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
        if args.action == "fetch":
            for split in DATASETS[name].splits:
                resolve(name, split)
        for split, status in verify(name):
            print(f"{name}\t{split}\t{status}\t{root / DATASETS[name].splits[split].path}")
            bad += status != "ok"
    if bad:
        raise LmlabError(f"{bad} file(s) missing or with the wrong sha256 (see above)")
    return 0
